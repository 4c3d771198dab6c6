package panel

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"qorgan/internal/protocol/dc09"
)

// fakeReceiver answers DC-09 with the codec alone, so that the simulator
// is tested without the gateway. It can stay silent for the first
// transmission of each frame and answer encrypted frames in plain.
type fakeReceiver struct {
	keys      dc09.Keys
	dropFirst bool // ignore the first transmission of each frame
	silent    bool // never answer
	plainACKs bool // answer encrypted frames with a plain ACK (wrong)
	// addReceiver echoes a receiver field the frame did not have: a valid
	// ACK with the right sequence and account, but not the exact bytes.
	addReceiver bool
	delay       time.Duration // wait this long before each answer

	mu       sync.Mutex
	received [][]byte
	seen     map[string]bool
}

func (f *fakeReceiver) reply(frame []byte) []byte {
	f.mu.Lock()
	f.received = append(f.received, append([]byte(nil), frame...))
	first := !f.seen[string(frame)]
	f.seen[string(frame)] = true
	f.mu.Unlock()
	if f.silent || f.dropFirst && first {
		return nil
	}
	time.Sleep(f.delay)
	now := time.Now()
	m, err := dc09.Parse(frame, f.keys, now, dc09.Window{})
	reply := dc09.Decide(m, err)
	if f.addReceiver {
		m.Receiver = "1"
	}
	if f.plainACKs && reply == dc09.ReplyACK {
		return dc09.ACK(m)
	}
	out, err := dc09.Answer(reply, m, f.keys, now, rand.Reader)
	if err != nil {
		return nil
	}
	return out
}

func (f *fakeReceiver) frames() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]byte(nil), f.received...)
}

func startFake(t *testing.T, f *fakeReceiver, transport string) string {
	t.Helper()
	f.seen = map[string]bool{}
	if transport == "udp" {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pc.Close() })
		go func() {
			buf := make([]byte, 8192)
			for {
				n, from, err := pc.ReadFrom(buf)
				if err != nil {
					return
				}
				if out := f.reply(buf[:n]); out != nil {
					pc.WriteTo(out, from)
				}
			}
		}()
		return pc.LocalAddr().String()
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns sync.WaitGroup
	t.Cleanup(func() {
		l.Close()
		conns.Wait()
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns.Go(func() {
				defer c.Close()
				go func() { // end the read when the test ends
					<-t.Context().Done()
					c.Close()
				}()
				sc := bufio.NewScanner(c)
				sc.Split(dc09.SplitFrames)
				for sc.Scan() {
					if out := f.reply(sc.Bytes()); out != nil {
						c.Write(out)
					}
				}
			})
		}
	}()
	return l.Addr().String()
}

func TestRunTCP(t *testing.T) {
	f := &fakeReceiver{}
	addr := startFake(t, f, "tcp")
	var out bytes.Buffer
	rep, err := Run(t.Context(), Config{Addr: addr, Panels: 5, Count: 60,
		Codes: []string{"BA", "1120 01 005", "NULL", "Nri2/PA501"}}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Frames != 60 || rep.ACK != 60 || rep.Transmissions != 60 || rep.NoAnswer != 0 || rep.BadReplies != 0 {
		t.Fatalf("report %+v", rep)
	}
	if rep.LatencyMax <= 0 || rep.LatencyP50 > rep.LatencyP99 || rep.FramesPerSecond <= 0 {
		t.Fatalf("latencies %+v", rep)
	}
	if !strings.Contains(out.String(), "60 ACK") {
		t.Errorf("report text %q", out.String())
	}

	// Each panel numbers its frames 0001, 0002… and cycles the codes.
	next := map[string]int{}
	tokens := map[dc09.Token]int{}
	for _, raw := range f.frames() {
		m, err := dc09.Parse(raw, nil, time.Now(), dc09.Window{})
		if err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
		next[m.Account]++
		if want := fmtSeq(next[m.Account]); m.Sequence != want {
			t.Errorf("account %s sequence %s, want %s", m.Account, m.Sequence, want)
		}
		if m.Timestamp.IsZero() {
			t.Errorf("%q has no timestamp", raw)
		}
		tokens[m.Token]++
	}
	// The count is shared: each panel sends while frames are left, so a
	// panel scheduled late may send none; no frame comes from a sixth.
	for acct := range next {
		if acct < "000001" || acct > "000005" {
			t.Errorf("frame from account %s, not one of the 5 panels: %v", acct, next)
		}
	}
	if tokens[dc09.TokenSIADCS] == 0 || tokens[dc09.TokenADMCID] == 0 || tokens[dc09.TokenNULL] == 0 {
		t.Errorf("tokens %v", tokens)
	}
}

func TestRetransmitsSameBytes(t *testing.T) {
	for _, transport := range []string{"tcp", "udp"} {
		t.Run(transport, func(t *testing.T) {
			key := bytes.Repeat([]byte{0xAB}, 16)
			f := &fakeReceiver{dropFirst: true, keys: dc09.Keys{"000001": key, "000002": key}}
			addr := startFake(t, f, transport)
			rep, err := Run(t.Context(), Config{Addr: addr, Transport: transport, Panels: 2, Count: 6,
				AckTimeout: 100 * time.Millisecond, KeyHex: strings.Repeat("ab", 16)}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Frames != 6 || rep.Transmissions != 12 || rep.ACK != 6 {
				t.Fatalf("report %+v", rep)
			}
			// Every frame went out twice, byte for byte.
			counts := map[string]int{}
			for _, raw := range f.frames() {
				counts[string(raw)]++
			}
			for raw, n := range counts {
				if n != 2 {
					t.Errorf("%q sent %d times", raw, n)
				}
			}
		})
	}
}

func TestNoAnswer(t *testing.T) {
	f := &fakeReceiver{silent: true}
	addr := startFake(t, f, "tcp")
	rep, err := Run(t.Context(), Config{Addr: addr, Count: 2, AckTimeout: 50 * time.Millisecond, Attempts: 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Frames != 2 || rep.Transmissions != 6 || rep.NoAnswer != 2 || rep.ACK != 0 {
		t.Fatalf("report %+v", rep)
	}
}

func TestEncryptedUDP(t *testing.T) {
	for _, key := range []string{"0123456789abcdef", "0123456789abcdef01234567", "0123456789abcdef0123456789abcdef"} {
		f := &fakeReceiver{keys: dc09.Keys{}}
		for i := 1; i <= 3; i++ {
			f.keys[fmtAccount(i)] = []byte(key)
		}
		addr := startFake(t, f, "udp")
		rep, err := Run(t.Context(), Config{Addr: addr, Transport: "udp", Panels: 3, Count: 9, KeyText: key}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if rep.ACK != 9 || rep.BadReplies != 0 || !rep.Encrypted {
			t.Fatalf("%d-byte key: report %+v", len(key), rep)
		}
	}
}

func fmtAccount(i int) string { return "00000" + string(rune('0'+i)) }

func TestPlainACKToEncryptedFrameIsBad(t *testing.T) {
	key := "0123456789abcdef"
	f := &fakeReceiver{keys: dc09.Keys{"000001": []byte(key)}, plainACKs: true}
	addr := startFake(t, f, "tcp")
	rep, err := Run(t.Context(), Config{Addr: addr, Count: 1, KeyText: key, AckTimeout: 50 * time.Millisecond, Attempts: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.ACK != 0 || rep.BadReplies != 2 || rep.NoAnswer != 1 {
		t.Fatalf("report %+v", rep)
	}
}

func TestNAK(t *testing.T) {
	// The receiver has no key for the account: it NAKs.
	f := &fakeReceiver{keys: dc09.Keys{}}
	addr := startFake(t, f, "tcp")
	rep, err := Run(t.Context(), Config{Addr: addr, Count: 3, KeyText: "0123456789abcdef"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.NAK != 3 || rep.ACK != 0 || rep.Transmissions != 3 {
		t.Fatalf("report %+v", rep)
	}
}

func TestRateAndDuration(t *testing.T) {
	f := &fakeReceiver{}
	addr := startFake(t, f, "tcp")
	var out bytes.Buffer
	rep, err := Run(t.Context(), Config{Addr: addr, Panels: 4, Rate: 100, Duration: 500 * time.Millisecond,
		Progress: 200 * time.Millisecond}, &out)
	if err != nil {
		t.Fatal(err)
	}
	// 100 frames/s for half a second; generous bounds for a busy machine.
	if rep.Frames < 25 || rep.Frames > 60 || rep.ACK != rep.Frames {
		t.Fatalf("report %+v", rep)
	}
	if !strings.Contains(out.String(), "frames/s") {
		t.Errorf("no progress lines in %q", out.String())
	}
}

func TestAbort(t *testing.T) {
	f := &fakeReceiver{silent: true}
	addr := startFake(t, f, "tcp")
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	began := time.Now()
	rep, err := Run(ctx, Config{Addr: addr, Panels: 3, Duration: time.Minute, AckTimeout: 10 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took > 3*time.Second {
		t.Fatalf("Run took %s after the context ended", took)
	}
	if rep.Frames != 3 || rep.NoAnswer != 0 {
		t.Fatalf("report %+v", rep)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{Addr: "x:1"},
		{Addr: "x:1", Count: 1, Transport: "sctp"},
		{Addr: "x:1", Count: 1, Codes: []string{"hello"}},
		{Addr: "x:1", Count: 1, Codes: []string{"1120 01"}},
		{Addr: "x:1", Count: 1, Accounts: []string{"XYZ"}},
		{Addr: "x:1", Count: 1, Panels: 2, Accounts: []string{"123"}},
		{Addr: "x:1", Count: 1, AccountPattern: "school-%d"},
		{Addr: "x:1", Count: 1, KeyHex: "00", KeyText: "0123456789abcdef"},
		{Addr: "x:1", Count: 1, KeyHex: "abc"},
		{Addr: "x:1", Count: 1, KeyText: "short"},
	} {
		if _, err := Run(t.Context(), cfg, nil); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
}

func TestSequenceWraps(t *testing.T) {
	if nextSequence(9999) != 1 || nextSequence(0) != 1 || nextSequence(41) != 42 {
		t.Fatal("sequence does not step through 0001–9999")
	}
	if fmtSeq(7) != "0007" || fmtSeq(9999) != "9999" {
		t.Fatal("fmtSeq")
	}
}

func TestPercentiles(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	p50, p90, p99, top := percentiles(d)
	if p50 != 50*time.Millisecond || p90 != 90*time.Millisecond || p99 != 99*time.Millisecond || top != 100*time.Millisecond {
		t.Fatalf("%s %s %s %s", p50, p90, p99, top)
	}
}

func TestWrongACKBytesCounted(t *testing.T) {
	const hexKey = "000102030405060708090A0B0C0D0E0F"
	key, _ := dc09.ParseKeyHex(hexKey)
	for _, c := range []struct {
		name   string
		f      *fakeReceiver
		keyHex string
		wrong  int64
	}{
		{"plain exact", &fakeReceiver{}, "", 0},
		{"plain extra field", &fakeReceiver{addReceiver: true}, "", 6},
		{"encrypted exact", &fakeReceiver{keys: dc09.Keys{"000001": key, "000002": key}}, hexKey, 0},
		{"encrypted extra field", &fakeReceiver{keys: dc09.Keys{"000001": key, "000002": key}, addReceiver: true}, hexKey, 6},
	} {
		t.Run(c.name, func(t *testing.T) {
			addr := startFake(t, c.f, "tcp")
			rep, err := Run(t.Context(), Config{Addr: addr, Panels: 2, Count: 6, KeyHex: c.keyHex, Codes: []string{"BA", "NULL"}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if rep.ACK != 6 || rep.WrongACKs != c.wrong || rep.BadReplies != 0 {
				t.Fatalf("want 6 ACK, %d not exact: %+v", c.wrong, rep)
			}
		})
	}
}

func TestLatencyFromSchedule(t *testing.T) {
	// One panel meant to send every 10 ms to a receiver that answers after
	// 30 ms: each frame leaves later than planned, and only the latency from
	// the schedule shows it.
	run := func(fromSchedule bool) Report {
		addr := startFake(t, &fakeReceiver{delay: 30 * time.Millisecond}, "tcp")
		var mu sync.Mutex
		var told, lags []time.Duration
		rep, err := Run(t.Context(), Config{Addr: addr, Panels: 1, Rate: 100, Count: 20, FromSchedule: fromSchedule,
			Answered: func(_ time.Time, d time.Duration) {
				mu.Lock()
				told = append(told, d)
				mu.Unlock()
			},
			Written: func(_ time.Time, lag time.Duration) {
				mu.Lock()
				lags = append(lags, lag)
				mu.Unlock()
			}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if rep.ACK != 20 {
			t.Fatalf("%+v", rep)
		}
		// Answered hears of every answer, with the latency the report counts.
		if len(told) != 20 || slices.Max(told) != rep.LatencyMax {
			t.Fatalf("Answered told of %d answers, max %v; the report: 20, max %s", len(told), told, rep.LatencyMax)
		}
		// Written hears of each frame's lateness from its schedule, only
		// when latency runs from the schedule: here the frames wait for
		// the slow answers, so the last goes about 20 × 20 ms late, and
		// the latency from the schedule is at least that lag.
		switch {
		case !fromSchedule && len(lags) != 0:
			t.Fatalf("Written told of %d frames without a schedule", len(lags))
		case fromSchedule && (len(lags) != 20 || lags[19] < 300*time.Millisecond || lags[19] > told[19]):
			t.Fatalf("Written told of %v; want 20, the last about 400 ms late and under its latency %s", lags, told[len(told)-1])
		}
		return rep
	}
	if rep := run(false); rep.LatencyMax > 250*time.Millisecond {
		t.Fatalf("from transmission: max %s, want about 30 ms", rep.LatencyMax)
	}
	if rep := run(true); rep.LatencyMax < 300*time.Millisecond {
		t.Fatalf("from schedule: max %s, want the backlog (about 20 × 20 ms)", rep.LatencyMax)
	}
}
