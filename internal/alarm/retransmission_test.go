package alarm_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"qorgan/internal/alarm"
	"qorgan/internal/auth"
	"qorgan/internal/demo"
	"qorgan/internal/protocol/alarmcode"
	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
)

const window = 10 * time.Minute

// dc09 is a DC-09 panic (or another event) whose copies are one message
// within the window.
func (f *fixture) dc09(seq, content string, at time.Time, typ alarmcode.Type) alarm.Signal {
	return alarm.Signal{Source: "dc09", Account: demo.PlainAccount, DeviceID: f.plain.ID, SchoolID: f.plain.SchoolID, Sequence: seq, Content: []byte(content), RetryWindow: window,
		Events: []alarmcode.Event{{Type: typ, Code: "XX", Known: true}}, ReceivedAt: at}
}

func (f *fixture) counts(t *testing.T, seq string) (signals, alarms int) {
	t.Helper()
	err := f.db.Reader().QueryRowContext(context.Background(), "SELECT COUNT(DISTINCT s.id), COUNT(a.id) FROM signals s LEFT JOIN alarms a ON a.signal_id = s.id WHERE s.account = ? AND s.sequence = ?",
		demo.PlainAccount, seq).Scan(&signals, &alarms)
	if err != nil {
		t.Fatal(err)
	}
	return signals, alarms
}

// Copies of a signal within its window are one message, in one batch or
// across batches and restarts; once the window is over the same number and
// content are a new message, whose own copies are caught in turn. The old
// row names the signal that reused its number.
func TestRetransmissionWindow(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, f *fixture) {
		ctx, db := t.Context(), f.db
		commit := func(sigs ...alarm.Signal) {
			t.Helper()
			if err := f.svc.Commit(ctx, sigs); err != nil {
				t.Fatal(err)
			}
		}
		want := func(seq string, signals, alarms int, what string) {
			t.Helper()
			if s, a := f.counts(t, seq); s != signals || a != alarms {
				t.Fatalf("%s: %d signals, %d alarms; want %d and %d", what, s, a, signals, alarms)
			}
		}
		t0 := f.clk.Now()
		// Two copies in one batch, a third in the next, a fourth after a
		// restart.
		commit(f.dc09("0001", "PA", t0, alarmcode.Panic), f.dc09("0001", "PA", t0.Add(time.Second), alarmcode.Panic))
		want("0001", 1, 1, "two copies in one batch")
		commit(f.dc09("0001", "PA", t0.Add(30*time.Second), alarmcode.Panic))
		want("0001", 1, 1, "a copy 30 s later")
		f.svc = f.service()
		commit(f.dc09("0001", "PA", t0.Add(window-time.Microsecond), alarmcode.Panic))
		want("0001", 1, 1, "a copy at the end of the window, after a restart")
		// The window is over: a new panic, in a batch with its own copy and
		// with a copy of an event under the same number.
		commit(f.dc09("0001", "PA", t0.Add(window), alarmcode.Panic), f.dc09("0001", "PA", t0.Add(window+time.Second), alarmcode.Panic),
			f.dc09("0001", "FA", t0.Add(window), alarmcode.Fire))
		want("0001", 3, 3, "the same number and event when the window is over, with another event")
		commit(f.dc09("0001", "PA", t0.Add(2*window-time.Second), alarmcode.Panic))
		want("0001", 3, 3, "a copy of the new panic within its own window")
		// In one batch: the panic again a window later, and a copy of it a
		// further window on, each a message of its own.
		commit(f.dc09("0001", "PA", t0.Add(2*window), alarmcode.Panic), f.dc09("0001", "PA", t0.Add(3*window), alarmcode.Panic))
		want("0001", 5, 5, "two windows in one batch")

		var reused, open int
		db.Reader().QueryRowContext(ctx, "SELECT COUNT(reused_by), COUNT(*) - COUNT(reused_by) FROM signals WHERE account = ? AND sequence = '0001'", demo.PlainAccount).Scan(&reused, &open)
		if reused != 3 || open != 2 {
			t.Fatalf("%d signals name the one that reused them, %d are open; want 3 and 2", reused, open)
		}

		// A device's event id is never reused: a resend is the same event
		// however late it comes.
		device := alarm.Signal{Source: "http", Account: "77", SchoolID: f.people["guard"].Scope.ID(), Sequence: "ev-1", Content: []byte("ev-1|panic|2"),
			Events: []alarmcode.Event{{Type: alarmcode.Panic, Code: "panic", Known: true}}, ReceivedAt: t0}
		commit(device)
		device.ReceivedAt = t0.Add(30 * 24 * time.Hour)
		commit(device)
		var n int
		db.Reader().QueryRowContext(ctx, "SELECT COUNT(*) FROM signals WHERE source = 'http' AND sequence = 'ev-1'").Scan(&n)
		if n != 1 {
			t.Fatalf("an HTTP event resent a month later is stored %d times", n)
		}
	})
}

// Two nodes (two services, each with its own transactions) receive the
// same retransmissions at once: one signal, one alarm. When the window is
// over and both receive the reused number at once, one new signal.
func TestRetransmissionOnTwoNodes(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		nodes := []*alarm.Service{f.service(), f.service(), f.service(), f.service()}
		t0 := f.clk.Now()
		race := func(at time.Time) {
			t.Helper()
			var wg sync.WaitGroup
			errc := make(chan error, 4*len(nodes))
			for n, node := range nodes {
				for k := range 4 {
					wg.Go(func() {
						// Half the commits carry the panic and two test
						// reports, the others the test reports alone, each in
						// an order of its own: those raise nothing and take
						// no lock before their signals.
						d := time.Duration(n*4+k) * time.Millisecond
						sigs := []alarm.Signal{f.dc09("0101", "RP", at.Add(d), alarmcode.PeriodicTest), f.dc09("0102", "RP", at.Add(d), alarmcode.PeriodicTest)}
						if (n+k)%2 == 1 {
							sigs[0], sigs[1] = sigs[1], sigs[0]
						}
						if k%2 == 0 {
							sigs = append(sigs, f.dc09("0100", "PA", at.Add(d), alarmcode.Panic))
						}
						if err := node.Commit(ctx, sigs); err != nil {
							errc <- fmt.Errorf("node %d: %w", n, err)
						}
					})
				}
			}
			wg.Wait()
			close(errc)
			for err := range errc {
				t.Fatal(err)
			}
		}
		race(t0)
		if s, a := f.counts(t, "0100"); s != 1 || a != 1 {
			t.Fatalf("a panic received 8 times at once: %d signals, %d alarms; want 1 and 1", s, a)
		}
		for _, seq := range []string{"0101", "0102"} {
			if s, _ := f.counts(t, seq); s != 1 {
				t.Fatalf("a test report received 16 times at once: %d signals", s)
			}
		}
		race(t0.Add(window))
		if s, a := f.counts(t, "0100"); s != 2 || a != 2 {
			t.Fatalf("the reused number received 8 times at once: %d signals, %d alarms; want 2 and 2", s, a)
		}
		for _, seq := range []string{"0101", "0102"} {
			if s, _ := f.counts(t, seq); s != 2 {
				t.Fatalf("the reused test report received 16 times at once: %d signals, want 2", s)
			}
		}
	})
}

// A batch whose transaction fails after its signals were inserted leaves
// nothing behind: not in the database, and not in what SQLite's writer
// remembers of the open windows (window.go), or the batch committed again
// — the DC-09 receiver commits a failed batch again in parts — would be
// taken for a retransmission and acknowledged without being stored.
func TestFailedBatchLeavesNoWindow(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		t0 := f.clk.Now()
		sig := f.dc09("0201", "PA", t0, alarmcode.Panic)
		broken := sig
		broken.SchoolID = 1 << 40 // no such school: raising its alarm fails after the signal was inserted
		if err := f.svc.Commit(ctx, []alarm.Signal{broken}); err == nil {
			t.Fatal("a batch for a school that does not exist committed")
		}
		if s, a := f.counts(t, "0201"); s != 0 || a != 0 {
			t.Fatalf("the failed batch left %d signals and %d alarms", s, a)
		}
		if err := f.svc.Commit(ctx, []alarm.Signal{sig}); err != nil {
			t.Fatal(err)
		}
		if s, a := f.counts(t, "0201"); s != 1 || a != 1 {
			t.Fatalf("the same frame committed again after the failure: %d signals, %d alarms; want 1 and 1", s, a)
		}
	})
}

// SQLite's writer reads the open windows back when the database is opened
// again: a copy after a restart is still a retransmission, and the number
// reused after the window names the signal read back.
func TestWindowReadBackAfterRestart(t *testing.T) {
	ctx := t.Context()
	path, f, t0 := panicOnFile(t, "0301")
	open := func() *store.DB { return openFile(t, path) }
	f.db.Close()

	f.db = open()
	t.Cleanup(func() { f.db.Close() })
	f.svc = f.service()
	if err := f.svc.Commit(ctx, []alarm.Signal{f.dc09("0301", "PA", t0.Add(window-time.Second), alarmcode.Panic)}); err != nil {
		t.Fatal(err)
	}
	if s, a := f.counts(t, "0301"); s != 1 || a != 1 {
		t.Fatalf("a copy after a restart, within the window: %d signals, %d alarms; want 1 and 1", s, a)
	}
	if err := f.svc.Commit(ctx, []alarm.Signal{f.dc09("0301", "PA", t0.Add(window), alarmcode.Panic)}); err != nil {
		t.Fatal(err)
	}
	if s, a := f.counts(t, "0301"); s != 2 || a != 2 {
		t.Fatalf("the number reused when the window is over: %d signals, %d alarms; want 2 and 2", s, a)
	}
	var reused int
	if err := f.db.Reader().QueryRowContext(ctx, "SELECT COUNT(*) FROM signals WHERE sequence = '0301' AND reused_by IS NOT NULL").Scan(&reused); err != nil || reused != 1 {
		t.Fatalf("%d signals name the one that reused their number (%v); want 1", reused, err)
	}
}

// A copy received inside the window but committed more than a minute
// after the window ended — the store stalled, the frame waited in the
// receiver's queue — is still a retransmission: whether the first copy is
// still remembered by SQLite's writer, or was forgotten when another
// signal's commit came first and is read back for it.
func TestLateCopyAfterItsWindowWasForgotten(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		t0 := f.clk.Now()
		commit := func(sigs ...alarm.Signal) {
			t.Helper()
			if err := f.svc.Commit(ctx, sigs); err != nil {
				t.Fatal(err)
			}
		}
		commit(f.dc09("0401", "PA", t0, alarmcode.Panic), f.dc09("0402", "PA", t0, alarmcode.Panic))
		f.clk.Add(window + time.Minute + time.Second)
		// The copy comes first: nothing was forgotten yet.
		commit(f.dc09("0401", "PA", t0.Add(window-time.Minute), alarmcode.Panic))
		// A signal received now comes first and forgets the first copy;
		// the late copy then has it read back.
		commit(f.dc09("0403", "PA", f.clk.Now(), alarmcode.Panic))
		commit(f.dc09("0402", "PA", t0.Add(window-time.Minute), alarmcode.Panic))
		for _, seq := range []string{"0401", "0402"} {
			if s, a := f.counts(t, seq); s != 1 || a != 1 {
				t.Fatalf("%s: a copy received in its window and committed after it: %d signals, %d alarms; want 1 and 1", seq, s, a)
			}
		}
	})
}

// Two handles on one SQLite file would each keep a window of their own and
// store the same frame twice: the second one's commits are refused, naming
// the lock, until the first is closed.
func TestOneWriterPerSQLiteFile(t *testing.T) {
	ctx := t.Context()
	path, f, t0 := panicOnFile(t, "0501")
	first := f.db
	second := openFile(t, path)
	defer second.Close()
	other := alarm.New(second, auth.New(second), nil)
	other.Now = f.clk.Now
	err := other.Commit(ctx, []alarm.Signal{f.dc09("0501", "PA", t0.Add(time.Second), alarmcode.Panic)})
	if err == nil || !strings.Contains(err.Error(), "another Qorgan server writes alarms to this SQLite file") {
		t.Fatalf("a second writer on the file: %v, want it refused", err)
	}
	first.Close()
	if err := other.Commit(ctx, []alarm.Signal{f.dc09("0501", "PA", t0.Add(2*time.Second), alarmcode.Panic)}); err != nil {
		t.Fatalf("once the first handle is closed: %v", err)
	}
	f.db = second
	if s, a := f.counts(t, "0501"); s != 1 || a != 1 {
		t.Fatalf("the frame and its copies: %d signals, %d alarms; want 1 and 1", s, a)
	}
}

// panicOnFile loads the demo into a SQLite file of its own and commits a
// DC-09 panic numbered seq at the fixture clock's t0; the caller closes
// f.db.
func panicOnFile(t *testing.T, seq string) (path string, f *fixture, t0 time.Time) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "qorgan.db")
	f = setup(t, openFile(t, path))
	t0 = f.clk.Now()
	if err := f.svc.Commit(t.Context(), []alarm.Signal{f.dc09(seq, "PA", t0, alarmcode.Panic)}); err != nil {
		t.Fatal(err)
	}
	return path, f, t0
}

// openFile opens (migrating) the SQLite file at path, synchronous=FULL,
// for a test that opens it more than once; the caller closes it.
func openFile(t *testing.T, path string) *store.DB {
	t.Helper()
	db, err := store.Open(t.Context(), store.Config{Path: path, Synchronous: "FULL"})
	if err != nil {
		t.Fatal(err)
	}
	return db
}
