package attendance

import (
	"context"
	"database/sql"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/kztime"
	"qorgan/internal/registry"
	"qorgan/internal/store"
)

// RecentPass is one pass as a school's board shows it.
type RecentPass struct {
	ID        int64     `json:"id"`
	At        time.Time `json:"at"`
	Direction Direction `json:"direction"`
	Kind      string    `json:"kind"` // pupil, staff, unknown
	Name      string    `json:"name,omitempty"`
	Class     string    `json:"class,omitempty"`
	Manual    bool      `json:"manual,omitempty"`
}

// Board is a school's presence at a glance: who is inside now, by kind,
// and the newest passes.
type Board struct {
	SchoolID     int64        `json:"school_id"`
	Day          string       `json:"day"`
	PupilsInside int          `json:"pupils_inside"`
	StaffInside  int          `json:"staff_inside"`
	PupilsLeft   int          `json:"pupils_left"`
	Recent       []RecentPass `json:"recent"`
}

// Board reads school schoolID's presence counts for today and its newest
// limit passes (the one index range each), for the school's own staff and
// the administrator. The names in it are personal data: the caller logs the
// read (see auth.LogSchoolRead).
func (s *Service) Board(ctx context.Context, p auth.Principal, schoolID int64, limit int) (Board, error) {
	today := kztime.Today(s.Now())
	q := s.DB.Reader()
	if err := registry.AtSchool(ctx, q, p, today, schoolID, auth.ReadPupils); err != nil {
		return Board{}, err
	}
	b := Board{SchoolID: schoolID, Day: today.Format(time.DateOnly), Recent: []RecentPass{}}
	err := store.Each(ctx, q, func(rows *sql.Rows) error {
		var kind string
		var inside bool
		var n int
		if err := rows.Scan(&kind, &inside, &n); err != nil {
			return err
		}
		switch {
		case kind == "pupil" && inside:
			b.PupilsInside = n
		case kind == "pupil":
			b.PupilsLeft = n
		case kind == "staff" && inside:
			b.StaffInside = n
		}
		return nil
	}, "SELECT person_kind, inside, COUNT(*) FROM presence WHERE school_id = ? AND day = ? GROUP BY person_kind, inside", schoolID, b.Day)
	if err != nil {
		return Board{}, errs.Wrap(err, "board")
	}
	b.Recent, err = store.Collect(ctx, q, func(rows *sql.Rows) (RecentPass, error) {
		var r RecentPass
		var at int64
		err := rows.Scan(&r.ID, &at, &r.Direction, &r.Kind, &r.Manual, &r.Name, &r.Class)
		r.At = store.FromMicros(at)
		return r, err
	}, `SELECT x.id, x.at, x.direction, x.person_kind, x.manual,
			COALESCE(pu.last_name || ' ' || pu.first_name, st.full_name, ''), COALESCE(pu.class, '')
		FROM (SELECT id, at, direction, person_kind, person_id, manual FROM passes WHERE school_id = ? ORDER BY at DESC, id DESC LIMIT ?) x
		LEFT JOIN pupils pu ON x.person_kind = 'pupil' AND pu.id = x.person_id
		LEFT JOIN staff st ON x.person_kind = 'staff' AND st.id = x.person_id
		ORDER BY x.at DESC, x.id DESC`, schoolID, limit)
	if err != nil {
		return Board{}, errs.Wrap(err, "board")
	}
	return b, nil
}

// PupilDay lists one pupil's passes on day (Asia/Almaty, "2006-01-02"),
// oldest first, for whoever may read the pupil: their school's staff, or a
// guardian their own child.
func (s *Service) PupilDay(ctx context.Context, p auth.Principal, pupilID int64, day string) ([]RecentPass, error) {
	d, err := time.ParseInLocation(time.DateOnly, day, kztime.Almaty)
	if err != nil {
		return nil, errs.Invalidf("day", "a day is written 2006-01-02")
	}
	if _, err := registry.AtPupil(ctx, s.DB.Reader(), p, kztime.Today(s.Now()), pupilID, auth.ReadPupils); err != nil {
		return nil, err
	}
	out, err := store.Collect(ctx, s.DB.Reader(), func(rows *sql.Rows) (RecentPass, error) {
		r := RecentPass{Kind: "pupil"}
		var at int64
		err := rows.Scan(&r.ID, &at, &r.Direction, &r.Manual)
		r.At = store.FromMicros(at)
		return r, err
	}, "SELECT id, at, direction, manual FROM passes WHERE person_id = ? AND person_kind = 'pupil' AND at >= ? AND at < ? ORDER BY at, id",
		pupilID, store.Micros(d), store.Micros(d.AddDate(0, 0, 1)))
	return out, errs.Wrap(err, "a pupil's day")
}
