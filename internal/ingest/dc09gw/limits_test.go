package dc09gw_test

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"syscall"
	"testing"
	"time"

	"qorgan/internal/ingest/dc09gw"
	"qorgan/internal/sim/panel"
)

// goodPanel runs one simulated panel against the receiver and checks that
// every frame was ACKed.
func goodPanel(t *testing.T, addr, account string, count int) panel.Report {
	t.Helper()
	rep, err := panel.Run(t.Context(), panel.Config{Addr: addr, Accounts: []string{account}, Count: count,
		Codes: []string{"PA", "1120 01 005", "NULL"}, AckTimeout: 2 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.ACK != int64(count) || rep.Transmissions != int64(count) {
		t.Fatalf("good panel: %s", rep)
	}
	return rep
}

// refused dials from a source and checks that the receiver closes the
// connection at once; the reset may already fail the dial.
func refused(t *testing.T, local, addr string) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Fatal(err)
		}
		return
	}
	defer c.Close()
	closedWithin(t, c, 2*time.Second)
}

// closedWithin waits for the server to close c.
func closedWithin(t *testing.T, c net.Conn, within time.Duration) time.Duration {
	t.Helper()
	began := time.Now()
	c.SetReadDeadline(began.Add(within))
	_, err := io.ReadAll(c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("connection still open after %s", within)
	}
	return time.Since(began)
}

func TestIdleTimeoutCloses(t *testing.T) {
	r := start(t, dc09gw.Config{IdleTimeout: 200 * time.Millisecond}, &memSink{}, plainAccounts)
	c := dialTCP(t, r.Addr())
	closedWithin(t, c, 3*time.Second)
	waitFor(t, "the connection count to drop", 2*time.Second, func() bool { return r.Stats().Connections == 0 })

	// A connection that keeps delivering frames stays open past it.
	c = dialTCP(t, r.Addr())
	rr := &replyReader{c: c}
	for seq := 1; seq <= 4; seq++ {
		time.Sleep(100 * time.Millisecond)
		write(t, c, plainFrame(t, "1234", seq, "RP"))
		wantACK(t, rr.mustReply(t), seq)
	}
}

func TestPerSourceLimit(t *testing.T) {
	rec := &logRecorder{}
	r := start(t, dc09gw.Config{MaxConnsPerSource: 3, Logger: slog.New(rec)}, &memSink{}, plainAccounts)
	for range 3 {
		dialFrom(t, "127.0.0.3", r.Addr())
	}
	waitFor(t, "three connections", 2*time.Second, func() bool { return r.Stats().Connections == 3 })
	// The fourth from the same source is closed at once…
	refused(t, "127.0.0.3", r.Addr())
	// …while another source is served.
	c := dialFrom(t, "127.0.0.4", r.Addr())
	rr := &replyReader{c: c}
	write(t, c, plainFrame(t, "1234", 1, "PA"))
	wantACK(t, rr.mustReply(t), 1)
	if st := r.Stats(); st.ConnectionsRefused != 1 {
		t.Fatalf("stats %+v", st)
	}
	if len(rec.find(map[string]string{"reason": "connection-limit-source"})) != 1 {
		t.Error("refusal not logged")
	}
}

func TestTotalConnectionLimit(t *testing.T) {
	r := start(t, dc09gw.Config{MaxConns: 4}, &memSink{}, plainAccounts)
	for i := range 4 {
		dialFrom(t, fmt.Sprintf("127.0.0.%d", 10+i), r.Addr())
	}
	waitFor(t, "four connections", 2*time.Second, func() bool { return r.Stats().Connections == 4 })
	refused(t, "127.0.0.20", r.Addr())
}

func TestSlowDripDoesNotBlockOthers(t *testing.T) {
	r := start(t, dc09gw.Config{IdleTimeout: time.Second}, &memSink{}, plainAccounts)
	drip := dialFrom(t, "127.0.0.5", r.Addr())
	stopped := make(chan time.Duration, 1)
	began := time.Now()
	go func() {
		// One byte every 20 ms, a frame that never ends.
		b := append([]byte("\n"), plainFrame(t, "1234", 1, "PA")[1:]...)
		for i := 0; ; i++ {
			if _, err := drip.Write([]byte{b[i%(len(b)-1)]}); err != nil {
				stopped <- time.Since(began)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	goodPanel(t, r.Addr(), "5678", 20)
	select {
	case took := <-stopped:
		if took < 900*time.Millisecond {
			t.Fatalf("drip cut after %s, before the idle timeout", took)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("slow-drip connection still open well past the idle timeout")
	}
}

func TestThousandsOfIdleConnections(t *testing.T) {
	want := 2000
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < uint64(2*want+200) {
		// Both ends live in this process: two descriptors per connection.
		want = int(lim.Cur-200) / 2
		t.Logf("file descriptor limit %d: %d idle connections instead of 2000", lim.Cur, want)
	}
	if want < 100 {
		t.Skip("too few file descriptors")
	}
	r := start(t, dc09gw.Config{}, &memSink{}, plainAccounts)
	// Spread over 50 source addresses to stay under the per-source limit.
	for i := range want {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 1, byte(i%50+1))}}
		c, err := d.Dial("tcp", r.Addr())
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		t.Cleanup(func() { c.Close() })
	}
	waitFor(t, "the idle connections", 10*time.Second, func() bool { return r.Stats().Connections == int64(want) })
	rep := goodPanel(t, r.Addr(), "1234", 50)
	t.Logf("%d idle connections; good panel: ACK p50 %s, max %s", want, rep.LatencyP50, rep.LatencyMax)
}

func TestEncryptedKeys(t *testing.T) {
	for _, transport := range []string{"tcp", "udp"} {
		for _, hexKey := range []string{
			"000102030405060708090A0B0C0D0E0F",
			"000102030405060708090A0B0C0D0E0F1011121314151617",
			"000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
		} {
			t.Run(fmt.Sprintf("%s/%d-bit", transport, len(hexKey)*4), func(t *testing.T) {
				key, err := hex.DecodeString(hexKey)
				if err != nil {
					t.Fatal(err)
				}
				accounts := accountTable{}
				for i := 1; i <= 3; i++ {
					accounts[fmt.Sprintf("E%05d", i)] = key
				}
				sink := &memSink{}
				r := start(t, dc09gw.Config{}, sink, accounts)
				rep, err := panel.Run(t.Context(), panel.Config{Addr: r.Addr(), Transport: transport, Panels: 3,
					AccountPattern: "E%05d", KeyHex: hexKey, Count: 15,
					Codes: []string{"PA", "1121 01 002", "NULL"}}, nil)
				if err != nil {
					t.Fatal(err)
				}
				// The simulator counts an ACK only when the *ACK decrypts
				// with its key and echoes its frame.
				if rep.ACK != 15 || rep.BadReplies != 0 || rep.Transmissions != 15 {
					t.Fatalf("%s", rep)
				}
				for _, f := range sink.committed() {
					if !f.Message.Encrypted || f.Transport != transport {
						t.Fatalf("committed %+v", f)
					}
				}
			})
		}
	}
}

func TestUDPPanels(t *testing.T) {
	sink := &memSink{}
	r := start(t, dc09gw.Config{}, sink, plainAccounts)
	rep, err := panel.Run(t.Context(), panel.Config{Addr: r.Addr(), Transport: "udp",
		Accounts: []string{"1234", "5678", "ABCDEF"}, Count: 60}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.ACK != 60 || sink.count() != 60 {
		t.Fatalf("%s; %d committed", rep, sink.count())
	}
}
