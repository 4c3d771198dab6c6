package notify

import (
	"context"
	"testing"

	"qorgan/internal/store"
)

// EnqueueT writes msgs to the outbox in one transaction, failing t on an
// error, and returns how many were new: the opening of most outbox tests,
// inside this package and out.
func EnqueueT(t testing.TB, db *store.DB, msgs ...Message) int {
	t.Helper()
	var n int
	err := db.InTx(context.Background(), func(tx *store.Tx) error {
		var err error
		n, err = Enqueue(context.Background(), tx, msgs)
		return err
	})
	if err != nil {
		t.Fatalf("enqueue: %v", err)
	}
	return n
}
