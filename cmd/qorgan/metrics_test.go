package main_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"qorgan/internal/testkit"
)

// TestMetricsToken: the binary started with --metrics-token serves
// /metrics to the scraper that sends the token, its own machine's requests
// too, and 401 to one that sends none, another or a person's session; its
// --help lists the option without printing its value, and a short token
// is refused at start.
func TestMetricsToken(t *testing.T) {
	const token = "binary-metrics-token-42"
	s := startDemo(t, filepath.Join(t.TempDir(), "demo.db"), "--metrics-token", token)
	scrape := func(header ...string) (int, string) {
		t.Helper()
		resp, body := testkit.Get(t, s.base+"/metrics", header...)
		return resp.StatusCode, body
	}
	if st, body := scrape(); st != 401 || !strings.Contains(body, `"code":"unauthorized"`) || strings.Contains(body, "qorgan_") {
		t.Errorf("no token: %d %s", st, body)
	}
	if st, body := scrape("Authorization", "Bearer not-"+token); st != 401 || !strings.Contains(body, `"field":"Authorization"`) {
		t.Errorf("another token: %d %s", st, body)
	}
	admin := apiAs(t, s.base, "admin")
	if st := admin.do("GET", "/metrics", nil, nil); st != 401 {
		t.Errorf("the administrator's session: %d, want 401", st)
	}
	st, body := scrape("Authorization", "Bearer "+token)
	if st != 200 || !strings.Contains(body, "\nqorgan_signin_checks_total ") || !strings.Contains(body, "\nqorgan_dc09_acked_total ") ||
		!strings.Contains(body, "\nqorgan_store_writer_hold_seconds_count{lane=\"other\"} ") || !strings.Contains(body, "\nqorgan_dc09_commit_seconds_count ") {
		t.Errorf("the token: %d %.400s", st, body)
	}

	help := exec.Command(binary, "serve", "--help")
	help.Env = append(cleanEnv(), "QORGAN_METRICS_TOKEN="+token)
	out, err := help.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--metrics-token  (QORGAN_METRICS_TOKEN)") || strings.Contains(string(out), token) {
		t.Errorf("serve --help: %v\n%s", err, out)
	}
	if out, err := qorgan(t, "", "serve", "--metrics-token", "short"); err == nil || !strings.Contains(out, "--metrics-token must be at least 16 characters") {
		t.Errorf("a short token: %v\n%s", err, out)
	}
}
