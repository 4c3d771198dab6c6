package store

import "sync"

// gate orders writers on SQLite's single write connection: an urgent writer
// (an alarm) goes before every ordinary one (attendance, imports) that is
// waiting, so an alarm waits at most for the one transaction in progress.
// database/sql hands a freed connection to waiters in no particular order.
type gate struct {
	mu      sync.Mutex
	cond    *sync.Cond
	busy    bool
	urgentQ int // urgent writers waiting
}

func newGate() *gate {
	g := &gate{}
	g.cond = sync.NewCond(&g.mu)
	return g
}

func (g *gate) enter(urgent bool) {
	g.mu.Lock()
	if urgent {
		g.urgentQ++
		for g.busy {
			g.cond.Wait()
		}
		g.urgentQ--
	} else {
		for g.busy || g.urgentQ > 0 {
			g.cond.Wait()
		}
	}
	g.busy = true
	g.mu.Unlock()
}

func (g *gate) leave() {
	g.mu.Lock()
	g.busy = false
	g.mu.Unlock()
	g.cond.Broadcast()
}
