package webpush

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"qorgan/internal/notify"
)

// Topic is the RFC 8030 Topic header for a message key: at most 32
// characters of base64url, the same for the same key.
func Topic(key string) string {
	sum := sha256.Sum256([]byte(key))
	return b64.EncodeToString(sum[:])[:32]
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
	// The payload is the message's text, which the service worker shows as
	// it is. Its topic is made from the message's key, so that a repeat
	// (after a crash, see package notify) replaces the first copy at the
	// push service while the phone is off instead of showing twice.
	p := Push{Payload: []byte(m.Body), TTL: 24 * time.Hour, Urgency: UrgencyNormal, Topic: Topic(m.Key)}
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
