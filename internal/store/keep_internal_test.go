package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
)

// What a transaction registered with OnRollback is undone when it fails,
// when it panics (the panic goes on, the writer is free for the next
// transaction), and not when it commits.
func TestOnRollback(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, Config{Path: filepath.Join(t.TempDir(), "undo.db"), Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	undone := map[string]bool{}
	run := func(name string, fn func() error) (err error) {
		return db.InTx(ctx, func(tx *Tx) error {
			tx.OnRollback(func() { undone[name] = true })
			return fn()
		})
	}
	if err := run("failed", func() error { return errors.New("no") }); err == nil || !undone["failed"] {
		t.Fatalf("a failed transaction: %v, undone %v", err, undone["failed"])
	}
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Fatalf("the panic came out as %v", r)
			}
		}()
		run("panicked", func() error { panic("boom") })
	}()
	if !undone["panicked"] {
		t.Fatal("a transaction that panicked was not undone")
	}
	if err := run("committed", func() error { return nil }); err != nil || undone["committed"] {
		t.Fatalf("a committed transaction: %v, undone %v", err, undone["committed"])
	}
}
