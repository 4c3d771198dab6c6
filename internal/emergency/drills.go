package emergency

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"qorgan/internal/alarm"
	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/kztime"
	"qorgan/internal/registry"
	"qorgan/internal/store"
	"qorgan/internal/text"
)

// SchoolYear is the school year (1 September to 31 August, Asia/Almaty)
// that t falls in, written "2026-2027".
func SchoolYear(t time.Time) string {
	d := kztime.Today(t)
	y := d.Year()
	if d.Month() < time.September {
		y--
	}
	return fmt.Sprintf("%d-%d", y, y+1)
}

// yearRange returns a school year's first instant and the next year's.
func yearRange(year string) (time.Time, time.Time, error) {
	a, b, ok := strings.Cut(year, "-")
	y, err1 := strconv.Atoi(a)
	y2, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || y2 != y+1 || y < 2000 || y > 2200 {
		return time.Time{}, time.Time{}, errs.Invalidf("year", "year is a school year such as 2026-2027, got %q", year)
	}
	from := time.Date(y, time.September, 1, 0, 0, 0, 0, kztime.Almaty)
	return from, from.AddDate(1, 0, 0), nil
}

// Plan is a school's drill plan for one school year and how far it got.
type Plan struct {
	SchoolID      int64      `json:"school_id"`
	Year          string     `json:"year"`
	Practical     int        `json:"practical"` // practical drills planned
	Briefings     int        `json:"briefings"` // briefings planned
	Default       bool       `json:"default"`   // the installation's plan: the school set none
	PracticalDone int        `json:"practical_done"`
	BriefingsDone int        `json:"briefings_done"`
	Done          bool       `json:"done"`
	Drills        []Report   `json:"drills"`
	BriefingList  []Briefing `json:"briefing_list"`
}

// Briefing is a briefing held at a school.
type Briefing struct {
	ID         int64  `json:"id"`
	HeldOn     string `json:"held_on"`
	Topic      string `json:"topic"`
	RecordedBy string `json:"recorded_by"`
}

// SetPlan sets a school's drill plan for a school year.
func (s *Service) SetPlan(ctx context.Context, p auth.Principal, schoolID int64, year string, practical, briefings int) error {
	var probs []*errs.Error
	if _, _, err := yearRange(year); err != nil {
		probs = append(probs, errs.As(err))
	}
	if practical < 0 || practical > 52 {
		probs = append(probs, errs.Invalidf("practical", "practical is 0–52 drills a year, got %d", practical))
	}
	if briefings < 0 || briefings > 52 {
		probs = append(probs, errs.Invalidf("briefings", "briefings is 0–52 a year, got %d", briefings))
	}
	if err := errs.Of(probs); err != nil {
		return err
	}
	if err := registry.AtSchool(ctx, s.DB.Reader(), p, kztime.Today(s.Now()), schoolID, auth.PlanDrills); err != nil {
		return err
	}
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO drill_plans (school_id, school_year, practical, briefings) VALUES (?, ?, ?, ?)
			ON CONFLICT (school_id, school_year) DO UPDATE SET practical = excluded.practical, briefings = excluded.briefings`, schoolID, year, practical, briefings); err != nil {
			return errs.Wrap(err, "drill plan")
		}
		return auth.Append(ctx, tx, s.Now(), p, "drills.plan", fmt.Sprintf("school/%d", schoolID), map[string]any{"year": year, "practical": practical, "briefings": briefings})
	})
}

// RecordBriefing records a briefing held at a school on a day (YYYY-MM-DD).
func (s *Service) RecordBriefing(ctx context.Context, p auth.Principal, schoolID int64, heldOn, topic string) (Briefing, error) {
	topic = strings.TrimSpace(topic)
	var probs []*errs.Error
	d, err := time.ParseInLocation(time.DateOnly, heldOn, kztime.Almaty)
	if err != nil || d.After(s.Now()) {
		probs = append(probs, errs.Invalidf("held_on", "held_on is a past or today's date, YYYY-MM-DD, got %q", heldOn))
	}
	if msg := text.Check(topic, text.Line); msg != "" || topic == "" || utf8.RuneCountInString(topic) > 300 {
		probs = append(probs, errs.Invalidf("topic", "topic is required: one line, at most 300 characters"))
	}
	if err := errs.Of(probs); err != nil {
		return Briefing{}, err
	}
	if err := registry.AtSchool(ctx, s.DB.Reader(), p, kztime.Today(s.Now()), schoolID, auth.PlanDrills); err != nil {
		return Briefing{}, err
	}
	b := Briefing{HeldOn: heldOn, Topic: topic, RecordedBy: p.Actor()}
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		now := s.Now()
		if err := tx.QueryRowContext(ctx, "INSERT INTO drill_briefings (school_id, held_on, topic, recorded_by, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
			schoolID, heldOn, topic, b.RecordedBy, store.Micros(now)).Scan(&b.ID); err != nil {
			return errs.Wrap(err, "briefing")
		}
		return auth.Append(ctx, tx, now, p, "drills.briefing", fmt.Sprintf("school/%d", schoolID), map[string]any{"briefing": b.ID, "held_on": heldOn})
	})
	return b, err
}

// plan reads a school's plan and counts without scope (DrillDone and
// YearReport check scope, or have none to check).
func (s *Service) plan(ctx context.Context, q store.Querier, schoolID int64, year string) (Plan, error) {
	from, to, err := yearRange(year)
	if err != nil {
		return Plan{}, err
	}
	pl := Plan{SchoolID: schoolID, Year: year, Drills: []Report{}, BriefingList: []Briefing{}}
	err = q.QueryRowContext(ctx, "SELECT practical, briefings FROM drill_plans WHERE school_id = ? AND school_year = ?", schoolID, year).Scan(&pl.Practical, &pl.Briefings)
	if errors.Is(err, sql.ErrNoRows) {
		pl.Practical, pl.Briefings, pl.Default, err = s.DefaultPractical, s.DefaultBriefings, true, nil
	}
	if err != nil {
		return pl, errs.Wrap(err, "drill plan")
	}
	// A practical drill counts once it ran: confirmed live and ended.
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM emergencies WHERE school_id = ? AND drill AND state = 'ended' AND declared_at >= ? AND declared_at < ? AND end_reason = ?`, schoolID, store.Micros(from), store.Micros(to), AllClear).Scan(&pl.PracticalDone); err != nil {
		return pl, errs.Wrap(err, "drills")
	}
	pl.BriefingList, err = store.Collect(ctx, q, func(rows *sql.Rows) (Briefing, error) {
		var b Briefing
		err := rows.Scan(&b.ID, &b.HeldOn, &b.Topic, &b.RecordedBy)
		return b, err
	}, "SELECT id, held_on, topic, recorded_by FROM drill_briefings WHERE school_id = ? AND held_on >= ? AND held_on < ? ORDER BY held_on, id",
		schoolID, from.Format(time.DateOnly), to.Format(time.DateOnly))
	if err != nil {
		return pl, errs.Wrap(err, "briefings")
	}
	if pl.BriefingList == nil {
		pl.BriefingList = []Briefing{}
	}
	pl.BriefingsDone = len(pl.BriefingList)
	pl.Done = pl.PracticalDone >= pl.Practical && pl.BriefingsDone >= pl.Briefings
	return pl, nil
}

// DrillDone reports whether a school held the drills and briefings of its
// plan in the school year (the roadmap's "drill done this year" indicator).
// It checks no scope: the indicator's caller does.
func (s *Service) DrillDone(ctx context.Context, schoolID int64, year string) (bool, error) {
	pl, err := s.plan(ctx, s.DB.Reader(), schoolID, year)
	return pl.Done, err
}

// YearReport is a school's after-action data for a school year: the plan,
// the briefings and every drill's report.
func (s *Service) YearReport(ctx context.Context, p auth.Principal, schoolID int64, year string) (Plan, error) {
	if _, _, err := yearRange(year); err != nil {
		return Plan{}, err
	}
	if err := registry.AtSchool(ctx, s.DB.Reader(), p, kztime.Today(s.Now()), schoolID, auth.ReadEmergency); err != nil {
		return Plan{}, err
	}
	pl, err := s.plan(ctx, s.DB.Reader(), schoolID, year)
	if err != nil {
		return pl, err
	}
	from, to, _ := yearRange(year)
	drills, err := store.Collect(ctx, s.DB.Reader(), func(rows *sql.Rows) (Emergency, error) { return scanEmergency(rows) },
		"SELECT "+emergencyCols+" FROM emergencies e WHERE e.school_id = ? AND e.drill AND e.declared_at >= ? AND e.declared_at < ? ORDER BY e.id",
		schoolID, store.Micros(from), store.Micros(to))
	if err != nil {
		return pl, errs.Wrap(err, "drills")
	}
	for _, e := range drills {
		r, err := s.report(ctx, s.DB.Reader(), e)
		if err != nil {
			return pl, err
		}
		pl.Drills = append(pl.Drills, r)
	}
	return pl, nil
}

// Timing is one measured moment of a response: when, and how long after
// the emergency went live.
type Timing struct {
	At      *time.Time `json:"at,omitempty"`
	Seconds *float64   `json:"seconds,omitempty"`
}

func timing(live time.Time, at *time.Time) Timing {
	if at == nil {
		return Timing{}
	}
	d := at.Sub(live).Seconds()
	return Timing{At: at, Seconds: &d}
}

// Timings are a response's times, taken automatically.
type Timings struct {
	Live           time.Time `json:"live"`             // confirmed (or declared live)
	StaffReached   Timing    `json:"staff_reached"`    // every staff message taken by its channel
	Secured        Timing    `json:"secured"`          // every teacher with a class confirmed lockdown or evacuation
	Accounted      Timing    `json:"accounted"`        // nobody unaccounted
	ProviderOnSite Timing    `json:"provider_on_site"` // the provider's group on site (the alarm's steps)
}

// Report is the after-action data of one emergency or drill.
type Report struct {
	Emergency      Emergency `json:"emergency"`
	Timings        Timings   `json:"timings"`
	StaffMessages  int       `json:"staff_messages"`
	StaffReached   int       `json:"staff_reached"`
	Teachers       int       `json:"teachers"`
	TeachersSecure int       `json:"teachers_secured"`
	RollCall       RollCall  `json:"rollcall"`
	Released       int       `json:"released"`
	Refused        int       `json:"refused"`
	Steps          []Step    `json:"steps"`
}

// Report returns an emergency's after-action data (a drill's report).
func (s *Service) Report(ctx context.Context, p auth.Principal, id int64) (Report, error) {
	e, err := s.Get(ctx, p, id)
	if err != nil {
		return Report{}, err
	}
	return s.report(ctx, s.DB.Reader(), e)
}

func (s *Service) report(ctx context.Context, q store.Querier, e Emergency) (Report, error) {
	r := Report{Emergency: e}
	live := e.DeclaredAt
	if e.ConfirmedAt != nil {
		live = *e.ConfirmedAt
	}
	r.Timings.Live = live
	var step sql.NullInt64
	if err := q.QueryRowContext(ctx, "SELECT announced_step FROM emergencies WHERE id = ?", e.ID).Scan(&step); err != nil {
		return r, errs.Wrap(err, "report")
	}
	if step.Valid {
		prefix := fmt.Sprintf("emergency/%d/step/%d/staff/", e.ID, step.Int64)
		var last sql.NullInt64
		if err := q.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN status = 'sent' THEN 1 ELSE 0 END), 0), MAX(sent_at) FROM outbox
			WHERE idempotency_key >= ? AND idempotency_key < ?`, prefix, prefix[:len(prefix)-1]+"0").Scan(&r.StaffMessages, &r.StaffReached, &last); err != nil {
			return r, errs.Wrap(err, "report")
		}
		if r.StaffMessages > 0 && r.StaffReached == r.StaffMessages {
			r.Timings.StaffReached = timing(live, store.FromNullMicros(last))
		}
	}
	var secured sql.NullInt64
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(secured_at), MAX(secured_at) FROM emergency_staff WHERE emergency_id = ? AND role = ? AND homeroom <> ''`,
		e.ID, string(Teacher)).Scan(&r.Teachers, &r.TeachersSecure, &secured); err != nil {
		return r, errs.Wrap(err, "report")
	}
	if r.Teachers > 0 && r.Teachers == r.TeachersSecure {
		r.Timings.Secured = timing(live, store.FromNullMicros(secured))
	}
	rc, _, err := readRollCall(ctx, q, e)
	if err != nil {
		return r, err
	}
	r.RollCall = rc
	r.Timings.Accounted = timing(live, rc.AccountedAt)
	// The provider's group on site: the emergency's alarm, or an alarm of
	// the school raised up to 15 minutes before the declaration.
	var onSite sql.NullInt64
	// The school's alarms in two halves, open and resolved, each read
	// through its own index (migration 00038).
	from, to := store.Micros(e.DeclaredAt.Add(-15*time.Minute)), store.Micros(live)
	if err := q.QueryRowContext(ctx, `SELECT MIN(st.at) FROM alarm_steps st WHERE st.step = 'on_site' AND st.alarm_id IN (
			SELECT id FROM alarms WHERE id = ?
			UNION ALL SELECT id FROM alarms WHERE state <> 'resolved' AND school_id = ? AND received_at >= ? AND received_at <= ?
			UNION ALL SELECT id FROM alarms WHERE state = 'resolved' AND school_id = ? AND received_at >= ? AND received_at <= ?)`,
		e.AlarmID, e.SchoolID, from, to, e.SchoolID, from, to).Scan(&onSite); err != nil {
		return r, errs.Wrap(err, "report")
	}
	r.Timings.ProviderOnSite = timing(live, store.FromNullMicros(onSite))
	if err := q.QueryRowContext(ctx, `SELECT COALESCE(SUM(CASE WHEN state = 'released' THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN state = 'refused' THEN 1 ELSE 0 END), 0)
		FROM emergency_reunions WHERE emergency_id = ?`, e.ID).Scan(&r.Released, &r.Refused); err != nil {
		return r, errs.Wrap(err, "report")
	}
	r.Steps, err = steps(ctx, q, e)
	return r, err
}

// Proposal is a panic alarm that proposes an emergency: open, at a school
// with none open, not yet turned into one.
type Proposal struct {
	Alarm    alarm.Alarm `json:"alarm"`
	Mode     Mode        `json:"mode"`     // the proposed mode
	Scenario Scenario    `json:"scenario"` // the proposed scenario
}

// proposing is the alarm types that propose an emergency.
var proposing = map[string]bool{"panic": true, "silent_panic": true, "duress": true, "holdup": true}

// Proposals lists the panic alarms in the person's scope that propose an
// emergency (a lockdown for an armed attack, the operator or director
// confirms with one action: ConfirmProposal). Proposals are read from the
// alarms themselves, so nothing is lost across a restart.
func (s *Service) Proposals(ctx context.Context, p auth.Principal) ([]Proposal, error) {
	if err := p.Require(auth.ConfirmProposal); err != nil {
		return nil, err
	}
	alarms, err := s.Alarms.List(ctx, p, false, 500)
	if err != nil {
		return nil, err
	}
	var panics []alarm.Alarm
	var ids, schools []int64
	for _, a := range alarms {
		if proposing[a.Type] && a.State != alarm.Resolved {
			panics = append(panics, a)
			ids = append(ids, a.ID)
			schools = append(schools, a.SchoolID)
		}
	}
	// Which of them already have an emergency, or a school with one not
	// ended: two reads for them all, however many panics a storm brings.
	declared, err := s.idsIn(ctx, "SELECT alarm_id FROM emergencies WHERE alarm_id IN (%s)", ids)
	if err != nil {
		return nil, err
	}
	busy, err := s.idsIn(ctx, "SELECT school_id FROM emergencies WHERE state <> 'ended' AND school_id IN (%s)", schools)
	if err != nil {
		return nil, err
	}
	out := []Proposal{}
	for _, a := range panics {
		if !declared[a.ID] && !busy[a.SchoolID] {
			out = append(out, Proposal{Alarm: a, Mode: Lockdown, Scenario: ArmedAttack})
		}
	}
	return out, nil
}

// idsIn runs query, whose %s is an IN list, over keys in batches and
// returns the ids it reads.
func (s *Service) idsIn(ctx context.Context, query string, keys []int64) (map[int64]bool, error) {
	found := map[int64]bool{}
	err := store.InBatches(keys, store.InList, func(ph string, args []any) error {
		return store.Each(ctx, s.DB.Reader(), func(rows *sql.Rows) error {
			var id int64
			err := rows.Scan(&id)
			found[id] = true
			return err
		}, fmt.Sprintf(query, ph), args...)
	})
	return found, errs.Wrap(err, "proposals")
}

// Confirmation is the one action that turns a proposal into a live
// emergency; empty fields take the proposal's (lockdown, armed attack).
type Confirmation struct {
	Mode     Mode     `json:"mode,omitempty"`
	Scenario Scenario `json:"scenario,omitempty"`
	Place    string   `json:"place,omitempty"`
	Drill    bool     `json:"drill,omitempty"`
}

// ConfirmProposal declares, live at once, the emergency a panic alarm
// proposes: silent when the alarm is. The ПЦН, the ЦОУ and the director do.
func (s *Service) ConfirmProposal(ctx context.Context, p auth.Principal, alarmID int64, c Confirmation) (Emergency, error) {
	if c.Mode == "" {
		c.Mode = Lockdown
	}
	if c.Scenario == "" {
		c.Scenario = ArmedAttack
	}
	a, err := s.Alarms.Get(ctx, p, alarmID)
	if errs.CodeOf(err) == errs.Forbidden {
		// The alarm exists in scope; the role's own refusal says more.
		err = p.Require(auth.ConfirmProposal)
	}
	if err != nil {
		return Emergency{}, err
	}
	if err := p.Require(auth.ConfirmProposal); err != nil {
		return Emergency{}, err
	}
	if !proposing[a.Type] {
		return Emergency{}, errs.E(errs.Conflict, "", "alarm %d is a %s, not a panic: it proposes no emergency", alarmID, a.Type)
	}
	d := Declaration{SchoolIDs: []int64{a.SchoolID}, Mode: c.Mode, Scenario: c.Scenario, Place: c.Place, Drill: c.Drill, Silent: a.Silent}
	if err := d.validate(); err != nil {
		return Emergency{}, err
	}
	es, err := s.declare(ctx, p, d, Live, alarmID)
	if err != nil {
		return Emergency{}, err
	}
	return es[0], nil
}

// DrillsDone says, for the roadmap's drill indicator, which schools have
// done the school year of asOf's drill plan (DrillDone, for every school at
// once): done holds each school with a plan, a drill or a briefing on
// record that year; rest is the verdict for every other school, which has
// the default plan and nothing done (done only when that plan asks for
// nothing).
func (s *Service) DrillsDone(ctx context.Context, asOf time.Time) (map[int64]bool, bool, error) {
	year := SchoolYear(asOf)
	from, to, err := yearRange(year)
	if err != nil {
		return nil, false, err
	}
	type counts struct{ practical, briefings, wantPractical, wantBriefings int }
	by := map[int64]*counts{}
	at := func(id int64) *counts {
		c := by[id]
		if c == nil {
			c = &counts{wantPractical: s.DefaultPractical, wantBriefings: s.DefaultBriefings}
			by[id] = c
		}
		return c
	}
	q := s.DB.Reader()
	err = store.Each(ctx, q, func(rows *sql.Rows) error {
		var id int64
		var c counts
		if err := rows.Scan(&id, &c.wantPractical, &c.wantBriefings); err != nil {
			return err
		}
		x := at(id)
		x.wantPractical, x.wantBriefings = c.wantPractical, c.wantBriefings
		return nil
	}, "SELECT school_id, practical, briefings FROM drill_plans WHERE school_year = ?", year)
	if err != nil {
		return nil, false, errs.Wrap(err, "drill plans")
	}
	// countInto reads a count by school (school_id, n) into the count field
	// names.
	countInto := func(field func(*counts) *int, query string, args ...any) error {
		return store.Each(ctx, q, func(rows *sql.Rows) error {
			var id int64
			var n int
			if err := rows.Scan(&id, &n); err != nil {
				return err
			}
			*field(at(id)) = n
			return nil
		}, query, args...)
	}
	// A practical drill counts once it ran: confirmed live and ended with
	// the all-clear (as plan counts it).
	err = countInto(func(c *counts) *int { return &c.practical },
		`SELECT school_id, COUNT(*) FROM emergencies WHERE drill AND state = 'ended' AND declared_at >= ? AND declared_at < ? AND end_reason = ? GROUP BY school_id`,
		store.Micros(from), store.Micros(to), AllClear)
	if err != nil {
		return nil, false, errs.Wrap(err, "drills")
	}
	err = countInto(func(c *counts) *int { return &c.briefings },
		"SELECT school_id, COUNT(*) FROM drill_briefings WHERE held_on >= ? AND held_on < ? GROUP BY school_id",
		from.Format(time.DateOnly), to.Format(time.DateOnly))
	if err != nil {
		return nil, false, errs.Wrap(err, "briefings")
	}
	done := make(map[int64]bool, len(by))
	for id, c := range by {
		done[id] = c.practical >= c.wantPractical && c.briefings >= c.wantBriefings
	}
	return done, s.DefaultPractical <= 0 && s.DefaultBriefings <= 0, nil
}
