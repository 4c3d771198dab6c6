package config_test

import (
	"errors"
	"flag"
	"strings"
	"testing"
	"time"

	"qorgan/internal/alarm"
	"qorgan/internal/config"
	"qorgan/internal/notify"
)

// TestParse: the environment sets an option, the command line wins over
// it, a bad value in either is refused naming the variable or the flag,
// and a check names its flag.
func TestParse(t *testing.T) {
	var s config.Server
	cmd := config.Command{Name: "serve", About: "Run.", Options: s.Options("qorgan.db")}
	t.Setenv("QORGAN_ADDR", "127.0.0.1:9")
	t.Setenv("QORGAN_KEEP_PASSES", "48h")
	t.Setenv("QORGAN_TRUSTED_PROXIES", "10.0.0.1, 192.168.0.0/16")
	t.Setenv("QORGAN_MAP_TILES_URL", "https://{s}.tiles.example/{z}/{x}/{y}.png")
	t.Setenv("QORGAN_METRICS_TOKEN", "prometheus-scrape-token-1")
	var help strings.Builder
	if err := config.Parse(cmd, []string{"--keep-passes", "72h", "--quiet-hours", "off"}, &help); err != nil {
		t.Fatal(err)
	}
	if s.HTTP.Addr != "127.0.0.1:9" || s.Keep.Passes != 72*time.Hour || s.Notify.QuietHours != (config.QuietHours{}) {
		t.Errorf("parsed %+v", s)
	}
	if s.HTTP.MapTilesURL != "https://{s}.tiles.example/{z}/{x}/{y}.png" {
		t.Errorf("map tiles URL %q", s.HTTP.MapTilesURL)
	}
	if s.HTTP.MetricsToken != "prometheus-scrape-token-1" {
		t.Errorf("metrics token %q", s.HTTP.MetricsToken)
	}
	if got := s.HTTP.TrustedProxies.String(); got != "10.0.0.1/32,192.168.0.0/16" {
		t.Errorf("trusted proxies %s", got)
	}
	if s.Notify.Concurrency != config.DefaultMessageConcurrency || s.Alarm.EscalateAfter != alarm.DefaultT1 || s.Alarm.EscalateAgainAfter != alarm.DefaultT2 ||
		s.Notify.SMTPSecurity != notify.SMTPStartTLS || s.DB.Path != "qorgan.db" {
		t.Errorf("defaults %+v", s)
	}

	for _, c := range []struct {
		env  string
		args []string
		want string
	}{
		{"QORGAN_MESSAGE_LEASE=soon", nil, "QORGAN_MESSAGE_LEASE"},
		{"", []string{"--keep-passes", "1h"}, "--keep-passes must be at least 24h0m0s (today's presence is needed), not 1h0m0s"},
		{"", []string{"--escalate-after", "2m"}, "--escalate-after (2m0s) must be positive and less than --escalate-again-after"},
		{"", []string{"--webhook-url", "http://x", "--webhook-secret", "short"}, "--webhook-url needs a --webhook-secret"},
		{"", []string{"--log-format", "xml"}, `--log-format must be text or json, not "xml"`},
		{"", []string{"--quiet-hours", "late"}, "FROM-TO"},
		{"", []string{"stray"}, `unexpected argument "stray"`},
		{"", []string{"--map-tiles-url", "ftp://tiles.example/{z}/{x}/{y}.png"}, "--map-tiles-url must be an http:// or https:// URL"},
		{"", []string{"--map-tiles-url", "https://tiles.example/{z}/{x}.png"}, "--map-tiles-url must contain {y}"},
		{"", []string{"--map-tiles-url", "https:///{z}/{x}/{y}.png"}, "--map-tiles-url must name the tile server's host"},
		{"QORGAN_MAP_TILES_URL=https://tiles.example/tile.png", nil, "must contain {z}"},
		{"", []string{"--metrics-token", "short"}, "--metrics-token must be at least 16 characters, not 5"},
		{"QORGAN_METRICS_TOKEN=sixteen chars ok", nil, "--metrics-token must have no spaces"},
	} {
		t.Run(strings.Join(c.args, " ")+c.env, func(t *testing.T) {
			if c.env != "" {
				k, v, _ := strings.Cut(c.env, "=")
				t.Setenv(k, v)
			}
			var s config.Server
			err := config.Parse(config.Command{Name: "serve", Options: s.Options("qorgan.db")}, c.args, &strings.Builder{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want it to contain %q", err, c.want)
			}
		})
	}

	var h config.Server
	if err := config.Parse(config.Command{Name: "serve", Options: h.Options("qorgan.db")}, []string{"--help"}, &help); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: %v", err)
	}
	for _, want := range []string{"--keep-passes  (QORGAN_KEEP_PASSES)", "(default 9600h)", "(default one per two cores, at least 1)", "--database-url  (QORGAN_DATABASE_URL)"} {
		if !strings.Contains(help.String(), want) {
			t.Errorf("--help does not say %q:\n%s", want, help.String())
		}
	}
}

// TestSecretDefaultsMasked: a secret's default is printed as ***.
func TestSecretDefaultsMasked(t *testing.T) {
	var pw string
	var out strings.Builder
	config.Command{Name: "demo", Options: []*config.Option{config.String(&pw, "password", "hunter2-hunter2", "password").Secret()}}.Usage(&out)
	if strings.Contains(out.String(), "hunter2") || !strings.Contains(out.String(), "(default ***)") {
		t.Errorf("usage:\n%s", out.String())
	}
}
