package store

import (
	"context"
	"database/sql"
	"strings"
)

// Collect runs a query on q and scans every row with scan: the loop every
// list read needs, written once. It returns an empty, non-nil slice when
// there are no rows, so lists encode as [] and not null.
func Collect[T any](ctx context.Context, q Querier, scan func(*sql.Rows) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Each runs a query on q and hands every row to scan: the loop of a read that
// fills a map or a struct rather than a slice, written once.
func Each(ctx context.Context, q Querier, scan func(*sql.Rows) error, query string, args ...any) error {
	rows, err := q.QueryContext(ctx, query, args...)
	return EachRow(rows, err, scan)
}

// EachRow is the loop of Each over rows a query gave (err is its error,
// returned as it is): every row to scan, then the rows closed.
func EachRow(rows *sql.Rows, err error, scan func(*sql.Rows) error) error {
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// InList is how many values one IN (…) list holds: far below SQLite's and
// PostgreSQL's limits on parameters, with room left for the rest of the
// statement.
const InList = 500

// InBatches calls fn for keys in slices of at most size values, with the
// slice's placeholders ("?,?,?", to go between the parentheses of an IN
// list) and its values as arguments: the loop any statement over a set of
// unbounded size needs. It stops at the first error.
func InBatches[K any](keys []K, size int, fn func(ph string, args []any) error) error {
	var sizes []int
	for left := len(keys); left > 0; left -= size {
		sizes = append(sizes, min(size, left))
	}
	return inParts(keys, sizes, fn)
}

// InChunks is InBatches with slices of the sizes Chunks gives (as many
// of size as fit, then powers of two), so that a statement run for every
// group commit over a set of varying size comes in a few shapes that stay
// prepared (Tx.QueryRepeated, Tx.ExecRepeated) instead of a new one to
// parse each time.
func InChunks[K any](keys []K, size int, fn func(ph string, args []any) error) error {
	return inParts(keys, Chunks(len(keys), size), fn)
}

// inParts calls fn for keys in consecutive slices of the given sizes.
func inParts[K any](keys []K, sizes []int, fn func(ph string, args []any) error) error {
	start := 0
	for _, n := range sizes {
		part := keys[start : start+n]
		start += n
		args := make([]any, len(part))
		for i, k := range part {
			args[i] = k
		}
		if err := fn(Placeholders(len(part)), args); err != nil {
			return err
		}
	}
	return nil
}

// Placeholders returns n placeholders separated by commas: "?,?,?".
func Placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?,", n-1) + "?"
}
