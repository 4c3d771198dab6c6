package alarm

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/kztime"
	"qorgan/internal/protocol/alarmcode"
	"qorgan/internal/registry"
	"qorgan/internal/store"
	"qorgan/internal/text"
)

// Signal is one message from a device or a person, whatever way it came.
type Signal struct {
	Source  string // dc09, http, mqtt, staff
	Account string // the sender's name as stored (a DC-09 account, a login); empty: the device id
	// DeviceID and SchoolID are the sender, as the gateway that took the
	// signal resolved it (a DC-09 account, a device credential, a
	// signed-in person): Commit looks nobody up. A signal with no school
	// is stored without an alarm.
	DeviceID int64
	SchoolID int64
	Sequence string // the sender's message number or event id
	Content  []byte // what identifies a retransmission together with Sequence
	// RetryWindow is how long after this signal a copy of it (the same
	// Source, Account, Sequence and Content) is its retransmission,
	// acknowledged but not stored or raised again; a copy that arrives
	// later is a new message, the sender's numbering having come round
	// again. Zero: a copy is always a retransmission (an event id that is
	// never reused).
	RetryWindow time.Duration
	Events      []alarmcode.Event
	// LinkTest marks a supervision message (a DC-09 NULL): it only tells
	// that the device is alive and is not stored as a signal.
	LinkTest   bool
	ReceivedAt time.Time
	Remote     string
	// Raw is what came in (a DC-09 frame, a JSON body), kept exactly
	// whatever its bytes: see rawColumns and RawOf.
	Raw []byte
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
// content, within the stored one's RetryWindow) is skipped: the
// retransmission is acknowledged again, not raised again. The database
// decides, so this holds across restarts and nodes. The DC-09 receiver's
// group commit sends hundreds of frames per call, so everything is written
// in multi-row statements with ids reserved beforehand.
func (s *Service) Commit(ctx context.Context, sigs []Signal) error {
	durable, err := s.CommitThen(ctx, sigs)
	if err != nil {
		return err
	}
	return durable()
}

// CommitThen is Commit for a caller with more to do before the batch must
// be on disk: it returns once the transaction has committed, and durable
// returns nil when the batch is on disk — only then may its senders be
// acknowledged. Consoles are woken for the batch's alarms once it is. The
// DC-09 receiver builds and commits its next batch meanwhile.
func (s *Service) CommitThen(ctx context.Context, sigs []Signal) (durable func() error, err error) {
	if len(sigs) == 0 {
		return noWait, nil
	}
	now := s.Now()
	var raised []int64
	raises := false
	for _, sg := range sigs {
		for _, ev := range sg.Events {
			if _, ok := priorityOf(ev.Type); ok {
				raises = true
			}
		}
	}
	var written map[int64]time.Time // devices whose last_seen_at this commit writes
	var kept []Alarm                // the raised alarms as raised, for the feed (keepRaised)
	onDisk, err := s.DB.InUrgentTxThen(ctx, func(tx *store.Tx) error {
		raised = raised[:0]
		written, kept = nil, nil
		// A batch that may raise alarms takes the live-feed lock before
		// anything else (see liveFeedLock).
		if raises {
			if err := tx.InOrderNotifying(ctx, liveFeedLock, liveChannel); err != nil {
				return err
			}
		}
		b := &batch{s: s, seen: make(map[int64]time.Time, len(sigs)), keep: true}
		ps := make([]pendingSignal, 0, len(sigs))
		for i := range sigs {
			sg := &sigs[i]
			dev := deviceRef{id: sg.DeviceID, school: sg.SchoolID}
			if dev.id != 0 && sg.ReceivedAt.After(b.seen[dev.id]) {
				b.seen[dev.id] = sg.ReceivedAt
			}
			if sg.LinkTest {
				continue
			}
			account := sg.Account
			if account == "" {
				account = fmt.Sprint(dev.id)
			}
			// The sender's account and number are text as stored and shown;
			// what else it sent stays exactly in the raw copy.
			ps = append(ps, pendingSignal{sg: sg, dev: dev, account: text.Escape(strings.ToUpper(account), text.Line),
				sequence: text.Escape(sg.Sequence, text.Line)})
		}
		w, err := windowOf(s.DB)
		if err != nil {
			return err
		}
		if err := insertSignals(ctx, tx, w, ps, now); err != nil {
			return err
		}
		// Alarms for the signals that were new (most signals raise one).
		rs := make([]raise, 0, len(ps))
		for _, p := range ps {
			if !p.stored {
				continue // a retransmission
			}
			if p.dev.school == 0 {
				s.Log.Warn("signal from an unregistered sender stored without an alarm", "source", p.sg.Source, "account", p.sg.Account, "security", true)
				continue
			}
			for _, ev := range p.sg.Events {
				prio, ok := priorityOf(ev.Type)
				if !ok {
					continue
				}
				rt, err := s.routeOf(ctx, tx, p.dev.school, now)
				if err != nil {
					return err
				}
				rs = append(rs, raise{signal: p.id, school: p.dev.school, device: p.dev.id, ev: ev, prio: prio, rt: rt, received: p.sg.ReceivedAt, committed: now})
			}
		}
		ids, err := b.raiseAll(ctx, tx, rs)
		if err != nil {
			return err
		}
		kept = b.raised
		raised = append(raised, ids...)
		restored, wr, err := s.heardAll(ctx, tx, b, now)
		if err != nil {
			return err
		}
		written = wr
		raised = append(raised, restored...)
		if len(raised) == 0 {
			return nil
		}
		return auth.Append(ctx, tx, now, auth.Principal{Login: "devices", Role: auth.RoleAdmin}, "alarm.raise",
			fmt.Sprintf("alarm/%d", raised[0]), map[string]any{"alarms": raised})
	})
	if err != nil {
		return nil, err
	}
	s.heard.wrote(written)
	s.keepRaised(kept)
	return func() error {
		if err := onDisk(); err != nil {
			return err
		}
		if len(raised) > 0 {
			s.bus.Notify()
		}
		return nil
	}, nil
}

func noWait() error { return nil }

type pendingSignal struct {
	sg       *Signal
	dev      deviceRef
	account  string
	sequence string
	digest   string
	id       int64
	stored   bool        // new, not a retransmission
	wkey     windowKey   // its key in the window, when the writer keeps one
	wprev    windowEntry // what the window held for wkey before this round
	whad     bool        // whether it held one
}

// signalKey is what a retransmission has in common with its first copy.
type signalKey struct{ source, account, sequence, digest string }

func (k signalKey) less(o signalKey) bool {
	if k.source != o.source {
		return k.source < o.source
	}
	if k.account != o.account {
		return k.account < o.account
	}
	if k.sequence != o.sequence {
		return k.sequence < o.sequence
	}
	return k.digest < o.digest
}

func (p *pendingSignal) key() signalKey {
	return signalKey{p.sg.Source, p.account, p.sequence, p.digest}
}

// retryUntil is the end of the signal's retransmission window, nil when a
// copy is always a retransmission.
func (p *pendingSignal) retryUntil() any {
	if p.sg.RetryWindow <= 0 {
		return nil
	}
	return store.Micros(p.sg.ReceivedAt.Add(p.sg.RetryWindow))
}

// retransmission reports whether q, which has p's key, is p's
// retransmission.
func (p *pendingSignal) retransmission(q *pendingSignal) bool {
	return p.sg.RetryWindow <= 0 || q.sg.ReceivedAt.Before(p.sg.ReceivedAt.Add(p.sg.RetryWindow))
}

var signalCols = []string{"id", "source", "account", "sequence", "digest", "device_id", "school_id", "received_at", "committed_at", "remote", "raw", "raw_bytes", "retry_until"}

// rawColumns is how a signal's raw copy is stored (migration 00018): as it
// came when it is text (UTF-8 with no control character but tab, LF and
// CR, which every well-formed DC-09 frame and JSON event is), with nothing
// more; otherwise as that text with the other bytes written \xHH, for
// reading, and exactly in raw_bytes. DC-09 checks a frame's CRC, not its
// characters: a NUL, Windows-1251 text or binary in its data is a frame
// still, and PostgreSQL refuses such bytes in TEXT where SQLite takes
// them. So both stores keep the same, and the good frame costs one check.
func rawColumns(raw []byte) (readable string, exact any) {
	s := string(raw)
	if text.Check(s, text.Lines) == "" {
		return s, nil
	}
	return text.Escape(s, text.Lines), raw
}

// RawOf returns exactly what the signal came in: raw_bytes when it was
// stored, else raw.
func RawOf(ctx context.Context, q store.Querier, signalID int64) ([]byte, error) {
	var raw string
	var exact []byte
	if err := q.QueryRowContext(ctx, "SELECT raw, raw_bytes FROM signals WHERE id = ?", signalID).Scan(&raw, &exact); err != nil {
		return nil, err
	}
	if exact != nil {
		return exact, nil
	}
	return []byte(raw), nil
}

// signalConflict keeps retransmissions out in the insert itself, with no
// query before it. A copy of a row that still catches copies (reused_by
// NULL, the unique index signals_retransmission) is skipped while it is
// within that row's window; once the window is over the same statement
// closes the old row (reused_by = the new id) and RETURNING says so, and
// the signal is inserted in the next round. Inserted rows return their own
// id with reused_by NULL.
//
// On SQLite the unique index holds only the signals with no window
// (retry_until NULL); those with one are settled against the writer's
// window before the insert (window.go). The clause's WHERE names that
// index there, and on PostgreSQL implies the wider one, which arbitrates
// every row (migration 00037).
const signalConflict = `ON CONFLICT (source, account, sequence, digest) WHERE reused_by IS NULL AND retry_until IS NULL
	DO UPDATE SET reused_by = excluded.id WHERE signals.retry_until <= excluded.received_at
	RETURNING id, reused_by`

// insertSignals writes the signals with reserved ids in multi-row
// statements and marks the new ones stored. One statement carries one
// signal per key (PostgreSQL's ON CONFLICT DO UPDATE may not meet a row
// twice): a later copy in the same batch is settled here when it falls in
// the first one's window, and waits for the next round when it does not.
// The rows go in key order: on PostgreSQL a conflict waits for, or locks,
// the row of its key, and two nodes that take the same keys in one order
// cannot each wait for the other. With a window (w, SQLite's writer) the
// signals that have one are settled against it instead of the index: a
// retransmission of a stored signal is not inserted, and one that reuses
// a number whose window is over names it in reused_by.
func insertSignals(ctx context.Context, tx *store.Tx, w *window, ps []pendingSignal, now time.Time) error {
	ids, err := tx.ReserveIDs(ctx, "signals", len(ps))
	if err != nil {
		return err
	}
	var wc *windowChanges
	if w != nil {
		var oldest time.Time
		for i := range ps {
			if at := ps[i].sg.ReceivedAt; ps[i].sg.RetryWindow > 0 && (oldest.IsZero() || at.Before(oldest)) {
				oldest = at
			}
		}
		if err := w.prepare(ctx, tx, now, oldest); err != nil {
			return err
		}
		wc = w.changes(tx)
	}
	byID := make(map[int64]int, len(ps))
	todo := make([]int, len(ps))
	for i := range ps {
		ps[i].id = ids[i]
		ps[i].digest = digest(ps[i].sg.Content)
		byID[ids[i]] = i
		todo[i] = i
	}
	for round := 0; len(todo) > 0; round++ {
		if round > len(ps)+1 {
			return fmt.Errorf("store signals: %d still conflicting after %d rounds", len(todo), round)
		}
		first := make(map[signalKey]int, len(todo))
		var this, next []int
		var reuses [][2]int64 // the stored signal, the one reusing its number
		for _, i := range todo {
			p := &ps[i]
			k := p.key()
			if j, ok := first[k]; ok {
				if !ps[j].retransmission(p) {
					next = append(next, i)
				}
				continue
			}
			first[k] = i
			if wc != nil && p.sg.RetryWindow > 0 {
				p.wkey = keyOf(k)
				e, ok := w.open[p.wkey]
				p.wprev, p.whad = e, ok
				if ok {
					if store.Micros(p.sg.ReceivedAt) < e.until {
						continue // a retransmission of a stored signal
					}
					reuses = append(reuses, [2]int64{e.id, p.id})
				}
			}
			this = append(this, i)
		}
		// With the writer's window, a signal that has a window of its own
		// was settled above and is outside the unique index: when every
		// one is such, nothing can conflict, and a plain insert stores
		// them all (a DC-09 storm), in any order, with nothing to return.
		settled := wc != nil
		for _, i := range this {
			settled = settled && ps[i].sg.RetryWindow > 0
		}
		if !settled {
			sort.Slice(this, func(a, b int) bool { return ps[this[a]].key().less(ps[this[b]].key()) })
		}
		rows := make([][]any, len(this))
		for n, i := range this {
			p := &ps[i]
			raw, exact := rawColumns(p.sg.Raw)
			rows[n] = []any{p.id, p.sg.Source, p.account, p.sequence, p.digest, nullID(p.dev.id), nullID(p.dev.school),
				store.Micros(p.sg.ReceivedAt), store.Micros(now), p.sg.Remote, raw, exact, p.retryUntil()}
		}
		var err error
		if settled {
			err = insertSettled(ctx, tx, rows)
			for _, i := range this {
				ps[i].stored = err == nil
			}
		} else {
			err = tx.InsertReturning(ctx, "signals", signalCols, signalConflict, rows, func(res *sql.Rows) error {
				var id int64
				var reusedBy sql.NullInt64
				if err := res.Scan(&id, &reusedBy); err != nil {
					return err
				}
				if reusedBy.Valid {
					if i, ok := byID[reusedBy.Int64]; ok {
						next = append(next, i) // the old copy is closed: this one goes in next round
					}
				} else if i, ok := byID[id]; ok {
					ps[i].stored = true
				}
				return nil
			})
		}
		if err != nil {
			return err
		}
		if wc != nil {
			for _, i := range this {
				if p := &ps[i]; p.stored && p.sg.RetryWindow > 0 {
					wc.remember(p.wkey, windowEntry{id: p.id, until: store.Micros(p.sg.ReceivedAt.Add(p.sg.RetryWindow))}, p.wprev, p.whad)
				}
			}
			for _, r := range reuses {
				if _, err := tx.ExecContext(ctx, "UPDATE signals SET reused_by = ? WHERE id = ?", r[1], r[0]); err != nil {
					return err
				}
			}
		}
		sort.Ints(next) // the batch's order: the earlier copy goes first
		todo = next
	}
	return nil
}

// insertSettled stores signals that cannot conflict, in multi-row
// statements with no RETURNING.
func insertSettled(ctx context.Context, tx *store.Tx, rows [][]any) error {
	b := tx.NewBulk("signals", signalCols...)
	for _, r := range rows {
		if err := b.Add(ctx, r...); err != nil {
			return fmt.Errorf("store signals: %w", err)
		}
	}
	if err := b.Flush(ctx); err != nil {
		return fmt.Errorf("store signals: %w", err)
	}
	return nil
}

// batch is what one Commit collects.
type batch struct {
	s    *Service
	seen map[int64]time.Time // device → latest signal
	// keep has raiseAll collect in raised each alarm as the feed would
	// build it from the row (asRaised); its JSON is built and handed to
	// the feed once the commit is done (Service.keepRaised), not while
	// the writer is held.
	keep   bool
	raised []Alarm
}

// raiseAll inserts alarms with reserved ids and their first live events, in
// multi-row statements. A raised alarm's event stores no payload (its JSON
// was more than half of the bytes an alarm wrote): the feed gives the
// alarm as raised (asRaised), from the bytes the commit kept (b.keep,
// Service.keepRaised) or else built from the alarm's row, which holds
// every field it had.
func (b *batch) raiseAll(ctx context.Context, tx *store.Tx, rs []raise) ([]int64, error) {
	if len(rs) == 0 {
		return nil, nil
	}
	ids, err := tx.ReserveIDs(ctx, "alarms", len(rs))
	if err != nil {
		return nil, err
	}
	if err := tx.InOrderNotifying(ctx, liveFeedLock, liveChannel); err != nil {
		return nil, err
	}
	alarms := tx.NewBulk("alarms", "id", "signal_id", "school_id", "device_id", "type", "code", "description", "zone", "partition_no", "priority", "silent", "state",
		"provider_id", "police_unit_id", "received_at", "committed_at", "next_escalation_at")
	live := tx.NewBulk("live_events", "at", "kind", "alarm_id", "school_id", "provider_id", "police_unit_id", "silent", "payload")
	for i, r := range rs {
		var timer any
		if r.prio == PriorityAlarm {
			timer = store.Micros(r.committed) + b.s.T1.Microseconds() // as asRaised reads it back
		}
		// An event's code, zone and partition come from the device: shown
		// to operators as text whatever bytes they held.
		sil := silent(r.ev.Type)
		code, desc := text.Escape(r.ev.Code, text.Line), text.Escape(r.ev.Description, text.Line)
		zone, part := text.Escape(r.ev.Zone, text.Line), text.Escape(r.ev.Partition, text.Line)
		if err := alarms.Add(ctx, ids[i], nullID(r.signal), r.school, nullID(r.device), string(r.ev.Type), code, desc, zone, part, int(r.prio), sil,
			string(Raised), nullID(r.rt.provider), nullID(r.rt.police), store.Micros(r.received), store.Micros(r.committed), timer); err != nil {
			return nil, fmt.Errorf("raise alarm: %w", err)
		}
		if err := live.Add(ctx, store.Micros(r.committed), "alarm.raised", ids[i], r.school, nullID(r.rt.provider), nullID(r.rt.police), sil, ""); err != nil {
			return nil, err
		}
		if b.keep {
			b.raised = append(b.raised, asRaised(Alarm{ID: ids[i], SchoolID: r.school, SchoolName: r.rt.schoolName, SchoolNameKK: r.rt.schoolNameKK, DeviceID: r.device, Type: string(r.ev.Type),
				Code: code, Description: desc, Zone: zone, Partition: part, Priority: int(r.prio), Silent: sil, ProviderID: r.rt.provider, PoliceUnitID: r.rt.police,
				ReceivedAt: store.FromMicros(store.Micros(r.received)), CommittedAt: store.FromMicros(store.Micros(r.committed))}, b.s.T1))
		}
	}
	if err := alarms.Flush(ctx); err != nil {
		return nil, fmt.Errorf("raise alarm: %w", err)
	}
	return ids, live.Flush(ctx)
}

// heardAll records when each device in the batch was last heard; devices
// that had been declared lost get their "communication lost" alarm
// resolved. A device this node wrote less than heardEvery before is left
// as it is (see heardLog); written is what the commit writes.
func (s *Service) heardAll(ctx context.Context, tx *store.Tx, b *batch, now time.Time) (restored []int64, written map[int64]time.Time, err error) {
	for id, at := range b.seen {
		if s.heard.recent(id, at) {
			delete(b.seen, id)
		}
	}
	if len(b.seen) == 0 {
		return nil, nil, nil
	}
	ids := make([]int64, 0, len(b.seen))
	for id := range b.seen {
		ids = append(ids, id)
	}
	var lost, lostDevice []int64
	// Statements of a few sizes, kept prepared: this runs on every commit.
	err = store.InChunks(ids, store.InList, func(ph string, args []any) error {
		rows, err := tx.QueryRepeated(ctx, "SELECT lost_alarm_id, device_id FROM device_status WHERE lost_alarm_id IS NOT NULL AND device_id IN ("+ph+")", args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, device int64
			if err := rows.Scan(&id, &device); err != nil {
				return err
			}
			lost, lostDevice = append(lost, id), append(lostDevice, device)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, nil, err
	}
	if len(lost) > 0 {
		// Restoring publishes: the live-feed lock before the device rows.
		if err := tx.InOrderNotifying(ctx, liveFeedLock, liveChannel); err != nil {
			return nil, nil, err
		}
	}
	// The upsert leaves lost_alarm_id alone: only the alarms read above are
	// resolved and unlinked below. One that Supervise commits meanwhile
	// stays linked, and the device's next signal resolves it.
	up := tx.NewBulk("device_status", "device_id", "last_seen_at", "lost_alarm_id").
		OnConflict("ON CONFLICT (device_id) DO UPDATE SET last_seen_at = excluded.last_seen_at")
	for id, at := range b.seen {
		if err := up.Add(ctx, id, store.Micros(at), nil); err != nil {
			return nil, nil, err
		}
	}
	if err := up.Flush(ctx); err != nil {
		return nil, nil, err
	}
	for i, id := range lost {
		if _, err := tx.ExecContext(ctx, "UPDATE device_status SET lost_alarm_id = NULL WHERE device_id = ? AND lost_alarm_id = ?", lostDevice[i], id); err != nil {
			return nil, nil, err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE alarms SET state = ?, resolution = 'technical', notes = 'communication restored', resolved_at = ?, next_escalation_at = NULL WHERE id = ? AND state <> ?",
			string(Resolved), store.Micros(now), id, string(Resolved)); err != nil {
			return nil, nil, err
		}
		if err := s.step(ctx, tx, id, PartySystem, "resolved", 0, CommunicationRestored, now); err != nil {
			return nil, nil, err
		}
		if err := s.publish(ctx, tx, "alarm.restored", id, now); err != nil {
			return nil, nil, err
		}
	}
	return lost, b.seen, nil
}

// CommunicationRestored is the detail of the step that resolves a lost
// device's alarm when it is heard again.
const CommunicationRestored = "communication restored"

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// route is where a school's alarms go.
type route struct {
	provider, police int64
	schoolName       string // Russian
	schoolNameKK     string
	expires          time.Time
}

// routeTTL is how long a school's routing is reused. A new contract or
// police unit applies to alarms within this time.
const routeTTL = 10 * time.Second

func (s *Service) routeOf(ctx context.Context, q store.Querier, school int64, now time.Time) (route, error) {
	s.mu.Lock()
	rt, ok := s.routes[school]
	s.mu.Unlock()
	if ok && now.Before(rt.expires) {
		return rt, nil
	}
	rt = route{expires: now.Add(routeTTL)}
	v, ok, err := registry.ProviderOnDuty(ctx, q, school, kztime.Today(now))
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
	if err := q.QueryRowContext(ctx, "SELECT name_ru, name_kk FROM schools WHERE id = ?", school).Scan(&rt.schoolName, &rt.schoolNameKK); err != nil {
		return rt, err
	}
	s.mu.Lock()
	if len(s.routes) > 50_000 {
		s.routes = map[int64]route{}
	}
	s.routes[school] = rt
	s.mu.Unlock()
	return rt, nil
}

type raise struct {
	signal, school, device int64
	ev                     alarmcode.Event
	prio                   Priority
	rt                     route
	received, committed    time.Time
}

// raiseOne inserts one alarm outside a batch (supervision).
func (s *Service) raiseOne(ctx context.Context, tx *store.Tx, r raise) (int64, error) {
	ids, err := (&batch{s: s}).raiseAll(ctx, tx, []raise{r})
	if err != nil {
		return 0, err
	}
	return ids[0], nil
}

// publish appends a live event carrying the alarm as it is now.
func (s *Service) publish(ctx context.Context, tx *store.Tx, kind string, alarmID int64, at time.Time) error {
	a, err := getAlarm(ctx, tx, alarmID)
	if err != nil {
		return err
	}
	if err := tx.InOrderNotifying(ctx, liveFeedLock, liveChannel); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO live_events (at, kind, alarm_id, school_id, provider_id, police_unit_id, silent, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		store.Micros(at), kind, alarmID, a.SchoolID, nullID(a.ProviderID), nullID(a.PoliceUnitID), a.Silent, string(payload(&a)))
	return err
}

func (s *Service) step(ctx context.Context, tx *store.Tx, alarmID int64, party Party, step string, user int64, detail string, at time.Time) error {
	_, err := tx.ExecContext(ctx, "INSERT INTO alarm_steps (alarm_id, at, party, step, user_id, detail) VALUES (?, ?, ?, ?, ?, ?)",
		alarmID, store.Micros(at), string(party), step, nullID(user), detail)
	return err
}

// StaffPanic raises an alarm pressed by a signed-in staff member of a school
// (the console's panic action). requestID makes a repeated request harmless.
func (s *Service) StaffPanic(ctx context.Context, p auth.Principal, schoolID int64, silentAlarm bool, requestID, note string) error {
	// A school the person cannot see does not exist for them; one they can
	// see but not act in is forbidden (only its own staff, and the
	// administrator, press its panic button).
	if err := registry.AtSchool(ctx, s.DB.Reader(), p, kztime.Today(s.Now()), schoolID, auth.RaisePanic); err != nil {
		return err
	}
	if requestID == "" || len(requestID) > 64 {
		return errs.Invalidf("request_id", "request_id is required (1–64 characters) so that a repeated press raises one alarm")
	}
	t := alarmcode.Panic
	if silentAlarm {
		t = alarmcode.SilentPanic
	}
	s.Urgent.Begin()
	defer s.Urgent.End()
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
	// The event's id and zone are one line of text, as in a JSON body; an
	// event over MQTT is checked here only.
	if msg := text.Check(ev.EventID, text.Line); msg != "" {
		return errs.Invalidf("event_id", "event_id %s", msg)
	}
	if msg := text.Check(ev.Zone, text.Line); msg != "" {
		return errs.Invalidf("zone", "zone %s", msg)
	}
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
	s.Urgent.Begin()
	defer s.Urgent.End()
	received := s.Now()
	// A resend is the same event id, type and zone; the device may stamp it anew.
	content := []byte(ev.EventID + "|" + ev.Type + "|" + ev.Zone)
	raw, _ := json.Marshal(ev)
	return s.Commit(ctx, []Signal{{Source: "http", DeviceID: d.ID, SchoolID: d.SchoolID, Sequence: ev.EventID, Content: content,
		Events: []alarmcode.Event{{Type: t, Code: ev.Type, Zone: ev.Zone, Known: true}}, ReceivedAt: received, Remote: remote, Raw: raw}})
}
