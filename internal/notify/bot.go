package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// BotChannel sends through a messenger bot with the Telegram Bot API's
// sendMessage (Telegram itself or a compatible service). The recipient is
// the chat id the guardian's conversation with the bot gave.
type BotChannel struct {
	BaseURL string // default https://api.telegram.org
	Token   string // never shown in errors
	Client  *http.Client
}

type botAnswer struct {
	OK          bool   `json:"ok"`
	ErrorCode   int    `json:"error_code"`
	Description string `json:"description"`
	Parameters  struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

func (c *BotChannel) Send(ctx context.Context, m Message) error {
	if m.Recipient == "" {
		return Permanent(errors.New("no chat id"))
	}
	if c.Token == "" {
		return Temporary(errors.New("no bot token configured"), 0)
	}
	base := c.BaseURL
	if base == "" {
		base = "https://api.telegram.org"
	}
	if _, err := httpURL(base); err != nil {
		return Temporary(errors.New("bot API URL is "+err.Error()), 0)
	}
	// A numeric chat id goes as a number, a @channel name as a string.
	var chat any = m.Recipient
	if id, err := strconv.ParseInt(m.Recipient, 10, 64); err == nil {
		chat = id
	}
	body, _ := json.Marshal(map[string]any{"chat_id": chat, "text": m.Body})
	req, err := http.NewRequest(http.MethodPost, strings.TrimSuffix(base, "/")+"/bot"+c.Token+"/sendMessage", bytes.NewReader(body))
	if err != nil {
		return Temporary(errors.New("bot API URL is invalid"), 0)
	}
	req.Header.Set("Content-Type", "application/json")
	cl := c.Client
	if cl == nil {
		cl = httpClient
	}
	resp, err := cl.Do(req.WithContext(ctx))
	if err != nil {
		return Temporary(hideURL(err), 0)
	}
	defer resp.Body.Close()
	var a botAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil && resp.StatusCode < 300 {
		return Temporary(fmt.Errorf("bot API: HTTP %d with an unreadable answer", resp.StatusCode), 0)
	}
	if resp.StatusCode < 300 && a.OK {
		return nil
	}
	code := a.ErrorCode
	if code == 0 {
		code = resp.StatusCode
	}
	err = fmt.Errorf("bot API %d: %s", code, snippet([]byte(a.Description)))
	switch {
	case code == http.StatusTooManyRequests:
		return Temporary(err, time.Duration(a.Parameters.RetryAfter)*time.Second)
	case code >= 500, code == http.StatusUnauthorized, code == http.StatusNotFound:
		// 401 and 404 are our token or URL, not the message: fixed by configuration.
		return Temporary(err, 0)
	}
	// 400 chat not found, 403 blocked by the user: no retry will help.
	return Permanent(err)
}
