package attendance

import (
	"context"
	"database/sql"
	"log/slog"
	"time"

	"qorgan/internal/chore"
	"qorgan/internal/store"
)

// Passes and presence are personal data of children: kept as long as the
// school needs them (the configured retention), then deleted automatically
// (Law No. 94-V: retention limits with automatic deletion).

// pruneBatch is how many rows one pruning transaction deletes, so that it
// never holds the single writer long; alarms go first anyway.
const pruneBatch = 1000

// Prune deletes the passes that happened before `before` and the presence
// of days before it, school by school in small transactions, and says how
// many rows of each went.
func (s *Service) Prune(ctx context.Context, before time.Time) (passes, presence int, err error) {
	schools, err := store.Collect(ctx, s.DB.Reader(), func(r *sql.Rows) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	}, "SELECT id FROM schools ORDER BY id")
	if err != nil {
		return 0, 0, err
	}
	at, day := store.Micros(before), Day(before)
	for _, school := range schools {
		n, err := s.prune(ctx, "DELETE FROM passes WHERE id IN (SELECT id FROM passes WHERE school_id = ? AND at < ? LIMIT ?)", school, at)
		passes += n
		if err != nil {
			return passes, presence, err
		}
		n, err = s.prune(ctx, `DELETE FROM presence WHERE school_id = ? AND (person_kind, person_id, day) IN
			(SELECT person_kind, person_id, day FROM presence WHERE school_id = ? AND day < ? LIMIT ?)`, school, school, day)
		presence += n
		if err != nil {
			return passes, presence, err
		}
	}
	return passes, presence, nil
}

// prune runs q, a deletion of at most pruneBatch rows (its last argument),
// one transaction at a time until one deletes fewer, and says how many
// rows went.
func (s *Service) prune(ctx context.Context, q string, args ...any) (int, error) {
	args = append(args, pruneBatch)
	total := 0
	for {
		var n int64
		err := s.DB.InTx(ctx, func(tx *store.Tx) error {
			res, err := tx.ExecContext(ctx, q, args...)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		total += int(n)
		if err != nil || n < pruneBatch {
			return total, err
		}
	}
}

// Run deletes, at start and then hourly until ctx ends, the passes and
// presence older than keep.
func (s *Service) Run(ctx context.Context, keep time.Duration, log *slog.Logger) {
	chore.Every(ctx, time.Hour, log, "old passes and presence deleted", "rows", func(ctx context.Context) (int64, error) {
		p, d, err := s.Prune(ctx, s.Now().Add(-keep))
		return int64(p + d), err
	})
}
