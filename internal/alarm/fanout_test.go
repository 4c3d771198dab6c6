package alarm_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"qorgan/internal/alarm"
	"qorgan/internal/auth"
	"qorgan/internal/demo"
	"qorgan/internal/protocol/alarmcode"
	"qorgan/internal/store/storetest"
)

// caughtUp waits until the fan-out holds every event up to the store's
// newest, and returns that seq.
func caughtUp(t *testing.T, f *fixture, fan *alarm.Fanout) int64 {
	t.Helper()
	newest, err := f.svc.LatestSeq(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		wake := fan.Moved()
		if fan.Head() >= newest {
			return newest
		}
		if time.Now().After(deadline) {
			t.Fatalf("the fan-out did not reach seq %d in 10 s", newest)
		}
		f.svc.Bus().Notify()
		select {
		case <-wake:
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// TestFanoutSeesWhatFeedSees: the fan-out hands every person exactly the
// events Feed's SQL gives them, with the same bytes, over alarms at their
// school and another one, a silent one, alarms in another region and in the
// district's other schools, and an operator's step; everyone who may read
// alarms, and a guardian who may not.
func TestFanoutSeesWhatFeedSees(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		fan := f.svc.Fanout()
		defer fan.Subscribe()()
		start := caughtUp(t, f, fan)

		staff := func(school int64, typ alarmcode.Type, seq string) {
			t.Helper()
			err := f.svc.Commit(ctx, []alarm.Signal{{Source: "staff", Account: "fanout-test", SchoolID: school, Sequence: seq, Content: []byte(seq),
				Events: []alarmcode.Event{{Type: typ, Code: "PA", Known: true}}, ReceivedAt: f.clk.Now()}})
			if err != nil {
				t.Fatal(err)
			}
		}
		one := func(q string, args ...any) int64 {
			t.Helper()
			var id int64
			if err := f.db.Reader().QueryRowContext(ctx, q, args...).Scan(&id); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			return id
		}
		school := f.people["guard"].Scope.ID()
		f.panel(t, demo.PlainAccount, "0001", alarmcode.Panic)
		staff(school, alarmcode.SilentPanic, "silent")
		staff(f.people["guard2"].Scope.ID(), alarmcode.Panic, "other school")
		staff(one("SELECT id FROM schools WHERE region_code <> (SELECT region_code FROM schools WHERE id = ?) ORDER BY id LIMIT 1", school), alarmcode.Fire, "other region")
		staff(one("SELECT id FROM schools WHERE district_code = ? AND id <> ? ORDER BY id LIMIT 1", f.people["district"].Scope.Ref, school), alarmcode.Panic, "district")
		open, err := f.svc.List(ctx, f.people["pcn"], false, 1)
		if err != nil || len(open) == 0 {
			t.Fatalf("the ПЦН's alarms: %v, %v", open, err)
		}
		if _, err := f.svc.Acknowledge(ctx, f.people["pcn"], open[0].ID); err != nil {
			t.Fatal(err)
		}
		caughtUp(t, f, fan)

		sizes := map[int]bool{}
		for login, p := range f.people {
			want, _, err := f.svc.Feed(ctx, p, start, 1000)
			if err != nil {
				t.Fatal(err)
			}
			got, _, ok := fan.Since(p, start, 1000)
			if !ok {
				t.Fatalf("%s: the fan-out does not hold the events after %d", login, start)
			}
			var ws, gs []int64
			for _, e := range want {
				ws = append(ws, e.Seq)
			}
			for _, e := range got {
				gs = append(gs, e.Seq)
			}
			if !slices.Equal(ws, gs) {
				t.Errorf("%s (%s, %s %s): Feed gives %v, the fan-out %v", login, p.Role, p.Scope.Kind, p.Scope.Ref, ws, gs)
				continue
			}
			for i, e := range want {
				data, _ := json.Marshal(e)
				frame := fmt.Appendf(nil, "id: %d\nevent: %s\ndata: %s\n\n", e.Seq, e.Kind, data)
				if !bytes.Equal(got[i].SSE, frame) {
					t.Errorf("%s: event %d's frame\n got %s\nwant %s", login, e.Seq, got[i].SSE, frame)
				}
			}
			sizes[len(ws)] = true
			if p.Can(auth.ReadAlarms) != (len(ws) > 0) {
				t.Errorf("%s (%s) sees %d events", login, p.Role, len(ws))
			}
		}
		// The alarms above tell the scopes apart: a test in which everyone
		// saw everything (or nothing) would hold nothing to account.
		if len(sizes) < 4 {
			t.Errorf("the people saw only %d different numbers of events: %v", len(sizes), sizes)
		}
	})
}

// TestFanoutCursorOlderThanMemory: a console whose cursor is older than the
// reader's start gets ok false (and reads the store), one at the reader's
// head gets nothing and ok; the reader stops with its last console and
// starts afresh with the next.
func TestFanoutCursorOlderThanMemory(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, f *fixture) {
		f.panel(t, demo.PlainAccount, "0001", alarmcode.Panic)
		fan := f.svc.Fanout()
		leave := fan.Subscribe()
		head := caughtUp(t, f, fan)
		admin := f.people["admin"]
		if _, _, ok := fan.Since(admin, 0, 10); ok {
			t.Errorf("a cursor from before the reader started is served from memory")
		}
		if evs, next, ok := fan.Since(admin, head, 10); !ok || len(evs) != 0 || next != head {
			t.Errorf("at the head: %d events, next %d, ok %v", len(evs), next, ok)
		}
		leave()
		leave() // a second call is harmless
		f.panel(t, demo.PlainAccount, "0002", alarmcode.Panic)
		defer fan.Subscribe()()
		newest := caughtUp(t, f, fan)
		if _, _, ok := fan.Since(admin, head, 10); ok || newest <= head {
			t.Errorf("a restarted reader serves events from before it started (head %d, newest %d)", head, newest)
		}
	})
}
