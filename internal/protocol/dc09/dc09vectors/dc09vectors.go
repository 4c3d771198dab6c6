// Package dc09vectors reads dc09-vectors.json, the DC-09 frames collected
// from public test suites and panel captures, for the tests of the codec
// (package dc09) and of the receiver (package dc09gw). Each test decodes
// the members of an entry it needs into its own type.
package dc09vectors

import (
	"encoding/json"
	"os"
	"testing"
)

// Load reads the vector file at path into entries of type V; a file that
// does not hold the count it says fails t.
func Load[V any](t testing.TB, path string) []V {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Count   int `json:"count"`
		Vectors []V `json:"vectors"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	if file.Count == 0 || len(file.Vectors) != file.Count {
		t.Fatalf("vector file says %d vectors, holds %d", file.Count, len(file.Vectors))
	}
	return file.Vectors
}

// Head is what every entry has and every test of an entry reads; a test's
// own entry type embeds it and adds the members it needs.
type Head struct {
	Name            string  `json:"name"`
	Category        string  `json:"category"`
	Raw             *string `json:"raw"`
	RawFramed       *string `json:"raw_framed"`
	Key             *string `json:"key"`
	ACKSpecComputed string  `json:"ack_spec_computed"`
}

// Input is the entry's frame as a panel sends it (see the function Input).
func (h Head) Input() []byte { return Input(h.Raw, h.RawFramed) }

// Input is an entry's frame as a panel sends it: the framed form when the
// file gives one (raw_framed), otherwise the raw bytes (as a UDP datagram
// might carry them); nil when it has neither.
func Input(raw, framed *string) []byte {
	if framed != nil {
		return []byte(*framed)
	}
	if raw != nil {
		return []byte(*raw)
	}
	return nil
}
