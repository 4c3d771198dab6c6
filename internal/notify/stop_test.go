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

// TestClaimsAhead: a worker claims more than it can have in flight — the
// rest wait for a slot in memory, so that a claim (a turn on the store's
// writer) carries many messages — yet never sends more at once than its
// channel's share; told to stop, it releases the messages still waiting,
// unsent and their attempt not counted, and records the ones in flight.
func TestClaimsAhead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		o := notify.New(db)
		for i := range 20 {
			enqueue(t, db, message(fmt.Sprintf("ahead/%d", i), notify.ChannelBot, "123456"))
		}
		held := newHeld()
		w := fastWorker(o, map[notify.ChannelName]notify.Channel{notify.ChannelBot: held})
		// A share of 3 in flight; up to twice that claimed.
		w.Concurrency, w.Batch, w.Lease = 4, 8, time.Hour
		stop, done := runWorker(t, w)
		eventually(t, 5*time.Second, "6 claimed, 3 of them in flight", func() bool { return w.Stats().Claimed == 6 && held.started.Load() == 3 })
		time.Sleep(100 * time.Millisecond) // more would be claimed or sent by now
		if s, n := w.Stats(), held.started.Load(); s.Claimed != 6 || n != 3 {
			t.Fatalf("claimed %d, %d sends begun; want 6 claimed (twice the share) and 3 in flight", s.Claimed, n)
		}
		stop()
		time.Sleep(50 * time.Millisecond)
		close(held.open) // the three in flight are answered
		<-done
		s := w.Stats()
		if s.Sent != 3 || s.Released != 3 {
			t.Fatalf("stats %+v: want 3 sent, 3 released", s)
		}
		calls, _ := held.stats()
		if len(calls) != 3 {
			t.Fatalf("%d messages sent, want 3: %v", len(calls), calls)
		}
		if n := countStatus(t, db, notify.Sent); n != 3 {
			t.Fatalf("%d recorded sent, want 3", n)
		}
		if n := countStatus(t, db, notify.Sending); n != 0 {
			t.Fatalf("%d left sending after a graceful stop", n)
		}
		var attempts int
		if err := db.Reader().QueryRowContext(context.Background(), "SELECT COALESCE(SUM(attempts), 0) FROM outbox WHERE status = 'pending'").Scan(&attempts); err != nil {
			t.Fatal(err)
		}
		if attempts != 0 {
			t.Fatalf("released messages kept %d attempts, want none counted", attempts)
		}
	})
}

// TestLongWaitReleased: a claimed message that waited for a slot so long
// that its send could outlast its lease is given back, not sent while
// another worker may take it again; it is sent later, once, all the same.
func TestLongWaitReleased(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		o := notify.New(db)
		var mu sync.Mutex
		calls := map[string]int{}
		slow := notify.ChannelFunc(func(ctx context.Context, m notify.Message) error {
			mu.Lock()
			calls[m.Key]++
			mu.Unlock()
			time.Sleep(300 * time.Millisecond) // a slow provider, within the send's limit
			return nil
		})
		for i := range 4 {
			enqueue(t, db, message(fmt.Sprintf("wait/%d", i), notify.ChannelSMS, "+77011234567"))
		}
		w := fastWorker(o, map[notify.ChannelName]notify.Channel{notify.ChannelSMS: slow})
		// One in flight, one more claimed; a message may wait at most
		// half its lease (200 ms) for its slot.
		w.Concurrency, w.Batch, w.ChannelConcurrency = 1, 1, 1
		w.Lease, w.SendTimeout = 400*time.Millisecond, 350*time.Millisecond
		start(t, w)
		eventually(t, 20*time.Second, "every message sent", func() bool { return countStatus(t, db, notify.Sent) == 4 })
		if s := w.Stats(); s.Released == 0 {
			t.Fatalf("stats %+v: no message waited past its time, want some released", s)
		}
		mu.Lock()
		defer mu.Unlock()
		for k, n := range calls {
			if n != 1 {
				t.Errorf("%s sent %d times", k, n)
			}
		}
		if len(calls) != 4 {
			t.Errorf("%d messages sent, want 4", len(calls))
		}
	})
}
