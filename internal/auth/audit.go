package auth

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"qorgan/internal/errs"
	"qorgan/internal/store"
)

// Append writes one entry to the audit trail inside tx. Each entry's hash
// covers its own fields and the previous entry's hash, so changing or removing
// any past entry breaks every hash after it; VerifyAudit finds the break.
func Append(ctx context.Context, tx *store.Tx, at time.Time, actor Principal, action, object string, detail any) error {
	d, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("audit detail: %w", err)
	}
	// Taking the next number and the previous hash in one UPDATE holds the
	// head row's lock until commit, so concurrent appenders queue up.
	var seq int64
	var prev string
	// The statements are kept prepared: every alarm commit appends.
	if err := tx.QueryRowRepeated(ctx, "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash").Scan(&seq, &prev); err != nil {
		return fmt.Errorf("audit head: %w", err)
	}
	e := AuditEntry{Seq: seq, At: store.Micros(at), Actor: actor.Actor(), Action: action, Object: object, Detail: string(d), PrevHash: prev}
	e.Hash = e.computeHash()
	if _, err := tx.ExecRepeated(ctx, "INSERT INTO audit (seq, at, actor, action, object, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		e.Seq, e.At, e.Actor, e.Action, e.Object, e.Detail, e.PrevHash, e.Hash); err != nil {
		return fmt.Errorf("audit append: %w", err)
	}
	if _, err := tx.ExecRepeated(ctx, "UPDATE audit_head SET hash = ? WHERE id = 1", e.Hash); err != nil {
		return fmt.Errorf("audit head: %w", err)
	}
	return nil
}

// AuditEntry is one row of the audit trail.
type AuditEntry struct {
	Seq      int64  `json:"seq"`
	At       int64  `json:"at_us"`
	Actor    string `json:"actor"`
	Action   string `json:"action"`
	Object   string `json:"object"`
	Detail   string `json:"detail"`
	PrevHash string `json:"prev_hash"`
	Hash     string `json:"hash"`
}

// computeHash hashes the fields length-prefixed, so no two different entries
// share an encoding.
func (e AuditEntry) computeHash() string {
	h := sha256.New()
	for _, f := range []string{strconv.FormatInt(e.Seq, 10), strconv.FormatInt(e.At, 10), e.Actor, e.Action, e.Object, e.Detail, e.PrevHash} {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// AuditReport is the result of verifying the chain.
type AuditReport struct {
	Entries  int64  `json:"entries"`
	OK       bool   `json:"ok"`
	BrokenAt int64  `json:"broken_at,omitempty"` // first bad sequence number
	Problem  string `json:"problem,omitempty"`
	Head     string `json:"head_hash"`
}

// VerifyAudit walks the whole chain and reports the first entry that does not
// hash to what it says, does not link to its predecessor, or is missing.
func (s *Service) VerifyAudit(ctx context.Context) (AuditReport, error) {
	rep := AuditReport{OK: true}
	prev := ""
	var want int64 = 1
	err := store.Each(ctx, s.DB.Reader(), func(rows *sql.Rows) error {
		var e AuditEntry
		if err := rows.Scan(&e.Seq, &e.At, &e.Actor, &e.Action, &e.Object, &e.Detail, &e.PrevHash, &e.Hash); err != nil {
			return err
		}
		rep.Entries++
		if !rep.OK {
			return nil
		}
		switch {
		case e.Seq != want:
			rep.OK, rep.BrokenAt, rep.Problem = false, want, fmt.Sprintf("entry %d is missing", want)
		case e.PrevHash != prev:
			rep.OK, rep.BrokenAt, rep.Problem = false, e.Seq, "does not link to the entry before it"
		case e.computeHash() != e.Hash:
			rep.OK, rep.BrokenAt, rep.Problem = false, e.Seq, "content does not match its hash"
		}
		prev = e.Hash
		want++
		return nil
	}, "SELECT seq, at, actor, action, object, detail, prev_hash, hash FROM audit ORDER BY seq")
	if err != nil {
		return rep, err
	}
	var headSeq int64
	var headHash string
	if err := s.DB.Reader().QueryRowContext(ctx, "SELECT seq, hash FROM audit_head WHERE id = 1").Scan(&headSeq, &headHash); err != nil {
		return rep, err
	}
	rep.Head = headHash
	if rep.OK && (headSeq != want-1 || headHash != prev) {
		rep.OK, rep.BrokenAt, rep.Problem = false, headSeq, "the chain does not end where the head says (entries removed at the end?)"
	}
	return rep, nil
}

// AuditRecord is an audit entry as a reader of the trail sees it.
type AuditRecord struct {
	Seq    int64           `json:"seq"`
	At     time.Time       `json:"at"`
	Actor  string          `json:"actor"`
	Action string          `json:"action"`
	Object string          `json:"object"`
	Detail json.RawMessage `json:"detail"`
	Hash   string          `json:"hash"`
}

// AuditQuery selects entries of the trail, newest first: those of one
// object ("pupil/12"), actor ("user:5:director") or action ("pupil.erase")
// when given, before sequence number Before (0: from the newest), at most
// Limit.
type AuditQuery struct {
	Object, Actor, Action string
	Before                int64
	Limit                 int
}

// ListAudit reads the audit trail for people allowed to verify it.
func (s *Service) ListAudit(ctx context.Context, p Principal, q AuditQuery) ([]AuditRecord, error) {
	if err := p.Require(VerifyAudit); err != nil {
		return nil, err
	}
	where, args := "1=1", []any{}
	for _, f := range []struct{ col, v string }{{"object", q.Object}, {"actor", q.Actor}, {"action", q.Action}} {
		if f.v != "" {
			where += " AND " + f.col + " = ?"
			args = append(args, f.v)
		}
	}
	if q.Before > 0 {
		where += " AND seq < ?"
		args = append(args, q.Before)
	}
	out, err := store.Collect(ctx, s.DB.Reader(), func(r *sql.Rows) (AuditRecord, error) {
		var e AuditRecord
		var at int64
		var detail string
		err := r.Scan(&e.Seq, &at, &e.Actor, &e.Action, &e.Object, &detail, &e.Hash)
		e.At, e.Detail = store.FromMicros(at), json.RawMessage(detail)
		return e, err
	}, "SELECT seq, at, actor, action, object, detail, hash FROM audit WHERE "+where+" ORDER BY seq DESC LIMIT ?", append(args, q.Limit)...)
	return out, errs.Wrap(err, "audit")
}
