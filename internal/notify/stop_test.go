package notify_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"qorgan/internal/notify"
	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
)

// heldChannel holds every delivery until open is closed (or the send's own
// context ends), as a slow provider does, and notes whether the send's
// context was still live when the provider answered.
type heldChannel struct {
	open    chan struct{}
	started atomic.Int32
	mu      sync.Mutex
	calls   map[string]int
	cut     []string // keys whose send was cancelled before the answer
}

func newHeld() *heldChannel { return &heldChannel{open: make(chan struct{}), calls: map[string]int{}} }

func (h *heldChannel) Send(ctx context.Context, m notify.Message) error {
	h.mu.Lock()
	h.calls[m.Key]++
	h.mu.Unlock()
	h.started.Add(1)
	select {
	case <-h.open:
	case <-ctx.Done():
	}
	if err := ctx.Err(); err != nil {
		h.mu.Lock()
		h.cut = append(h.cut, m.Key)
		h.mu.Unlock()
		return err
	}
	return nil
}

func (h *heldChannel) stats() (calls map[string]int, cut []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := map[string]int{}
	for k, n := range h.calls {
		c[k] = n
	}
	return c, append([]string(nil), h.cut...)
}

// runWorker runs w until stop is called; done is closed when Run returns.
func runWorker(t *testing.T, w *notify.Worker) (stop func(), done chan struct{}) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done = make(chan struct{})
	go func() {
		defer close(done)
		if err := w.Run(ctx); err != nil {
			t.Errorf("worker: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return cancel, done
}

func countStatus(t *testing.T, db *store.DB, status notify.Status) int {
	t.Helper()
	var n int
	if err := db.Reader().QueryRowContext(context.Background(), "SELECT COUNT(*) FROM outbox WHERE status = ?", string(status)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestGracefulStop: a worker told to stop claims nothing more, lets the
// deliveries in flight finish and records them, so a restart sends none of
// them again; a delivery that outlasts its SendTimeout is cut there and
// recorded as a retry, so the stop is bounded.
func TestGracefulStop(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		o := notify.New(db)
		t.Run("deliveries in flight finish and are recorded", func(t *testing.T) {
			held := newHeld()
			w := fastWorker(o, map[notify.ChannelName]notify.Channel{notify.ChannelSMS: held})
			var keys []string
			for i := range 5 {
				k := fmt.Sprintf("drain/%d", i)
				keys = append(keys, k)
				enqueue(t, db, message(k, notify.ChannelSMS, "+77011234567"))
			}
			stop, done := runWorker(t, w)
			eventually(t, 10*time.Second, "five deliveries in flight", func() bool { return held.started.Load() == 5 })
			stop()
			// Due after the stop: not claimed by the stopping worker.
			enqueue(t, db, message("drain/late", notify.ChannelSMS, "+77011234567"))
			w.Wake()
			select {
			case <-done:
				t.Fatal("the worker returned with deliveries in flight")
			case <-time.After(200 * time.Millisecond):
			}
			close(held.open)
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("the worker did not stop after its deliveries finished")
			}
			calls, cut := held.stats()
			if len(cut) != 0 {
				t.Fatalf("deliveries cut short by the stop: %v", cut)
			}
			for _, k := range keys {
				if m := get(t, o, k); m.Status != notify.Sent || m.Attempts != 1 || calls[k] != 1 {
					t.Errorf("%s after the stop: %+v, %d sends", k, m, calls[k])
				}
			}
			if m := get(t, o, "drain/late"); m.Status != notify.Pending || m.Attempts != 0 || calls["drain/late"] != 0 {
				t.Errorf("a message due after the stop: %+v, %d sends", m, calls["drain/late"])
			}
			if n := countStatus(t, db, notify.Sending); n != 0 {
				t.Errorf("%d messages left sending by a graceful stop", n)
			}
			if s := w.Stats(); s.Sent != 5 || s.Claimed != 5 {
				t.Errorf("stats %+v", s)
			}

			// The next worker sends the late one only.
			again := newHeld()
			close(again.open)
			w2 := fastWorker(o, map[notify.ChannelName]notify.Channel{notify.ChannelSMS: again})
			start(t, w2)
			eventually(t, 10*time.Second, "the late message sent", statusIs(t, o, "drain/late", notify.Sent))
			if calls, _ := again.stats(); len(calls) != 1 || calls["drain/late"] != 1 {
				t.Errorf("after the restart: sends %v, want drain/late once", calls)
			}
		})
		t.Run("a delivery outlasting its timeout bounds the stop", func(t *testing.T) {
			held := newHeld() // never opened: the provider does not answer
			w := fastWorker(o, map[notify.ChannelName]notify.Channel{notify.ChannelEmail: held})
			w.SendTimeout, w.RetryBase, w.RetryMax = 400*time.Millisecond, time.Hour, time.Hour
			enqueue(t, db, message("slow/1", notify.ChannelEmail, "a@b.kz"))
			stop, done := runWorker(t, w)
			eventually(t, 10*time.Second, "the delivery in flight", func() bool { return held.started.Load() == 1 })
			stopped := time.Now()
			stop()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("the worker did not stop after its send timeout")
			}
			if took := time.Since(stopped); took > 5*time.Second {
				t.Errorf("the stop took %v with a send timeout of 400 ms", took)
			}
			m := get(t, o, "slow/1")
			if m.Status != notify.Pending || m.Attempts != 1 || !strings.Contains(m.LastError, "deadline") {
				t.Fatalf("a delivery cut by its timeout: %+v", m)
			}
		})
	})
}

// TestStopReleasesClaimed: messages a worker claimed but had not begun to
// send when it was told to stop are released at once — pending, the
// attempt not counted — not left to wait for their lease.
func TestStopReleasesClaimed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var armed atomic.Bool
		armed.Store(true)
		// The stop arrives while the worker's first claim is under way.
		o := &notify.Outbox{DB: db, Now: func() time.Time {
			if armed.CompareAndSwap(true, false) {
				cancel()
			}
			return time.Now()
		}}
		for i := range 7 {
			enqueue(t, db, message(fmt.Sprintf("release/%d", i), notify.ChannelBot, "123456"))
		}
		held := newHeld()
		close(held.open)
		w := fastWorker(o, map[notify.ChannelName]notify.Channel{notify.ChannelBot: held})
		w.Lease = time.Hour
		done := make(chan struct{})
		go func() { w.Run(ctx); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("the worker did not stop")
		}
		if s := w.Stats(); s.Claimed != 7 || s.Released != 7 || s.Sent != 0 {
			t.Fatalf("stats %+v: want 7 claimed and released, none sent", s)
		}
		if calls, _ := held.stats(); len(calls) != 0 {
			t.Fatalf("a stopping worker sent %v", calls)
		}
		for i := range 7 {
			k := fmt.Sprintf("release/%d", i)
			if m := get(t, o, k); m.Status != notify.Pending || m.Attempts != 0 || m.Lease != "" {
				t.Errorf("%s after the stop: %+v", k, m)
			}
		}
		// Claimable at once, though the lease would have held them an hour.
		got, err := notify.New(db).Claim(context.Background(), "next/1", 100, time.Minute)
		if err != nil || len(got) != 7 {
			t.Fatalf("claim after the stop: %d messages, %v", len(got), err)
		}
		for _, m := range got {
			if m.Attempts != 1 {
				t.Errorf("%s claimed again with attempts %d, want 1", m.Key, m.Attempts)
			}
		}
	})
}
