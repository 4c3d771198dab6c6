package auth

import (
	"context"
	"strings"
	"time"

	"qorgan/internal/store"
)

// PupilRead is one child's record shown to a person.
type PupilRead struct {
	PupilID  int64
	SchoolID int64
}

// LogPupilReads records, in one statement, that p was shown these children's
// personal data (Law 94-V, Art. 22). Guardians reading their own children are
// logged too: the log is of every read, and it costs one row each.
func (s *Service) LogPupilReads(ctx context.Context, p Principal, action string, reads []PupilRead) error {
	if len(reads) == 0 {
		return nil
	}
	at := store.Micros(s.Now())
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		const per = 5
		for start := 0; start < len(reads); start += 100 {
			end := min(start+100, len(reads))
			var b strings.Builder
			b.WriteString("INSERT INTO access_log (at, user_id, pupil_id, school_id, action) VALUES ")
			args := make([]any, 0, (end-start)*per)
			for i, r := range reads[start:end] {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString("(?, ?, ?, ?, ?)")
				args = append(args, at, p.UserID, r.PupilID, r.SchoolID, action)
			}
			if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
				return err
			}
		}
		return nil
	})
}

// AccessEntry is one row of the access log.
type AccessEntry struct {
	At     time.Time `json:"at"`
	UserID int64     `json:"user_id"`
	Login  string    `json:"login"`
	Action string    `json:"action"`
}

// PupilAccess lists who read one child's data, newest first.
func (s *Service) PupilAccess(ctx context.Context, pupilID int64, limit int) ([]AccessEntry, error) {
	rows, err := s.DB.Reader().QueryContext(ctx, `SELECT a.at, a.user_id, COALESCE(u.login, ''), a.action FROM access_log a
		LEFT JOIN users u ON u.id = a.user_id WHERE a.pupil_id = ? ORDER BY a.at DESC, a.id DESC LIMIT ?`, pupilID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AccessEntry
	for rows.Next() {
		var e AccessEntry
		var at int64
		if err := rows.Scan(&at, &e.UserID, &e.Login, &e.Action); err != nil {
			return nil, err
		}
		e.At = store.FromMicros(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
