package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"qorgan/internal/auth"
	"qorgan/internal/store/storetest"
	"qorgan/internal/testkit"
	"qorgan/internal/web"
)

// TestMetricsAccess: without a metrics token, /metrics answers the
// server's own machine (the real server over loopback, IPv4 and IPv6) and
// 404 to a caller elsewhere, or to a loopback one that a proxy forwarded;
// with a token, every caller, this machine too, gets 401 without it or
// with another (a problem naming Authorization when one was sent), and the
// metrics with it, from anywhere.
func TestMetricsAccess(t *testing.T) {
	db := storetest.SQLite(t)
	a := auth.New(db)
	const token = "scrape-token-0123456789"

	// get sends GET /metrics to h as if from remote, with the headers
	// given in pairs, without a network.
	get := func(h http.Handler, remote string, header ...string) *httptest.ResponseRecorder {
		t.Helper()
		req := httptest.NewRequest("GET", "/metrics", nil)
		req.RemoteAddr = remote
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	problem := func(t *testing.T, rec *httptest.ResponseRecorder, status int, field string) {
		t.Helper()
		var p web.Problem
		if rec.Code != status || rec.Header().Get("Content-Type") != "application/problem+json" || json.Unmarshal(rec.Body.Bytes(), &p) != nil ||
			p.Status != status || p.Field != field || p.Instance != "/metrics" {
			t.Errorf("want a %d problem (field %q): %d %s %s", status, field, rec.Code, rec.Header().Get("Content-Type"), rec.Body)
		}
		if strings.Contains(rec.Body.String(), "qorgan_") {
			t.Error("a refusal carries the metrics")
		}
	}
	isMetrics := func(t *testing.T, status int, body string) {
		t.Helper()
		if status != 200 || !strings.Contains(body, "\nqorgan_signin_checks_total ") {
			t.Errorf("want the metrics: %d %.300s", status, body)
		}
	}

	t.Run("no token", func(t *testing.T) {
		h := serveWired(t, db, a).Config.Handler
		problem(t, get(h, "10.0.0.5:1234"), 404, "")
		problem(t, get(h, "[2001:db8::5]:1234"), 404, "")
		// A reverse proxy on this machine: its peer is loopback, the caller is not.
		problem(t, get(h, "127.0.0.1:40000", "X-Forwarded-For", "203.0.113.7"), 404, "")
		problem(t, get(h, "127.0.0.1:40000", "Forwarded", "for=203.0.113.7"), 404, "")
		problem(t, get(h, "127.0.0.1:40000", "X-Real-IP", "203.0.113.7"), 404, "")
		// A token sent to a server that has none opens nothing.
		problem(t, get(h, "10.0.0.5:1234", "Authorization", "Bearer "+token), 404, "")
		rec := get(h, "[::1]:40000")
		isMetrics(t, rec.Code, rec.Body.String())

		// The real server on a free loopback port.
		live := serveWired(t, db, a)
		resp, err := http.Get(live.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		isMetrics(t, resp.StatusCode, string(body))
	})

	t.Run("token", func(t *testing.T) {
		live := serveWired(t, db, a, func(d *web.Deps) { d.MetricsToken = token })
		scrape := func(header ...string) (*http.Response, string) {
			t.Helper()
			return testkit.Get(t, live.URL+"/metrics", header...)
		}
		for _, c := range []struct {
			name   string
			header []string
			field  string
		}{
			{"none", nil, ""},
			{"another", []string{"Authorization", "Bearer " + token + "x"}, "Authorization"},
			{"a prefix of it", []string{"Authorization", "Bearer " + token[:10]}, "Authorization"},
			{"not bearer", []string{"Authorization", "Basic " + token}, "Authorization"},
			{"a person's API token", []string{"Authorization", "Bearer qt_something"}, "Authorization"},
		} {
			resp, body := scrape(c.header...)
			var p web.Problem
			if resp.StatusCode != 401 || json.Unmarshal([]byte(body), &p) != nil || p.Field != c.field || p.Code != "unauthorized" ||
				!strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s: %d %q %s", c.name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body)
			}
		}
		resp, body := scrape("Authorization", "Bearer "+token)
		isMetrics(t, resp.StatusCode, body)

		// The token works from anywhere; this machine needs it too.
		h := live.Config.Handler
		rec := get(h, "10.0.0.5:1234", "Authorization", "Bearer "+token)
		isMetrics(t, rec.Code, rec.Body.String())
		problem(t, get(h, "10.0.0.5:1234"), 401, "")
		problem(t, get(h, "127.0.0.1:40000"), 401, "")
	})
}
