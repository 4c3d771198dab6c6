package dc09gw_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/bits"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"qorgan/internal/ingest/dc09gw"
	"qorgan/internal/protocol/dc09"
)

// pickySink refuses, as a store may, every commit that holds a frame with a
// NUL in its data; with down set it refuses every commit, and with hang it
// waits for the commit's time to run out.
type pickySink struct {
	down, hang atomic.Bool
	commits    atomic.Int32
	mu         sync.Mutex
	stored     map[string]int // account/sequence → times stored
}

var errRefused = errors.New("test: invalid byte sequence (SQLSTATE 22021)")

func (s *pickySink) Commit(ctx context.Context, frames []dc09gw.Frame) error {
	s.commits.Add(1)
	if s.hang.Load() {
		<-ctx.Done()
		return ctx.Err()
	}
	if s.down.Load() {
		return errDiskFull
	}
	for _, f := range frames {
		if strings.Contains(f.Message.Data, "\x00") {
			return errRefused
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stored == nil {
		s.stored = map[string]int{}
	}
	for _, f := range frames {
		s.stored[f.Account+"/"+f.Message.Sequence]++
	}
	return nil
}

func (s *pickySink) times(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stored[key]
}

// oddFrame is a frame with a right CRC and a NUL and a 0xFF byte in its
// data, which pickySink refuses.
func oddFrame(t testing.TB, seq int) []byte {
	t.Helper()
	b, err := dc09.Encode(dc09.Message{Token: dc09.TokenSIADCS, Sequence: fmt.Sprintf("%04d", seq),
		Prefix: "0", Account: "5678", Data: "#5678|Nri1/PA501^\x00\xff^"})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// maxPartCommits is the most commits a pass that isolates frames makes
// before one succeeds.
func maxPartCommits(n int) int { return 2*bits.Len(uint(n)) + 2 }

// TestOddFrameIsolatedFromGroupCommit: a frame the store refuses, in one
// group commit with twenty good ones from other connections, leaves only
// itself unanswered: the good ones are committed in parts and ACKed, in a
// few commits rather than one per frame, and so again when the panel
// retransmits it into the next group commit.
func TestOddFrameIsolatedFromGroupCommit(t *testing.T) {
	sink := &pickySink{}
	rec := &logRecorder{}
	r := start(t, dc09gw.Config{BatchWait: 200 * time.Millisecond, Logger: slog.New(rec)}, sink, plainAccounts)
	const n = 20
	good := make([]*replyReader, n)
	for i := range good {
		good[i] = &replyReader{c: dialTCP(t, r.Addr())}
	}
	odd := &replyReader{c: dialTCP(t, r.Addr())}
	for round := range 2 {
		before := sink.commits.Load()
		for i, rr := range good {
			if i == n/3 {
				write(t, odd.c, oddFrame(t, 77)) // among the others
			}
			write(t, rr.c, plainFrame(t, "1234", round*n+i+1, "PA"))
		}
		for i, rr := range good {
			wantACK(t, rr.mustReply(t), round*n+i+1)
			if k := fmt.Sprintf("1234/%04d", round*n+i+1); sink.times(k) != 1 {
				t.Fatalf("round %d: %s stored %d times", round, k, sink.times(k))
			}
		}
		odd.expectSilence(t, 300*time.Millisecond)
		commits := int(sink.commits.Load() - before)
		if commits < 2 || commits > 1+2*maxPartCommits(n+1) {
			t.Errorf("round %d: %d commits for %d frames with one the store refuses", round, commits, n+1)
		}
	}
	st := r.Stats()
	if st.SplitCommits != 2 || st.Unanswered != 2 || st.Accepted != 2*n {
		t.Errorf("stats: %d split commits, %d unanswered, %d ACKed; want 2, 2 and %d", st.SplitCommits, st.Unanswered, st.Accepted, 2*n)
	}
	if got := rec.find(map[string]string{"reason": "commit-failed", "account": "5678", "seq": "0077"}); len(got) == 0 || got[0].level != slog.LevelError {
		t.Errorf("the frame that failed alone was not logged as such: %+v", got)
	}
}

// TestStoreDownNotCommittedFrameByFrame: when every commit fails, the
// frames of a failed group commit are tried in parts only a few times, not
// one by one, and all are left unanswered for the panels to retransmit.
func TestStoreDownNotCommittedFrameByFrame(t *testing.T) {
	sink := &pickySink{}
	sink.down.Store(true)
	r := start(t, dc09gw.Config{BatchWait: 200 * time.Millisecond}, sink, plainAccounts)
	const n = 64
	conns := make([]*replyReader, n)
	for i := range conns {
		conns[i] = &replyReader{c: dialTCP(t, r.Addr())}
	}
	for i, rr := range conns {
		write(t, rr.c, plainFrame(t, "1234", i+1, "PA"))
	}
	waitFor(t, "every frame left unanswered", 5*time.Second, func() bool { return r.Stats().Unanswered == n })
	for _, rr := range conns[:4] {
		rr.expectSilence(t, 50*time.Millisecond)
	}
	if got, most := int(sink.commits.Load()), 1+maxPartCommits(n); got > most {
		t.Errorf("%d commits for %d frames with the store down, want at most %d", got, n, most)
	}
}

// TestTimedOutCommitNotSplit: a group commit that runs out of time is the
// store being slow; its frames are not tried again in parts.
func TestTimedOutCommitNotSplit(t *testing.T) {
	sink := &pickySink{}
	sink.hang.Store(true)
	r := start(t, dc09gw.Config{BatchWait: 100 * time.Millisecond, CommitTimeout: 200 * time.Millisecond}, sink, plainAccounts)
	conns := make([]*replyReader, 4)
	for i := range conns {
		conns[i] = &replyReader{c: dialTCP(t, r.Addr())}
		write(t, conns[i].c, plainFrame(t, "1234", i+1, "PA"))
	}
	waitFor(t, "the frames left unanswered", 5*time.Second, func() bool { return r.Stats().Unanswered == 4 })
	if st := r.Stats(); st.Commits != 1 || st.SplitCommits != 0 {
		t.Errorf("%d commits, %d split, want 1 and 0", st.Commits, st.SplitCommits)
	}
}
