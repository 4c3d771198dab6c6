package webpush_test

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/notify"
	"qorgan/internal/registry"
	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
	"qorgan/internal/testkit"
	"qorgan/internal/webpush"
	"qorgan/internal/webpush/pushtest"
)

type fixture struct {
	db       *store.DB
	reg      *registry.Registry
	svc      *webpush.Service
	pupil    registry.Pupil
	mother   auth.Principal // language ru
	father   auth.Principal // language kk
	schoolID int64
}

func setup(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	school := testkit.Schools(t, db, registry.SchoolInput{Code: "TRK-001", NameKK: "№1 мектеп", NameRU: "Школа №1",
		RegionCode: "610000000", DistrictCode: "611000000", Headcount: 900})["TRK-001"]
	a := auth.New(db)
	reg := registry.New(db, a)
	p, err := reg.CreatePupil(ctx, auth.System, school, registry.PupilInput{ExternalID: "N-1", LastName: "Ахметова", FirstName: "Айгерім", Class: "5А",
		Guardians: []registry.GuardianInput{
			{Phone: "+77011110001", FullName: "Сәуле", Language: "ru", ConsentGivenOn: "2025-09-01"},
			{Phone: "+77011110002", FullName: "Ерлан", Language: "kk", ConsentGivenOn: "2025-09-01"},
		}})
	if err != nil {
		t.Fatal(err)
	}
	key, err := webpush.LoadKey(ctx, db, "")
	if err != nil {
		t.Fatal(err)
	}
	guardian := func(i int) auth.Principal {
		id := p.Guardians[i].ID
		return auth.Principal{UserID: 100 + id, Login: fmt.Sprintf("g%d", id), Role: auth.RoleGuardian,
			Scope: auth.Scope{Kind: auth.ScopeGuardian, Ref: strconv.FormatInt(id, 10)}}
	}
	return &fixture{db: db, reg: reg, svc: webpush.New(db, key), pupil: p, mother: guardian(0), father: guardian(1), schoolID: school}
}

func subscription(t *testing.T, endpoint string, ua *pushtest.UserAgent) webpush.NewSubscription {
	return webpush.NewSubscription{Endpoint: endpoint, Keys: webpush.SubscriptionKeys{P256dh: ua.P256dh(), Auth: ua.AuthKey()}}
}

// TestVAPIDKeyKept: the first start makes a key and stores it, later starts
// (other nodes) read the same; a configured key wins; a bad one is refused
// naming the option.
func TestVAPIDKeyKept(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		k1, err := webpush.LoadKey(ctx, db, "")
		if err != nil {
			t.Fatal(err)
		}
		k2, err := webpush.LoadKey(ctx, db, "")
		if err != nil || k2.PublicKey() != k1.PublicKey() {
			t.Fatalf("second start: %v, same key %v", err, k2 != nil && k2.PublicKey() == k1.PublicKey())
		}
		own, _ := webpush.GenerateVAPIDKey()
		k3, err := webpush.LoadKey(ctx, db, own.PrivateKey())
		if err != nil || k3.PublicKey() != own.PublicKey() {
			t.Fatalf("configured key: %v", err)
		}
		if _, err := webpush.LoadKey(ctx, db, "short"); err == nil || !strings.Contains(err.Error(), "--vapid-private-key") {
			t.Fatalf("bad configured key: %v", err)
		}
	})
}

// TestSubscribe: bad subscriptions are refused naming every bad field and
// write nothing; a good one is stored once however often it is posted; only
// guardians subscribe; the same endpoint from another guardian replaces the
// first's; unsubscribing takes only one's own; both are audited.
func TestSubscribe(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		ua, _ := pushtest.NewUserAgent()
		good := subscription(t, "https://push.example.net/wpush/abc", ua)
		short := ua.P256dh()[:20]
		offCurve := webpush.SubscriptionKeys{P256dh: "BA" + strings.Repeat("A", 85), Auth: ua.AuthKey()}
		for _, c := range []struct {
			in     webpush.NewSubscription
			fields []string
		}{
			{webpush.NewSubscription{}, []string{"endpoint", "keys.p256dh", "keys.auth"}},
			{webpush.NewSubscription{Endpoint: "http://push.example.net/x", Keys: good.Keys}, []string{"endpoint"}},
			{webpush.NewSubscription{Endpoint: "ftp://push.example.net/x", Keys: good.Keys}, []string{"endpoint"}},
			{webpush.NewSubscription{Endpoint: "/relative", Keys: good.Keys}, []string{"endpoint"}},
			{webpush.NewSubscription{Endpoint: good.Endpoint, Keys: webpush.SubscriptionKeys{P256dh: short, Auth: "***"}}, []string{"keys.p256dh", "keys.auth"}},
			{webpush.NewSubscription{Endpoint: good.Endpoint, Keys: webpush.SubscriptionKeys{P256dh: ua.P256dh(), Auth: ua.AuthKey() + "AA"}}, []string{"keys.auth"}},
			{webpush.NewSubscription{Endpoint: good.Endpoint, Keys: offCurve}, []string{"keys.p256dh"}},
			{webpush.NewSubscription{Endpoint: good.Endpoint, Keys: good.Keys, Language: "de"}, []string{"language"}},
		} {
			_, err := f.svc.Subscribe(ctx, f.mother, c.in)
			var got []string
			var l errs.List
			if e, ok := err.(errs.List); ok {
				l = e
			} else if e := errs.As(err); err != nil {
				l = errs.List{e}
			}
			for _, e := range l {
				if e.Code != errs.Invalid {
					t.Errorf("%+v: code %s", c.in, e.Code)
				}
				got = append(got, e.Field)
			}
			if strings.Join(got, ",") != strings.Join(c.fields, ",") {
				t.Errorf("%+v: fields %v, want %v (%v)", c.in, got, c.fields, err)
			}
		}
		var n int
		db.Reader().QueryRowContext(ctx, "SELECT COUNT(*) FROM push_subscriptions").Scan(&n)
		if n != 0 {
			t.Fatalf("%d subscriptions written by bad input", n)
		}
		if _, err := f.svc.Subscribe(ctx, auth.System, good); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("an administrator subscribed: %v", err)
		}

		s1, err := f.svc.Subscribe(ctx, f.mother, good)
		if err != nil || s1.Language != "ru" || s1.Endpoint != good.Endpoint {
			t.Fatalf("subscribe: %+v %v", s1, err)
		}
		local := subscription(t, "http://127.0.0.1:9/push/1", ua)
		local.Language = "en"
		s2, err := f.svc.Subscribe(ctx, f.mother, local)
		if err != nil || s2.Language != "en" {
			t.Fatalf("a local http endpoint in English: %+v %v", s2, err)
		}
		again, err := f.svc.Subscribe(ctx, f.mother, good)
		if err != nil || again.ID != s1.ID {
			t.Fatalf("subscribing again: %+v %v (first %d)", again, err, s1.ID)
		}
		mine, _ := f.svc.MySubscriptions(ctx, f.mother)
		if len(mine) != 2 {
			t.Fatalf("mother's subscriptions: %+v", mine)
		}
		// The father signs in on the same phone: the subscription is his now,
		// under a new id.
		his, err := f.svc.Subscribe(ctx, f.father, good)
		if err != nil || his.ID == s1.ID || his.Language != "kk" {
			t.Fatalf("father: %+v %v", his, err)
		}
		if mine, _ := f.svc.MySubscriptions(ctx, f.mother); len(mine) != 1 || mine[0].ID != s2.ID {
			t.Fatalf("mother's after the father took the phone: %+v", mine)
		}
		if _, err := f.svc.Unsubscribe(ctx, f.mother, webpush.Unsubscription{Endpoint: good.Endpoint}); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("mother removed the father's subscription: %v", err)
		}
		if _, err := f.svc.Unsubscribe(ctx, f.mother, webpush.Unsubscription{}); errs.CodeOf(err) != errs.Invalid {
			t.Fatalf("no endpoint: %v", err)
		}
		if r, err := f.svc.Unsubscribe(ctx, f.father, webpush.Unsubscription{Endpoint: good.Endpoint}); err != nil || r.Removed != 1 {
			t.Fatalf("father unsubscribes: %+v %v", r, err)
		}
		var audited int
		if err := db.Reader().QueryRowContext(ctx, "SELECT COUNT(*) FROM audit WHERE action LIKE 'guardian.push_%'").Scan(&audited); err != nil {
			t.Fatal(err)
		}
		if audited != 5 {
			t.Errorf("audit entries: %d, want 5 (four subscriptions, one removal)", audited)
		}

		// Past the limit the oldest goes.
		for i := 0; i < webpush.MaxPerGuardian; i++ {
			u, _ := pushtest.NewUserAgent()
			if _, err := f.svc.Subscribe(ctx, f.mother, subscription(t, fmt.Sprintf("https://push.example.net/wpush/%d", i), u)); err != nil {
				t.Fatal(err)
			}
		}
		mine, _ = f.svc.MySubscriptions(ctx, f.mother)
		if len(mine) != webpush.MaxPerGuardian || mine[0].ID == s2.ID {
			t.Fatalf("after %d more: %d kept, oldest %d", webpush.MaxPerGuardian, len(mine), mine[0].ID)
		}

		// Erasing the child erases the childless guardians, and with them
		// their subscriptions.
		if _, err := f.reg.ErasePupil(ctx, auth.System, f.pupil.ID); err != nil {
			t.Fatal(err)
		}
		db.Reader().QueryRowContext(ctx, "SELECT COUNT(*) FROM push_subscriptions").Scan(&n)
		if n != 0 {
			t.Fatalf("%d subscriptions outlived their guardian's erasure", n)
		}
	})
}

// TestDeliveryThroughOutbox: a message queued on the webpush channel goes
// out through the outbox worker to a local push service, which gets a body
// the browser decrypts to the text and a VAPID token that verifies; a 503
// is retried; a 410 removes the subscription and the message is not retried.
func TestDeliveryThroughOutbox(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		svc := pushtest.NewService()
		defer svc.Close()
		ua, _ := pushtest.NewUserAgent()
		sub, err := f.svc.Subscribe(ctx, f.mother, subscription(t, svc.URL+"/push/mother", ua))
		if err != nil {
			t.Fatal(err)
		}
		ch := webpush.NewChannel(f.svc, "mailto:ops@qorgan.example")
		w := notify.NewWorker(notify.New(db), map[notify.ChannelName]notify.Channel{notify.ChannelWebPush: ch}, slog.New(slog.DiscardHandler))
		w.Poll, w.RetryBase, w.RetryMax = 20*time.Millisecond, 50*time.Millisecond, 100*time.Millisecond
		wctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { w.Run(wctx); close(done) }()
		defer func() { stop(); <-done }()

		enqueue := func(key, body string) {
			t.Helper()
			err := db.InTx(ctx, func(tx *store.Tx) error {
				_, err := notify.Enqueue(ctx, tx, []notify.Message{{Key: key, Channel: notify.ChannelWebPush, Recipient: strconv.FormatInt(sub.ID, 10),
					Kind: "pupil.entered", Body: body, Language: "ru", SchoolID: f.schoolID, PupilID: f.pupil.ID, ExpiresAt: time.Now().Add(time.Hour)}})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			w.Wake()
		}
		status := func(key string) (st string, attempts int, last string) {
			db.Reader().QueryRowContext(ctx, "SELECT status, attempts, last_error FROM outbox WHERE idempotency_key = ?", key).Scan(&st, &attempts, &last)
			return
		}
		waitStatus := func(key, want string) (int, string) {
			t.Helper()
			deadline := time.Now().Add(10 * time.Second)
			for {
				st, n, last := status(key)
				if st == want {
					return n, last
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s: %s after %d attempts (%s), want %s", key, st, n, last, want)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}

		svc.Answer(503)
		enqueue("k1", "Айгерім пришла в школу в 07:52")
		if n, _ := waitStatus("k1", "sent"); n != 2 {
			t.Errorf("k1 sent after %d attempts, want 2 (a 503, then 201)", n)
		}
		reqs := svc.Received()
		if len(reqs) != 2 {
			t.Fatalf("push service got %d requests", len(reqs))
		}
		r := reqs[1]
		if _, err := pushtest.VerifyVAPID(r.Header.Get("Authorization"), svc.URL+"/push/mother", time.Now()); err != nil {
			t.Fatalf("VAPID: %v", err)
		}
		if ttl, _ := strconv.Atoi(r.Header.Get("TTL")); ttl < 3000 || ttl > 3600 {
			t.Errorf("TTL %d, want the message's remaining hour", ttl)
		}
		plain, err := ua.Decrypt(r.Body)
		if err != nil || string(plain) != "Айгерім пришла в школу в 07:52" {
			t.Fatalf("payload %q: %v", plain, err)
		}
		if r.Header.Get("Topic") != webpush.Topic("k1") || len(webpush.Topic("k1")) != 32 || webpush.Topic("k1") == webpush.Topic("k2") {
			t.Errorf("Topic %q", r.Header.Get("Topic"))
		}
		if reqs[0].Header.Get("Topic") != r.Header.Get("Topic") {
			t.Errorf("the retry has another topic than the first attempt")
		}

		svc.Answer(410)
		enqueue("k2", "Айгерім ушла из школы в 13:10")
		n, last := waitStatus("k2", "dead")
		if n != 1 || !strings.Contains(last, "410") {
			t.Errorf("k2: %d attempts, %q", n, last)
		}
		if mine, _ := f.svc.MySubscriptions(ctx, f.mother); len(mine) != 0 {
			t.Fatalf("the subscription outlived a 410: %+v", mine)
		}
		enqueue("k3", "later")
		if n, last := waitStatus("k3", "dead"); n != 1 || !strings.Contains(last, "removed") {
			t.Errorf("k3 to the removed subscription: %d attempts, %q", n, last)
		}
		if got := len(svc.Received()); got != 3 {
			t.Errorf("push service got %d requests, want 3", got)
		}
	})
}
