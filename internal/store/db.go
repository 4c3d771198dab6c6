// Package store opens Qorgan's database (embedded SQLite or PostgreSQL), runs
// the embedded migrations and gives the domain packages one way to run SQL on
// either engine.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite"
)

// DB is a Qorgan database. Writes go through W; reads through R. On SQLite, W
// is a single connection (SQLite has one writer; queuing in Go is cheaper than
// SQLITE_BUSY retries) and R a pool of read-only connections. On PostgreSQL
// both are the same pool.
type DB struct {
	Dialect Dialect
	W       *sql.DB
	R       *sql.DB

	gate   *gate         // SQLite only: urgent writers first
	ckpt   *checkpointer // SQLite only: the log copied back off the commit path
	wal    *walSyncer    // SQLite with Synchronous FULL: the log synced after the writer is free
	stmts  *stmtCache    // SQLite only: statements kept prepared on the writer
	timing *writerTiming // where write transactions' time goes (timing.go)
	kept   kept          // state kept beside a single-writer database (keep.go)
	path   string        // the SQLite file
	url    string        // PostgreSQL: the connection URL, for Listen's own connection
}

// Config says which database to open.
type Config struct {
	// URL is a PostgreSQL connection string (postgres://…). Empty means SQLite.
	URL string
	// Path is the SQLite file, used when URL is empty.
	Path string
	// ReadConns is the size of the SQLite read pool (default 4).
	ReadConns int
	// Synchronous is SQLite's synchronous pragma: FULL (default; a committed
	// alarm survives power loss) or NORMAL.
	Synchronous string
}

// Open connects, applies pending migrations and returns the DB.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	db, err := connect(cfg)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if db.wal != nil {
		// The migrations wrote outside InTx: on disk before anything is served.
		if err := db.wal.wait(db.wal.commit()); err != nil {
			db.Close()
			return nil, err
		}
	}
	return db, nil
}

func connect(cfg Config) (*DB, error) {
	if cfg.URL != "" {
		if !strings.HasPrefix(cfg.URL, "postgres://") && !strings.HasPrefix(cfg.URL, "postgresql://") {
			return nil, errors.New("database URL must start with postgres:// or postgresql://")
		}
		p, err := sql.Open("pgx", cfg.URL)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		p.SetMaxOpenConns(32)
		p.SetMaxIdleConns(32)
		p.SetConnMaxIdleTime(5 * time.Minute)
		return &DB{Dialect: Postgres, W: p, R: p, timing: newWriterTiming(), url: cfg.URL}, nil
	}
	if cfg.Path == "" {
		return nil, errors.New("no database: set a SQLite path or a PostgreSQL URL")
	}
	sync := strings.ToUpper(cfg.Synchronous)
	if sync == "" {
		sync = "FULL"
	}
	if sync != "FULL" && sync != "NORMAL" {
		return nil, fmt.Errorf("sqlite synchronous must be FULL or NORMAL, not %q", cfg.Synchronous)
	}
	// FULL is kept by syncing the log after each commit outside the writer
	// (see walSyncer): the writer connection itself runs NORMAL.
	var wal *walSyncer
	writerSync := sync
	if sync == "FULL" {
		wal = newWALSyncer(cfg.Path)
		writerSync = "NORMAL"
	}
	// Pragmas go in the DSN so that every pooled connection gets them;
	// busy_timeout first so that even the journal_mode switch waits instead
	// of failing when another process holds the file.
	pragmas := []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(" + sync + ")",
		"foreign_keys(1)", "temp_store(MEMORY)", "cache_size(-32000)"}
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	wq := url.Values{}
	for k, v := range q {
		wq[k] = v
	}
	wq.Del("_pragma")
	for _, p := range pragmas {
		if strings.HasPrefix(p, "synchronous(") {
			p = "synchronous(" + writerSync + ")"
		}
		wq.Add("_pragma", p)
	}
	wq.Set("_txlock", "immediate")
	wq.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", writerCheckpointPages))
	w, err := sql.Open("sqlite", "file:"+cfg.Path+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", cfg.Path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	// Make sure the file exists and is in WAL mode before readers open it.
	if err := w.Ping(); err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", cfg.Path, err)
	}
	rq := url.Values{}
	for k, v := range q {
		rq[k] = v
	}
	rq.Add("_pragma", "query_only(1)")
	r, err := sql.Open("sqlite", "file:"+cfg.Path+"?"+rq.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", cfg.Path, err)
	}
	n := cfg.ReadConns
	if n <= 0 {
		n = 4
	}
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	c, err := sql.Open("sqlite", "file:"+cfg.Path+"?"+q.Encode())
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", cfg.Path, err)
	}
	c.SetMaxOpenConns(1)
	timing := newWriterTiming()
	if wal != nil {
		wal.timed = timing.logSync
	}
	return &DB{Dialect: SQLite, W: w, R: r, gate: newGate(), ckpt: startCheckpointer(c), stmts: newStmtCache(), wal: wal, timing: timing, path: cfg.Path}, nil
}

// Close closes both pools.
func (db *DB) Close() error {
	var err error
	if db.ckpt != nil {
		err = db.ckpt.close()
	}
	db.kept.release()
	if db.stmts != nil {
		db.stmts.close()
	}
	if e := db.W.Close(); err == nil {
		err = e
	}
	if db.R != db.W {
		if e := db.R.Close(); err == nil {
			err = e
		}
	}
	return err
}

// Ping checks that the store answers (for /readyz).
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.R.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// Querier runs SQL written with `?` placeholders on either engine. Both *Tx
// and the read side of a DB implement it, so a helper that only reads can be
// called inside a write transaction or on its own.
type Querier interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
	Dialect() Dialect
}

// Reader returns a Querier on the read pool.
func (db *DB) Reader() Querier { return reader{db: db.R, d: db.Dialect} }

type reader struct {
	db *sql.DB
	d  Dialect
}

func (r reader) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return r.db.ExecContext(ctx, r.d.Rebind(q), args...)
}
func (r reader) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return r.db.QueryContext(ctx, r.d.Rebind(q), args...)
}
func (r reader) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return r.db.QueryRowContext(ctx, r.d.Rebind(q), args...)
}
func (r reader) Dialect() Dialect { return r.d }

// Tx is a write transaction.
type Tx struct {
	tx    *sql.Tx
	d     Dialect
	cache *stmtCache
	gate  *gate    // SQLite's writer queue; nil on PostgreSQL
	undo  []func() // OnRollback
}

// AlarmWaiting reports whether an urgent writer (an alarm) is waiting for
// this transaction to end: a long writer that can stop at a clean point —
// the intake between two portions of passes — commits there and goes on in
// a new transaction after the alarm. Always false on PostgreSQL, where
// writers do not queue behind one another.
func (t *Tx) AlarmWaiting() bool {
	return t.gate != nil && t.gate.urgentWaiting()
}

func (t *Tx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(ctx, t.d.Rebind(q), args...)
}
func (t *Tx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, t.d.Rebind(q), args...)
}
func (t *Tx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, t.d.Rebind(q), args...)
}
func (t *Tx) Dialect() Dialect { return t.d }

// InOrder makes transactions that call it with the same key commit one at a
// time, in the order they called it, from the call to the commit. A table
// read forward by an increasing id (the live feed) needs it on PostgreSQL,
// where a transaction that took a lower id could otherwise commit after a
// reader has moved past that id. SQLite has one writer, so there it is
// always so and InOrder does nothing.
func (t *Tx) InOrder(ctx context.Context, key int64) error {
	if t.d != Postgres {
		return nil
	}
	_, err := t.tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", key)
	return err
}

// InOrderNotifying is InOrder, and on PostgreSQL also has channel notified
// when the transaction commits (NOTIFY), in the same round trip: the other
// nodes' listeners (Listen) hear of the commit at once.
func (t *Tx) InOrderNotifying(ctx context.Context, key int64, channel string) error {
	if t.d != Postgres {
		return nil
	}
	_, err := t.tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1), pg_notify($2, '')", key, channel)
	return err
}

// LockRows locks rows of a table by id until the transaction ends, in id
// order, against writers that would change them or link new rows to them
// (FOR UPDATE on PostgreSQL). SQLite has one writer, so there it does
// nothing.
func (t *Tx) LockRows(ctx context.Context, table string, ids []int64) error {
	return t.lockRows(ctx, table, ids, "FOR UPDATE")
}

// LockRowsToUpdate is LockRows against other writers of the rows only
// (FOR NO KEY UPDATE on PostgreSQL): rows being linked to meanwhile, whose
// foreign-key checks share-lock them, are not waited for.
func (t *Tx) LockRowsToUpdate(ctx context.Context, table string, ids []int64) error {
	return t.lockRows(ctx, table, ids, "FOR NO KEY UPDATE")
}

func (t *Tx) lockRows(ctx context.Context, table string, ids []int64, mode string) error {
	if t.d != Postgres || len(ids) == 0 {
		return nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	ph := Placeholders(len(ids))
	rows, err := t.QueryContext(ctx, "SELECT id FROM "+table+" WHERE id IN ("+ph+") ORDER BY id "+mode, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() { // a row is locked as it is read
	}
	return rows.Err()
}

// Prepare prepares a statement for repeated use inside the transaction.
func (t *Tx) Prepare(ctx context.Context, q string) (*sql.Stmt, error) {
	return t.tx.PrepareContext(ctx, t.d.Rebind(q))
}

// InTx runs fn in one write transaction: committed when fn returns nil,
// rolled back otherwise, so nothing is ever half-written. It returns once
// the commit is on disk as the configured mode promises (SQLite FULL: the
// log synced after the writer is free, see walSyncer).
func (db *DB) InTx(ctx context.Context, fn func(*Tx) error) error {
	return db.inTx(ctx, false, fn)
}

// InUrgentTx is InTx for the alarm lane: on SQLite it goes before every
// ordinary writer that is waiting. (PostgreSQL has no single writer.)
func (db *DB) InUrgentTx(ctx context.Context, fn func(*Tx) error) error {
	return db.inTx(ctx, true, fn)
}

func (db *DB) inTx(ctx context.Context, urgent bool, fn func(*Tx) error) error {
	durable, err := db.commitTx(ctx, urgent, fn)
	if err != nil {
		return err
	}
	return durable()
}

// InTxThen is InTx for a caller with more to write before it needs the
// commit on disk (see InUrgentTxThen): the intake starts its next
// transaction at once.
func (db *DB) InTxThen(ctx context.Context, fn func(*Tx) error) (durable func() error, err error) {
	return db.commitTx(ctx, false, fn)
}

// InUrgentTxThen is InUrgentTx for a caller that has more to do before it
// needs the commit on disk: it returns once the transaction has committed,
// with the writer free for the next one, and durable returns when the
// commit is on disk (at once where the engine made it so inside COMMIT).
// The DC-09 receiver builds its next group commit meanwhile and
// acknowledges a batch's frames only when its durable returns nil.
func (db *DB) InUrgentTxThen(ctx context.Context, fn func(*Tx) error) (durable func() error, err error) {
	return db.commitTx(ctx, true, fn)
}

func onDisk() error { return nil }

func (db *DB) commitTx(ctx context.Context, urgent bool, fn func(*Tx) error) (func() error, error) {
	lt := db.timing.of(urgent)
	start := time.Now()
	n, err := func() (uint64, error) {
		if db.gate != nil {
			if err := db.gate.enter(ctx, urgent); err != nil {
				return 0, fmt.Errorf("waiting for the writer: %w", err)
			}
			defer db.gate.leave()
		}
		began := time.Now()
		lt.wait.Observe(began.Sub(start).Seconds())
		defer func() { lt.hold.Observe(time.Since(began).Seconds()) }()
		return db.writeTx(ctx, fn)
	}()
	if err != nil {
		return nil, err
	}
	if db.wal == nil || n == 0 {
		return onDisk, nil
	}
	committed := time.Now()
	return func() error {
		err := db.wal.wait(n)
		lt.sync.Observe(time.Since(committed).Seconds())
		return err
	}, nil
}

// writeTx runs fn in a transaction on the writer and commits it; n numbers
// the commit for the log syncer (0 when there is none).
func (db *DB) writeTx(ctx context.Context, fn func(*Tx) error) (n uint64, err error) {
	tx, err := db.W.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("begin: %w", err)
	}
	t := &Tx{tx: tx, d: db.Dialect, cache: db.stmts, gate: db.gate}
	if err := runTx(tx, t, fn); err != nil {
		tx.Rollback()
		t.rolledBack()
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		t.rolledBack()
		return 0, fmt.Errorf("commit: %w", err)
	}
	if db.wal != nil {
		n = db.wal.commit()
	}
	if db.ckpt != nil {
		db.ckpt.wrote()
	}
	if db.stmts != nil {
		db.stmts.prepare(ctx, db.W)
	}
	return n, nil
}

// runTx runs fn; when it panics the transaction is rolled back and what
// it registered with OnRollback is undone before the panic goes on, so
// the writer is free and nothing it changed is left behind.
func runTx(tx *sql.Tx, t *Tx, fn func(*Tx) error) error {
	defer func() {
		if r := recover(); r != nil {
			tx.Rollback()
			t.rolledBack()
			panic(r)
		}
	}()
	return fn(t)
}

// Micros is how Qorgan stores instants: UTC microseconds since the epoch, the
// same BIGINT on both engines.
func Micros(t time.Time) int64 { return t.UnixMicro() }

// FromMicros is the inverse of Micros.
func FromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// FromNullMicros reads an instant that may be NULL: nil when it is.
func FromNullMicros(us sql.NullInt64) *time.Time {
	if !us.Valid {
		return nil
	}
	t := FromMicros(us.Int64)
	return &t
}
