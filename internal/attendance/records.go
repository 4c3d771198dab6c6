package attendance

import (
	"context"
	"database/sql"
	"time"

	"qorgan/internal/store"
)

// PupilAttendance is what the access domain holds about one pupil: every
// pass kept and every school day with an arrival or a departure.
type PupilAttendance struct {
	Passes []PupilPass `json:"passes"`
	Days   []PupilDay  `json:"days"`
}

// PupilPass is one kept pass of a pupil.
type PupilPass struct {
	SchoolID   int64     `json:"school_id"`
	DeviceID   int64     `json:"device_id,omitempty"` // 0: a guard's manual pass
	At         time.Time `json:"at"`
	ReceivedAt time.Time `json:"received_at"`
	Direction  Direction `json:"direction"`
	Manual     bool      `json:"manual"`
}

// PupilDay is one school day of a pupil: the first arrival and the last
// departure.
type PupilDay struct {
	Day      string     `json:"day"`
	SchoolID int64      `json:"school_id"`
	FirstIn  *time.Time `json:"first_in,omitempty"`
	LastOut  *time.Time `json:"last_out,omitempty"`
}

// RecordsName names the access domain's records about a pupil.
func (s *Service) RecordsName() string { return "attendance" }

// ExportPupil returns the pupil's passes and days, oldest first.
func (s *Service) ExportPupil(ctx context.Context, q store.Querier, _, pupilID int64) (any, error) {
	var out PupilAttendance
	var err error
	out.Passes, err = store.Collect(ctx, q, func(r *sql.Rows) (PupilPass, error) {
		var p PupilPass
		var at, recv int64
		var dir string
		err := r.Scan(&p.SchoolID, &p.DeviceID, &at, &recv, &dir, &p.Manual)
		p.At, p.ReceivedAt, p.Direction = store.FromMicros(at), store.FromMicros(recv), Direction(dir)
		return p, err
	}, "SELECT school_id, device_id, at, received_at, direction, manual FROM passes WHERE person_id = ? AND person_kind = 'pupil' ORDER BY at, id", pupilID)
	if err != nil {
		return nil, err
	}
	out.Days, err = store.Collect(ctx, q, func(r *sql.Rows) (PupilDay, error) {
		var d PupilDay
		var in, out sql.NullInt64
		err := r.Scan(&d.Day, &d.SchoolID, &in, &out)
		d.FirstIn, d.LastOut = store.FromNullMicros(in), store.FromNullMicros(out)
		return d, err
	}, "SELECT day, school_id, first_in, last_out FROM presence WHERE person_kind = 'pupil' AND person_id = ? ORDER BY day", pupilID)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ErasePupil deletes the pupil's passes and days.
func (s *Service) ErasePupil(ctx context.Context, tx *store.Tx, _, pupilID int64) (int64, error) {
	var n int64
	for _, q := range []string{
		"DELETE FROM passes WHERE person_id = ? AND person_kind = 'pupil'",
		"DELETE FROM presence WHERE person_kind = 'pupil' AND person_id = ?",
	} {
		res, err := tx.ExecContext(ctx, q, pupilID)
		if err != nil {
			return 0, err
		}
		k, err := res.RowsAffected()
		if err != nil {
			return 0, err
		}
		n += k
	}
	return n, nil
}
