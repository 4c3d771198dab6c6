package notify_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"qorgan/internal/notify"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func message(key string, ch notify.ChannelName, recipient string) notify.Message {
	return notify.Message{Key: key, Channel: ch, Recipient: recipient, Kind: "pupil.entered", Subject: "Qorgan: посещаемость",
		Body: "Айгерім вошла в школу в 07:52", Language: "ru", SchoolID: 7, PupilID: 42}
}

// enqueue writes msgs to the outbox in one transaction, failing t on an
// error, and returns how many were new.
var enqueue = notify.EnqueueT

// start runs w until the test ends or the returned stop is called; stop
// waits for Run to return.
func start(t testing.TB, w *notify.Worker) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := w.Run(ctx); err != nil {
			t.Errorf("worker: %v", err)
		}
	}()
	stop = func() {
		cancel()
		<-done
	}
	t.Cleanup(stop)
	return stop
}

// fastWorker is a worker with test-sized timings.
func fastWorker(o *notify.Outbox, chans map[notify.ChannelName]notify.Channel) *notify.Worker {
	w := &notify.Worker{Outbox: o, Channels: chans, Log: quiet, Poll: 10 * time.Millisecond, Lease: 5 * time.Second,
		RetryBase: 20 * time.Millisecond, RetryMax: 80 * time.Millisecond, MaxAttempts: 4}
	return w
}

// eventually waits until cond holds.
func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func get(t testing.TB, o *notify.Outbox, key string) notify.Message {
	t.Helper()
	m, err := o.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	return m
}

func statusIs(t testing.TB, o *notify.Outbox, key string, s notify.Status) func() bool {
	return func() bool { return get(t, o, key).Status == s }
}

// gatedChannel is a channel whose deliveries wait until the test lets them
// go (one for each value sent on release, all once it is closed), counting
// those in flight, the most at once and those sent, and noting when each
// began.
type gatedChannel struct {
	release              chan struct{}
	inFlight, peak, sent atomic.Int32
	mu                   sync.Mutex
	began                []time.Time
	opened               sync.Once
}

// open lets every delivery go, now and from now on.
func (h *gatedChannel) open() { h.opened.Do(func() { close(h.release) }) }

// start returns when the i-th delivery (from 0) began; ok is false when it
// has not.
func (h *gatedChannel) start(i int) (at time.Time, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if i >= len(h.began) {
		return time.Time{}, false
	}
	return h.began[i], true
}

func newGatedChannel() *gatedChannel { return &gatedChannel{release: make(chan struct{})} }

func (h *gatedChannel) Send(ctx context.Context, m notify.Message) error {
	h.mu.Lock()
	h.began = append(h.began, time.Now())
	h.mu.Unlock()
	n := h.inFlight.Add(1)
	defer h.inFlight.Add(-1)
	for p := h.peak.Load(); n > p && !h.peak.CompareAndSwap(p, n); p = h.peak.Load() {
	}
	select {
	case <-h.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	h.sent.Add(1)
	return nil
}
