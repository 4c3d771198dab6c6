// Package panel simulates alarm panels that report to a DC-09 receiver:
// N panels, each with its own account, send SIA DCS, Contact ID or NULL
// frames over TCP or UDP, wait for each answer as real panels do,
// retransmit when none comes, and the run ends in a Report of answers and
// ACK latencies. It backs `qorgan simulate panel` and the receiver's tests
// and benchmarks.
package panel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"qorgan/internal/config"
	"qorgan/internal/protocol/dc09"
)

// Config describes a simulation. The zero value of a field means its
// default.
type Config struct {
	// Addr is the receiver's host:port.
	Addr string
	// Transport is "tcp" (default) or "udp".
	Transport string
	// Panels is the number of panels sending concurrently. Default: the
	// number of Accounts, or 1.
	Panels int
	// Accounts lists the panels' accounts (3–16 hex digits), one each.
	// Without it, AccountPattern names them.
	Accounts []string
	// AccountPattern is a fmt pattern with one integer verb, given the
	// panel number from 1. Default "%06d": 000001, 000002…
	AccountPattern string
	// Prefix is the L field. Default "0".
	Prefix string
	// Receiver is the R field, left out when empty.
	Receiver string
	// KeyHex (32, 48 or 64 hex characters) or KeyText (16, 24 or 32 ASCII
	// characters) makes the panels encrypt; at most one may be set.
	KeyHex, KeyText string
	// Codes are sent in turn by each panel: SIA DCS codes ("BA", "PA",
	// sent as Nri1/<code>001, or a whole block such as "Nri1/PA501"),
	// Contact ID events ("1120 01 005") or "NULL" for supervision.
	// Default: "RP", the automatic test.
	Codes []string
	// Rate is the frames per second of all panels together; 0 sends as
	// fast as the answers come.
	Rate float64
	// Duration and Count end the run: after Duration, or after Count
	// frames (retransmissions not counted), whichever comes first. At
	// least one is required.
	Duration time.Duration
	Count    int
	// AckTimeout is how long a panel waits for an answer before it
	// retransmits. Default 5 s.
	AckTimeout time.Duration
	// Attempts is how many times a frame is sent at most, the first
	// included; the same bytes each time. Default 4.
	Attempts int
	// OmitTimestamp leaves the optional timestamp out of plain frames.
	// Encrypted frames always carry one.
	OmitTimestamp bool
	// Now is the panels' clock, for the frame timestamps. Default time.Now.
	Now func() time.Time
	// Rand supplies the encryption pad. Default crypto/rand.Reader.
	Rand io.Reader
	// Progress, when positive, writes a progress line to out this often.
	Progress time.Duration
	// FromSchedule, with a Rate, measures each frame's latency from the
	// moment the schedule meant it to be sent rather than from its
	// transmission: a panel waits for one answer before its next frame, so
	// a slow answer delays the frames behind it, and measured from the
	// schedule that delay counts instead of being hidden.
	FromSchedule bool
	// Answered, when set, is told of each answered frame: the moment its
	// latency runs from (the schedule's or the transmission's, as above)
	// and that latency. The panels call it from their own goroutines, so
	// it must be safe for concurrent use.
	Answered func(from time.Time, latency time.Duration)
	// Written, when set with FromSchedule, is told of each frame's first
	// successful write: when the schedule meant it to go and how much
	// later the write returned. A panel has one frame in flight, so the
	// lag includes any wait for the previous frame's answer (and a dial);
	// while answers come within the panel's interval it is the sender's
	// own (its goroutine waiting to run), not the receiver's, though the
	// latency from the schedule includes it. Called from the panels'
	// goroutines.
	Written func(due time.Time, lag time.Duration)
}

// Report is the outcome of a run.
type Report struct {
	Panels    int
	Transport string
	Encrypted bool
	// Frames is the number of distinct frames sent; Transmissions counts
	// retransmissions too.
	Frames        int64
	Transmissions int64
	// Answers by kind. A frame that got none after every attempt counts in
	// NoAnswer. Frames cut short by the end of the context count nowhere.
	ACK, NAK, DUH, NoAnswer int64
	// BadReplies are answers that were not a valid reply to the frame:
	// unparseable, not echoing it, or an *ACK that does not decrypt. The
	// panel ignores them and keeps waiting.
	BadReplies int64
	// WrongACKs are ACKs to the frame in flight whose bytes are not what
	// DC-09 prescribes: a plain ACK must equal, byte for byte, the echo of
	// the frame's sequence, receiver, prefix and account; an *ACK must
	// carry that same echo and decrypt. They count in ACK too.
	WrongACKs int64
	// Reconnects counts TCP connections opened again after a failure.
	Reconnects int64
	Elapsed    time.Duration
	// FramesPerSecond is the frames answered (ACK, NAK or DUH) per second
	// of Elapsed.
	FramesPerSecond float64
	// Latency of the answers, from the transmission that got it to the
	// answer.
	LatencyP50, LatencyP90, LatencyP99, LatencyMax time.Duration
}

func (r Report) String() string {
	mode := "plain"
	if r.Encrypted {
		mode = "encrypted"
	}
	return fmt.Sprintf("%d %s panels over %s: %d frames (%d transmissions) in %s, %.0f frames/s\n"+
		"answers: %d ACK (%d not byte-exact), %d NAK, %d DUH, %d no answer; %d bad replies, %d reconnects\n"+
		"ACK latency: p50 %s, p90 %s, p99 %s, max %s\n",
		r.Panels, mode, r.Transport, r.Frames, r.Transmissions, r.Elapsed.Round(time.Millisecond), r.FramesPerSecond,
		r.ACK, r.WrongACKs, r.NAK, r.DUH, r.NoAnswer, r.BadReplies, r.Reconnects,
		r.LatencyP50, r.LatencyP90, r.LatencyP99, r.LatencyMax)
}

func (c Config) withDefaults() (Config, error) {
	if c.Addr == "" {
		return c, errors.New("panel: receiver address required")
	}
	switch c.Transport {
	case "":
		c.Transport = "tcp"
	case "tcp", "udp":
	default:
		return c, fmt.Errorf("panel: transport must be tcp or udp, not %q", c.Transport)
	}
	config.OrDefault(&c.Panels, max(len(c.Accounts), 1))
	if len(c.Accounts) > 0 && len(c.Accounts) < c.Panels {
		return c, fmt.Errorf("panel: %d accounts for %d panels", len(c.Accounts), c.Panels)
	}
	if c.AccountPattern == "" {
		c.AccountPattern = "%06d"
	}
	if c.Prefix == "" {
		c.Prefix = "0"
	}
	if len(c.Codes) == 0 {
		c.Codes = []string{"RP"}
	}
	if c.Rate < 0 {
		return c, errors.New("panel: rate must not be negative")
	}
	if c.Duration <= 0 && c.Count <= 0 {
		return c, errors.New("panel: a duration or a count is required")
	}
	config.OrDefault(&c.AckTimeout, 5*time.Second)
	config.OrDefault(&c.Attempts, 4)
	if c.Now == nil {
		c.Now = time.Now
	}
	c.Rand = dc09.SharedPad(c.Rand)
	return c, nil
}

// Run simulates the panels until the Duration or Count is reached or ctx
// ends, writes progress (if asked) and the report to out (if not nil), and
// returns the report. It fails only for a bad configuration.
func Run(ctx context.Context, cfg Config, out io.Writer) (Report, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Report{}, err
	}
	key, err := parseKey(cfg.KeyHex, cfg.KeyText)
	if err != nil {
		return Report{}, err
	}
	codes, err := parseCodes(cfg.Codes)
	if err != nil {
		return Report{}, err
	}
	panels := make([]*panel, cfg.Panels)
	for i := range panels {
		account, err := accountOf(cfg, i)
		if err != nil {
			return Report{}, err
		}
		panels[i] = &panel{cfg: &cfg, account: account, key: key, codes: codes, index: i}
	}

	// stopNew ends the sending of new frames; ctx aborts everything.
	stopNew, cancel := context.WithCancel(ctx)
	defer cancel()
	if cfg.Duration > 0 {
		stopNew, cancel = context.WithTimeout(stopNew, cfg.Duration)
		defer cancel()
	}
	run := &run{cfg: &cfg, abort: ctx, stopNew: stopNew, start: time.Now()}
	run.remaining.Store(int64(cfg.Count))

	var wg sync.WaitGroup
	for _, p := range panels {
		wg.Go(func() { p.run(run) })
	}
	progressDone := make(chan struct{})
	var progress sync.WaitGroup
	if cfg.Progress > 0 && out != nil {
		progress.Go(func() { run.progress(out, progressDone) })
	}
	wg.Wait()
	close(progressDone)
	progress.Wait() // out is written by one goroutine at a time

	rep := run.report(panels, key != nil)
	if out != nil {
		io.WriteString(out, rep.String())
	}
	return rep, nil
}

// run is the state the panels share.
type run struct {
	cfg       *Config
	abort     context.Context
	stopNew   context.Context
	start     time.Time
	remaining atomic.Int64 // frames left to send when Count is set

	frames, transmissions, acks, naks, duhs, noAnswer, bad, wrongACKs, reconnects atomic.Int64
}

// claim takes one frame from the count and says whether to send it.
func (r *run) claim() bool {
	if r.stopNew.Err() != nil {
		return false
	}
	if r.cfg.Count <= 0 {
		return true
	}
	return r.remaining.Add(-1) >= 0
}

func (r *run) progress(out io.Writer, done <-chan struct{}) {
	tick := time.NewTicker(r.cfg.Progress)
	defer tick.Stop()
	var last int64
	lastAt := r.start
	for {
		select {
		case <-done:
			return
		case now := <-tick.C:
			answered := r.acks.Load() + r.naks.Load() + r.duhs.Load()
			rate := float64(answered-last) / now.Sub(lastAt).Seconds()
			last, lastAt = answered, now
			fmt.Fprintf(out, "%6.1fs: %d frames, %d ACK, %d NAK, %d DUH, %d no answer, %.0f frames/s\n",
				now.Sub(r.start).Seconds(), r.frames.Load(), r.acks.Load(), r.naks.Load(),
				r.duhs.Load(), r.noAnswer.Load(), rate)
		}
	}
}

func (r *run) report(panels []*panel, encrypted bool) Report {
	elapsed := time.Since(r.start)
	rep := Report{
		Panels:        len(panels),
		Transport:     r.cfg.Transport,
		Encrypted:     encrypted,
		Frames:        r.frames.Load(),
		Transmissions: r.transmissions.Load(),
		ACK:           r.acks.Load(),
		NAK:           r.naks.Load(),
		DUH:           r.duhs.Load(),
		NoAnswer:      r.noAnswer.Load(),
		BadReplies:    r.bad.Load(),
		WrongACKs:     r.wrongACKs.Load(),
		Reconnects:    r.reconnects.Load(),
		Elapsed:       elapsed,
	}
	if elapsed > 0 {
		rep.FramesPerSecond = float64(rep.ACK+rep.NAK+rep.DUH) / elapsed.Seconds()
	}
	var all []time.Duration
	for _, p := range panels {
		all = append(all, p.latencies...)
	}
	rep.LatencyP50, rep.LatencyP90, rep.LatencyP99, rep.LatencyMax = percentiles(all)
	return rep
}
