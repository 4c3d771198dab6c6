package notify

import (
	"context"
	"database/sql"
	"time"

	"qorgan/internal/store"
)

// PupilMessage is one message about a pupil as an export shows it: to whom,
// what it said, and what became of it.
type PupilMessage struct {
	Channel   ChannelName `json:"channel"`
	Recipient string      `json:"recipient"`
	Kind      string      `json:"kind"`
	Subject   string      `json:"subject,omitempty"`
	Body      string      `json:"body"`
	Language  string      `json:"language"`
	Status    Status      `json:"status"`
	CreatedAt time.Time   `json:"created_at"`
	SentAt    *time.Time  `json:"sent_at,omitempty"`
}

// RecordsName names the outbox's records about a pupil.
func (o *Outbox) RecordsName() string { return "messages" }

// ExportPupil lists every message about the pupil still held, oldest first.
// The school's index finds them: a pupil's messages are their school's.
func (o *Outbox) ExportPupil(ctx context.Context, q store.Querier, schoolID, pupilID int64) (any, error) {
	return store.Collect(ctx, q, func(r *sql.Rows) (PupilMessage, error) {
		var m PupilMessage
		var ch, st string
		var created int64
		var sent sql.NullInt64
		err := r.Scan(&ch, &m.Recipient, &m.Kind, &m.Subject, &m.Body, &m.Language, &st, &created, &sent)
		m.Channel, m.Status, m.CreatedAt, m.SentAt = ChannelName(ch), Status(st), store.FromMicros(created), store.FromNullMicros(sent)
		return m, err
	}, `SELECT channel, recipient, kind, subject, body, language, status, created_at, sent_at
		FROM outbox WHERE school_id = ? AND pupil_id = ? ORDER BY created_at, id`, schoolID, pupilID)
}

// ErasePupil deletes every message about the pupil, sent or not: a message
// not yet sent is not sent, one being sent right now may still arrive.
func (o *Outbox) ErasePupil(ctx context.Context, tx *store.Tx, schoolID, pupilID int64) (int64, error) {
	res, err := tx.ExecContext(ctx, "DELETE FROM outbox WHERE school_id = ? AND pupil_id = ?", schoolID, pupilID)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
