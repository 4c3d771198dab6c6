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
// messages claimed but given back unsent when the worker stopped. Claims
// and Finishes count the transactions that claimed messages and that
// recorded outcomes: with Claimed and Sent, how many messages each
// carried.
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
	results := make(chan outcome, w.Concurrency)
	recorded := make(chan struct{})
	go func() {
		w.record(results)
		close(recorded)
	}()

	slots := make(chan struct{}, w.Concurrency)
	freed := make(chan struct{}, 1)
	// Derived when the worker starts, from Concurrency as it is then.
	channelCap := w.ChannelConcurrency
	if channelCap <= 0 || channelCap > w.Concurrency {
		channelCap = max(1, w.Concurrency*3/4)
	}
	var busyMu sync.Mutex
	busy := map[ChannelName]int{} // deliveries in flight by channel
	limit := map[ChannelName]int{}
	var inflight sync.WaitGroup
	minClaim := max(1, min(w.Batch, w.Concurrency)/4)
	minChannelClaim := max(1, min(minClaim, channelCap/4))
	poll := time.NewTimer(w.Poll)
	defer poll.Stop()

	for ctx.Err() == nil {
		free := cap(slots) - len(slots)
		if free < minClaim {
			// Full: wait for deliveries to finish, so that a claimed
			// message never waits in memory while its lease runs.
			select {
			case <-ctx.Done():
			case <-freed:
			}
			continue
		}
		want := min(free, w.Batch)
		// A channel near its share waits until a few of its deliveries
		// have ended (or the next poll), rather than claiming one message
		// a transaction.
		busyMu.Lock()
		for _, c := range Channels {
			limit[c] = channelCap - busy[c]
			if limit[c] < minChannelClaim {
				limit[c] = 0
			}
		}
		busyMu.Unlock()
		// A claim that has begun is not cut short by the stop: it either
		// takes its messages or not, never leaves the answer unknown, and
		// what it took is released below.
		msgs, err := w.Outbox.ClaimEach(context.WithoutCancel(ctx), w.Name+"/"+strconv.FormatUint(w.seq.Add(1), 10), want, limit, w.Lease)
		if err != nil {
			w.Log.Error("notify: claim", "err", err)
		}
		w.claimd.Add(uint64(len(msgs)))
		w.claims.Add(1)
		got := map[ChannelName]int{}
		for _, m := range msgs {
			got[m.Channel]++
		}
		// Channels held back by their share, which may have more due: a
		// delivery of theirs ending is worth a claim once enough have.
		var held []ChannelName
		for _, c := range Channels {
			if limit[c] == 0 || got[c] == limit[c] {
				held = append(held, c)
			}
		}
		for _, m := range msgs {
			slots <- struct{}{}
			busyMu.Lock()
			busy[m.Channel]++
			busyMu.Unlock()
			inflight.Add(1)
			go func() {
				defer inflight.Done()
				results <- w.deliver(ctx, m)
				busyMu.Lock()
				busy[m.Channel]--
				busyMu.Unlock()
				<-slots
				select {
				case freed <- struct{}{}:
				default:
				}
			}()
		}
		if err == nil && len(msgs) == want {
			continue // there may be more due
		}
		var more <-chan struct{}
		if err == nil && len(held) > 0 {
			more = freed
		}
		poll.Reset(w.Poll)
	wait:
		for {
			select {
			case <-ctx.Done():
			case <-w.wake:
			case <-poll.C:
			case <-more:
				busyMu.Lock()
				room := slices.ContainsFunc(held, func(c ChannelName) bool { return channelCap-busy[c] >= minChannelClaim })
				busyMu.Unlock()
				if !room {
					continue wait
				}
			}
			break
		}
	}
	inflight.Wait()
	close(results)
	<-recorded
	return nil
}

// recordGather is how long the outcomes of a batch are gathered after the
// first before they are written: at the morning peak deliveries end a few
// at a time, and written as they came they took more of the one writer's
// transactions than the claims did. Nobody waits for an outcome's record
// (a delivery's slot is free before it), and a stop still writes every
// outcome gathered.
const recordGather = 20 * time.Millisecond

// record writes outcomes as they come, in batches: while one transaction
// runs the next batch gathers, for recordGather at least.
func (w *Worker) record(results <-chan outcome) {
	var buf []outcome
	gathering := time.NewTimer(recordGather)
	defer gathering.Stop()
	for oc := range results {
		buf = append(buf[:0], oc)
		gathering.Reset(recordGather)
	gather:
		for len(buf) < 4*w.Batch {
			select {
			case oc, ok := <-results:
				if !ok {
					break gather
				}
				buf = append(buf, oc)
			case <-gathering.C:
				break gather
			}
		}
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
			continue
		}
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
}

// deliver sends one message and says what became of it. When the worker
// is stopping (ctx has ended) before the send begins, the message is
// released unsent; a send that has begun runs to its end or its
// SendTimeout, whichever comes first, and its outcome is recorded.
func (w *Worker) deliver(ctx context.Context, m Message) (oc outcome) {
	oc.m = m
	if ctx.Err() != nil {
		oc.state, oc.at = released, w.Outbox.now()
		return oc
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
