package alarm

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/store"
)

// Fanout reads the live feed once for all of a node's consoles. One reader
// follows the store (woken by the Bus after this node's commits, by a
// notification after another node's on PostgreSQL, and every fanoutPoll
// in case one was lost) and keeps the newest events in memory, each with its SSE
// frame encoded once and the scope columns consoles are chosen by; every
// console then takes, from memory, the events its person may see. Before,
// each console ran its own query on every wake-up, so a node with a
// thousand consoles open ran a thousand queries per alarm.
//
// A console whose cursor is older than what the memory holds (one that
// reconnects after a long gap, or asks for the whole history) reads the
// store with Feed until it has caught up, as every console did before.
type Fanout struct {
	s *Service

	mu    sync.RWMutex
	ring  []Frame // the newest events, in seq order: every one in (from, head]
	from  int64
	head  int64
	moved chan struct{} // closed when head moves
	subs  int
	stop  chan struct{} // closes the running reader; nil when none runs
	// failing is set while the reader's reads fail: consoles then read the
	// store themselves (and end, as they did before, if that fails too),
	// rather than wait on a memory that does not move.
	failing bool
}

// Frame is a live event as the fan-out hands it to consoles: the event (its
// alarm's JSON only inside the frame), its Server-Sent Events frame, and
// what decides who sees it.
type Frame struct {
	LiveEvent
	SSE   []byte
	scope eventScope
}

// eventScope is what decides who sees a live event: the columns the SQL
// scope of Feed (visible) reads, kept beside the event.
type eventScope struct {
	school, provider, police int64
	silent                   bool
	region, district         string
}

const (
	// fanoutKept is how many of the newest events the fan-out keeps: a
	// console that reconnects within them is served from memory.
	fanoutKept = 8192
	// fanoutPoll is how often the reader looks at the store without a
	// wake-up: should a node's notification (liveChannel) be lost, a
	// console hears of its alarms this late at worst.
	fanoutPoll = 2 * time.Second
	// fanoutPage is how many events the reader reads at once.
	fanoutPage = 1000
)

// Fanout returns the node's fan-out of the live feed.
func (s *Service) Fanout() *Fanout {
	s.fanoutOnce.Do(func() { s.fanout = &Fanout{s: s, moved: make(chan struct{})} })
	return s.fanout
}

// Subscribe registers a console; its reader runs while any console is
// registered. Call the returned function when the console goes.
func (f *Fanout) Subscribe() (unsubscribe func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.subs++
	if f.stop == nil {
		// A reader that starts again starts empty: what it held may be
		// stale, and a console whose cursor is older reads the store.
		f.stop = make(chan struct{})
		f.ring, f.head, f.from, f.failing = nil, -1, -1, false
		go f.run(f.stop)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.subs--; f.subs == 0 {
				close(f.stop)
				f.stop = nil
			}
		})
	}
}

// Moved returns a channel closed when new events are in memory.
func (f *Fanout) Moved() <-chan struct{} {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.moved
}

// Head is the seq up to which the fan-out holds every event; -1 before its
// reader has read.
func (f *Fanout) Head() int64 {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.head
}

// Since returns, oldest first, at most limit of the events after seq after
// that p may see, and the cursor to ask from next time (as Feed). ok is
// false when the memory does not hold every event after after (the reader
// has not read yet, or after is older than what it keeps): then read the
// store with Feed.
func (f *Fanout) Since(p auth.Principal, after int64, limit int) (evs []Frame, next int64, ok bool) {
	v := viewerOf(p)
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.head < 0 || after < f.from || f.failing {
		return nil, after, false
	}
	if after >= f.head {
		return nil, after, true
	}
	i := sort.Search(len(f.ring), func(i int) bool { return f.ring[i].Seq > after })
	for ; i < len(f.ring); i++ {
		if v.sees(&f.ring[i].scope) {
			evs = append(evs, f.ring[i])
			if len(evs) == limit {
				return evs, f.ring[i].Seq, true
			}
		}
	}
	return evs, f.head, true
}

// run is the reader: it reads what is new whenever the Bus wakes it, and
// every fanoutPoll, until stop is closed.
func (f *Fanout) run(stop chan struct{}) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-stop; cancel() }()
	// Other nodes' commits (PostgreSQL) wake the reader as this node's do.
	go f.s.DB.Listen(ctx, liveChannel, f.s.bus.Notify, func(err error) { f.s.Log.Warn("live feed: listening for other nodes' commits", "err", err) })
	poll := f.s.FeedPoll
	if poll <= 0 {
		poll = fanoutPoll
	}
	for {
		wake := f.s.bus.Wait()
		if err := f.read(ctx, stop); err != nil && ctx.Err() == nil {
			f.s.Log.Error("live feed", "err", err)
			f.fail(stop)
		}
		select {
		case <-stop:
			return
		case <-wake:
		case <-time.After(poll):
		}
	}
}

// read takes every event committed since the last read into memory, and
// wakes the consoles.
func (f *Fanout) read(ctx context.Context, stop chan struct{}) error {
	newest, err := f.s.LatestSeq(ctx)
	if err != nil {
		return err
	}
	f.mu.RLock()
	head := f.head
	f.mu.RUnlock()
	if head < 0 {
		// A new reader starts from now.
		f.publish(stop, nil, newest, newest)
		return nil
	}
	for head < newest {
		evs, next, err := f.s.readEvents(ctx, head, newest, "1=1", nil, fanoutPage)
		if err != nil {
			return err
		}
		if !f.publish(stop, evs, head, next) {
			return nil
		}
		head = next
	}
	return nil
}

// fail marks the reader failing and wakes the consoles, which read the
// store themselves until a read succeeds again.
func (f *Fanout) fail(stop chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stop != stop || f.failing {
		return
	}
	f.failing = true
	close(f.moved)
	f.moved = make(chan struct{})
}

// publish appends the events in (head, next] to memory, if this reader is
// still the running one; false when it is not. The memory keeps at least
// the newest fanoutKept events, and is cut back to them when it holds a
// quarter more (so that it is copied once every fanoutKept/4 events, not
// on every publish).
func (f *Fanout) publish(stop chan struct{}, evs []Frame, head, next int64) bool {
	for i := range evs {
		evs[i].SSE = evs[i].LiveEvent.EncodeSSE()
		evs[i].Alarm = nil // in the frame now: memory holds it once
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stop != stop {
		return false
	}
	if f.head < 0 {
		f.from = head
	}
	f.ring = append(f.ring, evs...)
	if len(f.ring) > fanoutKept+fanoutKept/4 {
		over := len(f.ring) - fanoutKept
		f.from = f.ring[over-1].Seq
		f.ring = append(make([]Frame, 0, fanoutKept+fanoutKept/4), f.ring[over:]...)
	}
	f.head, f.failing = next, false
	close(f.moved)
	f.moved = make(chan struct{})
	return true
}

// EncodeSSE is the event as a Server-Sent Events frame, its seq the id. A
// payload that is not JSON is left out rather than the event (a console
// still learns the alarm changed, and reads it).
func (e LiveEvent) EncodeSSE() []byte {
	data, err := json.Marshal(e)
	if err != nil {
		e.Alarm = nil
		data, _ = json.Marshal(e)
	}
	return fmt.Appendf(nil, "id: %d\nevent: %s\ndata: %s\n\n", e.Seq, e.Kind, data)
}

// viewer is who a console shows events to, in the terms of eventScope.
type viewer struct {
	can  bool
	kind auth.ScopeKind
	id   int64
	ref  string
}

func viewerOf(p auth.Principal) viewer {
	v := viewer{can: p.Can(auth.ReadAlarms), kind: p.Scope.Kind, ref: p.Scope.Ref}
	switch v.kind {
	case auth.ScopeSchool, auth.ScopeProvider, auth.ScopePoliceUnit:
		// An event without a provider or a police unit holds 0 there,
		// where the SQL holds NULL and matches no one: a scope whose id is
		// not a number (0) must not match it.
		v.id = p.Scope.ID()
		v.can = v.can && v.id > 0
	case auth.ScopeRegion, auth.ScopeDistrict:
		v.can = v.can && v.ref != "" // a school without a district holds ""
	}
	return v
}

// sees is visible (the SQL of Feed) for one event in memory: a school's
// staff see its alarms but the silent ones, the ПЦН and the ЦОУ those routed
// to them, the education department its region's or district's, the
// ministry and the administrator all; anyone else nothing.
// TestFanoutSeesWhatFeedSees holds the two to the same answers.
func (v viewer) sees(e *eventScope) bool {
	if !v.can {
		return false
	}
	switch v.kind {
	case auth.ScopeSchool:
		return e.school == v.id && !e.silent
	case auth.ScopeProvider:
		return e.provider == v.id
	case auth.ScopePoliceUnit:
		return e.police == v.id
	case auth.ScopeInstallation, auth.ScopeNation:
		return true
	case auth.ScopeRegion:
		return e.region == v.ref
	case auth.ScopeDistrict:
		return e.district == v.ref
	}
	return false
}

// readEvents reads the live events in (after, newest] that satisfy cond
// (over the event as e and its school as s), oldest first, at most limit,
// with the raised alarms' payloads filled in (fillRaised), and the cursor
// to read from next: newest, or the last event read when limit cut the
// read short.
func (s *Service) readEvents(ctx context.Context, after, newest int64, cond string, args []any, limit int) ([]Frame, int64, error) {
	out, err := store.Collect(ctx, s.DB.Reader(), func(rows *sql.Rows) (Frame, error) {
		var e Frame
		var at int64
		var payload string
		var provider, police sql.NullInt64
		var district sql.NullString
		err := rows.Scan(&e.Seq, &at, &e.Kind, &e.AlarmID, &payload, &e.scope.school, &provider, &police, &e.scope.silent, &e.scope.region, &district)
		e.At = store.FromMicros(at)
		e.Alarm = json.RawMessage(payload)
		e.scope.provider, e.scope.police, e.scope.district = provider.Int64, police.Int64, district.String
		return e, err
	}, `SELECT e.seq, e.at, e.kind, e.alarm_id, e.payload, e.school_id, e.provider_id, e.police_unit_id, e.silent, s.region_code, s.district_code
		FROM live_events e JOIN schools s ON s.id = e.school_id
		WHERE e.seq > ? AND e.seq <= ? AND `+cond+` ORDER BY e.seq LIMIT ?`, append(append([]any{after, newest}, args...), limit)...)
	if err != nil {
		return nil, after, err
	}
	next := newest
	if len(out) == limit {
		next = out[len(out)-1].Seq // more may follow
	}
	out, err = s.fillRaised(ctx, out)
	if err != nil {
		return nil, after, err
	}
	return out, next, nil
}
