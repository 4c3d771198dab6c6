package store

import (
	"context"
	"errors"
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
