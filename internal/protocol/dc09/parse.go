package dc09

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"qorgan/internal/protocol/alarmcode"
	"qorgan/internal/protocol/contactid"
	"qorgan/internal/protocol/siadcs"
)

// Parse reads one frame, with or without its LF…CR framing (UDP datagrams
// sometimes lack it).
//
// Encrypted frames are decrypted with keys.Key(upper-case header account)
// and their timestamp must fall within window around now. Plain frames are
// not time-checked: their timestamp is optional.
//
// On error the Message holds whatever header fields were read, for the
// reply and the log; after ErrTimestamp it is complete, events included,
// but must not be acted on. The error wraps one of the Err constants.
func Parse(frame []byte, keys KeyLookup, now time.Time, window Window) (Message, error) {
	var m Message
	if len(frame) > MaxFrameLen {
		return m, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(frame), MaxFrameLen)
	}
	b := frame
	lf := len(b) > 0 && b[0] == '\n'
	if lf {
		b = b[1:]
	}
	cr := len(b) > 0 && b[len(b)-1] == '\r'
	if cr {
		b = b[:len(b)-1]
	}
	if !lf || !cr {
		m.Deviations |= Unframed
	}
	if len(b) < 9 || b[8] != '"' || !isHex(b[:8]) {
		return m, ErrNotDC09
	}
	if hasLower(b[:8]) {
		m.Deviations |= LowerCaseHex
	}
	body := b[8:]
	if got, want := hexValue(b[0:4]), int(CRC(body)); got != want {
		return m, fmt.Errorf("%w: frame says %04X, body is %04X", ErrCRC, got, want)
	}
	if n := hexValue(b[4:8]); n != len(body) {
		// Some panels write the decimal count; with a correct CRC the frame
		// is intact, so accept it and let the receiver log the deviation.
		if !isDigits(b[4:8]) || decimalValue(b[4:8]) != len(body) {
			return m, fmt.Errorf("%w: frame says %q, body is %d bytes", ErrLength, b[4:8], len(body))
		}
		m.Deviations |= DecimalLength
	}

	content, err := parseHeader(body, &m)
	if err != nil {
		return m, err
	}
	if !m.Token.supported() {
		return m, fmt.Errorf("%w: %q", ErrUnsupportedToken, m.Token)
	}

	if m.Encrypted {
		content, err = decryptContent(content, keys, &m)
		if err != nil {
			return m, err
		}
	}
	data, err := parseBlocks(content, &m)
	if err != nil {
		if m.Encrypted {
			return m, fmt.Errorf("%w: %v", ErrDecrypt, err)
		}
		return m, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if m.Encrypted && m.Timestamp.IsZero() {
		return m, fmt.Errorf("%w: no timestamp in plaintext", ErrDecrypt)
	}
	m.Data = string(data)
	m.DataAccount, m.Events = decodeData(m.Token, m.Data)
	// The message is complete before the time check so that the receiver
	// can log what it refused: a real panic from a panel whose clock
	// drifted should be visible, although only the retry is accepted.
	if m.Encrypted && !window.contains(now, m.Timestamp) {
		return m, fmt.Errorf("%w: frame %s, receiver %s", ErrTimestamp,
			m.Timestamp.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return m, nil
}

// parseHeader reads `"token"seq[Rrcvr][Lpref][#acct][` and returns what
// follows the bracket.
func parseHeader(body []byte, m *Message) ([]byte, error) {
	end := bytes.IndexByte(body[1:], '"')
	if end < 1 || end > 16 {
		return nil, fmt.Errorf("%w: bad ID token", ErrFormat)
	}
	tok := body[1 : 1+end]
	if tok[0] == '*' {
		m.Encrypted = true
		tok = tok[1:]
	}
	for _, c := range tok {
		if c <= ' ' || c > '~' {
			return nil, fmt.Errorf("%w: bad ID token", ErrFormat)
		}
	}
	m.Token = Token(tok)
	rest := body[2+end:]

	if len(rest) < 4 || !isDigits(rest[:4]) {
		return nil, fmt.Errorf("%w: sequence is not 4 digits", ErrFormat)
	}
	m.Sequence = string(rest[:4])
	rest = rest[4:]

	var field []byte
	var ok bool
	if len(rest) > 0 && rest[0] == 'R' {
		if field, rest, ok = hexField(rest[1:], 1, 6); !ok {
			return nil, fmt.Errorf("%w: bad receiver field", ErrFormat)
		}
		m.Receiver = string(field)
	}
	if len(rest) > 0 && rest[0] == 'L' {
		if m.Token == TokenNAK {
			// The NAK reads `L0A0`: the account marker A is also a hex digit.
			if field, rest, ok = nakPrefix(rest[1:], m); !ok {
				return nil, fmt.Errorf("%w: bad NAK prefix", ErrFormat)
			}
		} else if field, rest, ok = hexField(rest[1:], 1, 6); !ok {
			return nil, fmt.Errorf("%w: bad prefix field", ErrFormat)
		}
		m.Prefix = string(field)
	} else {
		m.Deviations |= MissingPrefix
	}
	if len(rest) > 0 && rest[0] == '#' {
		if field, rest, ok = hexField(rest[1:], 3, 16); !ok {
			return nil, fmt.Errorf("%w: account must be 3 to 16 hex digits", ErrFormat)
		}
		m.Account = string(field)
	} else if m.Account == "" {
		m.Deviations |= MissingAccount
	}
	if hasLower([]byte(m.Receiver + m.Prefix + m.Account)) {
		m.Deviations |= LowerCaseHex
	}
	if len(rest) == 0 || rest[0] != '[' {
		return nil, fmt.Errorf("%w: no '[' after header", ErrFormat)
	}
	return rest[1:], nil
}

// nakPrefix splits the NAK's "0A0" into prefix "0" and account "0".
func nakPrefix(b []byte, m *Message) (prefix, rest []byte, ok bool) {
	run := 0
	for run < len(b) && isHexDigit(b[run]) {
		run++
	}
	a := bytes.LastIndexAny(b[:run], "Aa")
	if a < 1 || a == run-1 || a > 6 {
		return hexField(b, 1, 6)
	}
	m.Account = string(b[a+1 : run])
	return b[:a], b[run:], true
}

// hexField reads a run of hex digits of min to max length.
func hexField(b []byte, min, max int) (field, rest []byte, ok bool) {
	n := 0
	for n < len(b) && isHexDigit(b[n]) {
		n++
	}
	if n < min || n > max {
		return nil, b, false
	}
	return b[:n], b[n:], true
}

// decryptContent turns the hex after `[` into the plaintext that follows
// the pad. DC-09 says the pad ends with `|`; Ajax *NULL frames have none,
// so without a `|` before the first `]` the data starts at that `]`.
func decryptContent(content []byte, keys KeyLookup, m *Message) ([]byte, error) {
	if len(content) == 0 || len(content)%32 != 0 || !isHex(content) {
		return nil, fmt.Errorf("%w: ciphertext is not whole hex AES blocks", ErrFormat)
	}
	if hasLower(content) {
		m.Deviations |= LowerCaseHex
	}
	if m.Account == "" || keys == nil {
		return nil, fmt.Errorf("%w: %q", ErrNoKey, m.Account)
	}
	key, ok := keys.Key(strings.ToUpper(m.Account))
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrNoKey, m.Account)
	}
	if !validKeySize(len(key)) {
		return nil, fmt.Errorf("%w: %q has a %d-byte key", ErrNoKey, m.Account, len(key))
	}
	ciphertext := make([]byte, len(content)/2)
	for i := range ciphertext {
		ciphertext[i] = byte(hexDigit(content[2*i])<<4 | hexDigit(content[2*i+1]))
	}
	plain, err := decrypt(key, ciphertext)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	bar := bytes.IndexByte(plain, '|')
	closing := bytes.IndexByte(plain, ']')
	switch {
	case bar >= 0 && (closing < 0 || bar < closing):
		return plain[bar+1:], nil
	case closing >= 0:
		m.Deviations |= MissingPadTerminator
		return plain[closing:], nil
	}
	return nil, fmt.Errorf("%w: no '|' or ']' in plaintext", ErrDecrypt)
}

// parseBlocks reads `data][x-data]...[_timestamp]` (the opening bracket of
// the data block already consumed) and returns the data. Encrypted
// plaintext may end in control bytes: ioBroker leaves PKCS#7 padding on.
func parseBlocks(c []byte, m *Message) ([]byte, error) {
	end := bytes.IndexByte(c, ']')
	if end < 0 {
		return nil, fmt.Errorf("data block not closed")
	}
	data := c[:end]
	rest := c[end+1:]
	for len(rest) > 0 && rest[0] == '[' {
		end := bytes.IndexByte(rest, ']')
		if end < 0 {
			return nil, fmt.Errorf("x-data block not closed")
		}
		if end == 1 {
			return nil, fmt.Errorf("empty x-data block")
		}
		m.XData = append(m.XData, XData{ID: rest[1], Value: string(rest[2:end])})
		rest = rest[end+1:]
	}
	if len(rest) > 0 && rest[0] == '_' {
		if len(rest) < 1+timestampLen {
			return nil, fmt.Errorf("short timestamp")
		}
		ts, err := parseTimestamp(rest[1 : 1+timestampLen])
		if err != nil {
			return nil, err
		}
		m.Timestamp = ts
		rest = rest[1+timestampLen:]
	}
	if m.Encrypted {
		for len(rest) > 0 && rest[0] < ' ' {
			rest = rest[1:]
		}
	}
	if len(rest) > 0 {
		return nil, fmt.Errorf("unexpected bytes after blocks")
	}
	return data, nil
}

// timestampLen is the length of DC-09's `HH:MM:SS,MM-DD-YYYY`, always UTC.
// It is read and written by hand: time.Parse takes ",0…" after the
// seconds for a fraction and accepts one-digit fields.
const timestampLen = len("HH:MM:SS,MM-DD-YYYY")

func parseTimestamp(b []byte) (time.Time, error) {
	const shape = "00:00:00,00-00-0000"
	if len(b) != len(shape) {
		return time.Time{}, fmt.Errorf("bad timestamp %q", b)
	}
	for i, c := range b {
		if shape[i] == '0' {
			if c < '0' || c > '9' {
				return time.Time{}, fmt.Errorf("bad timestamp %q", b)
			}
		} else if c != shape[i] {
			return time.Time{}, fmt.Errorf("bad timestamp %q", b)
		}
	}
	hour, minute, sec := decimalValue(b[0:2]), decimalValue(b[3:5]), decimalValue(b[6:8])
	month, day, year := decimalValue(b[9:11]), decimalValue(b[12:14]), decimalValue(b[15:19])
	ts := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
	// time.Date normalises 25:00 or February 30; a real clock never sends
	// them, so a changed field means a malformed timestamp.
	if ts.Hour() != hour || ts.Minute() != minute || ts.Second() != sec ||
		int(ts.Month()) != month || ts.Day() != day || ts.Year() != year {
		return time.Time{}, fmt.Errorf("bad timestamp %q", b)
	}
	return ts, nil
}

func formatTimestamp(t time.Time) string {
	t = t.UTC()
	return fmt.Sprintf("%02d:%02d:%02d,%02d-%02d-%04d",
		t.Hour(), t.Minute(), t.Second(), int(t.Month()), t.Day(), t.Year())
}

// decodeData splits off the data account and decodes the events the token
// announces. NULL frames are link tests: some panels put a dummy Contact ID
// body in them (`#0000|0000 00 000`), which is not an event.
func decodeData(tok Token, data string) (string, []alarmcode.Event) {
	account := dataAccount(data)
	if data == "" {
		return account, nil
	}
	switch tok {
	case TokenSIADCS:
		block, err := siadcs.Parse(data)
		if err != nil {
			return account, []alarmcode.Event{undecoded(alarmcode.SIADCS, data)}
		}
		events := make([]alarmcode.Event, 0, len(block.Events))
		for _, e := range block.Events {
			ev := e.Classify()
			if ev.Text == "" {
				ev.Text = block.Text
			}
			events = append(events, ev)
		}
		return account, events
	case TokenADMCID:
		report, err := contactid.Parse(data)
		if err != nil {
			return account, []alarmcode.Event{undecoded(alarmcode.ContactID, data)}
		}
		return account, []alarmcode.Event{report.Classify()}
	}
	return account, nil
}

// undecoded keeps data that the event parser could not read, so that the
// receiver stores it and answers DUH instead of losing it.
func undecoded(f alarmcode.Format, data string) alarmcode.Event {
	return alarmcode.Event{Format: f, Type: alarmcode.Unknown, Text: data}
}

func dataAccount(data string) string {
	if !strings.HasPrefix(data, "#") {
		return ""
	}
	bar := strings.IndexByte(data, '|')
	if bar < 0 {
		return ""
	}
	return data[1:bar]
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'F' || c >= 'a' && c <= 'f'
}

func isHex(b []byte) bool {
	for _, c := range b {
		if !isHexDigit(c) {
			return false
		}
	}
	return true
}

func isDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func hasLower(b []byte) bool {
	for _, c := range b {
		if c >= 'a' && c <= 'f' {
			return true
		}
	}
	return false
}

func hexDigit(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	}
	return 0
}

func hexValue(b []byte) int {
	v := 0
	for _, c := range b {
		v = v<<4 | hexDigit(c)
	}
	return v
}

func decimalValue(b []byte) int {
	v := 0
	for _, c := range b {
		v = v*10 + int(c-'0')
	}
	return v
}
