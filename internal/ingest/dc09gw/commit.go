package dc09gw

import (
	"context"
	"runtime"
	"time"
)

// yieldRounds bounds how often the committer yields to let ready
// connections queue their frames before it commits.
const yieldRounds = 4

// pending is a frame waiting for its commit; done receives the result.
type pending struct {
	frame Frame
	done  chan error
}

// commitLoop is the one goroutine that calls Sink.Commit. Frames from all
// connections queue up while a commit runs, and the next commit takes them
// all: the cost of a durable transaction is shared by the whole batch.
// It returns when the queue is closed and drained.
func (r *Receiver) commitLoop() {
	batch := make([]*pending, 0, r.cfg.MaxBatch)
	frames := make([]Frame, 0, r.cfg.MaxBatch)
	var wait *time.Timer
	if r.cfg.BatchWait > 0 {
		wait = time.NewTimer(time.Hour)
		wait.Stop()
	}
	for {
		first, ok := <-r.queue
		if !ok {
			return
		}
		batch = append(batch[:0], first)
		closed := false
		batch, closed = r.fill(batch, wait)
		frames = frames[:0]
		for _, p := range batch {
			frames = append(frames, p.frame)
		}
		err := r.commit(frames)
		for i, p := range batch {
			p.done <- err
			batch[i] = nil
		}
		clear(frames)
		if closed {
			return
		}
	}
}

// fill adds what is queued to the batch, waiting up to BatchWait after the
// first frame when the batch is not full. It reports whether the queue was
// found closed.
func (r *Receiver) fill(batch []*pending, wait *time.Timer) ([]*pending, bool) {
	for round := 0; ; round++ {
		before := len(batch)
		for len(batch) < r.cfg.MaxBatch {
			select {
			case p, ok := <-r.queue:
				if !ok {
					return batch, true
				}
				batch = append(batch, p)
				continue
			default:
			}
			break
		}
		if round >= yieldRounds || len(batch) == before || len(batch) >= r.cfg.MaxBatch {
			break
		}
		// Connections that have a frame read and are about to queue it
		// get to run first: waiting for work that is ready costs no idle
		// time, unlike waiting for a timer.
		runtime.Gosched()
	}
	if wait == nil || len(batch) >= r.cfg.MaxBatch {
		return batch, false
	}
	wait.Reset(r.cfg.BatchWait)
	defer wait.Stop()
	for len(batch) < r.cfg.MaxBatch {
		select {
		case p, ok := <-r.queue:
			if !ok {
				return batch, true
			}
			batch = append(batch, p)
		case <-wait.C:
			return batch, false
		}
	}
	return batch, false
}

func (r *Receiver) commit(frames []Frame) error {
	ctx, cancel := context.WithTimeout(r.work, r.cfg.CommitTimeout)
	defer cancel()
	start := time.Now()
	err := r.sink.Commit(ctx, frames)
	r.stats.commit(len(frames), time.Since(start), err)
	if err != nil {
		r.log.Error("dc09: commit failed; frames left unanswered for the panels to retransmit",
			"frames", len(frames), "err", err)
	}
	return err
}
