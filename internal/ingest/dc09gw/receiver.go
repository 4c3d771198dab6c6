// Package dc09gw is the SIA DC-09 way in for alarms: it listens on TCP and
// UDP, cuts the traffic into frames, checks them with the dc09 codec
// against the panel the registry has for the account (looked up once per
// frame, see Devices), hands the accepted ones to the alarm domain in
// group commits (see Alarms) and answers each panel only after its frame
// is durable. What makes a retry the same message (Frame.Content,
// RetransmissionWindow) is decided here, as DC-09 defines it.
package dc09gw

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"qorgan/internal/config"
	"qorgan/internal/ingest/ratelog"
	"qorgan/internal/protocol/dc09"
	"qorgan/internal/registry"
	"qorgan/internal/urgent"
)

// Frame is one accepted DC-09 message, to be stored durably.
type Frame struct {
	Account    string          // upper-case account (dc09.Message.AccountID())
	Device     registry.Device // the panel registered for Account: the commit's sender
	Message    dc09.Message
	Raw        []byte // the frame as received
	Remote     string // source address
	Transport  string // "tcp" or "udp"
	ReceivedAt time.Time
	// Reply is what the panel will be told once the frame is committed:
	// dc09.ReplyACK, or dc09.ReplyDUH for a code the receiver does not know.
	Reply dc09.Reply
}

// Content is what makes another frame the same message as this one,
// together with the account and the sequence number: the token, the
// receiver and line prefix, the data and the extended data, decrypted.
// The timestamp is left out, since a panel may stamp a retry anew (an
// encrypted panel must, once its first attempt is outside the receiver's
// window), and so is an encrypted frame's pad, which is new each time.
func (f Frame) Content() []byte {
	m := f.Message
	b := make([]byte, 0, 32+len(m.Data))
	field := func(s string) {
		b = strconv.AppendInt(b, int64(len(s)), 10)
		b = append(b, ':')
		b = append(b, s...)
	}
	field(string(m.Token))
	field(m.Receiver)
	field(m.Prefix)
	field(m.Data)
	for _, x := range m.XData {
		field(x.String())
	}
	return b
}

// RetransmissionWindow is how long after a frame another one with the same
// account, sequence number and Content is its retransmission: acknowledged
// again, stored and raised once. Later, the same three are a new message:
// the panel's sequence number has come round again.
//
// DC-09 keeps the sequence number of a retransmission; it is how the panel
// pairs an ACK with what it sent. A panel retries for seconds to a few
// minutes before it reports a communication fault or turns to its backup
// path (panel manuals give a retry every 3–15 s for one minute, or a fault
// after 60–480 s, 240 s by default), and an encrypted panel re-stamps a
// retry that the receiver refused for its clock. Ten minutes is more than
// twice the longest of these. It is also far shorter than the panel's
// numbering takes to come round: 9,999 messages in ten minutes would be 16
// a second from one account, which no panel sends (supervision NULLs carry
// 0000 and are not stored). Too long a window would fold a new event into
// an old one — a panel that restarted its numbering and sent the very same
// event under the same number within the window, while the first alarm is
// still being handled; too short a window makes a late retry a second
// alarm. The window is measured on the receiver's clock, from the copy
// stored first.
const RetransmissionWindow = 10 * time.Minute

// Sink stores frames. Commit must make every frame durable (one transaction
// for the whole batch is the point) before returning; the receiver sends
// ACK/DUH only after Commit returns nil. It must store all of the batch or
// none of it: when it fails, the receiver commits the frames again in
// parts, to answer all but the ones that fail alone. A retransmitted frame
// (same account, sequence and Content within RetransmissionWindow) must be
// stored once and still be acknowledged again: that is the Sink's job.
type Sink interface {
	Commit(ctx context.Context, frames []Frame) error
}

// PipelinedSink is a Sink whose commit can return before the batch is on
// disk: CommitThen returns when the batch is committed and durable when it
// is on disk. The receiver then builds and commits its next batch while
// the last one is being synced, and answers a batch's frames only once
// its durable has returned nil (in commit order). A CommitThen error is
// handled as a Commit error is; a durable error leaves the batch's frames
// unanswered, for the panels to retransmit.
type PipelinedSink interface {
	Sink
	CommitThen(ctx context.Context, frames []Frame) (durable func() error, err error)
}

// Accounts tells whether an account is registered and gives its panel.
type Accounts interface {
	Lookup(ctx context.Context, account string) (p Panel, known bool, err error)
}

// Panel is the device registered for a DC-09 account, with its key (nil
// for a plain account).
type Panel struct {
	Device registry.Device
	Key    []byte
}

// Config tunes the receiver. The zero value of every field means its
// default.
type Config struct {
	// Addr is the host:port listened on for both TCP and UDP.
	// Default "127.0.0.1:10001". With port 0, both get the same free port.
	Addr string
	// IdleTimeout closes a TCP connection that delivers no complete frame
	// for this long. Bytes that never make a frame do not count, so a
	// slow-drip connection is closed too. Default 90 s.
	IdleTimeout time.Duration
	// FirstFrameTimeout closes a TCP connection that has not proved itself
	// (see MaxConnsPerSource) this long after it was opened: a panel sends
	// its frame as soon as it connects, so a connection that stays silent
	// is holding a place it does not use. Default 10 s.
	FirstFrameTimeout time.Duration
	// WriteTimeout bounds the write of a reply. Default 10 s.
	WriteTimeout time.Duration
	// MaxConnsPerSource limits open TCP connections from one IP. Default 64.
	// A connection proves itself with its first frame from a registered
	// account (one queued for commit, to be answered ACK or DUH). When the
	// limit is reached, the oldest connection from that address that has
	// not proved itself is closed to make room; only when every one of
	// them has proved itself is the newcomer refused. Silent connections
	// therefore never lock the real panels behind a shared address out.
	MaxConnsPerSource int
	// MaxConns limits open TCP connections in total, with the same
	// preference for proved connections (the oldest unproved one anywhere
	// makes room). Default 10,000.
	MaxConns int
	// MaxUDPInFlight limits UDP datagrams being handled at once; more are
	// dropped (the panel retransmits). Default 1,024.
	MaxUDPInFlight int
	// Window is how far an encrypted frame's timestamp may be from Now.
	// The zero Window is DC-09's −40 s/+20 s.
	Window dc09.Window
	// Now is the receiver clock, for the time window and the timestamps of
	// NAK and *ACK. Default time.Now.
	Now func() time.Time
	// Rand supplies the pad bytes of *ACK. Default crypto/rand.Reader.
	Rand io.Reader
	// MaxBatch is the most frames one Sink.Commit receives. Default 1,000.
	MaxBatch int
	// BatchWait is how long the committer waits for more frames after the
	// first of a batch when fewer than MaxBatch are queued. Frames that
	// arrive while a commit runs join the next batch anyway; the wait
	// makes batches larger when commits are quick, which saves the CPU a
	// transaction costs per commit. Default 1 ms; negative: no wait, take
	// what is queued.
	BatchWait time.Duration
	// CommitTimeout bounds one Sink.Commit. Default 10 s.
	CommitTimeout time.Duration
	// ShutdownTimeout is how long Run lets in-flight frames finish after
	// ctx ends before it cancels the commits. Default 5 s.
	ShutdownTimeout time.Duration
	// LogEvery is the interval in which each source and reason of
	// rejection is logged at most once. Default 10 s.
	LogEvery time.Duration
	// Logger receives rejections (Warn), security events (Warn with
	// security=true) and failures (Error). Default slog.Default().
	Logger *slog.Logger
	// Urgent, when set, has every frame that carries events marked on its
	// way from when it is queued for commit until its answer is known, so
	// that the work that can wait (the notification worker) gives way to
	// it. Nil: nothing is told.
	Urgent *urgent.Signal
}

func (c Config) withDefaults() Config {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:10001"
	}
	config.OrDefault(&c.IdleTimeout, 90*time.Second)
	config.OrDefault(&c.FirstFrameTimeout, 10*time.Second)
	if c.FirstFrameTimeout > c.IdleTimeout {
		c.FirstFrameTimeout = c.IdleTimeout
	}
	config.OrDefault(&c.WriteTimeout, 10*time.Second)
	config.OrDefault(&c.MaxConnsPerSource, 64)
	config.OrDefault(&c.MaxConns, 10_000)
	config.OrDefault(&c.MaxUDPInFlight, 1024)
	if c.Now == nil {
		c.Now = time.Now
	}
	c.Rand = dc09.SharedPad(c.Rand)
	config.OrDefault(&c.MaxBatch, 1000)
	switch {
	case c.BatchWait == 0:
		c.BatchWait = time.Millisecond
	case c.BatchWait < 0:
		c.BatchWait = 0
	}
	config.OrDefault(&c.CommitTimeout, 10*time.Second)
	config.OrDefault(&c.ShutdownTimeout, 5*time.Second)
	config.OrDefault(&c.LogEvery, 10*time.Second)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Receiver is a DC-09 receiver on one TCP and one UDP socket.
type Receiver struct {
	cfg      Config
	sink     Sink
	accounts Accounts
	log      *slog.Logger
	limiter  *ratelog.Limiter
	stats    counters
	// answerTimes: each committed frame's time from read to on disk.
	answerTimes prometheus.Histogram

	listenOnce sync.Once
	listenErr  error
	tcp        *net.TCPListener
	udp        *net.UDPConn

	// work carries Sink and Accounts calls; it outlives the Run context
	// by ShutdownTimeout so that frames read before the stop are answered.
	work       context.Context
	cancelWork context.CancelFunc

	queue    chan *pending
	synced   chan committed // a PipelinedSink's committed batches, to answerLoop
	stopping atomic.Bool

	mu    sync.Mutex
	conns map[*tcpConn]struct{}
	perIP map[string]int
	// unproved lists the connections that have not yet sent a frame from
	// a registered account, oldest first, in all and per address.
	unproved      list.List
	unprovedBySrc map[string]*list.List
	running       sync.WaitGroup // connections and UDP handlers
	runCalls      atomic.Int32
}

// NewWithSink checks the configuration and returns a receiver that hands
// its frames to sink and asks accounts for the panels; Listen or Run binds
// the sockets. The server uses New; this is the receiver alone, for its
// tests and measurements.
func NewWithSink(cfg Config, sink Sink, accounts Accounts) (*Receiver, error) {
	if sink == nil || accounts == nil {
		return nil, errors.New("dc09gw: a Sink and an Accounts are required")
	}
	cfg = cfg.withDefaults()
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		return nil, fmt.Errorf("dc09gw: address %q: %w", cfg.Addr, err)
	}
	work, cancel := context.WithCancel(context.Background())
	return &Receiver{
		cfg:           cfg,
		sink:          sink,
		accounts:      accounts,
		log:           cfg.Logger,
		limiter:       ratelog.New(cfg.LogEvery),
		work:          work,
		cancelWork:    cancel,
		queue:         make(chan *pending, 4*cfg.MaxBatch),
		conns:         map[*tcpConn]struct{}{},
		perIP:         map[string]int{},
		unprovedBySrc: map[string]*list.List{},
		answerTimes: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "qorgan_dc09_commit_seconds",
			Help:    "Time from a DC-09 frame read and checked (parsed, decrypted, its account found) to its commit on disk, when its ACK is written: the receiver's share of the panel's wait.",
			Buckets: prometheus.ExponentialBucketsRange(50e-6, 2, 30)}),
	}, nil
}

// CommitTimes is the histogram of frames' time from read and checked to
// their commit on disk (exported as qorgan_dc09_commit_seconds).
func (r *Receiver) CommitTimes() prometheus.Histogram { return r.answerTimes }

// Listen binds the TCP and UDP sockets. Run calls it when it has not been
// called; calling it first lets a test learn the port from Addr.
func (r *Receiver) Listen() error {
	r.listenOnce.Do(func() { r.listenErr = r.listen() })
	return r.listenErr
}

func (r *Receiver) listen() error {
	host, port, _ := net.SplitHostPort(r.cfg.Addr)
	// With port 0 the kernel picks a TCP port that may be taken for UDP;
	// try again with another.
	attempts := 1
	if port == "0" {
		attempts = 20
	}
	var err error
	for range attempts {
		var tl *net.TCPListener
		tl, err = listenTCP(net.JoinHostPort(host, port))
		if err != nil {
			return fmt.Errorf("dc09gw: listen tcp: %w", err)
		}
		bound := strconv.Itoa(tl.Addr().(*net.TCPAddr).Port)
		var uc *net.UDPConn
		uc, err = listenUDP(net.JoinHostPort(host, bound))
		if err == nil {
			r.tcp, r.udp = tl, uc
			return nil
		}
		tl.Close()
		if !errors.Is(err, syscall.EADDRINUSE) {
			break
		}
	}
	return fmt.Errorf("dc09gw: listen udp: %w", err)
}

func listenTCP(addr string) (*net.TCPListener, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return l.(*net.TCPListener), nil
}

func listenUDP(addr string) (*net.UDPConn, error) {
	c, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, err
	}
	return c.(*net.UDPConn), nil
}

// Addr is the bound host:port, the same for TCP and UDP; empty before
// Listen.
func (r *Receiver) Addr() string {
	if r.tcp == nil {
		return ""
	}
	return r.tcp.Addr().String()
}

// Run serves until ctx ends, then stops accepting, lets the frames already
// read be committed and answered (for up to ShutdownTimeout), closes every
// connection and returns. It returns an error only when it cannot listen.
func (r *Receiver) Run(ctx context.Context) error {
	if r.runCalls.Add(1) != 1 {
		return errors.New("dc09gw: Run called twice")
	}
	if err := r.Listen(); err != nil {
		return err
	}
	committed := make(chan struct{})
	go func() {
		defer close(committed)
		r.commitLoop()
	}()
	accepted := make(chan struct{})
	go func() {
		defer close(accepted)
		r.acceptLoop()
	}()
	read := make(chan struct{})
	go func() {
		defer close(read)
		r.udpLoop()
	}()
	r.log.Info("dc09 receiver listening", "addr", r.Addr())

	tick := time.NewTicker(r.cfg.LogEvery)
	defer tick.Stop()
	for waiting := true; waiting; {
		select {
		case <-ctx.Done():
			waiting = false
		case now := <-tick.C:
			r.flushLog(now)
		}
	}
	r.stopping.Store(true)
	r.tcp.Close()
	r.udp.SetReadDeadline(time.Unix(1, 0))
	<-accepted
	<-read
	r.wakeConns()

	done := make(chan struct{})
	go func() {
		r.running.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(r.cfg.ShutdownTimeout):
		r.log.Error("dc09 receiver: in-flight frames did not finish in time; cancelling commits",
			"timeout", r.cfg.ShutdownTimeout)
		r.cancelWork()
		r.closeConns()
		<-done
	}
	close(r.queue) // nobody sends any more; the committer drains and exits
	<-committed
	r.cancelWork()
	r.udp.Close()
	r.flushLog(time.Now().Add(r.cfg.LogEvery))
	r.log.Info("dc09 receiver stopped")
	return nil
}

// flushLog counts the refusals held back in intervals now over.
func (r *Receiver) flushLog(now time.Time) {
	for _, h := range r.limiter.Flush(now) {
		args := []any{"reason", h.Reason, "source", h.Source, "suppressed", h.Count}
		if securityReasons[h.Reason] {
			args = append(args, "security", true)
		}
		r.log.Warn("dc09 frames refused, not logged one by one", args...)
	}
}

// Stats returns a snapshot of the counters.
func (r *Receiver) Stats() Stats { return r.stats.snapshot() }
