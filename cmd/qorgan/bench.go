package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/bench"
	"qorgan/internal/demo"
	"qorgan/internal/registry"
	"qorgan/internal/store"
	"qorgan/internal/web"
)

func runBench(ctx context.Context, args []string, out, errOut io.Writer) error {
	if len(args) > 0 && args[0] == "alarms" {
		return benchAlarms(ctx, args[1:], out, errOut)
	}
	if len(args) > 0 && args[0] == "passes" {
		return benchPasses(ctx, args[1:], out, errOut)
	}
	if len(args) > 0 && args[0] == "signin" {
		return benchSignIn(ctx, args[1:], out, errOut)
	}
	if len(args) == 0 || args[0] != "registry" {
		fmt.Fprintln(errOut, "Usage: qorgan bench registry [--scale 1] [--requests 2000]\n       qorgan bench alarms [--panels 200] [--duration 10s]\n       qorgan bench passes [--rate 5000] [--duration 10s]\n       qorgan bench signin [--flood 40] [--panels 100]")
		return fmt.Errorf("bench needs a subject: registry, alarms, passes or signin")
	}
	var scale float64
	var requests int
	var dir, sync string
	fs := flagSet("bench registry", "Load the demo dataset into a fresh SQLite file and measure the load (pupils/s), then\n"+
		"list the schools of every region through the real HTTP API, as each region's education\n"+
		"department, the ministry analyst, a ПЦН and a ЦОУ, and report p50/p99 per page next to\n"+
		"GET /healthz measured in the same run.", errOut)
	fs.Float64Var(&scale, "scale", 1, "share of the country to load (1 = national)")
	fs.IntVar(&requests, "requests", 2000, "list requests to time")
	fs.StringVar(&dir, "dir", "", "directory for the SQLite file (default: a temporary one, removed after)")
	fs.StringVar(&sync, "sqlite-sync", "NORMAL", "SQLite synchronous mode for the load (FULL or NORMAL)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	db, done, err := benchStore(ctx, dir, "bench.db", sync, out)
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
	srv := &web.Server{DB: db, Auth: a, Registry: registry.New(db, a), Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv.Handler()}
	go hs.Serve(ln)
	defer hs.Close()
	base := "http://" + ln.Addr().String()

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

func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[min(max(i-1, 0), len(s)-1)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

// benchStore opens a fresh SQLite file for a benchmark, in dir or in a
// temporary directory removed afterwards, and prints the machine it runs on.
func benchStore(ctx context.Context, dir, name, sync string, out io.Writer) (*store.DB, func(), error) {
	cleanup := func() {}
	if dir == "" {
		d, err := os.MkdirTemp("", "qorgan-bench")
		if err != nil {
			return nil, nil, err
		}
		cleanup = func() { os.RemoveAll(d) }
		dir = d
	}
	path := filepath.Join(dir, name)
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(path + suffix)
	}
	db, err := store.Open(ctx, store.Config{Path: path, Synchronous: sync})
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	host, _ := os.Hostname()
	fmt.Fprintf(out, "machine: %s, %d CPUs, %s/%s, %s; SQLite synchronous=%s\n", host, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version(), sync)
	return db, func() { db.Close(); cleanup() }, nil
}

// cost is what the process spent over a stretch of a benchmark: CPU time
// and bytes handed to write calls (the database's log and checkpoints, and
// the sockets). Per operation, these move far less with the noise of a
// shared machine than the rates do, so they show what a change saves.
type cost struct {
	cpu     time.Duration
	written int64
}

func costNow() cost {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	c := cost{cpu: time.Duration(ru.Utime.Nano() + ru.Stime.Nano())}
	if b, err := os.ReadFile("/proc/self/io"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "wchar: "); ok {
				c.written, _ = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			}
		}
	}
	return c
}

// per describes the cost since c for each of n operations.
func (c cost) per(n int64, what string) string {
	if n <= 0 {
		return ""
	}
	now := costNow()
	s := fmt.Sprintf("CPU %.1f µs per %s", float64((now.cpu-c.cpu).Nanoseconds())/1e3/float64(n), what)
	if now.written > 0 {
		s += fmt.Sprintf(", %.1f KB written per %s", float64(now.written-c.written)/1024/float64(n), what)
	}
	return s
}

// startProfile starts a CPU profile written to path (nothing when path is
// empty) and returns what stops it and closes the file.
func startProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// benchSignIn floods the real server with wrong passwords while panels
// report, and compares their ACK latency and the server's memory with the
// same load idle.
func benchSignIn(ctx context.Context, args []string, out, errOut io.Writer) error {
	var c bench.SignInConfig
	fs := flagSet("bench signin", "Start the server on a fresh demo store and measure the DC-09 ACK latency of many panels, idle\n"+
		"and then while clients post wrong passwords without pause; report both p99s, their ratio and\n"+
		"the server's resident memory in each phase.", errOut)
	fs.IntVar(&c.Panels, "panels", 100, "panels reporting, each on its own account")
	fs.Float64Var(&c.Rate, "rate", 200, "frames per second of all panels together (alarms, tests and NULL in turn)")
	fs.DurationVar(&c.Duration, "duration", 20*time.Second, "length of each phase")
	fs.IntVar(&c.Flood, "flood", 40, "clients posting wrong passwords at once")
	fs.IntVar(&c.Sources, "sources", 40, "loopback source addresses the flood comes from")
	fs.StringVar(&c.Dir, "dir", "", "directory for the SQLite file (default: a temporary one)")
	fs.StringVar(&c.Exe, "server", "", "the qorgan binary to run as the server (default: this one; another build compares)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if c.Exe == "" {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		c.Exe = exe
	}
	host, _ := os.Hostname()
	fmt.Fprintf(out, "machine: %s, %d CPUs, %s/%s, %s\n", host, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	rep, err := bench.SignIn(ctx, c, out)
	if err != nil {
		return err
	}
	mb := func(b int64) string { return fmt.Sprintf("%.0f MB", float64(b)/1e6) }
	fmt.Fprintf(out, "sign-in flood: %d clients from %d addresses, %d attempts (%s)\n", c.Flood, c.Sources, rep.Attempts, bench.FormatAnswers(rep.Answers))
	fmt.Fprintf(out, "ACK p99 idle %s, flooded %s: ratio %.2f (p50 %s → %s)\n", ms(rep.Idle.LatencyP99), ms(rep.Flooded.LatencyP99), rep.Ratio(),
		ms(rep.Idle.LatencyP50), ms(rep.Flooded.LatencyP50))
	fmt.Fprintf(out, "server memory (resident, peak): idle %s, flooded %s, after %s\n", mb(rep.RSSIdle), mb(rep.RSSFlood), mb(rep.RSSAfter))
	return nil
}
