package auth

import (
	"context"
	"database/sql"
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
		b := tx.NewBulk("access_log", "at", "user_id", "pupil_id", "school_id", "action")
		for _, r := range reads {
			if err := b.Add(ctx, at, p.UserID, r.PupilID, r.SchoolID, action); err != nil {
				return err
			}
		}
		return b.Flush(ctx)
	})
}

// LogSchoolRead records that p was shown a list of every child of a school
// (the roll-call) in one entry with pupil_id 0: it names exactly what was
// read, and costs one row, not thousands, when an evacuation asks for the
// list again and again. PupilAccess counts it for every pupil of the school.
func (s *Service) LogSchoolRead(ctx context.Context, p Principal, action string, schoolID int64) error {
	return s.LogSchoolExport(ctx, p, action, schoolID, 0)
}

// LogSchoolExport records that p took away a file of a school's children
// (the export of its pupils), in one school-wide entry like LogSchoolRead's
// that also says how many children's rows the file carried.
func (s *Service) LogSchoolExport(ctx context.Context, p Principal, action string, schoolID int64, rows int) error {
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO access_log (at, user_id, pupil_id, school_id, action, row_count) VALUES (?, ?, 0, ?, ?, ?)",
			store.Micros(s.Now()), p.UserID, schoolID, action, rows)
		return err
	})
}

// AccessEntry is one row of the access log.
type AccessEntry struct {
	At     time.Time `json:"at"`
	UserID int64     `json:"user_id"`
	Login  string    `json:"login"`
	Action string    `json:"action"`
	// Rows is how many children's rows a school-wide export carried.
	Rows int64 `json:"rows,omitempty"`
}

// PupilAccess lists who read one child's data, newest first, including the
// school-wide lists (roll-calls) that showed it.
func (s *Service) PupilAccess(ctx context.Context, pupilID int64, limit int) ([]AccessEntry, error) {
	return store.Collect(ctx, s.DB.Reader(), func(rows *sql.Rows) (AccessEntry, error) {
		var e AccessEntry
		var at int64
		err := rows.Scan(&at, &e.UserID, &e.Login, &e.Action, &e.Rows)
		e.At = store.FromMicros(at)
		return e, err
	}, `SELECT a.at, a.user_id, COALESCE(u.login, ''), a.action, a.row_count FROM access_log a
		LEFT JOIN users u ON u.id = a.user_id
		WHERE a.pupil_id = ? OR (a.pupil_id = 0 AND a.school_id = (SELECT school_id FROM pupils WHERE id = ?)) ORDER BY a.at DESC, a.id DESC LIMIT ?`, pupilID, pupilID, limit)
}
