package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// Bulk inserts many rows into one table inside a transaction, as multi-row
// INSERT statements of a fixed size prepared once. Loading the national demo
// (millions of rows) is bounded by this path.
type Bulk struct {
	tx      *Tx
	table   string
	cols    []string
	perStmt int
	buf     []any
	full    *sql.Stmt
	n       int     // rows written
	parents []*Bulk // written before this one, for foreign keys
	suffix  string  // appended to every statement, e.g. ON CONFLICT …
}

// OnConflict appends a conflict clause (the same SQL on both engines, e.g.
// "ON CONFLICT (device_id) DO UPDATE SET last_seen_at = excluded.last_seen_at")
// to every statement. Call it before the first Add.
func (b *Bulk) OnConflict(clause string) *Bulk {
	b.suffix = " " + clause
	return b
}

// DependsOn makes b write the rows queued in parents before any of its own,
// so that rows referring to them by foreign key never arrive first.
func (b *Bulk) DependsOn(parents ...*Bulk) *Bulk {
	b.parents = append(b.parents, parents...)
	return b
}

func (b *Bulk) flushParents(ctx context.Context) error {
	for _, p := range b.parents {
		if err := p.flushPartial(ctx); err != nil {
			return err
		}
	}
	return nil
}

// maxParams keeps a statement under SQLite's and PostgreSQL's parameter limits.
const maxParams = 30000

// NewBulk prepares a bulk insert of cols into table. Its buffer starts
// with room for a group commit's worth of rows and grows to a statement's
// if needed: a commit of a hundred alarms should not allocate (and clear,
// and collect) room for a thousand.
func (t *Tx) NewBulk(table string, cols ...string) *Bulk {
	per := min(maxParams/len(cols), 1000)
	return &Bulk{tx: t, table: table, cols: cols, perStmt: per, buf: make([]any, 0, min(per, bulkStartRows)*len(cols))}
}

// bulkStartRows is the rows a Bulk has room for at first.
const bulkStartRows = 128

func (b *Bulk) statement(rows int) string {
	var s strings.Builder
	fmt.Fprintf(&s, "INSERT INTO %s (%s) VALUES ", b.table, strings.Join(b.cols, ", "))
	one := "(" + Placeholders(len(b.cols)) + ")"
	for i := 0; i < rows; i++ {
		if i > 0 {
			s.WriteByte(',')
		}
		s.WriteString(one)
	}
	s.WriteString(b.suffix)
	return s.String()
}

// Add queues one row, writing a full statement when enough are queued.
func (b *Bulk) Add(ctx context.Context, vals ...any) error {
	if len(vals) != len(b.cols) {
		return fmt.Errorf("bulk %s: %d values for %d columns", b.table, len(vals), len(b.cols))
	}
	b.buf = append(b.buf, vals...)
	if len(b.buf) == b.perStmt*len(b.cols) {
		if err := b.flushParents(ctx); err != nil {
			return err
		}
		if b.full == nil {
			q := b.statement(b.perStmt)
			if st := b.tx.stmt(ctx, q); st != nil {
				b.full = st
			} else {
				st, err := b.tx.Prepare(ctx, q)
				if err != nil {
					return fmt.Errorf("bulk %s: %w", b.table, err)
				}
				b.full = st
			}
		}
		if _, err := b.full.ExecContext(ctx, b.buf...); err != nil {
			return fmt.Errorf("bulk %s: %w", b.table, err)
		}
		b.n += b.perStmt
		b.buf = b.buf[:0]
	}
	return nil
}

// Flush writes the queued rows and releases the prepared statement.
func (b *Bulk) Flush(ctx context.Context) error {
	if b.full != nil {
		defer func() { b.full.Close(); b.full = nil }()
	}
	return b.flushPartial(ctx)
}

func (b *Bulk) flushPartial(ctx context.Context) error {
	if err := b.flushParents(ctx); err != nil {
		return err
	}
	if len(b.buf) == 0 {
		return nil
	}
	rows := len(b.buf) / len(b.cols)
	at := 0
	for _, n := range Chunks(rows, b.perStmt) {
		end := at + n*len(b.cols)
		if _, err := b.tx.ExecRepeated(ctx, b.statement(n), b.buf[at:end]...); err != nil {
			return fmt.Errorf("bulk %s: %w", b.table, err)
		}
		at = end
	}
	b.n += rows
	b.buf = b.buf[:0]
	return nil
}

// Rows is how many rows were written so far.
func (b *Bulk) Rows() int { return b.n }

// SyncIDs moves PostgreSQL's identity sequences past ids that were written
// explicitly (the demo assigns its own ids); SQLite needs nothing.
func (db *DB) SyncIDs(ctx context.Context, tables ...string) error {
	if db.Dialect != Postgres {
		return nil
	}
	for _, t := range tables {
		q := fmt.Sprintf("SELECT setval(pg_get_serial_sequence('%[1]s', 'id'), COALESCE((SELECT MAX(id) FROM %[1]s), 0) + 1, false)", t)
		if _, err := db.W.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("sync ids of %s: %w", t, err)
		}
	}
	return nil
}

// InsertNew inserts rows whose first column is an id the caller reserved
// (ReserveIDs), skipping each row that conflicts with one already stored on
// the conflict columns (a resent event), and returns the ids that were new.
// The rows go in multi-row statements of the sizes Chunks gives, kept
// prepared.
func (t *Tx) InsertNew(ctx context.Context, table string, cols []string, conflict string, rows [][]any) (map[int64]bool, error) {
	fresh := make(map[int64]bool, len(rows))
	err := t.InsertReturning(ctx, table, cols, fmt.Sprintf("ON CONFLICT (%s) DO NOTHING RETURNING id", conflict), rows, func(res *sql.Rows) error {
		var id int64
		if err := res.Scan(&id); err != nil {
			return err
		}
		fresh[id] = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	return fresh, nil
}

// InsertReturning inserts rows in multi-row statements of the sizes Chunks
// gives, kept prepared, each ending in suffix (a conflict clause and a
// RETURNING list, the same SQL on both engines), and hands every row
// returned to scan.
func (t *Tx) InsertReturning(ctx context.Context, table string, cols []string, suffix string, rows [][]any, scan func(*sql.Rows) error) error {
	one := "(" + Placeholders(len(cols)) + ")"
	start := 0
	for _, n := range Chunks(len(rows), 256) {
		var q strings.Builder
		fmt.Fprintf(&q, "INSERT INTO %s (%s) VALUES ", table, strings.Join(cols, ", "))
		args := make([]any, 0, n*len(cols))
		for i, r := range rows[start : start+n] {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteString(one)
			args = append(args, r...)
		}
		start += n
		q.WriteString(" ")
		q.WriteString(suffix)
		res, err := t.QueryRepeated(ctx, q.String(), args...)
		if err != nil {
			return fmt.Errorf("store %s: %w", table, err)
		}
		for res.Next() {
			if err := scan(res); err != nil {
				res.Close()
				return err
			}
		}
		res.Close()
		if err := res.Err(); err != nil {
			return err
		}
	}
	return nil
}
