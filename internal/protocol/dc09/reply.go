package dc09

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Reply is the kind of answer a receiver sends to a frame.
type Reply int

const (
	// ReplyNone: send nothing (not DC-09 at all, or a response frame).
	ReplyNone Reply = iota
	// ReplyACK: accepted. Encrypted frames get an encrypted *ACK.
	ReplyACK
	// ReplyNAK: rejected; the panel retries, possibly after fixing its
	// clock from the NAK's timestamp.
	ReplyNAK
	// ReplyDUH: received intact but not understood (unknown token or event
	// code). The receiver still stores the event.
	ReplyDUH
	// ReplyRSP: reply carrying data, used for key exchange. Qorgan never
	// initiates key exchange, so Decide does not return it.
	ReplyRSP
)

func (r Reply) String() string {
	switch r {
	case ReplyNone:
		return "none"
	case ReplyACK:
		return "ACK"
	case ReplyNAK:
		return "NAK"
	case ReplyDUH:
		return "DUH"
	case ReplyRSP:
		return "RSP"
	}
	return fmt.Sprintf("Reply(%d)", int(r))
}

// Decide chooses the answer to a frame from what Parse returned. It never
// ACKs a frame that failed a check.
func Decide(m Message, err error) Reply {
	if err != nil {
		switch {
		case errors.Is(err, ErrNotDC09):
			return ReplyNone
		case errors.Is(err, ErrUnsupportedToken):
			return ReplyDUH
		}
		return ReplyNAK
	}
	if m.Token.IsResponse() {
		return ReplyNone
	}
	for _, ev := range m.Events {
		if !ev.Known {
			return ReplyDUH
		}
	}
	return ReplyACK
}

// Answer builds the bytes for reply r to message m. For an encrypted
// message the ACK is encrypted with the account's key and a pad read from
// pad; now is the receiver's clock (used by NAK and *ACK). ReplyNone gives
// nil.
func Answer(r Reply, m Message, keys KeyLookup, now time.Time, pad io.Reader) ([]byte, error) {
	switch r {
	case ReplyNone:
		return nil, nil
	case ReplyACK:
		if !m.Encrypted {
			return ACK(m), nil
		}
		if keys == nil {
			return nil, fmt.Errorf("%w: %q", ErrNoKey, m.Account)
		}
		key, ok := keys.Key(strings.ToUpper(m.Account))
		if !ok {
			return nil, fmt.Errorf("%w: %q", ErrNoKey, m.Account)
		}
		return EncryptedACK(m, key, now, pad)
	case ReplyNAK:
		return NAK(now), nil
	case ReplyDUH:
		return DUH(m), nil
	}
	return nil, fmt.Errorf("dc09: cannot build a %s reply", r)
}

// ACK acknowledges a plain message, echoing sequence, receiver (only if
// present), prefix and account: `"ACK"0002R1L232#78919[]`.
func ACK(m Message) []byte {
	return frame(appendEcho([]byte(`"ACK"`), m), "[]")
}

// DUH tells the panel the message arrived intact but was not understood.
// It is never encrypted.
func DUH(m Message) []byte {
	return frame(appendEcho([]byte(`"DUH"`), m), "[]")
}

// NAK rejects a frame. Its header is fixed by DC-09 and it is never
// encrypted; it carries the receiver's UTC time so the panel can correct
// its clock: `"NAK"0000R0L0A0[]_16:20:01,09-24-2025`.
func NAK(now time.Time) []byte {
	return frame([]byte(`"NAK"0000R0L0A0`), "[]_"+formatTimestamp(now))
}

// EncryptedACK acknowledges an encrypted message with `"*ACK"` and the
// encryption of pad|]_<now>, as DC-09-2013 §5.5.3.1 requires.
func EncryptedACK(m Message, key []byte, now time.Time, pad io.Reader) ([]byte, error) {
	hexText, err := encrypt(key, []byte("]_"+formatTimestamp(now)), pad)
	if err != nil {
		return nil, err
	}
	body := appendEcho([]byte(`"*ACK"`), m)
	body = append(body, '[')
	body = append(body, hexText...)
	return frame(body, ""), nil
}

// appendEcho writes the header fields a reply echoes, exactly as received
// and only those present.
func appendEcho(b []byte, m Message) []byte {
	b = append(b, m.Sequence...)
	if m.Receiver != "" {
		b = append(b, 'R')
		b = append(b, m.Receiver...)
	}
	if m.Prefix != "" {
		b = append(b, 'L')
		b = append(b, m.Prefix...)
	}
	if m.Account != "" {
		b = append(b, '#')
		b = append(b, m.Account...)
	}
	return b
}

// frame wraps a body (plus a tail) in LF, CRC, length and CR.
func frame(body []byte, tail string) []byte {
	body = append(body, tail...)
	out := make([]byte, 0, len(body)+10)
	out = append(out, '\n')
	out = fmt.Appendf(out, "%04X%04X", CRC(body), len(body))
	out = append(out, body...)
	return append(out, '\r')
}
