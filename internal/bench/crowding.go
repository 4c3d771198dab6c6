package bench

import (
	"context"
	"fmt"
	"runtime/metrics"
	"slices"
	"strings"
	"sync"
	"time"
)

// schedLatencies is the runtime's histogram of how long goroutines waited,
// runnable, for a core (sampled by the runtime, not every wait).
const schedLatencies = "/sched/latencies:seconds"

// crowding reads how short of cores the process is from the runtime's own
// scheduling latencies: of the waits for a core that the runtime sampled
// since the previous reading (about one goroutine made runnable in eight,
// preempted ones included), how many lasted at least about over (see newCrowding).
//
// Their share rises when the process's own goroutines queue for the
// cores — at the morning peak's first seconds, every pass a first entry
// and thousands of messages a second to deliver — and not behind a slow
// disk or a slow provider: a goroutine waiting for a disk or a socket is
// not runnable. Another process taking a core shows only as it makes the
// process's own burst saturate what is left (the cores line in
// measure.go shows that process). On the reference machine (2 cores,
// `qorgan bench passes`, 2026-12-07/08): a quiet 60 s run had no second
// with over 3% of its sampled waits at 5 ms or more; with one core taken
// by a busy loop, seconds 0–2 had 3.7–8.7% (two runs), where most late
// alarms were due, and the rest 0.2–0.3%; an evening 15 s run had 7–16%
// in seconds 0–3. The benchmarks print it beside the alarms' lateness
// (crowdingBySecond).
//
// A crowding is for one reader; it is not safe for concurrent use.
type crowding struct {
	from   int           // the first bucket whose lower bound is at least over
	bound  time.Duration // that lower bound: the shortest wait counted as long
	sample []metrics.Sample
	last   []uint64
}

// newCrowding returns a reader counting the waits of at least about over:
// from the first bucket of the runtime's histogram whose lower bound
// reaches it (5.24 ms for 5 ms with Go 1.26's buckets). Its first read
// covers the time since newCrowding.
func newCrowding(over time.Duration) *crowding {
	c := &crowding{sample: []metrics.Sample{{Name: schedLatencies}}}
	metrics.Read(c.sample)
	if c.sample[0].Value.Kind() != metrics.KindFloat64Histogram {
		return c // a runtime without the metric: never crowded
	}
	h := c.sample[0].Value.Float64Histogram()
	c.from, c.bound = len(h.Counts), over
	for i := range h.Counts {
		if h.Buckets[i] >= over.Seconds() {
			c.from, c.bound = i, time.Duration(h.Buckets[i]*float64(time.Second)).Round(10*time.Microsecond)
			break
		}
	}
	c.last = append([]uint64(nil), h.Counts...)
	return c
}

// read returns how many waits the runtime sampled since the previous
// read, and how many of them lasted at least Over.
func (c *crowding) read() (long, sampled uint64) {
	if c.last == nil {
		return 0, 0
	}
	metrics.Read(c.sample)
	h := c.sample[0].Value.Float64Histogram()
	for i, n := range h.Counts {
		d := n - c.last[i]
		sampled += d
		if i >= c.from {
			long += d
		}
		c.last[i] = n
	}
	return long, sampled
}

// crowdedShare is the share of long waits for a core above which a second
// counts as crowded in the benchmarks' lines.
const crowdedShare = 0.03

// crowdingBySecond is how crowded the cores were in each second of a run:
// the waits for a core sampled, and the long ones among them.
type crowdingBySecond struct {
	mu     sync.Mutex
	over   time.Duration
	start  time.Time
	secs   map[int][2]uint64 // second of the run → long, sampled
	done   chan struct{}
	cancel context.CancelFunc
}

// watchCrowding reads the scheduling latencies about every 250 ms from
// now for duration, until ctx ends or wait is called, each reading counted
// in the second of the run the middle of the span it covers fell in (a
// reading late because the cores were crowded covers more).
func watchCrowding(ctx context.Context, duration time.Duration) *crowdingBySecond {
	ctx, cancel := context.WithCancel(ctx)
	r := newCrowding(5 * time.Millisecond)
	c := &crowdingBySecond{over: r.bound, start: time.Now(), secs: map[int][2]uint64{}, done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(c.done)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		prev := c.start
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				long, n := r.read()
				now := time.Now()
				c.add(prev.Add(now.Sub(prev)/2), long, n)
				prev = now
				if now.Sub(c.start) >= duration {
					return
				}
			}
		}
	}()
	return c
}

func (c *crowdingBySecond) add(at time.Time, long, sampled uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := int(at.Sub(c.start) / time.Second)
	v := c.secs[s]
	c.secs[s] = [2]uint64{v[0] + long, v[1] + sampled}
}

// String says it in one line: the seconds over crowdedShare, the ten most
// crowded of them named, and the share over the rest of the run.
func (c *crowdingBySecond) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	what := fmt.Sprintf("the cores: waits for a core of %v or more (the runtime's scheduling latencies, sampled)", c.over)
	share := func(v [2]uint64) float64 { return float64(v[0]) / float64(max(1, v[1])) }
	var crowded []int
	var rest [2]uint64
	for s, v := range c.secs {
		if share(v) > crowdedShare {
			crowded = append(crowded, s)
		} else {
			rest[0], rest[1] = rest[0]+v[0], rest[1]+v[1]
		}
	}
	if len(crowded) == 0 {
		return fmt.Sprintf("%s: no second over %.0f%%; %.1f%% of %d over the run", what, 100*crowdedShare, 100*share(rest), rest[1])
	}
	restLine := fmt.Sprintf("%.1f%% of %d in the other seconds", 100*share(rest), rest[1])
	if rest[1] == 0 {
		restLine = "no other second sampled"
	}
	slices.Sort(crowded)
	var parts []string
	for _, s := range topSeconds(crowded, func(s int) float64 { return share(c.secs[s]) }) {
		parts = append(parts, fmt.Sprintf("%d: %.1f%%", s, 100*share(c.secs[s])))
	}
	return fmt.Sprintf("%s: over %.0f%% in %d seconds of the run from second %d to %d (%s); %s",
		what, 100*crowdedShare, len(crowded), crowded[0], crowded[len(crowded)-1], strings.Join(parts, ", "), restLine)
}

// wait ends the readings, if the run ended before its duration, and
// returns once they have.
func (c *crowdingBySecond) wait() {
	c.cancel()
	<-c.done
}
