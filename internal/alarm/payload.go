package alarm

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// payload is a live event's JSON: the alarm exactly as encoding/json writes
// it (json.Marshal(a), the same bytes: payload_test.go holds the two
// together). Every raised alarm gets one inside the group commit, and
// encoding/json's reflection was a tenth of the commit's CPU there.
func payload(a *Alarm) []byte {
	b := make([]byte, 0, 512)
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, a.ID, 10)
	b = append(b, `,"school_id":`...)
	b = strconv.AppendInt(b, a.SchoolID, 10)
	b = appendField(b, "school_name", a.SchoolName)
	b = appendField(b, "school_name_kk", a.SchoolNameKK)
	if a.DeviceID != 0 {
		b = append(b, `,"device_id":`...)
		b = strconv.AppendInt(b, a.DeviceID, 10)
	}
	b = appendField(b, "type", a.Type)
	b = appendOptional(b, "code", a.Code)
	b = appendOptional(b, "description", a.Description)
	b = appendOptional(b, "zone", a.Zone)
	b = appendOptional(b, "partition", a.Partition)
	b = append(b, `,"priority":`...)
	b = strconv.AppendInt(b, int64(a.Priority), 10)
	b = append(b, `,"silent":`...)
	b = strconv.AppendBool(b, a.Silent)
	b = appendField(b, "state", string(a.State))
	b = appendOptional(b, "resolution", a.Resolution)
	b = appendOptional(b, "notes", a.Notes)
	if a.ProviderID != 0 {
		b = append(b, `,"provider_id":`...)
		b = strconv.AppendInt(b, a.ProviderID, 10)
	}
	if a.PoliceUnitID != 0 {
		b = append(b, `,"police_unit_id":`...)
		b = strconv.AppendInt(b, a.PoliceUnitID, 10)
	}
	b = appendTime(append(b, `,"received_at":`...), a.ReceivedAt)
	b = appendTime(append(b, `,"committed_at":`...), a.CommittedAt)
	if a.FirstDeliveryAt != nil {
		b = appendTime(append(b, `,"first_delivery_at":`...), *a.FirstDeliveryAt)
	}
	b = append(b, `,"escalation_level":`...)
	b = strconv.AppendInt(b, int64(a.EscalationLevel), 10)
	if a.NextEscalation != nil {
		b = appendTime(append(b, `,"next_escalation_at":`...), *a.NextEscalation)
	}
	if a.ResolvedAt != nil {
		b = appendTime(append(b, `,"resolved_at":`...), *a.ResolvedAt)
	}
	b = append(b, `,"steps":`...)
	if a.Steps == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, s := range a.Steps {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendTime(append(b, `{"at":`...), s.At)
			b = appendField(b, "party", string(s.Party))
			b = appendField(b, "step", s.Step)
			if s.UserID != 0 {
				b = append(b, `,"user_id":`...)
				b = strconv.AppendInt(b, s.UserID, 10)
			}
			b = appendOptional(b, "detail", s.Detail)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func appendField(b []byte, name, v string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendString(b, v)
}

// appendOptional is a string field tagged omitempty.
func appendOptional(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	return appendField(b, name, v)
}

// appendTime writes t as time.Time's MarshalJSON does (RFC 3339 with
// nanoseconds as needed, quoted).
func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string the way json.Marshal does: <, >
// and & escaped for HTML, invalid UTF-8 as U+FFFD, U+2028 and U+2029
// escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
