package notify_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"qorgan/internal/notify"
	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
	"qorgan/internal/urgent"
)

// recorder is a channel that answers with a scripted error per call.
type recorder struct {
	mu    sync.Mutex
	calls map[string][]time.Time
	fail  func(m notify.Message, call int) error
}

func (r *recorder) Send(_ context.Context, m notify.Message) error {
	r.mu.Lock()
	if r.calls == nil {
		r.calls = map[string][]time.Time{}
	}
	r.calls[m.Key] = append(r.calls[m.Key], time.Now())
	n := len(r.calls[m.Key])
	r.mu.Unlock()
	if r.fail == nil {
		return nil
	}
	return r.fail(m, n)
}

func (r *recorder) times(key string) []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Time(nil), r.calls[key]...)
}

func TestWorker(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		o := notify.New(db)
		rec := &recorder{fail: func(m notify.Message, call int) error {
			switch {
			case strings.HasPrefix(m.Key, "flaky/") && call < 3:
				return errors.New("gateway busy")
			case strings.HasPrefix(m.Key, "down/"):
				return notify.Temporary(errors.New("gateway down"), 0)
			case strings.HasPrefix(m.Key, "bad/"):
				return notify.Permanent(errors.New("no such number"))
			}
			return nil
		}}
		w := fastWorker(o, map[notify.ChannelName]notify.Channel{notify.ChannelSMS: rec})
		start(t, w)

		t.Run("retries with backoff, then sent", func(t *testing.T) {
			enqueue(t, db, message("flaky/1", notify.ChannelSMS, "+77011234567"))
			w.Wake()
			eventually(t, 10*time.Second, "sent after retries", statusIs(t, o, "flaky/1", notify.Sent))
			m := get(t, o, "flaky/1")
			if m.Attempts != 3 || m.SentAt.IsZero() || m.LastError != "gateway busy" {
				t.Fatalf("sent message: %+v", m)
			}
		})
		t.Run("retries with growing backoff, then a dead letter", func(t *testing.T) {
			enqueue(t, db, message("down/1", notify.ChannelSMS, "+77011234567"))
			w.Wake()
			eventually(t, 10*time.Second, "dead letter", statusIs(t, o, "down/1", notify.Dead))
			m := get(t, o, "down/1")
			if m.Attempts != 4 || !strings.Contains(m.LastError, "gave up after 4 attempts") || !strings.Contains(m.LastError, "gateway down") {
				t.Fatalf("dead letter: %+v", m)
			}
			calls := rec.times("down/1")
			if len(calls) != 4 {
				t.Fatalf("%d attempts sent, want 4", len(calls))
			}
			// RetryBase 20 ms doubling to RetryMax 80 ms, half of it random:
			// each gap is at least half of its step.
			for i, min := range []time.Duration{10, 20, 40} {
				if gap := calls[i+1].Sub(calls[i]); gap < min*time.Millisecond {
					t.Errorf("retry %d came after %v, want ≥ %v", i+1, gap, min*time.Millisecond)
				}
			}
		})
		t.Run("a permanent error is a dead letter at once", func(t *testing.T) {
			enqueue(t, db, message("bad/1", notify.ChannelSMS, "+77011234567"))
			w.Wake()
			eventually(t, 10*time.Second, "dead letter", statusIs(t, o, "bad/1", notify.Dead))
			m := get(t, o, "bad/1")
			if m.Attempts != 1 || !strings.Contains(m.LastError, "no such number") || len(rec.times("bad/1")) != 1 {
				t.Fatalf("dead letter: %+v after %d calls", m, len(rec.times("bad/1")))
			}
		})
		t.Run("a stale message is not sent", func(t *testing.T) {
			m := message("stale/1", notify.ChannelSMS, "+77011234567")
			m.ExpiresAt = time.Now().Add(-time.Minute)
			enqueue(t, db, m)
			w.Wake()
			eventually(t, 10*time.Second, "dead letter", statusIs(t, o, "stale/1", notify.Dead))
			if len(rec.times("stale/1")) != 0 || !strings.Contains(get(t, o, "stale/1").LastError, "stale") {
				t.Fatal("a stale message was sent or not marked stale")
			}
		})
		t.Run("a channel this node lacks is retried, not dropped", func(t *testing.T) {
			enqueue(t, db, message("nobot/1", notify.ChannelBot, "123456"))
			w.Wake()
			eventually(t, 10*time.Second, "a failed attempt", func() bool { return get(t, o, "nobot/1").LastError != "" })
			if m := get(t, o, "nobot/1"); !strings.Contains(m.LastError, "no bot channel") {
				t.Fatalf("message without a channel: %+v", m)
			}
		})
	})
}

func TestDeliveryStatus(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := notify.New(db)
		since := time.Now().Add(-time.Minute)
		ok := notify.ChannelFunc(func(context.Context, notify.Message) error { return nil })
		w := fastWorker(o, map[notify.ChannelName]notify.Channel{
			notify.ChannelWebhook: ok,
			notify.ChannelEmail:   notify.ChannelFunc(func(context.Context, notify.Message) error { return errors.New("451 try later") }),
			notify.ChannelBot: notify.ChannelFunc(func(context.Context, notify.Message) error {
				return notify.Permanent(errors.New("bot API 403: blocked"))
			}),
		})
		w.RetryBase, w.RetryMax = time.Hour, time.Hour
		other := message("status/other", notify.ChannelWebhook, "https://other.example/hook")
		other.SchoolID = 8
		enqueue(t, db,
			message("status/1", notify.ChannelWebhook, "https://school.example/hook?token=secret"),
			message("status/2", notify.ChannelWebhook, "https://school.example/hook?token=secret"),
			message("status/3", notify.ChannelEmail, "aigul.nurlanovna@mail.kz"),
			message("status/4", notify.ChannelBot, "987654321"),
			other)
		start(t, w)
		eventually(t, 10*time.Second, "outcomes", func() bool {
			return get(t, o, "status/2").Status == notify.Sent && get(t, o, "status/3").LastError != "" && get(t, o, "status/4").Status == notify.Dead
		})
		got, err := o.Status(ctx, 7, since)
		if err != nil {
			t.Fatal(err)
		}
		want := []notify.StatusCount{{Channel: "bot", Status: "dead", Count: 1}, {Channel: "email", Status: "pending", Count: 1}, {Channel: "webhook", Status: "sent", Count: 2}}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("status = %v, want %v", got, want)
		}
		fails, err := o.Failures(ctx, 7, since, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(fails) != 2 {
			t.Fatalf("failures: %+v", fails)
		}
		byChannel := map[notify.ChannelName]notify.Failure{}
		for _, f := range fails {
			byChannel[f.Channel] = f
		}
		if f := byChannel[notify.ChannelEmail]; f.Status != notify.Pending || f.NextAttemptAt == nil || f.Recipient != "a***@mail.kz" || f.PupilID != 42 {
			t.Errorf("email failure: %+v", f)
		}
		if f := byChannel[notify.ChannelBot]; f.Status != notify.Dead || f.Recipient != "***321" || !strings.Contains(f.LastError, "blocked") {
			t.Errorf("bot failure: %+v", f)
		}
		if got := notify.MaskRecipient(notify.ChannelWebhook, "https://school.example/hook?token=secret"); strings.Contains(got, "secret") {
			t.Errorf("masked webhook %q", got)
		}
		if got := notify.MaskRecipient(notify.ChannelSMS, "+77011234567"); got != "+7********67" {
			t.Errorf("masked phone %q", got)
		}
	})
}

// dedupSink is a webhook receiver that verifies signatures and keeps one
// message per idempotency key, as a well-behaved receiver does.
type dedupSink struct {
	secret []byte
	mu     sync.Mutex
	posts  int
	times  []time.Time
	keys   map[string]int
	bodies map[string]string
	bad    []string
}

func (s *dedupSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	key := r.Header.Get(notify.KeyHeader)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !notify.VerifySignature(s.secret, body, r.Header.Get(notify.SignatureHeader)) {
		s.bad = append(s.bad, "bad signature for "+key)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if r.Header.Get(notify.TimestampHeader) == "" {
		s.bad = append(s.bad, "no timestamp")
	}
	s.posts++
	s.times = append(s.times, time.Now())
	if s.keys == nil {
		s.keys, s.bodies = map[string]int{}, map[string]string{}
	}
	if prev, ok := s.bodies[key]; ok && prev != string(body) {
		s.bad = append(s.bad, "a repeat of "+key+" has another body")
	}
	s.keys[key]++
	s.bodies[key] = string(body)
	w.WriteHeader(http.StatusAccepted)
}

func (s *dedupSink) stats() (posts int, keys map[string]int, bad []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := map[string]int{}
	for key, n := range s.keys {
		k[key] = n
	}
	return s.posts, k, append([]string(nil), s.bad...)
}

// hangAfterSend passes messages on to its channel; on the first one, after
// the provider has accepted it, the worker hangs — as good as a node that
// died before it could record the delivery — until release is closed.
type hangAfterSend struct {
	notify.Channel
	once    sync.Once
	hung    chan struct{} // closed when the worker hangs
	release chan struct{}
}

func (h *hangAfterSend) Send(ctx context.Context, m notify.Message) error {
	err := h.Channel.Send(ctx, m)
	h.once.Do(func() {
		close(h.hung)
		<-h.release
	})
	return err
}

// TestCrashMidDelivery: the sink receives the message, then its worker dies
// before it can mark it sent (a crash, not a graceful stop: the row stays
// "sending"). A new worker takes the message over when the lease runs out
// and delivers it again with the same key and body, and the receiver that
// deduplicates by key holds it once. The dead worker coming back late
// cannot overwrite the new worker's record.
func TestCrashMidDelivery(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		o := notify.New(db)
		secret := []byte("school-7-secret")
		sink := &dedupSink{secret: secret}
		srv := httptest.NewServer(sink)
		defer srv.Close()
		webhook := &notify.WebhookChannel{Secret: secret}
		hang := &hangAfterSend{Channel: webhook, hung: make(chan struct{}), release: make(chan struct{})}
		const lease = 700 * time.Millisecond
		key := "pass/99/guardian/5/webhook"
		enqueue(t, db, message(key, notify.ChannelWebhook, srv.URL+"/hook"))

		w1 := fastWorker(o, map[notify.ChannelName]notify.Channel{notify.ChannelWebhook: hang})
		w1.Name, w1.Lease = "node-a", lease
		ctx1, stop1 := context.WithCancel(context.Background())
		done1 := make(chan struct{})
		go func() { w1.Run(ctx1); close(done1) }()
		t.Cleanup(func() {
			stop1()
			select {
			case <-hang.release:
			default:
				close(hang.release)
			}
			<-done1
		})
		select {
		case <-hang.hung:
		case <-time.After(10 * time.Second):
			t.Fatal("the first worker did not deliver")
		}
		stop1() // it claims nothing more, but cannot record what it sent
		m := get(t, o, key)
		if m.Status != notify.Sending || m.Attempts != 1 || !strings.HasPrefix(m.Lease, "node-a/") {
			t.Fatalf("after the crash: %+v", m)
		}
		if posts, _, _ := sink.stats(); posts != 1 {
			t.Fatalf("sink got %d posts before the crash", posts)
		}

		var leaseUntil int64
		if err := db.Reader().QueryRowContext(context.Background(), "SELECT lease_until FROM outbox WHERE idempotency_key = ?", key).Scan(&leaseUntil); err != nil {
			t.Fatal(err)
		}
		w2 := fastWorker(o, map[notify.ChannelName]notify.Channel{notify.ChannelWebhook: webhook})
		w2.Name, w2.Lease = "node-b", lease
		start(t, w2)
		eventually(t, 10*time.Second, "the second worker's delivery", statusIs(t, o, key, notify.Sent))
		sink.mu.Lock()
		again := sink.times[len(sink.times)-1]
		sink.mu.Unlock()
		if again.Before(store.FromMicros(leaseUntil)) {
			t.Fatalf("redelivered at %v, before the lease ran out at %v", again, store.FromMicros(leaseUntil))
		}
		m = get(t, o, key)
		if m.Attempts != 2 || !strings.HasPrefix(m.Lease, "node-b/") {
			t.Fatalf("after the takeover: %+v", m)
		}
		posts, keys, bad := sink.stats()
		if posts != 2 || len(keys) != 1 || keys[key] != 2 || len(bad) != 0 {
			t.Fatalf("sink: %d posts, keys %v, problems %v; want 2 posts of one key, the same body", posts, keys, bad)
		}

		// The first worker comes back and reports its delivery: dropped.
		sentAt := m.SentAt
		close(hang.release)
		select {
		case <-done1:
		case <-time.After(10 * time.Second):
			t.Fatal("the first worker did not stop")
		}
		if m := get(t, o, key); m.Status != notify.Sent || !strings.HasPrefix(m.Lease, "node-b/") || !m.SentAt.Equal(sentAt) {
			t.Fatalf("the late worker overwrote the record: %+v", m)
		}
	})
}

// TestSlowChannelLeavesRoom: an SMS gateway that hangs holds at most its
// share of the deliveries in flight; the bot's messages, queued after a
// backlog of SMS, go out meanwhile. When the gateway answers again, every
// SMS goes too.
func TestSlowChannelLeavesRoom(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		o := notify.New(db)
		sms := newGatedChannel() // the gateway hangs until released
		var bot atomic.Int32
		w := fastWorker(o, map[notify.ChannelName]notify.Channel{
			notify.ChannelSMS: sms,
			notify.ChannelBot: notify.ChannelFunc(func(ctx context.Context, m notify.Message) error {
				bot.Add(1)
				return nil
			}),
		})
		// Three quarters of the 8 in flight by default: 6 per channel.
		w.Concurrency, w.Batch = 8, 8
		w.SendTimeout = time.Minute
		var msgs []notify.Message
		for i := range 40 {
			msgs = append(msgs, message(fmt.Sprintf("sms/%d", i), notify.ChannelSMS, "+77011234567"))
		}
		enqueue(t, db, msgs...)
		msgs = msgs[:0]
		for i := range 20 {
			msgs = append(msgs, message(fmt.Sprintf("bot/%d", i), notify.ChannelBot, "100200300"))
		}
		enqueue(t, db, msgs...)
		start(t, w)
		eventually(t, 5*time.Second, "the bot's 20 messages sent while the SMS gateway hangs", func() bool { return bot.Load() == 20 })
		if sms.sent.Load() != 0 || sms.peak.Load() > 6 {
			t.Fatalf("SMS sent %d, at most %d at once; want none sent and at most 6 at once", sms.sent.Load(), sms.peak.Load())
		}
		sms.open()
		eventually(t, 10*time.Second, "every SMS sent once the gateway answers", func() bool { return sms.sent.Load() == 40 })
	})
}

// TestOneChannelBacklogFlows: a backlog on one channel is claimed again as
// its deliveries end, not once a poll: 60 messages through 6 slots of a
// fast channel take well under one poll interval.
func TestOneChannelBacklogFlows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		o := notify.New(db)
		var sent atomic.Int32
		w := fastWorker(o, map[notify.ChannelName]notify.Channel{
			notify.ChannelWebhook: notify.ChannelFunc(func(ctx context.Context, m notify.Message) error {
				sent.Add(1)
				return nil
			}),
		})
		w.Concurrency, w.Batch, w.Poll = 8, 8, 5*time.Second
		var msgs []notify.Message
		for i := range 60 {
			msgs = append(msgs, message(fmt.Sprintf("backlog/%d", i), notify.ChannelWebhook, "https://school.example/hook"))
		}
		enqueue(t, db, msgs...)
		start(t, w)
		eventually(t, 3*time.Second, "60 webhooks sent within one poll interval", func() bool { return sent.Load() == 60 })
	})
}

// TestWebhooksKeepTheirConnections: a worker with more webhooks in flight
// than the HTTP client's default idle pool keeps its connections to the
// host between bursts instead of closing those past the pool and opening
// new ones for the next burst. Six bursts of 400 webhooks, each delivered
// up to 400 at a time to a slow host: after the first burst no more than a
// few connections are opened (with 256 kept: about 144 a burst).
func TestWebhooksKeepTheirConnections(t *testing.T) {
	db := storetest.SQLite(t)
	var conns, inFlight, most atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		io.Copy(io.Discard, r.Body)
		// A slow host: each answer waits until 300 of the burst are in
		// flight (or 2 s have passed), so that more than the default pool
		// are, however slowly the worker (or the race detector) starts them.
		for t0 := time.Now(); most.Load() < 300 && time.Since(t0) < 2*time.Second; {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(10 * time.Millisecond)
		inFlight.Add(-1)
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	o := notify.New(db)
	w := fastWorker(o, map[notify.ChannelName]notify.Channel{notify.ChannelWebhook: &notify.WebhookChannel{Secret: []byte("s")}})
	w.Concurrency, w.ChannelConcurrency, w.Batch = 400, 400, 800
	stop := start(t, w)
	defer stop()
	const bursts, size = 6, 400
	var first int64 // connections opened by the first burst
	for b := range bursts {
		var msgs []notify.Message
		for i := range size {
			msgs = append(msgs, message(fmt.Sprintf("hook/%d/%d", b, i), notify.ChannelWebhook, srv.URL))
		}
		enqueue(t, db, msgs...)
		w.Wake()
		eventually(t, 30*time.Second, "the burst delivered", func() bool {
			var left int
			db.Reader().QueryRowContext(context.Background(), "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL").Scan(&left)
			return left == 0
		})
		if b == 0 {
			first = conns.Load()
		}
	}
	if most.Load() <= 256 {
		t.Fatalf("at most %d webhooks in flight at once: the test needs more than the default pool to mean anything", most.Load())
	}
	// The first burst opens the connections (a few more than were in
	// flight at once, when a dial finishes after a connection came free);
	// the later bursts find them kept.
	if again := conns.Load() - first; again > size/10 {
		t.Fatalf("the first burst opened %d connections (at most %d webhooks in flight at once), the next %d bursts %d more: connections are closed and opened again instead of kept",
			first, most.Load(), bursts-1, again)
	}
}

// TestDeliveriesGiveWayToAlarms: while an alarm is on its way (GiveWay
// active), at most an eighth of Concurrency deliveries are in flight; the
// backlog goes on at that pace, and once the alarm is answered the worker
// is back to its full concurrency at once. Under alarms that never clear,
// the held-back deliveries go after GiveWayAtMost: delayed, never stopped.
func TestDeliveriesGiveWayToAlarms(t *testing.T) {
	setup := func(t *testing.T, atMost time.Duration) (*urgent.Signal, *gatedChannel) {
		db := storetest.SQLite(t)
		hook := newGatedChannel()
		w := fastWorker(notify.New(db), map[notify.ChannelName]notify.Channel{notify.ChannelWebhook: hook})
		alarms := new(urgent.Signal)
		w.Concurrency, w.Batch, w.GiveWay, w.GiveWayAtMost = 32, 64, alarms, atMost
		w.SendTimeout = time.Minute
		alarms.Begin()
		var msgs []notify.Message
		for i := range 64 {
			msgs = append(msgs, message(fmt.Sprintf("giveway/%d", i), notify.ChannelWebhook, "https://school.example/hook"))
		}
		enqueue(t, db, msgs...)
		start(t, w)
		t.Cleanup(func() {
			hook.open() // a failed test leaves no delivery waiting for SendTimeout
			if alarms.Active() {
				alarms.End()
			}
		})
		return alarms, hook
	}

	t.Run("until answered", func(t *testing.T) {
		alarms, hook := setup(t, time.Hour)
		release, inFlight, peak, sent := hook.release, &hook.inFlight, &hook.peak, &hook.sent
		// The alarm on its way: four (32/8) in flight, and no more while it is.
		eventually(t, 5*time.Second, "four deliveries in flight", func() bool { return inFlight.Load() == 4 })
		time.Sleep(250 * time.Millisecond)
		if n := inFlight.Load(); n != 4 || peak.Load() != 4 {
			t.Fatalf("with an alarm on its way: %d in flight, at most %d; want 4", n, peak.Load())
		}
		// Held back, not stopped: each delivery that ends starts the next.
		for range 4 {
			release <- struct{}{}
		}
		eventually(t, 5*time.Second, "four sent and four more in flight", func() bool { return sent.Load() == 4 && inFlight.Load() == 4 })
		if peak.Load() != 4 {
			t.Fatalf("at most %d in flight while the alarm was on its way; want 4", peak.Load())
		}
		// The alarm answered: the worker fills its 24 webhook slots (three
		// quarters of 32) without waiting for a delivery to end.
		alarms.End()
		eventually(t, 2*time.Second, "24 deliveries in flight once the alarm was answered", func() bool { return inFlight.Load() == 24 })
		hook.open()
		eventually(t, 5*time.Second, "every message sent", func() bool { return sent.Load() == 64 })
	})

	t.Run("at most GiveWayAtMost", func(t *testing.T) {
		// Alarms that never clear: the held-back deliveries go once they
		// have waited GiveWayAtMost, and the worker then keeps its full
		// concurrency for as long as that stretch of alarms lasts.
		const atMost = 2 * time.Second
		alarms, hook := setup(t, atMost)
		eventually(t, 10*time.Second, "24 in flight with the alarm still on its way", func() bool { return hook.inFlight.Load() == 24 })
		first, _ := hook.start(0)
		fifth, _ := hook.start(4)
		if waited := fifth.Sub(first); waited < atMost {
			t.Fatalf("the fifth delivery began %v after the first; want at least GiveWayAtMost (%v)", waited, atMost)
		}
		// Twenty-four end: the next 24 begin at once, not after another
		// GiveWayAtMost at an eighth.
		for range 24 {
			hook.release <- struct{}{}
		}
		eventually(t, atMost*3/4, "the next 24 in flight at once", func() bool { return hook.sent.Load() == 24 && hook.inFlight.Load() == 24 })
		hook.open()
		eventually(t, 10*time.Second, "every message sent with the alarm still on its way", func() bool { return hook.sent.Load() == 64 })
		if !alarms.Active() {
			t.Fatal("the alarm ended before the test did")
		}
	})
}
