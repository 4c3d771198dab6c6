package store

import (
	"context"
	"strings"
	"testing"
)

// TestIDsNotReused upgrades a SQLite database that holds pupils, guardians
// and accounts across migration 00012: every row, id and link stays, and
// afterwards an erased row's id is not given to the next new one.
func TestIDsNotReused(t *testing.T) {
	ctx := context.Background()
	db := unmigratedSQLite(t)
	upTo(t, db, 11)
	exec := mustExec(t, db)
	exec(`INSERT INTO regions (code, name_kk, name_ru, name_en) VALUES ('710000000', 'Астана', 'Астана', 'Astana')`)
	exec(`INSERT INTO schools (id, code, name_kk, name_ru, region_code, headcount, created_at, updated_at) VALUES (1, 'S1', 'М', 'Ш', '710000000', 500, 0, 0)`)
	for id := 1; id <= 3; id++ {
		exec(`INSERT INTO pupils (id, school_id, external_id, last_name, first_name, class, card_uid, created_at, updated_at) VALUES (?, 1, ?, 'Ли', 'Анна', '1', ?, 0, 0)`, id, "P"+string(rune('0'+id)), "CARD0"+string(rune('0'+id)))
		exec(`INSERT INTO guardians (id, phone, full_name, consent_given_on, created_at, updated_at, channels_off) VALUES (?, ?, 'Ли', '2025-09-01', 0, 0, 'sms')`, id, "+7701000000"+string(rune('0'+id)))
		exec(`INSERT INTO pupil_guardians (pupil_id, guardian_id, relation) VALUES (?, ?, 'mother')`, id, id)
		exec(`INSERT INTO users (id, login, role, scope_kind, scope_ref, created_at, updated_at) VALUES (?, ?, 'guardian', 'guardian', ?, 0, 0)`, id, "g"+string(rune('0'+id)), string(rune('0'+id)))
		exec(`INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES (?, ?, 'c', 0, 1)`, "h"+string(rune('0'+id)), id)
	}
	// The newest of each is erased before the upgrade; the access log
	// still names them.
	exec(`INSERT INTO access_log (at, user_id, pupil_id, school_id, action) VALUES (0, 3, 3, 1, 'pupil.read')`)
	exec(`DELETE FROM sessions WHERE user_id = 3`)
	exec(`DELETE FROM users WHERE id = 3`)
	exec(`DELETE FROM pupil_guardians WHERE pupil_id = 3`)
	exec(`DELETE FROM pupils WHERE id = 3`)
	exec(`DELETE FROM guardians WHERE id = 3`)

	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"pupils", "guardians", "users"} {
		var ddl string
		if err := db.W.QueryRowContext(ctx, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", table).Scan(&ddl); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(ddl, "AUTOINCREMENT") {
			t.Errorf("%s is not AUTOINCREMENT after the upgrade: %s", table, ddl)
		}
	}
	var n int
	db.W.QueryRowContext(ctx, `SELECT COUNT(*) FROM pupils p JOIN pupil_guardians l ON l.pupil_id = p.id JOIN guardians g ON g.id = l.guardian_id
		JOIN users u ON u.scope_ref = CAST(g.id AS TEXT) JOIN sessions s ON s.user_id = u.id WHERE p.card_uid = 'CARD0' || p.id AND g.channels_off = 'sms'`).Scan(&n)
	if n != 2 {
		t.Fatalf("after the upgrade %d pupils keep their guardian, login and session, want 2", n)
	}
	checkForeignKeys(t, db)
	// Erase the newest again: the next new row does not take its id.
	exec(`DELETE FROM pupil_guardians WHERE pupil_id = 2`)
	exec(`DELETE FROM pupils WHERE id = 2`)
	var id int64
	if err := db.W.QueryRowContext(ctx, `INSERT INTO pupils (school_id, external_id, last_name, first_name, class, created_at, updated_at) VALUES (1, 'P9', 'Ким', 'Юлия', '2', 0, 0) RETURNING id`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if id <= 3 {
		t.Fatalf("a new pupil took the erased id %d", id)
	}
	var uid int64
	if err := db.W.QueryRowContext(ctx, `INSERT INTO users (login, role, scope_kind, created_at, updated_at) VALUES ('new', 'sysadmin', 'installation', 0, 0) RETURNING id`).Scan(&uid); err != nil {
		t.Fatal(err)
	}
	if uid <= 3 {
		t.Fatalf("a new account took the id %d the access log names", uid)
	}
}

// checkForeignKeys fails t when a SQLite upgrade left a row pointing at
// nothing, or left the foreign keys off.
func checkForeignKeys(t *testing.T, db *DB) {
	t.Helper()
	ctx := context.Background()
	rows, err := db.W.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		t.Fatal(err)
	}
	if rows.Next() {
		t.Error("foreign keys broken after the upgrade")
	}
	rows.Close()
	var fk int
	db.W.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk)
	if fk != 1 {
		t.Error("foreign keys left off after the upgrade")
	}
}
