package cap

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"qorgan/internal/errs"
)

// Webhook posts alerts to a receiver's URL: a civil-protection system or a
// public-address gateway that takes CAP over HTTP.
type Webhook struct {
	url         string
	contentType string
	client      *http.Client
	header      http.Header
}

// NewWebhook is a sender to rawURL (http or https) with the content type
// the receiver takes: application/cap+xml (also when empty) or
// application/xml. A nil client is one with a 10-second timeout. header
// (may be nil) is sent with every post, e.g. the receiver's Authorization.
func NewWebhook(rawURL, contentType string, client *http.Client, header http.Header) (*Webhook, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errs.Invalidf("url", "%q is not an http or https URL", rawURL)
	}
	switch contentType {
	case "":
		contentType = ContentType
	case ContentType, "application/xml":
	default:
		return nil, errs.Invalidf("content_type", "is %q, not %s or application/xml", contentType, ContentType)
	}
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return &Webhook{url: u.String(), contentType: contentType, client: client, header: header.Clone()}, nil
}

// Send checks the alert, posts it, and succeeds when the receiver answers
// 2xx. An alert that is not valid CAP is refused before anything is sent; a
// receiver that cannot be reached or answers otherwise is Unavailable, with
// its status and the start of its answer, so that the caller retries.
func (w *Webhook) Send(ctx context.Context, a Alert) error {
	body, err := Marshal(a)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return errs.Wrap(err, "the CAP webhook request")
	}
	for k, v := range w.header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", w.contentType+"; charset=utf-8")
	resp, err := w.client.Do(req)
	if err != nil {
		return &errs.Error{Code: errs.Unavailable, Message: "the CAP receiver cannot be reached", Err: err}
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return &errs.Error{Code: errs.Unavailable,
			Message: fmt.Sprintf("the CAP receiver answered %s", resp.Status),
			Err:     fmt.Errorf("alert %s: %s: %q", a.Identifier, resp.Status, answer)}
	}
	return nil
}
