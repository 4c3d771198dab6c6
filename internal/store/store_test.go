package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
)

func TestRebind(t *testing.T) {
	got := store.Postgres.Rebind("SELECT * FROM t WHERE a = ? AND b = '?' AND c IN (?, ?)")
	want := "SELECT * FROM t WHERE a = $1 AND b = '?' AND c IN ($2, $3)"
	if got != want {
		t.Fatalf("Rebind = %q, want %q", got, want)
	}
	if s := store.SQLite.Rebind("a = ?"); s != "a = ?" {
		t.Fatalf("SQLite Rebind changed the query: %q", s)
	}
}

func TestStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		cur, known, err := db.SchemaVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if cur != known || cur < 2 {
			t.Fatalf("schema at %d, binary knows %d", cur, known)
		}
		t.Run("rollback writes nothing", func(t *testing.T) {
			err := db.InTx(ctx, func(tx *store.Tx) error {
				if _, err := tx.ExecContext(ctx, "INSERT INTO regions (code, name_kk, name_ru, name_en) VALUES (?, ?, ?, ?)", "990000000", "x", "x", "x"); err != nil {
					return err
				}
				_, err := tx.ExecContext(ctx, "INSERT INTO regions (code, name_kk, name_ru, name_en) VALUES (?, ?, ?, ?)", "990000000", "x", "x", "x")
				return err
			})
			if !store.IsUniqueViolation(err) {
				t.Fatalf("want unique violation, got %v", err)
			}
			var n int
			if err := db.Reader().QueryRowContext(ctx, "SELECT COUNT(*) FROM regions WHERE code = ?", "990000000").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Fatalf("rolled-back insert left %d rows", n)
			}
		})
		t.Run("audit is append-only", func(t *testing.T) {
			err := db.InTx(ctx, func(tx *store.Tx) error {
				_, err := tx.ExecContext(ctx, "INSERT INTO audit (seq, at, actor, action, object, detail, prev_hash, hash) VALUES (1, 0, 'a', 'b', 'c', '{}', '', 'h')")
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range []string{"UPDATE audit SET actor = 'x'", "DELETE FROM audit"} {
				err := db.InTx(ctx, func(tx *store.Tx) error { _, err := tx.ExecContext(ctx, q); return err })
				if err == nil || !strings.Contains(err.Error(), "append-only") {
					t.Fatalf("%s: want append-only refusal, got %v", q, err)
				}
			}
		})
		t.Run("read pool is read-only", func(t *testing.T) {
			if db.Dialect != store.SQLite {
				t.Skip("PostgreSQL uses one pool")
			}
			if _, err := db.R.Exec("DELETE FROM regions"); err == nil {
				t.Fatal("read pool accepted a write")
			}
		})
	})
}

func TestRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "q.db")
	db, err := store.Open(ctx, store.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.W.Exec("INSERT INTO goose_db_version (version_id, is_applied) VALUES (9999, 1)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = store.Open(ctx, store.Config{Path: path})
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("want refusal of newer schema, got %v", err)
	}
}

// The log is copied back into the database file in the background, well
// before the writer's own automatic checkpoint (64 MB of log) would do it.
func TestBackgroundCheckpoint(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ckpt.db")
	db, err := store.Open(ctx, store.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	if _, err := db.W.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	before := size()
	const rows, width = 2000, 2000 // about 4 MB
	err = db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, "CREATE TABLE ckpt_test (id INTEGER PRIMARY KEY, body TEXT)"); err != nil {
			return err
		}
		for i := range rows {
			if _, err := tx.ExecContext(ctx, "INSERT INTO ckpt_test (id, body) VALUES (?, ?)", i, strings.Repeat("x", width)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if grown := size() - before; grown > rows*width/2 {
		t.Fatalf("the database file grew by %d bytes at commit: the writer checkpointed itself", grown)
	}
	deadline := time.Now().Add(10 * time.Second)
	for size()-before < rows*width {
		if time.Now().After(deadline) {
			t.Fatalf("database file grew by %d bytes in 10 s; the background checkpoint did not copy the %d-byte log back", size()-before, rows*width)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestChunks(t *testing.T) {
	for _, c := range []struct {
		n, max int
		want   string
	}{
		{0, 256, "[]"}, {1, 256, "[1]"}, {300, 256, "[256 32 8 4]"}, {512, 256, "[256 256]"}, {255, 256, "[128 64 32 16 8 4 2 1]"}, {7, 4, "[4 2 1]"},
	} {
		got := store.Chunks(c.n, c.max)
		if s := fmt.Sprint(got); s != c.want && !(c.want == "[]" && len(got) == 0) {
			t.Errorf("Chunks(%d, %d) = %s, want %s", c.n, c.max, s, c.want)
		}
		sum := 0
		for _, n := range got {
			sum += n
		}
		if sum != c.n {
			t.Errorf("Chunks(%d, %d) adds up to %d", c.n, c.max, sum)
		}
	}
}

// Statements written again and again are prepared once on SQLite's writer
// and give the same results as when parsed each time.
func TestRepeatedStatements(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.W.ExecContext(ctx, "CREATE TABLE rep_test (id BIGINT PRIMARY KEY, v TEXT)"); err != nil {
			t.Fatal(err)
		}
		for round := range 5 {
			err := db.InTx(ctx, func(tx *store.Tx) error {
				b := tx.NewBulk("rep_test", "id", "v")
				for i := range 37 {
					if err := b.Add(ctx, round*100+i, fmt.Sprint("r", round)); err != nil {
						return err
					}
				}
				if err := b.Flush(ctx); err != nil {
					return err
				}
				rows, err := tx.QueryRepeated(ctx, "SELECT COUNT(*) FROM rep_test WHERE v = ?", fmt.Sprint("r", round))
				if err != nil {
					return err
				}
				defer rows.Close()
				var n int
				for rows.Next() {
					rows.Scan(&n)
				}
				if n != 37 {
					t.Errorf("round %d: %d rows, want 37", round, n)
				}
				return rows.Err()
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		var n int
		db.Reader().QueryRowContext(ctx, "SELECT COUNT(*) FROM rep_test").Scan(&n)
		if n != 5*37 {
			t.Fatalf("%d rows, want %d", n, 5*37)
		}
	})
}
