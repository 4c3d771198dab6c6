package store

import (
	"fmt"
	"os"
	"sync"
)

// SingleWriter reports whether every write to this database comes from
// this handle, one transaction at a time: SQLite, whose file one Qorgan
// process serves. Then what the writer needs to decide can be kept in the
// process beside the database (Keep) instead of in an index every commit
// writes. PostgreSQL may have several nodes writing at once: false.
func (db *DB) SingleWriter() bool { return db.gate != nil }

// kept is state held beside a single-writer database (see Keep).
type kept struct {
	mu   sync.Mutex
	m    map[any]any
	lock *os.File // the writer's claim on the file (SoleWriter)
}

// SoleWriter makes sure that this handle is the only one deciding from
// what it keeps (Keep): the first call takes an exclusive lock on a file
// beside the database (its name and "-qorgan-writer"), held until Close,
// and fails, naming the file, while another handle or process holds it —
// two servers on one SQLite file would each keep their own retransmission
// window and store the same frame twice. Where file locks are not
// available it claims nothing.
func (db *DB) SoleWriter() error {
	if !db.SingleWriter() || db.path == "" {
		return nil
	}
	db.kept.mu.Lock()
	defer db.kept.mu.Unlock()
	if db.kept.lock != nil {
		return nil
	}
	name := db.path + "-qorgan-writer"
	f, err := os.OpenFile(name, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("claim the SQLite file's writer: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return fmt.Errorf("another Qorgan server writes alarms to this SQLite file (%s is locked): %w", name, err)
	}
	db.kept.lock = f
	return nil
}

// release gives up the writer's claim.
func (k *kept) release() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.lock != nil {
		k.lock.Close()
		k.lock = nil
	}
}

// Keep returns the value kept with this database under key, made by mk
// the first time it is asked for. Every service on the same DB shares it;
// it lives as long as the handle. Its owner reads and changes it inside
// write transactions, where the single writer makes it consistent with the
// database, and registers with Tx.OnRollback how to take back a change made
// by a transaction that does not commit.
func (db *DB) Keep(key any, mk func() any) any {
	db.kept.mu.Lock()
	defer db.kept.mu.Unlock()
	if db.kept.m == nil {
		db.kept.m = map[any]any{}
	}
	v, ok := db.kept.m[key]
	if !ok {
		v = mk()
		db.kept.m[key] = v
	}
	return v
}

// OnRollback has f run if this transaction does not commit — rolled back,
// or its COMMIT failed — before the writer takes the next transaction.
// Functions run in the reverse of the order they were registered.
func (t *Tx) OnRollback(f func()) { t.undo = append(t.undo, f) }

// rolledBack runs what OnRollback registered.
func (t *Tx) rolledBack() {
	for i := len(t.undo) - 1; i >= 0; i-- {
		t.undo[i]()
	}
	t.undo = nil
}
