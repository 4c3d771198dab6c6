package access

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"qorgan/internal/errs"
	"qorgan/internal/kztime"
	"qorgan/internal/store"
)

type person struct {
	kind string
	id   int64
}

// resolve matches credentials to the school's pupils and staff (on the read
// pool, before the write transaction).
func (s *Service) resolve(ctx context.Context, schoolID int64, events []PassEvent) (map[string]person, error) {
	out := map[string]person{}
	var cards, tokens []string
	for _, e := range events {
		switch {
		case strings.HasPrefix(e.PhoneToken, "pupil:"):
			var id int64
			fmt.Sscanf(e.PhoneToken, "pupil:%d", &id)
			out[e.PhoneToken] = person{"pupil", id}
		case e.CardUID != "":
			cards = append(cards, e.CardUID)
		default:
			tokens = append(tokens, e.PhoneToken)
		}
	}
	q := s.DB.Reader()
	lookup := func(query string, keys []string, kind string) error {
		return store.InBatches(keys, store.InList, func(ph string, args []any) error {
			return store.Each(ctx, q, func(rows *sql.Rows) error {
				var key string
				var id int64
				if err := rows.Scan(&key, &id); err != nil {
					return err
				}
				out[key] = person{kind, id}
				return nil
			}, fmt.Sprintf(query, ph), append([]any{schoolID}, args...)...)
		})
	}
	if err := lookup("SELECT card_uid, id FROM staff WHERE school_id = ? AND card_uid IN (%s)", cards, "staff"); err != nil {
		return nil, err
	}
	if err := lookup("SELECT card_uid, id FROM pupils WHERE school_id = ? AND card_uid IN (%s)", cards, "pupil"); err != nil {
		return nil, err
	}
	if err := lookup("SELECT phone_token, id FROM pupils WHERE school_id = ? AND phone_token IN (%s)", tokens, "pupil"); err != nil {
		return nil, err
	}
	return out, nil
}

// Day is the school day (Asia/Almaty) of an instant.
func Day(t time.Time) string { return kztime.Today(t).Format(time.DateOnly) }

func (s *Service) record(ctx context.Context, schoolID, deviceID int64, events []PassEvent, manual bool, actor string, now time.Time) (Result, error) {
	who, err := s.resolve(ctx, schoolID, events)
	if err != nil {
		return Result{}, errs.Wrap(err, "resolve credentials")
	}
	passes := make([]Pass, len(events))
	for i, e := range events {
		cred := e.CardUID
		if cred == "" {
			cred = e.PhoneToken
		}
		p := Pass{SchoolID: schoolID, DeviceID: deviceID, EventID: e.EventID, At: e.At.UTC(), ReceivedAt: now.UTC(), Direction: e.Direction,
			Credential: cred, PersonKind: "unknown", Manual: manual, actor: actor}
		if w, ok := who[cred]; ok {
			p.PersonKind, p.PersonID = w.kind, w.id
		}
		passes[i] = p
	}
	return s.commit(ctx, passes)
}

// write stores the batches of one group commit in the transaction: their
// passes in shared multi-row statements, the notifications for all of them,
// and presence.
func (s *Service) write(ctx context.Context, tx *store.Tx, group []*intake) error {
	var all []Pass
	for _, in := range group {
		in.res = Result{Received: len(in.passes)}
		all = append(all, in.passes...)
	}
	fresh, err := insertPasses(ctx, tx, all)
	if err != nil {
		return err
	}
	var stored []Pass
	at := 0
	for _, in := range group {
		in.fresh = in.fresh[:0]
		for _, p := range all[at : at+len(in.passes)] {
			if fresh[p.ID] {
				in.fresh = append(in.fresh, p)
				if p.PersonKind == "unknown" {
					in.res.Unknown++
				}
			}
		}
		at += len(in.passes)
		in.res.Stored = len(in.fresh)
		in.res.Duplicate = len(in.passes) - len(in.fresh)
		sortByTime(in.fresh)
		stored = append(stored, in.fresh...)
	}
	sortByTime(stored)
	// The notification rules read each pupil's day as it was before these
	// passes, so they run before presence takes them in.
	if len(stored) > 0 {
		if err := s.notices.Enqueue(ctx, tx, stored); err != nil {
			return err
		}
	}
	return updatePresence(ctx, tx, stored)
}

func sortByTime(ps []Pass) {
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].At.Before(ps[j].At) })
}

// insertPasses writes passes with reserved ids; ON CONFLICT skips events
// already stored, and RETURNING names the new ones.
func insertPasses(ctx context.Context, tx *store.Tx, passes []Pass) (map[int64]bool, error) {
	ids, err := tx.ReserveIDs(ctx, "passes", len(passes))
	if err != nil {
		return nil, err
	}
	for i := range passes {
		passes[i].ID = ids[i]
	}
	rows := make([][]any, len(passes))
	for i, p := range passes {
		var pid any
		if p.PersonID != 0 {
			pid = p.PersonID
		}
		rows[i] = []any{p.ID, p.DeviceID, p.SchoolID, p.EventID, store.Micros(p.At), store.Micros(p.ReceivedAt), string(p.Direction), p.Credential,
			p.PersonKind, pid, p.Manual, p.actor}
	}
	return tx.InsertNew(ctx, "passes", []string{"id", "device_id", "school_id", "event_id", "at", "received_at", "direction", "credential", "person_kind", "person_id", "manual", "actor"},
		"school_id, device_id, event_id", rows)
}

type dayKey struct {
	kind string
	id   int64
	day  string
}

type dayState struct {
	school           int64
	firstIn, lastOut int64 // 0: none
	lastAt           int64
	inside           bool
}

// updatePresence folds the new passes into each person's day: first arrival,
// last departure, and inside-or-not after the newest event. Events older than
// what is stored change the first/last times but not who is inside now.
func updatePresence(ctx context.Context, tx *store.Tx, passes []Pass) error {
	days := map[dayKey]*dayState{}
	var order []dayKey
	for _, p := range passes { // sorted by time
		if p.PersonKind == "unknown" {
			continue
		}
		k := dayKey{p.PersonKind, p.PersonID, Day(p.At)}
		st := days[k]
		if st == nil {
			st = &dayState{school: p.SchoolID}
			days[k] = st
			order = append(order, k)
		}
		at := store.Micros(p.At)
		if p.Direction == In && (st.firstIn == 0 || at < st.firstIn) {
			st.firstIn = at
		}
		if p.Direction == Out && at > st.lastOut {
			st.lastOut = at
		}
		if at >= st.lastAt {
			st.lastAt, st.inside = at, p.Direction == In
		}
	}
	if len(order) == 0 {
		return nil
	}
	// In key order, so that two PostgreSQL nodes updating the same people
	// lock their rows in the same order.
	sort.Slice(order, func(i, j int) bool {
		a, b := order[i], order[j]
		if a.kind != b.kind {
			return a.kind < b.kind
		}
		if a.id != b.id {
			return a.id < b.id
		}
		return a.day < b.day
	})
	b := tx.NewBulk("presence", "person_kind", "person_id", "day", "school_id", "first_in", "last_out", "last_at", "inside").OnConflict(
		`ON CONFLICT (person_kind, person_id, day) DO UPDATE SET
		first_in = CASE WHEN presence.first_in IS NULL OR (excluded.first_in IS NOT NULL AND excluded.first_in < presence.first_in) THEN excluded.first_in ELSE presence.first_in END,
		last_out = CASE WHEN presence.last_out IS NULL OR (excluded.last_out IS NOT NULL AND excluded.last_out > presence.last_out) THEN excluded.last_out ELSE presence.last_out END,
		inside = CASE WHEN excluded.last_at >= presence.last_at THEN excluded.inside ELSE presence.inside END,
		last_at = CASE WHEN excluded.last_at > presence.last_at THEN excluded.last_at ELSE presence.last_at END`)
	opt := func(v int64) any {
		if v == 0 {
			return nil
		}
		return v
	}
	for _, k := range order {
		st := days[k]
		if err := b.Add(ctx, k.kind, k.id, k.day, st.school, opt(st.firstIn), opt(st.lastOut), st.lastAt, st.inside); err != nil {
			return err
		}
	}
	return b.Flush(ctx)
}
