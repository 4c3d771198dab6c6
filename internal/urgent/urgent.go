// Package urgent tells the work that can wait when an alarm is on its way
// through the process, so that it gives way.
//
// Go schedules goroutines without priorities: at the morning peak a couple
// of hundred webhook deliveries in flight (each an HTTP client's goroutines)
// are queued for the same two cores as the goroutines that read an alarm
// frame, commit it and write its ACK, and every hop of the alarm's way waits
// behind them. The alarm receivers mark each alarm from when it is read to
// when it is answered (Begin, End); the notification worker starts fewer
// deliveries while any is marked (Active, Cleared) and the rest as soon as
// none is.
//
// The package imports nothing of Qorgan's, so that the receivers and the
// worker, which know nothing of each other, can share one Signal wired in
// by the server.
package urgent

import (
	"sync"
	"sync/atomic"
)

// Signal counts the alarms on their way. The zero Signal is ready; a nil
// *Signal is never active, so a component built without one behaves as
// before.
type Signal struct {
	n        atomic.Int64
	episodes atomic.Uint64 // times n rose from zero

	mu      sync.Mutex
	cleared chan struct{} // closed when n falls to zero; nil while none is waited for
}

// Begin marks one alarm on its way. Every Begin needs its End.
func (s *Signal) Begin() {
	if s != nil && s.n.Add(1) == 1 {
		s.episodes.Add(1)
	}
}

// End marks an alarm answered (or given up). When it was the last, the
// channels returned by Cleared are closed.
func (s *Signal) End() {
	if s == nil {
		return
	}
	n := s.n.Add(-1)
	if n < 0 {
		panic("urgent: End without Begin")
	}
	if n > 0 {
		return
	}
	s.mu.Lock()
	if s.cleared != nil && s.n.Load() == 0 {
		close(s.cleared)
		s.cleared = nil
	}
	s.mu.Unlock()
}

// Active reports whether an alarm is on its way now.
func (s *Signal) Active() bool { return s != nil && s.n.Load() > 0 }

// Episode counts the times an alarm began its way when none was: two calls
// that return the same number while Active was true all along saw one
// stretch of alarms, so that whoever gives way can bound how long it does
// so for each stretch.
func (s *Signal) Episode() uint64 {
	if s == nil {
		return 0
	}
	return s.episodes.Load()
}

// Cleared returns a channel that is closed once no alarm is on its way:
// already closed when none is now.
func (s *Signal) Cleared() <-chan struct{} {
	if s == nil || s.n.Load() == 0 {
		return closed
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n.Load() == 0 {
		return closed
	}
	if s.cleared == nil {
		s.cleared = make(chan struct{})
	}
	return s.cleared
}

var closed = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()
