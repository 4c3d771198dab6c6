package alarm_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"qorgan/internal/alarm"
	"qorgan/internal/auth"
	"qorgan/internal/protocol/alarmcode"
	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
	"qorgan/internal/testkit"
)

// twoNodes opens the same PostgreSQL schema twice, as two nodes of one
// installation, with the demo loaded: node a commits, node b's consoles
// follow. Node b's feed reader never looks at the store on its own (a poll
// of an hour), so what it learns it learns from a's notifications.
func twoNodes(tb testing.TB) (a, b *alarm.Service, school int64) {
	tb.Helper()
	url := storetest.PostgresURL(tb)
	open := func() *store.DB {
		db, err := store.Open(context.Background(), store.Config{URL: url})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { db.Close() })
		return db
	}
	dbA, dbB := open(), open()
	testkit.Demo(tb, dbA, auth.New(dbA), 0.002)
	a, b = alarm.New(dbA, auth.New(dbA), nil), alarm.New(dbB, auth.New(dbB), nil)
	b.FeedPoll = time.Hour
	if err := dbA.Reader().QueryRowContext(context.Background(), "SELECT MIN(id) FROM schools").Scan(&school); err != nil {
		tb.Fatal(err)
	}
	return a, b, school
}

// panicAt commits a press of the panic button at school on node s and
// returns the feed's newest seq after it.
func panicAt(tb testing.TB, s *alarm.Service, school int64, seq string) int64 {
	tb.Helper()
	ctx := context.Background()
	err := s.Commit(ctx, []alarm.Signal{{Source: "staff", Account: "node-test", SchoolID: school, Sequence: seq, Content: []byte(seq),
		Events: []alarmcode.Event{{Type: alarmcode.Panic, Code: "PA", Known: true}}, ReceivedAt: time.Now()}})
	if err != nil {
		tb.Fatal(err)
	}
	n, err := s.LatestSeq(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// reaches waits until fan holds every event up to seq; false after d.
func reaches(fan *alarm.Fanout, seq int64, d time.Duration) bool {
	deadline := time.After(d)
	for {
		wake := fan.Moved()
		if fan.Head() >= seq {
			return true
		}
		select {
		case <-wake:
		case <-deadline:
			return false
		}
	}
}

// TestAnotherNodesAlarmWakesTheFeed: on PostgreSQL, an alarm committed on
// one node reaches another node's feed reader by the commit's notification,
// not by the reader's next look at the store.
func TestAnotherNodesAlarmWakesTheFeed(t *testing.T) {
	a, b, school := twoNodes(t)
	fan := b.Fanout()
	defer fan.Subscribe()()
	if !reaches(fan, 0, 10*time.Second) {
		t.Fatal("node b's feed reader did not start")
	}
	for i := range 3 {
		seq := panicAt(t, a, school, fmt.Sprint("wake-", i))
		if !reaches(fan, seq, 10*time.Second) {
			t.Fatalf("node a committed seq %d; node b's feed is at %d 10 s later", seq, fan.Head())
		}
		evs, _, ok := fan.Since(auth.System, seq-1, 10)
		if !ok || len(evs) != 1 || evs[0].Kind != "alarm.raised" {
			t.Fatalf("node b's feed after seq %d: %+v (ok %v)", seq-1, evs, ok)
		}
	}
}

// BenchmarkAnotherNodesAlarm: from an alarm's commit on one node to its
// event in another node's feed memory, over PostgreSQL's notification.
func BenchmarkAnotherNodesAlarm(b *testing.B) {
	a, nodeB, school := twoNodes(b)
	fan := nodeB.Fanout()
	defer fan.Subscribe()()
	reaches(fan, 0, 10*time.Second)
	time.Sleep(200 * time.Millisecond) // the listener connected: what is measured is a notification
	i := 0
	var commit, wake time.Duration
	for b.Loop() {
		i++
		t0 := time.Now()
		seq := panicAt(b, a, school, fmt.Sprint("bench-", i))
		t1 := time.Now()
		if !reaches(fan, seq, 10*time.Second) {
			b.Fatalf("seq %d did not reach node b", seq)
		}
		commit, wake = commit+t1.Sub(t0), wake+time.Since(t1)
	}
	b.ReportMetric(float64(commit.Microseconds())/float64(i), "µs-commit/op")
	b.ReportMetric(float64(wake.Microseconds())/float64(i), "µs-to-other-node/op")
}
