package dc09gw_test

import (
	"bytes"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"qorgan/internal/ingest/dc09gw"
	"qorgan/internal/protocol/dc09"
	"qorgan/internal/protocol/dc09/dc09vectors"
)

// vector is the part of an entry of internal/protocol/dc09/testdata/dc09-vectors.json the
// receiver test needs.
type vector struct {
	dc09vectors.Head
	Expected struct {
		Account      *string `json:"account"`
		DataAccount  *string `json:"data_account"`
		TimestampUTC string  `json:"timestamp_utc_iso"`
		Cases        []struct {
			OffsetS   int   `json:"offset_s"`
			Encrypted *bool `json:"encrypted"`
			Outside   bool  `json:"outside"`
		} `json:"cases"`
	} `json:"expected"`
}

func loadVectors(t *testing.T) []vector {
	t.Helper()
	return dc09vectors.Load[vector](t, "../../protocol/dc09/testdata/dc09-vectors.json")
}

// clock is the receiver time for a vector, as in the codec's vector test:
// the frame's own timestamp, or a fixed day.
func (v vector) clock(t *testing.T) time.Time {
	if v.Expected.TimestampUTC == "" {
		return time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	}
	ts, err := time.Parse(time.RFC3339, v.Expected.TimestampUTC)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// wantReply is the codec vector test's mapping of category to the reply a
// correct receiver gives.
func wantReply(category string) (dc09.Reply, bool) {
	switch category {
	case "valid", "tolerance":
		return dc09.ReplyACK, true
	case "invalid-crc", "invalid-length", "encrypted-key-unknown":
		return dc09.ReplyNAK, true
	case "invalid-format", "non-dc09", "response":
		return dc09.ReplyNone, true
	}
	return 0, false
}

var vectorKey = []byte("AAAAAAAAAAAAAAAA")

// vectorAccounts registers what the vectors need: every account of a
// valid frame, the keyed ones with their key. AAA is registered plain, so
// its encrypted frames fail for want of a key; 123F and EA1984 are not
// registered at all. Both must be NAKed.
func vectorAccounts(t *testing.T, vectors []vector) accountTable {
	accounts := accountTable{"0F0F": nil, "AAA": nil}
	for _, v := range vectors {
		if v.Category != "valid" && v.Category != "tolerance" {
			continue
		}
		var key []byte
		if v.Key != nil {
			k, err := dc09.ParseKeyHex(*v.Key)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(k, vectorKey) {
				t.Fatalf("%s: unexpected key", v.Name)
			}
			key = k
		}
		for _, a := range []*string{v.Expected.Account, v.Expected.DataAccount} {
			if a != nil {
				accounts[strings.ToUpper(*a)] = key
			}
		}
	}
	return accounts
}

// probe is a plain frame from a registered account, sent after each
// vector: its ACK proves that the receiver answered everything before it.
func probe(t *testing.T, seq int) []byte {
	return plainFrame(t, "0F0F", seq, "RP")
}

func TestVectorsTCP(t *testing.T) {
	testVectors(t, "tcp")
}

func TestVectorsUDP(t *testing.T) {
	testVectors(t, "udp")
}

func testVectors(t *testing.T, transport string) {
	vectors := loadVectors(t)
	var clk clock
	sink := &memSink{}
	r := start(t, dc09gw.Config{Now: clk.Now}, sink, vectorAccounts(t, vectors))
	keys := dc09.Keys{"AAAB": vectorKey, "1111": vectorKey}

	for i, v := range vectors {
		t.Run(v.Name, func(t *testing.T) {
			if v.Category == "rule" {
				testWindowRule(t, r, &clk, sink, transport)
				return
			}
			want, ok := wantReply(v.Category)
			if !ok {
				t.Fatalf("no reply mapping for category %q", v.Category)
			}
			now := v.clock(t)
			clk.Set(now)
			before := sink.count()
			in := v.Input()
			if transport == "tcp" {
				// A TCP stream needs the LF…CR framing to be cut at all.
				in = framed(in)
			}
			seq := 1000 + i
			replies := sendWithProbe(t, transport, r.Addr(), in, probe(t, seq), want != dc09.ReplyNone)

			var got []byte
			switch len(replies) {
			case 0:
			case 1:
				got = replies[0]
			default:
				t.Fatalf("%d replies: %q", len(replies), replies)
			}
			if want == dc09.ReplyNone {
				if got != nil {
					t.Fatalf("reply %q, want none", got)
				}
				if n := sink.count() - before; n != 1 {
					t.Fatalf("%d frames committed, want only the probe", n)
				}
				return
			}
			if got == nil {
				t.Fatalf("no reply, want %s", want)
			}
			m, err := dc09.Parse(got, keys, now, dc09.Window{})
			if err != nil {
				t.Fatalf("reply %q: %v", got, err)
			}
			committed := sink.count() - before - 1
			switch want {
			case dc09.ReplyNAK:
				nak := dc09.NAK(now)
				if !bytes.Equal(got, nak) {
					t.Fatalf("reply %q, want %q", got, nak)
				}
				if committed != 0 {
					t.Fatalf("a NAKed frame was committed")
				}
			case dc09.ReplyACK:
				if m.Token != dc09.TokenACK {
					t.Fatalf("reply %q, want ACK", got)
				}
				if v.ACKSpecComputed != "" && string(got) != v.ACKSpecComputed {
					t.Fatalf("reply %q, want %q", got, v.ACKSpecComputed)
				}
				if v.Key != nil && (!m.Encrypted || !m.Timestamp.Equal(now.Truncate(time.Second))) {
					t.Fatalf("*ACK %q: encrypted %v time %s, want encrypted at %s", got, m.Encrypted, m.Timestamp, now)
				}
				if committed != 1 {
					t.Fatalf("%d frames committed, want 1", committed)
				}
				found := false
				for _, f := range sink.committed()[before:] {
					found = found || bytes.Equal(f.Raw, in) && f.Transport == transport
				}
				if !found {
					t.Fatalf("%q not committed as received over %s", in, transport)
				}
			}
		})
	}
}

// sendWithProbe sends a vector and then the probe, and returns the
// replies other than the probe's ACK. Over UDP, when the vector expects an
// answer, it returns as soon as both have come.
func sendWithProbe(t *testing.T, transport, addr string, in, probeFrame []byte, answered bool) [][]byte {
	t.Helper()
	pm, _ := dc09.Parse(probeFrame, nil, time.Time{}, dc09.Window{})
	isProbeACK := func(b []byte) bool {
		m, err := dc09.Parse(b, nil, time.Time{}, dc09.Window{})
		return err == nil && m.Token == dc09.TokenACK && m.Account == "0F0F" && m.Sequence == pm.Sequence
	}
	var others [][]byte
	if transport == "tcp" {
		c := dialTCP(t, addr)
		write(t, c, in)
		write(t, c, probeFrame)
		rr := &replyReader{c: c}
		for {
			b, err := rr.next(5 * time.Second)
			if err != nil {
				t.Fatalf("waiting for the probe's ACK: %v", err)
			}
			if isProbeACK(b) {
				return others
			}
			others = append(others, b)
		}
	}
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	write(t, c, in)
	write(t, c, probeFrame)
	// Datagrams are handled concurrently: the vector's answer may follow
	// the probe's, so listen a little longer once the probe is answered.
	deadline := time.Now().Add(5 * time.Second)
	probed := false
	for {
		c.SetReadDeadline(deadline)
		b := make([]byte, 8192)
		n, err := c.Read(b)
		if err != nil {
			if !probed {
				t.Fatalf("waiting for the probe's ACK: %v", err)
			}
			return others
		}
		if isProbeACK(b[:n]) {
			probed = true
			deadline = time.Now().Add(150 * time.Millisecond)
		} else {
			others = append(others, b[:n])
		}
		if probed && answered && len(others) > 0 {
			return others
		}
	}
}

// testWindowRule sends encrypted frames at each offset of the rule vector
// from the receiver clock: −40 s/+20 s pass, beyond is NAKed with the
// receiver's time. The plain case comes from a plain account: the
// receiver refuses plain frames from an account that has a key.
func testWindowRule(t *testing.T, r *dc09gw.Receiver, clk *clock, sink *memSink, transport string) {
	now := time.Date(2020, 7, 9, 16, 4, 10, 0, time.UTC)
	clk.Set(now)
	for i, c := range []struct {
		OffsetS   int
		Encrypted bool
		Outside   bool
	}{{-41, true, true}, {21, true, true}, {-39, true, false}, {-3600, false, false}, {20, true, false}, {-40, true, false}} {
		account := "1111"
		m := dc09.Message{Token: dc09.TokenSIADCS, Sequence: fmt.Sprintf("%04d", 7000+i), Prefix: "0",
			Account: account, Data: "#1111|Nri1/PA501", Timestamp: now.Add(time.Duration(c.OffsetS) * time.Second)}
		var frame []byte
		var err error
		if c.Encrypted {
			frame, err = dc09.EncodeEncrypted(m, vectorKey, bytes.NewReader(make([]byte, 32)))
		} else {
			m.Account, m.Data = "1234", "#1234|Nri1/PA501"
			frame, err = dc09.Encode(m)
		}
		if err != nil {
			t.Fatal(err)
		}
		before := sink.count()
		replies := sendWithProbe(t, transport, r.Addr(), frame, probe(t, 7100+i), true)
		if len(replies) != 1 {
			t.Fatalf("offset %d s: %d replies", c.OffsetS, len(replies))
		}
		got, err := dc09.Parse(replies[0], dc09.Keys{"1111": vectorKey}, now, dc09.Window{})
		if err != nil {
			t.Fatalf("offset %d s: reply %q: %v", c.OffsetS, replies[0], err)
		}
		if c.Outside {
			if want := dc09.NAK(now); !bytes.Equal(replies[0], want) {
				t.Errorf("offset %d s: reply %q, want %q", c.OffsetS, replies[0], want)
			}
			if sink.count()-before != 1 {
				t.Errorf("offset %d s: NAKed frame committed", c.OffsetS)
			}
			continue
		}
		if got.Token != dc09.TokenACK || got.Encrypted != c.Encrypted || got.Sequence != m.Sequence {
			t.Errorf("offset %d s: reply %q, want ACK %s", c.OffsetS, replies[0], m.Sequence)
		}
		if sink.count()-before != 2 {
			t.Errorf("offset %d s: frame not committed", c.OffsetS)
		}
	}
}
