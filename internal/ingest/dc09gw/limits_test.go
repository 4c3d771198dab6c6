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

// proved opens a connection from local and sends one frame, so that the
// receiver counts it as a panel's.
func proved(t *testing.T, local, addr, account string) *net.TCPConn {
	t.Helper()
	c := dialFrom(t, local, addr)
	rr := &replyReader{c: c}
	write(t, c, plainFrame(t, account, 1, "RP"))
	wantACK(t, rr.mustReply(t), 1)
	return c
}

func TestPerSourceLimit(t *testing.T) {
	rec := &logRecorder{}
	r := start(t, dc09gw.Config{MaxConnsPerSource: 3, Logger: slog.New(rec)}, &memSink{}, plainAccounts)
	for range 3 {
		proved(t, "127.0.0.3", r.Addr(), "1234")
	}
	waitFor(t, "three connections", 2*time.Second, func() bool { return r.Stats().Connections == 3 })
	// The fourth from the same source is closed at once: every open one
	// has proved itself…
	refused(t, "127.0.0.3", r.Addr())
	// …while another source is served.
	c := dialFrom(t, "127.0.0.4", r.Addr())
	rr := &replyReader{c: c}
	write(t, c, plainFrame(t, "1234", 1, "PA"))
	wantACK(t, rr.mustReply(t), 1)
	if st := r.Stats(); st.ConnectionsRefused != 1 || st.ConnectionsEvicted != 0 {
		t.Fatalf("stats %+v", st)
	}
	if len(rec.find(map[string]string{"reason": "connection-limit-source"})) != 1 {
		t.Error("refusal not logged")
	}
}

// TestSilentConnectionsDoNotLockOutPanels is the outside review's case: a
// hostile host behind a school's address holds every connection that
// address may open, idle; a real panel behind the same address must still
// get through at once, and the panels that have proved themselves keep
// their connections.
func TestSilentConnectionsDoNotLockOutPanels(t *testing.T) {
	const limit = 512
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < 2*limit+200 {
		t.Skipf("file descriptor limit %d is too low for %d connections at both ends", lim.Cur, limit)
	}
	rec := &logRecorder{}
	r := start(t, dc09gw.Config{MaxConnsPerSource: limit, Logger: slog.New(rec)}, &memSink{}, plainAccounts)
	// Two panels already connected and heard from.
	panels := []*net.TCPConn{proved(t, "127.0.0.1", r.Addr(), "1234"), proved(t, "127.0.0.1", r.Addr(), "5678")}
	// The hostile host fills the rest of the address's connections.
	idle := make([]*net.TCPConn, 0, limit-len(panels))
	for range limit - len(panels) {
		idle = append(idle, dialFrom(t, "127.0.0.1", r.Addr()))
	}
	waitFor(t, "the address's connections", 10*time.Second, func() bool { return r.Stats().Connections == limit })

	// A real panel from the same address connects and is ACKed at once…
	began := time.Now()
	goodPanel(t, r.Addr(), "1234", 5)
	took := time.Since(began)
	st := r.Stats()
	if st.ConnectionsRefused != 0 || st.ConnectionsEvicted != 1 {
		t.Fatalf("want the panel admitted by closing one silent connection, stats %+v", st)
	}
	// …the oldest silent connection was the one closed…
	closedWithin(t, idle[0], 2*time.Second)
	if len(rec.find(map[string]string{"reason": "evicted-unproved"})) != 1 {
		t.Error("eviction not logged")
	}
	// …and the panels heard from before are still connected and served.
	for i, c := range panels {
		rr := &replyReader{c: c}
		write(t, c, plainFrame(t, []string{"1234", "5678"}[i], 2, "BA"))
		wantACK(t, rr.mustReply(t), 2)
	}
	t.Logf("%d connections from one address, %d silent: a new panel's 5 frames ACKed in %s", limit, len(idle), took.Round(time.Millisecond))
}

// TestSilentConnectionClosedEarly: a connection that sends nothing useful
// is closed after FirstFrameTimeout, well before the idle timeout; one
// that has proved itself is kept for the idle timeout.
func TestSilentConnectionClosedEarly(t *testing.T) {
	r := start(t, dc09gw.Config{FirstFrameTimeout: 300 * time.Millisecond, IdleTimeout: 5 * time.Second}, &memSink{}, plainAccounts)
	silent := dialTCP(t, r.Addr())
	// Frames from an unknown account do not prove anything.
	unknown := dialTCP(t, r.Addr())
	write(t, unknown, plainFrame(t, "9999", 1, "PA"))
	panel := proved(t, "127.0.0.1", r.Addr(), "1234")
	if took := closedWithin(t, silent, 3*time.Second); took > 2*time.Second {
		t.Fatalf("silent connection closed after %s", took)
	}
	closedWithin(t, unknown, 3*time.Second)
	time.Sleep(700 * time.Millisecond)
	rr := &replyReader{c: panel}
	write(t, panel, plainFrame(t, "1234", 2, "RP"))
	wantACK(t, rr.mustReply(t), 2)
}

func TestTotalConnectionLimit(t *testing.T) {
	r := start(t, dc09gw.Config{MaxConns: 4}, &memSink{}, plainAccounts)
	for i := range 3 {
		proved(t, fmt.Sprintf("127.0.0.%d", 10+i), r.Addr(), "1234")
	}
	silent := dialFrom(t, "127.0.0.13", r.Addr())
	waitFor(t, "four connections", 2*time.Second, func() bool { return r.Stats().Connections == 4 })
	// A newcomer takes the silent connection's place…
	c := dialFrom(t, "127.0.0.20", r.Addr())
	closedWithin(t, silent, 2*time.Second)
	rr := &replyReader{c: c}
	write(t, c, plainFrame(t, "1234", 1, "PA"))
	wantACK(t, rr.mustReply(t), 1)
	// …and once all four have proved themselves, the next is refused.
	refused(t, "127.0.0.21", r.Addr())
	if st := r.Stats(); st.ConnectionsEvicted != 1 || st.ConnectionsRefused != 1 {
		t.Fatalf("stats %+v", st)
	}
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
	// Silent connections are closed FirstFrameTimeout after they opened:
	// give them longer than opening them all takes.
	r := start(t, dc09gw.Config{FirstFrameTimeout: time.Minute}, &memSink{}, plainAccounts)
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
