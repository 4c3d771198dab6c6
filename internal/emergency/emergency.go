// Package emergency is the response to a threat at a school: an emergency
// (hold, secure, lockdown, evacuate, shelter) declared for one school or
// several in one action, confirmed against accidental activation, proposed by
// a panic alarm, changed and ended with every step in the audit trail and in
// an ordered log (each step one CAP alert for the lead's encoder); the action
// algorithm as versioned data with each person's checklist; the messages at
// declaration through the outbox, the live feed and the public-address
// devices; the roll-call from presence with the teachers' marks;
// reunification of children with authorised guardians; and drills, which run
// the same flow with every message marked as a drill, with their timings.
//
// Everything lives in the store: a restart in the middle of an emergency
// resumes it (the mode, the roll-call, the marks, the releases).
package emergency

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
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

// Mode is what everyone in the school does (the Standard Response Protocol).
type Mode string

const (
	Hold     Mode = "hold"     // stay in the room, clear the halls
	Secure   Mode = "secure"   // threat outside: get inside, lock outside doors
	Lockdown Mode = "lockdown" // threat inside: locks, lights, out of sight
	Evacuate Mode = "evacuate" // leave for the named assembly point
	Shelter  Mode = "shelter"  // the named hazard and its strategy
)

// Modes lists every mode.
var Modes = []Mode{Hold, Secure, Lockdown, Evacuate, Shelter}

// Scenario is what happened; it chooses the action algorithm.
type Scenario string

const (
	ArmedAttack    Scenario = "armed_attack"
	Explosion      Scenario = "explosion"
	HostageTaking  Scenario = "hostage_taking"
	BombThreat     Scenario = "bomb_threat"
	SuspiciousItem Scenario = "suspicious_item"
	Fire           Scenario = "fire"
	Other          Scenario = "other"
)

// Scenarios lists every scenario.
var Scenarios = []Scenario{ArmedAttack, Explosion, HostageTaking, BombThreat, SuspiciousItem, Fire, Other}

// State is where an emergency is.
type State string

const (
	Pending State = "pending" // declared from the school, waiting for its confirmation
	Live    State = "live"
	Ended   State = "ended"
)

// End reasons.
const (
	AllClear   = "all_clear"
	FalseAlarm = "false_alarm"
)

// Emergency is one school's emergency.
type Emergency struct {
	ID               int64      `json:"id"`
	Incident         string     `json:"incident"` // shared by the schools of one declaration
	SchoolID         int64      `json:"school_id"`
	State            State      `json:"state"`
	Mode             Mode       `json:"mode"`
	Scenario         Scenario   `json:"scenario"`
	Place            string     `json:"place,omitempty"`
	Drill            bool       `json:"drill"`
	Silent           bool       `json:"silent"`
	AlgorithmVersion int64      `json:"algorithm_version"`
	AlarmID          int64      `json:"alarm_id,omitempty"`
	DeclaredBy       string     `json:"declared_by"`
	DeclaredAt       time.Time  `json:"declared_at"`
	ConfirmedBy      string     `json:"confirmed_by,omitempty"`
	ConfirmedAt      *time.Time `json:"confirmed_at,omitempty"`
	EndedBy          string     `json:"ended_by,omitempty"`
	EndedAt          *time.Time `json:"ended_at,omitempty"`
	EndReason        string     `json:"end_reason,omitempty"`
	StaffTotal       int        `json:"staff_total"`
}

const emergencyCols = `e.id, e.incident, e.school_id, e.state, e.mode, e.scenario, e.place, e.drill, e.silent, e.algorithm_version, e.alarm_id,
	e.declared_by, e.declared_at, e.confirmed_by, e.confirmed_at, e.ended_by, e.ended_at, e.end_reason, e.staff_total`

func scanEmergency(sc interface{ Scan(...any) error }) (Emergency, error) {
	var e Emergency
	var alarmID, confirmed, ended sql.NullInt64
	var declared int64
	err := sc.Scan(&e.ID, &e.Incident, &e.SchoolID, &e.State, &e.Mode, &e.Scenario, &e.Place, &e.Drill, &e.Silent, &e.AlgorithmVersion, &alarmID,
		&e.DeclaredBy, &declared, &e.ConfirmedBy, &confirmed, &e.EndedBy, &ended, &e.EndReason, &e.StaffTotal)
	e.AlarmID = alarmID.Int64
	e.DeclaredAt = store.FromMicros(declared)
	e.ConfirmedAt, e.EndedAt = store.FromNullMicros(confirmed), store.FromNullMicros(ended)
	return e, err
}

// Service runs emergencies over one store.
type Service struct {
	DB     *store.DB
	Auth   *auth.Service
	Alarms *alarm.Service
	Now    func() time.Time
	// WebhookURL receives the command to each public-address device as a
	// signed webhook message (the installation's webhook); empty: none.
	WebhookURL string
	// PublicURL is the installation's address as staff reach it; when
	// set, a staff member's code line says to open PublicURL/staff.
	PublicURL string
	// DefaultPractical and DefaultBriefings are a school year's drill plan
	// where the school set none (instruction No. 117: one practical drill
	// and two briefings).
	DefaultPractical, DefaultBriefings int

	wake func()
}

// New returns a Service on the wall clock. wake is called after messages
// were committed (the delivery worker starts on them at once).
func New(db *store.DB, a *auth.Service, al *alarm.Service, wake func()) *Service {
	switch {
	case db == nil || a == nil || al == nil:
		panic("emergency.New: a store, auth and alarms are required")
	case wake == nil:
		panic("emergency.New: no wake (use func() {} to wake nothing)")
	}
	return &Service{DB: db, Auth: a, Alarms: al, Now: time.Now, DefaultPractical: 1, DefaultBriefings: 2, wake: wake}
}

// Declaration is what a person declares.
type Declaration struct {
	SchoolIDs []int64  `json:"school_ids"`
	Mode      Mode     `json:"mode"`
	Scenario  Scenario `json:"scenario"`
	// Place is the assembly point (evacuate) or the hazard (shelter).
	Place  string `json:"place,omitempty"`
	Drill  bool   `json:"drill,omitempty"`
	Silent bool   `json:"silent,omitempty"` // told to nobody inside the school, nor to guardians, until changed
}

// MaxSchools is how many schools one declaration may cover (a district).
const MaxSchools = 200

func validMode(m Mode) bool {
	return slices.Contains(Modes, m)
}

func validScenario(s Scenario) bool {
	return slices.Contains(Scenarios, s)
}

// checkMode checks a mode with its scenario and place.
func checkMode(m Mode, sc Scenario, place string) []*errs.Error {
	var probs []*errs.Error
	if !validMode(m) {
		probs = append(probs, errs.Invalidf("mode", "mode must be one of %v, got %q", Modes, m))
	}
	if !validScenario(sc) {
		probs = append(probs, errs.Invalidf("scenario", "scenario must be one of %v, got %q", Scenarios, sc))
	}
	switch msg := text.Check(place, text.Line); {
	case msg != "":
		probs = append(probs, errs.Invalidf("place", "place %s", msg))
	case utf8.RuneCountInString(place) > 200:
		probs = append(probs, errs.Invalidf("place", "place is at most 200 characters"))
	case m == Evacuate && place == "":
		probs = append(probs, errs.Invalidf("place", "an evacuation names its assembly point in place"))
	case m == Shelter && place == "":
		probs = append(probs, errs.Invalidf("place", "a shelter names its hazard in place"))
	}
	return probs
}

func (d *Declaration) validate() error {
	d.Place = strings.TrimSpace(d.Place)
	probs := checkMode(d.Mode, d.Scenario, d.Place)
	switch {
	case len(d.SchoolIDs) == 0:
		probs = append(probs, errs.Invalidf("school_ids", "name at least one school"))
	case len(d.SchoolIDs) > MaxSchools:
		probs = append(probs, errs.Invalidf("school_ids", "at most %d schools in one declaration, got %d", MaxSchools, len(d.SchoolIDs)))
	}
	seen := map[int64]bool{}
	for i, id := range d.SchoolIDs {
		if id <= 0 || seen[id] {
			probs = append(probs, errs.Invalidf(fmt.Sprintf("school_ids/%d", i), "school %d is not a school id or is named twice", id))
		}
		seen[id] = true
	}
	return errs.Of(probs)
}

// fromSchool reports whether a role declares from inside the school: such a
// declaration waits for its confirmation (against accidental activation).
func fromSchool(p auth.Principal) bool {
	return p.Role == auth.RoleDirector || p.Role == auth.RoleGuard
}

// Declare declares an emergency at each school of d. From the school (the
// director, the guard) it is pending until confirmed (Confirm); from the
// ЦОУ it is live at once. A school that already has an open emergency has
// it changed to d's mode instead of getting a second one. A school outside
// the person's scope is NotFound; a role that may not declare is Forbidden.
func (s *Service) Declare(ctx context.Context, p auth.Principal, d Declaration) ([]Emergency, error) {
	if err := d.validate(); err != nil {
		return nil, err
	}
	today := kztime.Today(s.Now())
	for _, id := range d.SchoolIDs {
		if err := registry.AtSchool(ctx, s.DB.Reader(), p, today, id, auth.DeclareEmergency); err != nil {
			return nil, err
		}
	}
	state := Live
	if fromSchool(p) {
		state = Pending
	}
	return s.declare(ctx, p, d, state, 0)
}

// declare writes the declaration in one transaction and announces the
// emergencies that went live.
func (s *Service) declare(ctx context.Context, p auth.Principal, d Declaration, state State, alarmID int64) ([]Emergency, error) {
	now := s.Now()
	incident := newIncident(now)
	var out []Emergency
	announced := false
	err := s.DB.InUrgentTx(ctx, func(tx *store.Tx) error {
		out, announced = out[:0], false
		// The live-feed lock first: every path that publishes takes it
		// before the rows it will hold (see alarm.Publish).
		if err := alarm.LockFeed(ctx, tx); err != nil {
			return err
		}
		version, err := currentAlgorithm(ctx, tx, now)
		if err != nil {
			return err
		}
		for _, school := range d.SchoolIDs {
			open, found, err := openAt(ctx, tx, school)
			if err != nil {
				return err
			}
			if found {
				// A second declaration changes the mode of the open one.
				e, err := s.change(ctx, tx, p, open, Change{Mode: d.Mode, Scenario: d.Scenario, Place: d.Place, Silent: &d.Silent}, now)
				if err != nil {
					return err
				}
				if state == Live && e.State == Pending {
					if e, err = s.confirm(ctx, tx, p, e, now); err != nil {
						return err
					}
				}
				announced = true
				out = append(out, e)
				continue
			}
			e := Emergency{Incident: incident, SchoolID: school, State: state, Mode: d.Mode, Scenario: d.Scenario, Place: d.Place, Drill: d.Drill,
				Silent: d.Silent, AlgorithmVersion: version, AlarmID: alarmID, DeclaredBy: p.Actor(), DeclaredAt: now}
			err = tx.QueryRowContext(ctx, `INSERT INTO emergencies (incident, school_id, state, mode, scenario, place, drill, silent, algorithm_version, alarm_id, declared_by, declared_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, e.Incident, school, string(state), string(e.Mode), string(e.Scenario), e.Place, e.Drill, e.Silent,
				version, nullID(alarmID), e.DeclaredBy, store.Micros(now)).Scan(&e.ID)
			if err != nil {
				if store.IsUniqueViolation(err) {
					return errs.E(errs.Conflict, "school_ids", "school %d got an emergency declared at the same moment; declare again to change it", school)
				}
				return errs.Wrap(err, "declare")
			}
			if err := s.snapshot(ctx, tx, e, now); err != nil {
				return err
			}
			if err := s.logStep(ctx, tx, e, "declared", p, now); err != nil {
				return err
			}
			if err := auth.Append(ctx, tx, now, p, "emergency.declare", fmt.Sprintf("emergency/%d", e.ID),
				map[string]any{"school_id": school, "mode": e.Mode, "scenario": e.Scenario, "place": e.Place, "drill": e.Drill, "silent": e.Silent, "state": e.State, "alarm_id": alarmID}); err != nil {
				return err
			}
			if state == Live {
				if err := s.announce(ctx, tx, e, "declared", now); err != nil {
					return err
				}
				announced = true
			} else if err := s.feed(ctx, tx, e, "emergency.pending", now); err != nil {
				return err
			}
			if e, _, err = getEmergency(ctx, tx, e.ID); err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.after(announced)
	return out, nil
}

// after wakes the delivery worker and the consoles once a transaction that
// queued messages and live events committed.
func (s *Service) after(messages bool) {
	if messages {
		s.wake()
	}
	s.Alarms.Bus().Notify()
}

func newIncident(now time.Time) string {
	var b [6]byte
	rand.Read(b[:])
	return now.UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b[:])
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// openAt returns the school's open (pending or live) emergency.
func openAt(ctx context.Context, q store.Querier, school int64) (Emergency, bool, error) {
	return emergencyWhere(ctx, q, "e.school_id = ? AND e.state <> 'ended'", school)
}

func getEmergency(ctx context.Context, q store.Querier, id int64) (Emergency, bool, error) {
	return emergencyWhere(ctx, q, "e.id = ?", id)
}

// emergencyWhere reads the one emergency where cond holds; found is false
// when there is none.
func emergencyWhere(ctx context.Context, q store.Querier, cond string, arg int64) (e Emergency, found bool, err error) {
	e, err = scanEmergency(q.QueryRowContext(ctx, "SELECT "+emergencyCols+" FROM emergencies e WHERE "+cond, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return e, false, nil
	}
	if err != nil {
		return e, false, errs.Wrap(err, "emergency")
	}
	return e, true, nil
}

// at applies the one scope rule to an emergency: NotFound unless its school
// is in p's scope (a silent one is not shown to the school's own staff),
// then Forbidden unless p's role may do perm.
func (s *Service) at(ctx context.Context, q store.Querier, p auth.Principal, id int64, perm auth.Permission) (Emergency, error) {
	e, found, err := getEmergency(ctx, q, id)
	if err != nil {
		return e, err
	}
	if found {
		err := registry.AtSchool(ctx, q, p, kztime.Today(s.Now()), e.SchoolID, perm)
		if errs.CodeOf(err) == errs.NotFound {
			found = false
		} else if err != nil && errs.CodeOf(err) != errs.Forbidden {
			return e, err
		}
		if e.Silent && p.Scope.Kind == auth.ScopeSchool {
			found = false
		}
	}
	return e, p.InScope(found, perm, fmt.Sprintf("emergency %d", id))
}

// Get returns an emergency the person may see.
func (s *Service) Get(ctx context.Context, p auth.Principal, id int64) (Emergency, error) {
	return s.at(ctx, s.DB.Reader(), p, id, auth.ReadEmergency)
}

// List returns the emergencies of a school, newest first.
func (s *Service) List(ctx context.Context, p auth.Principal, schoolID int64, limit int) ([]Emergency, error) {
	if err := registry.AtSchool(ctx, s.DB.Reader(), p, kztime.Today(s.Now()), schoolID, auth.ReadEmergency); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	hideSilent := "1=1"
	if p.Scope.Kind == auth.ScopeSchool {
		hideSilent = "NOT e.silent"
	}
	out, err := store.Collect(ctx, s.DB.Reader(), func(rows *sql.Rows) (Emergency, error) { return scanEmergency(rows) },
		"SELECT "+emergencyCols+" FROM emergencies e WHERE e.school_id = ? AND "+hideSilent+" ORDER BY e.id DESC LIMIT ?", schoolID, limit)
	if out == nil {
		out = []Emergency{}
	}
	return out, errs.Wrap(err, "emergencies")
}

// InForce lists the emergencies not yet ended at the schools in the
// person's scope, newest first (at most 50): what an operator's console
// shows above its queue. A school's own staff do not see a silent one, as
// List.
func (s *Service) InForce(ctx context.Context, p auth.Principal) ([]Emergency, error) {
	if err := p.Require(auth.ReadEmergency); err != nil {
		return nil, err
	}
	cond, args := registry.SchoolScope(p, "s", kztime.Today(s.Now()))
	hideSilent := "1=1"
	if p.Scope.Kind == auth.ScopeSchool {
		hideSilent = "NOT e.silent"
	}
	out, err := store.Collect(ctx, s.DB.Reader(), func(rows *sql.Rows) (Emergency, error) { return scanEmergency(rows) },
		"SELECT "+emergencyCols+" FROM emergencies e JOIN schools s ON s.id = e.school_id WHERE e.state <> 'ended' AND "+hideSilent+" AND "+cond+
			" ORDER BY e.id DESC LIMIT 50", args...)
	return out, errs.Wrap(err, "emergencies in force")
}

// Confirm turns a pending emergency live and announces it.
func (s *Service) Confirm(ctx context.Context, p auth.Principal, id int64) (Emergency, error) {
	return s.step(ctx, p, id, auth.DeclareEmergency, func(tx *store.Tx, e Emergency) (Emergency, error) {
		if e.State != Pending {
			return e, errs.E(errs.Conflict, "", "emergency %d is %s, not waiting for confirmation", id, e.State)
		}
		return s.confirm(ctx, tx, p, e, s.Now())
	})
}

// step runs do on emergency id in one urgent transaction, under the live
// feed's lock and after the scope rule for perm (see at); once it commits,
// the delivery worker and the consoles are woken.
func (s *Service) step(ctx context.Context, p auth.Principal, id int64, perm auth.Permission, do func(tx *store.Tx, e Emergency) (Emergency, error)) (Emergency, error) {
	var e Emergency
	err := s.DB.InUrgentTx(ctx, func(tx *store.Tx) error {
		if err := alarm.LockFeed(ctx, tx); err != nil {
			return err
		}
		var err error
		if e, err = s.at(ctx, tx, p, id, perm); err != nil {
			return err
		}
		e, err = do(tx, e)
		return err
	})
	if err != nil {
		return e, err
	}
	s.after(true)
	return e, nil
}

func (s *Service) confirm(ctx context.Context, tx *store.Tx, p auth.Principal, e Emergency, now time.Time) (Emergency, error) {
	if _, err := tx.ExecContext(ctx, "UPDATE emergencies SET state = 'live', confirmed_by = ?, confirmed_at = ? WHERE id = ?", p.Actor(), store.Micros(now), e.ID); err != nil {
		return e, errs.Wrap(err, "confirm")
	}
	e.State, e.ConfirmedBy, e.ConfirmedAt = Live, p.Actor(), &now
	if err := s.logStep(ctx, tx, e, "confirmed", p, now); err != nil {
		return e, err
	}
	if err := auth.Append(ctx, tx, now, p, "emergency.confirm", fmt.Sprintf("emergency/%d", e.ID), map[string]any{"mode": e.Mode}); err != nil {
		return e, err
	}
	if err := s.announce(ctx, tx, e, "declared", now); err != nil {
		return e, err
	}
	e, _, err := getEmergency(ctx, tx, e.ID)
	return e, err
}

// Change is a change of an open emergency; empty fields keep their value.
type Change struct {
	Mode     Mode     `json:"mode,omitempty"`
	Scenario Scenario `json:"scenario,omitempty"`
	Place    string   `json:"place,omitempty"`
	Silent   *bool    `json:"silent,omitempty"` // false lifts the silence: the school and the guardians are told now
}

// Update changes an open emergency's mode (lockdown → evacuate), scenario,
// place or silence; everyone told before is told the new mode.
func (s *Service) Update(ctx context.Context, p auth.Principal, id int64, c Change) (Emergency, error) {
	return s.step(ctx, p, id, auth.DeclareEmergency, func(tx *store.Tx, e Emergency) (Emergency, error) {
		return s.change(ctx, tx, p, e, c, s.Now())
	})
}

func (s *Service) change(ctx context.Context, tx *store.Tx, p auth.Principal, e Emergency, c Change, now time.Time) (Emergency, error) {
	if e.State == Ended {
		return e, errs.E(errs.Conflict, "", "emergency %d has ended", e.ID)
	}
	was := e
	if c.Mode != "" {
		e.Mode = c.Mode
	}
	if c.Scenario != "" {
		e.Scenario = c.Scenario
	}
	if p := strings.TrimSpace(c.Place); p != "" || c.Mode != "" {
		e.Place = p
	}
	if c.Silent != nil {
		e.Silent = *c.Silent
	}
	if err := errs.Of(checkMode(e.Mode, e.Scenario, e.Place)); err != nil {
		return was, err
	}
	if _, err := tx.ExecContext(ctx, "UPDATE emergencies SET mode = ?, scenario = ?, place = ?, silent = ? WHERE id = ?",
		string(e.Mode), string(e.Scenario), e.Place, e.Silent, e.ID); err != nil {
		return was, errs.Wrap(err, "change")
	}
	if err := s.logStep(ctx, tx, e, "updated", p, now); err != nil {
		return was, err
	}
	if err := auth.Append(ctx, tx, now, p, "emergency.change", fmt.Sprintf("emergency/%d", e.ID),
		map[string]any{"from": was.Mode, "mode": e.Mode, "scenario": e.Scenario, "place": e.Place, "silent": e.Silent}); err != nil {
		return was, err
	}
	if e.State != Live {
		return e, s.feed(ctx, tx, e, "emergency.pending", now)
	}
	// The first announcement when the silence is lifted; a change otherwise.
	kind := "updated"
	if was.Silent && !e.Silent {
		kind = "declared"
	}
	return e, s.announce(ctx, tx, e, kind, now)
}

// End ends an emergency: "all clear" (AllClear) or a false alarm
// (FalseAlarm), whose correction reaches everyone who got a message. Only
// the director and the ЦОУ end one; a pending one that nobody confirmed is
// cancelled the same way.
func (s *Service) End(ctx context.Context, p auth.Principal, id int64, reason string) (Emergency, error) {
	if reason != AllClear && reason != FalseAlarm {
		return Emergency{}, errs.Invalidf("reason", "reason must be %s or %s, got %q", AllClear, FalseAlarm, reason)
	}
	return s.step(ctx, p, id, auth.EndEmergency, func(tx *store.Tx, e Emergency) (Emergency, error) {
		if e.State == Ended {
			return e, errs.E(errs.Conflict, "", "emergency %d has already ended", id)
		}
		now := s.Now()
		if _, err := tx.ExecContext(ctx, "UPDATE emergencies SET state = 'ended', ended_by = ?, ended_at = ?, end_reason = ? WHERE id = ?",
			p.Actor(), store.Micros(now), reason, id); err != nil {
			return e, errs.Wrap(err, "end")
		}
		e.State, e.EndedBy, e.EndedAt, e.EndReason = Ended, p.Actor(), &now, reason
		kind := AllClear
		if reason == FalseAlarm {
			kind = "cancelled"
		}
		if err := s.logStep(ctx, tx, e, kind, p, now); err != nil {
			return e, err
		}
		if err := auth.Append(ctx, tx, now, p, "emergency.end", fmt.Sprintf("emergency/%d", id), map[string]any{"reason": reason}); err != nil {
			return e, err
		}
		return e, s.closing(ctx, tx, e, kind, now)
	})
}
