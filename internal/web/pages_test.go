package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"qorgan/internal/auth"
	"qorgan/internal/demo"
	"qorgan/internal/registry"
	"qorgan/internal/store/storetest"
)

// browser is a cookie-keeping client that does not follow redirects, so
// that a test sees where each answer sends it.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) get(path string, header ...string) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.base+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest("POST", b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func (b *browser) do(req *http.Request) (*http.Response, string) {
	if req.Header.Get("Accept-Language") == "" {
		req.Header.Set("Accept-Language", "ru-RU,ru;q=0.9,en;q=0.5")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func formCSRF(t *testing.T, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF field in the page:\n%s", page)
	}
	return m[1]
}

// TestConsolePages: sign-in with its messages, the redirect there and back,
// the security headers, the language, the console and an alarm outside
// the person's scope, over HTTP (the browser test drives the same in
// Chromium).
func TestConsolePages(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the demo")
	}
	ctx := context.Background()
	db := storetest.SQLite(t)
	a := auth.New(db)
	if _, err := demo.Load(ctx, db, a, demo.Options{Scale: 0.002, Password: "pages-password-1"}); err != nil {
		t.Fatal(err)
	}
	srv := wired(t, db, a, registry.New(db, a), slog.New(slog.NewTextHandler(io.Discard, nil)))
	live := httptest.NewServer(srv.Handler())
	defer live.Close()

	b := newBrowser(t, live.URL)
	resp, _ := b.get("/console")
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/?next=%2Fconsole" {
		t.Fatalf("signed out, /console: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, page := b.get("/?next=%2Fconsole", "Accept-Language", "ru-RU,ru;q=0.9,en;q=0.5")
	csp := resp.Header.Get("Content-Security-Policy")
	if resp.StatusCode != 200 || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("sign-in page: %d, CSP %q, XFO %q", resp.StatusCode, csp, resp.Header.Get("X-Frame-Options"))
	}
	if !strings.Contains(page, `lang="ru"`) || !strings.Contains(page, "Пароль") {
		t.Errorf("Accept-Language ru did not give a Russian page:\n%s", page)
	}
	if regexp.MustCompile(`<script>|<style|style="|\son[a-z]+="`).MatchString(page) {
		t.Errorf("inline script or style in the sign-in page")
	}
	tok := formCSRF(t, page)

	resp, page = b.post("/", url.Values{"csrf_token": {tok}, "login": {"pcn"}, "password": {"wrong"}, "next": {"/console"}})
	if resp.StatusCode != 200 || !strings.Contains(page, "Неверный логин или пароль") || !strings.Contains(page, `value="pcn"`) {
		t.Errorf("wrong password: %d\n%s", resp.StatusCode, page)
	}
	resp, page = b.post("/", url.Values{"csrf_token": {"forged"}, "login": {"pcn"}, "password": {"pages-password-1"}})
	if resp.StatusCode != 200 || !strings.Contains(page, "Страница устарела") || len(resp.Cookies()) > 0 && resp.Cookies()[0].Name == "qorgan_session" {
		t.Errorf("sign-in with a forged CSRF token: %d", resp.StatusCode)
	}
	resp, _ = b.post("/", url.Values{"csrf_token": {tok}, "login": {"pcn"}, "password": {"pages-password-1"}, "next": {"/console"}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/console" {
		t.Fatalf("sign-in: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, page = b.get("/console")
	if resp.StatusCode != 200 || !strings.Contains(page, "Оператор ПЦН") || !strings.Contains(page, `id="alarms"`) {
		t.Fatalf("console: %d\n%s", resp.StatusCode, page)
	}
	tok = formCSRF(t, page)
	resp, _ = b.post("/language", url.Values{"csrf_token": {tok}, "lang": {"kk"}, "back": {"/console"}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/console" {
		t.Fatalf("language: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, page = b.get("/console"); !strings.Contains(page, `lang="kk"`) || !strings.Contains(page, "Дабылдар пульті") {
		t.Errorf("after choosing kk, the console is not in Kazakh")
	}
	resp, _ = b.post("/alarms/1/acknowledge", url.Values{"csrf_token": {"forged"}})
	if resp.StatusCode != 403 {
		t.Errorf("a page form with a forged token: %d", resp.StatusCode)
	}
	if resp, _ = b.get("/alarms/999999"); resp.StatusCode != 404 {
		t.Errorf("an alarm that is not there: %d", resp.StatusCode)
	}

	resp, page = b.get("/static/console.css")
	if resp.StatusCode != 404 {
		t.Errorf("an asset by its plain name: %d", resp.StatusCode)
	}
	_, page = b.get("/console")
	css := regexp.MustCompile(`href="(/static/console\.[0-9a-f]{12}\.css)"`).FindStringSubmatch(page)
	if css == nil {
		t.Fatalf("no hashed style sheet URL in the console")
	}
	resp, _ = b.get(css[1])
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") {
		t.Errorf("style sheet: %d %q %q", resp.StatusCode, resp.Header.Get("Cache-Control"), resp.Header.Get("Content-Type"))
	}

	resp, _ = b.post("/signout", url.Values{"csrf_token": {tok}})
	if resp.StatusCode != 303 {
		t.Errorf("sign-out: %d", resp.StatusCode)
	}
	if resp, _ = b.get("/console"); resp.StatusCode != 303 {
		t.Errorf("after sign-out, /console: %d", resp.StatusCode)
	}
}
