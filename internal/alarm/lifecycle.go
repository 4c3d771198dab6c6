package alarm

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/kztime"
	"qorgan/internal/registry"
	"qorgan/internal/store"
)

// Alarm is an alarm and its response so far.
type Alarm struct {
	ID              int64      `json:"id"`
	SchoolID        int64      `json:"school_id"`
	SchoolName      string     `json:"school_name"`
	SchoolNameKK    string     `json:"school_name_kk"`
	DeviceID        int64      `json:"device_id,omitempty"`
	Type            string     `json:"type"`
	Code            string     `json:"code,omitempty"`
	Description     string     `json:"description,omitempty"`
	Zone            string     `json:"zone,omitempty"`
	Partition       string     `json:"partition,omitempty"`
	Priority        int        `json:"priority"`
	Silent          bool       `json:"silent"`
	State           State      `json:"state"`
	Resolution      string     `json:"resolution,omitempty"`
	Notes           string     `json:"notes,omitempty"`
	ProviderID      int64      `json:"provider_id,omitempty"`
	PoliceUnitID    int64      `json:"police_unit_id,omitempty"`
	ReceivedAt      time.Time  `json:"received_at"`
	CommittedAt     time.Time  `json:"committed_at"`
	FirstDeliveryAt *time.Time `json:"first_delivery_at,omitempty"`
	EscalationLevel int        `json:"escalation_level"`
	NextEscalation  *time.Time `json:"next_escalation_at,omitempty"`
	ResolvedAt      *time.Time `json:"resolved_at,omitempty"`
	Steps           []Step     `json:"steps"`
}

// Step is one entry of the response record.
type Step struct {
	At     time.Time `json:"at"`
	Party  Party     `json:"party"`
	Step   string    `json:"step"`
	UserID int64     `json:"user_id,omitempty"`
	Detail string    `json:"detail,omitempty"`
}

// AcknowledgedBy reports whether a party has acknowledged.
func (a Alarm) AcknowledgedBy(p Party) bool {
	return slices.ContainsFunc(a.Steps, func(s Step) bool { return s.Party == p && s.Step == "acknowledged" })
}

const alarmCols = `a.id, a.school_id, s.name_ru, s.name_kk, COALESCE(a.device_id, 0), a.type, a.code, a.description, a.zone, a.partition_no, a.priority, a.silent, a.state,
	a.resolution, a.notes, COALESCE(a.provider_id, 0), COALESCE(a.police_unit_id, 0), a.received_at, a.committed_at, a.first_delivery_at,
	a.escalation_level, a.next_escalation_at, a.resolved_at`

func scanAlarm(sc interface{ Scan(...any) error }) (Alarm, error) {
	var a Alarm
	var rec, com int64
	var first, next, res sql.NullInt64
	err := sc.Scan(&a.ID, &a.SchoolID, &a.SchoolName, &a.SchoolNameKK, &a.DeviceID, &a.Type, &a.Code, &a.Description, &a.Zone, &a.Partition, &a.Priority, &a.Silent, &a.State,
		&a.Resolution, &a.Notes, &a.ProviderID, &a.PoliceUnitID, &rec, &com, &first, &a.EscalationLevel, &next, &res)
	a.ReceivedAt, a.CommittedAt = store.FromMicros(rec), store.FromMicros(com)
	a.FirstDeliveryAt, a.NextEscalation, a.ResolvedAt = store.FromNullMicros(first), store.FromNullMicros(next), store.FromNullMicros(res)
	a.Steps = []Step{}
	return a, err
}

func getAlarm(ctx context.Context, q store.Querier, id int64) (Alarm, error) {
	a, err := scanAlarm(q.QueryRowContext(ctx, "SELECT "+alarmCols+" FROM alarms a JOIN schools s ON s.id = a.school_id WHERE a.id = ?", id))
	if err != nil {
		return a, err
	}
	a.Steps, err = store.Collect(ctx, q, func(rows *sql.Rows) (Step, error) {
		var st Step
		var at int64
		err := rows.Scan(&at, &st.Party, &st.Step, &st.UserID, &st.Detail)
		st.At = store.FromMicros(at)
		return st, err
	}, "SELECT at, party, step, COALESCE(user_id, 0), detail FROM alarm_steps WHERE alarm_id = ? ORDER BY id", id)
	return a, err
}

// inScope returns the SQL condition (over alarms or live_events aliased
// `alias`, with their school joined as `s`) for the alarms inside a person's
// scope: a school's, except its silent alarms, which the school's own staff
// never see; those routed to a provider's or a police unit's console; the
// schools' in a region, a district, the nation, the installation; none for
// a guardian. Whether the role may read alarms is a permission.
func inScope(p auth.Principal, alias string, today time.Time) (string, []any) {
	switch p.Scope.Kind {
	case auth.ScopeSchool:
		return fmt.Sprintf("%s.school_id = ? AND NOT %s.silent", alias, alias), []any{p.Scope.ID()}
	case auth.ScopeProvider:
		return alias + ".provider_id = ?", []any{p.Scope.ID()}
	case auth.ScopePoliceUnit:
		return alias + ".police_unit_id = ?", []any{p.Scope.ID()}
	}
	return registry.SchoolScope(p, "s", today)
}

// visible is inScope for a person whose role may read alarms, and nothing
// for anyone else.
func visible(p auth.Principal, alias string, today time.Time) (string, []any) {
	if !p.Can(auth.ReadAlarms) {
		return "1=0", nil
	}
	return inScope(p, alias, today)
}

// partyOf is the party a person acts for.
func partyOf(p auth.Principal) (Party, bool) {
	switch p.Role {
	case auth.RoleGuard, auth.RoleDirector:
		return PartySchool, true
	case auth.RolePCNOperator:
		return PartyPCN, true
	case auth.RoleCOUOperator:
		return PartyCOU, true
	}
	return "", false
}

// Get returns an alarm the person may see: NotFound outside their scope,
// Forbidden inside it for a role that may not read alarms.
func (s *Service) Get(ctx context.Context, p auth.Principal, id int64) (Alarm, error) {
	return s.visibleAlarm(ctx, s.DB.Reader(), p, id, auth.ReadAlarms)
}

// PressedBy is the login of the person whose panic action in the console
// raised a ("" for an alarm a device raised); a is an alarm the caller
// already read with Get, in the person's scope.
func (s *Service) PressedBy(ctx context.Context, a Alarm) (string, error) {
	var source, account string
	err := s.DB.Reader().QueryRowContext(ctx, "SELECT s.source, s.account FROM alarms a JOIN signals s ON s.id = a.signal_id WHERE a.id = ?", a.ID).Scan(&source, &account)
	if errors.Is(err, sql.ErrNoRows) || source != "staff" {
		return "", nil
	}
	return account, errs.Wrap(err, "who pressed")
}

// visibleAlarm reads an alarm for something the person does with it (perm),
// by the rule of auth.Principal.InScope.
func (s *Service) visibleAlarm(ctx context.Context, q store.Querier, p auth.Principal, id int64, perm auth.Permission) (Alarm, error) {
	cond, args := inScope(p, "a", kztime.Today(s.Now()))
	var n int
	err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM alarms a JOIN schools s ON s.id = a.school_id WHERE a.id = ? AND "+cond, append([]any{id}, args...)...).Scan(&n)
	if err != nil {
		return Alarm{}, errs.Wrap(err, "read alarm")
	}
	if err := p.InScope(n > 0, perm, fmt.Sprintf("alarm %d", id)); err != nil {
		return Alarm{}, err
	}
	a, err := getAlarm(ctx, q, id)
	if err != nil {
		return Alarm{}, errs.Wrap(err, "read alarm")
	}
	return a, nil
}

// scoped is a query over the alarms (a, their school joined as s) that
// satisfy where, in two halves that each read an index of their own: the
// alarms not yet resolved through alarms_open, a short list in id order,
// and the resolved ones through the index of where's scope (migration
// 00038). The returned arguments are args for each half.
func scoped(cols, where string, args []any) (string, []any) {
	half := "SELECT " + cols + " FROM alarms a JOIN schools s ON s.id = a.school_id WHERE "
	return half + "a.state <> 'resolved' AND " + where + " UNION ALL " + half + "a.state = 'resolved' AND " + where,
		append(append([]any(nil), args...), args...)
}

// List returns the alarms a person may see, newest first; open ones only
// unless all is set.
func (s *Service) List(ctx context.Context, p auth.Principal, all bool, limit int) ([]Alarm, error) {
	if err := p.Require(auth.ReadAlarms); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	q, args := listQuery(p, all, kztime.Today(s.Now()))
	out, err := store.Collect(ctx, s.DB.Reader(), func(rows *sql.Rows) (Alarm, error) { return scanAlarm(rows) }, q, append(args, limit)...)
	return out, errs.Wrap(err, "list alarms")
}

// listQuery is List's query; its last argument, the limit, is the caller's.
func listQuery(p auth.Principal, all bool, today time.Time) (string, []any) {
	cond, args := visible(p, "a", today)
	if all {
		q, args := scoped(alarmCols, cond, args)
		return "SELECT * FROM (" + q + ") x ORDER BY x.priority, x.id DESC LIMIT ?", args
	}
	return "SELECT " + alarmCols + " FROM alarms a JOIN schools s ON s.id = a.school_id WHERE a.state <> 'resolved' AND " + cond +
		" ORDER BY a.priority, a.id DESC LIMIT ?", args
}

// act runs one response step on an alarm the person may see, in one
// transaction with its audit entry and live event.
func (s *Service) act(ctx context.Context, p auth.Principal, id int64, action string, fn func(tx *store.Tx, a Alarm, party Party, now time.Time) (string, error)) (Alarm, error) {
	if _, err := s.visibleAlarm(ctx, s.DB.Reader(), p, id, auth.RespondAlarms); err != nil {
		return Alarm{}, err
	}
	party, ok := partyOf(p)
	if !ok {
		return Alarm{}, errs.E(errs.Forbidden, "", "role %s does not respond to alarms", p.Role)
	}
	now := s.Now()
	var out Alarm
	err := s.DB.InUrgentTx(ctx, func(tx *store.Tx) error {
		// The live-feed lock first, before any row or the audit head
		// (see liveFeedLock).
		if err := tx.InOrderNotifying(ctx, liveFeedLock, liveChannel); err != nil {
			return err
		}
		a, err := s.visibleAlarm(ctx, tx, p, id, auth.RespondAlarms)
		if err != nil {
			return err
		}
		detail, err := fn(tx, a, party, now)
		if err != nil {
			return err
		}
		if err := s.step(ctx, tx, id, party, action, p.UserID, detail, now); err != nil {
			if store.IsUniqueViolation(err) {
				return errs.E(errs.Conflict, "", "the %s has already acknowledged alarm %d", party, id)
			}
			return err
		}
		if err := auth.Append(ctx, tx, now, p, "alarm."+action, fmt.Sprintf("alarm/%d", id), map[string]any{"party": party, "detail": detail}); err != nil {
			return err
		}
		if err := s.publish(ctx, tx, "alarm."+action, id, now); err != nil {
			return err
		}
		out, err = getAlarm(ctx, tx, id)
		return err
	})
	if err != nil {
		return Alarm{}, err
	}
	s.bus.Notify()
	return out, nil
}

func (s *Service) setState(ctx context.Context, tx *store.Tx, id int64, st State) error {
	_, err := tx.ExecContext(ctx, "UPDATE alarms SET state = ? WHERE id = ?", string(st), id)
	return err
}

// Acknowledge records that a party has seen the alarm. Each party
// acknowledges separately; the ПЦН's acknowledgement stops escalation.
func (s *Service) Acknowledge(ctx context.Context, p auth.Principal, id int64) (Alarm, error) {
	return s.act(ctx, p, id, "acknowledged", func(tx *store.Tx, a Alarm, party Party, now time.Time) (string, error) {
		if a.State == Resolved {
			return "", errs.E(errs.Conflict, "", "alarm %d is resolved", id)
		}
		if a.AcknowledgedBy(party) {
			return "", errs.E(errs.Conflict, "", "the %s has already acknowledged alarm %d", party, id)
		}
		if a.State == Raised {
			if err := s.setState(ctx, tx, id, Acknowledged); err != nil {
				return "", err
			}
		}
		if party == PartyPCN {
			if _, err := tx.ExecContext(ctx, "UPDATE alarms SET next_escalation_at = NULL WHERE id = ?", id); err != nil {
				return "", err
			}
		}
		return fmt.Sprintf("after %s", now.Sub(a.CommittedAt).Round(time.Millisecond)), nil
	})
}

// Dispatch records that a responder was sent: the provider's mobile response
// group, or a police patrol.
func (s *Service) Dispatch(ctx context.Context, p auth.Principal, id int64, responder string) (Alarm, error) {
	responder = strings.TrimSpace(responder)
	return s.act(ctx, p, id, "dispatched", func(tx *store.Tx, a Alarm, party Party, now time.Time) (string, error) {
		if party == PartySchool {
			return "", errs.E(errs.Forbidden, "", "the school does not dispatch responders; the ПЦН and the ЦОУ do")
		}
		if responder == "" || utf8.RuneCountInString(responder) > 200 {
			return "", errs.Invalidf("responder", "name the responder (the response group or patrol), at most 200 characters")
		}
		if a.State == Resolved {
			return "", errs.E(errs.Conflict, "", "alarm %d is resolved", id)
		}
		if !a.AcknowledgedBy(party) {
			return "", errs.E(errs.Conflict, "", "acknowledge alarm %d before dispatching", id)
		}
		if a.State == Raised || a.State == Acknowledged {
			if err := s.setState(ctx, tx, id, Dispatched); err != nil {
				return "", err
			}
		}
		return responder, nil
	})
}

// ArriveOnSite records that a dispatched responder has arrived.
func (s *Service) ArriveOnSite(ctx context.Context, p auth.Principal, id int64, note string) (Alarm, error) {
	return s.act(ctx, p, id, "on_site", func(tx *store.Tx, a Alarm, party Party, now time.Time) (string, error) {
		dispatched := slices.ContainsFunc(a.Steps, func(st Step) bool { return st.Step == "dispatched" })
		if !dispatched {
			return "", errs.E(errs.Conflict, "", "nobody was dispatched to alarm %d yet", id)
		}
		if a.State == Resolved {
			return "", errs.E(errs.Conflict, "", "alarm %d is resolved", id)
		}
		if err := s.setState(ctx, tx, id, OnSite); err != nil {
			return "", err
		}
		return strings.TrimSpace(note), nil
	})
}

// Resolve closes an alarm as real, false, test or technical, with notes.
func (s *Service) Resolve(ctx context.Context, p auth.Principal, id int64, resolution, notes string) (Alarm, error) {
	if !slices.Contains(Resolutions, resolution) {
		return Alarm{}, errs.Invalidf("resolution", "resolution must be one of %v", Resolutions)
	}
	if utf8.RuneCountInString(notes) > 2000 {
		return Alarm{}, errs.Invalidf("notes", "notes must be at most 2000 characters")
	}
	return s.act(ctx, p, id, "resolved", func(tx *store.Tx, a Alarm, party Party, now time.Time) (string, error) {
		if a.State == Resolved {
			return "", errs.E(errs.Conflict, "", "alarm %d is resolved already", id)
		}
		if party == PartySchool && p.Role != auth.RoleDirector {
			return "", errs.E(errs.Forbidden, "", "a guard cannot close an alarm; the director, the ПЦН or the ЦОУ can")
		}
		_, err := tx.ExecContext(ctx, "UPDATE alarms SET state = ?, resolution = ?, notes = ?, resolved_at = ?, next_escalation_at = NULL WHERE id = ?",
			string(Resolved), resolution, notes, store.Micros(now), id)
		return resolution, err
	})
}

// markDelivered records the first time an alarm reached a console.
func (s *Service) markDelivered(ctx context.Context, ids []int64, at time.Time) {
	s.mu.Lock()
	var todo []int64
	for _, id := range ids {
		if !s.delivery[id] {
			s.delivery[id] = true
			todo = append(todo, id)
		}
	}
	if len(s.delivery) > 100000 {
		s.delivery = map[int64]bool{}
	}
	s.mu.Unlock()
	if len(todo) == 0 {
		return
	}
	// One statement for many alarms, in a few sizes kept prepared: a
	// console is fed every group commit's alarms at once.
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		return store.InChunks(todo, store.InList, func(ph string, args []any) error {
			_, err := tx.ExecRepeated(ctx, "UPDATE alarms SET first_delivery_at = ? WHERE first_delivery_at IS NULL AND id IN ("+ph+")", append([]any{store.Micros(at)}, args...)...)
			return err
		})
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		s.Log.Warn("record first delivery", "err", err)
	}
}
