package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// Listen calls heard each time a transaction that notified channel
// (InOrderNotifying) commits, on any node, until ctx ends. It holds a
// connection of its own (LISTEN); heard is also called each time that
// connection starts listening, the first time included, since what was
// committed before could not be heard. A failed connection is made again
// after a second, then after twice as long each time it fails again (at
// most a minute), and each failure is handed to logErr. Behind a pooler
// in transaction mode LISTEN hears nothing: the caller's own look at the
// store is what remains. On SQLite, where one process is the only writer,
// there is nothing to hear and it returns at once.
func (db *DB) Listen(ctx context.Context, channel string, heard func(), logErr func(error)) {
	if db.Dialect != Postgres {
		return
	}
	wait := time.Second
	for {
		listened, err := db.listen(ctx, channel, heard)
		if ctx.Err() != nil {
			return
		}
		logErr(err)
		if listened {
			wait = time.Second
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Minute)
	}
}

// listen listens on one connection until it fails; listened reports
// whether it got as far as listening.
func (db *DB) listen(ctx context.Context, channel string, heard func()) (listened bool, err error) {
	conn, err := pgx.Connect(ctx, db.url)
	if err != nil {
		return false, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return false, err
	}
	heard()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return true, err
		}
		heard()
	}
}
