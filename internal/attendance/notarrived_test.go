package attendance_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"qorgan/internal/attendance"
	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/notify"
	"qorgan/internal/registry"
	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
)

// notArrivedSchool is a one-shift school of seven pupils, with a turnstile.
type notArrivedSchool struct {
	id        int64
	turnstile registry.Device
	director  auth.Principal
	pupils    map[string]registry.Pupil // by first name
}

func newNotArrivedSchool(t *testing.T, ctx context.Context, db *store.DB, reg *registry.Registry, code, phonePrefix string) notArrivedSchool {
	t.Helper()
	var region string
	if err := db.Reader().QueryRowContext(ctx, "SELECT region_code FROM schools WHERE id = 1").Scan(&region); err != nil {
		t.Fatal(err)
	}
	s, err := reg.CreateSchool(ctx, auth.System, registry.SchoolInput{Code: code, NameKK: "Мектеп " + code, NameRU: "Школа " + code, RegionCode: region,
		Shifts: []registry.Shift{{Start: "08:00", End: "13:00"}}, Headcount: 7})
	if err != nil {
		t.Fatal(err)
	}
	gate, err := reg.CreateDevice(ctx, auth.System, s.ID, registry.DeviceInput{Kind: registry.Turnstile, Name: "gate"})
	if err != nil {
		t.Fatal(err)
	}
	ns := notArrivedSchool{id: s.ID, turnstile: gate, pupils: map[string]registry.Pupil{},
		director: auth.Principal{UserID: 900, Login: "director-" + code, Role: auth.RoleDirector, Scope: auth.Scope{Kind: auth.ScopeSchool, Ref: fmt.Sprint(s.ID)}}}
	phone := func(n int) string { return fmt.Sprintf("%s%03d", phonePrefix, n) }
	for i, in := range []registry.PupilInput{
		{FirstName: "Айгерім", Guardians: []registry.GuardianInput{
			{Phone: phone(1), FullName: "Сәуле", Language: "ru", Email: "saule@example.kz", MessengerID: "5550101", ConsentGivenOn: "2025-09-01"},
			{Phone: phone(2), FullName: "Ерлан", Language: "kk", ConsentGivenOn: "2025-09-01"},
			{Phone: phone(3), FullName: "Guest", Language: "en"}, // no consent
		}},
		{FirstName: "Дана", Guardians: []registry.GuardianInput{
			{Phone: phone(4), FullName: "Гүлнар", Language: "kk", Email: "gulnar@example.kz", ConsentGivenOn: "2025-09-01"}, // switches SMS off
			{Phone: phone(5), FullName: "Марат", Language: "ru", ConsentGivenOn: "2025-09-01", ConsentWithdrawnOn: "2026-10-01"},
		}},
		{FirstName: "Нұрлан", Guardians: []registry.GuardianInput{{Phone: phone(6), FullName: "Асель", Language: "ru", ConsentGivenOn: "2025-09-01"}}},
		{FirstName: "Әлия"}, {FirstName: "Тимур"}, {FirstName: "Мадина"}, {FirstName: "Арман"},
	} {
		in.ExternalID, in.LastName, in.Class, in.CardUID = fmt.Sprintf("%s-%d", code, i), "Ахметов", "5А", fmt.Sprintf("%s%02d", strings.Repeat("AB", 4), i)
		p, err := reg.CreatePupil(ctx, auth.System, s.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		ns.pupils[in.FirstName] = p
	}
	return ns
}

// TestNotArrived: after a school's check time, each pupil with no pass today
// gets one pupil.not_arrived message per consenting guardian and channel, in
// the guardian's language; nothing before the time, nothing for a pupil who
// arrived, nothing more on a second run or without the day's claim, nothing
// on days without lessons or when too few pupils arrived for it to be a
// school day.
func TestNotArrived(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, f *fixture) { // Wednesday 25 November 2026
		ctx, db := t.Context(), f.db
		reg := registry.New(db, f.a)
		sc := newNotArrivedSchool(t, ctx, db, reg, "NA-1", "+77470000")
		dana := sc.pupils["Дана"]
		gulnar := guardianOf(901, dana, 0)
		if _, err := reg.SetMyChannels(ctx, gulnar, registry.GuardianChannels{Off: []string{"sms"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SetNotArrivedRule(ctx, sc.director, sc.id, attendance.NotArrivedRule{At: "08:30"}); err != nil {
			t.Fatal(err)
		}

		// Five of seven arrive, one of them late; the first two do not.
		f.now = f.at("08:20")
		var events []attendance.PassEvent
		for i, name := range []string{"Нұрлан", "Әлия", "Тимур", "Мадина", "Арман"} {
			at := f.at("07:50").Add(time.Duration(i) * 5 * time.Minute) // 07:50 … 08:10
			events = append(events, attendance.PassEvent{EventID: "na-" + name, At: at, Direction: attendance.In, CardUID: sc.pupils[name].CardUID})
		}
		if _, err := f.svc.Record(ctx, sc.turnstile, events); err != nil {
			t.Fatal(err)
		}

		n := attendance.DefaultNotifier()
		n.WebhookURL = "https://school-hooks.example/qorgan"
		var clock time.Time
		n.Now = func() time.Time { return clock }
		woken := 0
		n.Queued = func() { woken++ }
		check := func(at time.Time) int {
			t.Helper()
			clock = at
			k, err := n.CheckNotArrived(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			return k
		}
		type row struct {
			school, pupil int64
			channel, to   string
			lang, body    string
			key           string
		}
		queued := func() []row {
			t.Helper()
			out, err := store.Collect(ctx, db.Reader(), func(rows *sql.Rows) (row, error) {
				var r row
				return r, rows.Scan(&r.school, &r.pupil, &r.channel, &r.to, &r.lang, &r.body, &r.key)
			}, `SELECT school_id, pupil_id, channel, recipient, language, body, idempotency_key FROM outbox
				WHERE kind = 'pupil.not_arrived' ORDER BY pupil_id, idempotency_key`)
			if err != nil {
				t.Fatal(err)
			}
			return out
		}

		// Before the check time: nothing, and the day is not taken.
		if k := check(f.at("08:29")); k != 0 || len(queued()) != 0 {
			t.Fatalf("before the check time: %d queued, %v", k, queued())
		}
		// After it: the two pupils not arrived, to their consenting
		// guardians, on their channels, in their languages.
		if k := check(f.at("08:31")); k != 7 {
			t.Fatalf("queued %d messages, want 7: %v", k, queued())
		}
		if woken != 1 {
			t.Errorf("the delivery worker was woken %d times, want 1", woken)
		}
		aigerim := sc.pupils["Айгерім"]
		text := func(lang, name string) string {
			s, err := notify.Render(lang, "pupil.not_arrived", notify.Vars{Name: name, At: f.at("08:30")})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		key := func(p registry.Pupil, g int, ch string) string {
			return fmt.Sprintf("not-arrived/2026-11-25/pupil/%d/guardian/%d/%s", p.ID, p.Guardians[g].ID, ch)
		}
		hook := n.WebhookURL
		want := []row{
			{sc.id, aigerim.ID, "bot", "5550101", "ru", text("ru", "Айгерім"), key(aigerim, 0, "bot")},
			{sc.id, aigerim.ID, "email", "saule@example.kz", "ru", text("ru", "Айгерім"), key(aigerim, 0, "email")},
			{sc.id, aigerim.ID, "webhook", hook, "ru", text("ru", "Айгерім"), key(aigerim, 0, "webhook")},
			{sc.id, aigerim.ID, "sms", "+77470000002", "kk", text("kk", "Айгерім"), key(aigerim, 1, "sms")},
			{sc.id, aigerim.ID, "webhook", hook, "kk", text("kk", "Айгерім"), key(aigerim, 1, "webhook")},
			{sc.id, dana.ID, "email", "gulnar@example.kz", "kk", text("kk", "Дана"), key(dana, 0, "email")},
			{sc.id, dana.ID, "webhook", hook, "kk", text("kk", "Дана"), key(dana, 0, "webhook")},
		}
		slices.SortFunc(want, func(a, b row) int {
			if a.pupil != b.pupil {
				return int(a.pupil - b.pupil)
			}
			return strings.Compare(a.key, b.key)
		})
		if got := queued(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("queued:\n%v\nwant:\n%v", got, want)
		}
		if ru, kk := text("ru", "Айгерім"), text("kk", "Айгерім"); ru != "Айгерім: нет отметки о входе в школу к 08:30" || kk != "Айгерім сағат 08:30 бойынша мектепке кіргені тіркелмеген" {
			t.Errorf("texts: %q, %q", ru, kk)
		}

		// A second run, and a new process without the day's claim, send
		// nothing more.
		if k := check(f.at("08:32")); k != 0 {
			t.Errorf("a second run queued %d", k)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, "DELETE FROM not_arrived_checks")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		n2 := attendance.DefaultNotifier()
		n2.WebhookURL, n2.Now = hook, func() time.Time { return f.at("08:33") }
		if k, err := n2.CheckNotArrived(ctx, db); err != nil || k != 0 || len(queued()) != 7 {
			t.Errorf("after a restart without the claim: %d queued, %v; %d in the outbox", k, err, len(queued()))
		}
		guard := auth.Principal{UserID: 902, Role: auth.RoleGuard, Scope: sc.director.Scope}
		rule, err := f.svc.NotArrivedRule(ctx, guard, sc.id)
		if err != nil || rule.At != "08:30" || rule.LastCheck == nil || rule.LastCheck.Day != "2026-11-25" || rule.LastCheck.Pupils != 7 || rule.LastCheck.Arrived != 5 ||
			rule.LastCheck.Outcome != attendance.OutcomeSent {
			t.Errorf("rule as the guard sees it: %+v %+v %v", rule, rule.LastCheck, err)
		}

		// Saturday: no lessons, no check. With Saturday lessons on, a
		// Saturday nobody came to is taken for a holiday.
		if k := check(f.at("08:31").AddDate(0, 0, 3)); k != 0 {
			t.Errorf("a Saturday queued %d", k)
		}
		var checks int
		db.Reader().QueryRowContext(ctx, "SELECT COUNT(*) FROM not_arrived_checks WHERE day = '2026-11-28'").Scan(&checks)
		if checks != 0 {
			t.Errorf("a Saturday without lessons was checked")
		}
		if _, err := f.svc.SetNotArrivedRule(ctx, sc.director, sc.id, attendance.NotArrivedRule{At: "08:30", Saturday: true}); err != nil {
			t.Fatal(err)
		}
		if k := check(f.at("08:31").AddDate(0, 0, 3)); k != 0 {
			t.Errorf("an empty Saturday queued %d", k)
		}
		if r, _ := f.svc.NotArrivedRule(ctx, sc.director, sc.id); r.LastCheck == nil || r.LastCheck.Outcome != attendance.OutcomeTooFewArrived || r.LastCheck.Day != "2026-11-28" {
			t.Errorf("the empty Saturday's check: %+v", r.LastCheck)
		}
		if k := check(f.at("08:31").AddDate(0, 0, 4)); k != 0 { // Sunday
			t.Errorf("a Sunday queued %d", k)
		}
		// Monday: a node that comes up more than CheckWindow after the
		// time does not tell anyone that morning.
		if k := check(f.at("09:31").AddDate(0, 0, 5)); k != 0 {
			t.Errorf("a check an hour late queued %d", k)
		}
		db.Reader().QueryRowContext(ctx, "SELECT COUNT(*) FROM not_arrived_checks WHERE day = '2026-11-30'").Scan(&checks)
		if checks != 0 {
			t.Errorf("a check past its window was recorded")
		}
		if len(queued()) != 7 {
			t.Errorf("the outbox holds %d not-arrived messages, want still 7", len(queued()))
		}
	})
}

// TestNotArrivedRule: who may set the rule, and what it accepts.
func TestNotArrivedRule(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, f *fixture) {
		ctx, db := t.Context(), f.db
		reg := registry.New(db, f.a)
		sc := newNotArrivedSchool(t, ctx, db, reg, "NA-2", "+77470010")
		guard := auth.Principal{UserID: 902, Role: auth.RoleGuard, Scope: sc.director.Scope}
		otherDirector := auth.Principal{UserID: 903, Role: auth.RoleDirector, Scope: auth.Scope{Kind: auth.ScopeSchool, Ref: "1"}}
		for _, c := range []struct {
			name  string
			as    auth.Principal
			in    attendance.NotArrivedRule
			code  errs.Code
			field string
		}{
			{"not a time", sc.director, attendance.NotArrivedRule{At: "8:30"}, errs.Invalid, "at"},
			{"before the shift starts", sc.director, attendance.NotArrivedRule{At: "07:45"}, errs.Invalid, "at"},
			{"after the shift ends", sc.director, attendance.NotArrivedRule{At: "13:30"}, errs.Invalid, "at"},
			{"the guard", guard, attendance.NotArrivedRule{At: "08:30"}, errs.Forbidden, ""},
			{"another school's director", otherDirector, attendance.NotArrivedRule{At: "08:30"}, errs.NotFound, ""},
		} {
			_, err := f.svc.SetNotArrivedRule(ctx, c.as, sc.id, c.in)
			if e := errs.As(err); err == nil || e.Code != c.code || e.Field != c.field {
				t.Errorf("%s: %v, want %s on %q", c.name, err, c.code, c.field)
			}
		}
		if r, err := f.svc.NotArrivedRule(ctx, sc.director, sc.id); err != nil || r.At != "" || r.LastCheck != nil {
			t.Fatalf("the rule is off by default: %+v %v", r, err)
		}
		if r, err := f.svc.SetNotArrivedRule(ctx, auth.System, sc.id, attendance.NotArrivedRule{At: "08:45"}); err != nil || r.At != "08:45" {
			t.Fatalf("set as the administrator: %+v %v", r, err)
		}
		// A school with two shifts is refused; one that gains a second
		// shift later (an import) is checked but nobody is told.
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE schools SET shifts = '[{"start":"08:00","end":"13:00"},{"start":"13:30","end":"18:30"}]' WHERE id = ?`, sc.id)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SetNotArrivedRule(ctx, sc.director, sc.id, attendance.NotArrivedRule{At: "08:30"}); errs.As(err).Field != "at" {
			t.Errorf("two shifts: %v", err)
		}
		n := attendance.DefaultNotifier()
		n.Now = func() time.Time { return f.at("08:50") }
		if k, err := n.CheckNotArrived(ctx, db); err != nil || k != 0 {
			t.Fatalf("a two-shift school: %d queued, %v", k, err)
		}
		if r, _ := f.svc.NotArrivedRule(ctx, sc.director, sc.id); r.LastCheck == nil || r.LastCheck.Outcome != attendance.OutcomeSeveralShifts {
			t.Errorf("the two-shift school's check: %+v", r.LastCheck)
		}
		// Off again.
		if r, err := f.svc.SetNotArrivedRule(ctx, sc.director, sc.id, attendance.NotArrivedRule{}); err != nil || r.At != "" {
			t.Errorf("switch off: %+v %v", r, err)
		}
	})
}
