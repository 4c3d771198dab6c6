package store_test

import (
	"context"
	"database/sql"
	"errors"
	"reflect"
	"testing"

	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
)

func TestInBatches(t *testing.T) {
	var phs []string
	var got [][]any
	err := store.InBatches([]string{"a", "b", "c", "d", "e"}, 2, func(ph string, args []any) error {
		phs = append(phs, ph)
		got = append(got, args)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"?,?", "?,?", "?"}; !reflect.DeepEqual(phs, want) {
		t.Errorf("placeholders %q, want %q", phs, want)
	}
	if want := [][]any{{"a", "b"}, {"c", "d"}, {"e"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("arguments %v, want %v", got, want)
	}
	calls := 0
	if err := store.InBatches([]int64(nil), store.InList, func(string, []any) error { calls++; return nil }); err != nil || calls != 0 {
		t.Errorf("no keys: %d calls, %v; want none", calls, err)
	}
	stop := errors.New("stop")
	calls = 0
	if err := store.InBatches([]int{1, 2, 3}, 1, func(string, []any) error { calls++; return stop }); err != stop || calls != 1 {
		t.Errorf("an error: %d calls, %v; want 1 call and the error", calls, err)
	}
}

func TestEachAndCollect(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		q := "SELECT code FROM regions WHERE code IN (" + store.Placeholders(2) + ") ORDER BY code"
		codes, err := store.Collect(ctx, db.Reader(), func(rows *sql.Rows) (string, error) {
			var c string
			return c, rows.Scan(&c)
		}, q, "nope1", "nope2")
		if err != nil || codes == nil || len(codes) != 0 {
			t.Fatalf("Collect of nothing = %#v, %v; want an empty, non-nil slice", codes, err)
		}
		n := 0
		err = store.Each(ctx, db.Reader(), func(rows *sql.Rows) error {
			n++
			return nil
		}, "SELECT 1 UNION ALL SELECT 2")
		if err != nil || n != 2 {
			t.Fatalf("Each saw %d rows, %v; want 2", n, err)
		}
	})
}
