package bench

import (
	"testing"
	"time"
)

// TestLateBySecond: messages over 200 ms are counted by the second of the
// run their pass came in, the busiest ten seconds named in order; messages
// on time and passes from before the run are not counted.
func TestLateBySecond(t *testing.T) {
	var l lateBySecond
	if got, want := l.String(), "messages over 200.00 ms after their pass: none"; got != want {
		t.Fatalf("empty: %q, want %q", got, want)
	}
	t0 := time.Date(2026, 9, 1, 7, 30, 0, 0, time.UTC)
	l.add(t0, time.Second) // before the run started: not counted
	l.start = t0
	for range 3 {
		l.add(t0.Add(500*time.Millisecond), 300*time.Millisecond)
	}
	l.add(t0.Add(1500*time.Millisecond), 250*time.Millisecond)
	l.add(t0.Add(1600*time.Millisecond), 150*time.Millisecond) // on time
	for s := 2; s <= 13; s++ {
		for range s {
			l.add(t0.Add(time.Duration(s)*time.Second), time.Second)
		}
	}
	want := "messages over 200.00 ms after their pass: 94, their passes in 14 seconds of the run from second 0 to 13 (4: 4, 5: 5, 6: 6, 7: 7, 8: 8, 9: 9, 10: 10, 11: 11, 12: 12, 13: 13)"
	if got := l.String(); got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}

// TestAlarmsLate: the alarm probe's count uses the goal of 25 ms and says
// when the late alarms were due.
func TestAlarmsLate(t *testing.T) {
	l := alarmsLate()
	if got, want := l.String(), "alarms over 25.00 ms from due to ACK: none"; got != want {
		t.Fatalf("empty: %q, want %q", got, want)
	}
	t0 := time.Date(2026, 9, 1, 7, 30, 0, 0, time.UTC)
	l.start = t0
	l.add(t0.Add(200*time.Millisecond), 24*time.Millisecond) // on time
	l.add(t0.Add(300*time.Millisecond), 40*time.Millisecond)
	l.add(t0.Add(2100*time.Millisecond), 26*time.Millisecond)
	want := "alarms over 25.00 ms from due to ACK: 2, due in 2 seconds of the run from second 0 to 2 (0: 1, 2: 1)"
	if got := l.String(); got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}
