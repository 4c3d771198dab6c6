package main_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"qorgan/internal/attendance"
	"qorgan/internal/notify"
	"qorgan/internal/store"
)

// sinkDelivery is one message as a sink received it.
type sinkDelivery struct {
	Channel string
	Key     string // the idempotency key the sink was given: webhook and SMS; for e-mail the Message-ID; none for the bot
	To      string // phone, e-mail address, chat id; for the webhook the key's guardian
	Lang    string // as the sink was told it (webhook, e-mail); empty otherwise
	Subject string
	Text    string
	PupilID int64
	Problem string // what was wrong with the request itself
}

// slowSinks are the guardians' four sinks — an SMTP server, and HTTP
// servers as the SMS gateway, the messenger bot API and the webhook
// receiver — each holding every delivery for a while before it answers, as
// a busy provider does. A delivery is recorded when it arrives (the
// provider has the message), and is "open" until the sink answers.
type slowSinks struct {
	t      *testing.T
	hold   time.Duration
	secret string
	flags  []string

	mu      sync.Mutex
	got     []sinkDelivery
	open    map[int]bool // deliveries not answered
	aborted []int        // deliveries whose sender went away before the answer
	frozen  bool         // answer nothing more
	thaw    chan struct{}
}

func newSlowSinks(t *testing.T, hold time.Duration) *slowSinks {
	t.Helper()
	s := &slowSinks{t: t, hold: hold, secret: "a-webhook-secret-of-some-length", open: map[int]bool{}, thaw: make(chan struct{})}
	ms := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &slowMail{s: s}, nil }))
	ms.Domain, ms.AllowInsecureAuth = "mx.test", true
	ms.ErrorLog = log.New(io.Discard, "", 0) // connections the crash cuts are expected
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go ms.Serve(l)
	t.Cleanup(func() { ms.Close() })
	s.flags = []string{"--smtp-addr", l.Addr().String(), "--smtp-security", "none",
		"--sms-url", s.httpSink(t, "sms"), "--bot-url", s.httpSink(t, "bot"), "--bot-token", "123:abc",
		"--webhook-url", s.httpSink(t, "webhook"), "--webhook-secret", s.secret, "--quiet-hours", "off"}
	// Run first among the cleanups: a held handler must return before its
	// server can close.
	t.Cleanup(s.unfreeze)
	return s
}

// arrive records a delivery and returns its index.
func (s *slowSinks) arrive(d sinkDelivery) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, d)
	s.open[len(s.got)-1] = true
	return len(s.got) - 1
}

// answer says whether delivery i may be answered now; if the sinks are
// frozen it waits until they thaw and says no.
func (s *slowSinks) answer(i int) bool {
	s.mu.Lock()
	if !s.frozen {
		delete(s.open, i)
		s.mu.Unlock()
		return true
	}
	thaw := s.thaw
	s.mu.Unlock()
	<-thaw
	return false
}

// freeze makes the sinks answer nothing more: whatever is in flight now or
// arrives later stays unanswered until unfreeze.
func (s *slowSinks) freeze() {
	s.mu.Lock()
	s.frozen = true
	s.mu.Unlock()
}

func (s *slowSinks) unfreeze() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.frozen {
		s.frozen = false
		close(s.thaw)
		s.thaw = make(chan struct{})
	}
}

// state returns a copy of what the sinks received, the deliveries not
// answered and those whose sender went away before the answer.
func (s *slowSinks) state() (got []sinkDelivery, open []int, aborted []int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.open {
		open = append(open, i)
	}
	return append([]sinkDelivery(nil), s.got...), open, append([]int(nil), s.aborted...)
}

func (s *slowSinks) openCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.open)
}

func (s *slowSinks) httpSink(t *testing.T, ch string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		d := sinkDelivery{Channel: ch}
		switch ch {
		case "sms":
			f, err := url.ParseQuery(string(body))
			if err != nil {
				d.Problem = "SMS form: " + err.Error()
			}
			d.Key, d.To, d.Text = f.Get("idempotency_key"), f.Get("phone"), f.Get("text")
			if h := r.Header.Get(notify.KeyHeader); h != d.Key {
				d.Problem = fmt.Sprintf("SMS key %q in the form, %q in the header", d.Key, h)
			}
		case "bot":
			var v struct {
				ChatID json.Number `json:"chat_id"`
				Text   string      `json:"text"`
			}
			if err := json.Unmarshal(body, &v); err != nil {
				d.Problem = "bot JSON: " + err.Error()
			}
			d.To, d.Text = v.ChatID.String(), v.Text
		case "webhook":
			var p notify.WebhookPayload
			if err := json.Unmarshal(body, &p); err != nil {
				d.Problem = "webhook JSON: " + err.Error()
			}
			d.Key, d.Lang, d.Text, d.PupilID = r.Header.Get(notify.KeyHeader), p.Language, p.Text, p.PupilID
			switch {
			case !notify.VerifySignature([]byte(s.secret), body, r.Header.Get(notify.SignatureHeader)):
				d.Problem = "webhook signature does not verify"
			case p.ID != d.Key:
				d.Problem = fmt.Sprintf("webhook id %q, key header %q", p.ID, d.Key)
			}
			// The guardian, from the key: …/guardian/{id}/webhook.
			if parts := strings.Split(d.Key, "/"); len(parts) >= 3 && parts[len(parts)-3] == "guardian" {
				d.To = parts[len(parts)-2]
			}
		}
		i := s.arrive(d)
		select {
		case <-time.After(s.hold):
		case <-r.Context().Done():
			s.mu.Lock()
			s.aborted = append(s.aborted, i)
			s.mu.Unlock()
			return
		}
		if !s.answer(i) {
			return
		}
		io.WriteString(w, `{"ok":true,"result":{}}`)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// slowMail is one SMTP session of the sinks.
type slowMail struct {
	mailSession
	s *slowSinks
}

func (m *slowMail) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		// The sender went away before the end of the data: no mail.
		return err
	}
	d := sinkDelivery{Channel: "email"}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		d.Problem = "mail: " + err.Error()
	} else {
		body, _ := io.ReadAll(msg.Body)
		if dec, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(body)), "")); err == nil {
			body = dec
		} else {
			d.Problem = "mail body is not base64"
		}
		d.Text = string(body)
		d.Subject, _ = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		d.Key, d.Lang = msg.Header.Get("Message-ID"), msg.Header.Get("Content-Language")
		if to, err := mail.ParseAddress(msg.Header.Get("To")); err == nil {
			d.To = to.Address
		}
	}
	i := m.s.arrive(d)
	time.Sleep(m.s.hold)
	if !m.s.answer(i) {
		return &smtp.SMTPError{Code: 451, Message: "gone"}
	}
	return nil
}

// expectedMessage is one message a guardian should receive.
type expectedMessage struct {
	channel, key, to, lang, subject, text string
	pupil                                 int64
}

// restartPupil is a pupil of the test with her two guardians: the first
// has a messenger id and an e-mail address (bot, e-mail, webhook), the
// second a phone only (SMS, webhook); their languages differ.
type restartPupil struct {
	name, card, event string
	id                int64
	guardians         [2]int64
	langs             [2]string
	chat, email       string
	phone             string // the second guardian's
}

var restartNames = []string{"Айгерім", "Нұрлан", "Дана", "Ерасыл", "Аружан", "Алихан", "Томирис", "Мирас", "Інкәр", "Санжар", "Жансая",
	"Темірлан", "Әсел", "Бекзат", "Мадина", "Нұрислам", "Аяужан", "Ислам", "Дильназ", "Абылай", "Камила", "Рамазан"}

func addRestartPupils(t *testing.T, director *client, group string, from, n int) []restartPupil {
	t.Helper()
	langs := []string{"kk", "ru", "en"}
	var out []restartPupil
	for i := from; i < from+n; i++ {
		p := restartPupil{name: restartNames[i], card: fmt.Sprintf("A1B2%04X", 0x100+i), event: fmt.Sprintf("restart-%s-%d", group, i),
			langs: [2]string{langs[i%3], langs[(i+1)%3]}, chat: fmt.Sprint(700100 + i), email: fmt.Sprintf("guardian%d@example.kz", i),
			phone: fmt.Sprintf("+7701555%04d", i)}
		var created pupil
		st := director.do("POST", "/api/v1/schools/1/pupils", map[string]any{"external_id": "RESTART-" + fmt.Sprint(i), "last_name": "Сапарова",
			"first_name": p.name, "class": "4Б", "card_uid": p.card, "guardians": []map[string]any{
				{"phone": fmt.Sprintf("+7701444%04d", i), "full_name": "Бірінші " + p.name, "language": p.langs[0], "email": p.email,
					"messenger_id": p.chat, "consent_given_on": "2025-09-01"},
				{"phone": p.phone, "full_name": "Екінші " + p.name, "language": p.langs[1], "consent_given_on": "2025-09-01"},
			}}, &created)
		if st != 201 || len(created.Guardians) != 2 {
			t.Fatalf("create pupil %s: %d %+v", p.name, st, created)
		}
		p.id, p.guardians = created.ID, [2]int64{created.Guardians[0].ID, created.Guardians[1].ID}
		out = append(out, p)
	}
	return out
}

// turnstileCredential issues the first turnstile of school 1 a credential.
func turnstileCredential(t *testing.T, director *client) string {
	t.Helper()
	var devices struct {
		Items []struct {
			ID   int64  `json:"id"`
			Kind string `json:"kind"`
		} `json:"items"`
	}
	director.do("GET", "/api/v1/schools/1/devices", nil, &devices)
	for _, d := range devices.Items {
		if d.Kind != "turnstile" {
			continue
		}
		var cred struct {
			Credential string `json:"credential"`
		}
		if st := director.do("POST", fmt.Sprintf("/api/v1/devices/%d/credential", d.ID), nil, &cred); st != 201 {
			t.Fatalf("turnstile credential: %d", st)
		}
		return cred.Credential
	}
	t.Fatal("school 1 has no turnstile")
	return ""
}

// postEntries posts one batch with an entry of each pupil at the same instant.
func postEntries(t *testing.T, base, cred string, at time.Time, pupils []restartPupil) {
	t.Helper()
	var events []map[string]string
	for _, p := range pupils {
		events = append(events, map[string]string{"event_id": p.event, "at": at.UTC().Format(time.RFC3339), "direction": "in", "card_uid": p.card})
	}
	body, _ := json.Marshal(map[string]any{"events": events})
	req, _ := http.NewRequest("POST", base+"/api/v1/device/passes", strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer "+cred)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("post passes: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), fmt.Sprintf(`"stored":%d`, len(pupils))) {
		t.Fatalf("post passes: %d %s", resp.StatusCode, b)
	}
}

// expectedFor lists the messages the pupils' entries at `at` should bring,
// with the passes' ids as the stopped server stored them.
func expectedFor(t *testing.T, dbPath string, at time.Time, pupils []restartPupil) []expectedMessage {
	t.Helper()
	db, err := store.Open(context.Background(), store.Config{Path: dbPath})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var out []expectedMessage
	for _, p := range pupils {
		var pass int64
		if err := db.Reader().QueryRowContext(context.Background(), "SELECT id FROM passes WHERE event_id = ? AND person_id = ?", p.event, p.id).Scan(&pass); err != nil {
			t.Fatalf("the pass of %s: %v", p.name, err)
		}
		day := attendance.Day(at) // an entry's messages are keyed by pupil and day
		for gi, g := range p.guardians {
			lang := p.langs[gi]
			text, err := notify.Render(lang, "pupil.entered", notify.Vars{Name: p.name, At: at})
			if err != nil {
				t.Fatal(err)
			}
			subject, _ := notify.Render(lang, "subject.attendance", notify.Vars{Name: p.name})
			m := func(ch, to string) expectedMessage {
				return expectedMessage{channel: ch, key: fmt.Sprintf("entered/%s/pupil/%d/guardian/%d/%s", day, p.id, g, ch), to: to, lang: lang, text: text, pupil: p.id}
			}
			if gi == 0 {
				e := m("email", p.email)
				e.subject = subject
				out = append(out, m("bot", p.chat), e, m("webhook", fmt.Sprint(g)))
			} else {
				out = append(out, m("sms", p.phone), m("webhook", fmt.Sprint(g)))
			}
		}
	}
	return out
}

// outboxStatus counts the outbox rows by status in the stopped server's file.
func outboxStatus(t *testing.T, dbPath string) map[string]int {
	t.Helper()
	db, err := store.Open(context.Background(), store.Config{Path: dbPath})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Reader().QueryContext(context.Background(), "SELECT status, COUNT(*) FROM outbox GROUP BY status")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var st string
		var n int
		rows.Scan(&st, &n)
		out[st] = n
	}
	return out
}

// statusOf reads the outbox status of one message in the stopped server's file.
func statusOf(t *testing.T, dbPath string, keys []string) map[string]string {
	t.Helper()
	db, err := store.Open(context.Background(), store.Config{Path: dbPath})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := map[string]string{}
	for _, k := range keys {
		var st string
		if err := db.Reader().QueryRowContext(context.Background(), "SELECT status FROM outbox WHERE idempotency_key = ?", k).Scan(&st); err != nil {
			t.Fatalf("outbox row %s: %v", k, err)
		}
		out[k] = st
	}
	return out
}

// match finds the expected message a delivery is, by the key the sink got
// (for e-mail the Message-ID made from it) or, for the bot, which gets no
// key, by chat and text; it checks the rest of the delivery against it.
func match(d sinkDelivery, want []expectedMessage) (expectedMessage, string) {
	for _, e := range want {
		if e.channel != d.Channel {
			continue
		}
		var same bool
		switch d.Channel {
		case "bot":
			same = d.To == e.to && d.Text == e.text
		case "email":
			same = d.Key == notify.MessageID(e.key, "qorgan.kz")
		default:
			same = d.Key == e.key
		}
		if !same {
			continue
		}
		switch {
		case d.Problem != "":
			return e, d.Problem
		case d.To != e.to:
			return e, fmt.Sprintf("to %q, want %q", d.To, e.to)
		case d.Text != e.text:
			return e, fmt.Sprintf("text %q, want %q (%s)", d.Text, e.text, e.lang)
		case (d.Channel == "webhook" || d.Channel == "email") && d.Lang != e.lang:
			return e, fmt.Sprintf("language %q, want %q", d.Lang, e.lang)
		case d.Channel == "email" && d.Subject != e.subject:
			return e, fmt.Sprintf("subject %q, want %q", d.Subject, e.subject)
		case d.Channel == "webhook" && d.PupilID != e.pupil:
			return e, fmt.Sprintf("pupil %d, want %d", d.PupilID, e.pupil)
		}
		return e, ""
	}
	return expectedMessage{}, "matches no expected message"
}

// tally matches every delivery to its expected message and counts them by
// key; a delivery that matches none, or matches with wrong details, fails
// the test.
func tally(t *testing.T, got []sinkDelivery, want []expectedMessage) map[string]int {
	t.Helper()
	n := map[string]int{}
	for _, d := range got {
		e, problem := match(d, want)
		if problem != "" {
			t.Errorf("%s delivery %+v: %s", d.Channel, d, problem)
			continue
		}
		n[e.key]++
	}
	return n
}

// stopped waits for the server to exit and returns how it ended.
func stopped(t *testing.T, s *server, within time.Duration) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(within):
		s.cmd.Process.Kill()
		t.Fatalf("the server did not exit within %v", within)
		return nil
	}
}

// waitDelivered waits until the sinks have at least n deliveries and the
// school's delivery report shows total messages sent and none waiting.
func waitDelivered(t *testing.T, sinks *slowSinks, director *client, n, total int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got, _, _ := sinks.state()
		var report struct {
			Counts []notify.StatusCount `json:"counts"`
		}
		director.do("GET", "/api/v1/schools/1/notifications", nil, &report)
		sent, waiting := 0, 0
		for _, c := range report.Counts {
			switch c.Status {
			case notify.Sent:
				sent += c.Count
			case notify.Pending, notify.Sending:
				waiting += c.Count
			}
		}
		if len(got) >= n && sent == total && waiting == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %d deliveries (want ≥ %d), report %+v (want %d sent, none waiting)", within, len(got), n, report.Counts, total)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestPassDeliveryAcrossRestarts: passes of several pupils, each with one
// guardian on the bot, e-mail and the webhook and another on SMS and the
// webhook in other languages, go to sinks that take 400 ms to answer each
// message. A graceful stop (SIGTERM) while deliveries are in flight lets
// them finish and records them, and the restarted server sends the rest:
// every sink has exactly one message per pass, guardian and channel, in the
// guardian's language. A crash (SIGKILL) while deliveries are in flight
// loses nothing: after the restart, once the short lease has run out,
// every message arrives, and each repeat of a message the crash left
// unanswered carries the key of its first delivery (webhook and SMS: the
// idempotency key; e-mail: the Message-ID), so those sinks can drop it;
// only the bot, which gets no key, may show the guardian a repeat.
func TestPassDeliveryAcrossRestarts(t *testing.T) {
	const hold = 400 * time.Millisecond
	sinks := newSlowSinks(t, hold)
	dbPath := filepath.Join(t.TempDir(), "demo.db")
	const pw = "qorgan-demo-2026"

	// Fewer deliveries at once than messages, so that the stop finds some
	// claimed but not yet sent (released for the next start).
	s1 := startDemo(t, dbPath, append(sinks.flags, "--message-concurrency", "16")...)
	director, _ := signIn(t, s1.base, "director", pw)
	// 14 pupils × 5 messages: more than the worker's 64 deliveries at once,
	// so that some are still waiting when the stop comes.
	groupA := addRestartPupils(t, director, "A", 0, 14)
	groupB := addRestartPupils(t, director, "B", 14, 8)
	cred := turnstileCredential(t, director)

	// Part 1: SIGTERM with deliveries in flight.
	atA := time.Now().Add(-time.Minute).Truncate(time.Second)
	postEntries(t, s1.base, cred, atA, groupA)
	waitFor(t, 60*time.Second, "deliveries in flight", func() bool { return sinks.openCount() >= 3 })
	inFlight := sinks.openCount()
	s1.cmd.Process.Signal(syscall.SIGTERM)
	if err := stopped(t, s1, 60*time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	got, open, aborted := sinks.state()
	if len(open) != 0 || len(aborted) != 0 {
		t.Fatalf("SIGTERM cut deliveries short: %d unanswered, %d abandoned by the sender (%d were in flight at the signal)", len(open), len(aborted), inFlight)
	}
	st := outboxStatus(t, dbPath)
	t.Logf("SIGTERM with %d deliveries in flight: %d delivered before the exit; outbox %v", inFlight, len(got), st)
	if st["sending"] != 0 || st["dead"] != 0 || st["sent"] != len(got) || st["sent"]+st["pending"] != 70 {
		t.Fatalf("after a graceful stop with %d deliveries made, the outbox holds %v: want each delivery recorded sent, the rest pending, none sending", len(got), st)
	}
	wantA := expectedFor(t, dbPath, atA, groupA)
	if len(wantA) != 70 {
		t.Fatalf("%d messages expected, want 70", len(wantA))
	}

	s2 := startDemo(t, dbPath, append(sinks.flags, "--keep")...)
	director, _ = signIn(t, s2.base, "director", pw)
	waitDelivered(t, sinks, director, 70, 70, 90*time.Second)
	time.Sleep(2 * hold) // anything more would show now
	got, _, _ = sinks.state()
	counts := tally(t, got, wantA)
	for _, e := range wantA {
		if counts[e.key] != 1 {
			t.Errorf("%s to %s (%s): delivered %d times, want once", e.channel, e.to, e.key, counts[e.key])
		}
	}
	guard, _ := signIn(t, s2.base, "guard", pw)
	for _, p := range groupA {
		if pr := presenceOf(guard, p.id); pr != "inside" {
			t.Errorf("%s is %q on the roll-call, want inside", p.name, pr)
		}
	}
	s2.cmd.Process.Signal(syscall.SIGTERM)
	if err := stopped(t, s2, 60*time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	if t.Failed() {
		return
	}

	// Part 2: SIGKILL with deliveries in flight, a lease of 6 s (sends
	// limited to 3 s).
	lease := []string{"--keep", "--message-lease", "6s"}
	s3 := startDemo(t, dbPath, append(sinks.flags, lease...)...)
	before := len(got)
	atB := time.Now().Add(-time.Minute).Truncate(time.Second)
	postEntries(t, s3.base, cred, atB, groupB)
	waitFor(t, 60*time.Second, "deliveries in flight", func() bool { return sinks.openCount() >= 3 })
	// The sinks answer nothing more: what is in flight stays unanswered. A
	// send that ran out its timeout before the crash is a retry, not in
	// flight.
	sinks.freeze()
	_, _, gaveUp := sinks.state()
	s3.cmd.Process.Kill()
	stopped(t, s3, 60*time.Second)
	got, open, _ = sinks.state()
	sinks.unfreeze()
	wantB := expectedFor(t, dbPath, atB, groupB)
	var unanswered []string // keys of the messages the crash left without an answer
	for _, i := range open {
		if slices.Contains(gaveUp, i) {
			continue
		}
		e, problem := match(got[i], wantB)
		if problem != "" {
			t.Fatalf("unanswered %s delivery %+v: %s", got[i].Channel, got[i], problem)
		}
		unanswered = append(unanswered, e.key)
	}
	if len(unanswered) == 0 {
		t.Fatal("no delivery was in flight at SIGKILL")
	}
	for k, st := range statusOf(t, dbPath, unanswered) {
		if st != "sending" {
			t.Fatalf("%s, unanswered at the crash, is %q in the outbox, want sending", k, st)
		}
	}

	s4 := startDemo(t, dbPath, append(sinks.flags, lease...)...)
	director, _ = signIn(t, s4.base, "director", pw)
	waitDelivered(t, sinks, director, before+len(wantB), 70+len(wantB), 90*time.Second)
	time.Sleep(2 * hold)
	got, _, _ = sinks.state()
	// Every delivery since the crash is one of part 2's messages (none of
	// part 1's again), with the right recipient, language and text.
	counts = tally(t, got[before:], wantB)
	repeats := map[string]int{}
	for _, e := range wantB {
		switch n := counts[e.key]; {
		case n == 0:
			t.Errorf("%s to %s (%s) was lost", e.channel, e.to, e.key)
		case n > 1:
			// A repeat matched by its key (bot: chat and text): the same
			// key as the first copy, so a sink that honours it shows one.
			repeats[e.channel] += n - 1
		}
	}
	for _, k := range unanswered {
		if counts[k] < 2 {
			t.Errorf("%s was unanswered at the crash but delivered %d times in all, want again after the restart", k, counts[k])
		}
	}
	// The sinks that get the key hold one message per key: a sink that
	// drops a repeated key shows each message once.
	keyed := map[string]int{}
	for k := range counts {
		keyed[k[strings.LastIndexByte(k, '/')+1:]]++
	}
	for _, ch := range []string{"webhook", "sms", "email"} {
		want := 0
		for _, e := range wantB {
			if e.channel == ch {
				want++
			}
		}
		if keyed[ch] != want {
			t.Errorf("%s: %d distinct keys delivered, want %d: one per message", ch, keyed[ch], want)
		}
	}
	t.Logf("SIGKILL with %d deliveries unanswered; repeats after the restart by channel: %v", len(unanswered), repeats)
}

// waitFor waits until cond holds.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
