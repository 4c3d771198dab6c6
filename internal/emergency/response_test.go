package emergency_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"qorgan/internal/kztime"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"qorgan/internal/attendance"
	"qorgan/internal/auth"
	"qorgan/internal/emergency"
	"qorgan/internal/errs"
	"qorgan/internal/notify"
	"qorgan/internal/registry"
	"qorgan/internal/roadmap"
	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
)

var tokenRE = regexp.MustCompile(`qe_[a-z2-7]+`)

// tokens returns each staff member's code from their first message.
func (f *fixture) tokens(t testing.TB, id int64) map[int64]string {
	t.Helper()
	out := map[int64]string{}
	for _, m := range f.messages(t, id) {
		if m.kind != "emergency.staff" {
			continue
		}
		var sid int64
		fmt.Sscanf(m.key[strings.Index(m.key, "/staff/")+7:], "%d", &sid)
		if tok := tokenRE.FindString(m.body); tok != "" {
			out[sid] = tok
		}
	}
	return out
}

// classOf returns the class each teacher of school 1 leads.
func (f *fixture) classOf(t testing.TB) map[int64]string {
	t.Helper()
	out := map[int64]string{}
	err := store.Each(context.Background(), f.db.Reader(), func(rows *sql.Rows) error {
		var id int64
		var c string
		err := rows.Scan(&id, &c)
		out[id] = c
		return err
	}, "SELECT id, homeroom FROM staff WHERE school_id = 1 AND homeroom <> ''")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (f *fixture) pupilsOf(t testing.TB, class string) []int64 {
	t.Helper()
	var out []int64
	err := store.Each(context.Background(), f.db.Reader(), func(rows *sql.Rows) error {
		var id int64
		err := rows.Scan(&id)
		out = append(out, id)
		return err
	}, "SELECT id FROM pupils WHERE school_id = 1 AND class = ? ORDER BY id", class)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRollCallSnapshot: the snapshot equals presence at one instant while
// passes keep arriving: some prefix of the passes recorded, in order, gives
// exactly the snapshot's "inside".
func TestRollCallSnapshot(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		att := attendance.New(db, attendance.NoNotices, func() {})
		ds, err := registry.New(db, f.a).ListDevices(ctx, auth.System, 1)
		if err != nil {
			t.Fatal(err)
		}
		var turnstile registry.Device
		for _, d := range ds {
			if d.Kind == registry.Turnstile {
				turnstile = d
			}
		}
		type pupil struct {
			id   int64
			card string
		}
		pupils, err := store.Collect(ctx, db.Reader(), func(rows *sql.Rows) (pupil, error) {
			var p pupil
			return p, rows.Scan(&p.id, &p.card)
		}, "SELECT id, card_uid FROM pupils WHERE school_id = 1 AND card_uid IS NOT NULL ORDER BY id LIMIT 300")
		if err != nil || len(pupils) < 100 {
			t.Fatalf("pupils: %d, %v", len(pupils), err)
		}
		// Half the pupils come in first.
		// Ten minutes ago, but today in Almaty (just after midnight there,
		// ten minutes ago is yesterday's school day).
		now := time.Now()
		y, mo, d := kztime.Today(now).Date()
		base := now.Add(-10 * time.Minute)
		if start := time.Date(y, mo, d, 0, 0, 1, 0, kztime.Almaty); base.Before(start) {
			base = start
		}
		var first []attendance.PassEvent
		for i, p := range pupils[:150] {
			first = append(first, attendance.PassEvent{EventID: fmt.Sprintf("a%d", i), At: base.Add(time.Duration(i) * time.Millisecond), Direction: attendance.In, CardUID: p.card})
		}
		if _, err := att.Record(ctx, turnstile, first); err != nil {
			t.Fatal(err)
		}
		inside := map[int64]bool{}
		for _, p := range pupils[:150] {
			inside[p.id] = true
		}
		// Then one pass at a time, in and out, while the ЦОУ declares.
		type pass struct {
			pupil int64
			in    bool
		}
		var mu sync.Mutex
		var recorded []pass
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				p := pupils[i%len(pupils)]
				mu.Lock()
				in := !inside[p.id]
				mu.Unlock()
				dir := attendance.Out
				if in {
					dir = attendance.In
				}
				ev := []attendance.PassEvent{{EventID: fmt.Sprintf("b%d", i), At: base.Add(time.Minute + time.Duration(i)*time.Millisecond), Direction: dir, CardUID: p.card}}
				if _, err := att.Record(ctx, turnstile, ev); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				inside[p.id] = in
				recorded = append(recorded, pass{p.id, in})
				mu.Unlock()
			}
		}()
		for {
			mu.Lock()
			n := len(recorded)
			mu.Unlock()
			if n >= 20 {
				break
			}
			time.Sleep(time.Millisecond)
		}
		e := f.live(t, "cou", declaration(emergency.Lockdown))
		time.Sleep(20 * time.Millisecond) // passes go on after the declaration
		close(stop)
		<-done
		rc, err := f.svc.Snapshot(ctx, f.p["director"], e.ID)
		if err != nil {
			t.Fatal(err)
		}
		snap := map[int64]bool{}
		for _, p := range rc.People {
			if p.Kind == "pupil" && p.Inside {
				snap[p.ID] = true
			}
		}
		// Replay: the state after the first k single passes.
		state := map[int64]bool{}
		for _, p := range pupils[:150] {
			state[p.id] = true
		}
		same := func() bool {
			if len(state) != len(snap) {
				return false
			}
			for id := range state {
				if !snap[id] {
					return false
				}
			}
			return true
		}
		found := -1 // the last prefix that matches (a pupil passing twice may repeat a state)
		for k := 0; k <= len(recorded); k++ {
			if same() {
				found = k
			}
			if k < len(recorded) {
				if recorded[k].in {
					state[recorded[k].pupil] = true
				} else {
					delete(state, recorded[k].pupil)
				}
			}
		}
		// 20 passes were committed before the declaration began.
		if found < 20 {
			t.Fatalf("the snapshot (%d inside) is presence after none of the %d passes in order (found %d)", len(snap), len(recorded), found)
		}
		if rc.Inside != len(snap)+f.count(t, "SELECT COUNT(*) FROM emergency_rollcall WHERE emergency_id = ? AND person_kind = 'staff' AND inside", e.ID) {
			t.Fatalf("inside %d", rc.Inside)
		}
		t.Logf("snapshot after pass %d of %d", found, len(recorded))
	})
}

// TestMarksAndAccountability: a teacher marks their class with the code
// from their message; a pupil of another class is refused by name and
// nothing is written; the unaccounted list shrinks to none and the time to
// full accountability is taken; a restart keeps it all.
func TestMarksAndAccountability(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		f.staffLangs(t)
		// Everyone of two classes is inside (a manual pass each).
		att := attendance.New(db, attendance.NoNotices, func() {})
		classes := f.classOf(t)
		var teachers []int64
		for id := range classes {
			teachers = append(teachers, id)
		}
		slices.Sort(teachers)
		t1, t2 := teachers[0], teachers[1]
		for _, id := range append(f.pupilsOf(t, classes[t1]), f.pupilsOf(t, classes[t2])...) {
			if _, err := att.ManualPass(ctx, f.p["guard"], 1, id, attendance.In, fmt.Sprint("m", id)); err != nil {
				t.Fatal(err)
			}
		}
		e := f.live(t, "director", declaration(emergency.Evacuate))
		toks := f.tokens(t, e.ID)
		if len(toks) != e.StaffTotal {
			t.Fatalf("%d codes for %d staff", len(toks), e.StaffTotal)
		}
		rc, err := f.svc.Unaccounted(ctx, f.p["cou"], e.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := len(f.pupilsOf(t, classes[t1])) + len(f.pupilsOf(t, classes[t2]))
		if rc.Unaccounted != want || len(rc.ByClass) != 2 || rc.AccountedAt != nil || rc.ByClass[0].Unaccounted[0].LastPassAt == nil {
			t.Fatalf("unaccounted %d by class %d, want %d in 2", rc.Unaccounted, len(rc.ByClass), want)
		}
		_, err = f.svc.Unaccounted(ctx, f.p["guard2"], e.ID)
		wantCode(t, err, errs.NotFound, "guard2 reads the roll-call")
		_, err = f.svc.Unaccounted(ctx, f.p["region"], e.ID)
		wantCode(t, err, errs.Forbidden, "region reads the roll-call")

		// Teacher 1 marks a pupil of teacher 2's class: refused by name.
		other := f.pupilsOf(t, classes[t2])[0]
		var name string
		db.Reader().QueryRowContext(ctx, "SELECT last_name || ' ' || first_name FROM pupils WHERE id = ?", other).Scan(&name)
		mine := f.pupilsOf(t, classes[t1])
		err = f.svc.MarkClass(ctx, toks[t1], []emergency.Mark{{PupilID: mine[0], Mark: emergency.Present}, {PupilID: other, Mark: emergency.Present}})
		if e := errs.As(err); e == nil || e.Field != "marks/1/pupil_id" || !strings.Contains(e.Message, name) {
			t.Fatalf("a pupil of another class: %v", err)
		}
		if n := f.count(t, "SELECT COUNT(*) FROM emergency_rollcall WHERE emergency_id = ? AND mark <> ''", e.ID); n != 0 {
			t.Fatalf("a refused call wrote %d marks", n)
		}
		if err := f.svc.MarkClass(ctx, "qe_nothing", []emergency.Mark{{PupilID: mine[0], Mark: emergency.Present}}); errs.CodeOf(err) != errs.Unauthorized {
			t.Fatalf("a wrong code: %v", err)
		}
		// Teacher 1 marks their class: one injured, one missing, the rest
		// present, and an extra person.
		var marks []emergency.Mark
		for i, id := range mine {
			m := emergency.Present
			switch i {
			case 0:
				m = emergency.Injured
			case 1:
				m = emergency.Missing
			}
			marks = append(marks, emergency.Mark{PupilID: id, Mark: m})
		}
		marks = append(marks, emergency.Mark{Mark: emergency.Extra, Name: "Сейткали Ерлан (visitor)"})
		if err := f.svc.MarkClass(ctx, toks[t1], marks); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.ConfirmSecured(ctx, toks[t1]); err != nil {
			t.Fatal(err)
		}
		// A restart in the middle: the marks are in the store.
		f.restart()
		rc, err = f.svc.Unaccounted(ctx, f.p["director"], e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rc.Missing != 1 || rc.Injured != 1 || rc.Extra != 1 || rc.Unaccounted != len(f.pupilsOf(t, classes[t2]))+1 {
			t.Fatalf("after teacher 1: %+v", rc)
		}
		// The guard marks the missing pupil found, teacher 2 the rest.
		if err := f.svc.Mark(ctx, f.p["guard"], e.ID, []emergency.Mark{{PupilID: mine[1], Mark: emergency.Present}}); err != nil {
			t.Fatal(err)
		}
		err = f.svc.Mark(ctx, f.p["pcn"], e.ID, []emergency.Mark{{PupilID: mine[1], Mark: emergency.Present}})
		wantCode(t, err, errs.Forbidden, "the ПЦН marks")
		marks = nil
		for _, id := range f.pupilsOf(t, classes[t2]) {
			marks = append(marks, emergency.Mark{PupilID: id, Mark: emergency.Present})
		}
		if err := f.svc.MarkClass(ctx, toks[t2], marks); err != nil {
			t.Fatal(err)
		}
		rc, err = f.svc.Unaccounted(ctx, f.p["director"], e.ID)
		if err != nil || rc.Unaccounted != 0 || rc.AccountedAt == nil || len(rc.ByClass) != 0 {
			t.Fatalf("all marked: %v %+v", err, rc)
		}
		// The checklist of teacher 1, in their language, with a tick.
		if _, err := f.svc.StaffTick(ctx, toks[t1], 1); err != nil {
			t.Fatal(err)
		}
		cl, err := f.svc.StaffChecklist(ctx, toks[t1])
		if err != nil || cl.Role != emergency.Teacher || cl.Steps[0].TickedAt == nil || cl.Steps[1].TickedAt != nil ||
			cl.Steps[0].Text != emergency.Shipped()[emergency.Fire][emergency.Teacher][0].In(cl.Language) {
			t.Fatalf("checklist: %v %+v", err, cl)
		}
		if _, err := f.svc.StaffTick(ctx, toks[t1], 99); errs.CodeOf(err) != errs.Invalid {
			t.Fatalf("step 99: %v", err)
		}
		if _, err := f.svc.End(ctx, f.p["cou"], e.ID, emergency.AllClear); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.MarkClass(ctx, toks[t1], marks[:1]); errs.CodeOf(err) != errs.Conflict {
			t.Fatalf("a mark after the end: %v", err)
		}
	})
}

// TestReunification: a guardian with the document on record and "may
// collect" gets the child (check-in, runner, release with time and staff
// member); an unauthorised adult, a guardian who may not collect and an
// adult barred by a court order are refused and recorded, the court order
// alerting the director.
func TestReunification(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		parent := f.p["parent"]
		var child int64
		if err := db.Reader().QueryRowContext(ctx, "SELECT MIN(pg.pupil_id) FROM pupil_guardians pg JOIN pupils p ON p.id = pg.pupil_id WHERE pg.guardian_id = ? AND p.school_id = 1",
			parent.Scope.ID()).Scan(&child); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetIDDocument(ctx, f.p["director"], parent.Scope.ID(), "n 0123-4567"); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetIDDocument(ctx, f.p["guard2"], parent.Scope.ID(), "N01234567"); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("guard2 sets a document: %v", err)
		}
		e := f.live(t, "director", declaration(emergency.Evacuate))
		_, err := f.svc.CheckIn(ctx, f.p["director"], e.ID, emergency.CheckIn{PupilID: child, FullName: "X"})
		if e := errs.As(err); e == nil || e.Field != "id_document" {
			t.Fatalf("no document: %v", err)
		}
		// An adult not on record.
		r, err := f.svc.CheckIn(ctx, f.p["guard"], e.ID, emergency.CheckIn{PupilID: child, IDDocument: "999", FullName: "Бөгде Адам"})
		if errs.CodeOf(err) != errs.Conflict || errs.As(err).Field != "id_document" || r.State != emergency.Refused || r.Reason != emergency.NotOnRecord {
			t.Fatalf("unauthorised adult: %v %+v", err, r)
		}
		// The guardian: check-in, runner, release.
		r, err = f.svc.CheckIn(ctx, f.p["guard"], e.ID, emergency.CheckIn{PupilID: child, IDDocument: "N01234567", FullName: "Parent"})
		if err != nil || r.State != emergency.Waiting || r.GuardianID != parent.Scope.ID() {
			t.Fatalf("guardian: %v %+v", err, r)
		}
		list, err := f.svc.Reunions(ctx, f.p["director"], e.ID)
		if err != nil || len(list) != 2 || list[0].State != emergency.Waiting || list[0].PupilName == "" {
			t.Fatalf("who waits for whom: %v %+v", err, list)
		}
		mine, err := f.svc.MyReunions(ctx, parent)
		if err != nil || len(mine) != 1 || mine[0].State != emergency.Waiting {
			t.Fatalf("the guardian's view: %v %+v", err, mine)
		}
		if r, err = f.svc.SendRunner(ctx, f.p["guard"], e.ID, r.ID, "Иванова А. (runner)"); err != nil || r.State != emergency.Fetching {
			t.Fatalf("runner: %v", err)
		}
		_, err = f.svc.Release(ctx, f.p["pcn"], e.ID, r.ID)
		wantCode(t, err, errs.Forbidden, "the ПЦН releases")
		f.restart()
		if r, err = f.svc.Release(ctx, f.p["director"], e.ID, r.ID); err != nil || r.State != emergency.Released || r.ReleasedAt == nil || r.ReleasedBy != f.p["director"].Actor() {
			t.Fatalf("release: %v %+v", err, r)
		}
		if mine, _ = f.svc.MyReunions(ctx, parent); mine[0].State != emergency.Released {
			t.Fatalf("the guardian sees %s", mine[0].State)
		}
		// A guardian who may not collect.
		f.exec(t, "UPDATE pupil_guardians SET may_collect = FALSE WHERE pupil_id = ? AND guardian_id = ?", child, parent.Scope.ID())
		r, err = f.svc.CheckIn(ctx, f.p["guard"], e.ID, emergency.CheckIn{PupilID: child, IDDocument: "N01234567", FullName: "Parent"})
		if errs.CodeOf(err) != errs.Conflict || r.Reason != emergency.MayNotCollect {
			t.Fatalf("may not collect: %v %+v", err, r)
		}
		// A court order against the same document.
		f.exec(t, "UPDATE pupil_guardians SET may_collect = TRUE WHERE pupil_id = ?", child)
		if _, err := f.svc.AddCourtOrder(ctx, f.p["director"], child, emergency.CourtOrderInput{IDDocument: "N01234567", FullName: "Parent", Note: "решение суда"}); err != nil {
			t.Fatal(err)
		}
		r, err = f.svc.CheckIn(ctx, f.p["guard"], e.ID, emergency.CheckIn{PupilID: child, IDDocument: "n01234567", FullName: "Parent"})
		if errs.CodeOf(err) != errs.Conflict || r.Reason != emergency.CourtOrder || r.State != emergency.Refused {
			t.Fatalf("court order: %v %+v", err, r)
		}
		alerts := 0
		for _, m := range f.messages(t, e.ID) {
			if m.kind == "emergency.court_order" {
				alerts++
			}
		}
		if want := f.count(t, "SELECT COUNT(*) FROM staff WHERE school_id = 1 AND position IN ('director', 'safety_officer') AND phone <> ''"); alerts != want || want == 0 {
			t.Fatalf("court order alerts: %d, want %d", alerts, want)
		}
		if n := f.count(t, "SELECT COUNT(*) FROM emergency_reunions WHERE emergency_id = ? AND state = 'refused'", e.ID); n != 3 {
			t.Fatalf("%d refusals recorded, want 3", n)
		}
	})
}

// TestAlgorithmVersions: the administrator's edit is a new version; a
// declared emergency keeps the one it started with; others may not edit;
// a bad algorithm is refused naming the step.
func TestAlgorithmVersions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		old := f.live(t, "cou", declaration(emergency.Lockdown))
		a := emergency.Shipped()
		a[emergency.ArmedAttack][emergency.Administration][0] = emergency.Text{KK: "Жаңа қадам", RU: "Новый шаг", EN: "A new step"}
		_, err := f.svc.SaveAlgorithm(ctx, f.p["director"], a)
		wantCode(t, err, errs.Forbidden, "the director edits")
		v, err := f.svc.SaveAlgorithm(ctx, f.p["admin"], a)
		if err != nil || v != old.AlgorithmVersion+1 {
			t.Fatalf("save: %v %d", err, v)
		}
		cl, err := f.svc.Checklist(ctx, f.p["cou"], old.ID, "en")
		if err != nil || cl.Steps[0].Text == "A new step" || cl.Version != old.AlgorithmVersion {
			t.Fatalf("the live emergency's checklist: %v %+v", err, cl)
		}
		if _, err := f.svc.Tick(ctx, f.p["cou"], old.ID, 2); err != nil {
			t.Fatal(err)
		}
		if cl, _ = f.svc.Checklist(ctx, f.p["cou"], old.ID, "en"); cl.Steps[1].TickedAt == nil || cl.Steps[0].TickedAt != nil {
			t.Fatalf("ticks: %+v", cl.Steps)
		}
		if _, err := f.svc.End(ctx, f.p["cou"], old.ID, emergency.AllClear); err != nil {
			t.Fatal(err)
		}
		e := f.live(t, "cou", declaration(emergency.Lockdown))
		if cl, err = f.svc.Checklist(ctx, f.p["director"], e.ID, "ru"); err != nil || cl.Steps[0].Text != "Новый шаг" || cl.Version != v {
			t.Fatalf("a new emergency's checklist: %v %+v", err, cl)
		}
		a[emergency.Fire][emergency.Pupil][0].EN = ""
		_, err = f.svc.SaveAlgorithm(ctx, f.p["admin"], a)
		if e := errs.As(err); e == nil || e.Field != "fire/pupil/0/en" {
			t.Fatalf("an empty step: %v", err)
		}
	})
}

// TestDrill: a panic alarm proposes; the ПЦН confirms a drill lockdown in
// one action; the staff messages are delivered, teachers confirm and mark,
// the provider's group arrives; the report has every timing; the plan
// counts it with two briefings and DrillDone turns true.
func TestDrill(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		f.staffLangs(t)
		var mu sync.Mutex
		got := 0
		ch := notify.ChannelFunc(func(ctx context.Context, m notify.Message) error {
			mu.Lock()
			got++
			mu.Unlock()
			return nil
		})
		w := notify.NewWorker(notify.New(db), map[notify.ChannelName]notify.Channel{notify.ChannelSMS: ch, notify.ChannelBot: ch, notify.ChannelEmail: ch, notify.ChannelWebhook: ch}, nil)
		go w.Run(ctx)
		f.svc = emergency.New(db, f.a, f.al, w.Wake)
		year := emergency.SchoolYear(time.Now())
		if done, err := f.svc.DrillDone(ctx, 1, year); err != nil || done {
			t.Fatalf("done before any drill: %v %v", done, err)
		}
		rm := roadmap.New(db)
		if err := rm.Load(ctx); err != nil {
			t.Fatal(err)
		}
		rm.Drills = f.svc
		drillIndicator(t, ctx, rm, f.p["region"], 0)
		if err := f.al.StaffPanic(ctx, f.p["guard"], 1, false, "drill-1", "учения"); err != nil {
			t.Fatal(err)
		}
		props, err := f.svc.Proposals(ctx, f.p["pcn"])
		if err != nil || len(props) != 1 || props[0].Mode != emergency.Lockdown {
			t.Fatalf("proposals: %v %+v", err, props)
		}
		if _, err := f.svc.Proposals(ctx, f.p["guard"]); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("the guard's proposals: %v", err)
		}
		_, err = f.svc.ConfirmProposal(ctx, f.p["guard2"], props[0].Alarm.ID, emergency.Confirmation{Drill: true})
		wantCode(t, err, errs.NotFound, "guard2 confirms")
		e, err := f.svc.ConfirmProposal(ctx, f.p["pcn"], props[0].Alarm.ID, emergency.Confirmation{Drill: true})
		if err != nil || e.State != emergency.Live || !e.Drill || e.AlarmID != props[0].Alarm.ID {
			t.Fatalf("confirm: %v %+v", err, e)
		}
		if props, _ := f.svc.Proposals(ctx, f.p["pcn"]); len(props) != 0 {
			t.Fatalf("still proposed: %+v", props)
		}
		// Another panic at the school while its emergency is in force
		// proposes nothing more.
		if err := f.al.StaffPanic(ctx, f.p["guard"], 1, false, "drill-2", "ещё раз"); err != nil {
			t.Fatal(err)
		}
		if props, err := f.svc.Proposals(ctx, f.p["pcn"]); err != nil || len(props) != 0 {
			t.Fatalf("a panic at a school whose emergency is in force is proposed: %v %+v", err, props)
		}
		// The group: acknowledged, dispatched, on site.
		if _, err := f.al.Acknowledge(ctx, f.p["pcn"], e.AlarmID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.al.Dispatch(ctx, f.p["pcn"], e.AlarmID, "ГБР-1"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.al.ArriveOnSite(ctx, f.p["pcn"], e.AlarmID, ""); err != nil {
			t.Fatal(err)
		}
		toks := f.tokens(t, e.ID)
		for staff, class := range f.classOf(t) {
			if _, err := f.svc.ConfirmSecured(ctx, toks[staff]); err != nil {
				t.Fatal(err)
			}
			var marks []emergency.Mark
			for _, id := range f.pupilsOf(t, class) {
				marks = append(marks, emergency.Mark{PupilID: id, Mark: emergency.Present})
			}
			if len(marks) > 0 {
				if err := f.svc.MarkClass(ctx, toks[staff], marks); err != nil {
					t.Fatal(err)
				}
			}
		}
		deadline := time.Now().Add(20 * time.Second)
		var rep emergency.Report
		for {
			if rep, err = f.svc.Report(ctx, f.p["director"], e.ID); err != nil {
				t.Fatal(err)
			}
			if rep.Timings.StaffReached.At != nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		tm := rep.Timings
		if tm.StaffReached.Seconds == nil || tm.Secured.Seconds == nil || tm.Accounted.Seconds == nil || tm.ProviderOnSite.Seconds == nil {
			t.Fatalf("timings: %+v (staff %d/%d, teachers %d/%d)", tm, rep.StaffReached, rep.StaffMessages, rep.TeachersSecure, rep.Teachers)
		}
		if _, err := f.svc.End(ctx, f.p["director"], e.ID, emergency.AllClear); err != nil {
			t.Fatal(err)
		}
		for _, d := range []string{time.Now().AddDate(0, 0, -1).Format(time.DateOnly), time.Now().Format(time.DateOnly)} {
			if _, err := f.svc.RecordBriefing(ctx, f.p["director"], 1, d, "Инструктаж персонала"); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.svc.RecordBriefing(ctx, f.p["guard"], 1, "2026-01-01", "x"); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("the guard records a briefing: %v", err)
		}
		pl, err := f.svc.YearReport(ctx, f.p["region"], 1, year)
		if err != nil || pl.PracticalDone != 1 || pl.BriefingsDone != 2 || !pl.Done || len(pl.Drills) != 1 || pl.Drills[0].Timings.Accounted.At == nil {
			t.Fatalf("year report: %v %+v", err, pl)
		}
		if done, err := f.svc.DrillDone(ctx, 1, year); err != nil || !done {
			t.Fatalf("done: %v %v", done, err)
		}
		drillIndicator(t, ctx, rm, f.p["region"], 1)
		// A plan of two practical drills: not done any more.
		if err := f.svc.SetPlan(ctx, f.p["director"], 1, year, 2, 2); err != nil {
			t.Fatal(err)
		}
		if done, _ := f.svc.DrillDone(ctx, 1, year); done {
			t.Fatal("done with one drill of two")
		}
		drillIndicator(t, ctx, rm, f.p["region"], 0)
		if err := f.svc.SetPlan(ctx, f.p["director"], 1, "2026", -1, 2); err == nil || len(err.(errs.List)) != 2 {
			t.Fatalf("a bad plan: %v", err)
		}
		for _, m := range f.messages(t, e.ID) {
			if m.kind == "emergency.guardian" {
				t.Fatalf("a drill told a guardian: %q", m.body)
			}
			if !strings.HasPrefix(m.body, map[string]string{"kk": "[ОҚУ-ЖАТТЫҒУ]", "ru": "[УЧЕНИЯ]", "en": "[DRILL]"}[m.lang]) {
				t.Fatalf("a drill message not marked: %q", m.body)
			}
		}
	})
}

// drillIndicator checks the roadmap's drill indicator of the person's
// scope: measured, over every school in it, with want of them done; and
// that the emergency module's answer for every school at once agrees with
// its answer school by school.
func drillIndicator(t *testing.T, ctx context.Context, rm *roadmap.Roadmap, p auth.Principal, want int) {
	t.Helper()
	fig, err := rm.Indicators(ctx, p, roadmap.Place{})
	if err != nil {
		t.Fatal(err)
	}
	var in *roadmap.Indicator
	for i := range fig.Indicators {
		if fig.Indicators[i].Key == roadmap.Drill {
			in = &fig.Indicators[i]
		}
	}
	if in == nil || !in.Measured || in.Required != fig.Schools || in.Having != want || in.Share == nil {
		t.Fatalf("the drill indicator of %d schools: %+v, want measured over all of them with %d done", fig.Schools, in, want)
	}
	svc := rm.Drills.(*emergency.Service)
	done, rest, err := svc.DrillsDone(ctx, time.Now())
	if err != nil || rest {
		t.Fatalf("drills done: %v, the rest done: %v", err, rest)
	}
	for _, id := range []int64{1, 2} {
		one, err := svc.DrillDone(ctx, id, emergency.SchoolYear(time.Now()))
		if err != nil || one != done[id] {
			t.Fatalf("school %d: DrillDone %v, DrillsDone %v (%v)", id, one, done[id], err)
		}
	}
}

// TestRestartSQLiteFile: a new store and service over the same SQLite file
// in the middle of an emergency resume it: the mode, the roll-call, the
// marks and the releases.
func TestRestartSQLiteFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "qorgan.db")
	db, err := store.Open(ctx, store.Config{Path: path, Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	f := setup(t, db)
	e := f.live(t, "cou", declaration(emergency.Lockdown))
	var pupil int64
	db.Reader().QueryRowContext(ctx, "SELECT MIN(id) FROM pupils WHERE school_id = 1").Scan(&pupil)
	if err := f.svc.Mark(ctx, f.p["director"], e.ID, []emergency.Mark{{PupilID: pupil, Mark: emergency.Injured}}); err != nil {
		t.Fatal(err)
	}
	if e, err = f.svc.Update(ctx, f.p["cou"], e.ID, emergency.Change{Mode: emergency.Evacuate, Place: "Двор"}); err != nil {
		t.Fatal(err)
	}
	before, err := f.svc.Snapshot(ctx, f.p["director"], e.ID)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = store.Open(ctx, store.Config{Path: path, Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	f.db, f.a = db, auth.New(db)
	f.restart()
	got, err := f.svc.Get(ctx, f.p["director"], e.ID)
	if err != nil || got.State != emergency.Live || got.Mode != emergency.Evacuate || got.Place != "Двор" {
		t.Fatalf("after the restart: %v %+v", err, got)
	}
	after, err := f.svc.Snapshot(ctx, f.p["director"], e.ID)
	if err != nil || after.Injured != 1 || len(after.People) != len(before.People) || after.Inside != before.Inside {
		t.Fatalf("roll-call after the restart: %v %d/%d injured %d", err, len(after.People), len(before.People), after.Injured)
	}
	if _, err := f.svc.End(ctx, f.p["director"], e.ID, emergency.AllClear); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) exec(t testing.TB, q string, args ...any) {
	t.Helper()
	err := f.db.InTx(context.Background(), func(tx *store.Tx) error {
		_, err := tx.ExecContext(context.Background(), q, args...)
		return err
	})
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}
