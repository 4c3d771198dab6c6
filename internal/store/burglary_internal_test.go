package store

import (
	"context"
	"testing"
)

// TestBurglaryUpgrade takes alarms raised before burglary was a type of its
// own across migration 00036 on each engine: those of a burglary code
// (SIA and Contact ID, a new event and a status report) are named
// burglary; an unknown code and a panic keep their type.
func TestBurglaryUpgrade(t *testing.T) {
	eachUnmigrated(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		upTo(t, db, 35)
		must := mustExec(t, db)
		must(`INSERT INTO regions (code, name_kk, name_ru, name_en) VALUES ('710000000', 'Астана', 'Астана', 'Astana')`)
		must(`INSERT INTO schools (id, code, name_kk, name_ru, region_code, headcount, created_at, updated_at) VALUES (1, 'S1', 'М', 'Ш', '710000000', 500, 0, 0)`)
		want := map[int]string{}
		for i, a := range []struct{ code, typ, want string }{
			{"BA", "unknown", "burglary"},
			{"1131", "unknown", "burglary"},
			{"6146", "unknown", "burglary"},
			{"UA", "unknown", "unknown"},
			{"1130", "panic", "panic"}, // not the migration's to judge
			{"PA", "panic", "panic"},
		} {
			id := i + 1
			must(`INSERT INTO signals (id, source, account, sequence, digest, school_id, received_at, committed_at, raw) VALUES (?, 'dc09', '1234', ?, 'd', 1, 1000, 1000, 'frame')`,
				id, a.code)
			must(`INSERT INTO alarms (id, signal_id, school_id, type, code, priority, state, received_at, committed_at) VALUES (?, ?, 1, ?, ?, 1, 'raised', 1000, 1000)`,
				id, id, a.typ, a.code)
			want[id] = a.want
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		rows, err := db.W.QueryContext(ctx, `SELECT id, type FROM alarms ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var id int
			var typ string
			if err := rows.Scan(&id, &typ); err != nil {
				t.Fatal(err)
			}
			if typ != want[id] {
				t.Errorf("alarm %d after the upgrade: %s, want %s", id, typ, want[id])
			}
			n++
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if n != len(want) {
			t.Fatalf("%d alarms after the upgrade, want %d", n, len(want))
		}
	})
}
