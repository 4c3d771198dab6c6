package dc09gw

import (
	"context"
	"log/slog"
	"math/bits"
	"runtime"
	"slices"
	"time"
)

// yieldRounds bounds how often the committer yields to let ready
// connections queue their frames before it commits.
const yieldRounds = 4

// pending is a frame waiting for its commit; done receives the result.
type pending struct {
	frame Frame
	src   source
	done  chan error
	read  time.Time // when it was read and checked (monotonic), for CommitTimes
}

// commitLoop is the one goroutine that calls Sink.Commit. Frames from all
// connections queue up while a commit runs, and the next commit takes them
// all: the cost of a durable transaction is shared by the whole batch.
// It returns when the queue is closed and drained.
func (r *Receiver) commitLoop() {
	if _, ok := r.sink.(PipelinedSink); ok {
		r.synced = make(chan committed, syncedDepth)
		acked := make(chan struct{})
		go func() {
			defer close(acked)
			r.answerLoop()
		}()
		defer func() {
			close(r.synced)
			<-acked
		}()
	}
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
		r.commitBatch(batch, frames)
		clear(batch)
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

// commitBatch commits a batch in one Sink.Commit and tells each frame how
// it went. When that fails, the frames are committed again in parts (see
// isolate), so that a frame the store refuses, whatever the reason, takes
// no other panel's frame down with it. A commit that ran out of time is
// not split: that is the store being slow, not a frame.
func (r *Receiver) commitBatch(batch []*pending, frames []Frame) {
	durable, timedOut, err := r.commit(frames, r.cfg.CommitTimeout)
	if err == nil && r.synced != nil {
		// Answered by answerLoop once on disk; the batch's slice is
		// reused by the next commit.
		r.synced <- committed{batch: slices.Clone(batch), durable: durable}
		return
	}
	if err == nil {
		err = durable()
	}
	if err != nil && len(batch) > 1 && !timedOut && r.work.Err() == nil {
		r.isolate(batch, frames, err)
		return
	}
	if err != nil {
		r.log.Error("dc09: commit failed; frames left unanswered for the panels to retransmit",
			"frames", len(frames), "err", err)
	}
	for _, p := range batch {
		p.done <- err
	}
}

// syncedDepth is how many committed batches may wait for their sync
// before the committer waits too.
const syncedDepth = 16

// committed is a batch whose commit returned, waiting to be on disk.
type committed struct {
	batch   []*pending
	durable func() error
}

// answerLoop answers the batches a PipelinedSink committed, in commit
// order, each once its durable returns: with nil the frames are ACKed;
// otherwise they are left unanswered, as after a failed commit.
func (r *Receiver) answerLoop() {
	for c := range r.synced {
		err := c.durable()
		if err != nil {
			r.stats.commitErrors.Add(1)
			r.log.Error("dc09: batch committed but not known to be on disk; frames left unanswered for the panels to retransmit",
				"frames", len(c.batch), "err", err)
		}
		for _, p := range c.batch {
			p.done <- err
		}
	}
}

// commit calls the sink with a time limit: CommitThen for a
// PipelinedSink, whose durable the caller must see return nil before it
// answers; Commit otherwise (durable then returns nil at once). timedOut
// reports that the commit failed with the limit passed.
func (r *Receiver) commit(frames []Frame, limit time.Duration) (durable func() error, timedOut bool, err error) {
	ctx, cancel := context.WithTimeout(r.work, limit)
	defer cancel()
	start := time.Now()
	durable = durableNow
	if ps, ok := r.sink.(PipelinedSink); ok {
		durable, err = ps.CommitThen(ctx, frames)
	} else {
		err = r.sink.Commit(ctx, frames)
	}
	r.stats.commit(len(frames), time.Since(start), err)
	return durable, err != nil && ctx.Err() != nil, err
}

// isolation is one pass of isolate.
type isolation struct {
	deadline  time.Time
	budget    int // failed commits allowed before one succeeds
	failed    int
	succeeded bool
	commits   int
	committed int // frames committed in parts
	alone     int // frames that failed alone
	untried   int // frames left when the pass stopped
	last      error
}

// isolate commits the frames of a failed group commit again in halves, and
// the halves of a half that fails, down to single frames, in their order.
// Every part that commits is answered. A frame that fails alone is left
// unanswered, as a frame whose commit fails always is, and logged: the
// panel retransmits it, and when it fails alone each time, it is the only
// frame that does. One such frame among n costs about 2·log2(n) commits,
// where committing the frames one by one would cost n. The pass stops,
// leaving the frames it has not committed unanswered for the panels to
// retransmit, when it has taken CommitTimeout, when the receiver stops,
// or when its first 2·log2(n)+2 commits have all failed: the store is
// failing then, not a frame, and trying every part would only add load.
func (r *Receiver) isolate(batch []*pending, frames []Frame, err error) {
	r.stats.splitCommits.Add(1)
	iso := &isolation{deadline: time.Now().Add(r.cfg.CommitTimeout), budget: 2*bits.Len(uint(len(batch))) + 2, last: err}
	r.split(iso, batch, frames)
	r.log.Error("dc09: group commit failed; its frames were committed again in parts",
		"frames", len(batch), "committed", iso.committed, "failed_alone", iso.alone, "left_untried", iso.untried,
		"commits", iso.commits, "err", err, "last_err", iso.last)
}

func (r *Receiver) split(iso *isolation, batch []*pending, frames []Frame) {
	half := len(batch) / 2
	for _, part := range [2][2]int{{0, half}, {half, len(batch)}} {
		b, f := batch[part[0]:part[1]], frames[part[0]:part[1]]
		left := time.Until(iso.deadline)
		if left <= 0 || r.work.Err() != nil || !iso.succeeded && iso.failed >= iso.budget {
			iso.untried += len(b)
			for _, p := range b {
				p.done <- iso.last
			}
			continue
		}
		durable, _, err := r.commit(f, left)
		if err == nil {
			err = durable()
		}
		iso.commits++
		switch {
		case err == nil:
			iso.succeeded = true
			iso.committed += len(b)
			for _, p := range b {
				p.done <- nil
			}
		case len(b) == 1:
			iso.failed++
			iso.last = err
			iso.alone++
			p := b[0]
			r.reject(slog.LevelError, p.src, "commit-failed", p.frame.Raw, p.frame.Message, err)
			p.done <- err
		default:
			iso.failed++
			iso.last = err
			r.split(iso, b, f)
		}
	}
}
