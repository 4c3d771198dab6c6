package store

import (
	"context"
	"database/sql"
	"sync"
)

// SQLite parses every statement it is given, and a multi-row INSERT of a few
// hundred rows takes longer to parse than to run. On SQLite's one writer
// connection Qorgan therefore keeps the statements it writes again and
// again (multi-row inserts of the sizes Chunks gives) prepared. A
// statement is prepared after the first transaction that used it has
// committed, when the connection is free; from then on a transaction uses
// it through Tx.StmtContext, which finds it already prepared on the
// connection. PostgreSQL's driver keeps its own cache.
type stmtCache struct {
	mu      sync.Mutex
	stmts   map[string]*sql.Stmt
	pending map[string]bool
}

// maxCachedStmts bounds the cache; statements past it are parsed each time.
const maxCachedStmts = 512

func newStmtCache() *stmtCache {
	return &stmtCache{stmts: map[string]*sql.Stmt{}, pending: map[string]bool{}}
}

// get returns the prepared statement for q, or nil and notes q to be
// prepared after the commit.
func (c *stmtCache) get(q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.stmts[q]; st != nil {
		return st
	}
	if len(c.stmts)+len(c.pending) < maxCachedStmts {
		c.pending[q] = true
	}
	return nil
}

// prepare prepares the noted statements on w; it runs with the writer gate
// held and the connection free.
func (c *stmtCache) prepare(ctx context.Context, w *sql.DB) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q := range c.pending {
		delete(c.pending, q)
		st, err := w.PrepareContext(ctx, q)
		if err != nil {
			continue // parsed each time, as before
		}
		c.stmts[q] = st
	}
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.stmts {
		st.Close()
		delete(c.stmts, q)
	}
}

// stmt returns q prepared for this transaction when the cache has it.
func (t *Tx) stmt(ctx context.Context, q string) *sql.Stmt {
	if t.cache == nil {
		return nil
	}
	st := t.cache.get(q)
	if st == nil {
		return nil
	}
	return t.tx.StmtContext(ctx, st)
}

// ExecRepeated is ExecContext for a statement that will be run again in
// other transactions: on SQLite it is kept prepared.
func (t *Tx) ExecRepeated(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := t.stmt(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.ExecContext(ctx, q, args...)
}

// QueryRepeated is QueryContext for a statement that will be run again in
// other transactions: on SQLite it is kept prepared.
func (t *Tx) QueryRepeated(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.QueryContext(ctx, q, args...)
}

// QueryRowRepeated is QueryRowContext for a statement that will be run
// again in other transactions: on SQLite it is kept prepared.
func (t *Tx) QueryRowRepeated(ctx context.Context, q string, args ...any) *sql.Row {
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.QueryRowContext(ctx, q, args...)
}

// Chunks splits n rows into statement sizes that repeat, so that the
// prepared statements stay few: as many of max as fit, then the rest in
// powers of two, largest first (300 with max 256 → 256, 32, 8, 4).
func Chunks(n, max int) []int {
	var out []int
	for n >= max {
		out = append(out, max)
		n -= max
	}
	for p := 1 << 30; n > 0; p >>= 1 {
		if p <= n {
			out = append(out, p)
			n -= p
		}
	}
	return out
}
