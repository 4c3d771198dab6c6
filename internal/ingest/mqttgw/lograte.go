package mqttgw

import (
	"sync"
	"time"
)

// logLimiter lets one log line through per device and reason per interval
// and counts the ones it holds back, so that a device publishing garbage in
// a loop does not drown the log.
type logLimiter struct {
	every time.Duration

	mu      sync.Mutex
	entries map[limitKey]*limitEntry
}

type limitKey struct{ device, reason string }

type limitEntry struct {
	next       time.Time
	suppressed int
}

// heldBack is a device and reason whose last lines were not logged.
type heldBack struct {
	device, reason string
	count          int
}

// overflowDevice stands for every device once the table is full (many
// client ids at once: a misconfigured fleet, or someone probing the ACL).
const overflowDevice = "*"

const maxEntries = 10_000

func newLogLimiter(every time.Duration) *logLimiter {
	return &logLimiter{every: every, entries: map[limitKey]*limitEntry{}}
}

// allow reports whether a line for device and reason may be logged now, and
// how many were held back since the last one.
func (l *logLimiter) allow(now time.Time, device, reason string) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := limitKey{device, reason}
	e := l.entries[k]
	if e == nil && len(l.entries) >= maxEntries {
		k = limitKey{overflowDevice, reason}
		e = l.entries[k]
	}
	if e == nil {
		l.entries[k] = &limitEntry{next: now.Add(l.every)}
		return true, 0
	}
	if now.Before(e.next) {
		e.suppressed++
		return false, 0
	}
	n := e.suppressed
	e.next, e.suppressed = now.Add(l.every), 0
	return true, n
}

// flush forgets the entries whose interval is over and returns those that
// held lines back, so that the end of a flood is still counted in the log.
func (l *logLimiter) flush(now time.Time) []heldBack {
	l.mu.Lock()
	defer l.mu.Unlock()
	var held []heldBack
	for k, e := range l.entries {
		if now.Before(e.next) {
			continue
		}
		if e.suppressed > 0 {
			held = append(held, heldBack{k.device, k.reason, e.suppressed})
		}
		delete(l.entries, k)
	}
	return held
}
