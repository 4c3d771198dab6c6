package dc09gw

import (
	"sync/atomic"
	"time"
)

// BatchSizeBounds are the upper bounds of the Stats.BatchSizes buckets.
var BatchSizeBounds = [...]int{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000}

// Stats counts what the receiver did since it started.
type Stats struct {
	// Frames is the number of frames read: cut from TCP streams or UDP
	// datagrams, good or not.
	Frames uint64
	// Accepted frames were committed and answered ACK.
	Accepted uint64
	// NAKs: refused frames (checks failed, unknown account…).
	NAKs uint64
	// DUHs: frames answered DUH, committed ones (unknown event code) and
	// ones with an unsupported token.
	DUHs uint64
	// Ignored frames got no answer: not DC-09 at all, or a response token.
	Ignored uint64
	// Unanswered frames got no answer because their commit failed.
	Unanswered uint64
	// UnknownAccounts counts frames refused for an unregistered account.
	UnknownAccounts uint64
	// LookupErrors counts frames left unanswered because Accounts failed.
	LookupErrors uint64
	// GarbageBytes were skipped in TCP streams: bytes outside frames and
	// oversize frames.
	GarbageBytes uint64

	// Commits is the number of Sink.Commit calls; CommitErrors of them
	// failed. CommittedFrames is the sum of their batch sizes.
	Commits         uint64
	CommitErrors    uint64
	CommittedFrames uint64
	LargestBatch    uint64
	// SplitCommits counts group commits that failed and whose frames were
	// committed again in parts, to leave out only the frames that fail
	// alone; the parts are among Commits.
	SplitCommits uint64
	// BatchSizes[i] counts commits of at most BatchSizeBounds[i] frames
	// (and more than the bound before); the last bucket counts the rest.
	BatchSizes [len(BatchSizeBounds) + 1]uint64
	// CommitTime is the total time spent in Sink.Commit.
	CommitTime time.Duration

	// Connections is the number of TCP connections open now.
	Connections int64
	// ConnectionsRefused were closed at once for a connection limit.
	ConnectionsRefused uint64
	// ConnectionsEvicted were closed to make room for a newcomer because
	// they had not proved themselves with a frame when a limit was reached.
	ConnectionsEvicted uint64
	// UDPDropped datagrams found MaxUDPInFlight reached.
	UDPDropped uint64
}

// counters is the live form of Stats.
type counters struct {
	frames, acks, naks, duhs, ignored, unanswered atomic.Uint64
	unknownAccounts, lookupErrors, garbage        atomic.Uint64
	commits, commitErrors, committed, largest     atomic.Uint64
	splitCommits                                  atomic.Uint64
	batchSizes                                    [len(BatchSizeBounds) + 1]atomic.Uint64
	commitNanos                                   atomic.Int64
	connections                                   atomic.Int64
	refused, evicted, udpDropped                  atomic.Uint64
}

func (c *counters) commit(n int, took time.Duration, err error) {
	c.commits.Add(1)
	if err != nil {
		c.commitErrors.Add(1)
	}
	c.committed.Add(uint64(n))
	if uint64(n) > c.largest.Load() {
		c.largest.Store(uint64(n)) // one committer: no race on the maximum
	}
	i := 0
	for i < len(BatchSizeBounds) && n > BatchSizeBounds[i] {
		i++
	}
	c.batchSizes[i].Add(1)
	c.commitNanos.Add(int64(took))
}

func (c *counters) snapshot() Stats {
	s := Stats{
		Frames:             c.frames.Load(),
		Accepted:           c.acks.Load(),
		NAKs:               c.naks.Load(),
		DUHs:               c.duhs.Load(),
		Ignored:            c.ignored.Load(),
		Unanswered:         c.unanswered.Load(),
		UnknownAccounts:    c.unknownAccounts.Load(),
		LookupErrors:       c.lookupErrors.Load(),
		GarbageBytes:       c.garbage.Load(),
		Commits:            c.commits.Load(),
		CommitErrors:       c.commitErrors.Load(),
		CommittedFrames:    c.committed.Load(),
		LargestBatch:       c.largest.Load(),
		SplitCommits:       c.splitCommits.Load(),
		CommitTime:         time.Duration(c.commitNanos.Load()),
		Connections:        c.connections.Load(),
		ConnectionsRefused: c.refused.Load(),
		ConnectionsEvicted: c.evicted.Load(),
		UDPDropped:         c.udpDropped.Load(),
	}
	for i := range s.BatchSizes {
		s.BatchSizes[i] = c.batchSizes[i].Load()
	}
	return s
}
