package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/pressly/goose/v3"
)

// TestSignalsUpgrade takes a store holding signals and an alarm across
// migration 00016 on each engine: every row and link stays, a copy of a
// signal is still refused while the signal catches copies, and once the
// signal names the one that reused its number, that one is stored.
func TestSignalsUpgrade(t *testing.T) {
	eachUnmigrated(t, testSignalsUpgrade)
}

// eachUnmigrated runs fn on each engine with a database no migration has
// touched yet, as "sqlite" and "postgres" subtests.
func eachUnmigrated(t *testing.T, fn func(t *testing.T, db *DB)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, unmigratedSQLite(t)) })
	t.Run("postgres", func(t *testing.T) {
		base := os.Getenv("QORGAN_TEST_DATABASE_URL")
		if base == "" {
			if os.Getenv("QORGAN_TEST_REQUIRE_POSTGRES") == "1" {
				t.Fatal("PostgreSQL required but QORGAN_TEST_DATABASE_URL is not set")
			}
			t.Skip("PostgreSQL half skipped: set QORGAN_TEST_DATABASE_URL to run it")
		}
		var rnd [6]byte
		rand.Read(rnd[:])
		schema := "qt_" + hex.EncodeToString(rnd[:])
		admin, err := sql.Open("pgx", base)
		if err != nil {
			t.Fatal(err)
		}
		defer admin.Close()
		if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
			t.Fatal(err)
		}
		defer admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		u, err := url.Parse(base)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		db, err := connect(Config{URL: u.String()})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		fn(t, db)
	})
}

// upTo migrates db to version and no further, as a database from before the
// migration under test was left; it returns the migrations, to go down with.
func upTo(t *testing.T, db *DB, version int64) *goose.Provider {
	t.Helper()
	p, err := db.provider()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(context.Background(), version); err != nil {
		t.Fatal(err)
	}
	return p
}

// mustExec returns a function that runs a statement (written with ?) on
// db's writer and fails t on an error: how an upgrade test lays down rows.
func mustExec(t *testing.T, db *DB) func(q string, args ...any) {
	return func(q string, args ...any) {
		t.Helper()
		if _, err := db.W.ExecContext(context.Background(), db.Dialect.Rebind(q), args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func testSignalsUpgrade(t *testing.T, db *DB) {
	ctx := context.Background()
	upTo(t, db, 15)
	exec := func(q string, args ...any) error {
		_, err := db.W.ExecContext(ctx, db.Dialect.Rebind(q), args...)
		return err
	}
	must := func(q string, args ...any) {
		t.Helper()
		if err := exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	must(`INSERT INTO regions (code, name_kk, name_ru, name_en) VALUES ('710000000', 'Астана', 'Астана', 'Astana')`)
	must(`INSERT INTO schools (id, code, name_kk, name_ru, region_code, headcount, created_at, updated_at) VALUES (1, 'S1', 'М', 'Ш', '710000000', 500, 0, 0)`)
	for id := 1; id <= 2; id++ {
		must(`INSERT INTO signals (id, source, account, sequence, digest, school_id, received_at, committed_at, raw) VALUES (?, 'dc09', '1234', '0001', ?, 1, ?, ?, 'frame')`,
			id, "d"+string(rune('0'+id)), id*1000, id*1000)
	}
	must(`INSERT INTO alarms (id, signal_id, school_id, type, priority, state, received_at, committed_at) VALUES (1, 1, 1, 'panic', 1, 'raised', 1000, 1000)`)

	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.W.QueryRowContext(ctx, `SELECT COUNT(*) FROM signals s JOIN alarms a ON a.signal_id = s.id WHERE s.raw = 'frame' AND s.retry_until IS NULL AND s.reused_by IS NULL`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("after the upgrade %d alarms find their signal, want 1", n)
	}
	if db.Dialect == SQLite {
		checkForeignKeys(t, db)
		if err := exec(`INSERT INTO alarms (id, signal_id, school_id, type, priority, state, received_at, committed_at) VALUES (2, 99, 1, 'panic', 1, 'raised', 0, 0)`); !IsForeignKeyViolation(err) {
			t.Errorf("an alarm of a signal that does not exist: %v, want a foreign-key violation", err)
		}
	}
	copyOf1 := `INSERT INTO signals (id, source, account, sequence, digest, received_at, committed_at) VALUES (3, 'dc09', '1234', '0001', 'd1', 5000, 5000)`
	if err := exec(copyOf1); !IsUniqueViolation(err) {
		t.Fatalf("a copy of a signal that catches copies: %v, want a unique violation", err)
	}
	must(`UPDATE signals SET reused_by = 3 WHERE id = 1`)
	must(copyOf1)
}

// TestSignalsRawUpgrade takes a signal stored before migration 00018 across
// it on each engine: its raw reads back as it was, with raw_bytes NULL. A
// signal stored after it keeps a NUL and a 0xFF byte exactly in raw_bytes,
// and the migration goes down and up again.
func TestSignalsRawUpgrade(t *testing.T) {
	eachUnmigrated(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		p := upTo(t, db, 17)
		must := mustExec(t, db)
		read := func(id int) (raw string, exact []byte) {
			t.Helper()
			if err := db.W.QueryRowContext(ctx, db.Dialect.Rebind("SELECT raw, raw_bytes FROM signals WHERE id = ?"), id).Scan(&raw, &exact); err != nil {
				t.Fatal(err)
			}
			return raw, exact
		}
		frame := "\n5F3E0030\"SIA-DCS\"0001L0#1234[#1234|Nri1/PA501]\r"
		must(`INSERT INTO signals (id, source, account, sequence, digest, received_at, committed_at, raw) VALUES (1, 'dc09', '1234', '0001', 'd1', 1000, 1000, ?)`, frame)

		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if raw, exact := read(1); raw != frame || exact != nil {
			t.Errorf("a signal from before the upgrade reads %q and %q, want %q and NULL", raw, exact, frame)
		}
		odd := []byte("\n1A2B0031\"SIA-DCS\"0002L0#1234[#1234|Nri1/PA501^\x00\xff^]\r")
		must(`INSERT INTO signals (id, source, account, sequence, digest, received_at, committed_at, raw, raw_bytes) VALUES (2, 'dc09', '1234', '0002', 'd2', 2000, 2000, ?, ?)`,
			`(escaped)`, odd)
		if _, exact := read(2); string(exact) != string(odd) {
			t.Errorf("raw_bytes reads %q, want %q", exact, odd)
		}
		must(`INSERT INTO signals (id, source, account, sequence, digest, received_at, committed_at) VALUES (3, 'staff', 'guard', 'r1', 'd3', 3000, 3000)`)
		if raw, exact := read(3); raw != "" || exact != nil {
			t.Errorf("a signal stored without either reads %q and %q, want the empty text and NULL", raw, exact)
		}

		// Down to the version before raw_bytes, whatever came after it.
		if _, err := p.DownTo(ctx, 17); err != nil {
			t.Fatalf("down: %v", err)
		}
		if err := db.W.QueryRowContext(ctx, "SELECT raw_bytes FROM signals WHERE id = 2").Scan(new([]byte)); err == nil {
			t.Error("raw_bytes is still there after the migration went down")
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if raw, exact := read(1); raw != frame || exact != nil {
			t.Errorf("after down and up the first signal reads %q and %q", raw, exact)
		}
	})
}

// Migration 00037 goes down on a SQLite database where the writer left
// open rows of one key (a number reused after its first copy was
// forgotten): each names the next in reused_by, and the wider unique
// index is built again. (PostgreSQL kept that index all along.)
func TestSignalWindowDown(t *testing.T) {
	ctx := context.Background()
	db := unmigratedSQLite(t)
	p := upTo(t, db, 37)
	must := mustExec(t, db)
	for id := 1; id <= 3; id++ {
		must(`INSERT INTO signals (id, source, account, sequence, digest, received_at, committed_at, retry_until) VALUES (?, 'dc09', '1234', '0001', 'd1', ?, ?, ?)`,
			id, id*3_600_000_000, id*3_600_000_000, id*3_600_000_000+600_000_000)
	}
	if _, err := p.DownTo(ctx, 36); err != nil {
		t.Fatalf("down: %v", err)
	}
	var got string
	if err := db.W.QueryRowContext(ctx, "SELECT group_concat(id || ':' || COALESCE(reused_by, '-'), ' ') FROM (SELECT id, reused_by FROM signals ORDER BY id)").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != "1:2 2:3 3:-" {
		t.Fatalf("after going down the signals and what reused them read %q, want \"1:2 2:3 3:-\"", got)
	}
	_, err := db.W.ExecContext(ctx, `INSERT INTO signals (id, source, account, sequence, digest, received_at, committed_at) VALUES (4, 'dc09', '1234', '0001', 'd1', 1, 1)`)
	if !IsUniqueViolation(err) {
		t.Fatalf("a fourth open row of the key after going down: %v, want a unique violation", err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
}

// unmigratedSQLite opens a SQLite file with no migration applied, closed
// when the test ends.
func unmigratedSQLite(t *testing.T) *DB {
	t.Helper()
	db, err := connect(Config{Path: filepath.Join(t.TempDir(), "upgrade.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
