package dc09

import (
	"bytes"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// fuzzKey decrypts the encrypted seeds (the pysiaalarm and PHP test key).
var fuzzKey = []byte("AAAAAAAAAAAAAAAA")

func fuzzKeys() KeyLookup {
	return KeyFunc(func(string) ([]byte, bool) { return fuzzKey, true })
}

// fuzzWindow is wide so that captured frames from any year get past the
// time check and into event decoding.
var fuzzWindow = Window{Past: 50 * 365 * 24 * time.Hour, Future: 50 * 365 * 24 * time.Hour}

func FuzzParse(f *testing.F) {
	f.Add([]byte(frameB))
	f.Fuzz(func(t *testing.T, in []byte) {
		checkParse(t, in)
		// Random bytes almost never carry a valid CRC, so the same input is
		// also tried with its CRC and length fixed, to reach the header,
		// decryption and event decoding.
		b := bytes.TrimSuffix(bytes.TrimPrefix(in, []byte("\n")), []byte("\r"))
		if len(b) > 8 && len(b) <= MaxFrameLen {
			checkParse(t, frame(bytes.Clone(b[8:]), ""))
		}
	})
}

func checkParse(t *testing.T, in []byte) {
	{
		now := time.Date(2026, 9, 25, 14, 12, 4, 0, time.UTC)
		m, err := Parse(in, fuzzKeys(), now, fuzzWindow)
		reply := Decide(m, err)
		if err != nil && reply == ReplyACK {
			t.Fatalf("ACK for a rejected frame: %v", err)
		}
		out, aerr := Answer(reply, m, fuzzKeys(), now, &counter{})
		if aerr != nil {
			t.Fatalf("Answer(%s): %v", reply, aerr)
		}
		if reply != ReplyNone {
			if _, err := Parse(out, fuzzKeys(), now, Window{}); err != nil {
				t.Fatalf("reply %q does not parse: %v", out, err)
			}
		}
		if err != nil {
			return
		}
		// Whatever Parse accepts, Encode writes back to the same message.
		var again []byte
		if m.Encrypted {
			again, err = EncodeEncrypted(m, fuzzKey, &counter{})
		} else {
			again, err = Encode(m)
		}
		if err != nil {
			return // Parse tolerates data Encode refuses to write, e.g. '['.
		}
		m2, err := Parse(again, fuzzKeys(), now, fuzzWindow)
		if err != nil {
			t.Fatalf("re-encoded %q: %v", again, err)
		}
		m.Deviations, m2.Deviations = 0, 0
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip changed the message:\n%+v\n%+v", m, m2)
		}
	}
}

func FuzzSplit(f *testing.F) {
	f.Add([]byte(frameA + frameB + "junk" + frameC[:20]))
	f.Fuzz(func(t *testing.T, in []byte) {
		whole := splitAll(t, bytes.NewReader(in))
		byByte := splitAll(t, iotest.OneByteReader(bytes.NewReader(in)))
		if !reflect.DeepEqual(whole, byByte) {
			t.Fatalf("framing depends on read sizes:\n%q\n%q", whole, byByte)
		}
		for _, fr := range whole {
			if len(fr) < 2 || len(fr) > MaxFrameLen || fr[0] != '\n' || fr[len(fr)-1] != '\r' ||
				strings.IndexByte(fr[1:], '\n') >= 0 || strings.IndexByte(fr[:len(fr)-1], '\r') >= 0 {
				t.Fatalf("bad frame %q", fr)
			}
			if !bytes.Contains(in, []byte(fr)) {
				t.Fatalf("frame %q not in input", fr)
			}
		}
	})
}

func splitAll(t *testing.T, r io.Reader) []string {
	t.Helper()
	return scanBuffered(t, r, 16, MaxFrameLen+1)
}
