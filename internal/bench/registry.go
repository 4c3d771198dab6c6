package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/demo"
	"qorgan/internal/registry"
)

// RegistryConfig describes a registry run.
type RegistryConfig struct {
	Scale    float64 // share of the country to load (1 = national)
	Requests int     // list requests to time
	Dir      string  // directory for the SQLite file; empty: a temporary one
	Sync     string  // SQLite synchronous mode for the load
}

// Registry loads the demo dataset into a fresh SQLite file and measures the
// load (pupils/s), then lists the schools of every region through the real
// HTTP API, as each region's education department, the ministry analyst, a
// ПЦН and a ЦОУ, and reports p50/p99 per page next to GET /healthz measured
// in the same run. Progress goes to errOut.
func Registry(ctx context.Context, cfg RegistryConfig, out, errOut io.Writer) error {
	scale, requests, sync := cfg.Scale, cfg.Requests, cfg.Sync
	db, done, err := Store(ctx, cfg.Dir, "bench.db", sync, out)
	if err != nil {
		return err
	}
	defer done()

	a := auth.New(db)
	lastPrint := time.Now()
	res, err := demo.Load(ctx, db, a, demo.Options{Scale: scale, Progress: func(done, total int) {
		if time.Since(lastPrint) > 5*time.Second {
			fmt.Fprintf(errOut, "  loaded %d/%d schools\n", done, total)
			lastPrint = time.Now()
		}
	}})
	if err != nil {
		return err
	}
	rows := res.Schools + res.Pupils + 2*res.Guardians + res.Staff + res.Devices + res.Contracts
	secs := res.Took.Seconds()
	fmt.Fprintf(out, "load: %d schools, %d pupils, %d guardians, %d staff, %d devices in %.1f s (sync %s)\n",
		res.Schools, res.Pupils, res.Guardians, res.Staff, res.Devices, secs, sync)
	fmt.Fprintf(out, "load: %.0f pupils/s (with their guardians, links, staff and devices); %.0f rows/s\n", float64(res.Pupils)/secs, float64(rows)/secs)

	// Listing through the real HTTP stack on loopback.
	base, closeWeb, err := serveWeb(db, a, registry.New(db, a), nil, nil, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer closeWeb()

	type caller struct {
		name, token, region string
	}
	var callers []caller
	token := func(p auth.Principal) (string, error) {
		t, err := a.CreateAPIToken(ctx, p, "bench", time.Hour)
		return t.Token, err
	}
	users, err := a.ListUsers(ctx)
	if err != nil {
		return err
	}
	for _, u := range users {
		switch u.Login {
		case "analyst", "pcn", "cou":
			tok, err := token(auth.Principal{UserID: u.ID, Login: u.Login, Role: u.Role, Scope: u.Scope})
			if err != nil {
				return err
			}
			callers = append(callers, caller{name: u.Login, token: tok})
		}
	}
	for _, r := range registry.Regions() {
		u, err := a.CreateUser(ctx, auth.System, auth.NewUser{Login: "bench-" + r.Code, Password: "bench-password-" + r.Code, Role: auth.RoleEducation,
			Scope: auth.Scope{Kind: auth.ScopeRegion, Ref: r.Code}})
		if err != nil {
			return err
		}
		tok, err := token(auth.Principal{UserID: u.ID, Login: u.Login, Role: u.Role, Scope: u.Scope})
		if err != nil {
			return err
		}
		callers = append(callers, caller{name: u.Login, token: tok, region: r.Code})
		// The analyst lists each region too, by filter.
		callers = append(callers, caller{name: "analyst", token: callers[0].token, region: r.Code})
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	get := func(url, tok string) (time.Duration, string, error) {
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		var page struct {
			Items []json.RawMessage `json:"items"`
			Next  string            `json:"next_cursor"`
		}
		if url[len(url)-7:] != "healthz" {
			if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
				return 0, "", err
			}
		} else {
			io.Copy(io.Discard, resp.Body)
		}
		d := time.Since(t0)
		if resp.StatusCode != 200 {
			return 0, "", fmt.Errorf("GET %s: %d", url, resp.StatusCode)
		}
		return d, page.Next, nil
	}
	var list, health []time.Duration
	pages := 0
	for i := 0; len(list) < requests; i++ {
		c := callers[i%len(callers)]
		url := base + "/api/v1/schools?limit=100"
		if c.region != "" {
			url += "&region=" + c.region
		}
		cursor := ""
		for {
			u := url
			if cursor != "" {
				u += "&cursor=" + cursor
			}
			d, next, err := get(u, c.token)
			if err != nil {
				return err
			}
			list = append(list, d)
			pages++
			hd, _, err := get(base+"/healthz", "")
			if err != nil {
				return err
			}
			health = append(health, hd)
			if next == "" || len(list) >= requests {
				break
			}
			cursor = next
		}
	}
	lp50, lp99 := percentile(list, 50), percentile(list, 99)
	hp50, hp99 := percentile(health, 50), percentile(health, 99)
	fmt.Fprintf(out, "list schools of a region in scope (pages of 100, %d requests, %d callers): p50 %s, p99 %s\n", len(list), len(callers), ms(lp50), ms(lp99))
	fmt.Fprintf(out, "baseline GET /healthz, same run: p50 %s, p99 %s; list/healthz p99 ratio %.1f\n", ms(hp50), ms(hp99), float64(lp99)/float64(hp99))
	return nil
}
