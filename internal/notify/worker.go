package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"qorgan/internal/config"
	"qorgan/internal/urgent"
)

// Worker delivers the outbox: it claims due messages in batches, sends them
// concurrently through their channels and records the outcomes in batches.
// Any number of workers may run on any number of nodes over one store.
type Worker struct {
	Outbox   *Outbox
	Channels map[ChannelName]Channel
	Log      *slog.Logger

	Name        string        // this worker in lease owners; default host-pid-random
	Batch       int           // most messages per claim; default 200
	Concurrency int           // deliveries in flight; default 64
	Lease       time.Duration // how long a claim holds a message; default 30 s
	SendTimeout time.Duration // one delivery's limit, also at a stop; default the lesser of 10 s and Lease/2
	Poll        time.Duration // how often an idle worker looks for due messages; default 100 ms
	MaxAttempts int           // attempts before a dead letter; default 8
	RetryBase   time.Duration // first retry's delay, doubled each time; default 5 s
	RetryMax    time.Duration // longest retry delay; default 10 min
	// ChannelConcurrency is the most deliveries in flight on one channel,
	// so that a slow provider (an SMS gateway timing out) leaves slots to
	// the others; default three quarters of Concurrency.
	ChannelConcurrency int
	// GiveWay, when set, is the alarms on their way through this process:
	// while one is, at most an eighth of Concurrency deliveries are in
	// flight, so that the alarm's goroutines are not queued for the cores
	// behind the deliveries' (see package urgent). The rest start when the
	// alarms are answered, or after GiveWayAtMost (default 25 ms, the
	// alarms' own goal) whether or not they are, and the worker then keeps
	// its full concurrency until that stretch of alarms has cleared: under
	// an alarm storm that never clears, messages are delayed once by that
	// much, never slowed for the storm's length.
	GiveWay       *urgent.Signal
	GiveWayAtMost time.Duration

	once   sync.Once
	wake   chan struct{}
	seq    atomic.Uint64
	claims atomic.Uint64
	finish atomic.Uint64
	claimd atomic.Uint64
	sent   atomic.Uint64
	retry  atomic.Uint64
	dead   atomic.Uint64
	freed  atomic.Uint64
}

// NewWorker returns a worker with the defaults.
func NewWorker(o *Outbox, channels map[ChannelName]Channel, log *slog.Logger) *Worker {
	w := &Worker{Outbox: o, Channels: channels, Log: log}
	w.setup()
	return w
}

func (w *Worker) setup() {
	w.once.Do(func() {
		w.wake = make(chan struct{}, 1)
		if w.Log == nil {
			w.Log = slog.Default()
		}
		if w.Name == "" {
			host, _ := os.Hostname()
			var r [3]byte
			rand.Read(r[:])
			w.Name = host + "-" + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(r[:])
		}
		config.OrDefault(&w.Batch, 200)
		config.OrDefault(&w.Concurrency, 64)
		config.OrDefault(&w.Lease, 30*time.Second)
		config.OrDefault(&w.SendTimeout, min(10*time.Second, w.Lease/2))
		config.OrDefault(&w.Poll, 100*time.Millisecond)
		config.OrDefault(&w.MaxAttempts, 8)
		config.OrDefault(&w.RetryBase, 5*time.Second)
		config.OrDefault(&w.RetryMax, 10*time.Minute)
		config.OrDefault(&w.GiveWayAtMost, 25*time.Millisecond)
	})
}

// Wake makes an idle worker look for due messages now instead of at its
// next poll. Call it after committing a transaction that enqueued messages.
func (w *Worker) Wake() {
	w.setup()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// WorkerStats counts what a worker did since it started. Released counts
// messages claimed but given back unsent: when the worker stopped, or after
// waiting so long for a slot that the send could outlast the lease. Claims
// counts the transactions that claimed messages (each also recording the
// outcomes gathered by then), Finishes the ones that recorded outcomes
// alone: with Claimed, how many messages each claim carried, and together
// how many of the store's write transactions the worker took.
type WorkerStats struct {
	Claimed, Sent, Retried, Dead, Released uint64
	Claims, Finishes                       uint64
}

// Stats returns the worker's counters.
func (w *Worker) Stats() WorkerStats {
	return WorkerStats{Claimed: w.claimd.Load(), Sent: w.sent.Load(), Retried: w.retry.Load(), Dead: w.dead.Load(), Released: w.freed.Load(),
		Claims: w.claims.Load(), Finishes: w.finish.Load()}
}

// Run delivers until ctx ends, then stops gracefully: it claims nothing
// more, lets the deliveries in flight finish — each within its SendTimeout,
// which the end of ctx does not shorten — records their outcomes, and
// releases the messages it claimed but had not started to send, so that the
// next worker takes them at once instead of after the lease. It returns when
// all of that is recorded: a stopped worker leaves no message "sending".
//
// Only a crash (the process killed, the store unreachable when outcomes are
// recorded) leaves messages "sending"; their lease runs out and another
// worker sends them again, with the same idempotency key.
func (w *Worker) Run(ctx context.Context) error {
	w.setup()
	if w.Outbox == nil {
		return errors.New("notify worker: no outbox")
	}
	rec := &outcomes{ready: make(chan struct{}, 1), closed: make(chan struct{})}
	recorded := make(chan struct{})
	go func() {
		w.record(rec)
		close(recorded)
	}()

	// Derived when the worker starts, from Concurrency as it is then.
	channelCap := w.ChannelConcurrency
	if channelCap <= 0 || channelCap > w.Concurrency {
		channelCap = max(1, w.Concurrency*3/4)
	}
	// The worker claims ahead of its slots: up to Batch messages more than
	// can be in flight (each channel up to twice its share) wait for a
	// slot in memory. Every claim is a turn on the store's writer, at the
	// peak behind the intake's, so claims must be large; claiming only
	// what the free slots could take made them small and let the slots
	// idle while each claim waited for its turn.
	maxHeld, maxChannelHeld := w.Concurrency+w.Batch, 2*channelCap
	// A message that waited so long for a slot that its send could outlast
	// its lease is given back unsent, not sent while another worker may
	// take it again.
	maxWait := max(w.Lease-w.SendTimeout, w.Lease/2)
	held := newLanes(w.Concurrency, channelCap, w.GiveWay, w.GiveWayAtMost, func(q queued) outcome {
		if time.Now().After(q.startBy) {
			return w.release(q.m)
		}
		return w.deliver(ctx, q.m)
	}, func(oc outcome) { rec.add(oc) })
	limit := map[ChannelName]int{}
	minClaim := max(1, min(w.Batch, w.Concurrency)/4)
	minChannelClaim := max(1, min(minClaim, channelCap/4))
	poll := time.NewTimer(w.Poll)
	defer poll.Stop()

	for ctx.Err() == nil {
		all, _ := held.holding("")
		room := maxHeld - all
		if room < minClaim {
			// Full: wait for deliveries to finish.
			rec.claiming.Store(false)
			select {
			case <-ctx.Done():
			case <-held.freed:
			}
			continue
		}
		rec.claiming.Store(true)
		want := min(room, w.Batch)
		// A channel near its share waits until a few of its deliveries
		// have ended (or the next poll), rather than claiming one message
		// a transaction.
		for _, c := range Channels {
			_, n := held.holding(c)
			limit[c] = maxChannelHeld - n
			if limit[c] < minChannelClaim {
				limit[c] = 0
			}
		}
		// The outcomes gathered so far are recorded in the claim's
		// transaction. A claim that has begun is not cut short by the
		// stop: it either takes its messages or not, never leaves the
		// answer unknown, and what it took is released below.
		done := rec.take()
		msgs, err := w.Outbox.finishAndClaim(context.WithoutCancel(ctx), done, w.Name+"/"+strconv.FormatUint(w.seq.Add(1), 10), want, limit, w.Lease)
		if err != nil {
			w.Log.Error("notify: claim", "err", err)
			rec.add(done...)
		} else {
			w.count(done)
		}
		startBy := time.Now().Add(maxWait)
		w.claimd.Add(uint64(len(msgs)))
		w.claims.Add(1)
		got := map[ChannelName]int{}
		for _, m := range msgs {
			got[m.Channel]++
		}
		// Channels held back by their share, which may have more due: a
		// delivery of theirs ending is worth a claim once enough have.
		var waiting []ChannelName
		for _, c := range Channels {
			if limit[c] == 0 || got[c] == limit[c] {
				waiting = append(waiting, c)
			}
		}
		held.add(msgs, startBy)
		if err == nil && len(msgs) == want {
			continue // there may be more due
		}
		rec.claiming.Store(false)
		var more <-chan struct{}
		if err == nil && len(waiting) > 0 {
			more = held.freed
		}
		poll.Reset(w.Poll)
	wait:
		for {
			select {
			case <-ctx.Done():
			case <-w.wake:
			case <-poll.C:
			case <-more:
				room := slices.ContainsFunc(waiting, func(c ChannelName) bool {
					_, n := held.holding(c)
					return maxChannelHeld-n >= minChannelClaim
				})
				if !room {
					continue wait
				}
			}
			break
		}
	}
	rec.claiming.Store(false)
	held.stop(w.release)
	close(rec.closed)
	<-recorded
	return nil
}

// release is the outcome of a message given back unsent.
func (w *Worker) release(m Message) outcome {
	return outcome{m: m, state: released, at: w.Outbox.now()}
}

// recordGather is how long the outcomes of a batch are gathered after the
// first before they are written: at the morning peak deliveries end a few
// at a time, and written as they came they took more of the one writer's
// transactions than the claims did. Nobody waits for an outcome's record
// (a delivery's slot is free before it), and a stop still writes every
// outcome gathered. While the worker is claiming, its next claim records
// them in its own transaction; the recorder waits for that, at most
// recordDefer.
const (
	recordGather = 20 * time.Millisecond
	recordDefer  = 200 * time.Millisecond
)

// outcomes gathers what became of delivered messages until they are
// recorded: by the worker's next claim, or by the recorder.
type outcomes struct {
	mu       sync.Mutex
	buf      []outcome
	ready    chan struct{} // an outcome came
	closed   chan struct{} // no more will come
	claiming atomic.Bool   // the worker is claiming and will take them
}

// add gathers outcomes: a delivery's, or those of a claim whose
// transaction failed, for the recorder to write.
func (r *outcomes) add(ocs ...outcome) {
	if len(ocs) == 0 {
		return
	}
	r.mu.Lock()
	r.buf = append(r.buf, ocs...)
	r.mu.Unlock()
	select {
	case r.ready <- struct{}{}:
	default:
	}
}

// take returns every outcome gathered and empties the buffer.
func (r *outcomes) take() (buf []outcome) {
	r.mu.Lock()
	buf, r.buf = r.buf, nil
	r.mu.Unlock()
	return buf
}

// record writes the outcomes the worker's claims do not take: gathered for
// recordGather, or longer while a claim is coming, and every one left at
// the stop.
func (w *Worker) record(r *outcomes) {
	gathering := time.NewTimer(recordGather)
	defer gathering.Stop()
	for {
		closed := false
		select {
		case <-r.ready:
		case <-r.closed:
			closed = true
		}
		if !closed {
			waited := time.Duration(0)
			for {
				gathering.Reset(recordGather)
				select {
				case <-gathering.C:
				case <-r.closed:
					closed = true
				}
				waited += recordGather
				if closed || !r.claiming.Load() || waited >= recordDefer {
					break
				}
			}
		}
		if buf := r.take(); len(buf) > 0 {
			w.recordAlone(buf)
		}
		if closed {
			if buf := r.take(); len(buf) > 0 {
				w.recordAlone(buf)
			}
			return
		}
	}
}

// recordAlone writes outcomes in a transaction of their own, trying three
// times.
func (w *Worker) recordAlone(buf []outcome) {
	// Not the worker's context: an outcome lost at a stop would send a
	// delivered message again.
	var err error
	for try := 0; try < 3; try++ {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = w.Outbox.finish(ctx, buf)
		cancel()
		w.finish.Add(1)
		if err == nil {
			break
		}
		time.Sleep(time.Duration(try+1) * 100 * time.Millisecond)
	}
	if err != nil {
		w.Log.Error("notify: record outcomes; their messages are sent again when the lease runs out", "messages", len(buf), "err", err)
		return
	}
	w.count(buf)
}

// count adds recorded outcomes to the worker's counters.
func (w *Worker) count(buf []outcome) {
	for _, oc := range buf {
		switch oc.state {
		case Sent:
			w.sent.Add(1)
		case released:
			w.freed.Add(1)
		case Dead:
			w.dead.Add(1)
			w.Log.Warn("notify: dead letter", "key", oc.m.Key, "channel", oc.m.Channel, "school", oc.m.SchoolID, "attempts", oc.m.Attempts, "err", oc.err)
		default:
			w.retry.Add(1)
		}
	}
}

// deliver sends one message and says what became of it. When the worker
// is stopping (ctx has ended) before the send begins, the message is
// released unsent; a send that has begun runs to its end or its
// SendTimeout, whichever comes first, and its outcome is recorded.
func (w *Worker) deliver(ctx context.Context, m Message) (oc outcome) {
	oc.m = m
	if ctx.Err() != nil {
		return w.release(m)
	}
	now := w.Outbox.now()
	if !m.ExpiresAt.IsZero() && now.After(m.ExpiresAt) {
		return w.deadLetter(oc, now, "stale: expired before it could be delivered")
	}
	if m.Attempts > w.MaxAttempts {
		// Claimed again and again without an outcome: its worker keeps dying.
		return w.deadLetter(oc, now, fmt.Sprintf("lease ran out after attempt %d", m.Attempts-1))
	}
	ch := w.Channels[m.Channel]
	var err error
	if ch == nil {
		err = fmt.Errorf("no %s channel configured on this node", m.Channel)
	} else {
		err = w.send(context.WithoutCancel(ctx), ch, m)
	}
	now = w.Outbox.now()
	switch {
	case err == nil:
		oc.state, oc.at = Sent, now
		return oc
	case IsPermanent(err):
		return w.deadLetter(oc, now, errText(err))
	case m.Attempts >= w.MaxAttempts:
		return w.deadLetter(oc, now, fmt.Sprintf("gave up after %d attempts: %s", m.Attempts, errText(err)))
	}
	oc.state, oc.err = Pending, errText(err)
	oc.next = now.Add(max(w.backoff(m.Attempts), retryAfter(err)))
	return oc
}

func (w *Worker) deadLetter(oc outcome, now time.Time, why string) outcome {
	oc.state, oc.at, oc.err = Dead, now, why
	return oc
}

func (w *Worker) send(ctx context.Context, ch Channel, m Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("channel %s panicked: %v", m.Channel, r)
		}
	}()
	sctx, cancel := context.WithTimeout(ctx, w.SendTimeout)
	defer cancel()
	return ch.Send(sctx, m)
}

// backoff is the delay before the retry that follows attempt: RetryBase
// doubled per attempt up to RetryMax, half of it random, so that a burst
// that failed together does not retry together.
func (w *Worker) backoff(attempt int) time.Duration {
	d := w.RetryBase
	for i := 1; i < attempt && d < w.RetryMax; i++ {
		d *= 2
	}
	d = min(d, w.RetryMax)
	return d/2 + mrand.N(d/2+1)
}

// errText is an error as the school may see it: one line, bounded.
func errText(err error) string {
	return cut(strings.Join(strings.Fields(err.Error()), " "), 500)
}
