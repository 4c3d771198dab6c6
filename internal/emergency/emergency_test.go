package emergency_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"qorgan/internal/alarm"
	"qorgan/internal/auth"
	"qorgan/internal/emergency"
	"qorgan/internal/errs"
	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
	"qorgan/internal/testkit"
)

// fixture is the small demo (school 1 with its director, guard, ПЦН and
// ЦОУ, guard2 at school 2, a guardian of a child of school 1) and the
// emergency service over it.
type fixture struct {
	db  *store.DB
	a   *auth.Service
	al  *alarm.Service
	svc *emergency.Service
	p   map[string]auth.Principal
}

func setup(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	a := auth.New(db)
	testkit.Demo(t, db, a, 0.002)
	f := &fixture{db: db, a: a, p: map[string]auth.Principal{}}
	f.al = alarm.New(db, a, nil)
	f.svc = emergency.New(db, a, f.al, func() {})
	users, err := a.ListUsers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		f.p[u.Login] = auth.Principal{UserID: u.ID, Login: u.Login, Role: u.Role, Scope: u.Scope}
	}
	return f
}

// restart is a new service over the same store, as after a restart.
func (f *fixture) restart() {
	f.al = alarm.New(f.db, f.a, nil)
	f.svc = emergency.New(f.db, f.a, f.al, func() {})
}

func (f *fixture) count(t testing.TB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := f.db.Reader().QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func wantCode(t testing.TB, err error, code errs.Code, what string) {
	t.Helper()
	if errs.CodeOf(err) != code {
		t.Fatalf("%s: want %s, got %v", what, code, err)
	}
}

func declaration(m emergency.Mode) emergency.Declaration {
	d := emergency.Declaration{SchoolIDs: []int64{1}, Mode: m, Scenario: emergency.ArmedAttack}
	switch m {
	case emergency.Evacuate:
		d.Place, d.Scenario = "Стадион у школы", emergency.Fire
	case emergency.Shelter:
		d.Place, d.Scenario = "утечка газа", emergency.Other
	}
	return d
}

// live declares m at school 1 as login and, from the school, confirms it.
func (f *fixture) live(t testing.TB, login string, d emergency.Declaration) emergency.Emergency {
	t.Helper()
	ctx := context.Background()
	es, err := f.svc.Declare(ctx, f.p[login], d)
	if err != nil {
		t.Fatalf("declare %s by %s: %v", d.Mode, login, err)
	}
	e := es[0]
	if e.State == emergency.Pending {
		if e, err = f.svc.Confirm(ctx, f.p[login], e.ID); err != nil {
			t.Fatalf("confirm: %v", err)
		}
	}
	if e.State != emergency.Live {
		t.Fatalf("declared by %s: state %s, want live", login, e.State)
	}
	return e
}

// TestModesByRole: each mode declared, changed and ended by each allowed
// role, and refused for the others (404 outside the scope, 403 inside it);
// a school-side declaration waits for its confirmation; a second
// declaration changes the open one; every step is in the audit trail and
// the step log.
func TestModesByRole(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		refusedDeclare := map[string]errs.Code{"admin": errs.Forbidden, "analyst": errs.Forbidden, "region": errs.Forbidden, "district": errs.NotFound,
			"guard2": errs.NotFound, "pcn": errs.Forbidden, "parent": errs.NotFound}
		for _, m := range emergency.Modes {
			for login, code := range refusedDeclare {
				_, err := f.svc.Declare(ctx, f.p[login], declaration(m))
				wantCode(t, err, code, fmt.Sprintf("%s declares %s", login, m))
			}
			for _, login := range []string{"director", "guard", "cou"} {
				es, err := f.svc.Declare(ctx, f.p[login], declaration(m))
				if err != nil {
					t.Fatalf("%s declares %s: %v", login, m, err)
				}
				e := es[0]
				wantState := emergency.Live
				if login != "cou" {
					wantState = emergency.Pending // from the school: confirmation first
				}
				if e.State != wantState || e.Mode != m {
					t.Fatalf("%s declared %s: %+v", login, m, e)
				}
				if n := f.count(t, "SELECT COUNT(*) FROM outbox WHERE kind = 'emergency.staff' AND idempotency_key >= ? AND idempotency_key < ?", fmt.Sprintf("emergency/%d/", e.ID), fmt.Sprintf("emergency/%d0", e.ID)); (n > 0) != (wantState == emergency.Live) {
					t.Fatalf("%s: %d staff messages in state %s", login, n, e.State)
				}
				if e.State == emergency.Pending {
					_, err := f.svc.Confirm(ctx, f.p["guard2"], e.ID)
					wantCode(t, err, errs.NotFound, "guard2 confirms")
					if e, err = f.svc.Confirm(ctx, f.p[login], e.ID); err != nil || e.State != emergency.Live {
						t.Fatalf("%s confirms: %v %+v", login, err, e)
					}
				}
				// A second declaration changes the open one.
				other := emergency.Lockdown
				if m == emergency.Lockdown {
					other = emergency.Hold
				}
				es, err = f.svc.Declare(ctx, f.p[login], declaration(other))
				if err != nil || es[0].ID != e.ID || es[0].Mode != other || es[0].State != emergency.Live {
					t.Fatalf("%s declares again: %v %+v", login, err, es)
				}
				if n := f.count(t, "SELECT COUNT(*) FROM emergencies WHERE school_id = 1 AND state <> 'ended'"); n != 1 {
					t.Fatalf("%d open emergencies at school 1", n)
				}
				// Changed by each declaring role.
				for _, who := range []string{"director", "guard", "cou"} {
					c := emergency.Change{Mode: m}
					if m == emergency.Evacuate || m == emergency.Shelter {
						c.Place = declaration(m).Place
					}
					if e, err = f.svc.Update(ctx, f.p[who], e.ID, c); err != nil || e.Mode != m {
						t.Fatalf("%s changes to %s: %v", who, m, err)
					}
				}
				for who, code := range map[string]errs.Code{"pcn": errs.Forbidden, "guard2": errs.NotFound, "region": errs.Forbidden} {
					_, err := f.svc.Update(ctx, f.p[who], e.ID, emergency.Change{Mode: emergency.Hold})
					wantCode(t, err, code, who+" changes")
				}
				_, err = f.svc.Update(ctx, f.p["director"], e.ID, emergency.Change{Mode: emergency.Evacuate})
				wantCode(t, err, errs.Invalid, "evacuate without a place")
				// Ended only by the director or the ЦОУ.
				for who, code := range map[string]errs.Code{"guard": errs.Forbidden, "pcn": errs.Forbidden, "guard2": errs.NotFound, "admin": errs.Forbidden} {
					_, err := f.svc.End(ctx, f.p[who], e.ID, emergency.AllClear)
					wantCode(t, err, code, who+" ends")
				}
				ender := map[string]string{"director": "cou", "guard": "director", "cou": "director"}[login]
				if e, err = f.svc.End(ctx, f.p[ender], e.ID, emergency.AllClear); err != nil || e.State != emergency.Ended {
					t.Fatalf("%s ends: %v", ender, err)
				}
				// The log: declared, (confirmed,) updated × 4, all_clear.
				steps, err := f.svc.Steps(ctx, f.p["cou"], e.ID)
				if err != nil {
					t.Fatal(err)
				}
				kinds := []string{}
				for _, s := range steps {
					kinds = append(kinds, s.Kind)
				}
				want := "declared confirmed updated updated updated updated all_clear"
				if login == "cou" {
					want = "declared updated updated updated updated all_clear"
				}
				if strings.Join(kinds, " ") != want || steps[0].School.KATO == "" || steps[0].School.Lat == nil {
					t.Fatalf("steps of %s's %s: %v, school %+v", login, m, kinds, steps[0].School)
				}
				if n := f.count(t, "SELECT COUNT(*) FROM audit WHERE object = ?", fmt.Sprintf("emergency/%d", e.ID)); n != len(steps) {
					t.Fatalf("%d audit entries for %d steps", n, len(steps))
				}
			}
		}
		_, err := f.svc.Declare(ctx, f.p["director"], emergency.Declaration{SchoolIDs: []int64{1}, Mode: "panic", Scenario: "zombies"})
		if l, ok := err.(errs.List); !ok || len(l) != 2 || l[0].Field != "mode" || l[1].Field != "scenario" {
			t.Fatalf("bad mode and scenario: %v", err)
		}
	})
}

// staffLangs gives school 1's staff the three languages in turn and the
// teachers a class each; it returns staff id → language.
func (f *fixture) staffLangs(t testing.TB) map[int64]string {
	t.Helper()
	ctx := context.Background()
	langs := map[int64]string{}
	i := 0
	err := store.Each(ctx, f.db.Reader(), func(rows *sql.Rows) error {
		var id int64
		var pos string
		if err := rows.Scan(&id, &pos); err != nil {
			return err
		}
		langs[id] = emergency.Languages[i%3]
		i++
		return nil
	}, "SELECT id, position FROM staff WHERE school_id = 1 ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	var classes []string
	store.Each(ctx, f.db.Reader(), func(rows *sql.Rows) error {
		var c string
		classes = append(classes, c)
		return rows.Scan(&classes[len(classes)-1])
	}, "SELECT DISTINCT class FROM pupils WHERE school_id = 1 ORDER BY class")
	k := 0
	for id, l := range langs {
		class := ""
		var pos string
		f.db.Reader().QueryRowContext(ctx, "SELECT position FROM staff WHERE id = ?", id).Scan(&pos)
		if pos == "teacher" && k < len(classes) {
			class = classes[k]
			k++
		}
		if err := f.svc.AssignClass(ctx, f.p["director"], id, class, l); err != nil {
			t.Fatal(err)
		}
	}
	return langs
}

type sent struct {
	key, channel, recipient, kind, lang, body string
}

func (f *fixture) messages(t testing.TB, id int64) []sent {
	t.Helper()
	out, err := store.Collect(context.Background(), f.db.Reader(), func(rows *sql.Rows) (sent, error) {
		var m sent
		err := rows.Scan(&m.key, &m.channel, &m.recipient, &m.kind, &m.lang, &m.body)
		return m, err
	}, "SELECT idempotency_key, channel, recipient, kind, language, body FROM outbox WHERE idempotency_key >= ? AND idempotency_key < ? ORDER BY id",
		fmt.Sprintf("emergency/%d/", id), fmt.Sprintf("emergency/%d0", id))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestMessages: at declaration every staff member gets their role's first
// steps in their language, guardians what the mode allows (nothing for
// hold or a drill, nothing at all while silent), a drill marks every message, and the
// false-alarm correction reaches everyone who got the first message.
func TestMessages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		langs := f.staffLangs(t)
		algo := emergency.Shipped()
		guardianWords := map[string]string{"kk": "келмеңіз", "ru": "Не приезжайте", "en": "Do not come"}
		for _, m := range emergency.Modes {
			for _, drill := range []bool{false, true} {
				d := declaration(m)
				d.Drill = drill
				e := f.live(t, "director", d)
				msgs := f.messages(t, e.ID)
				staff, guardians := 0, 0
				for _, msg := range msgs {
					if drill != strings.HasPrefix(msg.body, map[string]string{"kk": "[ОҚУ-ЖАТТЫҒУ]", "ru": "[УЧЕНИЯ]", "en": "[DRILL]"}[msg.lang]) {
						t.Fatalf("%s drill=%v: %q", m, drill, msg.body)
					}
					switch msg.kind {
					case "emergency.staff":
						staff++
						var id int64
						fmt.Sscanf(msg.key[strings.Index(msg.key, "/staff/")+7:], "%d", &id)
						var pos string
						db.Reader().QueryRowContext(ctx, "SELECT position FROM staff WHERE id = ?", id).Scan(&pos)
						role := map[string]emergency.Role{"director": emergency.Administration, "safety_officer": emergency.Administration,
							"guard": emergency.Guard, "teacher": emergency.Teacher}[pos]
						first := algo[d.Scenario][role][0].In(langs[id])
						if msg.lang != langs[id] || !strings.Contains(msg.body, first) || !strings.Contains(msg.body, "qe_") {
							t.Fatalf("%s to %s staff %d (%s): %q", m, pos, id, langs[id], msg.body)
						}
					case "emergency.guardian":
						guardians++
						if !strings.Contains(msg.body, guardianWords[msg.lang]) {
							t.Fatalf("%s to a guardian in %s: %q", m, msg.lang, msg.body)
						}
					}
				}
				if want := f.count(t, "SELECT COUNT(*) FROM staff WHERE school_id = 1 AND phone <> ''"); staff != want || e.StaffTotal != want {
					t.Fatalf("%s: %d staff messages (total %d), want %d", m, staff, e.StaffTotal, want)
				}
				wantGuardians := f.count(t, `SELECT COUNT(DISTINCT g.id) FROM pupils p JOIN pupil_guardians pg ON pg.pupil_id = p.id JOIN guardians g ON g.id = pg.guardian_id
					WHERE p.school_id = 1 AND g.consent_given_on IS NOT NULL AND g.consent_withdrawn_on IS NULL`)
				if m == emergency.Hold || drill { // a drill tells no guardian
					wantGuardians = 0
				}
				byGuardian := map[string]bool{}
				for _, msg := range msgs {
					if msg.kind == "emergency.guardian" {
						byGuardian[msg.key[:strings.LastIndex(msg.key, "/")]] = true
					}
				}
				if len(byGuardian) != wantGuardians || wantGuardians == 0 && m != emergency.Hold && !drill {
					t.Fatalf("%s: %d guardians told, want %d", m, len(byGuardian), wantGuardians)
				}
				// A false alarm: a correction to every recipient.
				if _, err := f.svc.End(ctx, f.p["director"], e.ID, emergency.FalseAlarm); err != nil {
					t.Fatal(err)
				}
				first, fixes := map[string]bool{}, map[string]bool{}
				for _, msg := range f.messages(t, e.ID) {
					if msg.kind == "emergency.cancelled" {
						fixes[msg.channel+msg.recipient] = true
						if !strings.Contains(msg.body, map[string]string{"kk": "жалған", "ru": "Ложная тревога", "en": "False alarm"}[msg.lang]) {
							t.Fatalf("correction in %s: %q", msg.lang, msg.body)
						}
					} else {
						first[msg.channel+msg.recipient] = true
					}
				}
				if len(first) != len(fixes) {
					t.Fatalf("%s: %d recipients, %d corrections", m, len(first), len(fixes))
				}
				for k := range first {
					if !fixes[k] {
						t.Fatalf("%s: %s got no correction", m, k)
					}
				}
			}
		}
		// Silent: the ЦОУ declares a silent lockdown; the feed has it (for
		// the ПЦН and the ЦОУ, not the school), nobody else hears of it
		// until the silence is lifted.
		d := declaration(emergency.Lockdown)
		d.Silent = true
		es, err := f.svc.Declare(ctx, f.p["cou"], d)
		if err != nil {
			t.Fatal(err)
		}
		e := es[0]
		if msgs := f.messages(t, e.ID); len(msgs) != 0 {
			t.Fatalf("a silent emergency sent %d messages: %+v", len(msgs), msgs[0])
		}
		if _, err := f.svc.Get(ctx, f.p["guard"], e.ID); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("the school's guard sees a silent emergency: %v", err)
		}
		seen := func(login string) bool {
			evs, _, err := f.al.Feed(ctx, f.p[login], 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range evs {
				if ev.Kind == "emergency.declared" && strings.Contains(string(ev.Alarm), fmt.Sprintf(`"id":%d,`, e.ID)) {
					return true
				}
			}
			return false
		}
		if !seen("cou") || !seen("pcn") || seen("guard") {
			t.Fatalf("silent on the feed: cou %v pcn %v guard %v", seen("cou"), seen("pcn"), seen("guard"))
		}
		no := false
		if _, err := f.svc.Update(ctx, f.p["cou"], e.ID, emergency.Change{Silent: &no}); err != nil {
			t.Fatal(err)
		}
		if n := f.count(t, "SELECT COUNT(*) FROM outbox WHERE kind = 'emergency.guardian' AND idempotency_key >= ? AND idempotency_key < ?", fmt.Sprintf("emergency/%d/", e.ID), fmt.Sprintf("emergency/%d0", e.ID)); n == 0 {
			t.Fatal("lifting the silence told no guardian")
		}
		if !seen("guard") {
			t.Fatal("lifting the silence did not reach the school's feed")
		}
	})
}
