// Package testkit holds the fixtures Qorgan's tests share on top of the
// fresh databases storetest opens: the demo loaded small, a few schools in
// their regions, an administrator signed in. Each fails the test on an
// error, so a test reads as what it checks.
package testkit

import (
	"context"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/demo"
	"qorgan/internal/registry"
	"qorgan/internal/store"
)

// Demo loads the demo dataset at scale (0.002 is about twenty schools) into
// db through a, which a test may have set up first.
func Demo(t testing.TB, db *store.DB, a *auth.Service, scale float64) demo.Result {
	t.Helper()
	res, err := demo.Load(context.Background(), db, a, demo.Options{Scale: scale})
	if err != nil {
		t.Fatalf("demo: %v", err)
	}
	return res
}

// Schools seeds the regions and districts and writes schools to db as an
// import does, and returns their ids by code.
func Schools(t testing.TB, db *store.DB, schools ...registry.SchoolInput) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	if err := registry.SeedRegions(ctx, db); err != nil {
		t.Fatal(err)
	}
	err := db.InTx(ctx, func(tx *store.Tx) error {
		_, err := registry.UpsertSchools(ctx, tx, time.Now(), schools)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	ids := make(map[string]int64, len(schools))
	for _, s := range schools {
		var id int64
		if err := db.Reader().QueryRowContext(ctx, "SELECT id FROM schools WHERE code = ?", s.Code).Scan(&id); err != nil {
			t.Fatalf("school %s: %v", s.Code, err)
		}
		ids[s.Code] = id
	}
	return ids
}

// AdminToken creates an administrator of the installation with login and
// password, signs them in and returns an API token of theirs.
func AdminToken(t testing.TB, a *auth.Service, login, password string) auth.APIToken {
	t.Helper()
	ctx := context.Background()
	if _, err := a.CreateUser(ctx, auth.System, auth.NewUser{Login: login, FullName: login, Password: password,
		Role: auth.RoleAdmin, Scope: auth.Scope{Kind: auth.ScopeInstallation}}); err != nil {
		t.Fatal(err)
	}
	p, err := a.Authenticate(ctx, "", login, password)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := a.CreateAPIToken(ctx, p, "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Clock is a clock a test moves, safe for the services reading it from
// other goroutines.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts a Clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Add moves the clock on by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Get sends a GET to url with the headers given as name, value pairs and
// returns the response (its body closed) and the body read.
func Get(t testing.TB, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}
