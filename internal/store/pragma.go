package store

import (
	"context"
	"fmt"
)

// SQLiteSynchronous reads the synchronous mode the writer connection runs
// with (FULL, NORMAL, …); empty on PostgreSQL. It asks SQLite itself, so
// that what is printed is what is in force, not what was asked for.
func (db *DB) SQLiteSynchronous(ctx context.Context) (string, error) {
	if db.Dialect != SQLite {
		return "", nil
	}
	var n int
	if err := db.W.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&n); err != nil {
		return "", err
	}
	switch n {
	case 0:
		return "OFF", nil
	case 1:
		return "NORMAL", nil
	case 2:
		return "FULL", nil
	case 3:
		return "EXTRA", nil
	}
	return fmt.Sprintf("%d", n), nil
}
