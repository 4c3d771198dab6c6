package alarm

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/protocol/alarmcode"
	"qorgan/internal/registry"
	"qorgan/internal/store"
)

// Signal is one message from a device or a person, whatever way it came.
type Signal struct {
	Source     string // dc09, http, mqtt, staff
	Account    string // DC-09 account; for other sources set DeviceID or SchoolID
	DeviceID   int64
	SchoolID   int64
	Sequence   string // the sender's message number or event id
	Content    []byte // what identifies a retransmission together with Sequence
	Events     []alarmcode.Event
	ReceivedAt time.Time
	Remote     string
	Raw        string
}

func digest(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:16])
}

type deviceRef struct {
	id, school int64
}

// Commit stores a batch of signals in one transaction and raises their
// alarms; when it returns nil every signal is durable and the sender may be
// acknowledged. A signal already stored (same source, account, sequence and
// content) is skipped: the retransmission is acknowledged again, not raised
// again.
func (s *Service) Commit(ctx context.Context, sigs []Signal) error {
	if len(sigs) == 0 {
		return nil
	}
	devices, err := s.devicesOf(ctx, sigs)
	if err != nil {
		return err
	}
	now := s.Now()
	routes := map[int64]route{}
	var raised []int64
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		raised = raised[:0]
		for _, sg := range sigs {
			dev := devices[strings.ToUpper(sg.Account)]
			if sg.DeviceID != 0 {
				dev.id = sg.DeviceID
			}
			if sg.SchoolID != 0 {
				dev.school = sg.SchoolID
			}
			account := sg.Account
			if account == "" {
				account = fmt.Sprint(dev.id)
			}
			var sigID int64
			err := tx.QueryRowContext(ctx, `INSERT INTO signals (source, account, sequence, digest, device_id, school_id, received_at, committed_at, remote, raw)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, account, sequence, digest) DO NOTHING RETURNING id`,
				sg.Source, strings.ToUpper(account), sg.Sequence, digest(sg.Content), nullID(dev.id), nullID(dev.school),
				store.Micros(sg.ReceivedAt), store.Micros(now), sg.Remote, sg.Raw).Scan(&sigID)
			if errors.Is(err, sql.ErrNoRows) {
				continue // a retransmission
			}
			if err != nil {
				return fmt.Errorf("store signal: %w", err)
			}
			if dev.school == 0 {
				s.Log.Warn("signal from an unregistered sender stored without an alarm", "source", sg.Source, "account", sg.Account, "security", true)
				continue
			}
			if dev.id != 0 {
				restored, err := s.heard(ctx, tx, dev.id, sg.ReceivedAt, now)
				if err != nil {
					return err
				}
				raised = append(raised, restored...)
			}
			for _, ev := range sg.Events {
				prio, ok := priorityOf(ev.Type)
				if !ok {
					continue
				}
				rt, ok := routes[dev.school]
				if !ok {
					if rt, err = s.routeOf(ctx, tx, dev.school, now); err != nil {
						return err
					}
					routes[dev.school] = rt
				}
				id, err := s.raise(ctx, tx, raise{signal: sigID, school: dev.school, device: dev.id, ev: ev, prio: prio, rt: rt,
					received: sg.ReceivedAt, committed: now})
				if err != nil {
					return err
				}
				raised = append(raised, id)
			}
		}
		if len(raised) == 0 {
			return nil
		}
		return auth.Append(ctx, tx, now, auth.Principal{Login: "devices", Role: auth.RoleAdmin}, "alarm.raise",
			fmt.Sprintf("alarm/%d", raised[0]), map[string]any{"alarms": raised})
	})
	if err != nil {
		return err
	}
	if len(raised) > 0 {
		s.bus.Notify()
	}
	return nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// devicesOf finds the devices behind the DC-09 accounts of a batch.
func (s *Service) devicesOf(ctx context.Context, sigs []Signal) (map[string]deviceRef, error) {
	var accts []any
	seen := map[string]bool{}
	for _, sg := range sigs {
		a := strings.ToUpper(sg.Account)
		if a != "" && !seen[a] {
			seen[a] = true
			accts = append(accts, a)
		}
	}
	out := map[string]deviceRef{}
	if len(accts) == 0 {
		return out, nil
	}
	ph := strings.TrimSuffix(strings.Repeat("?,", len(accts)), ",")
	rows, err := s.DB.Reader().QueryContext(ctx, "SELECT dc09_account, id, school_id FROM devices WHERE dc09_account IN ("+ph+")", accts...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var a string
		var d deviceRef
		if err := rows.Scan(&a, &d.id, &d.school); err != nil {
			return nil, err
		}
		out[a] = d
	}
	return out, rows.Err()
}

// route is where a school's alarms go.
type route struct {
	provider, police int64
}

func (s *Service) routeOf(ctx context.Context, q store.Querier, school int64, now time.Time) (route, error) {
	var rt route
	v, ok, err := registry.ProviderOnDuty(ctx, q, school, auth.Today(now))
	if err != nil {
		return rt, err
	}
	if ok {
		rt.provider = v.ID
	}
	u, ok, err := registry.PoliceUnitFor(ctx, q, school)
	if err != nil {
		return rt, err
	}
	if ok {
		rt.police = u.ID
	}
	return rt, nil
}

type raise struct {
	signal, school, device int64
	ev                     alarmcode.Event
	prio                   Priority
	rt                     route
	received, committed    time.Time
}

// raise inserts one alarm with its first live event and, for alarms (not
// troubles), its escalation timer.
func (s *Service) raise(ctx context.Context, tx *store.Tx, r raise) (int64, error) {
	var timer any
	if r.prio == PriorityAlarm {
		timer = store.Micros(r.committed.Add(s.T1))
	}
	desc := r.ev.Description
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO alarms (signal_id, school_id, device_id, type, code, description, zone, partition_no, priority, silent, state,
		provider_id, police_unit_id, received_at, committed_at, next_escalation_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		nullID(r.signal), r.school, nullID(r.device), string(r.ev.Type), r.ev.Code, desc, r.ev.Zone, r.ev.Partition, int(r.prio), silent(r.ev.Type), string(Raised),
		nullID(r.rt.provider), nullID(r.rt.police), store.Micros(r.received), store.Micros(r.committed), timer).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("raise alarm: %w", err)
	}
	return id, s.publish(ctx, tx, "alarm.raised", id, r.committed)
}

// publish appends a live event carrying the alarm as it is now.
func (s *Service) publish(ctx context.Context, tx *store.Tx, kind string, alarmID int64, at time.Time) error {
	a, err := getAlarm(ctx, tx, alarmID)
	if err != nil {
		return err
	}
	payload, _ := json.Marshal(a)
	_, err = tx.ExecContext(ctx, `INSERT INTO live_events (at, kind, alarm_id, school_id, provider_id, police_unit_id, silent, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		store.Micros(at), kind, alarmID, a.SchoolID, nullID(a.ProviderID), nullID(a.PoliceUnitID), a.Silent, string(payload))
	return err
}

// heard records that a device spoke; if it had been declared lost, the
// "communication lost" alarm is resolved and the restore published.
func (s *Service) heard(ctx context.Context, tx *store.Tx, device int64, at, now time.Time) ([]int64, error) {
	var lost sql.NullInt64
	err := tx.QueryRowContext(ctx, "SELECT lost_alarm_id FROM device_status WHERE device_id = ?", device).Scan(&lost)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = tx.ExecContext(ctx, "INSERT INTO device_status (device_id, last_seen_at) VALUES (?, ?)", device, store.Micros(at))
		return nil, err
	case err != nil:
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, "UPDATE device_status SET last_seen_at = ?, lost_alarm_id = NULL WHERE device_id = ?", store.Micros(at), device); err != nil {
		return nil, err
	}
	if !lost.Valid {
		return nil, nil
	}
	if _, err := tx.ExecContext(ctx, "UPDATE alarms SET state = ?, resolution = 'technical', notes = 'communication restored', resolved_at = ?, next_escalation_at = NULL WHERE id = ? AND state <> ?",
		string(Resolved), store.Micros(now), lost.Int64, string(Resolved)); err != nil {
		return nil, err
	}
	if err := s.step(ctx, tx, lost.Int64, PartySystem, "resolved", 0, "communication restored", now); err != nil {
		return nil, err
	}
	return []int64{lost.Int64}, s.publish(ctx, tx, "alarm.restored", lost.Int64, now)
}

func (s *Service) step(ctx context.Context, tx *store.Tx, alarmID int64, party Party, step string, user int64, detail string, at time.Time) error {
	_, err := tx.ExecContext(ctx, "INSERT INTO alarm_steps (alarm_id, at, party, step, user_id, detail) VALUES (?, ?, ?, ?, ?, ?)",
		alarmID, store.Micros(at), string(party), step, nullID(user), detail)
	return err
}

// StaffPanic raises an alarm pressed by a signed-in staff member of a school
// (the console's panic action). requestID makes a repeated request harmless.
func (s *Service) StaffPanic(ctx context.Context, p auth.Principal, schoolID int64, silentAlarm bool, requestID, note string) error {
	if p.Scope.Kind != auth.ScopeSchool || p.Scope.ID() != schoolID || (p.Role != auth.RoleGuard && p.Role != auth.RoleDirector) {
		if p.Role != auth.RoleAdmin {
			return errs.NotFoundf("no school %d", schoolID)
		}
	}
	if requestID == "" || len(requestID) > 64 {
		return errs.Invalidf("request_id", "request_id is required (1–64 characters) so that a repeated press raises one alarm")
	}
	t := alarmcode.Panic
	if silentAlarm {
		t = alarmcode.SilentPanic
	}
	now := s.Now()
	return s.Commit(ctx, []Signal{{Source: "staff", Account: p.Login, SchoolID: schoolID, Sequence: requestID, Content: []byte(fmt.Sprint(schoolID, silentAlarm)),
		Events: []alarmcode.Event{{Type: t, Code: "staff", Description: "panic pressed in the console", Text: note, Known: true}}, ReceivedAt: now}})
}

// DeviceEvent is what a device posts to the HTTP endpoint.
type DeviceEvent struct {
	EventID string    `json:"event_id"`
	Type    string    `json:"type"` // panic, silent_panic, duress, fire, medical, tamper, test, …
	Zone    string    `json:"zone,omitempty"`
	At      time.Time `json:"at,omitempty"`
}

// DeviceSignal raises what an authenticated device posted.
func (s *Service) DeviceSignal(ctx context.Context, d registry.Device, ev DeviceEvent, remote string) error {
	if ev.EventID == "" || len(ev.EventID) > 64 {
		return errs.Invalidf("event_id", "event_id is required (1–64 characters): the device's own id of the event")
	}
	t := alarmcode.Type(ev.Type)
	if ev.Type == "test" {
		t = alarmcode.PeriodicTest
	}
	valid := false
	for _, x := range alarmcode.Types() {
		valid = valid || x == t
	}
	if !valid {
		return errs.Invalidf("type", "unknown event type %q", ev.Type)
	}
	received := s.Now()
	content, _ := json.Marshal(ev)
	return s.Commit(ctx, []Signal{{Source: "http", DeviceID: d.ID, SchoolID: d.SchoolID, Sequence: ev.EventID, Content: content,
		Events: []alarmcode.Event{{Type: t, Code: ev.Type, Zone: ev.Zone, Known: true}}, ReceivedAt: received, Remote: remote, Raw: string(content)}})
}
