package notify

import (
	"context"
	"database/sql"
	"net/url"
	"strings"
	"time"

	"qorgan/internal/errs"
	"qorgan/internal/store"
)

// StatusCount is how many of a school's messages are in one state on one
// channel.
type StatusCount struct {
	Channel ChannelName `json:"channel"`
	Status  Status      `json:"status"`
	Count   int         `json:"count"`
}

// Status counts a school's messages created since the given instant by
// channel and status, ordered by both. The caller checks that the person
// may see the school.
func (o *Outbox) Status(ctx context.Context, schoolID int64, since time.Time) ([]StatusCount, error) {
	out, err := store.Collect(ctx, o.DB.Reader(), func(rows *sql.Rows) (StatusCount, error) {
		var c StatusCount
		var ch, st string
		err := rows.Scan(&ch, &st, &c.Count)
		c.Channel, c.Status = ChannelName(ch), Status(st)
		return c, err
	}, `SELECT channel, status, COUNT(*) FROM outbox WHERE school_id = ? AND created_at >= ?
GROUP BY channel, status ORDER BY channel, status`, schoolID, store.Micros(since))
	return out, errs.Wrap(err, "delivery status")
}

// Failure is a message that did not go out: dead, or waiting for a retry.
// The recipient is masked and the text left out: the school needs to know
// which guardian's contact to fix, not to read the message again.
type Failure struct {
	ID            int64       `json:"id"`
	Channel       ChannelName `json:"channel"`
	Recipient     string      `json:"recipient"`
	Kind          string      `json:"kind"`
	PupilID       int64       `json:"pupil_id,omitempty"`
	Status        Status      `json:"status"`
	Attempts      int         `json:"attempts"`
	LastError     string      `json:"last_error"`
	CreatedAt     time.Time   `json:"created_at"`
	NextAttemptAt *time.Time  `json:"next_attempt_at,omitempty"` // a pending retry's time
}

// Failures lists a school's newest failures since the given instant, at
// most limit (1–500).
func (o *Outbox) Failures(ctx context.Context, schoolID int64, since time.Time, limit int) ([]Failure, error) {
	if limit <= 0 || limit > 500 {
		return nil, errs.Invalidf("limit", "limit must be 1–500")
	}
	out, err := store.Collect(ctx, o.DB.Reader(), func(rows *sql.Rows) (Failure, error) {
		var f Failure
		var ch, st string
		var pupil sql.NullInt64
		var created, next int64
		if err := rows.Scan(&f.ID, &ch, &f.Recipient, &f.Kind, &pupil, &st, &f.Attempts, &f.LastError, &created, &next); err != nil {
			return f, err
		}
		f.Channel, f.Status, f.PupilID = ChannelName(ch), Status(st), pupil.Int64
		f.Recipient = MaskRecipient(f.Channel, f.Recipient)
		f.CreatedAt = store.FromMicros(created)
		if f.Status == Pending {
			t := store.FromMicros(next)
			f.NextAttemptAt = &t
		}
		return f, nil
	}, `SELECT id, channel, recipient, kind, pupil_id, status, attempts, last_error, created_at, next_attempt_at
FROM outbox WHERE school_id = ? AND created_at >= ? AND (status = 'dead' OR (status = 'pending' AND attempts > 0))
ORDER BY created_at DESC, id DESC LIMIT ?`, schoolID, store.Micros(since), limit)
	return out, errs.Wrap(err, "delivery failures")
}

// MaskRecipient shows enough of a recipient to recognise it: the host of a
// webhook (its path may hold a token), the first letter and domain of an
// e-mail address, the country code and last digits of a phone number, the
// last digits of a chat id.
func MaskRecipient(ch ChannelName, r string) string {
	switch ch {
	case ChannelWebhook:
		u, err := url.Parse(r)
		if err != nil || u.Host == "" {
			return "***"
		}
		return u.Scheme + "://" + u.Host + "/…"
	case ChannelEmail:
		at := strings.LastIndexByte(r, '@')
		if at < 1 {
			return "***"
		}
		return r[:1] + "***" + r[at:]
	case ChannelSMS:
		if len(r) < 8 {
			return "***"
		}
		return r[:2] + strings.Repeat("*", len(r)-4) + r[len(r)-2:]
	default:
		if len(r) < 4 {
			return "***"
		}
		return "***" + r[len(r)-3:]
	}
}

// SentMessage is one message about a pupil as the pupil's card shows it: to
// whom (masked), what kind, where it is in its delivery and why it failed.
type SentMessage struct {
	Channel   ChannelName
	Recipient string // masked (MaskRecipient)
	Kind      string
	Status    Status
	Attempts  int
	LastError string
	CreatedAt time.Time
	SentAt    *time.Time
}

// PupilMessages lists the newest messages about a pupil of a school since
// the given instant, at most limit (1–500), newest first: the school's
// index over the time range, then the pupil's rows in it. The caller checks
// that the person may read the school's messages.
func (o *Outbox) PupilMessages(ctx context.Context, schoolID, pupilID int64, since time.Time, limit int) ([]SentMessage, error) {
	if limit <= 0 || limit > 500 {
		return nil, errs.Invalidf("limit", "limit must be 1–500")
	}
	out, err := store.Collect(ctx, o.DB.Reader(), func(rows *sql.Rows) (SentMessage, error) {
		var m SentMessage
		var ch, st string
		var created int64
		var sent sql.NullInt64
		if err := rows.Scan(&ch, &m.Recipient, &m.Kind, &st, &m.Attempts, &m.LastError, &created, &sent); err != nil {
			return m, err
		}
		m.Channel, m.Status = ChannelName(ch), Status(st)
		m.Recipient = MaskRecipient(m.Channel, m.Recipient)
		m.CreatedAt, m.SentAt = store.FromMicros(created), store.FromNullMicros(sent)
		return m, nil
	}, `SELECT channel, recipient, kind, status, attempts, last_error, created_at, sent_at
FROM outbox WHERE school_id = ? AND created_at >= ? AND pupil_id = ?
ORDER BY created_at DESC, id DESC LIMIT ?`, schoolID, store.Micros(since), pupilID, limit)
	return out, errs.Wrap(err, "a pupil's messages")
}
