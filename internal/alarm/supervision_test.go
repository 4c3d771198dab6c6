package alarm_test

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"qorgan/internal/alarm"
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

// A device heard many times a second has its last_seen_at written once a
// second; a device declared lost is looked up again at its next signal,
// however soon, and that signal resolves the "communication lost" alarm.
func TestHeardOnceASecond(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, f *fixture) {
		ctx, db := t.Context(), f.db
		lastSeen := func() int64 {
			t.Helper()
			var at int64
			if err := db.W.QueryRowContext(ctx, db.Dialect.Rebind("SELECT last_seen_at FROM device_status WHERE device_id = ?"), f.plain.ID).Scan(&at); err != nil {
				t.Fatal(err)
			}
			return at
		}
		if _, err := db.W.ExecContext(ctx, db.Dialect.Rebind("UPDATE devices SET reporting_interval_s = ? WHERE id = ?"), registry.SupervisionPresets["SP6"], f.plain.ID); err != nil {
			t.Fatal(err)
		}
		first := f.clk.Now()
		f.panel(t, demo.PlainAccount, "0101", alarmcode.PeriodicTest)
		if got := lastSeen(); got != store.Micros(first) {
			t.Fatalf("last_seen_at %d after the first signal, want %d", got, store.Micros(first))
		}
		f.clk.Add(600 * time.Millisecond)
		f.panel(t, demo.PlainAccount, "0102", alarmcode.PeriodicTest)
		if got := lastSeen(); got != store.Micros(first) {
			t.Fatalf("last_seen_at %d 0.6 s later, want it left at %d", got, store.Micros(first))
		}
		f.clk.Add(500 * time.Millisecond)
		f.panel(t, demo.PlainAccount, "0103", alarmcode.PeriodicTest)
		if got, want := lastSeen(), store.Micros(f.clk.Now()); got != want {
			t.Fatalf("last_seen_at %d 1.1 s after the first write, want %d", got, want)
		}
		// The clock stepped back: a signal from before the written time is
		// written, as every signal was before the log.
		f.clk.Add(-10 * time.Second)
		f.panel(t, demo.PlainAccount, "0105", alarmcode.PeriodicTest)
		if got, want := lastSeen(), store.Micros(f.clk.Now()); got != want {
			t.Fatalf("last_seen_at %d after the clock stepped back 10 s, want %d", got, want)
		}
		f.clk.Add(10 * time.Second)
		f.panel(t, demo.PlainAccount, "0106", alarmcode.PeriodicTest)

		// Supervision read the device as silent before that write (another
		// node's view, or a sweep that read just before the commit): it
		// declares it lost although this node wrote it a moment ago.
		if _, err := db.W.ExecContext(ctx, db.Dialect.Rebind("UPDATE device_status SET last_seen_at = ? WHERE device_id = ?"), store.Micros(first.Add(-time.Hour)), f.plain.ID); err != nil {
			t.Fatal(err)
		}
		if n, err := f.svc.Supervise(ctx); n != 1 || err != nil {
			t.Fatalf("supervision: %d lost, %v; want 1", n, err)
		}
		f.clk.Add(100 * time.Millisecond)
		f.panel(t, demo.PlainAccount, "0104", alarmcode.PeriodicTest)
		list, err := f.svc.List(ctx, f.people["pcn"], false, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 0 {
			t.Fatalf("the device was heard 0.1 s after it was declared lost, yet the ПЦН still sees %+v", list)
		}
		if got, want := lastSeen(), store.Micros(f.clk.Now()); got != want {
			t.Fatalf("last_seen_at %d after the device came back, want %d", got, want)
		}
	})
}

// Supervise reads the silent devices outside its transaction. A device
// heard between that read and the transaction is not declared lost.
func TestSuperviseSkipsADeviceHeardMeanwhile(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, f *fixture) {
		ctx, db := t.Context(), f.db
		if _, err := db.W.ExecContext(ctx, db.Dialect.Rebind("UPDATE devices SET reporting_interval_s = CASE WHEN id = ? THEN 20 ELSE 0 END"), f.plain.ID); err != nil {
			t.Fatal(err)
		}
		f.panel(t, demo.PlainAccount, "0201", alarmcode.PeriodicTest)
		f.clk.Add(30 * time.Second)
		alarm.SetAfterSuperviseRead(func() { f.panel(t, demo.PlainAccount, "0202", alarmcode.PeriodicTest) })
		defer alarm.SetAfterSuperviseRead(nil)
		if n, err := f.svc.Supervise(ctx); n != 0 || err != nil {
			t.Fatalf("the device was heard after supervision read it silent: %d declared lost, %v; want none", n, err)
		}
		alarm.SetAfterSuperviseRead(nil)
		f.clk.Add(30 * time.Second)
		if n, err := f.svc.Supervise(ctx); n != 1 || err != nil {
			t.Fatalf("30 s of silence later: %d declared lost, %v; want 1", n, err)
		}
	})
}
