package cap

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"qorgan/internal/errs"
)

// receiver is a civil-protection system's endpoint: it keeps what it is
// posted and answers with status.
type receiver struct {
	mu     sync.Mutex
	status int
	posts  []post
}

type post struct {
	method, contentType, auth string
	body                      []byte
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.posts = append(r.posts, post{req.Method, req.Header.Get("Content-Type"), req.Header.Get("Authorization"), body})
	status := r.status
	r.mu.Unlock()
	w.WriteHeader(status)
	io.WriteString(w, "taken")
}

func TestWebhookPostsTheAlert(t *testing.T) {
	rc := &receiver{status: http.StatusAccepted}
	srv := httptest.NewServer(rc)
	defer srv.Close()

	hook, err := NewWebhook(srv.URL+"/cap", "", nil, http.Header{"Authorization": {"Bearer civil-protection"}})
	if err != nil {
		t.Fatal(err)
	}
	first := lockdown(Actual)
	if err := hook.Send(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	cancel := Alert{Identifier: "qorgan-emergency-41-2", Sender: sender, Sent: At(declared.Add(60e9)), Status: Actual,
		MsgType: Cancel, Scope: Public, References: References{first.Ref()}, Note: "Жалған дабыл"}
	if err := hook.Send(context.Background(), cancel); err != nil {
		t.Fatal(err)
	}
	if len(rc.posts) != 2 {
		t.Fatalf("the receiver got %d posts, want 2", len(rc.posts))
	}
	p := rc.posts[0]
	if p.method != http.MethodPost || p.contentType != "application/cap+xml; charset=utf-8" || p.auth != "Bearer civil-protection" {
		t.Errorf("post: %s, Content-Type %q, Authorization %q", p.method, p.contentType, p.auth)
	}
	got, err := Parse(p.body)
	if err != nil || !sameAlert(got, first) {
		t.Errorf("the receiver read %+v, %v", got, err)
	}
	if err := validate(t, rc.posts[1].body); err != nil {
		t.Errorf("the posted cancel does not validate: %v", err)
	}
	if got, err := Parse(rc.posts[1].body); err != nil || got.MsgType != Cancel || got.References[0].Identifier != first.Identifier {
		t.Errorf("the receiver read the cancel as %+v, %v", got, err)
	}

	// A receiver that takes only application/xml.
	plain, err := NewWebhook(srv.URL, "application/xml", srv.Client(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := plain.Send(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	if ct := rc.posts[2].contentType; ct != "application/xml; charset=utf-8" {
		t.Errorf("Content-Type %q, want application/xml", ct)
	}
}

func TestWebhookFailures(t *testing.T) {
	rc := &receiver{status: http.StatusServiceUnavailable}
	srv := httptest.NewServer(rc)
	hook, err := NewWebhook(srv.URL, ContentType, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = hook.Send(context.Background(), lockdown(Actual))
	if errs.CodeOf(err) != errs.Unavailable || !strings.Contains(err.Error(), "503") {
		t.Errorf("a 503 answer: err = %v, want unavailable naming 503", err)
	}

	// An alert that is not valid CAP is refused before anything is sent.
	bad := lockdown(Actual)
	bad.Info[0].Event = ""
	n := len(rc.posts)
	if err := hook.Send(context.Background(), bad); errs.As(err).Field != "info/0/event" {
		t.Errorf("an alert without an event: err = %v", err)
	}
	if len(rc.posts) != n {
		t.Error("a refused alert was posted")
	}

	// A receiver that is gone.
	srv.Close()
	if err := hook.Send(context.Background(), lockdown(Actual)); errs.CodeOf(err) != errs.Unavailable {
		t.Errorf("a closed receiver: err = %v, want unavailable", err)
	}

	for _, c := range []struct{ url, ct, field string }{
		{"ftp://example.kz/cap", "", "url"},
		{"not a url", "", "url"},
		{"https://example.kz/cap", "text/plain", "content_type"},
	} {
		if _, err := NewWebhook(c.url, c.ct, nil, nil); errs.As(err).Field != c.field {
			t.Errorf("NewWebhook(%q, %q): err = %v, want invalid %s", c.url, c.ct, err, c.field)
		}
	}
}
