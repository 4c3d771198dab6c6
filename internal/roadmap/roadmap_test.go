package roadmap_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"qorgan/internal/alarm"
	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/protocol/alarmcode"
	"qorgan/internal/registry"
	"qorgan/internal/roadmap"
	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
	"qorgan/internal/testkit"
)

const (
	astana    = "710000000"
	turkestan = "610000000"
	arys      = "611600000" // a district of Turkestan region
)

type fixture struct {
	db      *store.DB
	clk     *testkit.Clock
	rm      *roadmap.Roadmap
	alarms  *alarm.Service
	ids     map[string]int64
	nation  auth.Principal
	admin   auth.Principal
	region  auth.Principal // Turkestan's education department
	licence int64          // a provider licensed for УТО objects
}

// setup loads the rules into a fresh store, with schools either side of
// every threshold in Astana and Turkestan, on a clock the test moves.
func setup(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{db: db, clk: testkit.NewClock(time.Date(2026, 12, 6, 6, 0, 0, 0, time.UTC)),
		nation: auth.Principal{Login: "analyst", Role: auth.RoleAnalyst, Scope: auth.Scope{Kind: auth.ScopeNation}},
		admin:  auth.Principal{Login: "admin", Role: auth.RoleAdmin, Scope: auth.Scope{Kind: auth.ScopeInstallation}},
		region: auth.Principal{Login: "region", Role: auth.RoleEducation, Scope: auth.Scope{Kind: auth.ScopeRegion, Ref: turkestan}}}
	var in []registry.SchoolInput
	for _, n := range []int{99, 100, 300, 301, 700, 701} {
		in = append(in, registry.SchoolInput{Code: fmt.Sprintf("T%d", n), NameKK: "мектеп", NameRU: fmt.Sprintf("школа %d", n), RegionCode: turkestan, DistrictCode: arys, Headcount: n})
	}
	in = append(in, registry.SchoolInput{Code: "A150", NameKK: "мектеп", NameRU: "школа в центре", RegionCode: astana, RegionalCentre: true, Headcount: 150})
	f.ids = testkit.Schools(t, db, in...)
	f.rm = roadmap.New(db)
	f.rm.Now, f.rm.Fresh = f.clk.Now, 0 // every change seen at the next read
	if err := f.rm.Load(ctx); err != nil {
		t.Fatal(err)
	}
	f.alarms = alarm.New(db, auth.New(db), nil)
	f.alarms.Now = f.clk.Now
	err := db.InTx(ctx, func(tx *store.Tx) error {
		v, err := registry.InsertProvider(ctx, tx, store.Micros(f.clk.Now()), registry.ProviderInput{Name: "Қорғау", BIN: "000000000000", LicenceNo: "L1", LicenceUTO: true, LicenceExpires: "2030-01-01"})
		f.licence = v.ID
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) device(t *testing.T, school string, kind registry.DeviceKind, interval int) registry.Device {
	t.Helper()
	var d registry.Device
	err := f.db.InTx(context.Background(), func(tx *store.Tx) error {
		var err error
		d, err = registry.InsertDevice(context.Background(), tx, store.Micros(f.clk.Now()), f.ids[school], registry.DeviceInput{Kind: kind, Name: string(kind) + " 1", ReportingInterval: interval}, nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (f *fixture) contract(t *testing.T, school string, provider int64) {
	t.Helper()
	err := f.db.InTx(context.Background(), func(tx *store.Tx) error {
		_, err := registry.InsertContract(context.Background(), tx, store.Micros(f.clk.Now()), registry.Contract{ProviderID: provider, SchoolID: f.ids[school], StartsOn: "2026-01-01", EndsOn: "2027-12-31"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// hear records a signal from the device, as the alarm intake does.
func (f *fixture) hear(t *testing.T, d registry.Device, seq string) {
	t.Helper()
	err := f.alarms.Commit(context.Background(), []alarm.Signal{{Source: "http", DeviceID: d.ID, SchoolID: d.SchoolID, Sequence: seq, Content: []byte(seq),
		Events: []alarmcode.Event{{Type: alarmcode.PeriodicTest, Code: "XX", Known: true}}, ReceivedAt: f.clk.Now()}})
	if err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) gaps(t *testing.T, school string) roadmap.Gaps {
	t.Helper()
	g, err := f.rm.Gaps(context.Background(), f.admin, f.ids[school])
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func item(g roadmap.Gaps, k roadmap.Key) (roadmap.Item, bool) {
	for _, it := range g.Items {
		if it.Key == k {
			return it, true
		}
	}
	return roadmap.Item{}, false
}

// Each school either side of a threshold is required what its band says
// and, having nothing, misses each item with its reason and its rule; the
// requirement before the 2021 change is the old one.
func TestGapsEitherSideOfThresholds(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, f *fixture) {
		want := map[string]int{"T99": 0, "T100": 4, "T300": 4, "T301": 7, "T700": 7, "T701": 9, "A150": 9}
		for code, n := range want {
			g := f.gaps(t, code)
			if len(g.Items) != n || len(g.Missing) != n || g.Compliant != (n == 0) {
				t.Errorf("%s: %d items, %d missing, compliant %v; want %d missing", code, len(g.Items), len(g.Missing), g.Compliant, n)
			}
			for _, it := range g.Missing {
				if it.Reason == "" || it.Source.Act == "" || it.Source.Clause == "" {
					t.Errorf("%s: %s missing without reason or rule: %+v", code, it.Key, it)
				}
			}
		}
		it, _ := item(f.gaps(t, "T701"), roadmap.Turnstiles)
		if it.Reason != "no turnstile registered" || !strings.Contains(it.Source.Clause, "over 700") {
			t.Errorf("turnstiles at 701: %+v", it)
		}
		it, _ = item(f.gaps(t, "T701"), roadmap.Guard)
		if it.Reason != "no security contract in force today" {
			t.Errorf("guard at 701: %+v", it)
		}
		// Before the 2021 change a school of 150 was no УТО object.
		q, err := f.rm.Requirement(registry.School{Headcount: 150}, day("2020-12-31"))
		if err != nil || q.UTO || len(q.Items) != 0 || q.RuleSet != "uto-pre-2021" {
			t.Errorf("150 people in 2020: %+v, %v", q, err)
		}
		q, err = f.rm.Requirement(registry.School{Headcount: 150}, day("2021-06-01"))
		if err != nil || !q.UTO || len(q.Items) != 4 || q.RuleSet != "uto-2021" {
			t.Errorf("150 people in 2021: %+v, %v", q, err)
		}
		// Outside the caller's scope the school does not exist.
		if _, err := f.rm.Gaps(context.Background(), f.region, f.ids["A150"]); errs.CodeOf(err) != errs.NotFound {
			t.Errorf("Turkestan's department asking for an Astana school: %v, want not found", err)
		}
	})
}

// A supervised panic button counts while it reports: never heard it fails,
// heard it works, silent past its interval it fails saying since when, and
// heard again it works; the ПЦН item follows it.
func TestDeviceStopsReporting(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, f *fixture) {
		f.contract(t, "T301", f.licence)
		b := f.device(t, "T301", registry.PanicButton, 180)
		check := func(step string, met bool, reason string) {
			t.Helper()
			g := f.gaps(t, "T301")
			p, _ := item(g, roadmap.Panic)
			c, _ := item(g, roadmap.PCN)
			if p.Met != met || c.Met != met || !strings.Contains(p.Reason, reason) {
				t.Fatalf("%s: panic %+v, pcn %+v; want met %v, reason with %q", step, p, c, met, reason)
			}
			if dc := g.Devices[registry.PanicButton]; dc.Registered != 1 || dc.Working != map[bool]int{true: 1}[met] {
				t.Fatalf("%s: devices %+v", step, dc)
			}
		}
		check("registered, never heard", false, `"panic_button 1" never heard`)
		f.clk.Add(181 * time.Second)
		if n, err := f.alarms.Supervise(context.Background()); n != 1 || err != nil {
			t.Fatalf("supervision: %d lost, %v", n, err)
		}
		check("declared lost by supervision, never heard", false, `"panic_button 1" never heard`)
		f.hear(t, b, "0001")
		check("heard", true, "")
		f.clk.Add(180 * time.Second)
		check("at the end of its interval", true, "")
		f.clk.Add(time.Second)
		check("past its interval", false, `"panic_button 1" silent since 2026-12-06 11:03 Asia/Almaty, past its reporting interval of 180 s`)
		f.hear(t, b, "0002")
		check("heard again", true, "")
	})
}

// The guard item needs a contract in force with a provider licensed for
// УТО objects whose licence has not expired; each failure says which.
func TestGuardContract(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		var unlicensed, expired int64
		f.db.InTx(ctx, func(tx *store.Tx) error {
			v, _ := registry.InsertProvider(ctx, tx, store.Micros(f.clk.Now()), registry.ProviderInput{Name: "Б", BIN: "000000000001", LicenceNo: "L2", LicenceExpires: "2030-01-01"})
			unlicensed = v.ID
			v, _ = registry.InsertProvider(ctx, tx, store.Micros(f.clk.Now()), registry.ProviderInput{Name: "В", BIN: "000000000002", LicenceNo: "L3", LicenceUTO: true, LicenceExpires: "2026-12-05"})
			expired = v.ID
			return nil
		})
		f.contract(t, "T701", unlicensed)
		if it, _ := item(f.gaps(t, "T701"), roadmap.Guard); it.Met || !strings.Contains(it.Reason, "no licence covering УТО") {
			t.Errorf("unlicensed: %+v", it)
		}
		f.contract(t, "T700", expired)
		if it, _ := item(f.gaps(t, "T700"), roadmap.PCN); it.Met || !strings.Contains(it.Reason, "no working panic button") {
			t.Errorf("pcn without buttons: %+v", it)
		}
		f.device(t, "T700", registry.PanicButton, 0)
		if it, _ := item(f.gaps(t, "T700"), roadmap.PCN); it.Met || !strings.Contains(it.Reason, "expired on 2026-12-05") {
			t.Errorf("expired licence: %+v", it)
		}
		f.contract(t, "T701", f.licence)
		if it, _ := item(f.gaps(t, "T701"), roadmap.Guard); !it.Met {
			t.Errorf("licensed as well: %+v", it)
		}
	})
}

// Indicators: the nation's figures are the sum of its regions', equal the
// schools' gap lists counted one by one, name their denominator, and show
// the drill as not measured; a place outside the scope is not found.
func TestIndicators(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		f.device(t, "T100", registry.Camera, 0)
		f.device(t, "T301", registry.Camera, 0)
		f.device(t, "A150", registry.Camera, 0)
		f.device(t, "T701", registry.Turnstile, 0)
		if _, err := f.rm.Declare(ctx, f.admin, f.ids["T301"], roadmap.Declaration{COUConnected: true, VideoStandard: true, ArchiveDays: 30}); err != nil {
			t.Fatal(err)
		}
		n, err := f.rm.Indicators(ctx, f.nation, roadmap.Place{})
		if err != nil {
			t.Fatal(err)
		}
		if n.Level != "nation" || n.Schools != 7 || n.UTOSchools != 6 || len(n.Parts) != 2 {
			t.Fatalf("nation: %+v", n)
		}
		// From scratch: every school's gap list.
		want := map[roadmap.Key][2]int{}
		for code := range f.ids {
			for _, it := range f.gaps(t, code).Items {
				w := want[it.Key]
				w[0]++
				if it.Met {
					w[1]++
				}
				want[it.Key] = w
			}
		}
		for _, in := range n.Indicators {
			if in.Key == roadmap.Drill {
				if in.Measured || in.Share != nil {
					t.Errorf("drill: %+v, want not measured", in)
				}
				continue
			}
			if w := want[in.Key]; in.Required != w[0] || in.Having != w[1] || !in.Measured {
				t.Errorf("%s: %d of %d, from scratch %d of %d", in.Key, in.Having, in.Required, w[1], w[0])
			}
			sum := [2]int{}
			for _, p := range n.Parts {
				sum[0] += p.Indicator(in.Key).Required
				sum[1] += p.Indicator(in.Key).Having
			}
			if sum != [2]int{in.Required, in.Having} {
				t.Errorf("%s: regions sum to %v, nation %d of %d", in.Key, sum, in.Having, in.Required)
			}
		}
		v := n.Indicator(roadmap.Video)
		if v.Required != 6 || v.Having != 3 || v.Share == nil || *v.Share != 0.5 || v.Denominator != "among the 6 schools required to have video surveillance" {
			t.Errorf("video: %+v", v)
		}
		if c := n.Indicator(roadmap.COU); c.Required != 4 || c.Having != 1 {
			t.Errorf("cou: %+v", c)
		}
		r, err := f.rm.Indicators(ctx, f.region, roadmap.Place{})
		if err != nil || r.Level != "region" || r.Code != turkestan || r.Schools != 6 || len(r.Parts) != 1 || r.Parts[0].Code != arys {
			t.Fatalf("Turkestan's own: %+v, %v", r, err)
		}
		d, err := f.rm.Indicators(ctx, f.region, roadmap.Place{Level: "district", Code: arys})
		if err != nil || len(d.Parts) != 6 {
			t.Fatalf("Arys: %+v, %v", d, err)
		}
		for _, pl := range []roadmap.Place{{Level: "region", Code: astana}, {Level: "nation"}, {Level: "region", Code: "999999999"}} {
			if _, err := f.rm.Indicators(ctx, f.region, pl); errs.CodeOf(err) != errs.NotFound {
				t.Errorf("Turkestan asking for %+v: %v, want not found", pl, err)
			}
		}
		s, err := f.rm.Indicators(ctx, f.nation, roadmap.Place{Level: "school", Code: fmt.Sprint(f.ids["T301"])})
		if err != nil || s.Indicator(roadmap.Video).Having != 1 || s.Indicator(roadmap.Turnstiles).Required != 0 {
			t.Errorf("one school: %+v, %v", s, err)
		}
		guardian := auth.Principal{Role: auth.RoleGuardian, Scope: auth.Scope{Kind: auth.ScopeGuardian, Ref: "1"}}
		if _, err := f.rm.Indicators(ctx, guardian, roadmap.Place{}); errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("a guardian: %v", err)
		}
	})
}
