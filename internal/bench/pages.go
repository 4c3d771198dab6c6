package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"time"

	"qorgan/internal/alarm"
	"qorgan/internal/attendance"
	"qorgan/internal/auth"
	"qorgan/internal/demo"
	"qorgan/internal/notify"
	"qorgan/internal/registry"
	"qorgan/internal/store"
)

// PagesConfig describes a console pages run.
type PagesConfig struct {
	Scale    float64 // share of the country to load (1 = national)
	Requests int     // requests per page
	Dir      string  // directory for the SQLite file; empty: a temporary one
	Sync     string  // SQLite synchronous mode
}

// pagesPassword is every demo account's password in this run.
const pagesPassword = "bench-pages-password"

// Pages loads the demo dataset, raises an alarm and records passes so that
// the pages have something to show, then signs in as each role through the
// sign-in form's API and times every page of that role over the real HTTP
// stack (the whole answer read), next to GET /healthz in the same run. The
// console's goal is every page within 200 ms at --scale 1.
func Pages(ctx context.Context, cfg PagesConfig, out, errOut io.Writer) error {
	db, done, err := Store(ctx, cfg.Dir, "pages.db", cfg.Sync, out)
	if err != nil {
		return err
	}
	defer done()
	a := auth.New(db)
	lastPrint := time.Now()
	res, err := demo.Load(ctx, db, a, demo.Options{Scale: cfg.Scale, Password: pagesPassword, Progress: func(done, total int) {
		if time.Since(lastPrint) > 5*time.Second {
			fmt.Fprintf(errOut, "  loaded %d/%d schools\n", done, total)
			lastPrint = time.Now()
		}
	}})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "data: %d schools, %d pupils, %d guardians, %d staff, %d devices (loaded in %.1f s)\n",
		res.Schools, res.Pupils, res.Guardians, res.Staff, res.Devices, res.Took.Seconds())

	log := slog.New(slog.DiscardHandler)
	reg := registry.New(db, a)
	alarms := alarm.New(db, a, log)
	passes := attendance.New(db, attendance.NoNotices, func() {})
	base, stop, err := serveWeb(db, a, reg, alarms, passes, nil, log)
	if err != nil {
		return err
	}
	defer stop()

	type person struct {
		login string
		c     *http.Client
		csrf  string
	}
	signIn := func(login string) (*person, error) {
		jar, _ := cookiejar.New(nil)
		p := &person{login: login, c: &http.Client{Jar: jar, Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
		body, _ := json.Marshal(map[string]string{"login": login, "password": pagesPassword})
		resp, err := p.c.Post(base+"/api/v1/session", "application/json", bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var s struct {
			CSRF string `json:"csrf_token"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&s); err != nil || resp.StatusCode != 200 {
			return nil, fmt.Errorf("sign in as %s: %d %v", login, resp.StatusCode, err)
		}
		p.csrf = s.CSRF
		return p, nil
	}
	call := func(p *person, method, path string, body any) (int, []byte, error) {
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequestWithContext(ctx, method, base+path, rd)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", p.csrf)
		resp, err := p.c.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, b, err
	}

	// Something to show: an alarm at school 1 and passes of its pupils.
	guard, err := signIn("guard")
	if err != nil {
		return err
	}
	if st, b, err := call(guard, "POST", "/api/v1/schools/1/panic", map[string]any{"request_id": "bench-pages", "note": "bench"}); err != nil || st != 202 {
		return fmt.Errorf("panic: %d %s %v", st, b, err)
	}
	var rc attendance.RollCall
	if st, b, err := call(guard, "GET", "/api/v1/schools/1/rollcall", nil); err != nil || st != 200 || json.Unmarshal(b, &rc) != nil {
		return fmt.Errorf("roll-call: %d %v", st, err)
	}
	n := 0
	for _, x := range rc.People {
		if x.Kind != "pupil" || n >= 200 {
			continue
		}
		if st, b, err := call(guard, "POST", "/api/v1/schools/1/passes/manual", map[string]any{"pupil_id": x.ID, "direction": "in", "request_id": fmt.Sprint("bench-", x.ID)}); err != nil || st/100 != 2 {
			return fmt.Errorf("manual pass: %d %s %v", st, b, err)
		}
		n++
	}
	// A morning's messages to school 1's parents, a few of them failed, for
	// the messages page to count and list.
	if err := morningMessages(ctx, db, rc); err != nil {
		return err
	}
	var alarms1 struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
	}
	if st, b, err := call(guard, "GET", "/api/v1/alarms", nil); err != nil || st != 200 || json.Unmarshal(b, &alarms1) != nil || len(alarms1.Items) == 0 {
		return fmt.Errorf("alarms: %d %v", st, err)
	}
	alarmPage := fmt.Sprint("/alarms/", alarms1.Items[0].ID)
	parent, err := signIn("parent")
	if err != nil {
		return err
	}
	var kids struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
	}
	if st, b, err := call(parent, "GET", "/api/v1/children", nil); err != nil || st != 200 || json.Unmarshal(b, &kids) != nil || len(kids.Items) == 0 {
		return fmt.Errorf("children: %d %v", st, err)
	}

	plan := []struct {
		login string
		pages []string
	}{
		{"pcn", []string{"/console", alarmPage}},
		{"cou", []string{"/console", alarmPage}},
		{"guard", []string{"/schools/1/board", "/schools/1/rollcall", alarmPage}},
		{"director", []string{"/schools/1/board", "/schools/1/rollcall", "/schools/1/import", "/schools/1/compliance", "/schools/1/emergency", "/schools/1/messages", "/schools/1/messages?state=dead", "/schools/1/not-arrived-rule"}},
		{"parent", []string{"/family", fmt.Sprint("/family/children/", kids.Items[0].ID)}},
		{"admin", []string{"/admin/people", "/admin/tokens", "/admin/audit"}},
		{"region", []string{"/schools", "/schools/1", "/providers", "/police-units", "/indicators"}},
		{"analyst", []string{"/schools", "/indicators"}},
	}
	fmt.Fprintf(out, "\n| role | page | p50 | p99 | bytes |\n|---|---|---|---|---|\n")
	var health []time.Duration
	for _, step := range plan {
		p, err := signIn(step.login)
		if err != nil {
			return err
		}
		for _, pg := range step.pages {
			var ds []time.Duration
			size := 0
			for i := 0; i < cfg.Requests; i++ {
				t0 := time.Now()
				st, b, err := call(p, "GET", pg, nil)
				d := time.Since(t0)
				if err != nil || st != 200 || !strings.Contains(string(b), "</html>") {
					return fmt.Errorf("%s GET %s: %d %v", step.login, pg, st, err)
				}
				ds, size = append(ds, d), len(b)
				t0 = time.Now()
				if st, _, err := call(p, "GET", "/healthz", nil); err != nil || st != 200 {
					return fmt.Errorf("healthz: %d %v", st, err)
				}
				health = append(health, time.Since(t0))
			}
			fmt.Fprintf(out, "| %s | `%s` | %s | %s | %d |\n", step.login, pg, ms(percentile(ds, 50)), ms(percentile(ds, 99)), size)
		}
	}
	fmt.Fprintf(out, "| (baseline) | `/healthz` | %s | %s | |\n", ms(percentile(health, 50)), ms(percentile(health, 99)))
	return nil
}

// morningMessages queues two messages to the parents of each pupil of the
// roll-call (an SMS and a bot message, as a pass makes them) and records
// their outcomes: most sent, one in fifty dead, one in fifty failed.
func morningMessages(ctx context.Context, db *store.DB, rc attendance.RollCall) error {
	now := time.Now()
	var msgs []notify.Message
	for i, x := range rc.People {
		if x.Kind != "pupil" {
			continue
		}
		for _, ch := range []notify.ChannelName{notify.ChannelSMS, notify.ChannelBot} {
			msgs = append(msgs, notify.Message{Key: fmt.Sprintf("bench-pages/%d/%s", x.ID, ch), Channel: ch, Recipient: fmt.Sprintf("+7701%07d", i),
				Kind: "pupil.entered", Body: "bench", Language: "kk", SchoolID: 1, PupilID: x.ID, CreatedAt: now.Add(-time.Duration(i) * time.Second)})
		}
	}
	return db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := notify.Enqueue(ctx, tx, msgs); err != nil {
			return err
		}
		for _, q := range []string{
			"UPDATE outbox SET status = 'sent', attempts = 1, sent_at = created_at WHERE school_id = 1 AND idempotency_key LIKE 'bench-pages/%' AND pupil_id % 50 > 1",
			"UPDATE outbox SET status = 'dead', attempts = 1, last_error = 'permanent: bot API 403: Forbidden: bot was blocked by the user' WHERE school_id = 1 AND idempotency_key LIKE 'bench-pages/%' AND pupil_id % 50 = 0",
			"UPDATE outbox SET attempts = 2, last_error = 'temporary: HTTP 503: busy' WHERE school_id = 1 AND idempotency_key LIKE 'bench-pages/%' AND pupil_id % 50 = 1",
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
}
