package demo_test

import (
	"context"
	"regexp"
	"slices"
	"testing"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/demo"
	"qorgan/internal/registry"
	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
	"qorgan/internal/testkit"
)

func TestLoad(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := auth.New(db)
		res := testkit.Demo(t, db, a, 0.005)
		t.Logf("%+v", res)
		count := func(q string, args ...any) int {
			var n int
			if err := db.Reader().QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			return n
		}
		if n := count("SELECT COUNT(DISTINCT region_code) FROM schools"); n != 20 {
			t.Errorf("schools in %d regions, want 20", n)
		}
		if res.Schools != count("SELECT COUNT(*) FROM schools") || res.Pupils != count("SELECT COUNT(*) FROM pupils") ||
			res.Guardians != count("SELECT COUNT(*) FROM guardians") || res.Devices != count("SELECT COUNT(*) FROM devices") {
			t.Errorf("result %+v does not match the rows written", res)
		}
		if res.ShortSchools == 0 {
			t.Error("no school is short of required devices; the demo must show some")
		}
		if res.Pupils < 15000 || res.Pupils > 25000 {
			t.Errorf("%d pupils at scale 0.005, want about 20,000", res.Pupils)
		}
		// Every generated BIN is valid.
		for _, b := range storetest.Strings(t, db.Reader(), "SELECT COALESCE(bin, parent_bin) FROM schools") {
			if err := registry.ValidateBIN("bin", b); err != nil {
				t.Errorf("demo BIN: %v", err)
			}
		}
		// The ЦОУ are named for their place, not by a KATO code.
		for _, n := range storetest.Strings(t, db.Reader(), "SELECT name_ru FROM police_units UNION ALL SELECT name_kk FROM police_units") {
			if regexp.MustCompile(`\d{9}`).MatchString(n) {
				t.Errorf("a police unit named by its code: %q", n)
			}
		}
		// The alarm demo's panels.
		r := registry.New(db, a)
		d, key, err := r.DeviceByDC09Account(ctx, demo.PlainAccount)
		if err != nil || d.SchoolID != 1 || key != nil {
			t.Errorf("plain panel: %+v key=%x err=%v", d, key, err)
		}
		d, key, err = r.DeviceByDC09Account(ctx, demo.EncryptedAccount)
		if err != nil || d.SchoolID != 1 || string(key) != demo.EncryptedKeyText {
			t.Errorf("encrypted panel: %+v key=%q err=%v", d, key, err)
		}
		if _, ok, err := registry.ProviderOnDuty(ctx, db.Reader(), 1, time.Now()); !ok || err != nil {
			t.Errorf("school 1 has no provider on duty: %v", err)
		}
		if _, ok, err := registry.PoliceUnitFor(ctx, db.Reader(), 1); !ok || err != nil {
			t.Errorf("school 1 has no police unit: %v", err)
		}
		for _, l := range res.Logins {
			if _, err := a.Authenticate(ctx, "", l.Login, l.Password); err != nil {
				t.Errorf("demo login %s: %v", l.Login, err)
			}
		}
		// The demo's people have names as in a real installation, Kazakh or
		// Russian, not what their login is for; the director, the guard and
		// the parent sign in under the names the registry has for them.
		personName := regexp.MustCompile(`^\p{Cyrillic}+(?: \p{Cyrillic}+)+$`)
		for _, l := range res.Logins {
			if n := storetest.Strings(t, db.Reader(), "SELECT full_name FROM users WHERE login = ?", l.Login); len(n) != 1 || !personName.MatchString(n[0]) || n[0] != l.FullName {
				t.Errorf("demo login %s is shown as %q, want a person's name", l.Login, n)
			}
		}
		for login, registered := range map[string]string{
			"director": "SELECT s.full_name FROM staff s WHERE s.school_id = 1 AND s.position = 'director'",
			"guard":    "SELECT s.full_name FROM staff s WHERE s.school_id = 1 AND s.position = 'guard'",
			"parent":   "SELECT g.full_name FROM guardians g JOIN users u ON u.scope_ref = CAST(g.id AS TEXT) WHERE u.login = 'parent'",
		} {
			name := storetest.Strings(t, db.Reader(), "SELECT full_name FROM users WHERE login = ?", login)
			if !slices.Contains(storetest.Strings(t, db.Reader(), registered), name[0]) {
				t.Errorf("demo login %s is shown as %q, a name the registry does not give its person", login, name[0])
			}
		}
		// New rows after the bulk load get fresh ids (PostgreSQL sequences synced).
		if _, err := r.CreateStaff(ctx, auth.System, 1, registry.StaffInput{ExternalID: "NEW1", FullName: "Жаңа қызметкер", Position: "guard"}); err != nil {
			t.Errorf("insert after demo load: %v", err)
		}
		if _, err := demo.Load(ctx, db, a, demo.Options{Scale: 0.005}); err == nil {
			t.Error("a second load into a full database was accepted")
		}
	})
}

func TestDeterministic(t *testing.T) {
	ctx := context.Background()
	sample := func() (demo.Result, string) {
		db := storetest.SQLite(t)
		res := testkit.Demo(t, db, auth.New(db), 0.002)
		var s string
		db.Reader().QueryRowContext(ctx, "SELECT code || bin || name_ru || headcount FROM schools WHERE id = 7").Scan(&s)
		var p string
		db.Reader().QueryRowContext(ctx, "SELECT last_name || first_name || class || card_uid FROM pupils WHERE id = 777").Scan(&p)
		res.Took, res.Logins = 0, nil
		return res, s + "|" + p
	}
	r1, s1 := sample()
	r2, s2 := sample()
	if r1.Schools != r2.Schools || r1.Pupils != r2.Pupils || r1.Guardians != r2.Guardians || r1.Devices != r2.Devices || r1.ShortSchools != r2.ShortSchools || s1 != s2 || s1 == "|" {
		t.Fatalf("two loads differ:\n%+v %s\n%+v %s", r1, s1, r2, s2)
	}
}
