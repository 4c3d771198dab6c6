package registry_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/registry"
	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
)

// world is a small registry: two schools in Turkestan districts, one in
// Astana, a provider under contract at the first, police units.
type world struct {
	db                  *store.DB
	reg                 *registry.Registry
	a                   *auth.Service
	s1, s2, s3          registry.School
	pupil1, pupil2      registry.Pupil
	provider, expired   registry.Provider
	policeTurk, police2 registry.PoliceUnit
}

func bin(serial int) string {
	for {
		if b, ok := registry.MakeBIN(fmt.Sprintf("2001400%04d", serial)); ok {
			return b
		}
		serial++
	}
}

func setup(t testing.TB, db *store.DB) *world {
	t.Helper()
	ctx := context.Background()
	if err := registry.SeedRegions(ctx, db); err != nil {
		t.Fatal(err)
	}
	a := auth.New(db)
	w := &world{db: db, a: a, reg: registry.New(db, a)}
	mk := func(code, region, district string, headcount int) registry.School {
		s, err := w.reg.CreateSchool(ctx, auth.System, registry.SchoolInput{Code: code, BIN: bin(len(code) * 37), NameKK: "Мектеп " + code, NameRU: "Школа " + code,
			RegionCode: region, DistrictCode: district, Headcount: headcount, Shifts: []registry.Shift{{Start: "08:00", End: "13:00"}}})
		if err != nil {
			t.Fatalf("create school %s: %v", code, err)
		}
		return s
	}
	w.s1 = mk("T-1", "610000000", "611000000", 950)
	w.s2 = mk("T-22", "610000000", "611600000", 80)
	w.s3 = mk("A-333", "710000000", "", 400)
	var err error
	w.provider, err = w.reg.CreateProvider(ctx, auth.System, registry.ProviderInput{Name: "Қорған-Күзет", BIN: bin(500), LicenceNo: "L1", LicenceUTO: true, LicenceExpires: "2030-01-01"})
	if err != nil {
		t.Fatal(err)
	}
	w.expired, err = w.reg.CreateProvider(ctx, auth.System, registry.ProviderInput{Name: "Old Guard", BIN: bin(600), LicenceNo: "L2", LicenceExpires: "2030-01-01"})
	if err != nil {
		t.Fatal(err)
	}
	today := time.Now().Format(time.DateOnly)
	if _, err := w.reg.CreateContract(ctx, auth.System, registry.Contract{ProviderID: w.provider.ID, SchoolID: w.s1.ID, StartsOn: "2020-01-01"}); err != nil {
		t.Fatal(err)
	}
	// A contract that ended yesterday gives no access today.
	yesterday := time.Now().AddDate(0, 0, -1).Format(time.DateOnly)
	if _, err := w.reg.CreateContract(ctx, auth.System, registry.Contract{ProviderID: w.expired.ID, SchoolID: w.s2.ID, StartsOn: "2020-01-01", EndsOn: yesterday}); err != nil {
		t.Fatal(err)
	}
	_ = today
	w.policeTurk, err = w.reg.CreatePoliceUnit(ctx, auth.System, registry.PoliceUnit{NameKK: "ТО ЖБО", NameRU: "ЦОУ Туркестан", RegionCode: "610000000"})
	if err != nil {
		t.Fatal(err)
	}
	w.police2, err = w.reg.CreatePoliceUnit(ctx, auth.System, registry.PoliceUnit{NameKK: "Арыс ЖБО", NameRU: "ЦОУ Арыси", RegionCode: "610000000", DistrictCode: "611600000"})
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	w.pupil1, err = w.reg.CreatePupil(ctx, auth.System, w.s1.ID, registry.PupilInput{ExternalID: "P1", LastName: "Ахметова", FirstName: "Айгерім", Class: "5 А",
		CardUID: "04a1b2c3", Guardians: []registry.GuardianInput{{Phone: "8 (701) 111-22-33", FullName: "Сәуле Ахметова", Language: "kk", MayCollect: &yes, ConsentGivenOn: "2025-09-01"}}})
	if err != nil {
		t.Fatal(err)
	}
	w.pupil2, err = w.reg.CreatePupil(ctx, auth.System, w.s2.ID, registry.PupilInput{ExternalID: "P1", LastName: "Омаров", FirstName: "Ерлан", Class: "3",
		Guardians: []registry.GuardianInput{{Phone: "+7 702 222 33 44", FullName: "Марат Омаров", Language: "ru"}}})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func principal(role auth.Role, kind auth.ScopeKind, ref string) auth.Principal {
	return auth.Principal{UserID: 99, Login: string(role), Role: role, Scope: auth.Scope{Kind: kind, Ref: ref}}
}

func ids(ss []registry.School) []int64 {
	out := []int64{}
	for _, s := range ss {
		out = append(out, s.ID)
	}
	return out
}

func TestScopes(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, w *world) {
		ctx, db := t.Context(), w.db
		id := func(n int64) string { return fmt.Sprint(n) }
		cases := []struct {
			name string
			p    auth.Principal
			want []int64
		}{
			{"analyst sees the nation", principal(auth.RoleAnalyst, auth.ScopeNation, ""), []int64{w.s1.ID, w.s2.ID, w.s3.ID}},
			{"region department", principal(auth.RoleEducation, auth.ScopeRegion, "610000000"), []int64{w.s1.ID, w.s2.ID}},
			{"district department", principal(auth.RoleEducation, auth.ScopeDistrict, "611600000"), []int64{w.s2.ID}},
			{"director", principal(auth.RoleDirector, auth.ScopeSchool, id(w.s3.ID)), []int64{w.s3.ID}},
			{"ПЦН with a contract in force", principal(auth.RolePCNOperator, auth.ScopeProvider, id(w.provider.ID)), []int64{w.s1.ID}},
			{"ПЦН whose contract ended", principal(auth.RolePCNOperator, auth.ScopeProvider, id(w.expired.ID)), []int64{}},
			{"region-wide ЦОУ", principal(auth.RoleCOUOperator, auth.ScopePoliceUnit, id(w.policeTurk.ID)), []int64{w.s1.ID, w.s2.ID}},
			{"district ЦОУ", principal(auth.RoleCOUOperator, auth.ScopePoliceUnit, id(w.police2.ID)), []int64{w.s2.ID}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				l, err := w.reg.ListSchools(ctx, c.p, registry.SchoolFilter{}, registry.Page{})
				if err != nil {
					t.Fatal(err)
				}
				if fmt.Sprint(ids(l.Items)) != fmt.Sprint(c.want) {
					t.Fatalf("schools %v, want %v", ids(l.Items), c.want)
				}
				for _, s := range []registry.School{w.s1, w.s2, w.s3} {
					_, err := w.reg.School(ctx, c.p, s.ID)
					in := false
					for _, x := range c.want {
						in = in || x == s.ID
					}
					if in && err != nil {
						t.Errorf("school %d in scope but: %v", s.ID, err)
					}
					if !in && errs.CodeOf(err) != errs.NotFound {
						t.Errorf("school %d out of scope: want NotFound, got %v", s.ID, err)
					}
				}
			})
		}
		t.Run("routing finds the ЦОУ of the district before the region's", func(t *testing.T) {
			u, ok, err := registry.PoliceUnitFor(ctx, db.Reader(), w.s2.ID)
			if err != nil || !ok || u.ID != w.police2.ID {
				t.Fatalf("got %+v %v %v", u, ok, err)
			}
			u, ok, err = registry.PoliceUnitFor(ctx, db.Reader(), w.s1.ID)
			if err != nil || !ok || u.ID != w.policeTurk.ID {
				t.Fatalf("got %+v %v %v", u, ok, err)
			}
			if _, ok, _ := registry.PoliceUnitFor(ctx, db.Reader(), w.s3.ID); ok {
				t.Fatal("Astana school got a Turkestan unit")
			}
			v, ok, err := registry.ProviderOnDuty(ctx, db.Reader(), w.s1.ID, time.Now())
			if err != nil || !ok || v.ID != w.provider.ID {
				t.Fatalf("provider on duty: %+v %v %v", v, ok, err)
			}
			if _, ok, _ := registry.ProviderOnDuty(ctx, db.Reader(), w.s2.ID, time.Now()); ok {
				t.Fatal("an ended contract is on duty")
			}
		})
	})
}

func TestPupilPrivacy(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, w *world) {
		ctx, db := t.Context(), w.db
		dir1 := principal(auth.RoleDirector, auth.ScopeSchool, fmt.Sprint(w.s1.ID))
		l, err := w.reg.ListPupils(ctx, dir1, w.s1.ID, registry.Page{})
		if err != nil || len(l.Items) != 1 || l.Items[0].ID != w.pupil1.ID {
			t.Fatalf("own pupils: %+v %v", l, err)
		}
		if got := l.Items[0].Guardians; len(got) != 1 || got[0].Phone != "+77011112233" || !got[0].MayCollect {
			t.Fatalf("guardian not normalised or linked: %+v", got)
		}
		if _, err := w.reg.ListPupils(ctx, dir1, w.s2.ID, registry.Page{}); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("another school's pupils: want NotFound, got %v", err)
		}
		if _, err := w.reg.Pupil(ctx, dir1, w.pupil2.ID); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("another school's pupil: want NotFound, got %v", err)
		}
		analyst := principal(auth.RoleAnalyst, auth.ScopeNation, "")
		if _, err := w.reg.ListPupils(ctx, analyst, w.s1.ID, registry.Page{}); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("analyst reading children: want Forbidden, got %v", err)
		}
		// The child's school is in the analyst's scope: the same refusal as
		// for the school's list.
		if _, err := w.reg.Pupil(ctx, analyst, w.pupil1.ID); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("analyst reading a child: want Forbidden, got %v", err)
		}
		g := principal(auth.RoleGuardian, auth.ScopeGuardian, fmt.Sprint(w.pupil1.Guardians[0].ID))
		kids, err := w.reg.Children(ctx, g)
		if err != nil || len(kids) != 1 || kids[0].ID != w.pupil1.ID {
			t.Fatalf("guardian's children: %+v %v", kids, err)
		}
		if _, err := w.reg.Pupil(ctx, g, w.pupil2.ID); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("guardian reading another child: want NotFound, got %v", err)
		}
		// Every read landed in the access log.
		var n int
		db.Reader().QueryRowContext(ctx, "SELECT COUNT(*) FROM access_log WHERE pupil_id = ?", w.pupil1.ID).Scan(&n)
		if n < 2 {
			t.Fatalf("access log holds %d reads of pupil 1, want at least 2", n)
		}
		acc, err := w.a.PupilAccess(ctx, w.pupil1.ID, 10)
		if err != nil || len(acc) != n {
			t.Fatalf("PupilAccess: %d entries, %v", len(acc), err)
		}
	})
}

// TestGuardianSeesOtherGuardianByName: a guardian reading their child is
// shown the other guardian's name and nothing else (no phone, e-mail,
// messenger or consent), and not the child's card UID, which opens the
// school's gates; the school's staff see both in full.
func TestGuardianSeesOtherGuardianByName(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, w *world) {
		ctx := t.Context()
		kid, err := w.reg.CreatePupil(ctx, auth.System, w.s1.ID, registry.PupilInput{ExternalID: "TWO", LastName: "Сейтова", FirstName: "Әсел", Class: "2",
			CardUID: "0A0B0C0D", Guardians: []registry.GuardianInput{
				{Phone: "+77013330001", FullName: "Гүлмира Сейтова", Email: "gulmira@example.kz", MessengerID: "@gulmira", ConsentGivenOn: "2025-09-01"},
				{Phone: "+77013330002", FullName: "Асқар Сейтов", Email: "askar@example.kz", MessengerID: "@askar", ConsentGivenOn: "2025-09-01"}}})
		if err != nil {
			t.Fatal(err)
		}
		mother := principal(auth.RoleGuardian, auth.ScopeGuardian, fmt.Sprint(kid.Guardians[0].ID))
		kids, err := w.reg.Children(ctx, mother)
		if err != nil {
			t.Fatal(err)
		}
		one, err := w.reg.Pupil(ctx, mother, kid.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range append(kids, one) {
			b, _ := json.Marshal(x)
			s := string(b)
			if strings.Contains(s, "0A0B0C0D") || strings.Contains(s, "+77013330002") || strings.Contains(s, "askar@") || strings.Contains(s, "@askar") {
				t.Errorf("the mother is shown the card or the father's contacts: %s", s)
			}
			if !strings.Contains(s, `{"full_name":"Асқар Сейтов"}`) || !strings.Contains(s, "+77013330001") {
				t.Errorf("the mother is not shown the father's name and her own entry: %s", s)
			}
		}
		dir := principal(auth.RoleDirector, auth.ScopeSchool, fmt.Sprint(w.s1.ID))
		whole, err := w.reg.Pupil(ctx, dir, kid.ID)
		if b, _ := json.Marshal(whole); err != nil || !strings.Contains(string(b), "0A0B0C0D") || !strings.Contains(string(b), "askar@example.kz") {
			t.Errorf("the director is not shown the pupil whole: %s %v", b, err)
		}
	})
}

func TestBadInput(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, w *world) {
		ctx, db := t.Context(), w.db
		base := registry.SchoolInput{Code: "NEW-1", NameKK: "Жаңа", NameRU: "Новая", RegionCode: "610000000"}
		cases := []struct {
			name  string
			edit  func(*registry.SchoolInput)
			code  errs.Code
			field string
		}{
			{"bad BIN", func(s *registry.SchoolInput) { s.BIN = "123456789012" }, errs.Invalid, "bin"},
			{"unknown region", func(s *registry.SchoolInput) { s.RegionCode = "990000000" }, errs.Invalid, "region_code"},
			{"district of another region", func(s *registry.SchoolInput) { s.RegionCode = "710000000"; s.DistrictCode = "611000000" }, errs.Invalid, "district_code"},
			{"shift backwards", func(s *registry.SchoolInput) { s.Shifts = []registry.Shift{{Start: "13:00", End: "08:00"}} }, errs.Invalid, "shifts/0"},
			{"latitude outside Kazakhstan", func(s *registry.SchoolInput) { lat, lon := 10.0, 70.0; s.Lat, s.Lon = &lat, &lon }, errs.Invalid, "lat"},
			{"duplicate code", func(s *registry.SchoolInput) { s.Code = w.s1.Code }, errs.Conflict, "code"},
			{"duplicate BIN", func(s *registry.SchoolInput) { s.BIN = w.s1.BIN }, errs.Conflict, "bin"},
		}
		var before int
		db.Reader().QueryRowContext(ctx, "SELECT COUNT(*) FROM schools").Scan(&before)
		for _, c := range cases {
			in := base
			c.edit(&in)
			_, err := w.reg.CreateSchool(ctx, auth.System, in)
			e := errs.As(err)
			if err == nil || e.Code != c.code || e.Field != c.field {
				t.Errorf("%s: got %v, want %s on %s", c.name, err, c.code, c.field)
			}
		}
		var after int
		db.Reader().QueryRowContext(ctx, "SELECT COUNT(*) FROM schools").Scan(&after)
		if after != before {
			t.Fatalf("rejected schools were written: %d → %d", before, after)
		}
		// A region department writes only in its region.
		other := principal(auth.RoleEducation, auth.ScopeRegion, "750000000")
		if _, err := w.reg.CreateSchool(ctx, other, base); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("department writing outside its region: %v", err)
		}
		// Pupils: a bad guardian phone is named, and nothing is written.
		_, err := w.reg.CreatePupil(ctx, auth.System, w.s1.ID, registry.PupilInput{ExternalID: "P9", LastName: "А", FirstName: "Б", Class: "1",
			Guardians: []registry.GuardianInput{{Phone: "12345", FullName: "X"}}})
		if e := errs.As(err); e.Field != "guardians/0/phone" {
			t.Fatalf("bad phone: %v", err)
		}
		if _, err := w.reg.CreatePupil(ctx, auth.System, w.s1.ID, registry.PupilInput{ExternalID: "P1", LastName: "А", FirstName: "Б", Class: "1"}); errs.CodeOf(err) != errs.Conflict {
			t.Fatalf("duplicate pupil: %v", err)
		}
	})
}

func TestUpsertPupilsIsIdempotent(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, w *world) {
		ctx, db := t.Context(), w.db
		var ins []registry.PupilInput
		for i := 0; i < 50; i++ {
			in := registry.PupilInput{ExternalID: fmt.Sprintf("X%d", i), LastName: "Сейітов", FirstName: "Ислам", Class: "7Б",
				Guardians: []registry.GuardianInput{{Phone: fmt.Sprintf("+7705%07d", i), FullName: "Ата-ана", Language: "kk"}}}
			in.Normalize()
			ins = append(ins, in)
		}
		run := func() registry.PeopleChange {
			var ch registry.PeopleChange
			if err := db.InTx(ctx, func(tx *store.Tx) error {
				var err error
				ch, err = registry.UpsertPupils(ctx, tx, time.Now(), w.s3.ID, ins)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return ch
		}
		if ch := run(); ch.Created != 50 {
			t.Fatalf("first: %+v", ch)
		}
		if ch := run(); ch.Created != 0 || ch.Updated != 0 || ch.Unchanged != 50 {
			t.Fatalf("second: %+v", ch)
		}
		ins[3].Class = "8Б"
		ins[4].Guardians[0].Language = "ru"
		if ch := run(); ch.Created != 0 || ch.Updated != 2 || ch.Unchanged != 48 {
			t.Fatalf("corrected: %+v", ch)
		}
	})
}

func TestAuditChain(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, w *world) {
		ctx, db := t.Context(), w.db
		rep, err := w.a.VerifyAudit(ctx)
		if err != nil || !rep.OK || rep.Entries < 8 {
			t.Fatalf("fresh chain: %+v %v", rep, err)
		}
		// Tamper behind the triggers' back, as someone with direct database
		// access would; verification must find the entry.
		drop := []string{"DROP TRIGGER audit_no_update"}
		if db.Dialect == store.Postgres {
			drop = []string{"DROP TRIGGER audit_no_update ON audit"}
		}
		for _, q := range drop {
			if _, err := db.W.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.W.ExecContext(ctx, db.Dialect.Rebind("UPDATE audit SET detail = ? WHERE seq = 3"), `{"tampered":true}`); err != nil {
			t.Fatal(err)
		}
		rep, err = w.a.VerifyAudit(ctx)
		if err != nil || rep.OK || rep.BrokenAt != 3 {
			t.Fatalf("tampered chain: %+v %v", rep, err)
		}
	})
}

// TestDC09AccountOddBytes: a DC-09 frame may carry any bytes where its
// account goes; looking such an account up finds no device on both
// stores, the same as an account nobody registered, and a registered
// account is still found in either case of its hex digits.
func TestDC09AccountOddBytes(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, w *world) {
		ctx := t.Context()
		if _, err := w.reg.CreateDevice(ctx, auth.System, w.s1.ID, registry.DeviceInput{Kind: registry.AlarmPanel, Name: "Panel", DC09Account: "ab12"}); err != nil {
			t.Fatal(err)
		}
		for _, account := range []string{"\x00\xff", "AB\x0012", "\xc0\xcb\xcc", "AB", "0123456789ABCDEF0", "9999"} {
			if _, _, err := w.reg.DeviceByDC09Account(ctx, account); errs.CodeOf(err) != errs.NotFound {
				t.Errorf("account %q: %v, want not found", account, err)
			}
		}
		if d, _, err := w.reg.DeviceByDC09Account(ctx, "ab12"); err != nil || d.DC09Account != "AB12" {
			t.Errorf("account ab12: %+v, %v", d, err)
		}
	})
}
