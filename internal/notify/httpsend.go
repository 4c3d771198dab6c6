package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// httpClient is shared by the HTTP channels when none is configured: a
// webhook host or SMS gateway takes many requests at once at the morning
// peak, so it keeps as many idle connections per host as a worker may have
// deliveries in flight — up to the 10,000 that --message-concurrency
// allows, not just the default (256). With fewer, every delivery past them
// opens a new connection and closes it after one request: with
// --message-concurrency 512 (384 webhooks in flight) and 256 kept, a 12 s
// run at 5,000 passes/s opened 6,000–7,500 connections to the one webhook
// host instead of 384–455. Connections are only opened as deliveries need
// them, and idle ones close after 90 s.
var httpClient = func() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 10_000
	t.MaxIdleConnsPerHost = 10_000
	return &http.Client{
		Transport: t,
		// A redirect of a POST would become a GET or replay the body
		// somewhere nobody configured.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}()

// post sends one request and classifies the answer: nil for 2xx; a
// temporary error for a network failure, 408, 425, 429 and 5xx (with the
// provider's Retry-After); a permanent error for any other status. The
// response body is returned for 2xx answers.
func post(ctx context.Context, c *http.Client, req *http.Request) ([]byte, error) {
	if c == nil {
		c = httpClient
	}
	resp, err := c.Do(req.WithContext(ctx))
	if err != nil {
		return nil, Temporary(hideURL(err), 0)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return body, nil
	}
	err = fmt.Errorf("HTTP %d: %s", resp.StatusCode, snippet(body))
	switch {
	case resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode == http.StatusTooEarly,
		resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode >= 500:
		return nil, Temporary(err, ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()))
	}
	return nil, Permanent(err)
}

// hideURL drops the URL from a transport error: it may carry a bot token or
// a secret query parameter, and the error is shown to the school.
func hideURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// ParseRetryAfter reads an answer's Retry-After header, seconds or an HTTP
// date, as the wait from now; 0 when there is none or it is past.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

func snippet(b []byte) string {
	return cut(strings.Join(strings.Fields(string(b)), " "), 200)
}

// cut shortens s to at most n bytes without splitting a character.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}

// httpURL checks that a recipient or configured address is an absolute
// http(s) URL.
func httpURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errors.New("not an http(s) URL")
	}
	return u, nil
}
