// Package morning plays a school morning against a running Qorgan: pupils
// arrive through the turnstiles along a realistic curve, some with lost
// cards, some bouncing at the gate, and one controller that was offline
// uploads its backlog late. It drives the public HTTP API only, as real
// controllers would, and reports rates and latencies.
package morning

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"slices"
	"sort"
	"sync"
	"time"
)

// Config says what to play.
type Config struct {
	Server   string // base URL, e.g. http://127.0.0.1:8080
	Login    string // a sysadmin: the simulator issues turnstile credentials and reads the cards
	Password string
	Scale    float64 // share of the server's schools to drive (1 = all)
	Speed    float64 // how much faster than real time (30: the 30-minute peak in a minute)
	Batch    time.Duration
	// LostCards and Bounces are shares of pupils: a lost card shows up as
	// an unknown credential; a bounce goes out and back in at the gate.
	LostCards, Bounces float64
	Seed               uint64
	Client             *http.Client
}

// Report is what happened.
type Report struct {
	Schools, Pupils         int
	Sent, Stored, Duplicate int
	Unknown                 int
	Requests                int
	Elapsed                 time.Duration
	PassesPerSecond         float64
	LatencyP50, LatencyP99  time.Duration
	BacklogEvents           int
	BacklogStored           int
}

func (r Report) String() string {
	return fmt.Sprintf("%d schools, %d pupils: %d passes sent in %s (%.0f/s) in %d requests; stored %d, duplicate %d, unknown %d\n"+
		"request latency p50 %s, p99 %s; offline controller uploaded %d events late, %d stored\n",
		r.Schools, r.Pupils, r.Sent, r.Elapsed.Round(time.Millisecond), r.PassesPerSecond, r.Requests, r.Stored, r.Duplicate, r.Unknown,
		r.LatencyP50, r.LatencyP99, r.BacklogEvents, r.BacklogStored)
}

type school struct {
	id    int64
	token string
	cards []string
}

type event struct {
	EventID   string    `json:"event_id"`
	At        time.Time `json:"at"`
	Direction string    `json:"direction"`
	CardUID   string    `json:"card_uid"`
}

type client struct {
	base string
	http *http.Client
	csrf string
}

func (c *client) do(ctx context.Context, method, path string, body any, auth string, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	} else if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(data))
	}
	if out != nil {
		return resp.StatusCode, json.Unmarshal(data, out)
	}
	return resp.StatusCode, nil
}

// prepare signs in, picks the schools with a turnstile, issues a credential
// to one turnstile of each and reads its pupils' cards.
func prepare(ctx context.Context, cfg Config) (*client, []school, error) {
	jar, _ := cookiejar.New(nil)
	hc := cfg.Client
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	}
	hc.Jar = jar
	c := &client{base: cfg.Server, http: hc}
	var sess struct {
		CSRF string `json:"csrf_token"`
	}
	if _, err := c.do(ctx, "POST", "/api/v1/session", map[string]string{"login": cfg.Login, "password": cfg.Password}, "", &sess); err != nil {
		return nil, nil, fmt.Errorf("sign in: %w", err)
	}
	c.csrf = sess.CSRF
	var ids []int64
	for cursor := ""; ; {
		var page struct {
			Items []struct {
				ID int64 `json:"id"`
			} `json:"items"`
			Next string `json:"next_cursor"`
		}
		if _, err := c.do(ctx, "GET", "/api/v1/schools?limit=500&cursor="+cursor, nil, "", &page); err != nil {
			return nil, nil, err
		}
		for _, s := range page.Items {
			ids = append(ids, s.ID)
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	keep := max(1, int(math.Round(float64(len(ids))*cfg.Scale)))
	var schools []school
	for _, id := range ids {
		if len(schools) >= keep {
			break
		}
		var devs struct {
			Items []struct {
				ID   int64  `json:"id"`
				Kind string `json:"kind"`
			} `json:"items"`
		}
		if _, err := c.do(ctx, "GET", fmt.Sprintf("/api/v1/schools/%d/devices", id), nil, "", &devs); err != nil {
			return nil, nil, err
		}
		i := slices.IndexFunc(devs.Items, func(d struct {
			ID   int64  `json:"id"`
			Kind string `json:"kind"`
		}) bool {
			return d.Kind == "turnstile"
		})
		if i < 0 {
			continue // no turnstile: its pupils do not pass one
		}
		var cred struct {
			Credential string `json:"credential"`
		}
		if _, err := c.do(ctx, "POST", fmt.Sprintf("/api/v1/devices/%d/credential", devs.Items[i].ID), nil, "", &cred); err != nil {
			return nil, nil, err
		}
		s := school{id: id, token: cred.Credential}
		for cursor := ""; ; {
			var page struct {
				Items []struct {
					Card string `json:"card_uid"`
				} `json:"items"`
				Next string `json:"next_cursor"`
			}
			if _, err := c.do(ctx, "GET", fmt.Sprintf("/api/v1/schools/%d/pupils?limit=500&cursor=%s", id, cursor), nil, "", &page); err != nil {
				return nil, nil, err
			}
			for _, p := range page.Items {
				if p.Card != "" {
					s.cards = append(s.cards, p.Card)
				}
			}
			if page.Next == "" {
				break
			}
			cursor = page.Next
		}
		schools = append(schools, s)
	}
	if len(schools) == 0 {
		return nil, nil, errors.New("no school with a turnstile to play")
	}
	return c, schools, nil
}

// Run plays the morning.
func Run(ctx context.Context, cfg Config, out io.Writer) (Report, error) {
	if cfg.Scale <= 0 || cfg.Scale > 1 {
		cfg.Scale = 1
	}
	if cfg.Speed <= 0 {
		cfg.Speed = 30
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 10 * time.Second
	}
	c, schools, err := prepare(ctx, cfg)
	if err != nil {
		return Report{}, err
	}
	rng := rand.New(rand.NewPCG(cfg.Seed+1, 7))
	// The simulated morning: 07:30 to 08:00 today, Asia/Almaty, mapped
	// onto real time from now, Speed times faster. Event times are the
	// real instants at which they are sent, so the server sees fresh passes.
	const window = 30 * time.Minute
	type timed struct {
		offset time.Duration // from the start of the morning
		ev     event
	}
	plans := make([][]timed, len(schools))
	rep := Report{Schools: len(schools)}
	offline := 0 // the first school's controller is offline all morning
	for si, s := range schools {
		for pi, card := range s.cards {
			rep.Pupils++
			// Arrivals peak at 07:48 with a spread of 6 minutes.
			off := time.Duration((18 + rng.NormFloat64()*6) * float64(time.Minute))
			off = min(max(off, 0), window-time.Second)
			if rng.Float64() < cfg.LostCards {
				card = fmt.Sprintf("FF%06X", rng.Uint32()&0xFFFFFF) // a card nobody has
			}
			id := func(k string) string { return fmt.Sprintf("m%d-%d-%s", s.id, pi, k) }
			plans[si] = append(plans[si], timed{off, event{EventID: id("in"), Direction: "in", CardUID: card}})
			if rng.Float64() < cfg.Bounces {
				plans[si] = append(plans[si],
					timed{off + 30*time.Second, event{EventID: id("out"), Direction: "out", CardUID: card}},
					timed{off + 90*time.Second, event{EventID: id("in2"), Direction: "in", CardUID: card}})
			}
		}
		sort.Slice(plans[si], func(i, j int) bool { return plans[si][i].offset < plans[si][j].offset })
	}
	var mu sync.Mutex
	var lat []time.Duration
	var backlog []event
	post := func(s school, evs []event) error {
		t0 := time.Now()
		var res struct{ Stored, Duplicate, Unknown int }
		_, err := c.do(ctx, "POST", "/api/v1/device/passes", map[string]any{"events": evs}, s.token, &res)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			return err
		}
		lat = append(lat, time.Since(t0))
		rep.Requests++
		rep.Sent += len(evs)
		rep.Stored += res.Stored
		rep.Duplicate += res.Duplicate
		rep.Unknown += res.Unknown
		return nil
	}
	start := time.Now()
	next := make([]int, len(schools))
	var firstErr error
	for simNow := time.Duration(0); simNow <= window+cfg.Batch; simNow += cfg.Batch {
		wake := start.Add(time.Duration(float64(simNow) / cfg.Speed))
		select {
		case <-ctx.Done():
			return rep, ctx.Err()
		case <-time.After(time.Until(wake)):
		}
		var wg sync.WaitGroup
		for si, s := range schools {
			var due []event
			for next[si] < len(plans[si]) && plans[si][next[si]].offset <= simNow {
				e := plans[si][next[si]].ev
				e.At = time.Now().UTC()
				due = append(due, e)
				next[si]++
			}
			if len(due) == 0 {
				continue
			}
			if si == offline {
				backlog = append(backlog, due...)
				continue
			}
			wg.Add(1)
			go func(s school, due []event) {
				defer wg.Done()
				if err := post(s, due); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}(s, due)
		}
		wg.Wait()
		if firstErr != nil {
			return rep, firstErr
		}
		if out != nil && simNow%(5*time.Minute) == 0 {
			fmt.Fprintf(out, "  %s of the morning: %d passes sent\n", simNow, rep.Sent)
		}
	}
	rep.Elapsed = time.Since(start)
	// The offline controller comes back and uploads its backlog.
	rep.BacklogEvents = len(backlog)
	before := rep.Stored
	for i := 0; i < len(backlog); i += 1000 {
		if err := post(schools[offline], backlog[i:min(i+1000, len(backlog))]); err != nil {
			return rep, err
		}
	}
	rep.BacklogStored = rep.Stored - before
	rep.PassesPerSecond = float64(rep.Sent) / time.Since(start).Seconds()
	slices.Sort(lat)
	if len(lat) > 0 {
		rep.LatencyP50 = lat[len(lat)*50/100]
		rep.LatencyP99 = lat[min(len(lat)-1, len(lat)*99/100)]
	}
	return rep, nil
}
