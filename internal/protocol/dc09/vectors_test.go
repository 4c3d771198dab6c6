package dc09

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"qorgan/internal/protocol/contactid"
	"qorgan/internal/protocol/dc09/dc09vectors"
	"qorgan/internal/protocol/siadcs"
)

// vector mirrors one entry of testdata/dc09-vectors.json, the frames
// collected from public test suites and panel captures.
type vector struct {
	dc09vectors.Head
	KeyASCII         *string         `json:"key_ascii"`
	CRCValid         *bool           `json:"crc_valid"`
	LenValid         *bool           `json:"len_valid"`
	ACKSpecComputed  string          `json:"ack_spec_computed"`
	Expected         json.RawMessage `json:"expected"`
	ExpectedResponse string          `json:"expected_response"`
}

type expectation struct {
	Token                string     `json:"token"`
	Encrypted            *bool      `json:"encrypted"`
	Sequence             string     `json:"sequence"`
	Receiver             *string    `json:"receiver"`
	Prefix               *string    `json:"prefix"`
	Account              *string    `json:"account"`
	AccountField         string     `json:"account_field"`
	Data                 *string    `json:"data"`
	XData                []string   `json:"xdata"`
	Timestamp            *string    `json:"timestamp"`
	TimestampUTC         string     `json:"timestamp_utc_iso"`
	DataAccount          *string    `json:"data_account"`
	SIAEvents            []siaEvent `json:"sia_events"`
	CID                  *cidEvent  `json:"cid"`
	MappedSIACode        string     `json:"mapped_sia_code"`
	DecryptedPlaintext   string     `json:"decrypted_plaintext_latin1"`
	PadTerminatorPresent *bool      `json:"pad_terminator_present"`
	PadLength            int        `json:"pad_length"`
	CiphertextHexLen     int        `json:"ciphertext_hex_len"`
	Cases                []struct {
		OffsetS   int   `json:"offset_s"`
		Encrypted *bool `json:"encrypted"`
		Outside   bool  `json:"outside"`
	} `json:"cases"`
}

type siaEvent struct {
	Code     string  `json:"code"`
	Address  *string `json:"address"`
	Area     *string `json:"area"`
	User     *string `json:"user"`
	Time     *string `json:"time"`
	Trailing *string `json:"trailing"`
}

type cidEvent struct {
	Qualifier  string `json:"qualifier"`
	Event      string `json:"event"`
	Group      string `json:"group"`
	ZoneOrUser string `json:"zone_or_user"`
}

func loadVectors(t testing.TB) []vector {
	t.Helper()
	return dc09vectors.Load[vector](t, "testdata/dc09-vectors.json")
}

func (v vector) expectation(t *testing.T) expectation {
	t.Helper()
	var e expectation
	if len(v.Expected) > 0 {
		if err := json.Unmarshal(v.Expected, &e); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func (v vector) keys(t *testing.T, account string) KeyLookup {
	t.Helper()
	if v.Key == nil {
		return Keys{}
	}
	key, err := ParseKeyHex(*v.Key)
	if err != nil {
		t.Fatal(err)
	}
	if v.KeyASCII != nil {
		text, err := ParseKeyText(*v.KeyASCII)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(text, key) {
			t.Fatalf("hex and text forms of the key differ")
		}
	}
	return Keys{strings.ToUpper(account): key}
}

// clock is the receiver time for a vector: the frame's own timestamp, as
// the file asks for encrypted captures, or a fixed day for plain frames.
func (e expectation) clock(t *testing.T) time.Time {
	if e.TimestampUTC == "" {
		return time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	}
	ts, err := time.Parse(time.RFC3339, e.TimestampUTC)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// wantReply maps a vector's category to the reply a correct receiver
// gives. Rejections ("no ACK") become NAK for frames that look like DC-09
// and no reply for bytes that do not.
func wantReply(category string) (Reply, bool) {
	switch category {
	case "valid", "tolerance":
		return ReplyACK, true
	case "invalid-crc", "invalid-length", "encrypted-key-unknown":
		return ReplyNAK, true
	case "invalid-format", "non-dc09", "response":
		return ReplyNone, true
	}
	return 0, false
}

// wantErr is the error class each rejecting category must produce.
func wantErr(category string) error {
	switch category {
	case "invalid-crc":
		return ErrCRC
	case "invalid-length":
		return ErrLength
	case "invalid-format", "non-dc09":
		return ErrNotDC09
	}
	return nil
}

func TestVectors(t *testing.T) {
	vectors := loadVectors(t)
	seen := map[string]bool{}
	for _, v := range vectors {
		seen[v.Category] = true
		t.Run(v.Name, func(t *testing.T) {
			e := v.expectation(t)
			if v.Category == "rule" {
				checkWindowRule(t, v, e)
				return
			}
			want, ok := wantReply(v.Category)
			if !ok {
				t.Fatalf("no reply mapping for category %q", v.Category)
			}
			account := ""
			if e.Account != nil {
				account = *e.Account
			}
			keys := v.keys(t, account)
			now := e.clock(t)

			m, err := Parse(v.Input(), keys, now, Window{})
			if got := Decide(m, err); got != want {
				t.Fatalf("reply %s, want %s (err %v)", got, want, err)
			}
			if werr := wantErr(v.Category); werr != nil && !errors.Is(err, werr) {
				t.Fatalf("error %v, want %v", err, werr)
			}
			if v.Category == "encrypted-key-unknown" && v.LenValid != nil && *v.LenValid && !errors.Is(err, ErrNoKey) {
				t.Fatalf("error %v, want %v", err, ErrNoKey)
			}
			if err == nil {
				checkFields(t, v, e, m)
				checkAnswer(t, v, m, keys, now)
			}

			// Frames rejected only for CRC or length are repaired, so that
			// the fields the file gives for them are still checked.
			if errors.Is(err, ErrCRC) || errors.Is(err, ErrLength) {
				fixed := repair(v.Input())
				m, err := Parse(fixed, keys, now, Window{})
				if v.Category == "encrypted-key-unknown" {
					if !errors.Is(err, ErrNoKey) {
						t.Fatalf("repaired: error %v, want %v", err, ErrNoKey)
					}
					checkHeader(t, e, m)
					return
				}
				if err != nil {
					t.Fatalf("repaired frame: %v", err)
				}
				checkFields(t, v, e, m)
			}
		})
	}
	for _, c := range []string{"valid", "tolerance", "invalid-crc", "invalid-length",
		"invalid-format", "encrypted-key-unknown", "response", "rule", "non-dc09"} {
		if !seen[c] {
			t.Errorf("no vector of category %q", c)
		}
	}
}

// repair recomputes the CRC and length of a frame's body.
func repair(frameBytes []byte) []byte {
	b := bytes.TrimSuffix(bytes.TrimPrefix(frameBytes, []byte("\n")), []byte("\r"))
	return frame(append([]byte(nil), b[8:]...), "")
}

func checkHeader(t *testing.T, e expectation, m Message) {
	t.Helper()
	if e.Token == "" {
		return // the vector describes only the data block
	}
	if e.Token != "" && string(m.Token) != e.Token {
		t.Errorf("token %q, want %q", m.Token, e.Token)
	}
	if e.Encrypted != nil && m.Encrypted != *e.Encrypted {
		t.Errorf("encrypted %v, want %v", m.Encrypted, *e.Encrypted)
	}
	if e.Sequence != "" && m.Sequence != e.Sequence {
		t.Errorf("sequence %q, want %q", m.Sequence, e.Sequence)
	}
	if got, want := m.Receiver, deref(e.Receiver); got != want {
		t.Errorf("receiver %q, want %q", got, want)
	}
	if e.Prefix != nil && m.Prefix != *e.Prefix {
		t.Errorf("prefix %q, want %q", m.Prefix, *e.Prefix)
	}
	if e.AccountField != "" {
		if got := "A" + m.Account; got != e.AccountField {
			t.Errorf("account field %q, want %q", got, e.AccountField)
		}
	} else if got, want := m.Account, deref(e.Account); got != want {
		t.Errorf("account %q, want %q", got, want)
	}
}

func checkFields(t *testing.T, v vector, e expectation, m Message) {
	t.Helper()
	checkHeader(t, e, m)
	if e.Data != nil && m.Data != *e.Data {
		t.Errorf("data %q, want %q", m.Data, *e.Data)
	}
	if e.Data != nil || e.XData != nil {
		var got []string
		for _, x := range m.XData {
			got = append(got, x.String())
		}
		if strings.Join(got, "|") != strings.Join(e.XData, "|") {
			t.Errorf("xdata %q, want %q", got, e.XData)
		}
	}
	if e.TimestampUTC != "" {
		if got := m.Timestamp.Format(time.RFC3339); got != e.TimestampUTC {
			t.Errorf("timestamp %s, want %s", got, e.TimestampUTC)
		}
	} else if e.Timestamp == nil && e.Data != nil && !m.Timestamp.IsZero() {
		t.Errorf("timestamp %s, want none", m.Timestamp)
	}
	if e.DataAccount != nil && m.DataAccount != *e.DataAccount {
		t.Errorf("data account %q, want %q", m.DataAccount, *e.DataAccount)
	}
	if e.Account == nil && e.DataAccount != nil && m.AccountID() != *e.DataAccount {
		t.Errorf("account id %q, want the data account %q", m.AccountID(), *e.DataAccount)
	}
	if e.PadTerminatorPresent != nil {
		if got := m.Deviations&MissingPadTerminator == 0; got != *e.PadTerminatorPresent {
			t.Errorf("pad terminator present %v, want %v", got, *e.PadTerminatorPresent)
		}
	}
	if e.SIAEvents != nil {
		checkSIA(t, e.SIAEvents, m)
	}
	if e.CID != nil {
		checkCID(t, e, m)
	}
	if e.DecryptedPlaintext != "" {
		checkPlaintext(t, v, e)
	}
}

func checkSIA(t *testing.T, want []siaEvent, m Message) {
	t.Helper()
	block, err := siadcs.Parse(m.Data)
	if err != nil {
		t.Fatalf("SIA data %q: %v", m.Data, err)
	}
	if len(block.Events) != len(want) || len(m.Events) != len(want) {
		t.Fatalf("%d SIA events (%d decoded), want %d", len(block.Events), len(m.Events), len(want))
	}
	for i, w := range want {
		got := block.Events[i]
		if got.Code != w.Code || m.Events[i].Code != w.Code {
			t.Errorf("event %d code %q, want %q", i, got.Code, w.Code)
		}
		if got.Address != deref(w.Address) {
			t.Errorf("event %d address %q, want %q", i, got.Address, deref(w.Address))
		}
		if got.Area != deref(w.Area) || m.Events[i].Partition != deref(w.Area) {
			t.Errorf("event %d area %q, want %q", i, got.Area, deref(w.Area))
		}
		if got.User != deref(w.User) {
			t.Errorf("event %d user %q, want %q", i, got.User, deref(w.User))
		}
		if got.Time != deref(w.Time) {
			t.Errorf("event %d time %q, want %q", i, got.Time, deref(w.Time))
		}
		if w.Trailing != nil {
			// The file keeps whatever follows the address verbatim; the
			// parser splits it into free text, |A text and the rest.
			var trailing string
			switch {
			case got.Text != "":
				trailing = "^" + got.Text + "^"
			case block.Text != "":
				trailing = "|A" + block.Text
			default:
				trailing = got.Extra
			}
			if trailing != *w.Trailing {
				t.Errorf("event %d trailing %q, want %q", i, trailing, *w.Trailing)
			}
		}
	}
}

func checkCID(t *testing.T, e expectation, m Message) {
	t.Helper()
	r, err := contactid.Parse(m.Data)
	if err != nil {
		t.Fatalf("Contact ID data %q: %v", m.Data, err)
	}
	w := e.CID
	if string(r.Qualifier) != w.Qualifier || r.Event != w.Event || r.Group != w.Group || r.ZoneOrUser != w.ZoneOrUser {
		t.Errorf("Contact ID %+v, want %+v", r, *w)
	}
	if e.MappedSIACode != "" && r.SIACode() != e.MappedSIACode {
		t.Errorf("SIA code %q, want %q", r.SIACode(), e.MappedSIACode)
	}
	if len(m.Events) != 1 || m.Events[0].Code != w.Qualifier+w.Event {
		t.Errorf("decoded events %+v", m.Events)
	}
}

// checkPlaintext decrypts the frame directly and compares with the
// plaintext the file recovered, to pin down the cipher settings.
func checkPlaintext(t *testing.T, v vector, e expectation) {
	t.Helper()
	key, _ := ParseKeyHex(*v.Key)
	in := v.Input()
	open := bytes.IndexByte(in, '[')
	ct, err := hex.DecodeString(string(bytes.TrimSuffix(in[open+1:], []byte("\r"))))
	if err != nil {
		t.Fatal(err)
	}
	if len(ct)*2 != e.CiphertextHexLen {
		t.Errorf("ciphertext %d hex chars, want %d", len(ct)*2, e.CiphertextHexLen)
	}
	plain, err := decrypt(key, ct)
	if err != nil {
		t.Fatal(err)
	}
	if string(plain) != e.DecryptedPlaintext {
		t.Errorf("plaintext %q, want %q", plain, e.DecryptedPlaintext)
	}
}

// checkAnswer builds the reply the receiver would send and compares it
// byte for byte where the file gives it, or decrypts the *ACK.
func checkAnswer(t *testing.T, v vector, m Message, keys KeyLookup, now time.Time) {
	t.Helper()
	reply := Decide(m, nil)
	out, err := Answer(reply, m, keys, now, bytes.NewReader(bytes.Repeat([]byte{0xA5}, 64)))
	if err != nil {
		t.Fatal(err)
	}
	if v.ACKSpecComputed != "" && string(out) != v.ACKSpecComputed {
		t.Errorf("reply %q, want %q", out, v.ACKSpecComputed)
	}
	if m.Encrypted && reply == ReplyACK {
		ack, err := Parse(out, keys, now, Window{})
		if err != nil {
			t.Fatalf("*ACK %q does not parse: %v", out, err)
		}
		if ack.Token != TokenACK || !ack.Encrypted || ack.Sequence != m.Sequence || ack.Account != m.Account {
			t.Errorf("*ACK %+v does not echo %+v", ack, m)
		}
		if !ack.Timestamp.Equal(now.Truncate(time.Second)) {
			t.Errorf("*ACK time %s, want %s", ack.Timestamp, now)
		}
	}
	// A frame without deviations is written back byte for byte.
	if !m.Encrypted && m.Deviations == 0 {
		again, err := Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, v.Input()) {
			t.Errorf("Encode gives %q, want %q", again, v.Input())
		}
	}
}

// checkWindowRule builds encrypted frames at each offset from the
// receiver clock and checks the −40 s/+20 s rule, with the NAK the file
// describes.
func checkWindowRule(t *testing.T, v vector, e expectation) {
	key, err := ParseKeyHex(*v.Key)
	if err != nil {
		t.Fatal(err)
	}
	keys := Keys{"1111": key}
	now := time.Date(2020, 7, 9, 16, 4, 10, 0, time.UTC)
	if len(e.Cases) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range e.Cases {
		m := Message{Token: TokenSIADCS, Sequence: "0001", Prefix: "0", Account: "1111",
			Data: "#1111|Nri1/PA501", Timestamp: now.Add(time.Duration(c.OffsetS) * time.Second)}
		var frameBytes []byte
		if c.Encrypted != nil && !*c.Encrypted {
			frameBytes, err = Encode(m)
		} else {
			frameBytes, err = EncodeEncrypted(m, key, bytes.NewReader(make([]byte, 32)))
		}
		if err != nil {
			t.Fatal(err)
		}
		got, err := Parse(frameBytes, keys, now, Window{})
		outside := errors.Is(err, ErrTimestamp)
		if outside != c.Outside {
			t.Errorf("offset %d s: outside %v, want %v (err %v)", c.OffsetS, outside, c.Outside, err)
		}
		reply := Decide(got, err)
		if c.Outside && reply != ReplyNAK || !c.Outside && reply != ReplyACK {
			t.Errorf("offset %d s: reply %s", c.OffsetS, reply)
		}
		if c.Outside {
			nak, _ := Answer(reply, got, keys, now, nil)
			if want := `"NAK"0000R0L0A0[]_16:04:10,07-09-2020`; !bytes.Contains(nak, []byte(want)) {
				t.Errorf("NAK %q does not contain %q", nak, want)
			}
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
