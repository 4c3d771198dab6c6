package registry_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"qorgan/internal/attendance"
	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/kztime"
	"qorgan/internal/notify"
	"qorgan/internal/registry"
	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
)

// TestErasePupil erases a pupil with a sibling: the pupil's passes, days and
// messages go, and so does the guardian who had no other child here, with
// their sign-in; the shared guardian and the sibling's records stay. The
// audit trail records the erasure without the child's name.
func TestErasePupil(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, w *world) {
		ctx, db := t.Context(), w.db
		passes := attendance.New(db, attendance.NoNotices, func() {})
		outbox := notify.New(db)
		w.reg.Records = []registry.PupilRecords{passes, outbox}
		s1 := fmt.Sprint(w.s1.ID)
		director := principal(auth.RoleDirector, auth.ScopeSchool, s1)
		guard := principal(auth.RoleGuard, auth.ScopeSchool, s1)

		// A brother of pupil 1: the same mother, and a father of their own
		// who signs in.
		sib, err := w.reg.CreatePupil(ctx, auth.System, w.s1.ID, registry.PupilInput{ExternalID: "P3", LastName: "Ахметов", FirstName: "Данияр", Class: "2 В",
			CardUID: "04a1b2c4", Guardians: []registry.GuardianInput{
				{Phone: "8 (701) 111-22-33", FullName: "Сәуле Ахметова", Language: "kk", ConsentGivenOn: "2025-09-01"},
				{Phone: "+7 705 999 88 77", FullName: "Бауыржан Ахметов", Language: "ru", ConsentGivenOn: "2025-09-01"}}})
		if err != nil {
			t.Fatal(err)
		}
		var father int64
		for _, g := range sib.Guardians {
			if g.Phone == "+77059998877" {
				father = g.ID
			}
		}
		if _, err := w.a.CreateUser(ctx, auth.System, auth.NewUser{Login: "father", Password: "a long enough password", Role: auth.RoleGuardian,
			Scope: auth.Scope{Kind: auth.ScopeGuardian, Ref: fmt.Sprint(father)}}); err != nil {
			t.Fatal(err)
		}
		sess, err := w.a.Login(ctx, "", "father", "a long enough password")
		if err != nil {
			t.Fatal(err)
		}
		for i, id := range []int64{w.pupil1.ID, sib.ID} {
			if _, err := passes.ManualPass(ctx, guard, w.s1.ID, id, attendance.In, fmt.Sprint("in-", i)); err != nil {
				t.Fatal(err)
			}
			err := db.InTx(ctx, func(tx *store.Tx) error {
				_, err := notify.Enqueue(ctx, tx, []notify.Message{{Key: fmt.Sprint("test/", id), Channel: notify.ChannelSMS, Recipient: "+77011112233",
					Kind: "pupil.entered", Body: "вошёл в школу", Language: "ru", SchoolID: w.s1.ID, PupilID: id}})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}

		// Export first: everything held about the sibling.
		ex, err := w.reg.ExportPupil(ctx, director, sib.ID)
		if err != nil {
			t.Fatal(err)
		}
		att := ex.Records["attendance"].(attendance.PupilAttendance)
		msgs := ex.Records["messages"].([]notify.PupilMessage)
		if ex.Pupil.ExternalID != "P3" || len(ex.Pupil.Guardians) != 2 || len(att.Passes) != 1 || len(att.Days) != 1 || len(msgs) != 1 || msgs[0].Body != "вошёл в школу" {
			t.Fatalf("export: %+v", ex)
		}
		if _, err := w.reg.ExportPupil(ctx, guard, sib.ID); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("export by the guard: want Forbidden, got %v", err)
		}
		var logged int
		db.Reader().QueryRowContext(ctx, "SELECT COUNT(*) FROM access_log WHERE pupil_id = ? AND action = 'pupil.export'", sib.ID).Scan(&logged)
		if logged != 1 {
			t.Fatalf("the export is in the access log %d times", logged)
		}

		// Who may erase.
		other := principal(auth.RoleDirector, auth.ScopeSchool, fmt.Sprint(w.s2.ID))
		if _, err := w.reg.ErasePupil(ctx, other, sib.ID); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("erase by another school: want NotFound, got %v", err)
		}
		if _, err := w.reg.ErasePupil(ctx, guard, sib.ID); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("erase by the guard: want Forbidden, got %v", err)
		}

		e, err := w.reg.ErasePupil(ctx, director, sib.ID)
		if err != nil {
			t.Fatal(err)
		}
		if e.Records["attendance"] != 2 || e.Records["messages"] != 1 || e.Guardians != 1 || e.Logins != 1 {
			t.Fatalf("erasure: %+v", e)
		}
		count := func(q string, args ...any) int {
			t.Helper()
			var n int
			if err := db.Reader().QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		for _, c := range []struct {
			q    string
			arg  any
			want int
		}{
			{"SELECT COUNT(*) FROM pupils WHERE id = ?", sib.ID, 0},
			{"SELECT COUNT(*) FROM pupil_guardians WHERE pupil_id = ?", sib.ID, 0},
			{"SELECT COUNT(*) FROM passes WHERE person_kind = 'pupil' AND person_id = ?", sib.ID, 0},
			{"SELECT COUNT(*) FROM presence WHERE person_kind = 'pupil' AND person_id = ?", sib.ID, 0},
			{"SELECT COUNT(*) FROM outbox WHERE pupil_id = ?", sib.ID, 0},
			{"SELECT COUNT(*) FROM guardians WHERE id = ?", father, 0},
			{"SELECT COUNT(*) FROM users WHERE login = ?", "father", 0},
			{"SELECT COUNT(*) FROM guardians WHERE id = ?", w.pupil1.Guardians[0].ID, 1},
			{"SELECT COUNT(*) FROM passes WHERE person_kind = 'pupil' AND person_id = ?", w.pupil1.ID, 1},
			{"SELECT COUNT(*) FROM outbox WHERE pupil_id = ?", w.pupil1.ID, 1},
		} {
			if n := count(c.q, c.arg); n != c.want {
				t.Errorf("%s (%v): %d rows, want %d", c.q, c.arg, n, c.want)
			}
		}
		if p, err := w.reg.Pupil(ctx, director, w.pupil1.ID); err != nil || len(p.Guardians) != 1 {
			t.Errorf("pupil 1 after the erasure: %+v %v", p, err)
		}
		if _, err := w.a.Session(ctx, sess.Token); errs.CodeOf(err) != errs.Unauthorized {
			t.Errorf("the erased father's session: want Unauthorized, got %v", err)
		}
		if _, err := w.reg.ErasePupil(ctx, director, sib.ID); errs.CodeOf(err) != errs.NotFound {
			t.Errorf("erasing twice: want NotFound, got %v", err)
		}
		var detail string
		if err := db.Reader().QueryRowContext(ctx, "SELECT detail FROM audit WHERE action = 'pupil.erase' AND object = ?", fmt.Sprintf("pupil/%d", sib.ID)).Scan(&detail); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(detail, "Данияр") || strings.Contains(detail, "P3") || !strings.Contains(detail, `"messages":1`) {
			t.Errorf("audit detail %s", detail)
		}
		if rep, err := w.a.VerifyAudit(ctx); err != nil || !rep.OK {
			t.Errorf("audit chain after the erasure: %+v %v", rep, err)
		}

		// A turnstile matched the brother's card just before the erasure
		// and wrote the pass just after it: the sweep deletes it once the
		// intake has settled, and then forgets the id.
		err = db.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO passes (device_id, school_id, event_id, at, received_at, direction, credential, person_kind, person_id)
				VALUES (0, ?, 'late', ?, ?, 'out', '04A1B2C4', 'pupil', ?)`, w.s1.ID, store.Micros(time.Now()), store.Micros(time.Now()), sib.ID)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := w.reg.SweepErasures(ctx, time.Now().Add(-registry.EraseSettle)); err != nil || n != 0 {
			t.Fatalf("sweep before the intake settled: %d records, %v", n, err)
		}
		if n, err := w.reg.SweepErasures(ctx, time.Now().Add(time.Second)); err != nil || n != 1 {
			t.Fatalf("sweep: %d records, want 1; %v", n, err)
		}
		if n := count("SELECT COUNT(*) FROM erasures WHERE pupil_id = ?", sib.ID); n != 0 {
			t.Errorf("the erased id is kept after the sweep")
		}
		if n, err := w.reg.SweepErasures(ctx, time.Now().Add(time.Second)); err != nil || n != 0 {
			t.Errorf("second sweep: %d records, %v", n, err)
		}

		// A pupil created after an erasure: the sweep leaves their records
		// alone (and the id is a new one).
		mk := func(ext string) registry.Pupil {
			p, err := w.reg.CreatePupil(ctx, director, w.s1.ID, registry.PupilInput{ExternalID: ext, LastName: "Ли", FirstName: "Анна", Class: "1"})
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		last := mk("P5")
		if _, err := w.reg.ErasePupil(ctx, director, last.ID); err != nil {
			t.Fatal(err)
		}
		next := mk("P6")
		if next.ID == last.ID {
			t.Errorf("the new pupil was given the erased pupil's id %d", last.ID)
		}
		if _, err := passes.ManualPass(ctx, guard, w.s1.ID, next.ID, attendance.In, "p6-in"); err != nil {
			t.Fatal(err)
		}
		if _, err := w.reg.SweepErasures(ctx, time.Now().Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		if n := count("SELECT COUNT(*) FROM passes WHERE person_kind = 'pupil' AND person_id = ?", next.ID); n != 1 {
			t.Errorf("the new pupil %d has %d passes after the sweep, want 1", next.ID, n)
		}
	})
}

// TestUpdatePupil changes a pupil's record and refuses a classmate's
// external id, a role that may not write pupils and another school.
func TestUpdatePupil(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, w *world) {
		ctx, db := t.Context(), w.db
		s1 := fmt.Sprint(w.s1.ID)
		director := principal(auth.RoleDirector, auth.ScopeSchool, s1)
		if _, err := w.reg.CreatePupil(ctx, director, w.s1.ID, registry.PupilInput{ExternalID: "P2", LastName: "Ким", FirstName: "Юлия", Class: "5 А"}); err != nil {
			t.Fatal(err)
		}
		in := registry.PupilInput{LastName: "Ахметова", FirstName: "Айгерім", Class: "6 А", CardUID: "04a1b2c3",
			Guardians: []registry.GuardianInput{{Phone: "+77011112233", FullName: "Сәуле Ахметова", Language: "ru", ConsentGivenOn: "2025-09-01"}}}
		p, err := w.reg.UpdatePupil(ctx, director, w.pupil1.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		if p.ExternalID != "P1" || p.Class != "6А" || len(p.Guardians) != 1 || p.Guardians[0].Language != "ru" {
			t.Fatalf("updated: %+v", p)
		}
		in.ExternalID = "P2"
		if _, err := w.reg.UpdatePupil(ctx, director, w.pupil1.ID, in); !isField(err, errs.Conflict, "external_id") {
			t.Fatalf("a classmate's external id: want Conflict on external_id, got %v", err)
		}
		in.ExternalID = "P1-NEW"
		if p, err := w.reg.UpdatePupil(ctx, director, w.pupil1.ID, in); err != nil || p.ExternalID != "P1-NEW" || p.ID != w.pupil1.ID {
			t.Fatalf("renamed: %+v %v", p, err)
		}
		in.Class = "13Z"
		if _, err := w.reg.UpdatePupil(ctx, director, w.pupil1.ID, in); !isField(err, errs.Invalid, "class") {
			t.Fatalf("bad class: %v", err)
		}
		in.Class = "6 А"
		// A guardian taken off the list of their only child goes after the
		// retention, with their sign-in; a scope written another way is
		// refused.
		mother := w.pupil1.Guardians[0].ID
		if _, err := w.a.CreateUser(ctx, auth.System, auth.NewUser{Login: "mother0", Password: "a long enough password", Role: auth.RoleGuardian,
			Scope: auth.Scope{Kind: auth.ScopeGuardian, Ref: fmt.Sprint("0", mother)}}); errs.CodeOf(err) != errs.Invalid {
			t.Fatalf("a guardian scope with a leading zero: want Invalid, got %v", err)
		}
		if _, err := w.a.CreateUser(ctx, auth.System, auth.NewUser{Login: "mother", Password: "a long enough password", Role: auth.RoleGuardian,
			Scope: auth.Scope{Kind: auth.ScopeGuardian, Ref: fmt.Sprint(mother)}}); err != nil {
			t.Fatal(err)
		}
		orphaned := in
		orphaned.Guardians = []registry.GuardianInput{{Phone: "+77770001122", FullName: "Ахмет Ахметов", Language: "kk"}}
		if p, err := w.reg.UpdatePupil(ctx, director, w.pupil1.ID, orphaned); err != nil || len(p.Guardians) != 1 || p.Guardians[0].Phone != "+77770001122" {
			t.Fatalf("guardian replaced: %+v %v", p, err)
		}
		kept := func() int {
			var n int
			db.Reader().QueryRowContext(ctx, "SELECT (SELECT COUNT(*) FROM guardians WHERE id = ?) + (SELECT COUNT(*) FROM users WHERE login = 'mother')", mother).Scan(&n)
			return n
		}
		// Kept for a while: a corrected file puts her back as she was.
		if n, err := w.reg.DropUnlinkedGuardians(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 || kept() != 2 {
			t.Fatalf("a guardian unlinked a moment ago was deleted: %d %v, %d rows kept", n, err, kept())
		}
		withMother := orphaned
		withMother.Guardians = append(withMother.Guardians, registry.GuardianInput{Phone: "+77011112233", FullName: "Сәуле Ахметова", Language: "kk", ConsentGivenOn: "2025-09-01"})
		if _, err := w.reg.UpdatePupil(ctx, director, w.pupil1.ID, withMother); err != nil {
			t.Fatal(err)
		}
		if n, err := w.reg.DropUnlinkedGuardians(ctx, time.Now().Add(time.Second)); err != nil || n != 0 || kept() != 2 {
			t.Fatalf("a guardian linked again was deleted: %d %v, %d rows kept", n, err, kept())
		}
		// Taken off again, and past the retention: she goes, with her login.
		if _, err := w.reg.UpdatePupil(ctx, director, w.pupil1.ID, orphaned); err != nil {
			t.Fatal(err)
		}
		if n, err := w.reg.DropUnlinkedGuardians(ctx, time.Now().Add(time.Second)); err != nil || n != 1 || kept() != 0 {
			t.Fatalf("the unlinked guardian after the retention: %d %v, %d rows kept", n, err, kept())
		}
		if _, err := w.reg.UpdatePupil(ctx, principal(auth.RoleGuard, auth.ScopeSchool, s1), w.pupil1.ID, in); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("guard: want Forbidden, got %v", err)
		}
		if _, err := w.reg.UpdatePupil(ctx, principal(auth.RoleDirector, auth.ScopeSchool, fmt.Sprint(w.s2.ID)), w.pupil1.ID, in); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("another school: want NotFound, got %v", err)
		}
	})
}

// TestWithdrawMyConsent: the guardian's withdrawal dates from today, a
// second one keeps the first date, and the guardian is no longer told.
func TestWithdrawMyConsent(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, w *world) {
		ctx := t.Context()
		g := w.pupil1.Guardians[0]
		me := principal(auth.RoleGuardian, auth.ScopeGuardian, fmt.Sprint(g.ID))
		today := kztime.Today(time.Now()).Format(time.DateOnly)
		for range 2 {
			c, err := w.reg.WithdrawMyConsent(ctx, me)
			if err != nil || c.WithdrawnOn != today || c.GivenOn != "2025-09-01" {
				t.Fatalf("withdrawn: %+v %v", c, err)
			}
		}
		kids, err := w.reg.Children(ctx, me)
		if err != nil || len(kids) != 1 || kids[0].Guardians[0].Consent(time.Now()) {
			t.Fatalf("consent still in force: %+v %v", kids, err)
		}
		// The school changes the child's record with the consent form it
		// has on file: the withdrawal stands.
		director := principal(auth.RoleDirector, auth.ScopeSchool, fmt.Sprint(w.s1.ID))
		p, err := w.reg.UpdatePupil(ctx, director, w.pupil1.ID, registry.PupilInput{LastName: "Ахметова", FirstName: "Айгерім", Class: "5 А", CardUID: "04a1b2c3",
			Guardians: []registry.GuardianInput{{Phone: g.Phone, FullName: g.FullName, Language: "kk", ConsentGivenOn: "2025-09-01"}}})
		if err != nil || len(p.Guardians) != 1 || p.Guardians[0].ConsentWithdrawnOn != today {
			t.Fatalf("the school's edit undid the withdrawal: %+v %v", p.Guardians, err)
		}
		// Pupil 2's guardian never gave consent: nothing to withdraw.
		g2 := principal(auth.RoleGuardian, auth.ScopeGuardian, fmt.Sprint(w.pupil2.Guardians[0].ID))
		if c, err := w.reg.WithdrawMyConsent(ctx, g2); err != nil || c.WithdrawnOn != "" {
			t.Fatalf("no consent: %+v %v", c, err)
		}
		if _, err := w.reg.WithdrawMyConsent(ctx, principal(auth.RoleDirector, auth.ScopeSchool, fmt.Sprint(w.s1.ID))); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("a director: want Forbidden, got %v", err)
		}
	})
}

// isField says whether err is an error of the code about the field.
func isField(err error, code errs.Code, field string) bool {
	var e *errs.Error
	return errors.As(err, &e) && e.Code == code && e.Field == field
}

// TestEraseWhileASiblingIsLinked: a pupil's only guardian is being linked
// to a new sibling in a transaction still open when the pupil is erased.
// The erasure waits for it and keeps the guardian (on PostgreSQL it would
// otherwise count no other child and fail on the new link).
func TestEraseWhileASiblingIsLinked(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, w *world) {
		ctx, db := t.Context(), w.db
		director := principal(auth.RoleDirector, auth.ScopeSchool, fmt.Sprint(w.s1.ID))
		g := w.pupil1.Guardians[0]
		linked, commit := make(chan struct{}), make(chan struct{})
		sibling := make(chan error, 1)
		go func() {
			sibling <- db.InTx(ctx, func(tx *store.Tx) error {
				_, err := registry.UpsertPupils(ctx, tx, time.Now(), w.s1.ID, []registry.PupilInput{{ExternalID: "P9", LastName: "Ахметова", FirstName: "Дана", Class: "1",
					Guardians: []registry.GuardianInput{{Phone: g.Phone, FullName: g.FullName, Language: g.Language, ConsentGivenOn: g.ConsentGivenOn}}}})
				close(linked)
				<-commit
				return err
			})
		}()
		<-linked
		erased := make(chan error, 1)
		var e registry.Erasure
		go func() {
			var err error
			e, err = w.reg.ErasePupil(ctx, director, w.pupil1.ID)
			erased <- err
		}()
		time.Sleep(200 * time.Millisecond) // the erasure reaches the guardian and waits
		close(commit)
		if err := <-sibling; err != nil {
			t.Fatal(err)
		}
		if err := <-erased; err != nil {
			t.Fatalf("erasure beside a new sibling: %v", err)
		}
		var kept int
		db.Reader().QueryRowContext(ctx, "SELECT COUNT(*) FROM guardians WHERE id = ?", g.ID).Scan(&kept)
		if e.Guardians != 0 || kept != 1 {
			t.Fatalf("the guardian of the new sibling was erased (%+v, %d rows)", e, kept)
		}
	})
}

// TestUnlinkedAtOnce: two schools take the same guardian off their lists in
// transactions that overlap; the guardian, left with no child, is marked
// and goes after the retention (without the lock neither transaction saw
// the other's link gone, and the guardian stayed for ever).
func TestUnlinkedAtOnce(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, w *world) {
		ctx, db := t.Context(), w.db
		g := w.pupil1.Guardians[0]
		guardian := registry.GuardianInput{Phone: g.Phone, FullName: g.FullName, Language: g.Language, ConsentGivenOn: g.ConsentGivenOn}
		if _, err := w.reg.CreatePupil(ctx, auth.System, w.s2.ID, registry.PupilInput{ExternalID: "P7", LastName: "Ахметов", FirstName: "Арман", Class: "4",
			Guardians: []registry.GuardianInput{guardian}}); err != nil {
			t.Fatal(err)
		}
		// The pupil's record without the guardian.
		drop := func(ext, last, first, class string) registry.PupilInput {
			return registry.PupilInput{ExternalID: ext, LastName: last, FirstName: first, Class: class}
		}
		first, commit := make(chan struct{}), make(chan struct{})
		errc := make(chan error, 2)
		go func() {
			errc <- db.InTx(ctx, func(tx *store.Tx) error {
				_, err := registry.UpsertPupils(ctx, tx, time.Now(), w.s1.ID, []registry.PupilInput{drop("P1", "Ахметова", "Айгерім", "5А")})
				close(first)
				<-commit
				return err
			})
		}()
		<-first
		go func() {
			errc <- db.InTx(ctx, func(tx *store.Tx) error {
				_, err := registry.UpsertPupils(ctx, tx, time.Now(), w.s2.ID, []registry.PupilInput{drop("P7", "Ахметов", "Арман", "4")})
				return err
			})
		}()
		time.Sleep(200 * time.Millisecond) // the second reaches the guardian and waits
		close(commit)
		for range 2 {
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
		}
		var marked int
		db.Reader().QueryRowContext(ctx, "SELECT COUNT(*) FROM guardians WHERE id = ? AND unlinked_at IS NOT NULL", g.ID).Scan(&marked)
		if marked != 1 {
			t.Fatal("a guardian taken off both lists at once was not marked")
		}
		if n, err := w.reg.DropUnlinkedGuardians(ctx, time.Now().Add(time.Second)); err != nil || n != 1 {
			t.Fatalf("after the retention: %d %v", n, err)
		}
	})
}
