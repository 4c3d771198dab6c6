package alarm

import (
	"sync"
	"time"
)

// heardEvery is how often a device heard again and again has its
// last_seen_at written. A panel in an alarm storm sends tens of frames a
// second, and writing its device_status row in every group commit was a
// twentieth of the commit's CPU; supervision counts in reporting intervals
// of 20 s (SP6) and more, so a second of lag changes nothing it decides.
const heardEvery = time.Second

// heardLog remembers when this node last wrote each device's
// last_seen_at, as committed. A device heard again less than heardEvery
// after that is neither written nor looked up for a "communication lost"
// alarm to resolve: none can have been raised since (Supervise forgets the
// devices it declares lost, so the next signal from one is looked up). On
// PostgreSQL with several nodes, a Supervise on another node does not reach
// this log: a device it declares lost from a stale read has its alarm
// resolved by its first signal a second or more after this node's write.
type heardLog struct {
	mu sync.Mutex
	at map[int64]time.Time
}

// heardLogMax bounds the log; past it, it starts again empty (every device
// is then written once more).
const heardLogMax = 200_000

// recent reports whether the device's last_seen_at was written for a time
// from at−heardEvery to at. A signal from before the written time (the
// clock stepped back) is written, as it was before the log.
func (l *heardLog) recent(device int64, at time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	w, ok := l.at[device]
	return ok && !at.Before(w) && at.Sub(w) < heardEvery
}

// wrote records what a committed transaction wrote.
func (l *heardLog) wrote(written map[int64]time.Time) {
	if len(written) == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.at == nil || len(l.at)+len(written) > heardLogMax {
		l.at = make(map[int64]time.Time, len(written))
	}
	for id, at := range written {
		l.at[id] = at
	}
}

// forget makes the next signal from each device write and look up again.
func (l *heardLog) forget(devices ...int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, id := range devices {
		delete(l.at, id)
	}
}
