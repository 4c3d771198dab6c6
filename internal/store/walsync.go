package store

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// SQLite with synchronous=FULL makes a commit durable by syncing the log
// (the -wal file) inside COMMIT, while the one writer connection is held:
// every other writer waits for the disk as well, and the DC-09 receiver's
// next group commit cannot start until the last one's sync is over. Qorgan
// runs the writer with synchronous=NORMAL instead — COMMIT writes the log
// and returns — and syncs the log itself, after the writer is free and
// before the caller is told the commit happened (walSyncer). What a caller
// is told is committed is on disk exactly as with FULL: the log is written
// in commit order and SQLite's recovery keeps its longest valid prefix (the
// frames' checksums are cumulative), so a sync that starts after commit n
// returned covers commit n and every commit before it. One sync covers all
// the commits that returned while the previous sync ran, so under load
// many commits share one. What changes is that a reader may see a commit
// for the few milliseconds until its sync returns; nothing Qorgan tells a
// sender (an ACK, a response) depends on that before the sync.
//
// SQLite syncs the log's header itself when it starts the log anew (also in
// NORMAL mode), and the log before and the database after each checkpoint.

// walSyncer syncs one database's -wal file on behalf of the commits that
// wait for it.
type walSyncer struct {
	path string // the -wal file
	sync func(path string) error

	mu        sync.Mutex
	cond      *sync.Cond
	committed uint64              // commits that returned (numbered from 1)
	synced    uint64              // every commit up to this one is on disk
	syncing   bool                // a sync is running (its leader holds no lock)
	covering  uint64              // the last commit the running sync covers
	failed    error               // a sync failed: nothing after it is known durable
	syncs     uint64              // syncs run, for tests and figures
	timed     prometheus.Observer // each sync's duration, when set
}

func newWALSyncer(dbPath string) *walSyncer {
	s := &walSyncer{path: dbPath + "-wal", sync: fsyncFile}
	s.cond = sync.NewCond(&s.mu)
	return s
}

// commit numbers a commit that has just returned. It is called by the one
// writer, in commit order, before the writer is given to anyone else.
func (s *walSyncer) commit() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.committed++
	return s.committed
}

// wait returns when commit n is on disk. The first waiter to find no sync
// running starts one covering every commit that has returned so far; the
// others wait for it, and one of them starts the next if theirs was not
// covered. A failed sync fails this wait and every later one: once the disk
// has refused a write, no later sync proves the earlier commits are there
// (Linux reports a write-back error once), so Qorgan stops acknowledging.
func (s *walSyncer) wait(n uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.synced < n {
		if s.failed != nil {
			return s.failed
		}
		if s.syncing {
			s.cond.Wait()
			continue
		}
		s.syncing = true
		upTo := s.committed
		s.covering = upTo
		s.mu.Unlock()
		began := time.Now()
		err := s.sync(s.path)
		if s.timed != nil {
			s.timed.Observe(time.Since(began).Seconds())
		}
		s.mu.Lock()
		s.syncing = false
		s.syncs++
		if err != nil {
			s.failed = fmt.Errorf("sync the SQLite log %s: %w (commits are no longer acknowledged; restart after checking the disk)", s.path, err)
			slog.Error("sqlite: syncing the log failed", "path", s.path, "err", err)
		} else if upTo > s.synced {
			s.synced = upTo
		}
		s.cond.Broadcast()
	}
	return nil
}

// fsyncFile syncs a file's data to disk (syncData). The file is opened for each sync:
// an fsync through any descriptor syncs the file, and a descriptor kept
// open could outlive a log SQLite removed and made again. A log that is not
// there holds nothing to sync: SQLite removes it only after copying it back
// into the database file and syncing that.
func fsyncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	err = syncData(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
