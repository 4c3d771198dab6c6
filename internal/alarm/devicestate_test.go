package alarm_test

import (
	"testing"
	"time"

	"qorgan/internal/alarm"
	"qorgan/internal/demo"
	"qorgan/internal/errs"
	"qorgan/internal/protocol/alarmcode"
	"qorgan/internal/store/storetest"
)

// TestDeviceStates: a supervised panel is never heard, then working once it
// reports, then silent past its interval, and working again; a device on
// no schedule is not supervised, heard or not; another school's devices do
// not exist for a guard.
func TestDeviceStates(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, f *fixture) {
		ctx, db := t.Context(), f.db
		if _, err := db.W.ExecContext(ctx, db.Dialect.Rebind("UPDATE devices SET reporting_interval_s = 3600 WHERE dc09_account = ?"), demo.PlainAccount); err != nil {
			t.Fatal(err)
		}
		state := func() map[string]string {
			t.Helper()
			ds, err := f.svc.DeviceStates(ctx, f.people["guard"], f.plain.SchoolID)
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]string{}
			for _, d := range ds {
				if d.ID == f.plain.ID {
					out["panel"] = d.State
				} else if d.ReportingInterval == 0 {
					out["unsupervised"] = d.State
				}
			}
			return out
		}
		if got := state(); got["panel"] != alarm.DeviceNeverHeard || got["unsupervised"] != alarm.DeviceUnsupervised {
			t.Fatalf("before any signal: %v", got)
		}
		f.panel(t, demo.PlainAccount, "0001", alarmcode.PeriodicTest)
		if got := state()["panel"]; got != alarm.DeviceWorking {
			t.Errorf("after a test report: %s", got)
		}
		f.clk.Add(61 * time.Minute)
		if got := state()["panel"]; got != alarm.DeviceSilent {
			t.Errorf("61 minutes after its last report, hourly: %s", got)
		}
		f.panel(t, demo.PlainAccount, "0002", alarmcode.PeriodicTest)
		if got := state()["panel"]; got != alarm.DeviceWorking {
			t.Errorf("heard again: %s", got)
		}
		if _, err := f.svc.DeviceStates(ctx, f.people["guard2"], f.plain.SchoolID); errs.CodeOf(err) != errs.NotFound {
			t.Errorf("another school's guard: %v", err)
		}
	})
}
