package alarm

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/kztime"
	"qorgan/internal/store"
)

// LiveEvent is one entry of a console's live stream; Seq is its SSE id.
type LiveEvent struct {
	Seq     int64           `json:"seq"`
	At      time.Time       `json:"at"`
	Kind    string          `json:"kind"`
	AlarmID int64           `json:"alarm_id"`
	Alarm   json.RawMessage `json:"alarm"`
}

// liveFeedLock orders the transactions that append live events (see
// store.Tx.InOrder), so that a feed that has read up to some seq never sees
// a lower one appear later. On PostgreSQL it is a lock held to the commit,
// so a transaction that may publish takes it before any other lock it will
// hold — alarm rows, device rows, the audit head — or two such
// transactions could each wait for the other.
const liveFeedLock = 0x71_6c_69_76_65 // "qlive"

// liveChannel is notified (PostgreSQL NOTIFY) by every transaction that
// takes liveFeedLock, when it commits: every node's Fanout listens, so a
// console hears of an alarm another node committed at once, not at its
// next look at the store.
const liveChannel = "qorgan_live"

// Feed returns the live events after seq that the person may see, oldest
// first, and the cursor to read from next time. A console resumes with the
// last seq it saw (Last-Event-ID) and misses nothing. The cursor moves past
// events the person may not see as well, so a console that sees little (a
// school's guard, a district's ЦОУ) does not read the whole country's events
// again on every wake-up.
func (s *Service) Feed(ctx context.Context, p auth.Principal, after int64, limit int) ([]LiveEvent, int64, error) {
	if limit <= 0 || limit > 1000 {
		limit = 500
	}
	// Everything up to the newest seq is committed (live events commit in
	// seq order), so the range (after, newest] is complete.
	newest, err := s.LatestSeq(ctx)
	if err != nil {
		return nil, after, errs.Wrap(err, "live feed")
	}
	if newest <= after {
		return nil, after, nil
	}
	cond, args := visible(p, "e", kztime.Today(s.Now()))
	frames, next, err := s.readEvents(ctx, after, newest, cond, args, limit)
	if err != nil {
		return nil, after, errs.Wrap(err, "live feed")
	}
	out := make([]LiveEvent, len(frames))
	for i := range frames {
		out[i] = frames[i].LiveEvent
	}
	return out, next, nil
}

// fillRaised gives each raised alarm's event, stored without a payload
// (raiseAll), the alarm as it was raised: as the commit that raised it
// built it (keepRaised), or, on another node or after a restart, built
// from the alarm's row and kept, since every console that sees the alarm
// reads the same bytes.
func (s *Service) fillRaised(ctx context.Context, evs []Frame) ([]Frame, error) {
	at := map[int64][]int{} // alarm → its events without a payload
	var ids []int64
	s.mu.Lock()
	for i, e := range evs {
		if e.Kind != "alarm.raised" || len(e.Alarm) != 0 {
			continue
		}
		if b, ok := s.raised[e.AlarmID]; ok {
			evs[i].Alarm = b
			continue
		}
		if at[e.AlarmID] == nil {
			ids = append(ids, e.AlarmID)
		}
		at[e.AlarmID] = append(at[e.AlarmID], i)
	}
	s.mu.Unlock()
	err := store.InBatches(ids, store.InList, func(ph string, args []any) error {
		as, err := store.Collect(ctx, s.DB.Reader(), func(rows *sql.Rows) (Alarm, error) { return scanAlarm(rows) },
			"SELECT "+alarmCols+" FROM alarms a JOIN schools s ON s.id = a.school_id WHERE a.id IN ("+ph+")", args...)
		for j := range as {
			as[j] = asRaised(as[j], s.T1)
		}
		for j, b := range s.keepRaised(as) {
			for _, i := range at[as[j].ID] {
				evs[i].Alarm = b
			}
			delete(at, as[j].ID)
		}
		return err
	})
	if err != nil || len(at) == 0 {
		return evs, err
	}
	// Nothing deletes an alarm. Should a row be missing all the same, its
	// event is left out (a console cannot show an alarm it knows nothing
	// of) rather than stop every console's feed at it.
	for id := range at {
		s.Log.Error("live feed: a raised event's alarm is not stored; the event is left out", "alarm", id)
	}
	kept := evs[:0]
	for _, e := range evs {
		if _, missing := at[e.AlarmID]; !missing || e.Kind != "alarm.raised" || len(e.Alarm) != 0 {
			kept = append(kept, e)
		}
	}
	return kept, nil
}

// keepRaised builds the JSON of raised alarms (as asRaised gives them)
// and keeps it, so that the feed reads no alarm row for them again: the
// commit that raised them hands them over, and so does fillRaised when it
// read them. An alarm already kept keeps the bytes consoles were sent;
// what is kept for each alarm is returned.
func (s *Service) keepRaised(as []Alarm) []json.RawMessage {
	if len(as) == 0 {
		return nil
	}
	bs := make([]json.RawMessage, len(as))
	for i := range as {
		bs[i] = payload(&as[i])
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.raised)+len(as) > raisedKept {
		s.raised = map[int64]json.RawMessage{}
	}
	for i, a := range as {
		if b, ok := s.raised[a.ID]; ok {
			bs[i] = b
		} else {
			s.raised[a.ID] = bs[i]
		}
	}
	return bs
}

// raisedKept bounds how many raised alarms' JSON a node keeps: more than
// the consoles read back in a storm; past it the store is read again.
const raisedKept = 20_000

// asRaised is a, read from its row, as it was when raised: what the row
// keeps from then (where, what, when, routed to whom) and nothing that
// came after. The first escalation was due T1 after the commit; the
// raising node wrote that into the row, and this reads it back the same
// unless T1 changed between the two. The school's names are those of the
// moment: the raising node's (its route, up to routeTTL old) for the
// bytes it keeps, today's for bytes built from the row.
func asRaised(a Alarm, t1 time.Duration) Alarm {
	r := Alarm{ID: a.ID, SchoolID: a.SchoolID, SchoolName: a.SchoolName, SchoolNameKK: a.SchoolNameKK, DeviceID: a.DeviceID, Type: a.Type,
		Code: a.Code, Description: a.Description, Zone: a.Zone, Partition: a.Partition, Priority: a.Priority, Silent: a.Silent, State: Raised,
		ProviderID: a.ProviderID, PoliceUnitID: a.PoliceUnitID, ReceivedAt: a.ReceivedAt, CommittedAt: a.CommittedAt, Steps: []Step{}}
	if Priority(a.Priority) == PriorityAlarm {
		next := a.CommittedAt.Add(t1)
		r.NextEscalation = &next
	}
	return r
}

// Delivered tells the service that live events reached a console, so the
// first delivery of each raised alarm is on record (EN 50518 timings).
func (s *Service) Delivered(ctx context.Context, evs []LiveEvent) {
	var ids []int64
	for _, e := range evs {
		if e.Kind == "alarm.raised" {
			ids = append(ids, e.AlarmID)
		}
	}
	if len(ids) > 0 {
		// Recorded off the stream's path: a console must not wait for a write.
		go s.markDelivered(context.WithoutCancel(ctx), ids, s.Now())
	}
}

// LatestSeq is the newest live event id (a console that connects fresh starts
// from here unless it asks for history).
func (s *Service) LatestSeq(ctx context.Context) (int64, error) {
	var n int64
	err := s.DB.Reader().QueryRowContext(ctx, "SELECT COALESCE(MAX(seq), 0) FROM live_events").Scan(&n)
	return n, err
}

// Bulletin is a live event that is not an alarm's own step: an emergency
// declared, changed or ended. It goes to the same consoles as the school's
// alarms (the school's staff unless silent, the ПЦН and the ЦОУ routed to).
type Bulletin struct {
	Kind                   string // emergency.declared, …
	AlarmID                int64  // the alarm it follows from; 0 for none
	SchoolID               int64
	ProviderID, PoliceUnit int64 // where the school's alarms go today; 0 for none
	Silent                 bool
	Payload                []byte // JSON, shown as the event's "alarm"
	At                     time.Time
}

// Publish appends b to the live feed inside tx, in the feed's order (see
// liveFeedLock); call Bus().Notify after the commit.
func Publish(ctx context.Context, tx *store.Tx, b Bulletin) error {
	if err := tx.InOrderNotifying(ctx, liveFeedLock, liveChannel); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO live_events (at, kind, alarm_id, school_id, provider_id, police_unit_id, silent, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		store.Micros(b.At), b.Kind, b.AlarmID, b.SchoolID, nullID(b.ProviderID), nullID(b.PoliceUnit), b.Silent, string(b.Payload))
	return err
}

// LockFeed takes the live feed's order lock inside tx. A transaction that
// will Publish takes it first, before any row it will hold.
func LockFeed(ctx context.Context, tx *store.Tx) error {
	return tx.InOrderNotifying(ctx, liveFeedLock, liveChannel)
}
