package store

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// SQLite in WAL mode copies the log back into the database file at a
// checkpoint. Left to itself it does so inside the commit that crosses the
// threshold, on the one writer connection, so every few hundred commits an
// alarm waits for it. Qorgan runs the checkpoint on its own connection in
// the background instead, where it overlaps with the writer (a PASSIVE
// checkpoint takes no lock the writer needs); the writer's own automatic
// checkpoint stays as a safety net at a much larger log size.
const (
	// checkpointEvery is how often the background checkpoint runs while
	// there are new commits. Each run copies back every page written since
	// the last, and the hot pages (the indexes' last leaves) are written in
	// nearly every commit: at 250 ms they were copied four times as often,
	// which cost the alarms' and the passes' intake about a tenth of their
	// CPU and bytes written (see the README's benchmarks).
	checkpointEvery = time.Second
	// writerCheckpointPages is the log size (pages) at which the writer
	// checkpoints itself, should the background one fall behind.
	writerCheckpointPages = 16384
)

type checkpointer struct {
	conn   *sql.DB
	dirty  atomic.Bool
	stop   chan struct{}
	done   sync.WaitGroup
	closed sync.Once
}

func startCheckpointer(conn *sql.DB) *checkpointer {
	c := &checkpointer{conn: conn, stop: make(chan struct{})}
	c.done.Add(1)
	go c.run()
	return c
}

// wrote records that a commit added to the log.
func (c *checkpointer) wrote() { c.dirty.Store(true) }

func (c *checkpointer) run() {
	defer c.done.Done()
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			if !c.dirty.Swap(false) {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			var busy, logPages, done int
			err := c.conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logPages, &done)
			cancel()
			if err != nil {
				slog.Warn("sqlite background checkpoint", "err", err)
			}
			if err != nil || busy != 0 || done < logPages {
				// Not all of the log made it back (a reader held an older
				// snapshot): try again next time without waiting for a commit.
				c.dirty.Store(true)
			}
		}
	}
}

func (c *checkpointer) close() error {
	c.closed.Do(func() { close(c.stop) })
	c.done.Wait()
	return c.conn.Close()
}
