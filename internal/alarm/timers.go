package alarm

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/protocol/alarmcode"
	"qorgan/internal/store"
)

// Run drives the escalation timers and device supervision until ctx ends.
// Timers live in the store, so a restarted server picks up where it was.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	var lastSupervision time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := s.Escalate(ctx); err != nil && ctx.Err() == nil {
			s.Log.Error("escalation", "err", err)
		}
		if time.Since(lastSupervision) >= 5*time.Second {
			lastSupervision = time.Now()
			if _, err := s.Supervise(ctx); err != nil && ctx.Err() == nil {
				s.Log.Error("supervision", "err", err)
			}
		}
	}
}

// Escalate raises the level of every alarm whose timer has run out: level 1
// (after T1 without the ПЦН's acknowledgement) goes to the ЦОУ supervisor and
// the school director, level 2 (after T2) to the region's education
// department and police. It returns how many alarms escalated.
func (s *Service) Escalate(ctx context.Context) (int, error) {
	now := s.Now()
	type due struct {
		id        int64
		level     int
		committed int64
		silent    bool
	}
	dues, err := store.Collect(ctx, s.DB.Reader(), func(rows *sql.Rows) (due, error) {
		var d due
		return d, rows.Scan(&d.id, &d.level, &d.committed, &d.silent)
	}, "SELECT id, escalation_level, committed_at, silent FROM alarms WHERE next_escalation_at IS NOT NULL AND next_escalation_at <= ? ORDER BY next_escalation_at LIMIT 200", store.Micros(now))
	if err != nil || len(dues) == 0 {
		return 0, err
	}
	err = s.DB.InUrgentTx(ctx, func(tx *store.Tx) error {
		if err := tx.InOrderNotifying(ctx, liveFeedLock, liveChannel); err != nil { // first: see liveFeedLock
			return err
		}
		for _, d := range dues {
			level := d.level + 1
			var next any
			to := ToSupervisorAndDirector
			if d.silent {
				to = ToSupervisor // a silent alarm is not announced inside the school
			}
			if level == 1 {
				next = d.committed + (s.T2).Microseconds()
			} else {
				to = ToRegion
			}
			// The timer may have been stopped since it was read.
			res, err := tx.ExecContext(ctx, "UPDATE alarms SET escalation_level = ?, next_escalation_at = ? WHERE id = ? AND next_escalation_at IS NOT NULL AND escalation_level = ?",
				level, next, d.id, d.level)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				continue
			}
			detail := EscalationDetail(level, to)
			if err := s.step(ctx, tx, d.id, PartySystem, "escalated", 0, detail, now); err != nil {
				return err
			}
			if err := auth.Append(ctx, tx, now, auth.Principal{Login: "escalation", Role: auth.RoleAdmin}, "alarm.escalated", fmt.Sprintf("alarm/%d", d.id), map[string]any{"level": level}); err != nil {
				return err
			}
			if err := s.publish(ctx, tx, "alarm.escalated", d.id, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	s.bus.Notify()
	return len(dues), nil
}

// silentSQL is true for a device (d, with its device_status st) that is
// supervised, not declared lost, and silent past its reporting interval at
// the time bound to its one parameter.
const silentSQL = "d.reporting_interval_s > 0 AND st.lost_alarm_id IS NULL AND COALESCE(st.last_seen_at, d.created_at) + CAST(d.reporting_interval_s AS BIGINT) * 1000000 < ?"

// afterSuperviseRead, when set (by a test), runs between Supervise's read
// of the silent devices and its transaction.
var afterSuperviseRead func()

// Supervise raises "communication lost" (a trouble, routed to the ПЦН) for
// every supervised device silent for longer than its reporting interval; a
// device never heard counts from its registration. The next signal from the
// device resolves it (see heard).
//
// The interval is an INTEGER column: on PostgreSQL it is widened to BIGINT
// before it becomes microseconds, or every interval over 2,147 s (SP1, SP2,
// DP1) would overflow a 32-bit product and fail the query for all devices.
func (s *Service) Supervise(ctx context.Context) (int, error) {
	now := s.Now()
	type lost struct {
		device, school, last int64
		known                bool
	}
	ls, err := store.Collect(ctx, s.DB.Reader(), func(rows *sql.Rows) (lost, error) {
		var l lost
		return l, rows.Scan(&l.device, &l.school, &l.last, &l.known)
	}, `SELECT d.id, d.school_id, COALESCE(st.last_seen_at, d.created_at), st.device_id IS NOT NULL FROM devices d
		LEFT JOIN device_status st ON st.device_id = d.id
		WHERE `+silentSQL+`
		LIMIT 500`, store.Micros(now))
	if err != nil || len(ls) == 0 {
		return 0, err
	}
	if afterSuperviseRead != nil {
		afterSuperviseRead()
	}
	var raised []int64 // devices declared lost
	err = s.DB.InUrgentTx(ctx, func(tx *store.Tx) error {
		raised = raised[:0]
		if err := tx.InOrderNotifying(ctx, liveFeedLock, liveChannel); err != nil { // first: see liveFeedLock
			return err
		}
		for _, l := range ls {
			// The list was read outside the transaction: a device heard
			// since, or declared lost since, is left alone.
			var last int64
			var known, silent bool
			err := tx.QueryRowContext(ctx, `SELECT COALESCE(st.last_seen_at, d.created_at), st.device_id IS NOT NULL,
				`+silentSQL+`
				FROM devices d LEFT JOIN device_status st ON st.device_id = d.id WHERE d.id = ?`, store.Micros(now), l.device).Scan(&last, &known, &silent)
			if errors.Is(err, sql.ErrNoRows) {
				continue // removed since
			}
			if err != nil {
				return err
			}
			if !silent {
				continue
			}
			l.last, l.known = last, known
			rt, err := s.routeOf(ctx, tx, l.school, now)
			if err != nil {
				return err
			}
			id, err := s.raiseOne(ctx, tx, raise{school: l.school, device: l.device, prio: PriorityTrouble, rt: rt, received: now, committed: now,
				ev: alarmcode.Event{Type: alarmcode.CommTrouble, Code: "supervision", Description: "communication lost: no report within the reporting interval", Known: true}})
			if err != nil {
				return err
			}
			q := "UPDATE device_status SET lost_alarm_id = ? WHERE device_id = ?"
			args := []any{id, l.device}
			if !l.known {
				q = "INSERT INTO device_status (lost_alarm_id, device_id, last_seen_at) VALUES (?, ?, ?)"
				args = append(args, l.last)
			}
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return err
			}
			if err := auth.Append(ctx, tx, now, auth.Principal{Login: "supervision", Role: auth.RoleAdmin}, "alarm.raise", fmt.Sprintf("alarm/%d", id), map[string]any{"device": l.device, "type": "comm_trouble"}); err != nil {
				return err
			}
			raised = append(raised, l.device)
		}
		return nil
	})
	if err != nil || len(raised) == 0 {
		return 0, err
	}
	s.heard.forget(raised...)
	s.bus.Notify()
	return len(raised), nil
}

// Whom an escalation goes to, as an escalated step's detail names them.
const (
	ToSupervisorAndDirector = "ЦОУ supervisor, school director"
	ToSupervisor            = "ЦОУ supervisor"
	ToRegion                = "region education department, regional police"
)

// EscalationDetail is an escalated step's detail, kept in English for the
// record and the API; the console says it in the page's language
// (ParseEscalation).
func EscalationDetail(level int, to string) string {
	return fmt.Sprintf("level %d: no ПЦН acknowledgement; to %s", level, to)
}

// ParseEscalation reads an escalated step's detail back: its level and whom
// it went to (one of the To… constants); ok is false for any other text.
func ParseEscalation(detail string) (level int, to string, ok bool) {
	rest, found := strings.CutPrefix(detail, "level ")
	if !found {
		return 0, "", false
	}
	n, to, found := strings.Cut(rest, ": no ПЦН acknowledgement; to ")
	if !found {
		return 0, "", false
	}
	level, err := strconv.Atoi(n)
	if err != nil {
		return 0, "", false
	}
	switch to {
	case ToSupervisorAndDirector, ToSupervisor, ToRegion:
		return level, to, true
	}
	return 0, "", false
}
