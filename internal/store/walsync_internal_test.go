package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// heldSync is a log sync that waits until released, recording what each
// sync covered (the commits that had returned when it started).
type heldSync struct {
	s       *walSyncer
	mu      sync.Mutex
	covered []uint64
	started chan struct{}
	release chan error
}

func holdSyncs(s *walSyncer) *heldSync {
	h := &heldSync{s: s, started: make(chan struct{}, 16), release: make(chan error, 16)}
	s.sync = func(path string) error {
		s.mu.Lock()
		upTo := s.covering
		s.mu.Unlock()
		h.mu.Lock()
		h.covered = append(h.covered, upTo)
		h.mu.Unlock()
		h.started <- struct{}{}
		return <-h.release
	}
	return h
}

func waitFor(t *testing.T, c <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// TestWALSyncerCoalesces: a wait returns only after a sync that started
// after its commit; commits that return while a sync runs share the next
// one; a wait for a commit already covered runs no sync.
func TestWALSyncerCoalesces(t *testing.T) {
	s := newWALSyncer(filepath.Join(t.TempDir(), "x.db"))
	h := holdSyncs(s)
	n1 := s.commit()
	done := make(chan uint64, 3)
	go func() { s.wait(n1); done <- n1 }()
	waitFor(t, h.started, "the first sync")
	n2, n3 := s.commit(), s.commit() // they return while the first sync runs
	go func() { s.wait(n2); done <- n2 }()
	go func() { s.wait(n3); done <- n3 }()
	select {
	case n := <-done:
		t.Fatalf("wait(%d) returned before any sync finished", n)
	case <-time.After(50 * time.Millisecond):
	}
	h.release <- nil
	if n := <-done; n != n1 {
		t.Fatalf("wait(%d) returned after the sync that covered only commit %d", n, n1)
	}
	waitFor(t, h.started, "the second sync")
	select {
	case n := <-done:
		t.Fatalf("wait(%d) returned before the sync that covers it finished", n)
	case <-time.After(50 * time.Millisecond):
	}
	h.release <- nil
	<-done
	<-done
	if err := s.wait(n3); err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.covered) != 2 || h.covered[0] != 1 || h.covered[1] != 3 {
		t.Fatalf("syncs covered %v, want [1 3]: two syncs for three commits", h.covered)
	}
}

// TestWALSyncerFailureSticks: once a sync fails, no commit is reported
// durable again, even when a later sync would succeed.
func TestWALSyncerFailureSticks(t *testing.T) {
	s := newWALSyncer(filepath.Join(t.TempDir(), "x.db"))
	h := holdSyncs(s)
	n := s.commit()
	h.release <- errors.New("EIO")
	if err := s.wait(n); err == nil {
		t.Fatal("a failed sync reported the commit durable")
	}
	<-h.started
	m := s.commit()
	h.release <- nil
	if err := s.wait(m); err == nil {
		t.Fatal("a commit after a failed sync reported durable")
	}
}

// TestSQLiteFullSyncsOutsideTheWriter, on a real SQLite file opened with
// Synchronous FULL: the writer runs NORMAL and FULL is reported; a commit
// does not return from InTx until the log sync that covers it has; and
// while that sync runs, the writer is free — another transaction commits.
func TestSQLiteFullSyncsOutsideTheWriter(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "q.db")
	db, err := connect(Config{Path: path, Synchronous: "FULL"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.wal == nil {
		t.Fatal("no log syncer with Synchronous FULL")
	}
	var pragma int
	if err := db.W.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&pragma); err != nil || pragma != 1 {
		t.Fatalf("writer synchronous = %d (%v), want 1 (NORMAL)", pragma, err)
	}
	if got, err := db.SQLiteSynchronous(ctx); err != nil || got != "FULL" {
		t.Fatalf("SQLiteSynchronous = %q, %v; want FULL", got, err)
	}
	if _, err := db.W.ExecContext(ctx, "CREATE TABLE t (v INTEGER)"); err != nil {
		t.Fatal(err)
	}
	// Real syncs first: the log file is there and a sync of it works.
	if err := db.InTx(ctx, func(tx *Tx) error { _, err := tx.ExecContext(ctx, "INSERT INTO t VALUES (1)"); return err }); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Fatalf("the log: %v", err)
	}
	db.wal.mu.Lock()
	syncs := db.wal.syncs
	db.wal.mu.Unlock()
	if syncs == 0 {
		t.Fatal("InTx returned without a sync of the log")
	}
	h := holdSyncs(db.wal)
	first := make(chan error, 1)
	go func() {
		first <- db.InTx(ctx, func(tx *Tx) error { _, err := tx.ExecContext(ctx, "INSERT INTO t VALUES (2)"); return err })
	}()
	waitFor(t, h.started, "the sync of the first commit")
	// The first InTx is waiting for its sync; the writer is not.
	durable, err := db.InUrgentTxThen(ctx, func(tx *Tx) error { _, err := tx.ExecContext(ctx, "INSERT INTO t VALUES (3)"); return err })
	if err != nil {
		t.Fatalf("a second transaction while the first one's sync runs: %v", err)
	}
	select {
	case err := <-first:
		t.Fatalf("InTx returned (%v) before its sync did", err)
	default:
	}
	h.release <- nil
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	second := make(chan error, 1)
	go func() { second <- durable() }()
	waitFor(t, h.started, "the sync of the second commit")
	select {
	case err := <-second:
		t.Fatalf("durable returned (%v) before the sync that covers it", err)
	case <-time.After(50 * time.Millisecond):
	}
	h.release <- nil
	if err := <-second; err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.R.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 3 {
		t.Fatalf("rows = %d (%v), want 3", n, err)
	}
}

// TestSQLiteNormalHasNoSyncer: NORMAL is SQLite's own, with no sync of
// Qorgan's after the commit.
func TestSQLiteNormalHasNoSyncer(t *testing.T) {
	db, err := connect(Config{Path: filepath.Join(t.TempDir(), "q.db"), Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.wal != nil {
		t.Fatal("a log syncer with Synchronous NORMAL")
	}
	if got, err := db.SQLiteSynchronous(context.Background()); err != nil || got != "NORMAL" {
		t.Fatalf("SQLiteSynchronous = %q, %v; want NORMAL", got, err)
	}
}

// TestOpenSyncsTheMigrations: the migrations write outside InTx; Open
// syncs the log once they are done, before it returns.
func TestOpenSyncsTheMigrations(t *testing.T) {
	db, err := Open(context.Background(), Config{Path: filepath.Join(t.TempDir(), "q.db"), Synchronous: "FULL"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.wal.mu.Lock()
	defer db.wal.mu.Unlock()
	if db.wal.syncs == 0 || db.wal.synced != db.wal.committed {
		t.Fatalf("after Open: %d syncs, synced up to %d of %d commits", db.wal.syncs, db.wal.synced, db.wal.committed)
	}
}

// TestWriterTimings, on a real SQLite file with Synchronous FULL: an alarm
// that queues behind a transaction held for 30 ms is counted in the alarm
// lane's wait for the writer (at least 30 ms), the holder in the other
// lane's hold (at least 30 ms), each commit's wait for its log sync in its
// lane, and each sync once.
func TestWriterTimings(t *testing.T) {
	ctx := context.Background()
	db, err := connect(Config{Path: filepath.Join(t.TempDir(), "q.db"), Synchronous: "FULL"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.W.ExecContext(ctx, "CREATE TABLE t (v INTEGER)"); err != nil {
		t.Fatal(err)
	}
	before := db.Timings()
	holding := make(chan struct{})
	held := make(chan error, 1)
	go func() {
		held <- db.InTx(ctx, func(tx *Tx) error {
			close(holding)
			time.Sleep(30 * time.Millisecond)
			_, err := tx.ExecContext(ctx, "INSERT INTO t VALUES (1)")
			return err
		})
	}()
	<-holding
	if err := db.InUrgentTx(ctx, func(tx *Tx) error { _, err := tx.ExecContext(ctx, "INSERT INTO t VALUES (2)"); return err }); err != nil {
		t.Fatal(err)
	}
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	after := db.Timings()
	got := func(name string) Timing { return after[name].Since(before[name]) }
	for name, want := range map[string]uint64{
		"writer_wait_seconds/alarm": 1, "writer_hold_seconds/alarm": 1, "commit_sync_wait_seconds/alarm": 1,
		"writer_wait_seconds/other": 1, "writer_hold_seconds/other": 1, "commit_sync_wait_seconds/other": 1,
	} {
		if n := got(name).Count; n != want {
			t.Errorf("%s counted %d, want %d", name, n, want)
		}
	}
	if q := got("writer_wait_seconds/alarm").Quantile(1); q < 30*time.Millisecond {
		t.Errorf("the alarm's wait for the writer ≤ %v, want ≥ 30 ms (it queued behind a 30 ms transaction)", q)
	}
	if q := got("writer_hold_seconds/other").Quantile(1); q < 30*time.Millisecond {
		t.Errorf("the 30 ms transaction's hold ≤ %v", q)
	}
	if q := got("writer_hold_seconds/alarm").Quantile(1); q >= 30*time.Millisecond {
		t.Errorf("the alarm's own transaction held the writer for up to %v", q)
	}
	db.wal.mu.Lock()
	syncs := db.wal.syncs
	db.wal.mu.Unlock()
	if n := got("log_sync_seconds").Count; n == 0 || n > syncs {
		t.Errorf("%d log syncs timed, %d run", n, syncs)
	}
	var empty Timing
	if empty.Quantile(0.99) != 0 {
		t.Error("an empty histogram's quantile is not 0")
	}
}

// TestFsyncFile: the log's sync works on a real file, finds nothing to do
// when the log is not there, and names the file when the sync itself
// fails.
func TestFsyncFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "q.db-wal")
	if err := os.WriteFile(path, []byte("frames"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := fsyncFile(path); err != nil {
		t.Fatalf("sync of a written file: %v", err)
	}
	if err := fsyncFile(filepath.Join(dir, "gone-wal")); err != nil {
		t.Fatalf("sync of a log that is not there: %v, want nil", err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := syncData(f); err == nil {
		t.Fatal("sync of a closed file: no error")
	}
}
