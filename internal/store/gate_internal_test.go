package store

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestGate: the urgent writer goes first, ordinary ones in the order they
// came, and one whose context ends leaves the queue without holding it up.
func TestGate(t *testing.T) {
	g := newGate()
	ctx := context.Background()
	if err := g.enter(ctx, false); err != nil {
		t.Fatal(err)
	}
	order := make(chan string, 4)
	waiting := func(n int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			g.mu.Lock()
			k := len(g.urgent) + len(g.normal)
			g.mu.Unlock()
			if k == n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d writers waiting, want %d", k, n)
			}
			time.Sleep(time.Millisecond)
		}
	}
	run := func(name string, urgent bool, ctx context.Context, errc chan<- error) {
		go func() {
			err := g.enter(ctx, urgent)
			if err == nil {
				order <- name
				g.leave()
			}
			if errc != nil {
				errc <- err
			}
		}()
	}
	run("first", false, ctx, nil)
	waiting(1)
	gone, give := context.WithCancel(ctx)
	errc := make(chan error, 1)
	run("given up", false, gone, errc)
	waiting(2)
	run("second", false, ctx, nil)
	waiting(3)
	run("alarm", true, ctx, nil)
	waiting(4)
	give()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("a writer given up on: %v", err)
	}
	waiting(3)
	g.leave()
	var got []string
	for range 3 {
		select {
		case n := <-order:
			got = append(got, n)
		case <-time.After(5 * time.Second):
			t.Fatalf("the gate stuck after %v", got)
		}
	}
	if want := []string{"alarm", "first", "second"}; len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("order %v, want %v", got, want)
	}
	if err := g.enter(ctx, false); err != nil {
		t.Fatal(err)
	}
	if !g.busy {
		t.Fatal("the gate is not taken")
	}
	g.leave()
	if g.busy {
		t.Fatal("the gate stayed shut with nobody waiting")
	}
}

// TestGateUnderCancellation: many writers, a third of them giving up at
// random moments, some just as their turn comes; at no time do two hold
// the gate, and every one that was not given up on gets through.
func TestGateUnderCancellation(t *testing.T) {
	g := newGate()
	var inside, through, gaveUp atomic.Int32
	var wg sync.WaitGroup
	for i := range 400 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if i%3 == 0 {
				go func() {
					time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
					cancel()
				}()
			}
			if err := g.enter(ctx, i%7 == 0); err != nil {
				gaveUp.Add(1)
				return
			}
			if n := inside.Add(1); n != 1 {
				t.Errorf("%d writers hold the gate", n)
			}
			time.Sleep(20 * time.Microsecond)
			inside.Add(-1)
			through.Add(1)
			g.leave()
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("stuck: %d through, %d gave up", through.Load(), gaveUp.Load())
	}
	if through.Load()+gaveUp.Load() != 400 || through.Load() < 266 {
		t.Fatalf("%d through, %d gave up", through.Load(), gaveUp.Load())
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.busy || len(g.urgent)+len(g.normal) != 0 {
		t.Fatalf("left busy %v with %d waiting", g.busy, len(g.urgent)+len(g.normal))
	}
}

// TestGateTurnAsGivenUp: a writer whose turn comes just as it gives up
// passes the gate to the next one instead of keeping it shut.
func TestGateTurnAsGivenUp(t *testing.T) {
	g := newGate()
	if err := g.enter(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	a, b := make(chan struct{}), make(chan struct{})
	g.normal = append(g.normal, a, b) // two writers waiting
	g.leave()                         // a's turn…
	g.abandon(a)                      // …as a gives up
	select {
	case <-b:
	default:
		t.Fatal("the gate was not passed on to the next writer")
	}
	g.leave()
	if g.busy || len(g.normal) != 0 {
		t.Fatalf("busy %v, %d waiting", g.busy, len(g.normal))
	}
}
