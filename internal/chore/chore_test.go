package chore_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"qorgan/internal/chore"
)

// TestEvery: the job runs at once, again at each tick, its count and its
// failures are logged, and Every returns when the context ends.
func TestEvery(t *testing.T) {
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&syncWriter{b: &logs}, nil))
	ctx, cancel := context.WithCancel(context.Background())
	var runs atomic.Int32
	done := make(chan struct{})
	go func() {
		defer close(done)
		chore.Every(ctx, 10*time.Millisecond, log, "old things deleted", "rows", func(context.Context) (int64, error) {
			switch runs.Add(1) {
			case 1:
				return 3, nil
			case 2:
				return 0, errors.New("disk on fire")
			}
			return 0, nil
		})
	}()
	deadline := time.Now().Add(5 * time.Second)
	for runs.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("the job ran %d times in 5 s", runs.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	out := logs.String()
	if !strings.Contains(out, `msg="old things deleted" rows=3`) || !strings.Contains(out, `msg="old things deleted: failed" err="disk on fire"`) {
		t.Errorf("logs:\n%s", out)
	}
}

type syncWriter struct {
	mu atomic.Bool
	b  *strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	for !w.mu.CompareAndSwap(false, true) {
	}
	defer w.mu.Store(false)
	return w.b.Write(p)
}
