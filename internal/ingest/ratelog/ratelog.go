// Package ratelog keeps the gateways' rejection logs readable: one line per
// source and reason per interval, with a count of the ones held back.
package ratelog

import (
	"sync"
	"time"
)

// Limiter lets one log line through per source and reason per interval
// and counts the ones it holds back, so that a flood of garbage or a
// misconfigured panel retrying every second does not drown the log.
type Limiter struct {
	every time.Duration

	mu        sync.Mutex
	entries   map[limitKey]*limitEntry
	lastSweep time.Time
}

type limitKey struct{ source, reason string }

type limitEntry struct {
	next       time.Time
	suppressed int
}

// HeldBack is a source and reason whose last lines were not logged.
type HeldBack struct {
	Source, Reason string
	Count          int
}

// overflowSource stands for every source once the table is full.
const overflowSource = "*"

// maxEntries bounds the table when sources are many (spoofed UDP, a misconfigured fleet): past
// it, entries whose interval is over are dropped uncounted, and new
// sources share one entry.
const maxEntries = 10_000

// New returns a Limiter that lets one line through per interval.
func New(every time.Duration) *Limiter {
	return &Limiter{every: every, entries: map[limitKey]*limitEntry{}}
}

// Allow reports whether a line for source and reason may be logged now,
// and how many were held back since the last one.
func (l *Limiter) Allow(now time.Time, source, reason string) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := limitKey{source, reason}
	e := l.entries[k]
	if e == nil && len(l.entries) >= maxEntries {
		if now.Sub(l.lastSweep) >= l.every/10 {
			l.lastSweep = now
			for k, e := range l.entries {
				if !now.Before(e.next) {
					delete(l.entries, k)
				}
			}
		}
		if len(l.entries) >= maxEntries {
			// Too many sources at once (spoofed UDP, a misconfigured fleet): count them together.
			k = limitKey{overflowSource, reason}
			e = l.entries[k]
		}
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

// Flush forgets the entries whose interval is over and returns those that
// held lines back, so that the end of a flood is still counted in the log.
func (l *Limiter) Flush(now time.Time) []HeldBack {
	l.mu.Lock()
	defer l.mu.Unlock()
	var held []HeldBack
	for k, e := range l.entries {
		if now.Before(e.next) {
			continue
		}
		if e.suppressed > 0 {
			held = append(held, HeldBack{k.source, k.reason, e.suppressed})
		}
		delete(l.entries, k)
	}
	return held
}
