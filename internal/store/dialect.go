package store

import (
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
