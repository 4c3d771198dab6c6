package attendance

import (
	"context"
	"database/sql"
	"encoding/json"
	"strconv"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/kztime"
	"qorgan/internal/registry"
	"qorgan/internal/store"
)

// Attendee is one person on a roll-call.
type Attendee struct {
	Kind     string     `json:"kind"` // pupil, staff
	ID       int64      `json:"id"`
	Name     string     `json:"name"`
	Class    string     `json:"class,omitempty"`
	FirstIn  *time.Time `json:"first_in,omitempty"`
	LastOut  *time.Time `json:"last_out,omitempty"`
	Late     bool       `json:"late,omitempty"` // arrived after the first shift began
	Presence string     `json:"presence"`       // inside, left, not_arrived
}

// RollCall is who is inside a school now: the list an evacuation starts from.
type RollCall struct {
	SchoolID   int64      `json:"school_id"`
	Day        string     `json:"day"`
	Inside     int        `json:"inside"`
	Left       int        `json:"left"`
	NotArrived int        `json:"not_arrived"`
	Late       int        `json:"late"`
	People     []Attendee `json:"people"`
}

// RollCall lists a school's pupils and staff with today's presence, for the
// school's own staff (and the administrator). Pupils' names are personal
// data: the read is access-logged, as one school-wide entry.
func (s *Service) RollCall(ctx context.Context, a *auth.Service, p auth.Principal, schoolID int64) (RollCall, error) {
	today := kztime.Today(s.Now())
	if err := registry.AtSchool(ctx, s.DB.Reader(), p, today, schoolID, auth.ReadPupils); err != nil {
		return RollCall{}, err
	}
	var shifts string
	err := s.DB.Reader().QueryRowContext(ctx, "SELECT s.shifts FROM schools s WHERE s.id = ?", schoolID).Scan(&shifts)
	if err != nil {
		return RollCall{}, errs.Wrap(err, "roll-call")
	}
	day := today.Format(time.DateOnly)
	var start int64 // the first shift's start today, for lateness
	var sh []registry.Shift
	if json.Unmarshal([]byte(shifts), &sh) == nil && len(sh) > 0 {
		if t, err := time.ParseInLocation("2006-01-02 15:04", day+" "+sh[0].Start, kztime.Almaty); err == nil {
			start = store.Micros(t)
		}
	}
	rc := RollCall{SchoolID: schoolID, Day: day, People: []Attendee{}}
	// Today's presence of the school first (one index range), then its
	// people: two plain scans instead of a lookup per person.
	type seen struct {
		in, out sql.NullInt64
		inside  bool
	}
	byPerson := map[string]seen{}
	err = store.Each(ctx, s.DB.Reader(), func(rows *sql.Rows) error {
		var kind string
		var id int64
		var x seen
		if err := rows.Scan(&kind, &id, &x.in, &x.out, &x.inside); err != nil {
			return err
		}
		byPerson[kind+strconv.FormatInt(id, 10)] = x
		return nil
	}, "SELECT person_kind, person_id, first_in, last_out, inside FROM presence WHERE school_id = ? AND day = ?", schoolID, day)
	if err != nil {
		return RollCall{}, errs.Wrap(err, "roll-call")
	}
	err = store.Each(ctx, s.DB.Reader(), func(rows *sql.Rows) error {
		var at Attendee
		if err := rows.Scan(&at.Kind, &at.ID, &at.Name, &at.Class); err != nil {
			return err
		}
		x, ok := byPerson[at.Kind+strconv.FormatInt(at.ID, 10)]
		switch {
		case !ok:
			at.Presence = "not_arrived"
			rc.NotArrived++
		case x.inside:
			at.Presence = "inside"
			rc.Inside++
		default:
			at.Presence = "left"
			rc.Left++
		}
		at.FirstIn, at.LastOut = store.FromNullMicros(x.in), store.FromNullMicros(x.out)
		if x.in.Valid && start != 0 && x.in.Int64 > start && at.Kind == "pupil" {
			at.Late = true
			rc.Late++
		}
		rc.People = append(rc.People, at)
		return nil
	}, `SELECT 'pupil', id, last_name || ' ' || first_name, class FROM pupils WHERE school_id = ?
		UNION ALL SELECT 'staff', id, full_name, '' FROM staff WHERE school_id = ?`, schoolID, schoolID)
	if err != nil {
		return RollCall{}, errs.Wrap(err, "roll-call")
	}
	if err := a.LogSchoolRead(ctx, p, "rollcall", schoolID); err != nil {
		return RollCall{}, errs.Wrap(err, "access log")
	}
	return rc, nil
}
