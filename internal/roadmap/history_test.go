package roadmap_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/registry"
	"qorgan/internal/roadmap"
	"qorgan/internal/store/storetest"
)

// The seeded history shows the letter's and the official figures, each
// with its source, apart from live snapshots; loading again adds nothing.
func TestSeededSnapshots(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		if err := f.rm.Load(ctx); err != nil {
			t.Fatal(err)
		}
		snaps, err := f.rm.Snapshots(ctx, f.nation, roadmap.Place{})
		if err != nil || len(snaps) != 2 {
			t.Fatalf("snapshots: %d, %v", len(snaps), err)
		}
		lines := func(s roadmap.Snapshot) string {
			var out []string
			for _, fg := range s.Figures {
				out = append(out, fg.String())
			}
			return strings.Join(out, "; ")
		}
		if s := snaps[0]; s.Origin != "seeded" || !strings.Contains(s.Source, "ДЗ-237") ||
			lines(s) != "video: 100.0%; video_standard: 81.0%; panic: 761; pcn: over 1700; turnstiles: 681 of 2357 29.0%; guard: 874" {
			t.Errorf("2021: %s %s %q", s.TakenOn, s.Source, lines(s))
		}
		if s := snaps[1]; s.TakenOn != "2025-12-03" || s.Origin != "seeded" || lines(s) != "cou: 70.0%; panic: 87.0%; turnstiles: 62.0%; guard: 72.0%" {
			t.Errorf("2025: %s %s %q", s.TakenOn, s.Source, lines(s))
		}
		live, err := f.rm.TakeSnapshot(ctx, f.admin)
		if err != nil || live.Origin != "live" || live.TakenOn != "2026-12-06" {
			t.Fatalf("live: %+v, %v", live, err)
		}
		// Taken again the same day, it replaces the day's.
		if _, err := f.rm.TakeSnapshot(ctx, f.admin); err != nil {
			t.Fatal(err)
		}
		snaps, _ = f.rm.Snapshots(ctx, f.nation, roadmap.Place{})
		if len(snaps) != 3 || snaps[2].Origin != "live" || !strings.Contains(lines(snaps[2]), "drill: not measured") ||
			!strings.Contains(lines(snaps[2]), "video: 0 of 6 0.0%") {
			t.Fatalf("with the live one: %d, last %q", len(snaps), lines(snaps[len(snaps)-1]))
		}
		reg, err := f.rm.Snapshots(ctx, f.region, roadmap.Place{})
		if err != nil || len(reg) != 1 || !strings.Contains(lines(reg[0]), "video: 0 of 5") {
			t.Errorf("Turkestan's: %+v, %v", reg, err)
		}
		if _, err := f.rm.Snapshots(ctx, f.region, roadmap.Place{Level: "nation"}); errs.CodeOf(err) != errs.NotFound {
			t.Errorf("Turkestan asking for the nation's: %v", err)
		}
		if _, err := f.rm.TakeSnapshot(ctx, f.region); errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("Turkestan taking the nation's: %v", err)
		}
		// The monthly chore takes none while this month has one, and one
		// on the first of the next.
		if took, err := f.rm.MonthlySnapshot(ctx); took || err != nil {
			t.Errorf("monthly, same month: %v %v", took, err)
		}
		f.clk.Add(26 * 24 * time.Hour)
		if took, err := f.rm.MonthlySnapshot(ctx); !took || err != nil {
			t.Errorf("monthly, on 1 January: %v %v", took, err)
		}
	})
}

// A region's projected date follows the pace of its live snapshots.
func TestTargetsProjection(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		for _, bad := range []struct {
			t     roadmap.Target
			field string
		}{
			{roadmap.Target{Key: "moat", Level: "nation", Share: 1, Deadline: "2027-12-31"}, "key"},
			{roadmap.Target{Key: "drill", Level: "nation", Share: 1, Deadline: "2027-12-31"}, "key"},
			{roadmap.Target{Key: "video", Level: "nation", Share: 1.5, Deadline: "2027-12-31"}, "share"},
			{roadmap.Target{Key: "video", Level: "nation", Share: 1, Deadline: "2027-02-30"}, "deadline"},
			{roadmap.Target{Key: "video", Level: "moon", Share: 1, Deadline: "2027-12-31"}, "level"},
		} {
			if _, err := f.rm.SetTarget(ctx, f.admin, bad.t); errs.As(err) == nil || errs.As(err).Field != bad.field {
				t.Errorf("%+v: %v, want refused naming %s", bad.t, err, bad.field)
			}
		}
		if _, err := f.rm.SetTarget(ctx, f.region, roadmap.Target{Key: "video", Level: "region", Code: astana, Share: 1, Deadline: "2027-12-31"}); errs.CodeOf(err) != errs.NotFound {
			t.Errorf("Turkestan setting Astana's target: %v", err)
		}
		if _, err := f.rm.SetTarget(ctx, f.admin, roadmap.Target{Key: "video", Level: "nation", Share: 1, Deadline: "2027-06-30"}); err != nil {
			t.Fatal(err)
		}
		// Turkestan: 5 УТО schools; one camera a month brings one more.
		codes := []string{"T100", "T300", "T301", "T700", "T701"}
		for i := 0; i < 3; i++ {
			f.device(t, codes[i], registry.Camera, 0)
			if _, err := f.rm.TakeSnapshot(ctx, f.admin); err != nil {
				t.Fatal(err)
			}
			f.clk.Add(30 * 24 * time.Hour)
		}
		ps, err := f.rm.Targets(ctx, f.region)
		if err != nil || len(ps) != 1 {
			t.Fatalf("Turkestan's projections: %+v, %v", ps, err)
		}
		p := ps[0]
		// 20%, 40%, 60% on 6 Dec, 5 Jan, 4 Feb: +20 points in 30 days, 100% 60 days after 4 Feb.
		if p.Code != turkestan || *p.Share != 0.6 || *p.PerMonth != 0.2 || p.Projected != "2027-04-05" || p.Verdict != roadmap.OnTime {
			t.Errorf("Turkestan: %+v share %v pace %v", p, *p.Share, *p.PerMonth)
		}
		ps, _ = f.rm.Targets(ctx, f.nation)
		for _, p := range ps {
			if p.Code == astana && p.Verdict != roadmap.NotAtPace { // Astana's one school never had a camera
				t.Errorf("Astana: %+v", p)
			}
			if p.Level == "nation" && p.Verdict != roadmap.OnTime {
				t.Errorf("nation: %+v", p)
			}
		}
		if len(ps) != 1+len(registry.Regions()) {
			t.Errorf("the nation sees %d projections", len(ps))
		}
	})
}

// Funding: the 2021 allocations are seeded in tiyn; bad input is refused
// naming the field; the cost per school brought to compliance counts only
// compliant schools.
func TestFunding(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		fu, err := f.rm.Funding(ctx, f.nation, 2021)
		if err != nil || len(fu.Regions) != 11 {
			t.Fatalf("2021: %+v, %v", fu, err)
		}
		var total int64
		for _, r := range fu.Regions {
			total += r.AllocatedTotal
			if r.RegionCode == "710000000" && r.Allocated["general"] != 60_950_000_000 {
				t.Errorf("Astana: %+v", r)
			}
			if r.RegionCode == "190000000" && r.AllocatedTotal != 61_832_800_000 {
				t.Errorf("Almaty region: %+v", r)
			}
		}
		// 65.9+252+85+65.88+170+618.328+88+333+518.7+545.6+609.5 = 3,351.908 mln ₸
		if total != 335_190_800_000 {
			t.Errorf("2021 total %d tiyn", total)
		}
		if len(fu.Sources) != 1 || !strings.Contains(fu.Sources[0], "ДЗ-237") {
			t.Errorf("sources %v", fu.Sources)
		}
		bad := []struct {
			a     roadmap.Allocation
			field string
		}{
			{roadmap.Allocation{RegionCode: turkestan, Year: 2026, Purpose: "turnstiles", AmountTiyn: -1}, "amount_tiyn"},
			{roadmap.Allocation{RegionCode: "990000000", Year: 2026, Purpose: "turnstiles", AmountTiyn: 1}, "region_code"},
			{roadmap.Allocation{RegionCode: turkestan, Year: 1999, Purpose: "turnstiles", AmountTiyn: 1}, "year"},
			{roadmap.Allocation{RegionCode: turkestan, Year: 2028, Purpose: "turnstiles", AmountTiyn: 1}, "year"},
			{roadmap.Allocation{RegionCode: turkestan, Year: 2026, Purpose: "moat", AmountTiyn: 1}, "purpose"},
		}
		for _, b := range bad {
			if _, err := f.rm.Allocate(ctx, f.region, b.a); errs.As(err) == nil || errs.As(err).Field != b.field || errs.CodeOf(err) != errs.Invalid {
				t.Errorf("%+v: %v, want refused naming %s", b.a, err, b.field)
			}
		}
		if _, err := f.rm.Spend(ctx, f.region, roadmap.Spending{SchoolID: f.ids["T100"], Year: 2027, Purpose: "video_standard", AmountTiyn: -5}); errs.As(err) == nil || errs.As(err).Field != "amount_tiyn" {
			t.Errorf("negative spending: %v", err)
		}
		if _, err := f.rm.Allocate(ctx, f.region, roadmap.Allocation{RegionCode: astana, Year: 2026, Purpose: "guard", AmountTiyn: 1}); errs.CodeOf(err) != errs.NotFound {
			t.Errorf("Turkestan allocating Astana's: %v", err)
		}
		if _, err := f.rm.Spend(ctx, f.region, roadmap.Spending{SchoolID: f.ids["A150"], Year: 2026, Purpose: "guard", AmountTiyn: 1}); errs.CodeOf(err) != errs.NotFound {
			t.Errorf("Turkestan spending at an Astana school: %v", err)
		}
		director := auth.Principal{Role: auth.RoleDirector, Scope: auth.Scope{Kind: auth.ScopeSchool, Ref: "1"}}
		if _, err := f.rm.Allocate(ctx, director, roadmap.Allocation{RegionCode: turkestan, Year: 2026, Purpose: "guard", AmountTiyn: 1}); errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("a director allocating: %v", err)
		}
		if n := storetest.Strings(t, f.db.Reader(), "SELECT COUNT(*) FROM roadmap_allocations WHERE year <> 2021"); n[0] != "0" {
			t.Errorf("%s refused allocations stored", n[0])
		}
		if _, err := f.rm.Allocate(ctx, f.region, roadmap.Allocation{RegionCode: turkestan, Year: 2026, Purpose: "video_standard", AmountTiyn: 500_000_00}); err != nil {
			t.Fatal(err)
		}
		// T100 brought to compliance for 300,000 ₸; T300 funded but short.
		f.device(t, "T100", registry.Camera, 0)
		f.device(t, "T100", registry.PublicAddress, 0)
		f.rm.Declare(ctx, f.admin, f.ids["T100"], roadmap.Declaration{VideoStandard: true, ArchiveDays: 30})
		for _, s := range []roadmap.Spending{{SchoolID: f.ids["T100"], Year: 2026, Purpose: "video_standard", AmountTiyn: 200_000_00},
			{SchoolID: f.ids["T100"], Year: 2026, Purpose: "general", AmountTiyn: 100_000_00},
			{SchoolID: f.ids["T300"], Year: 2026, Purpose: "video_standard", AmountTiyn: 900_000_00}} {
			if _, err := f.rm.Spend(ctx, f.region, s); err != nil {
				t.Fatal(err)
			}
		}
		fu, err = f.rm.Funding(ctx, f.region, 2026)
		if err != nil || len(fu.Regions) != 1 {
			t.Fatalf("Turkestan 2026: %+v, %v", fu, err)
		}
		r := fu.Regions[0]
		if r.AllocatedTotal != 500_000_00 || r.SpentTotal != 1_200_000_00 || r.SchoolsFunded != 2 || r.Compliant != 1 || r.CostPerCompliant != 300_000_00 {
			t.Errorf("Turkestan 2026: %+v", r)
		}
	})
}
