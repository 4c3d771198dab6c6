package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"

	"qorgan/internal/auth"
	"qorgan/internal/demo"
	"qorgan/internal/registry"
	"qorgan/internal/store"
	"qorgan/internal/web"
)

// syncBuffer is a log the server writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestStaffCodeGuesses: on each store, during a live lockdown, one address
// (behind the trusted proxy, named by X-Forwarded-For) sends ten wrong
// staff codes to the API, each 401; the eleventh is 429 with Retry-After,
// and so is a right code from that address, which is not looked up; the
// same right code from another address works, and then from the first one
// too (a code that worked lately is not held back); the flood is logged as
// a security event and counted on /metrics. On the page /staff the same:
// ten wrong codes from a third address are refused beside the field, the
// eleventh gets the localized "too many" message, answered 429 with
// Retry-After and what was typed kept, while another staff member's right
// code from a fourth address opens their page.
func TestStaffCodeGuesses(t *testing.T) {
	demoOnEachStore(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := auth.New(db)
		if _, err := demo.Load(ctx, db, a, demo.Options{Scale: 0.002, Password: "codes-password-1"}); err != nil {
			t.Fatal(err)
		}
		var logs syncBuffer
		log := slog.New(slog.NewTextHandler(&logs, nil))
		srv := wired(t, db, a, registry.New(db, a), log, func(d *web.Deps) {
			d.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
		})
		live := httptest.NewServer(srv.Handler())
		defer live.Close()

		// The ЦОУ declares a lockdown at school 1: live at once, every
		// staff member with a phone gets their code by SMS.
		cou := newBrowser(t, live.URL)
		req, _ := http.NewRequest("POST", live.URL+"/api/v1/session", strings.NewReader(`{"login":"cou","password":"codes-password-1"}`))
		req.Header.Set("Content-Type", "application/json")
		resp, body := cou.do(req)
		var signed struct {
			CSRF string `json:"csrf_token"`
		}
		if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &signed) != nil {
			t.Fatalf("sign in as cou: %d %s", resp.StatusCode, body)
		}
		req, _ = http.NewRequest("POST", live.URL+"/api/v1/emergencies", strings.NewReader(`{"school_ids":[1],"mode":"lockdown","scenario":"armed_attack"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", signed.CSRF)
		resp, body = cou.do(req)
		var declared struct {
			Items []struct {
				ID    int64  `json:"id"`
				State string `json:"state"`
			} `json:"items"`
		}
		if resp.StatusCode != 201 || json.Unmarshal([]byte(body), &declared) != nil || len(declared.Items) != 1 || declared.Items[0].State != "live" {
			t.Fatalf("declare: %d %s", resp.StatusCode, body)
		}
		rows, err := db.Reader().QueryContext(ctx, "SELECT body FROM outbox WHERE idempotency_key LIKE ? ORDER BY idempotency_key",
			fmt.Sprintf("emergency/%d/step/%%/staff/%%/sms", declared.Items[0].ID))
		if err != nil {
			t.Fatal(err)
		}
		var codes []string
		for rows.Next() {
			var sms string
			rows.Scan(&sms)
			if c := regexp.MustCompile(`qe_[a-z2-7]+`).FindString(sms); c != "" {
				codes = append(codes, c)
			}
		}
		rows.Close()
		if len(codes) < 2 {
			t.Fatalf("the staff's codes: %v", codes)
		}

		// The API, as from 10.1.1.1 and 10.2.2.2.
		checklist := func(from, code string) (*http.Response, string) {
			t.Helper()
			req, _ := http.NewRequest("GET", live.URL+"/api/v1/emergency-staff/checklist", nil)
			req.Header.Set("Authorization", "Bearer "+code)
			req.Header.Set("X-Forwarded-For", from)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp, string(b)
		}
		router, err := legacy.NewRouter(loadDoc(t))
		if err != nil {
			t.Fatal(err)
		}
		tooMany := func(t *testing.T, what string, resp *http.Response, body string) {
			t.Helper()
			// The answer is the one the document describes.
			route, params, err := router.FindRoute(resp.Request)
			if err != nil {
				t.Fatal(err)
			}
			in := &openapi3filter.ResponseValidationInput{
				RequestValidationInput: &openapi3filter.RequestValidationInput{Request: resp.Request, PathParams: params, Route: route},
				Status:                 resp.StatusCode, Header: resp.Header, Body: io.NopCloser(strings.NewReader(body)),
				Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
			if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
				t.Errorf("%s: the answer does not match the document: %v", what, err)
			}
			var p web.Problem
			secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
			if resp.StatusCode != 429 || json.Unmarshal([]byte(body), &p) != nil || p.Code != "too_many" || p.Status != 429 || secs < 1 || secs > 6 {
				t.Errorf("%s: %d Retry-After %q %s, want 429 with Retry-After of 1–6 s", what, resp.StatusCode, resp.Header.Get("Retry-After"), body)
			}
		}
		for i := range 10 {
			if resp, body := checklist("10.1.1.1", fmt.Sprintf("qe_wrong%02d", i)); resp.StatusCode != 401 {
				t.Fatalf("wrong code %d: %d %s", i+1, resp.StatusCode, body)
			}
		}
		resp, body = checklist("10.1.1.1", "qe_wrong10")
		tooMany(t, "the 11th wrong code", resp, body)
		resp, body = checklist("10.1.1.1", codes[0])
		tooMany(t, "a right code, not yet seen, from the flooding address", resp, body)
		if resp, body := checklist("10.2.2.2", codes[0]); resp.StatusCode != 200 || !strings.Contains(body, `"steps"`) {
			t.Errorf("the right code from another address: %d %s", resp.StatusCode, body)
		}
		if resp, body := checklist("10.1.1.1", codes[0]); resp.StatusCode != 200 {
			t.Errorf("a code that worked lately, from the flooding address: %d %s", resp.StatusCode, body)
		}
		if l := logs.String(); !strings.Contains(l, "too many wrong codes") || !strings.Contains(l, "source=10.1.1.1") || !strings.Contains(l, "security=true") {
			t.Errorf("the flood is not logged as a security event:\n%s", l)
		}

		// The page, as from 10.3.3.3 and 10.4.4.4.
		post := func(b *browser, from string, form url.Values, lang string) (*http.Response, string) {
			t.Helper()
			req, _ := http.NewRequest("POST", live.URL+"/staff", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Forwarded-For", from)
			req.Header.Set("Accept-Language", lang)
			return b.do(req)
		}
		guesser := newBrowser(t, live.URL)
		_, page := guesser.get("/staff", "X-Forwarded-For", "10.3.3.3")
		tok := formCSRF(t, page)
		for i := range 10 {
			resp, page := post(guesser, "10.3.3.3", url.Values{"csrf_token": {tok}, "code": {fmt.Sprintf("qe_page%02d", i)}}, "ru")
			if resp.StatusCode != 200 || !strings.Contains(page, "Такого кода нет.") {
				t.Fatalf("wrong code %d on the page: %d\n%s", i+1, resp.StatusCode, page)
			}
		}
		for lang, want := range map[string]string{
			"ru": "Слишком много неверных кодов из этой сети. Повторите через ",
			"kk": "Бұл желіден қате кодтар тым көп. ",
			"en": "Too many wrong codes from this network: try again in ",
		} {
			resp, page := post(guesser, "10.3.3.3", url.Values{"csrf_token": {tok}, "code": {"qe_page10"}}, lang)
			secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
			if resp.StatusCode != 429 || secs < 1 || secs > 6 || !strings.Contains(page, `id="code-error" role="alert">`+want) || !strings.Contains(page, `value="qe_page10"`) {
				t.Errorf("the 11th wrong code on the page (%s): %d Retry-After %q\n%s", lang, resp.StatusCode, resp.Header.Get("Retry-After"), page)
			}
		}
		teacher := newBrowser(t, live.URL)
		_, page = teacher.get("/staff", "X-Forwarded-For", "10.4.4.4")
		resp, page = post(teacher, "10.4.4.4", url.Values{"csrf_token": {formCSRF(t, page)}, "code": {codes[1]}}, "ru")
		if resp.StatusCode != 303 || resp.Header.Get("Location") != "/staff" {
			t.Errorf("another staff member's right code from another address on the page: %d\n%s", resp.StatusCode, page)
		}

		// /metrics (this machine, no proxy) counts the wrong and the held-back codes.
		mresp, err := http.Get(live.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		mb, _ := io.ReadAll(mresp.Body)
		mresp.Body.Close()
		for _, want := range []string{"\nqorgan_staff_codes_wrong_total 20\n", "\nqorgan_staff_codes_throttled_total 5\n"} {
			if !strings.Contains(string(mb), want) {
				t.Errorf("metrics lack %q", strings.TrimSpace(want))
			}
		}
	})
}
