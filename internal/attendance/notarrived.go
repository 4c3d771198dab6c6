package attendance

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/chore"
	"qorgan/internal/errs"
	"qorgan/internal/kztime"
	"qorgan/internal/notify"
	"qorgan/internal/registry"
	"qorgan/internal/store"
)

// NotArrivedRule is a school's choice to tell guardians, once a school day,
// that their child has not been recorded entering by a time of day («нет
// отметки о входе в школу к 08:30»). It is off unless the school sets it: a
// false "not arrived" frightens a parent, so the school switches it on when
// it trusts its turnstiles to record every pupil.
type NotArrivedRule struct {
	// At is the time of day (Asia/Almaty, "HH:MM") of the check; "" is off.
	At string `json:"at"`
	// Saturday says the school teaches on Saturdays; Sundays never. The
	// shift timetable has no days of the week, so this is where it is said.
	Saturday bool `json:"saturday"`
	// LastCheck is the most recent check of the school, if any.
	LastCheck *NotArrivedCheck `json:"last_check,omitempty"`
}

// NotArrivedCheck is what one day's check of a school did.
type NotArrivedCheck struct {
	Day       string    `json:"day"`
	CheckedAt time.Time `json:"checked_at"`
	Pupils    int       `json:"pupils"`
	Arrived   int       `json:"arrived"`
	Queued    int       `json:"queued"`  // messages queued to guardians
	Outcome   string    `json:"outcome"` // see the Outcome constants
}

// Outcomes of a school's check.
const (
	OutcomeSent          = "sent"            // the guardians of the pupils not arrived were told
	OutcomeTooFewArrived = "too_few_arrived" // fewer than MinArrived of the pupils had a pass: a holiday or the turnstiles down; nobody told
	OutcomeSeveralShifts = "several_shifts"  // the timetable has a second shift, whose pupils are not expected yet; nobody told
	OutcomeQuietHours    = "quiet_hours"     // the check time is inside quiet hours; nobody told
)

var hhmm = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)

// schoolShifts parses a school's stored timetable.
func schoolShifts(s string) []registry.Shift {
	var sh []registry.Shift
	json.Unmarshal([]byte(s), &sh)
	return sh
}

// NotArrivedRule returns a school's rule and its latest check, to the
// school's director and guard and the administrator.
func (s *Service) NotArrivedRule(ctx context.Context, p auth.Principal, schoolID int64) (NotArrivedRule, error) {
	rule, _, err := s.notArrivedRule(ctx, s.DB.Reader(), p, schoolID, auth.ReadMessages)
	if err != nil {
		return NotArrivedRule{}, err
	}
	var c NotArrivedCheck
	var at int64
	err = s.DB.Reader().QueryRowContext(ctx, `SELECT day, checked_at, pupils, arrived, queued, outcome FROM not_arrived_checks
		WHERE school_id = ? ORDER BY day DESC LIMIT 1`, schoolID).Scan(&c.Day, &at, &c.Pupils, &c.Arrived, &c.Queued, &c.Outcome)
	switch {
	case err == nil:
		c.CheckedAt = store.FromMicros(at)
		rule.LastCheck = &c
	case err != sql.ErrNoRows:
		return NotArrivedRule{}, errs.Wrap(err, "not-arrived rule")
	}
	return rule, nil
}

// notArrivedRule reads the rule and the timetable of a school in p's scope,
// for something p's role does with it (perm).
func (s *Service) notArrivedRule(ctx context.Context, q store.Querier, p auth.Principal, schoolID int64, perm auth.Permission) (NotArrivedRule, []registry.Shift, error) {
	var rule NotArrivedRule
	if err := registry.AtSchool(ctx, q, p, kztime.Today(s.Now()), schoolID, perm); err != nil {
		return rule, nil, err
	}
	var shifts string
	err := q.QueryRowContext(ctx, "SELECT s.not_arrived_at, s.saturday_lessons, s.shifts FROM schools s WHERE s.id = ?", schoolID).Scan(&rule.At, &rule.Saturday, &shifts)
	if err != nil {
		return rule, nil, errs.Wrap(err, "not-arrived rule")
	}
	return rule, schoolShifts(shifts), nil
}

// SetNotArrivedRule sets a school's rule, as its director or the
// administrator; audited. The time must fall inside the first shift, after
// it starts. A school with more than one shift is refused: Qorgan does not
// know which shift each pupil attends, and the second shift's guardians
// would be told their child had not arrived hours before lessons begin.
func (s *Service) SetNotArrivedRule(ctx context.Context, p auth.Principal, schoolID int64, in NotArrivedRule) (NotArrivedRule, error) {
	var out NotArrivedRule
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		_, shifts, err := s.notArrivedRule(ctx, tx, p, schoolID, auth.WriteMessageRules)
		if err != nil {
			return err
		}
		if in.At != "" {
			switch {
			case !hhmm.MatchString(in.At):
				return errs.Invalidf("at", "at must be a time of day HH:MM (Asia/Almaty), or empty for off; got %q", in.At)
			case len(shifts) > 1:
				return errs.Invalidf("at", "the school teaches in %d shifts, and Qorgan does not know which shift each pupil attends: "+
					"the second shift's guardians would be told their child has not arrived", len(shifts))
			case len(shifts) == 1 && (in.At <= shifts[0].Start || in.At >= shifts[0].End):
				return errs.Invalidf("at", "at %s must fall inside the school's shift, after it starts (%s–%s)", in.At, shifts[0].Start, shifts[0].End)
			}
		}
		if _, err := tx.ExecContext(ctx, "UPDATE schools SET not_arrived_at = ?, saturday_lessons = ?, updated_at = ? WHERE id = ?",
			in.At, in.Saturday, store.Micros(s.Now()), schoolID); err != nil {
			return err
		}
		out = NotArrivedRule{At: in.At, Saturday: in.Saturday}
		return auth.Append(ctx, tx, s.Now(), p, "school.not_arrived_rule", fmt.Sprintf("school/%d", schoolID), out)
	})
	if err != nil {
		return NotArrivedRule{}, errs.Wrap(err, "not-arrived rule")
	}
	return out, nil
}

// CheckNotArrived runs the not-arrived check of every school whose check
// time has come today (and passed by less than CheckWindow): each pupil
// with no pass today — the roll-call's "not arrived" — gets one
// pupil.not_arrived message to each guardian with consent on record, on
// the channels the pass messages use. Each school is checked once a day:
// its row in not_arrived_checks, taken first in the same transaction as the
// messages, is the claim, so a second run, a restart or another node
// checks nobody twice; and the outbox key (day, pupil, guardian, channel)
// would drop a repeat anyway. No school is checked on Sundays, nor on
// Saturdays unless it teaches then; and when fewer than MinArrived of its
// pupils have a pass (a holiday, a closed school, turnstiles down), nobody
// is told. It returns how many messages it queued.
func (n *Notifier) CheckNotArrived(ctx context.Context, db *store.DB) (int, error) {
	now := n.Now()
	local, day := kztime.Today(now), Day(now)
	if local.Weekday() == time.Sunday {
		return 0, nil
	}
	type due struct {
		id       int64
		at       time.Time
		saturday bool
		shifts   []registry.Shift
	}
	// Every school with the rule on and no check today (a row each, by a
	// partial index); whether its time has come is decided here.
	var schools []due
	err := store.Each(ctx, db.Reader(), func(rows *sql.Rows) error {
		var d due
		var at, shifts string
		if err := rows.Scan(&d.id, &at, &d.saturday, &shifts); err != nil {
			return err
		}
		t, err := time.ParseInLocation("2006-01-02 15:04", day+" "+at, kztime.Almaty)
		if err != nil || now.Before(t) || now.Sub(t) >= n.checkWindow() || (local.Weekday() == time.Saturday && !d.saturday) {
			return nil
		}
		d.at, d.shifts = t, schoolShifts(shifts)
		schools = append(schools, d)
		return nil
	}, `SELECT s.id, s.not_arrived_at, s.saturday_lessons, s.shifts FROM schools s
		WHERE s.not_arrived_at <> '' AND NOT EXISTS (SELECT 1 FROM not_arrived_checks c WHERE c.school_id = s.id AND c.day = ?) ORDER BY s.id`, day)
	if err != nil {
		return 0, fmt.Errorf("not-arrived check: %w", err)
	}
	// A school that fails is left unclaimed, for the next run; the others
	// go on.
	queued := 0
	var failed []error
	for _, d := range schools {
		if ctx.Err() != nil {
			return queued, ctx.Err()
		}
		k, err := n.checkSchool(ctx, db, d.id, day, d.at, d.shifts, now)
		if err != nil {
			failed = append(failed, fmt.Errorf("not-arrived check of school %d: %w", d.id, err))
		}
		queued += k
	}
	return queued, errors.Join(failed...)
}

func (n *Notifier) checkWindow() time.Duration {
	if n.CheckWindow <= 0 {
		return time.Hour
	}
	return n.CheckWindow
}

// checkSchool checks one school in one transaction, claiming its day first.
func (n *Notifier) checkSchool(ctx context.Context, db *store.DB, schoolID int64, day string, at time.Time, shifts []registry.Shift, now time.Time) (int, error) {
	c := NotArrivedCheck{Day: day, CheckedAt: now}
	err := db.InTx(ctx, func(tx *store.Tx) error {
		c.Pupils, c.Arrived, c.Queued, c.Outcome = 0, 0, 0, ""
		var claimed int64
		err := tx.QueryRowContext(ctx, `INSERT INTO not_arrived_checks (school_id, day, checked_at, outcome) VALUES (?, ?, ?, '')
			ON CONFLICT (school_id, day) DO NOTHING RETURNING school_id`, schoolID, day, store.Micros(now)).Scan(&claimed)
		if err == sql.ErrNoRows {
			return nil // checked already, by another run or node
		}
		if err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(pr.person_id) FROM pupils p
			LEFT JOIN presence pr ON pr.person_kind = 'pupil' AND pr.person_id = p.id AND pr.day = ? WHERE p.school_id = ?`, day, schoolID).Scan(&c.Pupils, &c.Arrived); err != nil {
			return err
		}
		switch {
		case len(shifts) > 1:
			c.Outcome = OutcomeSeveralShifts
		case n.quiet(at):
			c.Outcome = OutcomeQuietHours
		case c.Pupils == 0 || float64(c.Arrived) < n.minArrived()*float64(c.Pupils):
			c.Outcome = OutcomeTooFewArrived
		default:
			c.Outcome = OutcomeSent
			msgs, err := n.notArrivedMessages(ctx, tx, schoolID, day, at, now)
			if err != nil {
				return err
			}
			if c.Queued, err = notify.Enqueue(ctx, tx, msgs); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, "UPDATE not_arrived_checks SET pupils = ?, arrived = ?, queued = ?, outcome = ? WHERE school_id = ? AND day = ?",
			c.Pupils, c.Arrived, c.Queued, c.Outcome, schoolID, day)
		return err
	})
	if err != nil {
		return 0, err
	}
	if c.Queued > 0 && n.Queued != nil {
		n.Queued()
	}
	return c.Queued, nil
}

func (n *Notifier) minArrived() float64 {
	if n.MinArrived <= 0 {
		return 0.5
	}
	return n.MinArrived
}

// notArrivedMessages builds the messages about a school's pupils with no
// pass today to their consenting guardians.
func (n *Notifier) notArrivedMessages(ctx context.Context, tx *store.Tx, schoolID int64, day string, at, now time.Time) ([]notify.Message, error) {
	var msgs []notify.Message
	err := eachGuardian(ctx, tx, func(pupil int64, first string, g recipient) error {
		const kind = "pupil.not_arrived"
		body, err := notify.Render(g.lang, kind, notify.Vars{Name: first, At: at})
		if err != nil {
			return err
		}
		subject, _ := notify.Render(g.lang, "subject.attendance", notify.Vars{Name: first})
		base := notify.Message{Kind: kind, Body: body, Language: g.lang, SchoolID: schoolID, PupilID: pupil,
			CreatedAt: now, NotBefore: now, ExpiresAt: at.Add(2 * time.Hour)}
		msgs, err = n.appendMessages(msgs, g, base, subject, fmt.Sprintf("not-arrived/%s/pupil/%d/guardian/%d/", day, pupil, g.guardian), notify.Vars{Name: first, At: at})
		return err
	}, `p.school_id = ? AND NOT EXISTS (SELECT 1 FROM presence pr WHERE pr.person_kind = 'pupil' AND pr.person_id = p.id AND pr.day = ?)`, day, schoolID, day)
	if err != nil {
		return nil, err
	}
	return msgs, nil
}

// Run runs the schools' not-arrived checks (CheckNotArrived) at start and
// then every so often until ctx ends. A check is due once its school's time
// has come and stays due for CheckWindow, so a tick of a minute sends the
// messages within a minute of the time.
func (n *Notifier) Run(ctx context.Context, db *store.DB, every time.Duration, log *slog.Logger) {
	chore.Every(ctx, every, log, "not-arrived messages queued", "messages", func(ctx context.Context) (int64, error) {
		k, err := n.CheckNotArrived(ctx, db)
		return int64(k), err
	})
}
