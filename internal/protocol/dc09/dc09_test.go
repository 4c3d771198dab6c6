package dc09

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"qorgan/internal/protocol/alarmcode"
)

// counter is a deterministic pad source: 0, 1, 2, … so tests see every
// byte value, including the forbidden | [ ].
type counter struct{ next byte }

func (c *counter) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = c.next
		c.next++
	}
	return len(p), nil
}

var testNow = time.Date(2026, 9, 25, 14, 12, 4, 0, time.UTC)

func TestCRCCheckValue(t *testing.T) {
	if got := CRC([]byte("123456789")); got != 0xBB3D {
		t.Fatalf("CRC(123456789) = %04X, want BB3D", got)
	}
	// The CRC pysiaalarm asserts for a body whose header CRC is wrong.
	body := `"SIA-DCS"5268L0#AAA[Nri1/WA000]_08:40:47,07-08-2020`
	if got := CRC([]byte(body)); got != 0xE9A4 {
		t.Fatalf("CRC = %04X, want E9A4", got)
	}
	// The table gives what feeding every byte a bit at a time gives, for
	// inputs of every length up to 300 and every byte value.
	b := make([]byte, 300)
	for i := range b {
		b[i] = byte(i*151 + 7)
	}
	for n := range len(b) + 1 {
		var want uint16
		for _, c := range b[:n] {
			want = crcBits(want, c)
		}
		if got := CRC(b[:n]); got != want {
			t.Fatalf("CRC of %d bytes = %04X, a bit at a time %04X", n, got, want)
		}
	}
}

func BenchmarkCRC(b *testing.B) {
	frame := []byte(`"SIA-DCS"0042L0#B00001[#B00001|Nri1/BA001]_12:00:00,12-07-2026`)
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		CRC(frame)
	}
}

func TestRoundTripEncrypted(t *testing.T) {
	for _, keyLen := range []int{16, 24, 32} {
		key := bytes.Repeat([]byte{0x5A}, keyLen)
		keys := Keys{"12AB": key}
		for _, tc := range []struct {
			token Token
			data  string
			kind  alarmcode.Type
		}{
			{TokenSIADCS, "#12ab|Nri1/PA501", alarmcode.Panic},
			{TokenADMCID, "#12ab|1122 01 007", alarmcode.SilentPanic},
			{TokenNULL, "", ""},
		} {
			// Every data length from one to two blocks exercises each pad
			// length, including the full 16-byte pad when aligned.
			for extra := 0; extra < 17; extra++ {
				m := Message{Token: tc.token, Sequence: "0042", Receiver: "1", Prefix: "0",
					Account: "12ab", Data: tc.data, Timestamp: testNow}
				if extra > 0 {
					m.XData = []XData{{ID: 'M', Value: strings.Repeat("0", extra)}}
				}
				raw, err := EncodeEncrypted(m, key, &counter{next: '['})
				if err != nil {
					t.Fatal(err)
				}
				got, err := Parse(raw, keys, testNow, Window{})
				if err != nil {
					t.Fatalf("%d-byte key, %s: %v", keyLen, tc.token, err)
				}
				if !got.Encrypted || got.Token != tc.token || got.Data != tc.data ||
					got.Sequence != "0042" || got.Account != "12ab" || !got.Timestamp.Equal(testNow) ||
					len(got.XData) != len(m.XData) {
					t.Fatalf("round trip gave %+v", got)
				}
				if got.Deviations != LowerCaseHex { // the account "12ab"
					t.Errorf("deviations %s", got.Deviations)
				}
				if tc.kind != "" && (len(got.Events) != 1 || got.Events[0].Type != tc.kind) {
					t.Errorf("events %+v, want one %s", got.Events, tc.kind)
				}
				if Decide(got, nil) != ReplyACK {
					t.Errorf("reply %s", Decide(got, nil))
				}
				checkPlaintextShape(t, raw, key, len("|")+len(tc.data)+len("]")+xdataLen(m)+len("_HH:MM:SS,MM-DD-YYYY"))
			}
		}
	}
}

func xdataLen(m Message) int {
	n := 0
	for _, x := range m.XData {
		n += 3 + len(x.Value)
	}
	return n
}

// checkPlaintextShape checks the DC-09 pad rules on an encrypted frame:
// whole blocks, 1 to 16 pad bytes, none of them | [ ].
func checkPlaintextShape(t *testing.T, raw, key []byte, contentLen int) {
	t.Helper()
	open := bytes.IndexByte(raw, '[')
	hexText := raw[open+1 : len(raw)-1]
	if bytes.ToUpper(hexText) == nil || !bytes.Equal(hexText, bytes.ToUpper(hexText)) {
		t.Errorf("ciphertext is not upper-case hex")
	}
	ct, err := hex.DecodeString(string(hexText))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := decrypt(key, ct)
	if err != nil {
		t.Fatal(err)
	}
	padLen := len(plain) - contentLen
	if len(plain)%16 != 0 || padLen < 1 || padLen > 16 {
		t.Fatalf("plaintext %d bytes with %d pad bytes", len(plain), padLen)
	}
	if bytes.ContainsAny(plain[:padLen], "|[]") {
		t.Errorf("pad %q contains | [ or ]", plain[:padLen])
	}
	if plain[padLen] != '|' {
		t.Errorf("pad not followed by |: %q", plain)
	}
}

func TestRoundTripPlain(t *testing.T) {
	m := Message{Token: TokenSIADCS, Sequence: "0002", Receiver: "1", Prefix: "232", Account: "78919",
		Data: "#78919|Nri1/BA012", XData: []XData{{'X', "012W34.1"}, {'Y', "045N12.2"}},
		Timestamp: testNow}
	raw, err := Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	want := "\n73580056\"SIA-DCS\"0002R1L232#78919[#78919|Nri1/BA012][X012W34.1][Y045N12.2]_14:12:04,09-25-2026\r"
	if string(raw) != want {
		t.Fatalf("Encode = %q, want %q", raw, want)
	}
	got, err := Parse(raw, nil, time.Time{}, Window{})
	if err != nil {
		t.Fatal(err)
	}
	got.Events, got.DataAccount = nil, ""
	if !reflect.DeepEqual(got, m) {
		t.Fatalf("Parse(Encode(m)) = %+v, want %+v", got, m)
	}
}

func TestEncodeRejects(t *testing.T) {
	good := Message{Token: TokenNULL, Sequence: "0000", Prefix: "0", Account: "1234"}
	for name, m := range map[string]Message{
		"empty token":   {Token: "", Sequence: "0000"},
		"quote token":   {Token: `A"B`, Sequence: "0000"},
		"short seq":     {Token: TokenNULL, Sequence: "12"},
		"long receiver": {Token: TokenNULL, Sequence: "0000", Receiver: "1234567"},
		"bad account":   {Token: TokenNULL, Sequence: "0000", Account: "XY"},
		"bracket data":  {Token: TokenNULL, Sequence: "0000", Data: "a]b"},
		"bad xdata":     {Token: TokenNULL, Sequence: "0000", XData: []XData{{'X', "a[b"}}},
		"huge data":     {Token: TokenNULL, Sequence: "0000", Data: strings.Repeat("A", MaxBodyLen)},
	} {
		if _, err := Encode(m); err == nil {
			t.Errorf("%s: Encode accepted %+v", name, m)
		}
	}
	if _, err := EncodeEncrypted(good, make([]byte, 16), &counter{}); err == nil {
		t.Errorf("encrypted frame without timestamp accepted")
	}
	good.Timestamp = testNow
	if _, err := EncodeEncrypted(good, make([]byte, 20), &counter{}); err == nil {
		t.Errorf("20-byte key accepted")
	}
}

func TestWindow(t *testing.T) {
	key := []byte("AAAAAAAAAAAAAAAA")
	keys := Keys{"1111": key}
	frameAt := func(offset time.Duration) []byte {
		m := Message{Token: TokenNULL, Sequence: "0000", Prefix: "0", Account: "1111",
			Timestamp: testNow.Add(offset)}
		raw, err := EncodeEncrypted(m, key, &counter{})
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	for _, tc := range []struct {
		offset time.Duration
		window Window
		ok     bool
	}{
		{-40 * time.Second, Window{}, true},
		{-41 * time.Second, Window{}, false},
		{20 * time.Second, Window{}, true},
		{21 * time.Second, Window{}, false},
		{-90 * time.Second, Window{Past: 2 * time.Minute, Future: time.Minute}, true},
		{61 * time.Second, Window{Past: 2 * time.Minute, Future: time.Minute}, false},
	} {
		// The receiver's clock has sub-second precision; the panel's not.
		now := testNow.Add(900 * time.Millisecond)
		m, err := Parse(frameAt(tc.offset), keys, now, tc.window)
		if (err == nil) != tc.ok || err != nil && !errors.Is(err, ErrTimestamp) {
			t.Errorf("offset %s window %+v: err %v, want ok=%v", tc.offset, tc.window, err, tc.ok)
		}
		if !m.Timestamp.Equal(testNow.Add(tc.offset)) || Decide(m, err) == ReplyACK != tc.ok {
			t.Errorf("offset %s: refused message not kept for the log: %+v", tc.offset, m)
		}
	}
}

func TestReplies(t *testing.T) {
	m := Message{Token: TokenSIADCS, Sequence: "9876", Receiver: "579BDF", Prefix: "789ABC", Account: "12345A"}
	if got, want := string(ACK(m)), "\n1B990020\"ACK\"9876R579BDFL789ABC#12345A[]\r"; got != want {
		t.Errorf("ACK = %q, want %q", got, want)
	}
	duh := DUH(m)
	if got, err := Parse(duh, nil, testNow, Window{}); err != nil || got.Token != TokenDUH || got.Sequence != "9876" {
		t.Errorf("DUH %q parses to %+v, %v", duh, got, err)
	}
	nak := NAK(time.Date(2025, 9, 24, 16, 20, 1, 0, time.UTC))
	if got, want := string(nak), "\nE4410025\"NAK\"0000R0L0A0[]_16:20:01,09-24-2025\r"; got != want {
		t.Errorf("NAK = %q, want %q", got, want)
	}
	// The NAK carries UTC even when the receiver's clock is in Almaty time.
	almaty := time.FixedZone("Asia/Almaty", 5*3600)
	if got := NAK(time.Date(2025, 9, 24, 21, 20, 1, 0, almaty)); !bytes.Equal(got, nak) {
		t.Errorf("NAK in Almaty time = %q", got)
	}
}

func TestEncryptedACKPad(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	m := Message{Token: TokenNULL, Encrypted: true, Sequence: "0000", Receiver: "0", Prefix: "0", Account: "AAAB"}
	// A pad source of nothing but forbidden bytes must still give a
	// valid pad, and a bounded read.
	ack, err := EncryptedACK(m, key, testNow, bytes.NewReader(bytes.Repeat([]byte("|[]"), 10)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(ack[9:], []byte(`"*ACK"0000R0L0#AAAB[`)) {
		t.Fatalf("*ACK header %q", ack)
	}
	checkPlaintextShape(t, ack, key, len("|]_HH:MM:SS,MM-DD-YYYY"))
	got, err := Parse(ack, Keys{"AAAB": key}, testNow, Window{})
	if err != nil || got.Token != TokenACK || !got.Timestamp.Equal(testNow) {
		t.Fatalf("*ACK parses to %+v, %v", got, err)
	}
	if Decide(got, nil) != ReplyNone {
		t.Errorf("a receiver answers its own *ACK")
	}
	if _, err := EncryptedACK(m, key, testNow, bytes.NewReader(nil)); err == nil {
		t.Errorf("empty pad source accepted")
	}
}

func TestDecide(t *testing.T) {
	key := bytes.Repeat([]byte{1}, 16)
	enc, err := EncodeEncrypted(Message{Token: TokenSIADCS, Sequence: "0001", Prefix: "0", Account: "1234",
		Data: "#1234|Nri1/PA001", Timestamp: testNow}, key, &counter{})
	if err != nil {
		t.Fatal(err)
	}
	plain := func(tok Token, data string) []byte {
		raw, err := Encode(Message{Token: tok, Sequence: "0001", Prefix: "0", Account: "1234", Data: data})
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	for _, tc := range []struct {
		name  string
		frame []byte
		keys  KeyLookup
		want  Reply
		err   error
	}{
		{"panic", plain(TokenSIADCS, "#1234|Nri1/PA001"), nil, ReplyACK, nil},
		{"unknown SIA code", plain(TokenSIADCS, "#1234|Nri1/QQ001"), nil, ReplyDUH, nil},
		{"undecodable SIA data", plain(TokenSIADCS, "#1234|N%%%"), nil, ReplyDUH, nil},
		{"rare CID code", plain(TokenADMCID, "#1234|1999 01 001"), nil, ReplyACK, nil},
		{"unassigned CID code", plain(TokenADMCID, "#1234|1777 01 001"), nil, ReplyDUH, nil},
		{"bad CID qualifier", plain(TokenADMCID, "#1234|5120 01 001"), nil, ReplyDUH, nil},
		{"unsupported token", plain("ACR-SF", "x"), nil, ReplyDUH, ErrUnsupportedToken},
		{"NULL with dummy CID", plain(TokenNULL, "#0000|0000 00 000"), nil, ReplyACK, nil},
		{"encrypted, right key", enc, Keys{"1234": key}, ReplyACK, nil},
		{"encrypted, no key", enc, Keys{}, ReplyNAK, ErrNoKey},
		{"encrypted, nil keys", enc, nil, ReplyNAK, ErrNoKey},
		{"encrypted, bad key length", enc, Keys{"1234": key[:15]}, ReplyNAK, ErrNoKey},
		{"encrypted, wrong key", enc, Keys{"1234": bytes.Repeat([]byte{2}, 16)}, ReplyNAK, ErrDecrypt},
		{"garbage", []byte("GET / HTTP/1.1\r\n"), nil, ReplyNone, ErrNotDC09},
		{"empty", nil, nil, ReplyNone, ErrNotDC09},
		{"too large", bytes.Repeat([]byte("A"), MaxFrameLen+1), nil, ReplyNAK, ErrTooLarge},
		{"bad header", frame([]byte(`"SIA-DCS"12L0#1234[]`), ""), nil, ReplyNAK, ErrFormat},
	} {
		m, err := Parse(tc.frame, tc.keys, testNow, Window{})
		if got := Decide(m, err); got != tc.want {
			t.Errorf("%s: reply %s, want %s (err %v)", tc.name, got, tc.want, err)
		}
		if tc.err != nil && !errors.Is(err, tc.err) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.err)
		}
		if tc.err == nil && err != nil {
			t.Errorf("%s: err %v", tc.name, err)
		}
	}
}

func TestUnknownEventIsKept(t *testing.T) {
	raw, _ := Encode(Message{Token: TokenSIADCS, Sequence: "0001", Prefix: "0", Account: "1234",
		Data: "#1234|Nri3/QQ017"})
	m, err := Parse(raw, nil, testNow, Window{})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Events) != 1 || m.Events[0].Known || m.Events[0].Code != "QQ" || m.Events[0].Zone != "017" || m.Events[0].Partition != "3" {
		t.Fatalf("events %+v", m.Events)
	}
	if got := string(DUH(m)); got != string(frame([]byte(`"DUH"0001L0#1234[]`), "")) {
		t.Errorf("DUH = %q", got)
	}
}

func TestTolerances(t *testing.T) {
	key := []byte("AAAAAAAAAAAAAAAA")
	plainBody := `"SIA-DCS"0007#1234[#1234|NRP]`
	lowerEnc, err := EncodeEncrypted(Message{Token: TokenSIADCS, Sequence: "0007", Prefix: "0", Account: "abcd",
		Data: "Nri1/PA001", Timestamp: testNow}, key, &counter{})
	if err != nil {
		t.Fatal(err)
	}
	open := bytes.IndexByte(lowerEnc, '[')
	copy(lowerEnc[open:], bytes.ToLower(lowerEnc[open:]))
	lowerEnc = repair(lowerEnc)
	lowerCRC := frame([]byte(`"NULL"0000L0#1234[]`), "")
	copy(lowerCRC[1:9], bytes.ToLower(lowerCRC[1:9]))
	for _, tc := range []struct {
		name  string
		frame []byte
		want  Deviation
	}{
		{"no L prefix", frame([]byte(plainBody), ""), MissingPrefix},
		{"unframed", frame([]byte(plainBody), "")[1 : len(frame([]byte(plainBody), ""))-1], MissingPrefix | Unframed},
		{"lower-case CRC", lowerCRC, LowerCaseHex},
		{"lower-case ciphertext and account", lowerEnc, LowerCaseHex},
		{"no header account", frame([]byte(`"SIA-DCS"0001L0[#006969|Nri04/OP001]`), ""), MissingAccount},
	} {
		m, err := Parse(tc.frame, Keys{"ABCD": key}, testNow, Window{})
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if m.Deviations != tc.want {
			t.Errorf("%s: deviations %q, want %q", tc.name, m.Deviations, tc.want)
		}
		if Decide(m, nil) != ReplyACK {
			t.Errorf("%s: reply %s", tc.name, Decide(m, nil))
		}
	}
	m, _ := Parse(frame([]byte(`"SIA-DCS"0001L0[#006969|Nri04/OP001]`), ""), nil, testNow, Window{})
	if m.AccountID() != "006969" {
		t.Errorf("account id %q", m.AccountID())
	}
}

func TestParseKeys(t *testing.T) {
	for _, s := range []string{strings.Repeat("ab", 16), strings.Repeat("AB", 24), strings.Repeat("0f", 32)} {
		key, err := ParseKeyHex(s)
		if err != nil || len(key) != len(s)/2 {
			t.Errorf("ParseKeyHex(%q) = %x, %v", s, key, err)
		}
	}
	for _, s := range []string{"", "abc", strings.Repeat("zz", 16), strings.Repeat("a", 40)} {
		if _, err := ParseKeyHex(s); err == nil {
			t.Errorf("ParseKeyHex(%q) accepted", s)
		}
	}
	for _, s := range []string{"AAAAAAAAAAAAAAAA", strings.Repeat("k", 24), strings.Repeat("K", 32)} {
		key, err := ParseKeyText(s)
		if err != nil || string(key) != s {
			t.Errorf("ParseKeyText(%q) = %q, %v", s, key, err)
		}
	}
	for _, s := range []string{"short", strings.Repeat("k", 17), "AAAAAAAAAAAAAAA\x00"} {
		if _, err := ParseKeyText(s); err == nil {
			t.Errorf("ParseKeyText(%q) accepted", s)
		}
	}
}

func TestKeyLookupIsCaseInsensitive(t *testing.T) {
	key := bytes.Repeat([]byte{3}, 24)
	var asked string
	lookup := KeyFunc(func(account string) ([]byte, bool) { asked = account; return key, true })
	raw, err := EncodeEncrypted(Message{Token: TokenNULL, Sequence: "0000", Prefix: "0", Account: "ea1984",
		Timestamp: testNow}, key, &counter{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(raw, lookup, testNow, Window{})
	if err != nil {
		t.Fatal(err)
	}
	if asked != "EA1984" || m.Account != "ea1984" {
		t.Errorf("looked up %q, kept %q", asked, m.Account)
	}
	ack, err := Answer(ReplyACK, m, lookup, testNow, &counter{})
	if err != nil || !bytes.Contains(ack, []byte(`"*ACK"0000L0#ea1984[`)) {
		t.Errorf("*ACK %q, %v", ack, err)
	}
}

func TestTimestampShape(t *testing.T) {
	for _, s := range []string{"14:12:04,09-25-2026", "00:00:00,01-01-2000", "23:59:59,12-31-2099"} {
		if _, err := parseTimestamp([]byte(s)); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	for _, s := range []string{"24:00:00,01-01-2000", "12:00:00,02-30-2024", "1:2:3,1-2-2006xxxxxx", "14:12:04,09-25-201", "14-12-04,09-25-2026"} {
		if _, err := parseTimestamp([]byte(s)); err == nil {
			t.Errorf("%s accepted", s)
		}
	}
	ts := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if got := formatTimestamp(ts); got != "03:04:05,01-02-2026" {
		t.Errorf("formatTimestamp = %q", got)
	}
}

func TestDeviationString(t *testing.T) {
	if got := (DecimalLength | Unframed).String(); got != "decimal-length,unframed" {
		t.Errorf("%q", got)
	}
	if got := Deviation(0).String(); got != "" {
		t.Errorf("%q", got)
	}
}
