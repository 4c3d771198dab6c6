package alarm

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
)

// The window forgets a signal only once its window has been over for
// windowSlack, also across the queue's compaction, and a key stored again
// is not forgotten with its earlier copy.
func TestWindowForgets(t *testing.T) {
	w := &window{open: map[windowKey]windowEntry{}, loaded: true}
	t0 := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	key := func(i int) windowKey { return keyOf(signalKey{"dc09", "A1", fmt.Sprintf("%04d", i), "d"}) }
	// 3,000 signals, one a millisecond, each with a window of a minute.
	for i := range 3000 {
		w.remember(key(i), windowEntry{id: int64(i + 1), until: store.Micros(t0.Add(time.Duration(i)*time.Millisecond + time.Minute))})
	}
	// Signal 0's number reused after its window: the new entry stays.
	w.remember(key(0), windowEntry{id: 5000, until: store.Micros(t0.Add(3 * time.Minute))})
	// Two minutes and 2 s on, windows that ended up to 2 s ago are forgotten.
	if err := w.prepare(t.Context(), nil, t0.Add(2*time.Minute+2*time.Second), time.Time{}); err != nil {
		t.Fatal(err)
	}
	for i := range 3000 {
		_, ok := w.open[key(i)]
		switch {
		case i == 0 && (!ok || w.open[key(0)].id != 5000):
			t.Fatalf("the reused number's new signal was forgotten with the old one: %v", w.open[key(0)])
		case i > 0 && i <= 2000 && ok:
			t.Fatalf("signal %d is remembered a minute after its window", i)
		case i > 2000 && !ok:
			t.Fatalf("signal %d, whose window ended less than a minute ago, is forgotten", i)
		}
	}
	if w.head != 0 || len(w.queue) != 1000 {
		t.Fatalf("the queue holds %d entries from %d after compaction; want 1000 from 0", len(w.queue), w.head)
	}
	// What is forgotten is said: a copy received before this has the
	// stretch read back first (TestLateCopyAfterItsWindowWasForgotten).
	if want := store.Micros(t0.Add(2000*time.Millisecond + time.Minute)); w.forgotBefore != want {
		t.Fatalf("forgotBefore is %d, want %d (the last window forgotten)", w.forgotBefore, want)
	}
}

// The open windows are read back through the index made for them, not by
// reading every signal ever stored.
func TestWindowReadBackUsesItsIndex(t *testing.T) {
	db := storetest.SQLite(t)
	var id, parent, notused int
	var detail string
	err := db.Reader().QueryRowContext(t.Context(), "EXPLAIN QUERY PLAN "+openWindows, 0, 1).
		Scan(&id, &parent, &notused, &detail)
	if err != nil {
		t.Fatal(err)
	}
	if detail != "SEARCH signals USING INDEX signals_open_window (retry_until>? AND retry_until<?)" {
		t.Fatalf("the open windows are read with %q", detail)
	}
}

// The consoles' alarm lists read alarms_open for what is not yet
// resolved, and the index of their scope for the history (migration
// 00038): none reads every alarm ever raised.
func TestAlarmListsUseTheirIndexes(t *testing.T) {
	db := storetest.SQLite(t)
	today := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	people := map[string]auth.Principal{
		"school":   {Role: auth.RoleDirector, Scope: auth.Scope{Kind: auth.ScopeSchool, Ref: "7"}},
		"provider": {Role: auth.RolePCNOperator, Scope: auth.Scope{Kind: auth.ScopeProvider, Ref: "3"}},
		"police":   {Role: auth.RoleCOUOperator, Scope: auth.Scope{Kind: auth.ScopePoliceUnit, Ref: "5"}},
		"district": {Role: auth.RoleEducation, Scope: auth.Scope{Kind: auth.ScopeDistrict, Ref: "751210000"}},
	}
	plan := func(q string, args []any) string {
		t.Helper()
		rows, err := db.Reader().QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		err = store.EachRow(rows, nil, func(rows *sql.Rows) error {
			var id, parent, notused int
			var detail string
			err := rows.Scan(&id, &parent, &notused, &detail)
			lines = append(lines, detail)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(lines, "\n")
	}
	for who, p := range people {
		open, args := listQuery(p, false, today)
		if got := plan(open, append(args, 100)); !strings.Contains(got, "USING INDEX alarms_open") || strings.Contains(got, "SCAN a\n") {
			t.Errorf("%s's open alarms are read so:\n%s", who, got)
		}
		all, args := listQuery(p, true, today)
		got := plan(all, append(args, 100))
		if !strings.Contains(got, "USING INDEX alarms_open") || strings.Contains(got, "SCAN a\n") || strings.HasSuffix(got, "SCAN a") {
			t.Errorf("%s's alarms with the history are read so:\n%s", who, got)
		}
		if want := map[string]string{"school": "alarms_school", "provider": "alarms_provider", "police": "alarms_police", "district": "alarms_school"}[who]; !strings.Contains(got, "USING INDEX "+want) {
			t.Errorf("%s's resolved alarms are not read through %s:\n%s", who, want, got)
		}
	}
}
