package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"qorgan/internal/alarm"
	"qorgan/internal/attendance"
	"qorgan/internal/auth"
	"qorgan/internal/demo"
	"qorgan/internal/emergency"
	"qorgan/internal/notify"
	"qorgan/internal/registry"
	"qorgan/internal/roadmap"
	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
	"qorgan/internal/testkit"
	"qorgan/internal/transfer"
	"qorgan/internal/web"
	"qorgan/internal/webpush"
)

// wired makes a web.Server over db with the services the server wires
// (passes told to nobody), after change, if given, adjusted them; a
// pupil's export and erasure reach the attendance and the messages kept
// about them, as in the server.
func wired(t testing.TB, db *store.DB, a *auth.Service, reg *registry.Registry, log *slog.Logger, change ...func(*web.Deps)) *web.Server {
	t.Helper()
	// A key of its own: the store may be one a test has closed.
	key, err := webpush.GenerateVAPIDKey()
	if err != nil {
		t.Fatal(err)
	}
	// The roadmap loads its rules at start; a store closed on purpose (the
	// 500 answers) has none to load.
	rm := roadmap.New(db)
	if db.Ping(context.Background()) == nil {
		if err := rm.Load(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	d := web.Deps{DB: db, Auth: a, Registry: reg, Log: log, Alarms: alarm.New(db, a, log), Jobs: transfer.NewJobs(reg),
		Access: attendance.New(db, attendance.NoNotices, func() {}), Outbox: notify.New(db), Roadmap: rm, Push: webpush.New(db, key)}
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

// serveWired serves what wired makes over db and a (the registry of a, a quiet
// log) until the test ends.
func serveWired(t testing.TB, db *store.DB, a *auth.Service, change ...func(*web.Deps)) *httptest.Server {
	t.Helper()
	live := httptest.NewServer(wired(t, db, a, registry.New(db, a), slog.New(slog.NewTextHandler(io.Discard, nil)), change...).Handler())
	t.Cleanup(live.Close)
	return live
}

// demoOnEachStore runs test on each store; a short run skips it, since
// every test that calls it loads the demo.
func demoOnEachStore(t *testing.T, test func(t *testing.T, db *store.DB)) {
	t.Helper()
	if testing.Short() {
		t.Skip("loads the demo")
	}
	storetest.Each(t, test)
}

// onDemoPages runs test on each store, with the console served over the
// demo (every password "pages-password-1").
func onDemoPages(t *testing.T, test func(t *testing.T, ctx context.Context, db *store.DB, live *httptest.Server)) {
	t.Helper()
	demoOnEachStore(t, func(t *testing.T, db *store.DB) { test(t, context.Background(), db, pagesServer(t, db)) })
}

// demoServed loads the demo small (about twenty schools) into db and serves
// it: the opening of the tests that go through the pages and the API as the
// demo's people.
func demoServed(t testing.TB, db *store.DB) (*auth.Service, demo.Result, *httptest.Server) {
	t.Helper()
	a := auth.New(db)
	res := testkit.Demo(t, db, a, 0.002)
	return a, res, serveWired(t, db, a)
}

// TestNewRefusesAMissingService: web.New names the service it lacks
// instead of building one.
func TestNewRefusesAMissingService(t *testing.T) {
	if _, err := web.New(web.Deps{}); err == nil || err.Error() != "web.New: no DB" {
		t.Errorf("web.New with nothing: %v", err)
	}
}
