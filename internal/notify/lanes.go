package notify

import (
	"sync"
	"time"

	"qorgan/internal/urgent"
)

// lanes holds the messages a worker has claimed until their outcome is
// known. Each channel's wait in the order claimed for a delivery slot — at
// most cap deliveries in flight, at most channelCap of one channel, so that
// a slow provider leaves slots to the others — and a delivery ending
// starts the next, the channels taking turns at a free slot; no goroutine
// exists for a message before its slot does.
type lanes struct {
	cap, channelCap int
	deliver         func(queued) outcome // sends one message, or gives it back
	done            func(outcome)        // takes an outcome for the record
	freed           chan struct{}        // a delivery ended
	// giveWay, while active, holds the deliveries in flight to yieldCap
	// for at most giveWayAtMost: an alarm is on its way and gets the cores
	// first.
	giveWay       *urgent.Signal
	yieldCap      int
	giveWayAtMost time.Duration

	mu          sync.Mutex
	waiting     map[ChannelName][]queued
	running     map[ChannelName]int
	inFlight    int
	held        map[ChannelName]int // claimed and not yet done: in flight or waiting
	heldAll     int
	resuming    bool      // a goroutine waits for giveWay to clear, to start the rest
	heldSince   time.Time // when deliveries were first held back for the alarms now on their way
	heldEpisode uint64    // the giveWay episode heldSince belongs to
	wg          sync.WaitGroup
}

// queued is a claimed message waiting for its slot, and the time by which
// its send must begin (see Worker.Run).
type queued struct {
	m       Message
	startBy time.Time
}

func newLanes(cap, channelCap int, giveWay *urgent.Signal, giveWayAtMost time.Duration, deliver func(queued) outcome, done func(outcome)) *lanes {
	return &lanes{cap: cap, channelCap: channelCap, giveWay: giveWay, yieldCap: max(1, cap/8), giveWayAtMost: giveWayAtMost,
		deliver: deliver, done: done, freed: make(chan struct{}, 1),
		waiting: map[ChannelName][]queued{}, running: map[ChannelName]int{}, held: map[ChannelName]int{}}
}

// add queues claimed messages and starts as many as there are slots for.
func (l *lanes) add(msgs []Message, startBy time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range msgs {
		l.waiting[m.Channel] = append(l.waiting[m.Channel], queued{m: m, startBy: startBy})
		l.held[m.Channel]++
		l.heldAll++
	}
	l.start()
}

// start launches waiting messages while slots are free, the channels
// taking turns. While alarms are on their way, it launches only up to
// yieldCap in all: the rest wait until the alarms are answered, or for
// giveWayAtMost, after which all go, at full concurrency until those alarms
// have cleared (one stretch of alarms holds the deliveries back once).
// l.mu is held.
func (l *lanes) start() {
	limit := l.cap
	active := l.giveWay.Active()
	if ep := l.giveWay.Episode(); active && ep != l.heldEpisode {
		l.heldSince, l.heldEpisode = time.Time{}, ep // a new stretch of alarms
	}
	if active && (l.heldSince.IsZero() || time.Since(l.heldSince) < l.giveWayAtMost) {
		limit = min(l.cap, l.yieldCap)
	}
	for more := true; more && l.inFlight < limit; {
		more = false
		for _, c := range Channels {
			q := l.waiting[c]
			if len(q) == 0 || l.running[c] >= l.channelCap || l.inFlight >= limit {
				continue
			}
			next := q[0]
			q[0] = queued{}
			l.waiting[c] = q[1:]
			l.running[c]++
			l.inFlight++
			more = true
			l.wg.Add(1)
			go l.run(next)
		}
	}
	switch {
	case !active:
		l.heldSince = time.Time{}
	case limit == l.cap:
		// Held back for GiveWayAtMost already: full concurrency until
		// these alarms clear, however long they last.
	case l.heldAll > l.inFlight: // held back for an alarm
		if l.heldSince.IsZero() {
			l.heldSince = time.Now()
		}
		if !l.resuming {
			l.resuming = true
			go l.resume(l.heldSince.Add(l.giveWayAtMost))
		}
	}
}

// resume starts the held-back deliveries once no alarm is on its way, or
// at the latest at until.
func (l *lanes) resume(until time.Time) {
	t := time.NewTimer(time.Until(until))
	defer t.Stop()
	select {
	case <-l.giveWay.Cleared():
	case <-t.C:
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.resuming = false
	l.start()
}

func (l *lanes) run(q queued) {
	defer l.wg.Done()
	l.done(l.deliver(q))
	l.mu.Lock()
	l.running[q.m.Channel]--
	l.inFlight--
	l.held[q.m.Channel]--
	l.heldAll--
	l.start()
	l.mu.Unlock()
	select {
	case l.freed <- struct{}{}:
	default:
	}
}

// holding says how many messages are held in all, and of channel c (with
// c empty, in all only).
func (l *lanes) holding(c ChannelName) (all, ofChannel int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.heldAll, l.held[c]
}

// stop gives back every message still waiting, through give, and waits for
// the deliveries in flight to end.
func (l *lanes) stop(give func(Message) outcome) {
	l.mu.Lock()
	for c, q := range l.waiting {
		for _, x := range q {
			l.done(give(x.m))
			l.held[c]--
			l.heldAll--
		}
		delete(l.waiting, c)
	}
	l.mu.Unlock()
	l.wg.Wait()
}
