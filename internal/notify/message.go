package notify

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ChannelName is the way a message goes out.
type ChannelName string

const (
	ChannelWebhook ChannelName = "webhook" // signed JSON POST to the recipient URL
	ChannelEmail   ChannelName = "email"   // SMTP
	ChannelSMS     ChannelName = "sms"     // an HTTP SMS gateway
	ChannelBot     ChannelName = "bot"     // a Telegram Bot API–compatible messenger bot
)

// Channels lists every channel name.
var Channels = []ChannelName{ChannelWebhook, ChannelEmail, ChannelSMS, ChannelBot}

func (c ChannelName) valid() bool {
	for _, x := range Channels {
		if c == x {
			return true
		}
	}
	return false
}

// Status is where a message is in its delivery.
type Status string

const (
	Pending Status = "pending" // waiting for its first or next attempt
	Sending Status = "sending" // claimed by a worker whose lease has not run out
	Sent    Status = "sent"    // a provider accepted it
	Dead    Status = "dead"    // given up: a permanent error, too many attempts, or stale
)

// Statuses lists every status.
var Statuses = []Status{Pending, Sending, Sent, Dead}

// Message is one notification to one recipient over one channel.
type Message struct {
	ID int64
	// Key identifies the message for its whole life: enqueueing the same
	// key twice stores it once, and every provider that can deduplicate is
	// given it. Build it from what makes the message unique, e.g.
	// "pass/1234/guardian/56/sms".
	Key       string
	Channel   ChannelName
	Recipient string // URL, e-mail address, phone (+7…), chat id
	Kind      string // what the message tells, e.g. "pupil.entered"; webhooks receive it
	Subject   string // e-mail subject; empty for other channels
	Body      string // the text, already rendered in Language (see Render)
	Language  string // kk, ru, en
	SchoolID  int64
	PupilID   int64 // 0 when the message is about no pupil

	// CreatedAt is when the event happened or the message was made; zero
	// means now. NotBefore delays the first attempt; zero means at once.
	CreatedAt time.Time
	NotBefore time.Time
	// ExpiresAt, when set, is the instant after which the message is
	// dead-lettered instead of sent: "entered at 07:52" is noise at noon.
	ExpiresAt time.Time

	// Set by the outbox.
	Status    Status
	Attempts  int
	LastError string
	SentAt    time.Time
	// Lease is the claim this message was delivered under (Claim's owner).
	Lease string
}

// Channel delivers messages of one kind. Send returns nil when the provider
// accepted the message, a permanent error (see Permanent) when retrying
// cannot help, and any other error for a retry later.
type Channel interface {
	Send(ctx context.Context, m Message) error
}

// ChannelFunc adapts a function to Channel.
type ChannelFunc func(ctx context.Context, m Message) error

func (f ChannelFunc) Send(ctx context.Context, m Message) error { return f(ctx, m) }

// DeliveryError is a failed delivery with what the worker should do next.
type DeliveryError struct {
	Permanent  bool          // dead-letter at once
	RetryAfter time.Duration // the provider asked to wait at least this long
	Err        error
}

func (e *DeliveryError) Error() string {
	kind := "temporary"
	if e.Permanent {
		kind = "permanent"
	}
	return fmt.Sprintf("%s: %v", kind, e.Err)
}

func (e *DeliveryError) Unwrap() error { return e.Err }

// Permanent marks err as one that no retry can fix (a bad address, a
// recipient that blocked the bot, a 4xx answer).
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &DeliveryError{Permanent: true, Err: err}
}

// Temporary marks err as worth a retry, not sooner than after (zero: the
// worker's backoff alone decides).
func Temporary(err error, after time.Duration) error {
	if err == nil {
		return nil
	}
	return &DeliveryError{RetryAfter: after, Err: err}
}

// IsPermanent reports whether err dead-letters a message at once.
func IsPermanent(err error) bool {
	var d *DeliveryError
	return errors.As(err, &d) && d.Permanent
}

func retryAfter(err error) time.Duration {
	var d *DeliveryError
	if errors.As(err, &d) {
		return d.RetryAfter
	}
	return 0
}
