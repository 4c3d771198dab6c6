package store

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
)

// gate orders writers on SQLite's single write connection: an urgent writer
// (an alarm) goes before every ordinary one (attendance, imports) that is
// waiting, so an alarm waits at most for the one transaction in progress;
// writers of one kind go in the order they came. database/sql hands a freed
// connection to waiters in no particular order. A writer whose context ends
// while it waits leaves the queue, so a request that was given up on does
// not hold its place.
type gate struct {
	mu     sync.Mutex
	busy   bool
	urgent []chan struct{} // waiting, in arrival order; closed when it is their turn
	normal []chan struct{}
	// urgents is len(urgent), read without the lock by the writer in
	// progress (urgentWaiting).
	urgents atomic.Int32
}

func newGate() *gate { return &gate{} }

// enter waits for the writer's turn, or for ctx to end (then the caller
// does not hold the gate and gets ctx's error).
func (g *gate) enter(ctx context.Context, urgent bool) error {
	g.mu.Lock()
	if !g.busy && (urgent || len(g.urgent) == 0) {
		g.busy = true
		g.mu.Unlock()
		return nil
	}
	turn := make(chan struct{})
	if urgent {
		g.urgent = append(g.urgent, turn)
		g.urgents.Store(int32(len(g.urgent)))
	} else {
		g.normal = append(g.normal, turn)
	}
	g.mu.Unlock()
	select {
	case <-turn:
		return nil
	case <-ctx.Done():
	}
	g.abandon(turn)
	return ctx.Err()
}

// abandon takes a writer who gave up out of the queue; if their turn had
// come meanwhile, it passes the gate on.
func (g *gate) abandon(turn chan struct{}) {
	g.mu.Lock()
	select {
	case <-turn:
		g.mu.Unlock()
		g.leave()
		return
	default:
	}
	g.urgent = slices.DeleteFunc(g.urgent, func(c chan struct{}) bool { return c == turn })
	g.urgents.Store(int32(len(g.urgent)))
	g.normal = slices.DeleteFunc(g.normal, func(c chan struct{}) bool { return c == turn })
	g.mu.Unlock()
}

// leave hands the gate to the first urgent writer waiting, else to the
// first ordinary one, else opens it.
func (g *gate) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, q := range []*[]chan struct{}{&g.urgent, &g.normal} {
		if len(*q) > 0 {
			next := (*q)[0]
			*q = (*q)[1:]
			g.urgents.Store(int32(len(g.urgent)))
			close(next) // busy stays true: the gate goes straight to it
			return
		}
	}
	g.busy = false
}

// urgentWaiting reports whether an urgent writer waits for the gate.
func (g *gate) urgentWaiting() bool { return g.urgents.Load() > 0 }
