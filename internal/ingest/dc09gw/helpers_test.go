package dc09gw_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"qorgan/internal/ingest/dc09gw"
	"qorgan/internal/protocol/dc09"
)

// memSink keeps committed frames in memory. It can fail the next commits
// and sleep in each, standing in for a transaction with an fsync.
type memSink struct {
	delay time.Duration
	// spin burns CPU per commit and per frame instead of sleeping, as a
	// transaction without fsync does.
	spin, spinPerFrame time.Duration
	discard            bool         // count frames without keeping them
	fails              atomic.Int32 // commits left to fail
	n                  atomic.Int64

	mu      sync.Mutex
	frames  []dc09gw.Frame
	batches []int
}

var errDiskFull = errors.New("test: disk full")

func (s *memSink) Commit(ctx context.Context, frames []dc09gw.Frame) error {
	if s.delay > 0 {
		time.Sleep(s.delay)
	}
	if s.spin > 0 || s.spinPerFrame > 0 {
		for until := time.Now().Add(s.spin + time.Duration(len(frames))*s.spinPerFrame); time.Now().Before(until); {
		}
	}
	if s.fails.Add(-1) >= 0 {
		return errDiskFull
	}
	s.fails.Store(0)
	if s.discard {
		s.n.Add(int64(len(frames)))
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.frames = append(s.frames, frames...)
	s.batches = append(s.batches, len(frames))
	return nil
}

func (s *memSink) committed() []dc09gw.Frame {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]dc09gw.Frame(nil), s.frames...)
}

func (s *memSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.frames)
}

// accountTable registers accounts: a nil key is a plain account.
type accountTable map[string][]byte

func (a accountTable) Lookup(_ context.Context, account string) (dc09gw.Panel, bool, error) {
	key, ok := a[account]
	return dc09gw.Panel{Key: key}, ok, nil
}

// clock is a receiver clock the test sets.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// logRecorder is a slog handler that keeps the records for the test to
// inspect.
type logRecorder struct {
	mu      sync.Mutex
	records []logRecord
}

type logRecord struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }

func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	rec := logRecord{level: r.Level, msg: r.Message, attrs: map[string]string{}}
	r.Attrs(func(a slog.Attr) bool {
		rec.attrs[a.Key] = a.Value.String()
		return true
	})
	l.mu.Lock()
	l.records = append(l.records, rec)
	l.mu.Unlock()
	return nil
}

// find returns the records whose attributes include all of want.
func (l *logRecorder) find(want map[string]string) []logRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []logRecord
next:
	for _, r := range l.records {
		for k, v := range want {
			if r.attrs[k] != v {
				continue next
			}
		}
		out = append(out, r)
	}
	return out
}

// run runs a receiver (on 127.0.0.1 port 0 and a silent log unless cfg
// says otherwise) until cancel; done then gets what Run returned.
func run(t testing.TB, cfg dc09gw.Config, sink dc09gw.Sink, accounts dc09gw.Accounts) (r *dc09gw.Receiver, cancel context.CancelFunc, done <-chan error) {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	r, err := dc09gw.NewWithSink(cfg, sink, accounts)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- r.Run(ctx) }()
	return r, cancel, ran
}

// start runs a receiver on 127.0.0.1 port 0 until the test ends.
func start(t testing.TB, cfg dc09gw.Config, sink dc09gw.Sink, accounts dc09gw.Accounts) *dc09gw.Receiver {
	t.Helper()
	r, cancel, done := run(t, cfg, sink, accounts)
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("Run did not return after cancel")
		}
	})
	return r
}

// plainFrame builds a plain SIA DCS frame for account with the sequence.
func plainFrame(t testing.TB, account string, seq int, code string) []byte {
	t.Helper()
	b, err := dc09.Encode(dc09.Message{Token: dc09.TokenSIADCS, Sequence: fmt.Sprintf("%04d", seq),
		Prefix: "0", Account: account, Data: "#" + account + "|Nri1/" + code + "001"})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func dialTCP(t testing.TB, addr string) *net.TCPConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn)
}

// connect dials the receiver and reads its replies on that connection.
func connect(t testing.TB, addr string) (*net.TCPConn, *replyReader) {
	t.Helper()
	c := dialTCP(t, addr)
	return c, &replyReader{c: c}
}

// dialFrom connects from a chosen loopback address, to act as another
// source.
func dialFrom(t testing.TB, local, addr string) *net.TCPConn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn)
}

// replyReader reads reply frames from a TCP connection.
type replyReader struct {
	c   net.Conn
	buf []byte
}

// next returns the next reply frame, or an error when none arrives within
// the wait.
func (r *replyReader) next(wait time.Duration) ([]byte, error) {
	r.c.SetReadDeadline(time.Now().Add(wait))
	tmp := make([]byte, 4096)
	for {
		if frame, advance, _ := dc09.Cut(r.buf); frame != nil {
			frame = append([]byte(nil), frame...)
			r.buf = r.buf[advance:]
			return frame, nil
		}
		n, err := r.c.Read(tmp)
		r.buf = append(r.buf, tmp[:n]...)
		if err != nil && n == 0 {
			return nil, err
		}
	}
}

// mustReply reads the next reply and parses it as a plain response.
func (r *replyReader) mustReply(t testing.TB) dc09.Message {
	t.Helper()
	raw, err := r.next(5 * time.Second)
	if err != nil {
		t.Fatalf("no reply: %v", err)
	}
	m, err := dc09.Parse(raw, nil, time.Now(), dc09.Window{})
	if err != nil {
		t.Fatalf("reply %q: %v", raw, err)
	}
	return m
}

// expectSilence checks that nothing arrives for a while.
func (r *replyReader) expectSilence(t testing.TB, wait time.Duration) {
	t.Helper()
	if raw, err := r.next(wait); err == nil {
		t.Fatalf("unexpected reply %q", raw)
	}
}

func write(t testing.TB, c net.Conn, b []byte) {
	t.Helper()
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
}

func wantACK(t testing.TB, m dc09.Message, seq int) {
	t.Helper()
	if m.Token != dc09.TokenACK || m.Sequence != fmt.Sprintf("%04d", seq) {
		t.Fatalf("reply %s %s, want ACK %04d", m.Token, m.Sequence, seq)
	}
}

// waitFor polls until cond holds or the time is up.
func waitFor(t testing.TB, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func framed(b []byte) []byte {
	if bytes.HasPrefix(b, []byte("\n")) && bytes.HasSuffix(b, []byte("\r")) {
		return b
	}
	return []byte("\n" + strings.Trim(string(b), "\n\r") + "\r")
}
