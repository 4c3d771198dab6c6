package attendance_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"qorgan/internal/attendance"
	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/kztime"
	"qorgan/internal/notify"
	"qorgan/internal/registry"
	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
)

// sink records what reached one channel.
type sink struct {
	mu   sync.Mutex
	got  []string // bodies
	keys map[string]int
}

func (s *sink) add(key, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keys == nil {
		s.keys = map[string]int{}
	}
	s.keys[key]++
	s.got = append(s.got, body)
}

func (s *sink) bodies() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

// mailSink is a real SMTP server (go-smtp) on a local port.
type mailSession struct{ s *sink }

func (m *mailSession) Reset()                               {}
func (m *mailSession) Logout() error                        { return nil }
func (m *mailSession) Mail(string, *smtp.MailOptions) error { return nil }
func (m *mailSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (m *mailSession) Data(r io.Reader) error {
	b, _ := io.ReadAll(r)
	m.s.add("", string(b))
	return nil
}

func httpSink(t *testing.T, s *sink, field string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var v map[string]any
		if json.Unmarshal(b, &v) != nil {
			form, _ := url.ParseQuery(string(b))
			v = map[string]any{field: form.Get(field)}
		}
		s.add(r.Header.Get("Idempotency-Key"), strings.TrimSpace(toString(v[field])))
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true,"result":{}}`)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func toString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// TestPassToGuardians: a pass reaches the guardian's bot, SMS, e-mail and the
// webhook exactly once, in the guardian's language, and only guardians with
// consent; a resent event sends nothing more; the day's rules hold.
func TestPassToGuardians(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, f *fixture) {
		ctx, db := t.Context(), f.db
		yes := true
		p := f.pupil(t, registry.PupilInput{ExternalID: "N-1", LastName: "Ахметова", FirstName: "Айгерім", Class: "5А", CardUID: "A1B2C3D4",
			Guardians: []registry.GuardianInput{
				{Phone: "+77011110001", FullName: "Сәуле", Language: "ru", Email: "saule@example.kz", MessengerID: "5550001", ConsentGivenOn: "2025-09-01", MayCollect: &yes},
				{Phone: "+77011110002", FullName: "Ерлан", Language: "kk", ConsentGivenOn: "2025-09-01"},
				{Phone: "+77011110003", FullName: "Guest", Language: "en"}, // no consent: told nothing
			}})
		var bot, sms, mails, hook sink
		// One clock for intake, rules and outbox, read by the worker too.
		var clock atomic.Value
		clock.Store(f.now)
		now := func() time.Time { return clock.Load().(time.Time) }
		f.svc.Now = now
		n := attendance.DefaultNotifier()
		n.Now = now
		n.WebhookURL = httpSink(t, &hook, "body")
		f.notices = n.Enqueue

		ms := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &mailSession{s: &mails}, nil }))
		ms.Domain, ms.AllowInsecureAuth = "mx.test", true
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go ms.Serve(l)
		defer ms.Close()
		outbox := notify.New(db)
		outbox.Now = now
		w := notify.NewWorker(outbox, map[notify.ChannelName]notify.Channel{
			notify.ChannelBot:     &notify.BotChannel{BaseURL: httpSink(t, &bot, "text"), Token: "T"},
			notify.ChannelSMS:     &notify.SMSChannel{URL: httpSink(t, &sms, "text")},
			notify.ChannelEmail:   &notify.EmailChannel{Addr: l.Addr().String(), From: "Qorgan <noreply@qorgan.test>", Security: notify.SMTPPlain},
			notify.ChannelWebhook: &notify.WebhookChannel{Secret: []byte("s3cret")},
		}, nil)
		w.Poll = 20 * time.Millisecond
		wctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { w.Run(wctx); close(done) }()
		defer func() { stop(); <-done }()

		in := []attendance.PassEvent{{EventID: "n1", At: f.at("07:52"), Direction: attendance.In, CardUID: "A1B2C3D4"}}
		for i := 0; i < 2; i++ { // the second is the device resending
			if _, err := f.svc.Record(ctx, f.turnstile, in); err != nil {
				t.Fatal(err)
			}
		}
		w.Wake()
		// The morning's messages are delivered and recorded before the clock
		// moves on to the afternoon.
		sentBy := time.Now().Add(20 * time.Second)
		for {
			var sent int
			db.Reader().QueryRowContext(ctx, "SELECT COUNT(*) FROM outbox WHERE status = 'sent'").Scan(&sent)
			if sent == 5 {
				break
			}
			if time.Now().After(sentBy) {
				t.Fatalf("morning messages sent: %d, want 5", sent)
			}
			time.Sleep(20 * time.Millisecond)
		}
		// A second entry the same day is not told; neither is an exit
		// folded into the one before it.
		clock.Store(f.at("13:00"))
		for _, ev := range []attendance.PassEvent{
			{EventID: "n2", At: f.at("12:30"), Direction: attendance.Out, CardUID: "A1B2C3D4"},
			{EventID: "n3", At: f.at("12:31"), Direction: attendance.In, CardUID: "A1B2C3D4"},
			{EventID: "n4", At: f.at("12:33"), Direction: attendance.Out, CardUID: "A1B2C3D4"},
		} {
			if _, err := f.svc.Record(ctx, f.turnstile, []attendance.PassEvent{ev}); err != nil {
				t.Fatal(err)
			}
		}
		w.Wake()
		// Expected: entry + exit → guardian 1: bot and e-mail, guardian 2: SMS; each guardian also on the webhook.
		deadline := time.Now().Add(20 * time.Second)
		for len(bot.bodies()) < 2 || len(sms.bodies()) < 2 || len(mails.bodies()) < 2 || len(hook.bodies()) < 4 {
			if time.Now().After(deadline) {
				t.Fatalf("delivered: bot %d, sms %d, mail %d, webhook %d", len(bot.bodies()), len(sms.bodies()), len(mails.bodies()), len(hook.bodies()))
			}
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond) // and nothing more arrives
		if len(bot.bodies()) != 2 || len(sms.bodies()) != 2 || len(mails.bodies()) != 2 || len(hook.bodies()) != 4 {
			t.Fatalf("delivered: bot %v, sms %v, mail %d, webhook %d", bot.bodies(), sms.bodies(), len(mails.bodies()), len(hook.bodies()))
		}
		if b := bot.bodies()[0]; !strings.Contains(b, "Айгерім") || !strings.Contains(b, "07:52") || !strings.Contains(b, "школ") || strings.Contains(b, "Ахметова") {
			t.Errorf("Russian bot message: %q", b)
		}
		if b := sms.bodies()[0]; !strings.Contains(b, "мектепке") || !strings.Contains(b, "07:52") {
			t.Errorf("Kazakh SMS: %q", b)
		}
		for _, s := range []*sink{&hook} {
			for k, n := range s.keys {
				if n != 1 {
					t.Errorf("key %s delivered %d times", k, n)
				}
			}
		}
		st, err := notify.New(db).Status(ctx, 1, f.at("00:00"))
		if err != nil || len(st) == 0 {
			t.Fatalf("delivery status for the school: %v %v", st, err)
		}
		_ = p
	})
}

// TestChannelsSwitchedOff: a guardian who switched the bot and e-mail off is
// told by SMS only.
func TestChannelsSwitchedOff(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, f *fixture) {
		ctx, db := t.Context(), f.db
		reg := registry.New(db, f.a)
		p := f.pupil(t, registry.PupilInput{ExternalID: "OFF-1", LastName: "Омаров", FirstName: "Ерлан", Class: "3Б", CardUID: "0FF0FF01",
			Guardians: []registry.GuardianInput{{Phone: "+77012220001", FullName: "Марат", Language: "ru", Email: "m@example.kz", MessengerID: "42", ConsentGivenOn: "2025-09-01"}}})
		g := guardianOf(1, p, 0)
		if _, err := reg.SetMyChannels(ctx, g, registry.GuardianChannels{Off: []string{"email", "bot", "bot"}}); err != nil {
			t.Fatal(err)
		}
		if got, _ := reg.MyChannels(ctx, g); fmt.Sprint(got.Off) != "[bot email]" {
			t.Fatalf("channels off: %v", got.Off)
		}
		if _, err := reg.SetMyChannels(ctx, g, registry.GuardianChannels{Off: []string{"pigeon"}}); errs.As(err).Field != "off/0" {
			t.Fatalf("unknown channel: %v", err)
		}
		n := f.notifier()
		f.notices = n.Enqueue
		if _, err := f.svc.Record(ctx, f.turnstile, []attendance.PassEvent{{EventID: "off-1", At: f.at("07:55"), Direction: attendance.In, CardUID: "0FF0FF01"}}); err != nil {
			t.Fatal(err)
		}
		chans := storetest.Strings(t, db.Reader(), "SELECT channel FROM outbox WHERE pupil_id = ?", p.ID)
		if fmt.Sprint(chans) != "[sms]" {
			t.Fatalf("queued on %v, want [sms]", chans)
		}
	})
}

// The day's rules, batch by batch: one "entered" for the first entry of the
// day even when a batch carries two entries, exits within Bounce of the one
// before folded, and a controller's late backlog judged against the passes
// around it, not against the newest.
func TestNotificationRules(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, f *fixture) {
		ctx, db := t.Context(), f.db
		p := f.pupil(t, registry.PupilInput{ExternalID: "R-1", LastName: "Сейітов", FirstName: "Арман", Class: "7Б", CardUID: "C0FFEE01",
			Guardians: []registry.GuardianInput{{Phone: "+77011110009", FullName: "Айша", Language: "kk", ConsentGivenOn: "2025-09-01"}}})
		f.now = f.at("18:00")
		n := f.notifier()
		n.MaxAge = 24 * time.Hour
		n.QuietFrom, n.QuietTo = 0, 0
		f.notices = n.Enqueue
		// What the guardian was told: each message's kind and the time of
		// its pass, in time order.
		told := func() []string {
			t.Helper()
			type row struct {
				kind string
				at   int64
			}
			rows, err := store.Collect(ctx, db.Reader(), func(r *sql.Rows) (row, error) {
				var x row
				return x, r.Scan(&x.kind, &x.at)
			}, "SELECT DISTINCT kind, created_at FROM outbox WHERE pupil_id = ? ORDER BY created_at", p.ID)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, x := range rows {
				out = append(out, strings.TrimPrefix(x.kind, "pupil.")+" "+store.FromMicros(x.at).In(kztime.Almaty).Format("15:04"))
			}
			return out
		}
		ev := func(id, hhmm string, dir attendance.Direction) attendance.PassEvent {
			return attendance.PassEvent{EventID: id, At: f.at(hhmm), Direction: dir, CardUID: "C0FFEE01"}
		}
		steps := []struct {
			batch []attendance.PassEvent
			want  string
		}{
			// Two entries in one batch: the first is told.
			{[]attendance.PassEvent{ev("a1", "07:50", attendance.In), ev("a2", "07:52", attendance.In)}, "[entered 07:50]"},
			// An exit, a bounce within 5 minutes, an exit well after.
			{[]attendance.PassEvent{ev("b1", "12:00", attendance.Out), ev("b2", "12:03", attendance.Out)}, "[entered 07:50 left 12:00]"},
			{[]attendance.PassEvent{ev("b3", "14:00", attendance.Out)}, "[entered 07:50 left 12:00 left 14:00]"},
			// A late backlog: an older entry is not told again; an exit
			// older than the newest, with no exit just before it, is
			// told; one right after b1 is not; of two at one instant,
			// one is told.
			{[]attendance.PassEvent{ev("c1", "07:40", attendance.In), ev("c2", "10:00", attendance.Out), ev("c3", "12:01", attendance.Out),
				ev("c4", "09:00", attendance.Out), ev("c5", "09:00", attendance.Out)},
				"[entered 07:50 left 09:00 left 10:00 left 12:00 left 14:00]"},
		}
		for i, st := range steps {
			if _, err := f.svc.Record(ctx, f.turnstile, st.batch); err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(told()); got != st.want {
				t.Fatalf("after batch %d: told %s, want %s", i+1, got, st.want)
			}
		}
		var twins int
		db.Reader().QueryRowContext(ctx, "SELECT COUNT(DISTINCT idempotency_key) FROM outbox WHERE pupil_id = ? AND created_at = ?", p.ID, store.Micros(f.at("09:00"))).Scan(&twins)
		var perPass int
		db.Reader().QueryRowContext(ctx, "SELECT COUNT(*) FROM outbox WHERE pupil_id = ? AND created_at = ?", p.ID, store.Micros(f.at("12:00"))).Scan(&perPass)
		if twins != perPass || perPass == 0 {
			t.Fatalf("two exits at one instant: %d messages, want %d (one exit's worth)", twins, perPass)
		}
	})
}

// Two nodes (two services, on PostgreSQL two writers at once) taking two
// entries of one pupil at the same moment tell the guardian once.
func TestOneEntryMessageAcrossNodes(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, f *fixture) {
		ctx, db := t.Context(), f.db
		reg := registry.New(db, f.a)
		const pupils = 8
		for i := range pupils {
			_, err := reg.CreatePupil(ctx, auth.System, 1, registry.PupilInput{ExternalID: fmt.Sprint("R-N", i), LastName: "Нұрлан", FirstName: "Дана", Class: "3А",
				CardUID:   fmt.Sprintf("C0FFEE%02X", 0x10+i),
				Guardians: []registry.GuardianInput{{Phone: fmt.Sprintf("+770111101%02d", i), FullName: "Гүлнар", Language: "ru", ConsentGivenOn: "2025-09-01"}}})
			if err != nil {
				t.Fatal(err)
			}
		}
		node := func() *attendance.Service {
			n := f.notifier()
			n.QuietFrom, n.QuietTo = 0, 0
			s := attendance.New(db, n, func() {})
			s.Now = n.Now
			return s
		}
		a, b := node(), node()
		var wg sync.WaitGroup
		for i := range pupils {
			for j, s := range []*attendance.Service{a, b} {
				wg.Go(func() {
					ev := attendance.PassEvent{EventID: fmt.Sprintf("n%d-%d", i, j), At: f.now.Add(-time.Duration(10-j) * time.Second), Direction: attendance.In,
						CardUID: fmt.Sprintf("C0FFEE%02X", 0x10+i)}
					if _, err := s.Record(ctx, f.turnstile, []attendance.PassEvent{ev}); err != nil {
						t.Error(err)
					}
				})
			}
		}
		wg.Wait()
		var n, people int
		db.Reader().QueryRowContext(ctx, "SELECT COUNT(*), COUNT(DISTINCT pupil_id) FROM outbox WHERE kind = 'pupil.entered' AND recipient LIKE '+770111101%'").Scan(&n, &people)
		if n != pupils || people != pupils {
			t.Fatalf("%d entry messages for %d pupils' first entries, want one each (SMS only)", n, people)
		}
	})
}
