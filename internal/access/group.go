package access

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"qorgan/internal/store"
)

// Batches that arrive while a transaction is being written are written
// together in the next one: a group commit, as the DC-09 receiver does for
// alarms. On SQLite's single writer each transaction costs a commit (the
// log write and its fsync) whatever its size, so at the morning peak, when
// many controllers post at once, this is what keeps the intake ahead. Each
// caller resolves its own credentials first, in parallel, and waits for the
// transaction that carries its batch; the committer runs only while there
// is work and leaves no goroutine behind.
type groupCommit struct {
	mu      sync.Mutex
	pending []*intake
	running bool

	transactions, batches atomic.Uint64
}

// GroupStats says how many intake transactions were written and how many
// batches they carried.
func (s *Service) GroupStats() (transactions, batches uint64) {
	return s.group.transactions.Load(), s.group.batches.Load()
}

// intake is one caller's batch on its way through a group commit.
type intake struct {
	passes []Pass
	fresh  []Pass
	res    Result
	err    error
	done   chan struct{}
}

// groupTimeout bounds one group's transaction (and its retries).
const groupTimeout = time.Minute

// maxGroup bounds the passes of one transaction, so that a crowd of
// controllers still gets answered in steps rather than all at once.
const maxGroup = 4 * MaxBatch

// commit writes a batch through the group commit and returns what it did.
func (s *Service) commit(ctx context.Context, passes []Pass) (Result, error) {
	in := &intake{passes: passes, done: make(chan struct{})}
	g := &s.group
	g.mu.Lock()
	g.pending = append(g.pending, in)
	if !g.running {
		g.running = true
		// The committer serves other callers too: it must not stop when
		// this caller goes away.
		go s.commitLoop(context.WithoutCancel(ctx))
	}
	g.mu.Unlock()
	select {
	case <-in.done:
		return in.res, in.err
	case <-ctx.Done():
		// The batch may still be written; a device that sends it again
		// gets its events counted as duplicates, nothing doubled.
		return Result{}, ctx.Err()
	}
}

func (s *Service) commitLoop(ctx context.Context) {
	g := &s.group
	for {
		g.mu.Lock()
		n, size := 0, 0
		for n < len(g.pending) && (n == 0 || size+len(g.pending[n].passes) <= maxGroup) {
			size += len(g.pending[n].passes)
			n++
		}
		group := g.pending[:n:n]
		g.pending = g.pending[n:]
		if len(group) == 0 {
			g.running = false
			g.pending = nil
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		s.commitGroup(ctx, group)
	}
}

// commitGroup writes the group in one transaction. Should that fail, each
// batch is written on its own, so that one batch's failure is its own.
func (s *Service) commitGroup(ctx context.Context, group []*intake) {
	// A stuck transaction must not hold every caller of the node for ever,
	// and a panic in it fails its group, not the process.
	ctx, cancel := context.WithTimeout(ctx, groupTimeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			for _, in := range group {
				select {
				case <-in.done:
				default:
					in.res, in.err = Result{}, fmt.Errorf("intake: %v", r)
					close(in.done)
				}
			}
		}
	}()
	s.group.transactions.Add(1)
	s.group.batches.Add(uint64(len(group)))
	err := s.DB.InTx(ctx, func(tx *store.Tx) error { return s.write(ctx, tx, group) })
	if err != nil && len(group) > 1 {
		for _, in := range group {
			in.err = s.DB.InTx(ctx, func(tx *store.Tx) error { return s.write(ctx, tx, []*intake{in}) })
		}
	} else {
		for _, in := range group {
			in.err = err
		}
	}
	stored := false
	for _, in := range group {
		if in.err != nil {
			in.res = Result{}
		}
		stored = stored || (in.err == nil && in.res.Stored > 0)
	}
	if stored {
		s.wake()
	}
	for _, in := range group {
		close(in.done)
	}
}
