package roadmap_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"qorgan/internal/registry"
	"qorgan/internal/roadmap"
	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
)

// The indicators the kept evaluation tallies equal the computation from
// scratch, for the nation, each region and the district, after each kind
// of change: devices registered, a supervised device heard, silent past
// its interval and heard again, a declaration, contracts (one starting
// tomorrow), a school's headcount changed, a school added.
func TestCachedEqualsFromScratch(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		scratch := roadmap.New(f.db)
		scratch.Now, scratch.FromScratch = f.clk.Now, true
		if err := scratch.Load(ctx); err != nil {
			t.Fatal(err)
		}
		places := []roadmap.Place{{Level: "nation"}, {Level: "region", Code: turkestan}, {Level: "region", Code: astana}, {Level: "district", Code: arys}}
		same := func(step string) {
			t.Helper()
			for _, pl := range places {
				kept, err := f.rm.Indicators(ctx, f.admin, pl)
				if err != nil {
					t.Fatal(err)
				}
				want, err := scratch.Indicators(ctx, f.admin, pl)
				if err != nil {
					t.Fatal(err)
				}
				kept.ComputedAt, kept.Source = want.ComputedAt, want.Source
				for i := range kept.Parts {
					kept.Parts[i].ComputedAt, kept.Parts[i].Source = want.ComputedAt, want.Source
				}
				if !reflect.DeepEqual(kept, want) {
					t.Fatalf("%s, %+v: kept\n%+v\nfrom scratch\n%+v", step, pl, kept, want)
				}
			}
		}
		same("at start")
		f.device(t, "T100", registry.Camera, 0)
		f.device(t, "T100", registry.PublicAddress, 0)
		b := f.device(t, "T301", registry.PanicButton, 180)
		f.contract(t, "T301", f.licence)
		same("devices and a contract")
		if _, err := f.rm.Declare(ctx, f.admin, f.ids["T100"], roadmap.Declaration{VideoStandard: true, COUConnected: true, ArchiveDays: 30}); err != nil {
			t.Fatal(err)
		}
		same("a declaration")
		f.hear(t, b, "0001")
		same("heard")
		if n := f.nationHaving(t, roadmap.Panic); n != 1 {
			t.Fatalf("heard: %d schools with panic buttons, want 1", n)
		}
		f.clk.Add(181 * time.Second)
		same("silent past its interval")
		if n := f.nationHaving(t, roadmap.Panic); n != 0 {
			t.Fatalf("silent: %d schools with panic buttons, want 0", n)
		}
		f.hear(t, b, "0002")
		same("heard again")
		err := f.db.InTx(ctx, func(tx *store.Tx) error {
			_, err := registry.InsertContract(ctx, tx, store.Micros(f.clk.Now()), registry.Contract{ProviderID: f.licence, SchoolID: f.ids["T701"], StartsOn: "2026-12-07"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		same("a contract from tomorrow")
		f.clk.Add(24 * time.Hour)
		same("tomorrow")
		if n := f.nationHaving(t, roadmap.Guard); n != 1 {
			t.Fatalf("tomorrow: %d schools with a guard, want 1", n)
		}
		err = f.db.InTx(ctx, func(tx *store.Tx) error {
			_, err := registry.UpsertSchools(ctx, tx, f.clk.Now(), []registry.SchoolInput{
				{Code: "T99", NameKK: "мектеп", NameRU: "школа 99", RegionCode: turkestan, DistrictCode: arys, Headcount: 150},
				{Code: "N1", NameKK: "мектеп", NameRU: "новая", RegionCode: astana, Headcount: 900}})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		same("a headcount changed, a school added")
		if n, err := f.rm.Indicators(ctx, f.admin, roadmap.Place{Level: "nation"}); err != nil || n.Schools != 8 || n.UTOSchools != 8 {
			t.Fatalf("after: %+v, %v", n, err)
		}
		f.rm.Rebuild()
		same("rebuilt")
	})
}

func (f *fixture) nationHaving(t *testing.T, k roadmap.Key) int {
	t.Helper()
	n, err := f.rm.Indicators(context.Background(), f.admin, roadmap.Place{Level: "nation"})
	if err != nil {
		t.Fatal(err)
	}
	return n.Indicator(k).Having
}
