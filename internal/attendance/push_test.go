package attendance_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"qorgan/internal/attendance"
	"qorgan/internal/auth"
	"qorgan/internal/registry"
	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
	"qorgan/internal/webpush"
	"qorgan/internal/webpush/pushtest"
)

// newPush is the Web Push service on db, with the key it keeps.
func newPush(t *testing.T, db *store.DB) *webpush.Service {
	t.Helper()
	key, err := webpush.LoadKey(t.Context(), db, "")
	if err != nil {
		t.Fatal(err)
	}
	return webpush.New(db, key)
}

// subscribe subscribes a new browser of guardian g at endpoint, in lang.
func subscribe(t *testing.T, push *webpush.Service, g auth.Principal, endpoint, lang string) webpush.Subscription {
	t.Helper()
	ua, _ := pushtest.NewUserAgent()
	s, err := push.Subscribe(t.Context(), g, webpush.NewSubscription{Endpoint: endpoint,
		Keys: webpush.SubscriptionKeys{P256dh: ua.P256dh(), Auth: ua.AuthKey()}, Language: lang})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestPassToPushSubscriptions: a guardian's arrival message is queued on
// the webpush channel once per subscription, each in the subscription's
// language, with the same text the other channels carry in that language;
// none when the guardian switched Web Push off.
func TestPassToPushSubscriptions(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, f *fixture) {
		ctx, db := t.Context(), f.db
		reg := registry.New(db, f.a)
		p := f.pupil(t, registry.PupilInput{ExternalID: "WP-1", LastName: "Ахметова", FirstName: "Айгерім", Class: "5А", CardUID: "0B0B0B01",
			Guardians: []registry.GuardianInput{{Phone: "+77013330001", FullName: "Сәуле", Language: "kk", ConsentGivenOn: "2025-09-01"}}})
		g := guardianOf(1, p, 0)
		push := newPush(t, db)
		var subs []webpush.Subscription
		for i, lang := range []string{"", "ru"} {
			subs = append(subs, subscribe(t, push, g, fmt.Sprintf("https://push.example.net/s/%d", i), lang))
		}
		f.notices = f.notifier().Enqueue
		if _, err := f.svc.Record(ctx, f.turnstile, []attendance.PassEvent{{EventID: "wp-1", At: f.at("07:52"), Direction: attendance.In, CardUID: "0B0B0B01"}}); err != nil {
			t.Fatal(err)
		}
		rows := storetest.Strings(t, db.Reader(), "SELECT channel || ' ' || recipient || ' ' || language || ' ' || body FROM outbox WHERE pupil_id = ? ORDER BY channel, recipient", p.ID)
		if len(rows) != 3 {
			t.Fatalf("queued %q, want SMS and two pushes", rows)
		}
		sms := strings.SplitN(rows[0], " ", 4)
		kk := strings.SplitN(rows[1], " ", 4)
		ru := strings.SplitN(rows[2], " ", 4)
		if sms[0] != "sms" || kk[0] != "webpush" || kk[1] != fmt.Sprint(subs[0].ID) || kk[2] != "kk" || kk[3] != sms[3] {
			t.Errorf("Kazakh push %q beside SMS %q", rows[1], rows[0])
		}
		if ru[1] != fmt.Sprint(subs[1].ID) || ru[2] != "ru" || !strings.Contains(ru[3], "Айгерім") || !strings.Contains(ru[3], "07:52") || !strings.Contains(ru[3], "школ") {
			t.Errorf("Russian push %q", rows[2])
		}

		if _, err := reg.SetMyChannels(ctx, g, registry.GuardianChannels{Off: []string{"webpush"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Record(ctx, f.turnstile, []attendance.PassEvent{{EventID: "wp-2", At: f.at("08:01"), Direction: attendance.Out, CardUID: "0B0B0B01"}}); err != nil {
			t.Fatal(err)
		}
		if chans := storetest.Strings(t, db.Reader(), "SELECT channel FROM outbox WHERE pupil_id = ? AND kind = 'pupil.left'", p.ID); fmt.Sprint(chans) != "[sms]" {
			t.Fatalf("with Web Push off, the exit went on %v", chans)
		}
	})
}

// TestNotArrivedToPushSubscriptions: the not-arrived message goes to a
// guardian's browser too, in the language the browser subscribed with.
func TestNotArrivedToPushSubscriptions(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, f *fixture) { // Wednesday 25 November 2026
		ctx, db := t.Context(), f.db
		reg := registry.New(db, f.a)
		sc := newNotArrivedSchool(t, ctx, db, reg, "NA-P", "+77471111")
		dana := sc.pupils["Дана"]
		g := guardianOf(902, dana, 0)
		sub := subscribe(t, newPush(t, db), g, "https://push.example.net/na/1", "en")
		if _, err := f.svc.SetNotArrivedRule(ctx, sc.director, sc.id, attendance.NotArrivedRule{At: "08:30"}); err != nil {
			t.Fatal(err)
		}
		f.now = f.at("08:20")
		var events []attendance.PassEvent
		for _, name := range []string{"Нұрлан", "Әлия", "Тимур", "Мадина", "Арман"} {
			events = append(events, attendance.PassEvent{EventID: "nap-" + name, At: f.at("07:50"), Direction: attendance.In, CardUID: sc.pupils[name].CardUID})
		}
		if _, err := f.svc.Record(ctx, sc.turnstile, events); err != nil {
			t.Fatal(err)
		}
		n := attendance.DefaultNotifier()
		n.Now = func() time.Time { return f.at("08:31") }
		if _, err := n.CheckNotArrived(ctx, db); err != nil {
			t.Fatal(err)
		}
		got := storetest.Strings(t, db.Reader(), "SELECT recipient || ' ' || language || ' ' || body FROM outbox WHERE channel = 'webpush' AND kind = 'pupil.not_arrived'")
		want := fmt.Sprintf("%d en ", sub.ID)
		if len(got) != 1 || !strings.HasPrefix(got[0], want) || !strings.Contains(got[0], "Дана") || !strings.Contains(got[0], "08:30") || !strings.Contains(got[0], "school") {
			t.Fatalf("not-arrived pushes %q, want one in English to subscription %d", got, sub.ID)
		}
	})
}
