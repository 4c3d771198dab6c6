package notify_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"qorgan/internal/notify"
	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
)

// mailbox is a real SMTP server (go-smtp) on a local port.
type mailbox struct {
	mu    sync.Mutex
	mails []receivedMail
	// reject, when set, answers RCPT TO for the address with this error.
	reject map[string]error
}

type receivedMail struct {
	from string
	to   []string
	msg  *mail.Message
	body string
}

func startMailbox(t *testing.T) (*mailbox, string) {
	t.Helper()
	mb := &mailbox{reject: map[string]error{}}
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &mailSession{mb: mb}, nil }))
	s.Domain = "mx.test"
	s.AllowInsecureAuth = true
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	return mb, l.Addr().String()
}

func (mb *mailbox) all() []receivedMail {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return append([]receivedMail(nil), mb.mails...)
}

type mailSession struct {
	mb   *mailbox
	from string
	to   []string
}

func (s *mailSession) Reset()        { s.from, s.to = "", nil }
func (s *mailSession) Logout() error { return nil }
func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.mb.mu.Lock()
	err := s.mb.reject[to]
	s.mb.mu.Unlock()
	if err != nil {
		return err
	}
	s.to = append(s.to, to)
	return nil
}
func (s *mailSession) Data(r io.Reader) error {
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	dec := base64Body(msg)
	s.mb.mu.Lock()
	s.mb.mails = append(s.mb.mails, receivedMail{from: s.from, to: s.to, msg: msg, body: dec})
	s.mb.mu.Unlock()
	return nil
}

func base64Body(msg *mail.Message) string {
	raw, _ := io.ReadAll(msg.Body)
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "base64") {
		b, _ := base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(string(raw)))
		return string(b)
	}
	return string(raw)
}

// gateway stands in for an SMS gateway or a bot API: it records requests
// and answers with a scripted status.
type gateway struct {
	mu     sync.Mutex
	reqs   []gatewayReq
	answer func(n int, r gatewayReq) (int, string)
}

type gatewayReq struct {
	method, path, auth, key string
	form                    url.Values
	json                    map[string]any
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req := gatewayReq{method: r.Method, path: r.URL.Path, auth: r.Header.Get("Authorization"), key: r.Header.Get(notify.KeyHeader)}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		json.Unmarshal(body, &req.json)
	} else {
		req.form, _ = url.ParseQuery(string(body))
		for k, v := range r.URL.Query() {
			req.form[k] = v
		}
	}
	g.mu.Lock()
	g.reqs = append(g.reqs, req)
	n := len(g.reqs)
	g.mu.Unlock()
	status, text := http.StatusOK, `{"ok":true,"result":{}}`
	if g.answer != nil {
		status, text = g.answer(n, req)
	}
	w.Header().Set("Content-Type", "application/json")
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "7")
	}
	w.WriteHeader(status)
	io.WriteString(w, text)
}

func (g *gateway) requests() []gatewayReq {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]gatewayReq(nil), g.reqs...)
}

func render(t *testing.T, lang, key string, v notify.Vars) string {
	t.Helper()
	s, err := notify.Render(lang, key, v)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRealSinks delivers one message per channel, each to a guardian with
// another language, through a real SMTP server and local HTTP servers for
// the webhook, the SMS gateway and the bot API: each arrives once, in its
// language, with its key.
func TestRealSinks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		mb, smtpAddr := startMailbox(t)
		secret := []byte("global-secret")
		hook := &dedupSink{secret: secret}
		hookSrv := httptest.NewServer(hook)
		defer hookSrv.Close()
		sms := &gateway{}
		smsSrv := httptest.NewServer(sms)
		defer smsSrv.Close()
		bot := &gateway{}
		botSrv := httptest.NewServer(bot)
		defer botSrv.Close()

		o := notify.New(db)
		w := fastWorker(o, map[notify.ChannelName]notify.Channel{
			notify.ChannelEmail:   &notify.EmailChannel{Addr: smtpAddr, From: "Qorgan <noreply@qorgan.kz>", Security: notify.SMTPPlain},
			notify.ChannelWebhook: &notify.WebhookChannel{Secret: secret},
			notify.ChannelSMS:     &notify.SMSChannel{URL: smsSrv.URL + "/send", Header: http.Header{"Authorization": {"Bearer gw-token"}}, Extra: map[string]string{"sender": "Qorgan"}},
			notify.ChannelBot:     &notify.BotChannel{BaseURL: botSrv.URL, Token: "123:ABC"},
		})
		at := time.Date(2025, 9, 3, 2, 52, 0, 0, time.UTC) // 07:52 in Almaty
		v := notify.Vars{Name: "Айгерім", Gender: notify.Female, At: at}
		msg := func(key string, ch notify.ChannelName, rcpt, lang string) notify.Message {
			m := message(key, ch, rcpt)
			m.Language = lang
			m.Body = render(t, lang, "pupil.entered", v)
			m.Subject = render(t, lang, "subject.attendance", v)
			return m
		}
		msgs := []notify.Message{
			msg("pass/1/guardian/1/email", notify.ChannelEmail, "mother@example.kz", "kk"),
			msg("pass/1/guardian/2/webhook", notify.ChannelWebhook, hookSrv.URL+"/qorgan", "ru"),
			msg("pass/1/guardian/3/sms", notify.ChannelSMS, "+77011234567", "ru"),
			msg("pass/1/guardian/4/bot", notify.ChannelBot, "555000111", "en"),
		}
		enqueue(t, db, msgs...)
		if n := enqueue(t, db, msgs...); n != 0 { // the device resent the pass
			t.Fatalf("a resend enqueued %d", n)
		}
		start(t, w)
		w.Wake()
		for _, m := range msgs {
			eventually(t, 10*time.Second, m.Key+" sent", statusIs(t, o, m.Key, notify.Sent))
		}

		mails := mb.all()
		if len(mails) != 1 {
			t.Fatalf("%d mails arrived, want 1", len(mails))
		}
		got := mails[0]
		subject, _ := new(mime.WordDecoder).DecodeHeader(got.msg.Header.Get("Subject"))
		if got.from != "noreply@qorgan.kz" || len(got.to) != 1 || got.to[0] != "mother@example.kz" ||
			strings.TrimSpace(got.body) != "Айгерім мектепке 07:52-де кірді" || subject != "Qorgan: сабаққа қатысу" ||
			got.msg.Header.Get("Content-Language") != "kk" || got.msg.Header.Get("Message-ID") != notify.MessageID(msgs[0].Key, "qorgan.kz") {
			t.Errorf("mail: from %q to %q subject %q body %q headers %v", got.from, got.to, subject, got.body, got.msg.Header)
		}

		posts, keys, bad := hook.stats()
		if posts != 1 || keys[msgs[1].Key] != 1 || len(bad) != 0 {
			t.Errorf("webhook: %d posts, %v, %v", posts, keys, bad)
		}
		var p notify.WebhookPayload
		hook.mu.Lock()
		json.Unmarshal([]byte(hook.bodies[msgs[1].Key]), &p)
		hook.mu.Unlock()
		if p.ID != msgs[1].Key || p.Text != "Айгерім вошла в школу в 07:52" || p.Language != "ru" || p.SchoolID != 7 || p.PupilID != 42 || p.Kind != "pupil.entered" {
			t.Errorf("webhook payload %+v", p)
		}

		smsReqs := sms.requests()
		if len(smsReqs) != 1 {
			t.Fatalf("SMS gateway got %d requests", len(smsReqs))
		}
		if r := smsReqs[0]; r.method != "POST" || r.path != "/send" || r.auth != "Bearer gw-token" || r.form.Get("phone") != "+77011234567" ||
			r.form.Get("text") != "Айгерім вошла в школу в 07:52" || r.form.Get("idempotency_key") != msgs[2].Key || r.form.Get("sender") != "Qorgan" || r.key != msgs[2].Key {
			t.Errorf("SMS request %+v", r)
		}

		botReqs := bot.requests()
		if len(botReqs) != 1 {
			t.Fatalf("bot API got %d requests", len(botReqs))
		}
		if r := botReqs[0]; r.path != "/bot123:ABC/sendMessage" || r.json["chat_id"] != float64(555000111) || r.json["text"] != "Айгерім entered school at 07:52" {
			t.Errorf("bot request %+v", r)
		}
	})
}

func TestWebhookChannel(t *testing.T) {
	ctx := context.Background()
	var got http.Header
	var body []byte
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, body = r.Header.Clone(), must(io.ReadAll(r.Body))
		if status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "30")
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()
	ch := &notify.WebhookChannel{Secret: []byte("global"), SchoolSecret: func(_ context.Context, school int64) ([]byte, error) {
		if school == 9 {
			return []byte("school-9"), nil
		}
		return nil, nil
	}}
	m := message("k/1", notify.ChannelWebhook, srv.URL)
	if err := ch.Send(ctx, m); err != nil {
		t.Fatal(err)
	}
	if !notify.VerifySignature([]byte("global"), body, got.Get(notify.SignatureHeader)) || got.Get(notify.KeyHeader) != "k/1" || got.Get(notify.EventHeader) != "pupil.entered" {
		t.Fatalf("headers %v", got)
	}
	first := string(body)
	m.SchoolID = 9
	if err := ch.Send(ctx, m); err != nil {
		t.Fatal(err)
	}
	if !notify.VerifySignature([]byte("school-9"), body, got.Get(notify.SignatureHeader)) || notify.VerifySignature([]byte("global"), body, got.Get(notify.SignatureHeader)) {
		t.Fatal("the school's own secret was not used")
	}
	m.SchoolID = 7
	if err := ch.Send(ctx, m); err != nil || string(body) != first {
		t.Fatalf("a repeat is not the same bytes: %v\n%s\n%s", err, first, body)
	}
	status = http.StatusServiceUnavailable
	err := ch.Send(ctx, m)
	var de *notify.DeliveryError
	if !errors.As(err, &de) || de.Permanent || de.RetryAfter != 30*time.Second {
		t.Fatalf("503: %v", err)
	}
	status = http.StatusGone
	if err := ch.Send(ctx, m); !notify.IsPermanent(err) {
		t.Fatalf("410: %v", err)
	}
	if err := ch.Send(ctx, message("k/2", notify.ChannelWebhook, "ftp://x")); !notify.IsPermanent(err) {
		t.Fatalf("bad URL: %v", err)
	}
	if err := (&notify.WebhookChannel{}).Send(ctx, message("k/3", notify.ChannelWebhook, srv.URL)); err == nil || notify.IsPermanent(err) {
		t.Fatalf("no secret must be a temporary refusal: %v", err)
	}
}

func TestSMSChannel(t *testing.T) {
	ctx := context.Background()
	g := &gateway{answer: func(n int, r gatewayReq) (int, string) {
		switch n {
		case 3:
			return http.StatusTooManyRequests, "slow down"
		case 4:
			return http.StatusBadRequest, "invalid number"
		}
		return http.StatusOK, "OK"
	}}
	srv := httptest.NewServer(g)
	defer srv.Close()
	m := message("k/1", notify.ChannelSMS, "+77011234567")
	get := &notify.SMSChannel{URL: srv.URL + "/api?login=qorgan", Method: "GET", PhoneParam: "to", TextParam: "msg", KeyParam: "client_id"}
	if err := get.Send(ctx, m); err != nil {
		t.Fatal(err)
	}
	js := &notify.SMSChannel{URL: srv.URL + "/api", JSON: true}
	if err := js.Send(ctx, m); err != nil {
		t.Fatal(err)
	}
	reqs := g.requests()
	if r := reqs[0]; r.method != "GET" || r.form.Get("to") != m.Recipient || r.form.Get("msg") != m.Body || r.form.Get("client_id") != "k/1" || r.form.Get("login") != "qorgan" {
		t.Errorf("GET request %+v", r)
	}
	if r := reqs[1]; r.json["phone"] != m.Recipient || r.json["text"] != m.Body || r.json["idempotency_key"] != "k/1" {
		t.Errorf("JSON request %+v", r)
	}
	var de *notify.DeliveryError
	if err := js.Send(ctx, m); !errors.As(err, &de) || de.Permanent || de.RetryAfter != 7*time.Second {
		t.Errorf("429: %v", err)
	}
	if err := js.Send(ctx, m); !notify.IsPermanent(err) {
		t.Errorf("400: %v", err)
	}
	if err := js.Send(ctx, message("k/2", notify.ChannelSMS, "8 701 abc")); !notify.IsPermanent(err) {
		t.Errorf("bad phone: %v", err)
	}
}

func TestBotChannel(t *testing.T) {
	ctx := context.Background()
	g := &gateway{answer: func(n int, r gatewayReq) (int, string) {
		switch n {
		case 1:
			return http.StatusForbidden, `{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}`
		case 2:
			return http.StatusTooManyRequests, `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 11","parameters":{"retry_after":11}}`
		case 3:
			return http.StatusBadGateway, `bad gateway`
		}
		return http.StatusOK, `{"ok":true,"result":{"message_id":1}}`
	}}
	srv := httptest.NewServer(g)
	defer srv.Close()
	b := &notify.BotChannel{BaseURL: srv.URL + "/", Token: "42:SECRET"}
	m := message("k/1", notify.ChannelBot, "@school_7_parents")
	if err := b.Send(ctx, m); !notify.IsPermanent(err) || !strings.Contains(err.Error(), "blocked") {
		t.Errorf("403: %v", err)
	}
	var de *notify.DeliveryError
	if err := b.Send(ctx, m); !errors.As(err, &de) || de.Permanent || de.RetryAfter != 11*time.Second {
		t.Errorf("429: %v", err)
	}
	if err := b.Send(ctx, m); err == nil || notify.IsPermanent(err) {
		t.Errorf("502: %v", err)
	}
	if err := b.Send(ctx, m); err != nil {
		t.Errorf("ok: %v", err)
	}
	if r := g.requests()[3]; r.json["chat_id"] != "@school_7_parents" || r.path != "/bot42:SECRET/sendMessage" {
		t.Errorf("request %+v", r)
	}
	// A network failure does not show the token to the school.
	srv.Close()
	err := b.Send(ctx, m)
	if err == nil || notify.IsPermanent(err) || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("network failure: %v", err)
	}
}

func TestEmailChannel(t *testing.T) {
	ctx := context.Background()
	mb, addr := startMailbox(t)
	mb.reject["gone@example.kz"] = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	mb.reject["full@example.kz"] = &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 2, 2}, Message: "mailbox full"}
	ch := &notify.EmailChannel{Addr: addr, From: "noreply@qorgan.kz", Security: notify.SMTPPlain, HelloName: "node-a.qorgan.kz"}
	m := message("k/1", notify.ChannelEmail, "gone@example.kz")
	if err := ch.Send(ctx, m); !notify.IsPermanent(err) {
		t.Errorf("550: %v", err)
	}
	m.Recipient = "full@example.kz"
	if err := ch.Send(ctx, m); err == nil || notify.IsPermanent(err) {
		t.Errorf("452: %v", err)
	}
	m.Recipient = "not an address"
	if err := ch.Send(ctx, m); !notify.IsPermanent(err) {
		t.Errorf("bad address: %v", err)
	}
	m.Recipient, m.Subject = "ok@example.kz", "Qorgan\r\nBcc: evil@example.com"
	if err := ch.Send(ctx, m); err != nil {
		t.Fatal(err)
	}
	mails := mb.all()
	if len(mails) != 1 || mails[0].msg.Header.Get("Bcc") != "" || len(mails[0].to) != 1 {
		t.Fatalf("a subject injected a header: %+v", mails)
	}
	// Nobody listening: retried later.
	if err := (&notify.EmailChannel{Addr: "127.0.0.1:1", From: "noreply@qorgan.kz", Security: notify.SMTPPlain}).Send(ctx, m); err == nil || notify.IsPermanent(err) {
		t.Errorf("refused connection: %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
