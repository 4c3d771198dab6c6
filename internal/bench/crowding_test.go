package bench

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// sleepers runs n goroutines that each sleep a millisecond, rounds times:
// goroutines made runnable again and again, whose waits for a core the
// runtime samples.
func sleepers(n, rounds int) {
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for range rounds {
				time.Sleep(time.Millisecond)
			}
		})
	}
	wg.Wait()
}

// TestCrowding: goroutines woken while many others spin on every core
// wait long for one, and Crowding says so with a large share; woken in an
// otherwise idle process, they find a core at once and the share is
// small. A runtime whose metric went away (or a reading that counted the
// wrong buckets) fails one side or the other.
func TestCrowding(t *testing.T) {
	c := newCrowding(5 * time.Millisecond)

	sleepers(8, 200)
	quietLong, quietN := c.read()
	quiet := float64(quietLong) / max(1, float64(quietN))

	var stop atomic.Bool
	var spinning sync.WaitGroup
	for range 16 * runtime.GOMAXPROCS(0) {
		spinning.Go(func() {
			for !stop.Load() {
			}
		})
	}
	var crowded float64
	var crowdedLong, crowdedN uint64
	for deadline := time.Now().Add(10 * time.Second); crowdedN < 64 && time.Now().Before(deadline); {
		sleepers(32, 20)
		long, n := c.read()
		crowdedLong += long
		crowdedN += n
		crowded = float64(crowdedLong) / float64(max(1, crowdedN))
	}
	stop.Store(true)
	spinning.Wait()

	t.Logf("waits of 5 ms or more: %.1f%% of %d sampled while quiet, %.1f%% of %d while %d goroutines spun on %d cores",
		100*quiet, quietN, 100*crowded, crowdedN, 16*runtime.GOMAXPROCS(0), runtime.GOMAXPROCS(0))
	if quietN < 16 || crowdedN < 16 {
		t.Fatalf("only %d and %d waits sampled: the runtime's scheduling latencies are not read", quietN, crowdedN)
	}
	if crowded < 0.3 {
		t.Fatalf("with every core spun by others, %.1f%% of the waits sampled took 5 ms or more; want at least 30%%", 100*crowded)
	}
	if quiet > crowded/4 {
		t.Fatalf("in an idle process %.1f%% of the waits took 5 ms or more, against %.1f%% when crowded: the reading does not tell them apart", 100*quiet, 100*crowded)
	}
}

// TestCrowdingBySecond: the line names the seconds over 3% (the most
// crowded ten), and the share over the rest.
func TestCrowdingBySecond(t *testing.T) {
	c := &crowdingBySecond{over: 5 * time.Millisecond, start: time.Now(), secs: map[int][2]uint64{}}
	at := func(s int) time.Time { return c.start.Add(time.Duration(s)*time.Second + 100*time.Millisecond) }
	c.add(at(0), 70, 1000)
	c.add(at(0), 10, 1000) // 4.0% over the second
	c.add(at(1), 30, 1000) // 3.0%: not over
	c.add(at(2), 80, 1000)
	c.add(at(5), 0, 3000)
	want := "the cores: waits for a core of 5ms or more (the runtime's scheduling latencies, sampled): over 3% in 2 seconds of the run from second 0 to 2 (0: 4.0%, 2: 8.0%); 0.8% of 4000 in the other seconds"
	if got := c.String(); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	quiet := &crowdingBySecond{over: 5 * time.Millisecond, start: time.Now(), secs: map[int][2]uint64{0: {1, 1000}}}
	if got, want := quiet.String(), "the cores: waits for a core of 5ms or more (the runtime's scheduling latencies, sampled): no second over 3%; 0.1% of 1000 over the run"; got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	// Every second crowded: no "0.0% of 0" for the seconds that are not.
	busy := &crowdingBySecond{over: 5 * time.Millisecond, start: time.Now(), secs: map[int][2]uint64{0: {50, 1000}, 1: {90, 1000}}}
	if got, want := busy.String(), "the cores: waits for a core of 5ms or more (the runtime's scheduling latencies, sampled): over 3% in 2 seconds of the run from second 0 to 1 (0: 5.0%, 1: 9.0%); no other second sampled"; got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}
