package store

import (
	"context"
	"fmt"
)

// SQLiteSynchronous reads the synchronous mode in force on the writer
// connection (FULL, NORMAL, …); empty on PostgreSQL. It asks SQLite itself,
// so that what is printed is what is in force, not what was asked for.
// FULL is what Qorgan keeps by syncing the log after each commit itself
// (see walSyncer): the writer runs NORMAL then, and FULL is reported only
// when that is so and the syncer is on.
func (db *DB) SQLiteSynchronous(ctx context.Context) (string, error) {
	if db.Dialect != SQLite {
		return "", nil
	}
	var n int
	if err := db.W.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&n); err != nil {
		return "", err
	}
	if db.wal != nil {
		if n != 1 {
			return "", fmt.Errorf("sqlite: the writer runs synchronous=%d, not NORMAL, beside the log syncer", n)
		}
		return "FULL", nil
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
