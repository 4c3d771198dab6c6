package attendance

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

// yieldPasses is how many passes the intake writes between two looks at
// the alarm lane. On SQLite an alarm waits for the transaction in progress
// on the one writer; a group of a thousand passes takes tens of
// milliseconds to write, so a group is written in portions of about this
// many passes (whole batches, at least one), and when an alarm is waiting
// after a portion the transaction commits there, the alarm goes, and the
// rest of the group follows in a new transaction. At about 40 µs a pass
// inside the transaction an alarm waits a few milliseconds behind a
// portion of small batches; behind one large batch (up to MaxBatch) it
// waits for that batch, which is written whole.
const yieldPasses = 100

// commitGroup writes the group in as few transactions as the alarms allow
// (see yieldPasses). The transactions follow one another without waiting
// for the log sync in between, and the batches are answered once the last
// one's commit is on disk (one sync covers them all). Should a transaction
// fail, each batch it carried is written on its own, so that one batch's
// failure is its own.
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
	s.group.batches.Add(uint64(len(group)))
	type committed struct {
		batches []*intake
		durable func() error
	}
	var done []committed
	for rest := group; len(rest) > 0; {
		s.group.transactions.Add(1)
		var written, carried int // batches of rest written, and in the transaction when it failed
		durable, err := s.DB.InTxThen(ctx, func(tx *store.Tx) error {
			written, carried = 0, 0
			for written < len(rest) {
				n := portion(rest[written:])
				carried = written + n
				if err := s.write(ctx, tx, rest[written:carried]); err != nil {
					return err
				}
				written = carried
				if tx.AlarmWaiting() {
					break
				}
			}
			return nil
		})
		if err == nil {
			done = append(done, committed{rest[:written], durable})
			rest = rest[written:]
			continue
		}
		if carried == 0 {
			carried = len(rest) // no batch was written: the transaction did not start
		}
		this := rest[:carried]
		if len(this) > 1 {
			for _, in := range this {
				in.err = s.DB.InTx(ctx, func(tx *store.Tx) error { return s.write(ctx, tx, []*intake{in}) })
			}
		} else {
			this[0].err = err
		}
		done = append(done, committed{this, nil})
		rest = rest[carried:]
	}
	var all []*intake
	for _, c := range done {
		if c.durable != nil {
			if err := c.durable(); err != nil {
				for _, in := range c.batches {
					in.err = err
				}
			}
		}
		all = append(all, c.batches...)
	}
	s.answer(all)
}

// portion is how many of the batches go into the next portion: whole
// batches up to yieldPasses passes, at least one.
func portion(batches []*intake) int {
	n, size := 0, 0
	for n < len(batches) && (n == 0 || size+len(batches[n].passes) <= yieldPasses) {
		size += len(batches[n].passes)
		n++
	}
	return n
}

// answer tells the batches' callers what was stored, waking the
// notification worker when something was.
func (s *Service) answer(batches []*intake) {
	stored := false
	for _, in := range batches {
		if in.err != nil {
			in.res = Result{}
		}
		stored = stored || (in.err == nil && in.res.Stored > 0)
	}
	if stored {
		s.wake()
	}
	for _, in := range batches {
		close(in.done)
	}
}
