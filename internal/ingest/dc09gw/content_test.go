package dc09gw_test

import (
	"bytes"
	"crypto/rand"
	"testing"
	"time"

	"qorgan/internal/ingest/dc09gw"
	"qorgan/internal/protocol/dc09"
)

// A frame stamped anew and, encrypted, padded anew has the same Content; a
// frame for another receiver, line or event has another.
func TestFrameContent(t *testing.T) {
	key := []byte("0123456789abcdef")
	at := time.Date(2026, 11, 25, 7, 52, 0, 0, time.UTC)
	base := dc09.Message{Token: dc09.TokenSIADCS, Sequence: "0042", Receiver: "1", Prefix: "0", Account: "5678", Data: "#5678|Nri1/PA501",
		XData: []dc09.XData{{ID: 'X', Value: "071E26.4"}}, Timestamp: at}
	content := func(m dc09.Message) []byte {
		t.Helper()
		raw, err := dc09.EncodeEncrypted(m, key, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := dc09.Parse(raw, dc09.Keys{"5678": key}, m.Timestamp, dc09.Window{})
		if err != nil {
			t.Fatal(err)
		}
		return dc09gw.Frame{Account: "5678", Message: parsed}.Content()
	}
	first := content(base)
	again := base
	again.Timestamp = at.Add(30 * time.Second)
	if got := content(again); !bytes.Equal(got, first) {
		t.Fatalf("re-stamped and re-padded: %q, first %q", got, first)
	}
	for name, change := range map[string]func(*dc09.Message){
		"receiver": func(m *dc09.Message) { m.Receiver = "2" },
		"line":     func(m *dc09.Message) { m.Prefix = "1" },
		"event":    func(m *dc09.Message) { m.Data = "#5678|Nri1/FA501" },
		"x-data":   func(m *dc09.Message) { m.XData = []dc09.XData{{ID: 'X', Value: "071E26.5"}} },
		"token":    func(m *dc09.Message) { m.Token = dc09.TokenADMCID; m.Data = "#5678|1120 01 501" },
	} {
		m := base
		change(&m)
		if got := content(m); bytes.Equal(got, first) {
			t.Errorf("another %s, the same content %q", name, got)
		}
	}
	// The fields cannot run into one another.
	a := dc09gw.Frame{Message: dc09.Message{Token: dc09.TokenSIADCS, Data: "#1|Nri1/PA501", XData: []dc09.XData{{ID: 'A', Value: "x"}}}}
	b := dc09gw.Frame{Message: dc09.Message{Token: dc09.TokenSIADCS, Data: "#1|Nri1/PA501Ax"}}
	if bytes.Equal(a.Content(), b.Content()) {
		t.Errorf("data and x-data run together: %q", a.Content())
	}
}
