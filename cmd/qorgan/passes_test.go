package main_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// inbox is what the guardians' four sinks received: the text of each
// message, by channel.
type inbox struct {
	mu  sync.Mutex
	got map[string][]string // channel → texts
}

func (b *inbox) add(ch, text string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.got[ch] = append(b.got[ch], text)
}

func (b *inbox) count(ch string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.got[ch])
}

// texts returns a copy of what a channel received.
func (b *inbox) texts(ch string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.got[ch]...)
}

// waitFor waits until every channel has at least its wanted count, then a
// little longer, and fails unless each has exactly that many.
func (b *inbox) waitFor(t *testing.T, want map[string]int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok := true
		for ch, n := range want {
			ok = ok && b.count(ch) >= n
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			b.mu.Lock()
			defer b.mu.Unlock()
			t.Fatalf("delivered: %q, want counts %v", b.got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	for ch, n := range want {
		if got := b.count(ch); got != n {
			t.Errorf("%s got %d messages, want %d: %q", ch, got, n, b.texts(ch))
		}
	}
}

// mailSession is the part of a sink's SMTP session that takes every
// sender and recipient; the sink's own Data keeps the mail.
type mailSession struct{}

func (mailSession) Reset()                               {}
func (mailSession) Logout() error                        { return nil }
func (mailSession) Mail(string, *smtp.MailOptions) error { return nil }
func (mailSession) Rcpt(string, *smtp.RcptOptions) error { return nil }

type smtpSession struct {
	mailSession
	b *inbox
}

// Data keeps the decoded subject and text of the mail, "subject\ntext".
func (s *smtpSession) Data(r io.Reader) error {
	raw, _ := io.ReadAll(r)
	msg, err := mail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		s.b.add("email", string(raw))
		return nil
	}
	body, _ := io.ReadAll(msg.Body)
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "base64") {
		if dec, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(body)), "")); err == nil {
			body = dec
		}
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		subject = msg.Header.Get("Subject")
	}
	s.b.add("email", subject+"\n"+string(body))
	return nil
}

// guardianSinks starts what the guardians' messages go out to — a real SMTP
// server, and local HTTP servers as the SMS gateway, the messenger bot API
// and the webhook receiver — and returns their inbox and the server flags
// that point the binary at them.
func guardianSinks(t *testing.T) (*inbox, []string) {
	t.Helper()
	box := &inbox{got: map[string][]string{}}
	httpSink := func(ch string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			var v struct {
				Text string `json:"text"`
			}
			if json.Unmarshal(b, &v) != nil {
				if f, err := url.ParseQuery(string(b)); err == nil {
					v.Text = f.Get("text")
				}
			}
			box.add(ch, v.Text)
			io.WriteString(w, `{"ok":true,"result":{}}`)
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	ms := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &smtpSession{b: box}, nil }))
	ms.Domain, ms.AllowInsecureAuth = "mx.test", true
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go ms.Serve(l)
	t.Cleanup(func() { ms.Close() })
	return box, []string{"--smtp-addr", l.Addr().String(), "--smtp-security", "none",
		"--sms-url", httpSink("sms"), "--bot-url", httpSink("bot"), "--bot-token", "123:abc",
		"--webhook-url", httpSink("webhook"), "--webhook-secret", "a-webhook-secret-of-some-length", "--quiet-hours", "off"}
}

// TestPassToGuardiansEndToEnd: a turnstile posts a pass to the real binary
// over HTTP; it reaches presence and the guardian's e-mail (a real SMTP
// server), SMS gateway, messenger bot and the webhook exactly once, in the
// guardian's language, even though the device sends it twice.
func TestPassToGuardiansEndToEnd(t *testing.T) {
	box, sinks := guardianSinks(t)
	s := startDemo(t, filepath.Join(t.TempDir(), "demo.db"), sinks...)
	director, _ := signIn(t, s.base, "director", "qorgan-demo-2026")
	pupil := addPupil(t, director, "E2E-1", "E2E0C0DE",
		map[string]any{"phone": "+77019990001", "full_name": "Сәуле", "language": "ru", "email": "saule@example.kz", "messenger_id": "777", "consent_given_on": "2025-09-01"},
		map[string]any{"phone": "+77019990002", "full_name": "Ерлан", "language": "kk", "consent_given_on": "2025-09-01"})
	cred := turnstileCredential(t, director)
	body := fmt.Sprintf(`{"events":[{"event_id":"e2e-1","at":%q,"direction":"in","card_uid":"E2E0C0DE"}]}`, time.Now().Add(-time.Minute).UTC().Format(time.RFC3339))
	for i := 0; i < 2; i++ { // the device resends
		req, _ := http.NewRequest("POST", s.base+"/api/v1/device/passes", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+cred)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("post passes: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	// Presence: the guard's roll-call shows her inside.
	guard, _ := signIn(t, s.base, "guard", "qorgan-demo-2026")
	if p := presenceOf(guard, pupil.ID); p != "inside" {
		t.Fatalf("the pupil is %q on the roll-call, want inside", p)
	}
	box.waitFor(t, map[string]int{"bot": 1, "email": 1, "sms": 1, "webhook": 2})
	if b := box.texts("bot")[0]; !strings.Contains(b, "Айгерім") || !strings.Contains(b, "школ") {
		t.Errorf("Russian bot message: %q", b)
	}
	if b := box.texts("sms")[0]; !strings.Contains(b, "мектепке") {
		t.Errorf("Kazakh SMS: %q", b)
	}
}

// addPupil registers a pupil of school 1 with a card and guardians, as the
// school's director.
func addPupil(t *testing.T, director *client, externalID, card string, guardians ...map[string]any) pupil {
	t.Helper()
	var p pupil
	st := director.do("POST", "/api/v1/schools/1/pupils", map[string]any{"external_id": externalID, "last_name": "Ахметова", "first_name": "Айгерім",
		"class": "5А", "card_uid": card, "guardians": guardians}, &p)
	if st != 201 || len(p.Guardians) != len(guardians) {
		t.Fatalf("create pupil %s: %d %+v", externalID, st, p)
	}
	return p
}

// presenceOf is a pupil's presence on the roll-call of school 1 (inside,
// left, not_arrived), as the person signed in to c sees it.
func presenceOf(c *client, pupilID int64) string {
	c.t.Helper()
	var rc struct {
		People []struct {
			ID       int64  `json:"id"`
			Kind     string `json:"kind"`
			Presence string `json:"presence"`
		} `json:"people"`
	}
	if st := c.do("GET", "/api/v1/schools/1/rollcall", nil, &rc); st != 200 {
		c.t.Fatalf("roll-call: %d", st)
	}
	for _, p := range rc.People {
		if p.Kind == "pupil" && p.ID == pupilID {
			return p.Presence
		}
	}
	return ""
}

// TestMorningPeak plays a (compressed) morning against the real binary with
// the simulator: passes are stored, lost cards show up as unknown, and the
// offline controller's late backlog is taken in full.
func TestMorningPeak(t *testing.T) {
	s := startDemo(t, filepath.Join(t.TempDir(), "demo.db"), "--quiet-hours", "off")
	out, err := qorgan(t, "", "simulate", "morning", "--server", s.base, "--speed", "900", "--scale", "0.5")
	if err != nil {
		t.Fatalf("simulate morning: %v\n%s", err, out)
	}
	var schools, pupils, sent, stored, dup, unknown, backlog, backlogStored int
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "passes sent in") {
			fmt.Sscanf(line, "%d schools, %d pupils: %d passes sent", &schools, &pupils, &sent)
			if i := strings.Index(line, "stored "); i >= 0 {
				fmt.Sscanf(line[i:], "stored %d, duplicate %d, unknown %d", &stored, &dup, &unknown)
			}
		}
		if i := strings.Index(line, "offline controller uploaded "); i >= 0 {
			fmt.Sscanf(line[i:], "offline controller uploaded %d events late, %d stored", &backlog, &backlogStored)
		}
	}
	if schools == 0 || sent < pupils || stored+dup != sent || unknown == 0 || backlog == 0 || backlogStored != backlog {
		t.Fatalf("report: schools %d pupils %d sent %d stored %d dup %d unknown %d backlog %d/%d\n%s",
			schools, pupils, sent, stored, dup, unknown, backlogStored, backlog, out)
	}
}
