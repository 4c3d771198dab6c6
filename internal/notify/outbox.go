package notify

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"qorgan/internal/chore"
	"qorgan/internal/errs"
	"qorgan/internal/store"
)

// Outbox is the durable queue of messages in the store.
type Outbox struct {
	DB  *store.DB
	Now func() time.Time

	turn atomic.Uint32 // which channel claims first next time
}

// New returns an Outbox on db with the wall clock.
func New(db *store.DB) *Outbox { return &Outbox{DB: db, Now: time.Now} }

func (o *Outbox) now() time.Time {
	if o.Now == nil {
		return time.Now()
	}
	return o.Now()
}

// MaxKeyLen bounds an idempotency key: it goes into headers and Message-IDs.
const MaxKeyLen = 200

var enqueueCols = []string{"idempotency_key", "channel", "recipient", "kind", "subject", "body", "language",
	"school_id", "pupil_id", "next_attempt_at", "created_at", "expires_at"}

// enqueueRows is how many rows one INSERT carries: 6,000 parameters, under
// both engines' limits.
const enqueueRows = 500

var fullInsert = sync.OnceValue(func() string { return insertSQL(enqueueRows) })

func insertSQL(rows int) string {
	var s strings.Builder
	s.WriteString("INSERT INTO outbox (")
	s.WriteString(strings.Join(enqueueCols, ", "))
	s.WriteString(") VALUES ")
	one := "(" + store.Placeholders(len(enqueueCols)) + ")"
	for i := 0; i < rows; i++ {
		if i > 0 {
			s.WriteByte(',')
		}
		s.WriteString(one)
	}
	s.WriteString(" ON CONFLICT (idempotency_key) DO NOTHING")
	return s.String()
}

// Enqueue stores msgs inside the caller's transaction, so that a message
// exists exactly when what caused it was committed. A message whose key is
// already in the outbox is skipped, whatever its state: a device's resend
// notifies nobody twice. It returns how many messages were new. Nothing is
// sent until the transaction commits and a Worker claims the rows; call
// Worker.Wake after the commit to start at once.
func Enqueue(ctx context.Context, tx *store.Tx, msgs []Message) (int, error) {
	if len(msgs) == 0 {
		return 0, nil
	}
	if err := validate(msgs); err != nil {
		return 0, err
	}
	now := store.Micros(time.Now())
	args := make([]any, 0, min(len(msgs), enqueueRows)*len(enqueueCols))
	added := 0
	start := 0
	for _, n := range store.Chunks(len(msgs), enqueueRows) {
		chunk := msgs[start : start+n]
		start += n
		args = args[:0]
		for i := range chunk {
			m := &chunk[i]
			created := now
			if !m.CreatedAt.IsZero() {
				created = store.Micros(m.CreatedAt)
			}
			next := now
			if !m.NotBefore.IsZero() {
				next = store.Micros(m.NotBefore)
			}
			args = append(args, m.Key, string(m.Channel), m.Recipient, m.Kind, m.Subject, m.Body, m.Language,
				m.SchoolID, nullInt(m.PupilID), next, created, nullTime(m.ExpiresAt))
		}
		q := fullInsert()
		if len(chunk) < enqueueRows {
			q = insertSQL(len(chunk))
		}
		res, err := tx.ExecRepeated(ctx, q, args...)
		if err != nil {
			return added, fmt.Errorf("enqueue: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return added, fmt.Errorf("enqueue: %w", err)
		}
		added += int(n)
	}
	return added, nil
}

func validate(msgs []Message) error {
	var problems []*errs.Error
	for i := range msgs {
		m := &msgs[i]
		field := func(name string) string { return fmt.Sprintf("messages/%d/%s", i, name) }
		switch {
		case m.Key == "" || len(m.Key) > MaxKeyLen:
			problems = append(problems, errs.Invalidf(field("key"), "an idempotency key of 1–%d bytes is required", MaxKeyLen))
		case strings.ContainsAny(m.Key, "\r\n<>"):
			problems = append(problems, errs.Invalidf(field("key"), "the idempotency key goes into headers: no line breaks or angle brackets"))
		}
		if !m.Channel.valid() {
			problems = append(problems, errs.Invalidf(field("channel"), "unknown channel %q", m.Channel))
		}
		if m.Recipient == "" {
			problems = append(problems, errs.Invalidf(field("recipient"), "a recipient is required"))
		}
		if m.Body == "" {
			problems = append(problems, errs.Invalidf(field("body"), "the message has no text"))
		}
		if m.SchoolID <= 0 {
			problems = append(problems, errs.Invalidf(field("school_id"), "the school is required"))
		}
	}
	return errs.Of(problems)
}

func nullInt(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return store.Micros(t)
}

const claimCols = "id, idempotency_key, channel, recipient, kind, subject, body, language, school_id, pupil_id, attempts, last_error, created_at, expires_at"

// claimSQL claims one channel's due messages; on PostgreSQL nodes claim at
// once, each skipping the rows another has locked (Dialect.SkipLocked).
// Claiming moves next_attempt_at to the end of the lease: a message whose
// worker died becomes due again when the lease runs out. One channel's due
// messages are one range of outbox_channel_due.
func claimSQL(d store.Dialect) string {
	return `UPDATE outbox SET status = 'sending', attempts = attempts + 1, lease_owner = ?, lease_until = ?, next_attempt_at = ?
WHERE id IN (SELECT id FROM outbox WHERE channel = ? AND status IN ('pending', 'sending') AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?` + d.SkipLocked() + `)
RETURNING ` + claimCols
}

// Claim takes up to n due messages of any channel for owner until
// now+lease (see ClaimEach).
func (o *Outbox) Claim(ctx context.Context, owner string, n int, lease time.Duration) ([]Message, error) {
	return o.ClaimEach(ctx, owner, n, nil, lease)
}

// ClaimEach takes up to n due messages for owner until now+lease, at most
// limit[c] of channel c (a channel not in limit: up to n): pending ones
// whose time has come and ones whose previous lease ran out, the oldest of
// each channel first. Their attempts count up by one. The channels take
// turns at going first, so a full claim is not always one channel's. Owner
// must be unique to this claim (a worker adds a sequence number): finishing
// a message is fenced by it, so a worker whose lease ran out cannot
// overwrite what the next one did.
func (o *Outbox) ClaimEach(ctx context.Context, owner string, n int, limit map[ChannelName]int, lease time.Duration) ([]Message, error) {
	return o.finishAndClaim(ctx, nil, owner, n, limit, lease)
}

// finishAndClaim records outcomes (as finish does) and claims the next
// messages (as ClaimEach does) in one transaction: at the morning peak the
// worker's writes wait their turn on SQLite's one writer behind the
// intake's, and a turn that records and claims together is one wait and
// one commit instead of two.
func (o *Outbox) finishAndClaim(ctx context.Context, outs []outcome, owner string, n int, limit map[ChannelName]int, lease time.Duration) ([]Message, error) {
	if n <= 0 && len(outs) == 0 {
		return nil, nil
	}
	var out []Message
	err := o.DB.InTx(ctx, func(tx *store.Tx) error {
		if err := o.finishIn(ctx, tx, outs); err != nil {
			return err
		}
		var err error
		out, err = o.claimIn(ctx, tx, owner, n, limit, lease)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	return out, nil
}

func (o *Outbox) claimIn(ctx context.Context, tx *store.Tx, owner string, n int, limit map[ChannelName]int, lease time.Duration) ([]Message, error) {
	if n <= 0 {
		return nil, nil
	}
	now := o.now()
	until := store.Micros(now.Add(lease))
	first := o.turn.Add(1)
	var out []Message
	for k := range Channels {
		ch := Channels[(first+uint32(k))%uint32(len(Channels))]
		want := n - len(out)
		if l, ok := limit[ch]; ok {
			want = min(want, l)
		}
		if want <= 0 {
			continue
		}
		// The same statement every claim: kept prepared (QueryRepeated).
		err := eachRepeated(ctx, tx, func(rows *sql.Rows) error {
			var m Message
			var ch string
			var pupil, expires sql.NullInt64
			var created int64
			if err := rows.Scan(&m.ID, &m.Key, &ch, &m.Recipient, &m.Kind, &m.Subject, &m.Body, &m.Language, &m.SchoolID,
				&pupil, &m.Attempts, &m.LastError, &created, &expires); err != nil {
				return err
			}
			m.Channel = ChannelName(ch)
			m.PupilID = pupil.Int64
			m.CreatedAt = store.FromMicros(created)
			if expires.Valid {
				m.ExpiresAt = store.FromMicros(expires.Int64)
			}
			m.Status = Sending
			m.Lease = owner
			out = append(out, m)
			return nil
		}, claimSQL(o.DB.Dialect), owner, until, until, string(ch), store.Micros(now), want)
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// outcome is what became of one claimed message.
type outcome struct {
	m     Message
	state Status    // Sent, Pending (retry), Dead, or released
	at    time.Time // when it was sent, given up or released
	next  time.Time // the retry's time
	err   string
}

// released is the outcome of a message claimed by a worker that stopped
// before sending it: it is due again at once, its attempt not counted. It
// is never a stored status.
const released Status = "released"

// finish records outcomes in one transaction. Every update is fenced by
// the lease the message was claimed under: one claimed again after its
// lease ran out belongs to the new claim, and the late outcome is dropped.
// Sent messages, the bulk of the traffic, go in one short statement per
// claim, and so do released ones; retries and dead letters in one
// statement per thousand.
func (o *Outbox) finish(ctx context.Context, outs []outcome) error {
	if len(outs) == 0 {
		return nil
	}
	return o.DB.InTx(ctx, func(tx *store.Tx) error { return o.finishIn(ctx, tx, outs) })
}

func (o *Outbox) finishIn(ctx context.Context, tx *store.Tx, outs []outcome) error {
	if len(outs) == 0 {
		return nil
	}
	type group struct {
		at  int64
		ids []int64
	}
	sent, freed := map[string]*group{}, map[string]*group{}
	var other []outcome
	for _, oc := range outs {
		groups := sent
		switch oc.state {
		case Sent:
		case released:
			groups = freed
		default:
			other = append(other, oc)
			continue
		}
		g := groups[oc.m.Lease]
		if g == nil {
			g = &group{}
			groups[oc.m.Lease] = g
		}
		// One instant per group: the last one's, a few milliseconds from
		// the others'.
		g.at = max(g.at, store.Micros(oc.at))
		g.ids = append(g.ids, oc.m.ID)
	}
	for _, u := range []struct {
		groups    map[string]*group
		set, what string
	}{
		{sent, "status = 'sent', sent_at = ?, lease_until = NULL", "mark sent"},
		{freed, "status = 'pending', attempts = attempts - 1, next_attempt_at = ?, lease_owner = NULL, lease_until = NULL", "release unsent messages"},
	} {
		for lease, g := range u.groups {
			// A few statement sizes, kept prepared: this runs for
			// every batch of outcomes.
			err := store.InChunks(g.ids, finishRows, func(ph string, part []any) error {
				q := "UPDATE outbox SET " + u.set + " WHERE status = 'sending' AND lease_owner = ? AND id IN (" + ph + ")"
				_, err := tx.ExecRepeated(ctx, q, append([]any{g.at, lease}, part...)...)
				return err
			})
			if err != nil {
				return fmt.Errorf("%s: %w", u.what, err)
			}
		}
	}
	for start := 0; start < len(other); start += finishRows {
		part := other[start:min(start+finishRows, len(other))]
		args := make([]any, 0, len(part)*5)
		for _, oc := range part {
			at := oc.at
			if oc.state == Pending {
				at = oc.next
			}
			args = append(args, oc.m.ID, oc.m.Lease, string(oc.state), store.Micros(at), oc.err)
		}
		if _, err := tx.ExecContext(ctx, failedSQL(len(part)), args...); err != nil {
			return fmt.Errorf("record delivery failures: %w", err)
		}
	}
	return nil
}

const finishRows = 1000

// failedSQL records retries and dead letters from a VALUES list of (id,
// lease, new status, retry time, error); the casts give PostgreSQL the
// column types.
func failedSQL(rows int) string {
	var s strings.Builder
	s.WriteString(`UPDATE outbox SET status = v.column3,
  next_attempt_at = CASE WHEN v.column3 = 'pending' THEN v.column4 ELSE next_attempt_at END,
  last_error = v.column5,
  lease_owner = CASE WHEN v.column3 = 'pending' THEN NULL ELSE lease_owner END,
  lease_until = NULL
FROM (VALUES `)
	for i := 0; i < rows; i++ {
		if i > 0 {
			s.WriteByte(',')
		}
		s.WriteString("(CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS TEXT))")
	}
	s.WriteString(") AS v WHERE outbox.id = v.column1 AND outbox.lease_owner = v.column2 AND outbox.status = 'sending'")
	return s.String()
}

// Get reads one message by its key (for tests and support).
func (o *Outbox) Get(ctx context.Context, key string) (Message, error) {
	var m Message
	var ch, st string
	var pupil, expires, sent sql.NullInt64
	var lease sql.NullString
	var created int64
	err := o.DB.Reader().QueryRowContext(ctx, `SELECT id, idempotency_key, channel, recipient, kind, subject, body, language, school_id, pupil_id,
status, attempts, last_error, created_at, expires_at, sent_at, lease_owner FROM outbox WHERE idempotency_key = ?`, key).Scan(
		&m.ID, &m.Key, &ch, &m.Recipient, &m.Kind, &m.Subject, &m.Body, &m.Language, &m.SchoolID, &pupil,
		&st, &m.Attempts, &m.LastError, &created, &expires, &sent, &lease)
	if err == sql.ErrNoRows {
		return m, errs.NotFoundf("no message %q", key)
	}
	if err != nil {
		return m, errs.Wrap(err, "read message")
	}
	m.Channel, m.Status, m.PupilID, m.Lease = ChannelName(ch), Status(st), pupil.Int64, lease.String
	m.CreatedAt = store.FromMicros(created)
	if expires.Valid {
		m.ExpiresAt = store.FromMicros(expires.Int64)
	}
	if sent.Valid {
		m.SentAt = store.FromMicros(sent.Int64)
	}
	return m, nil
}

// Prune deletes sent and dead messages created before cutoff, at most limit
// rows per call (the delivery record a school sees is kept until then). It
// returns how many it deleted; call it again while it returns limit.
func (o *Outbox) Prune(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	var n int64
	err := o.DB.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE created_at < ? AND status IN ('sent', 'dead') ORDER BY id LIMIT ?)`,
			store.Micros(cutoff), limit)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("prune outbox: %w", err)
	}
	return int(n), nil
}

// Run deletes, at start and then hourly until ctx ends, the sent and dead
// messages created more than keep ago, a thousand at a time.
func (o *Outbox) Run(ctx context.Context, keep time.Duration, log *slog.Logger) {
	chore.Every(ctx, time.Hour, log, "old messages deleted", "rows", func(ctx context.Context) (int64, error) {
		var total int64
		for {
			n, err := o.Prune(ctx, o.now().Add(-keep), 1000)
			total += int64(n)
			if err != nil || n < 1000 {
				return total, err
			}
		}
	})
}

// eachRepeated is store.Each for a statement run again and again in other
// transactions: on SQLite it is kept prepared.
func eachRepeated(ctx context.Context, tx *store.Tx, scan func(*sql.Rows) error, query string, args ...any) error {
	rows, err := tx.QueryRepeated(ctx, query, args...)
	return store.EachRow(rows, err, scan)
}
