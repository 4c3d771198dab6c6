package urgent_test

import (
	"sync"
	"testing"
	"time"

	"qorgan/internal/urgent"
)

func closedNow(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// TestSignal: active from the first Begin to the last End; Cleared is
// closed at once when nothing is on its way and otherwise when the last
// End comes, and a nil Signal is never active.
func TestSignal(t *testing.T) {
	var nothing *urgent.Signal
	nothing.Begin()
	nothing.End()
	if nothing.Active() || !closedNow(nothing.Cleared()) {
		t.Fatal("a nil Signal is active")
	}

	s := new(urgent.Signal)
	if s.Active() || !closedNow(s.Cleared()) {
		t.Fatal("a new Signal is active")
	}
	s.Begin()
	s.Begin()
	c := s.Cleared()
	if !s.Active() || closedNow(c) {
		t.Fatal("two alarms on their way: not active, or cleared")
	}
	s.End()
	if !s.Active() || closedNow(c) {
		t.Fatal("one alarm still on its way: not active, or cleared")
	}
	s.End()
	if s.Active() || !closedNow(c) {
		t.Fatal("the last alarm answered: still active, or not cleared")
	}
	if s.Episode() != 1 {
		t.Fatalf("one stretch of alarms counted as %d", s.Episode())
	}
	s.Begin()
	if c2 := s.Cleared(); closedNow(c2) {
		t.Fatal("an alarm on its way again: a cleared channel from before")
	}
	s.Begin()
	s.End()
	s.End()
	if s.Episode() != 2 {
		t.Fatalf("two stretches of alarms counted as %d", s.Episode())
	}

	defer func() {
		if recover() == nil {
			t.Error("End without Begin did not panic")
		}
	}()
	s.End()
}

// TestSignalConcurrent: many alarms beginning and ending at once; whoever
// waits on Cleared while one is on its way is woken once none is.
func TestSignalConcurrent(t *testing.T) {
	s := new(urgent.Signal)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 2000 {
				s.Begin()
				c := s.Cleared()
				if closedNow(c) {
					t.Error("cleared while this goroutine's alarm is on its way")
				}
				s.End()
			}
		})
	}
	wg.Wait()
	if s.Active() {
		t.Fatal("active after every End")
	}
	s.Begin()
	c := s.Cleared()
	go func() {
		time.Sleep(10 * time.Millisecond)
		s.End()
	}()
	select {
	case <-c:
	case <-time.After(5 * time.Second):
		t.Fatal("Cleared was not closed by the last End")
	}
}
