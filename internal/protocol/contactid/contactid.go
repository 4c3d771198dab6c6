// Package contactid decodes Ademco Contact ID (SIA DC-05) events as they
// travel inside SIA DC-09 ADM-CID frames: "#acct|QEEE GG CCC".
//
// Inside DC-09 there is no message type ("18") and no checksum digit, so
// this package reads only the qualifier, event, group and zone/user.
package contactid

import (
	"errors"
	"fmt"
	"strings"

	"qorgan/internal/protocol/alarmcode"
	"qorgan/internal/protocol/codec"
)

// ErrFormat is returned for data that is not a Contact ID event.
var ErrFormat = errors.New("contactid: malformed event")

// Qualifier is the first digit of a Contact ID event.
type Qualifier byte

const (
	// NewEvent is a new alarm or trouble, or an opening (disarm) for the
	// open/close codes.
	NewEvent Qualifier = '1'
	// NewRestore ends a condition, or is a closing (arm) for the open/close
	// codes.
	NewRestore Qualifier = '3'
	// StillPresent is a status report of a condition reported earlier.
	StillPresent Qualifier = '6'
)

// Report is one Contact ID event as written on the wire.
type Report struct {
	// Account is the "#acct" in front of the event, empty when absent.
	Account   string
	Qualifier Qualifier
	// Event is the three-digit event code, "120" for a panic.
	Event string
	// Group is the two-digit group or partition.
	Group string
	// ZoneOrUser is the three-digit zone, or user for user codes.
	ZoneOrUser string
}

// maxData bounds what Parse looks at; a Contact ID block with the longest
// DC-09 account is 29 bytes, anything far longer is not Contact ID.
const maxData = 64

// Parse reads "#acct|QEEE GG CCC". The account part is optional, and so are
// the spaces ("QEEEGGCCC"), since panels differ.
func Parse(data string) (Report, error) {
	account, rest, err := codec.CutAccount(data, maxData, ErrFormat)
	r := Report{Account: account}
	if err != nil {
		return r, err
	}
	rest = strings.TrimPrefix(rest, "|")
	var digits string
	switch {
	case len(rest) == 11 && rest[4] == ' ' && rest[7] == ' ':
		digits = rest[:4] + rest[5:7] + rest[8:]
	case len(rest) == 9:
		digits = rest
	default:
		return r, fmt.Errorf("%w: %q is not QEEE GG CCC", ErrFormat, rest)
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return r, fmt.Errorf("%w: %q is not QEEE GG CCC", ErrFormat, rest)
		}
	}
	r.Qualifier = Qualifier(digits[0])
	r.Event = digits[1:4]
	r.Group = digits[4:6]
	r.ZoneOrUser = digits[6:9]
	return r, nil
}

// String writes the report back in DC-09 form, the inverse of Parse.
func (r Report) String() string {
	body := string(r.Qualifier) + r.Event + " " + r.Group + " " + r.ZoneOrUser
	if r.Account == "" {
		return body
	}
	return "#" + r.Account + "|" + body
}

// Classify translates the report into Qorgan's vocabulary.
func (r Report) Classify() alarmcode.Event {
	ev := alarmcode.Event{
		Format:    alarmcode.ContactID,
		Code:      string(r.Qualifier) + r.Event,
		Partition: r.Group,
		Type:      alarmcode.Unknown,
	}
	info, known := lookup(r.Event)
	ev.Description = info.name
	switch r.Qualifier {
	case NewEvent, NewRestore, StillPresent:
		ev.Known = known
	default:
		// The code may be fine but we cannot tell alarm from restore.
		ev.Known = false
	}
	if info.byUser {
		ev.User = r.ZoneOrUser
	} else {
		ev.Zone = r.ZoneOrUser
	}
	if !ev.Known {
		return ev
	}
	if info.openClose {
		// Qualifier 1 is an opening (disarm), 3 a closing (arm); neither
		// is a restore.
		switch r.Qualifier {
		case NewEvent:
			ev.Type = alarmcode.Opening
		case NewRestore:
			ev.Type = alarmcode.Closing
		default:
			ev.Status = true
		}
		return ev
	}
	switch r.Qualifier {
	case NewRestore:
		ev.Type = alarmcode.Restore
		ev.Restores = info.typ
	case StillPresent:
		ev.Type = info.typ
		ev.Status = true
	default:
		ev.Type = info.typ
	}
	return ev
}

// SIACode returns the SIA DCS code a receiver would show for the report
// ("PA" for 1120, "CL" for 3401), or "" when there is no common mapping.
func (r Report) SIACode() string {
	info, ok := lookup(r.Event)
	if !ok {
		return ""
	}
	switch r.Qualifier {
	case NewEvent, StillPresent:
		return info.siaNew
	case NewRestore:
		return info.siaRestore
	}
	return ""
}

// Describe returns the English name of a three-digit event code.
func Describe(event string) (name string, known bool) {
	info, ok := lookup(event)
	return info.name, ok
}
