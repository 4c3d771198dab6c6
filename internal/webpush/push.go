package webpush

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"qorgan/internal/notify"
)

// Urgency is RFC 8030 §5.3's hint to the push service and the phone of how
// soon the message matters, and so how much battery it may cost.
type Urgency string

const (
	UrgencyVeryLow Urgency = "very-low"
	UrgencyLow     Urgency = "low"
	UrgencyNormal  Urgency = "normal"
	UrgencyHigh    Urgency = "high"
)

// Target is where one push goes: a browser's subscription.
type Target struct {
	Endpoint string
	P256dh   []byte // the user agent's public key, 65 bytes
	Auth     []byte // the auth secret, 16 bytes
}

// Push is one message: the plaintext (encrypted on the way) and how long
// the push service keeps it for a phone that is off.
type Push struct {
	Payload []byte
	TTL     time.Duration // 0: the push service may drop it unless it can deliver at once
	Urgency Urgency       // empty: normal
	Topic   string        // a newer push with the same topic replaces an undelivered one
}

// Sender posts pushes to push services, signed with Key.
type Sender struct {
	Key     *VAPIDKey
	Subject string       // VAPID contact: mailto:… or https://…
	Client  *http.Client // default: one that does not follow redirects
	Now     func() time.Time

	mu     sync.Mutex
	tokens map[string]token // by push service origin
}

// token is a signed VAPID header kept for reuse: signing costs more than
// the rest of a push but one token serves every push to the same push
// service until it is close to expiry.
type token struct {
	header string
	exp    time.Time
}

// Token lifetimes: each token is made for tokenLife (well inside the 24 h
// limit, however far the clocks of this node and the push service differ)
// and replaced when less than tokenRenew of it is left.
const (
	tokenLife  = 12 * time.Hour
	tokenRenew = 1 * time.Hour
)

// authorization returns a VAPID header for the endpoint's origin, reusing
// a fresh enough one.
func (s *Sender) authorization(u *url.URL, now time.Time) (string, error) {
	origin := u.Scheme + "://" + u.Host
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tokens[origin]; ok && t.exp.Sub(now) > tokenRenew {
		return t.header, nil
	}
	exp := now.Add(tokenLife)
	h, err := s.Key.Authorization(origin, s.Subject, exp)
	if err != nil {
		return "", err
	}
	if s.tokens == nil {
		s.tokens = map[string]token{}
	}
	s.tokens[origin] = token{header: h, exp: exp}
	return h, nil
}

// StatusError is a push service's answer other than 2xx.
type StatusError struct {
	Code       int
	RetryAfter time.Duration // from Retry-After, when given
	Body       string        // the start of the answer, for the log
}

func (e *StatusError) Error() string {
	if e.Body == "" {
		return fmt.Sprintf("push service answered HTTP %d", e.Code)
	}
	return fmt.Sprintf("push service answered HTTP %d: %s", e.Code, e.Body)
}

// Gone reports whether the answer says the subscription no longer exists
// (404 or 410, RFC 8030 §7.3): it is to be forgotten, not retried.
func (e *StatusError) Gone() bool {
	return e.Code == http.StatusNotFound || e.Code == http.StatusGone
}

// Temporary reports whether a later retry may succeed: 408, 425, 429, 5xx.
func (e *StatusError) Temporary() bool {
	switch e.Code {
	case http.StatusRequestTimeout, http.StatusTooEarly, http.StatusTooManyRequests:
		return true
	}
	return e.Code >= 500
}

// NetworkError is a push that got no answer; a retry may do better. It
// names the push service's host only: the endpoint's path is the
// subscription's secret and stays out of logs.
type NetworkError struct {
	Host string
	Err  error
}

func (e *NetworkError) Error() string { return "push to " + e.Host + ": " + e.Err.Error() }

func (e *NetworkError) Unwrap() error { return e.Err }

var defaultClient = &http.Client{
	Timeout: 30 * time.Second,
	// A push service that redirects a POST is misconfigured; following it
	// would replay the body somewhere the browser never named.
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// Send encrypts p for t and posts it. It returns nil when the push service
// accepted it (2xx, normally 201), a *StatusError for any other answer, and
// other errors for a bad target or a network failure.
func (s *Sender) Send(ctx context.Context, t Target, p Push) error {
	u, err := url.Parse(t.Endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("endpoint is not an http(s) URL")
	}
	body, err := Encrypt(p.Payload, t.P256dh, t.Auth)
	if err != nil {
		return err
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	auth, err := s.authorization(u, now())
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.Endpoint, bytes.NewReader(body))
	if err != nil {
		return errors.New("endpoint is not a valid URL")
	}
	urgency := p.Urgency
	if urgency == "" {
		urgency = UrgencyNormal
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("Content-Encoding", "aes128gcm")
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("TTL", strconv.FormatInt(max(0, int64(p.TTL/time.Second)), 10))
	req.Header.Set("Urgency", string(urgency))
	if p.Topic != "" {
		req.Header.Set("Topic", p.Topic)
	}
	c := s.Client
	if c == nil {
		c = defaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return &NetworkError{Host: u.Host, Err: err}
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	return &StatusError{Code: resp.StatusCode, RetryAfter: notify.ParseRetryAfter(resp.Header.Get("Retry-After"), now()),
		Body: strings.Join(strings.Fields(string(bytes.ToValidUTF8(answer, nil))), " ")}
}
