package webpush

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"qorgan/internal/notify"
)

// Payload is the JSON a guardian's browser decrypts; its service worker
// shows Body as the notification and may use Kind and PupilID to open the
// right page. ID is the message's idempotency key, the same on every
// attempt, so a repeat can be recognised (as the notification's tag).
type Payload struct {
	ID       string    `json:"id"`
	Kind     string    `json:"kind"`
	Language string    `json:"lang"`
	Body     string    `json:"body"`
	PupilID  int64     `json:"pupil_id,omitempty"`
	At       time.Time `json:"at"`
}

// Channel is the outbox's "webpush" channel. A message's recipient is a
// subscription's id; the subscription is read when the message is sent, so
// one removed meanwhile gets nothing.
type Channel struct {
	Subscriptions *Service
	Sender        *Sender
}

// NewChannel returns the channel over subs, signing as subject (a mailto:
// or https: contact for the push services' operators).
func NewChannel(subs *Service, subject string) *Channel {
	return &Channel{Subscriptions: subs, Sender: &Sender{Key: subs.Key, Subject: subject}}
}

// Send delivers one message. A 404 or 410 from the push service removes
// the subscription and ends the message (a permanent error: it is not
// retried); 408, 425, 429, 5xx and network failures are retried as on the
// other channels; any other answer is permanent.
func (c *Channel) Send(ctx context.Context, m notify.Message) error {
	id, err := strconv.ParseInt(m.Recipient, 10, 64)
	if err != nil {
		return notify.Permanent(fmt.Errorf("web push recipient %q is not a subscription id", m.Recipient))
	}
	t, ok, err := c.Subscriptions.target(ctx, id)
	if err != nil {
		return notify.Temporary(err, 0)
	}
	if !ok {
		return notify.Permanent(errors.New("the push subscription was removed before the message went"))
	}
	body, err := json.Marshal(Payload{ID: m.Key, Kind: m.Kind, Language: m.Language, Body: m.Body, PupilID: m.PupilID, At: m.CreatedAt.UTC()})
	if err != nil {
		return notify.Permanent(err)
	}
	p := Push{Payload: body, TTL: 24 * time.Hour, Urgency: UrgencyNormal}
	if !m.ExpiresAt.IsZero() {
		// The push service keeps it for a phone that is off only as long as
		// it means anything.
		p.TTL = max(0, time.Until(m.ExpiresAt))
	}
	if strings.HasPrefix(m.Kind, "emergency") {
		p.Urgency = UrgencyHigh
	}
	err = c.Sender.Send(ctx, t, p)
	var se *StatusError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se) && se.Gone():
		if rerr := c.Subscriptions.remove(ctx, id, t.Endpoint); rerr != nil {
			return notify.Temporary(fmt.Errorf("%v; removing the subscription: %w", err, rerr), 0)
		}
		return notify.Permanent(fmt.Errorf("the push subscription has expired (HTTP %d) and was removed", se.Code))
	case se != nil && se.Temporary():
		return notify.Temporary(err, se.RetryAfter)
	case se != nil:
		return notify.Permanent(err)
	}
	var ne *NetworkError
	if errors.As(err, &ne) {
		return notify.Temporary(err, 0)
	}
	// A stored key or endpoint that cannot be used: no retry helps.
	return notify.Permanent(err)
}
