package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
)

// Dialect names the SQL engine behind a DB. Every difference between SQLite and
// PostgreSQL that the rest of Qorgan sees lives in this file and in the
// migration template functions in migrate.go; queries are written once, with
// `?` placeholders.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Rebind turns `?` placeholders into `$1, $2, …` for PostgreSQL. Question marks
// inside single-quoted string literals are left alone.
func (d Dialect) Rebind(q string) string {
	if d != Postgres || strings.IndexByte(q, '?') < 0 {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	inString := false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			inString = !inString
			b.WriteByte(c)
		case c == '?' && !inString:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// SkipLocked is the locking clause ending a subquery that claims rows (a
// queue's next due messages): on PostgreSQL several nodes claim at once, so
// each locks the rows it picks and skips those another has locked; SQLite
// has one writer and needs no lock.
func (d Dialect) SkipLocked() string {
	if d == Postgres {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}

// OneWriter reports whether a write transaction holds the whole database
// until it ends (SQLite), so that a second writer only waits behind it.
func (d Dialect) OneWriter() bool { return d != Postgres }

// IsUniqueViolation reports whether err is a unique-constraint violation on
// either engine, so callers can answer "duplicate" instead of "internal".
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || // SQLite
		strings.Contains(s, "SQLSTATE 23505") // PostgreSQL unique_violation
}

// IsForeignKeyViolation reports whether err is a foreign-key violation.
func IsForeignKeyViolation(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "FOREIGN KEY constraint failed") || strings.Contains(s, "SQLSTATE 23503")
}

// ReserveIDs returns n fresh ids for rows of table that the caller will
// insert with explicit ids in this transaction: a multi-row INSERT then needs
// no RETURNING to learn them. On SQLite the transaction holds the only write
// lock, so MAX(id)+1… is safe; on PostgreSQL the identity sequence hands
// them out.
func (t *Tx) ReserveIDs(ctx context.Context, table string, n int) ([]int64, error) {
	if n == 0 {
		return nil, nil
	}
	if t.d == Postgres {
		return Collect(ctx, t, func(rows *sql.Rows) (int64, error) {
			var id int64
			return id, rows.Scan(&id)
		}, fmt.Sprintf("SELECT nextval(pg_get_serial_sequence('%s', 'id')) FROM generate_series(1, ?)", table), n)
	}
	ids := make([]int64, 0, n)
	var max int64
	// Run on every group commit: kept prepared.
	rows, err := t.QueryRepeated(ctx, fmt.Sprintf("SELECT COALESCE(MAX(id), 0) FROM %s", table))
	if err != nil {
		return nil, err
	}
	if rows.Next() {
		err = rows.Scan(&max)
	}
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	for i := 1; i <= n; i++ {
		ids = append(ids, max+int64(i))
	}
	return ids, nil
}
