package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// Listen calls heard each time a transaction that notified channel
// (InOrderNotifying) commits, on any node, until ctx ends. It holds a
// connection of its own (LISTEN), and heard is also called each time that
// connection is made again after a failure, since notifications sent
// meanwhile are lost. On SQLite, where one process is the only writer,
// there is nothing to hear and it returns at once.
func (db *DB) Listen(ctx context.Context, channel string, heard func(), logErr func(error)) {
	if db.Dialect != Postgres {
		return
	}
	for first := true; ctx.Err() == nil; first = false {
		if !first {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
		err := db.listen(ctx, channel, heard, !first)
		if err != nil && ctx.Err() == nil {
			logErr(err)
		}
	}
}

func (db *DB) listen(ctx context.Context, channel string, heard func(), again bool) error {
	conn, err := pgx.Connect(ctx, db.url)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return err
	}
	if again {
		heard()
	}
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		heard()
	}
}
