package notify_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"qorgan/internal/notify"
	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
)

// BenchmarkOutbox measures the outbox end to end with a no-op channel: a
// producer enqueues batches of 500 messages in their own transactions (as
// the passes intake does) while a worker claims, "delivers" and marks them
// sent; msgs/s is the rate at which messages reach "sent", worker-txs/1000msgs
// the worker's write transactions (claims, and outcomes recorded alone) per
// thousand messages. One b.Loop iteration is one batch.
//
//	go test -run '^$' -bench Outbox -benchtime 100x ./internal/notify/
func BenchmarkOutbox(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchOutbox(b, storetest.SQLite(b)) })
	b.Run("postgres", func(b *testing.B) { benchOutbox(b, storetest.Postgres(b)) })
}

func benchOutbox(b *testing.B, db *store.DB) {
	ctx := context.Background()
	o := notify.New(db)
	noop := notify.ChannelFunc(func(context.Context, notify.Message) error { return nil })
	w := &notify.Worker{Outbox: o, Channels: map[notify.ChannelName]notify.Channel{notify.ChannelWebhook: noop}, Log: quiet,
		Batch: 1000, Concurrency: 2000, Poll: 20 * time.Millisecond}
	stop := start(b, w)
	const batch = 500
	total := 0
	began := time.Now()
	for b.Loop() {
		msgs := make([]notify.Message, batch)
		for i := range msgs {
			msgs[i] = message(fmt.Sprintf("bench/%d", total+i), notify.ChannelWebhook, "https://school.example/hook")
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			_, err := notify.Enqueue(ctx, tx, msgs)
			return err
		}); err != nil {
			b.Fatal(err)
		}
		w.Wake()
		total += batch
	}
	enqueued := time.Since(began)
	for w.Stats().Sent < uint64(total) {
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(began)
	stop()
	b.ReportMetric(float64(total)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(total)/enqueued.Seconds(), "enqueued/s")
	// The worker's turns on the store's writer, a count that does not move
	// with the machine's load.
	s := w.Stats()
	b.ReportMetric(1000*float64(s.Claims+s.Finishes)/float64(total), "worker-txs/1000msgs")
}
