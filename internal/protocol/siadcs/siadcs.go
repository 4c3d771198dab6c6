// Package siadcs decodes SIA DCS (DC-03 events in DC-07 form) as they travel
// inside SIA DC-09 SIA-DCS frames, for example "#78919|Nri1/BA012".
//
// A block is an optional "#acct|", then "N" (new event) followed by
// modifiers (ri area, id user, ti time) and one or more two-letter codes
// with an address, separated by "/". Panels differ: some leave out the "/"
// between modifier and code ("Nri1PA001"), some add "^free text^", some add
// an ASCII text block "|Atext". Modifiers carry over to later events in the
// same block, so "Nri1/BA01/BA02" is two burglaries in area 1.
package siadcs

import (
	"errors"
	"fmt"
	"strings"

	"qorgan/internal/protocol/alarmcode"
	"qorgan/internal/protocol/codec"
)

// ErrFormat is returned for data that is not a SIA DCS block.
var ErrFormat = errors.New("siadcs: malformed block")

// MaxLen bounds the block Parse accepts: a DC-09 frame cannot carry more.
const MaxLen = 4096

// Block is one SIA DCS data block.
type Block struct {
	// Account is the "#acct" in front of the events, empty when absent.
	Account string
	Events  []Event
	// Text is the content of "|A" ASCII text blocks, raw bytes.
	Text string
}

// Event is one SIA DCS event as written on the wire.
type Event struct {
	// Code is the two-letter event code, "PA" for a panic.
	Code string
	// Address is the number after the code: a zone, user, area or device
	// depending on the code; empty when none was sent.
	Address string
	// Area is the "ri" modifier, User the "id" modifier, Time the "ti"
	// modifier (hh:mm panel time), each empty when absent.
	Area string
	User string
	Time string
	// Text is "^free text^" after the event, without the carets.
	Text string
	// Extra holds characters after the address that no rule explains
	// (seen: "OP001NM"); kept so nothing the panel said is lost.
	Extra string
}

// Parse reads one SIA DCS block.
func Parse(data string) (Block, error) {
	account, s, err := codec.CutAccount(data, MaxLen, ErrFormat)
	b := Block{Account: account}
	if err != nil {
		return b, err
	}

	// Modifiers carry over from one event to the next within the block.
	var area, user, clock string
	blockStart := true
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == '|':
			i++
			if i < len(s) && s[i] == 'A' {
				end := strings.IndexByte(s[i+1:], '|')
				if end < 0 {
					end = len(s)
				} else {
					end += i + 1
				}
				b.Text += s[i+1 : end]
				i = end
				continue
			}
			blockStart = true
		case blockStart:
			blockStart = false
			if c == 'N' && functionCodeN(s[i+1:]) {
				i++
			}
		case c == '/':
			i++
		case isLower(c):
			if i+1 >= len(s) || !isLower(s[i+1]) {
				return b, fmt.Errorf("%w: bad modifier at %d", ErrFormat, i)
			}
			name := s[i : i+2]
			j := i + 2
			for j < len(s) && isModifierValue(s[j]) {
				j++
			}
			switch name {
			case "ri":
				area = s[i+2 : j]
			case "id":
				user = s[i+2 : j]
			case "ti":
				clock = s[i+2 : j]
			}
			// Other modifiers (pi, ai, da…) are accepted and ignored: they do
			// not change what Qorgan does.
			i = j
		case isUpper(c):
			if i+1 >= len(s) || !isUpper(s[i+1]) {
				return b, fmt.Errorf("%w: bad event code at %d", ErrFormat, i)
			}
			ev := Event{Code: s[i : i+2], Area: area, User: user, Time: clock}
			j := i + 2
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			ev.Address = s[i+2 : j]
			k := j
			for k < len(s) && s[k] != '/' && s[k] != '|' && s[k] != '^' {
				k++
			}
			ev.Extra = s[j:k]
			b.Events = append(b.Events, ev)
			i = k
		case c == '^':
			end := strings.IndexByte(s[i+1:], '^')
			var text string
			if end < 0 {
				// Unterminated text runs to the end rather than failing the
				// whole block.
				text, i = s[i+1:], len(s)
			} else {
				text, i = s[i+1:i+1+end], i+2+end
			}
			if n := len(b.Events); n > 0 && b.Events[n-1].Text == "" {
				b.Events[n-1].Text = text
			} else {
				b.Text += text
			}
		default:
			return b, fmt.Errorf("%w: unexpected byte 0x%02x at %d", ErrFormat, c, i)
		}
	}
	if len(b.Events) == 0 {
		return b, fmt.Errorf("%w: no event code", ErrFormat)
	}
	return b, nil
}

// functionCodeN tells whether a leading "N" is the "new event" function
// code or the first letter of a code such as NP: it is the function code
// when a modifier, a two-letter code or nothing follows.
func functionCodeN(rest string) bool {
	switch {
	case rest == "":
		return true
	case isLower(rest[0]):
		return true
	case len(rest) >= 2 && isUpper(rest[0]) && isUpper(rest[1]):
		return true
	}
	return false
}

// String writes the block back in DC-09 form. A modifier is written when
// its value changes from the one carried over, so Parse reads the same
// events back.
func (b Block) String() string {
	var sb strings.Builder
	if b.Account != "" {
		sb.WriteString("#" + b.Account + "|")
	}
	sb.WriteByte('N')
	var area, user, clock string
	for i, ev := range b.Events {
		if i > 0 {
			sb.WriteByte('/')
		}
		if ev.Time != clock {
			sb.WriteString("ti" + ev.Time + "/")
			clock = ev.Time
		}
		if ev.User != user {
			sb.WriteString("id" + ev.User + "/")
			user = ev.User
		}
		if ev.Area != area {
			sb.WriteString("ri" + ev.Area + "/")
			area = ev.Area
		}
		sb.WriteString(ev.Code + ev.Address + ev.Extra)
		if ev.Text != "" {
			sb.WriteString("^" + ev.Text + "^")
		}
	}
	if b.Text != "" {
		sb.WriteString("|A" + b.Text)
	}
	return sb.String()
}

// Classify translates the event into Qorgan's vocabulary.
func (e Event) Classify() alarmcode.Event {
	info, known := lookup(e.Code)
	ev := alarmcode.Event{
		Format:      alarmcode.SIADCS,
		Code:        e.Code,
		Description: info.name,
		Type:        info.typ,
		Restores:    info.restores,
		Known:       known,
		Partition:   e.Area,
		User:        e.User,
		Text:        e.Text,
	}
	switch info.addr {
	case addrUser:
		if ev.User == "" {
			ev.User = e.Address
		} else if e.Address != ev.User {
			ev.Zone = e.Address
		}
	case addrArea:
		if ev.Partition == "" {
			ev.Partition = e.Address
		}
	case addrNone:
	default:
		ev.Zone = e.Address
	}
	return ev
}

// Describe returns the English name of a two-letter code.
func Describe(code string) (name string, known bool) {
	info, ok := lookup(code)
	return info.name, ok
}

func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isModifierValue(c byte) bool {
	return isDigit(c) || c == ':' || c == '-' || c == '.'
}
