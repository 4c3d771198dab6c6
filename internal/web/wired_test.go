package web_test

import (
	"log/slog"
	"testing"

	"qorgan/internal/alarm"
	"qorgan/internal/attendance"
	"qorgan/internal/auth"
	"qorgan/internal/emergency"
	"qorgan/internal/notify"
	"qorgan/internal/registry"
	"qorgan/internal/store"
	"qorgan/internal/transfer"
	"qorgan/internal/web"
)

// wired makes a web.Server over db with the services the server wires
// (passes told to nobody), after change, if given, adjusted them; a
// pupil's export and erasure reach the attendance and the messages kept
// about them, as in the server.
func wired(t testing.TB, db *store.DB, a *auth.Service, reg *registry.Registry, log *slog.Logger, change ...func(*web.Deps)) *web.Server {
	t.Helper()
	d := web.Deps{DB: db, Auth: a, Registry: reg, Log: log, Alarms: alarm.New(db, a, log), Jobs: transfer.NewJobs(reg),
		Access: attendance.New(db, attendance.NoNotices, func() {}), Outbox: notify.New(db)}
	d.Emergency = emergency.New(db, a, d.Alarms, func() {})
	for _, c := range change {
		c(&d)
	}
	if reg.Records == nil {
		reg.Records = []registry.PupilRecords{d.Access, d.Outbox}
	}
	srv, err := web.New(d)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// TestNewRefusesAMissingService: web.New names the service it lacks
// instead of building one.
func TestNewRefusesAMissingService(t *testing.T) {
	if _, err := web.New(web.Deps{}); err == nil || err.Error() != "web.New: no DB" {
		t.Errorf("web.New with nothing: %v", err)
	}
}
