package alarm

import (
	"slices"
	"testing"

	"qorgan/internal/auth"
)

// running is a Fanout as its reader holds it, without a store: publish is
// called directly, as the reader calls it.
func running() (*Fanout, chan struct{}) {
	stop := make(chan struct{})
	return &Fanout{moved: make(chan struct{}), stop: stop, head: -1, from: -1}, stop
}

// frames are n events from seq first on, at schools 1 to 4 in turn; every
// third routed to provider 2, every fifth to police unit 2, every seventh
// silent; schools 1 and 2 in region 100 (district 110 and none), 3 and 4 in
// region 200 (district 210).
func frames(first int64, n int) []Frame {
	places := map[int64][2]string{1: {"100", "110"}, 2: {"100", ""}, 3: {"200", "210"}, 4: {"200", "210"}}
	out := make([]Frame, n)
	for i := range out {
		seq := first + int64(i)
		sc := eventScope{school: 1 + seq%4, silent: seq%7 == 0}
		if seq%3 == 0 {
			sc.provider = 2
		}
		if seq%5 == 0 {
			sc.police = 2
		}
		place := places[sc.school]
		sc.region, sc.district = place[0], place[1]
		out[i] = Frame{LiveEvent: LiveEvent{Seq: seq, Kind: "alarm.raised", AlarmID: seq}, scope: sc}
	}
	return out
}

// all pages through Since from after, limit at a time, and returns the seqs.
func all(t *testing.T, f *Fanout, p auth.Principal, after int64, limit int) []int64 {
	t.Helper()
	var got []int64
	for range 10000 {
		evs, next, ok := f.Since(p, after, limit)
		if !ok {
			t.Fatalf("Since(%d) not served from memory", after)
		}
		if len(evs) > limit || next < after {
			t.Fatalf("Since(%d, limit %d): %d events, next %d", after, limit, len(evs), next)
		}
		for _, e := range evs {
			got = append(got, e.Seq)
		}
		if len(evs) < limit {
			if next != f.Head() {
				t.Fatalf("a page short of the limit ends at %d, not the head %d", next, f.Head())
			}
			return got
		}
		after = next
	}
	t.Fatal("Since never reached the head")
	return nil
}

// TestFanoutMemory: paging with a limit loses and repeats nothing; the
// memory, once cut back, serves exactly the range it holds; a reader that
// is no longer the running one changes nothing; each scope sees its own
// events and no others, and a scope whose reference is not a number (or
// empty) sees nothing.
func TestFanoutMemory(t *testing.T) {
	f, stop := running()
	if !f.publish(stop, nil, 0, 0) {
		t.Fatal("the running reader's first publish refused")
	}
	evs := frames(1, 100)
	f.publish(stop, evs, 0, 100)
	admin := auth.Principal{Role: auth.RoleAdmin, Scope: auth.Scope{Kind: auth.ScopeInstallation}}
	want := func(keep func(eventScope) bool, after int64) []int64 {
		var out []int64
		for _, e := range frames(1, int(f.Head())) {
			if e.Seq > after && keep(e.scope) {
				out = append(out, e.Seq)
			}
		}
		return out
	}
	everything := func(eventScope) bool { return true }
	for _, limit := range []int{1, 3, 7, 500} {
		if got := all(t, f, admin, 0, limit); !slices.Equal(got, want(everything, 0)) {
			t.Errorf("limit %d: %v", limit, got)
		}
	}

	people := []struct {
		p    auth.Principal
		sees func(eventScope) bool
	}{
		{auth.Principal{Role: auth.RoleGuard, Scope: auth.Scope{Kind: auth.ScopeSchool, Ref: "1"}}, func(e eventScope) bool { return e.school == 1 && !e.silent }},
		{auth.Principal{Role: auth.RolePCNOperator, Scope: auth.Scope{Kind: auth.ScopeProvider, Ref: "2"}}, func(e eventScope) bool { return e.provider == 2 }},
		{auth.Principal{Role: auth.RoleCOUOperator, Scope: auth.Scope{Kind: auth.ScopePoliceUnit, Ref: "2"}}, func(e eventScope) bool { return e.police == 2 }},
		{auth.Principal{Role: auth.RoleEducation, Scope: auth.Scope{Kind: auth.ScopeRegion, Ref: "200"}}, func(e eventScope) bool { return e.region == "200" }},
		{auth.Principal{Role: auth.RoleEducation, Scope: auth.Scope{Kind: auth.ScopeDistrict, Ref: "110"}}, func(e eventScope) bool { return e.district == "110" }},
		{auth.Principal{Role: auth.RoleAnalyst, Scope: auth.Scope{Kind: auth.ScopeNation}}, everything},
		{auth.Principal{Role: auth.RoleGuardian, Scope: auth.Scope{Kind: auth.ScopeGuardian, Ref: "1"}}, func(eventScope) bool { return false }},
		// References that are not a number, or empty: the SQL matches
		// nothing (NULL = 0 is not true), and so must memory.
		{auth.Principal{Role: auth.RolePCNOperator, Scope: auth.Scope{Kind: auth.ScopeProvider, Ref: "x"}}, func(eventScope) bool { return false }},
		{auth.Principal{Role: auth.RoleCOUOperator, Scope: auth.Scope{Kind: auth.ScopePoliceUnit, Ref: ""}}, func(eventScope) bool { return false }},
		{auth.Principal{Role: auth.RoleEducation, Scope: auth.Scope{Kind: auth.ScopeDistrict, Ref: ""}}, func(eventScope) bool { return false }},
	}
	for _, c := range people {
		if !c.p.Can(auth.ReadAlarms) { // a role that may not read alarms sees none in any scope
			c.sees = func(eventScope) bool { return false }
		}
		if got := all(t, f, c.p, 0, 4); !slices.Equal(got, want(c.sees, 0)) {
			t.Errorf("%s %s %q: %v, want %v", c.p.Role, c.p.Scope.Kind, c.p.Scope.Ref, got, want(c.sees, 0))
		}
	}

	// Past what memory keeps: cut back to the newest fanoutKept, it serves
	// every cursor from its start on, and none before.
	f.publish(stop, frames(101, fanoutKept+fanoutKept/4), 100, int64(100+fanoutKept+fanoutKept/4))
	head := f.Head()
	if int64(len(f.ring)) != head-f.from || len(f.ring) < fanoutKept || f.ring[0].Seq != f.from+1 {
		t.Fatalf("memory holds %d events from %d to head %d, its first %d", len(f.ring), f.from, head, f.ring[0].Seq)
	}
	if _, _, ok := f.Since(admin, f.from-1, 10); ok {
		t.Errorf("a cursor before what memory holds is served from it")
	}
	if got := all(t, f, admin, f.from, 1000); !slices.Equal(got, want(everything, f.from)) {
		t.Errorf("from the memory's start: %d events, want %d", len(got), len(want(everything, f.from)))
	}

	// A reader that stopped (another took its place) publishes nothing.
	f.stop = make(chan struct{})
	if f.publish(stop, frames(head+1, 5), head, head+5) || f.Head() != head {
		t.Errorf("a stopped reader moved the memory to %d", f.Head())
	}
	// A failing reader sends consoles to the store, until it reads again.
	f.fail(f.stop)
	if _, _, ok := f.Since(admin, head, 10); ok {
		t.Errorf("a failing reader's memory still serves")
	}
	f.publish(f.stop, frames(head+1, 5), head, head+5)
	if got := all(t, f, admin, head, 10); len(got) != 5 {
		t.Errorf("after the reader read again: %v", got)
	}
}
