package alarm_test

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"qorgan/internal/demo"
	"qorgan/internal/protocol/alarmcode"
	"qorgan/internal/registry"
	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
)

// Every EN 50136 preset is supervised on both engines: a device is lost one
// second after its interval and not one second before, whatever interval
// another device has. SP1, SP2 and DP1 are longer than 2,147 s, so their
// interval in microseconds does not fit a 32-bit integer; while another
// device waits out the longest interval the registry accepts (40 days), the
// short presets must still be supervised.
func TestSupervisionPresets(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, f *fixture) {
		ctx, db := t.Context(), f.db
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.W.ExecContext(ctx, db.Dialect.Rebind(q), args...); err != nil {
				t.Fatal(err)
			}
		}
		exec("UPDATE devices SET reporting_interval_s = 0")
		const longest = 40 * 24 * 3600
		exec("UPDATE devices SET reporting_interval_s = ?, created_at = ? WHERE dc09_account = ?", longest, store.Micros(f.clk.Now()), demo.EncryptedAccount)
		started := f.clk.Now()

		names := make([]string, 0, len(registry.SupervisionPresets))
		for name := range registry.SupervisionPresets {
			names = append(names, name)
		}
		sort.Slice(names, func(i, j int) bool {
			a, b := registry.SupervisionPresets[names[i]], registry.SupervisionPresets[names[j]]
			return a < b || a == b && names[i] < names[j]
		})
		if len(names) != 10 {
			t.Fatalf("%d presets, want SP1–SP6 and DP1–DP4", len(names))
		}
		for i, name := range names {
			interval := time.Duration(registry.SupervisionPresets[name]) * time.Second
			exec("UPDATE devices SET reporting_interval_s = ? WHERE dc09_account = ?", registry.SupervisionPresets[name], demo.PlainAccount)
			f.panel(t, demo.PlainAccount, fmt.Sprintf("%04d", 40+i), alarmcode.PeriodicTest) // heard now
			f.clk.Add(interval - time.Second)
			if n, err := f.svc.Supervise(ctx); n != 0 || err != nil {
				t.Fatalf("%s (%v): 1 s before the interval ends: %d lost, %v", name, interval, n, err)
			}
			f.clk.Add(2 * time.Second)
			if n, err := f.svc.Supervise(ctx); n != 1 || err != nil {
				t.Fatalf("%s (%v): 1 s after the interval ended: %d lost, %v; want 1", name, interval, n, err)
			}
			list, err := f.svc.List(ctx, f.people["pcn"], false, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 1 || list[0].Type != string(alarmcode.CommTrouble) {
				t.Fatalf("%s: the ПЦН sees %+v, want one communication trouble", name, list)
			}
		}
		// The device never heard is lost once its 40 days are over.
		if left := started.Add(longest * time.Second).Sub(f.clk.Now()); left > 0 {
			f.clk.Add(left - time.Second)
			if n, err := f.svc.Supervise(ctx); n != 0 || err != nil {
				t.Fatalf("40 days less 1 s: %d lost, %v", n, err)
			}
			f.clk.Add(2 * time.Second)
		} else {
			t.Fatalf("the presets took longer than 40 days")
		}
		if n, err := f.svc.Supervise(ctx); n != 1 || err != nil {
			t.Fatalf("40 days and 1 s: %d lost, %v; want 1", n, err)
		}
	})
}
