// Package storetest gives tests a fresh, migrated Qorgan database on each
// engine: a SQLite file in a temporary directory always, and a PostgreSQL
// schema of its own when QORGAN_TEST_DATABASE_URL is set.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"qorgan/internal/store"
)

// EnvURL names the variable holding the PostgreSQL URL for tests.
const EnvURL = "QORGAN_TEST_DATABASE_URL"

// EnvRequire, when "1", turns a missing PostgreSQL into a failure (CI sets it).
const EnvRequire = "QORGAN_TEST_REQUIRE_POSTGRES"

// Each runs fn once per engine as subtests named "sqlite" and "postgres".
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// SQLite opens a migrated SQLite database in a temporary directory.
func SQLite(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), store.Config{Path: filepath.Join(t.TempDir(), "qorgan.db"), Synchronous: "NORMAL"})
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Postgres opens a migrated database in a fresh PostgreSQL schema, dropped
// when the test ends. Without QORGAN_TEST_DATABASE_URL the test is skipped,
// saying so, unless QORGAN_TEST_REQUIRE_POSTGRES=1.
func Postgres(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), store.Config{URL: PostgresURL(t)})
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// PostgresURL makes a fresh schema in the tests' PostgreSQL, dropped when
// the test ends, and returns a URL whose connections use it: for a test that
// opens the store itself, or hands the URL to the program. Without
// QORGAN_TEST_DATABASE_URL the test is skipped, as Postgres says.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		if os.Getenv(EnvRequire) == "1" {
			t.Fatalf("PostgreSQL required (%s=1) but %s is not set", EnvRequire, EnvURL)
		}
		t.Skipf("PostgreSQL half skipped: set %s (e.g. postgres://postgres@127.0.0.1:5432/test) to run it", EnvURL)
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	schema := "qt_" + hex.EncodeToString(rnd[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("postgres: create schema: %v", err)
	}
	// Registered before the caller's own cleanups, so it runs after them:
	// the schema is dropped once the store on it is closed.
	t.Cleanup(func() {
		a, err := sql.Open("pgx", base)
		if err == nil {
			a.Exec("DROP SCHEMA " + schema + " CASCADE")
			a.Close()
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("postgres url: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Strings reads a query of one column as strings, failing t on an error: the
// read a test makes to look at what a call stored.
func Strings(t testing.TB, q store.Querier, query string, args ...any) []string {
	t.Helper()
	out, err := store.Collect(context.Background(), q, func(rows *sql.Rows) (string, error) {
		var s string
		return s, rows.Scan(&s)
	}, query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return out
}

// With runs fn once per engine, as Each does, on the fixture setup makes of
// that engine's fresh database: the opening every test of a package with a
// fixture shares.
func With[F any](t *testing.T, setup func(testing.TB, *store.DB) F, fn func(t *testing.T, f F)) {
	t.Helper()
	Each(t, func(t *testing.T, db *store.DB) { fn(t, setup(t, db)) })
}
