package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// SMSChannel sends text messages through an HTTP SMS gateway. Gateways
// differ in everything but the idea, so the request is configured: method,
// parameter names, fixed extra parameters and headers (authorization).
type SMSChannel struct {
	URL    string
	Method string // POST (default) or GET (parameters in the query)
	JSON   bool   // POST a JSON object instead of a form
	Header http.Header
	// Parameter names; defaults phone, text, idempotency_key.
	PhoneParam, TextParam, KeyParam string
	Extra                           map[string]string // fixed parameters, e.g. the sender name
	Client                          *http.Client
}

// phoneOK accepts an international number: an optional +, 10 to 15 digits.
func phoneOK(p string) bool {
	p = strings.TrimPrefix(p, "+")
	if len(p) < 10 || len(p) > 15 {
		return false
	}
	for _, r := range p {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func (c *SMSChannel) Send(ctx context.Context, m Message) error {
	if !phoneOK(m.Recipient) {
		return Permanent(errors.New("SMS recipient is not an international phone number"))
	}
	u, err := httpURL(c.URL)
	if err != nil {
		return Temporary(errors.New("SMS gateway URL is "+err.Error()), 0)
	}
	name := func(v, def string) string {
		if v == "" {
			return def
		}
		return v
	}
	params := map[string]string{}
	for k, v := range c.Extra {
		params[k] = v
	}
	params[name(c.PhoneParam, "phone")] = m.Recipient
	params[name(c.TextParam, "text")] = m.Body
	params[name(c.KeyParam, "idempotency_key")] = m.Key

	var req *http.Request
	switch strings.ToUpper(c.Method) {
	case http.MethodGet:
		q := u.Query()
		for k, v := range params {
			q.Set(k, v)
		}
		u.RawQuery = q.Encode()
		req, err = http.NewRequest(http.MethodGet, u.String(), nil)
	case "", http.MethodPost:
		if c.JSON {
			body, _ := json.Marshal(params)
			req, err = http.NewRequest(http.MethodPost, u.String(), bytes.NewReader(body))
			if err == nil {
				req.Header.Set("Content-Type", "application/json")
			}
		} else {
			form := url.Values{}
			for k, v := range params {
				form.Set(k, v)
			}
			req, err = http.NewRequest(http.MethodPost, u.String(), strings.NewReader(form.Encode()))
			if err == nil {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
		}
	default:
		return Temporary(errors.New("SMS gateway method must be GET or POST"), 0)
	}
	if err != nil {
		return Temporary(hideURL(err), 0)
	}
	for k, vs := range c.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set(KeyHeader, m.Key)
	_, err = post(ctx, c.Client, req)
	return err
}
