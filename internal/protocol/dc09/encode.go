package dc09

import (
	"bytes"
	"fmt"
	"io"
)

// Encode writes m as a plain frame: token, sequence, receiver, prefix and
// account (each omitted when empty), data, x-data and the timestamp when
// it is not zero. The panel simulator and the tests send frames with it.
func Encode(m Message) ([]byte, error) {
	return encode(m, nil)
}

// EncodeEncrypted writes m as an encrypted frame ("*" token). DC-09
// requires a timestamp in encrypted frames, so m.Timestamp must be set;
// the pad bytes are read from pad.
func EncodeEncrypted(m Message, key []byte, pad io.Reader) ([]byte, error) {
	if !validKeySize(len(key)) {
		return nil, fmt.Errorf("dc09: key must be 16, 24 or 32 bytes, got %d", len(key))
	}
	if m.Timestamp.IsZero() {
		return nil, fmt.Errorf("dc09: an encrypted frame needs a timestamp")
	}
	return encode(m, func(content []byte) ([]byte, error) { return encrypt(key, content, pad) })
}

// encode writes m's frame, a body of at most MaxBodyLen: the header, then
// the content as it is, or as seal encrypts it for an encrypted frame.
func encode(m Message, seal func(content []byte) ([]byte, error)) ([]byte, error) {
	head, err := encodeHeader(m, seal != nil)
	if err != nil {
		return nil, err
	}
	content, err := encodeContent(m)
	if err != nil {
		return nil, err
	}
	if seal != nil {
		if content, err = seal(content); err != nil {
			return nil, err
		}
	}
	body := append(head, '[')
	body = append(body, content...)
	if len(body) > MaxBodyLen {
		return nil, fmt.Errorf("dc09: body of %d bytes exceeds %d", len(body), MaxBodyLen)
	}
	return frame(body, ""), nil
}

func encodeHeader(m Message, encrypted bool) ([]byte, error) {
	tok := []byte(m.Token)
	if len(tok) == 0 || len(tok) > 15 || bytes.ContainsAny(tok, `"*`) {
		return nil, fmt.Errorf("dc09: bad token %q", m.Token)
	}
	for _, c := range tok {
		if c <= ' ' || c > '~' {
			return nil, fmt.Errorf("dc09: bad token %q", m.Token)
		}
	}
	if len(m.Sequence) != 4 || !isDigits([]byte(m.Sequence)) {
		return nil, fmt.Errorf("dc09: sequence must be 4 digits, got %q", m.Sequence)
	}
	if !optionalHex(m.Receiver, 1, 6) {
		return nil, fmt.Errorf("dc09: receiver must be 1 to 6 hex digits, got %q", m.Receiver)
	}
	if !optionalHex(m.Prefix, 1, 6) {
		return nil, fmt.Errorf("dc09: prefix must be 1 to 6 hex digits, got %q", m.Prefix)
	}
	if !optionalHex(m.Account, 3, 16) {
		return nil, fmt.Errorf("dc09: account must be 3 to 16 hex digits, got %q", m.Account)
	}
	b := []byte{'"'}
	if encrypted {
		b = append(b, '*')
	}
	b = append(b, tok...)
	b = append(b, '"')
	return appendEcho(b, m), nil
}

// encodeContent writes `data][x-data]..._timestamp`, everything after the
// opening bracket of the data block.
func encodeContent(m Message) ([]byte, error) {
	if !blockSafe(m.Data) {
		return nil, fmt.Errorf("dc09: data may not contain brackets, CR or LF")
	}
	b := append([]byte(m.Data), ']')
	for _, x := range m.XData {
		if x.ID == 0 || !blockSafe(string(x.ID)) || !blockSafe(x.Value) {
			return nil, fmt.Errorf("dc09: bad x-data %q", x.String())
		}
		b = append(b, '[', x.ID)
		b = append(b, x.Value...)
		b = append(b, ']')
	}
	if !m.Timestamp.IsZero() {
		if y := m.Timestamp.UTC().Year(); y < 0 || y > 9999 {
			return nil, fmt.Errorf("dc09: timestamp year %d does not fit", y)
		}
		b = append(b, '_')
		b = append(b, formatTimestamp(m.Timestamp)...)
	}
	return b, nil
}

func blockSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[', ']', '\r', '\n':
			return false
		}
	}
	return true
}

func optionalHex(s string, min, max int) bool {
	if s == "" {
		return true
	}
	return len(s) >= min && len(s) <= max && isHex([]byte(s))
}
