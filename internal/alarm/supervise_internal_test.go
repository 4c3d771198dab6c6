package alarm

import (
	"testing"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/demo"
	"qorgan/internal/protocol/alarmcode"
	"qorgan/internal/registry"
	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
	"qorgan/internal/testkit"
)

// Supervise reads the silent devices outside its transaction. A device
// heard between that read and the transaction is not declared lost.
func TestSuperviseSkipsADeviceHeardMeanwhile(t *testing.T) {
	storetest.With(t, func(t testing.TB, db *store.DB) *store.DB { return db }, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		a := auth.New(db)
		testkit.Demo(t, db, a, 0.002)
		clk := testkit.NewClock(time.Now().UTC().Truncate(time.Second))
		s := New(db, a, nil)
		s.Now = clk.Now
		var dev registry.Device
		if err := db.Reader().QueryRowContext(ctx, db.Dialect.Rebind("SELECT id, school_id FROM devices WHERE dc09_account = ?"), demo.PlainAccount).Scan(&dev.ID, &dev.SchoolID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.W.ExecContext(ctx, db.Dialect.Rebind("UPDATE devices SET reporting_interval_s = CASE WHEN id = ? THEN 20 ELSE 0 END"), dev.ID); err != nil {
			t.Fatal(err)
		}
		heard := func(seq string) {
			t.Helper()
			if err := s.Commit(ctx, []Signal{{Source: "dc09", Account: demo.PlainAccount, DeviceID: dev.ID, SchoolID: dev.SchoolID, Sequence: seq, Content: []byte(seq),
				Events: []alarmcode.Event{{Type: alarmcode.PeriodicTest, Code: "RP", Known: true}}, ReceivedAt: clk.Now()}}); err != nil {
				t.Fatal(err)
			}
		}
		heard("0001")
		clk.Add(30 * time.Second)
		afterSuperviseRead = func() { heard("0002") }
		defer func() { afterSuperviseRead = nil }()
		if n, err := s.Supervise(ctx); n != 0 || err != nil {
			t.Fatalf("the device was heard after supervision read it silent: %d declared lost, %v; want none", n, err)
		}
		afterSuperviseRead = nil
		clk.Add(30 * time.Second)
		if n, err := s.Supervise(ctx); n != 1 || err != nil {
			t.Fatalf("30 s of silence later: %d declared lost, %v; want 1", n, err)
		}
	})
}
