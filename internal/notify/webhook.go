package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Headers of a webhook request.
const (
	SignatureHeader = "X-Qorgan-Signature" // sha256=<hex HMAC-SHA256 of the body>
	TimestampHeader = "X-Qorgan-Timestamp" // Unix seconds of this attempt
	EventHeader     = "X-Qorgan-Event"     // the message kind
	KeyHeader       = "Idempotency-Key"    // the message key, also "id" in the body
)

// WebhookPayload is the JSON body of a webhook. It is the same bytes on
// every attempt, so its signature is too, and a receiver that has seen the
// id drops a repeat.
type WebhookPayload struct {
	ID        string    `json:"id"` // the idempotency key
	Kind      string    `json:"kind"`
	SchoolID  int64     `json:"school_id"`
	PupilID   int64     `json:"pupil_id,omitempty"`
	Language  string    `json:"language"`
	Subject   string    `json:"subject,omitempty"`
	Text      string    `json:"text"`
	CreatedAt time.Time `json:"created_at"`
}

// WebhookChannel posts signed JSON to the recipient URL.
type WebhookChannel struct {
	Client *http.Client // default: a shared client that does not follow redirects
	// Secret signs every school's webhooks unless SchoolSecret gives one.
	Secret []byte
	// SchoolSecret, when set, returns a school's own secret (nil: use Secret).
	SchoolSecret func(ctx context.Context, schoolID int64) ([]byte, error)
	Now          func() time.Time
}

// Sign returns the signature header value of body under secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// VerifySignature checks a signature header value in constant time; for
// receivers and tests.
func VerifySignature(secret, body []byte, header string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(strings.TrimSpace(header)))
}

func (c *WebhookChannel) Send(ctx context.Context, m Message) error {
	u, err := httpURL(m.Recipient)
	if err != nil {
		return Permanent(errors.New("webhook recipient is " + err.Error()))
	}
	secret := c.Secret
	if c.SchoolSecret != nil {
		s, err := c.SchoolSecret(ctx, m.SchoolID)
		if err != nil {
			return Temporary(err, 0)
		}
		if s != nil {
			secret = s
		}
	}
	if len(secret) == 0 {
		// Unsigned messages about children are not sent; a secret set later
		// lets the retries through.
		return Temporary(errors.New("no webhook secret configured"), 0)
	}
	body, err := json.Marshal(WebhookPayload{ID: m.Key, Kind: m.Kind, SchoolID: m.SchoolID, PupilID: m.PupilID, Language: m.Language,
		Subject: m.Subject, Text: m.Body, CreatedAt: m.CreatedAt.UTC()})
	if err != nil {
		return Permanent(err)
	}
	req, err := http.NewRequest(http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return Permanent(hideURL(err))
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Qorgan-Webhook/1")
	req.Header.Set(SignatureHeader, Sign(secret, body))
	req.Header.Set(TimestampHeader, strconv.FormatInt(now().Unix(), 10))
	req.Header.Set(KeyHeader, m.Key)
	if m.Kind != "" {
		req.Header.Set(EventHeader, m.Kind)
	}
	_, err = post(ctx, c.Client, req)
	return err
}
