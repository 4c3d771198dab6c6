// Package bench holds Qorgan's end-to-end benchmarks: each builds its own
// data, runs the real server or the real services, and reports figures
// next to a baseline measured in the same run.
package bench

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/demo"
	"qorgan/internal/registry"
	"qorgan/internal/sim/panel"
	"qorgan/internal/store"
)

// SignInConfig describes a sign-in flood run.
type SignInConfig struct {
	// Exe is the qorgan binary run as the server (its own process, so that
	// its memory is measured alone).
	Exe string
	// Dir holds the server's SQLite file; empty: a temporary folder.
	Dir string
	// Panels report on distinct accounts, together Rate frames a second,
	// during each phase of Duration.
	Panels   int
	Rate     float64
	Duration time.Duration
	// Flood clients post wrong passwords without pause, each from one of
	// Sources loopback addresses and for a login of its own, so that
	// neither the per-address nor the per-login throttle alone stops them:
	// the bound on checks in flight must.
	Flood   int
	Sources int
}

// SignInReport is what a run measured.
type SignInReport struct {
	Idle, Flooded     panel.Report
	RSSIdle, RSSFlood int64 // the server's largest resident set in each phase, bytes
	RSSAfter          int64 // resident set at the end
	Answers           map[int]int64
	Attempts          int64
}

// Ratio is the flooded ACK p99 over the idle one.
func (r SignInReport) Ratio() float64 {
	if r.Idle.LatencyP99 <= 0 {
		return 0
	}
	return float64(r.Flooded.LatencyP99) / float64(r.Idle.LatencyP99)
}

// SignIn runs the server on a fresh demo store with Panels registered
// panels, measures their ACK latency idle, then again while Flood clients
// post wrong passwords, and reports both with the server's memory.
func SignIn(ctx context.Context, cfg SignInConfig, out io.Writer) (SignInReport, error) {
	var rep SignInReport
	dir := cfg.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "qorgan-bench-signin")
		if err != nil {
			return rep, err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	path := filepath.Join(dir, "signin.db")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(path + suffix)
	}
	// Each phase has panels of its own (2 × Panels accounts): the simulator
	// numbers its frames from 0001, and the same account, sequence number
	// and event within the retransmission window is a retry, stored once
	// and raising nothing; a second phase on the first phase's panels
	// would measure cheap retries against fresh alarms.
	if err := prepareSignIn(ctx, path, 2*cfg.Panels); err != nil {
		return rep, err
	}

	srv, err := startServer(ctx, cfg.Exe, "serve", "--db", path, "--addr", "127.0.0.1:0", "--dc09-addr", "127.0.0.1:0", "--log-level", "error")
	if err != nil {
		return rep, err
	}
	defer srv.stop()
	fmt.Fprintf(out, "server pid %d: http://%s, DC-09 %s\n", srv.cmd.Process.Pid, srv.http, srv.dc09)

	rss := &rssWatch{pid: srv.cmd.Process.Pid}
	stopWatch := rss.run(100 * time.Millisecond)
	defer stopWatch()

	accounts := func(phase int) []string {
		out := make([]string, cfg.Panels)
		for i := range out {
			out[i] = fmt.Sprintf("C%05d", 1+phase*cfg.Panels+i)
		}
		return out
	}
	alarmLoad := func(phase int) (panel.Report, error) {
		return panel.Run(ctx, panel.Config{Addr: srv.dc09, Accounts: accounts(phase),
			Codes: []string{"BA", "RP", "NULL"}, Rate: cfg.Rate, Duration: cfg.Duration, AckTimeout: 10 * time.Second}, io.Discard)
	}
	// A short warm-up of every panel (NULL frames are not stored), so that
	// neither phase pays for the first connections.
	for phase := range 2 {
		if _, err := panel.Run(ctx, panel.Config{Addr: srv.dc09, Accounts: accounts(phase), Codes: []string{"NULL"},
			Count: cfg.Panels, AckTimeout: 10 * time.Second}, io.Discard); err != nil {
			return rep, err
		}
	}

	// The server's own start-up work (supervision finding the demo's
	// silent devices, housekeeping) must be over before the baseline.
	if took, err := settle(ctx, srv.cmd.Process.Pid, 0.05, 2*time.Second, 2*time.Minute); err != nil {
		return rep, err
	} else {
		fmt.Fprintf(out, "server settled after %s\n", took.Round(time.Second))
	}
	rss.reset()
	if rep.Idle, err = alarmLoad(0); err != nil {
		return rep, err
	}
	rep.RSSIdle = rss.reset()
	fmt.Fprintf(out, "idle:    %s", rep.Idle)

	floodCtx, stopFlood := context.WithCancel(ctx)
	answers, attempts, flooded := flood(floodCtx, "http://"+srv.http, cfg.Flood, cfg.Sources)
	time.Sleep(time.Second) // the flood at full strength before the measure starts
	rep.Flooded, err = alarmLoad(1)
	stopFlood()
	flooded.Wait()
	if err != nil {
		return rep, err
	}
	rep.RSSFlood = rss.reset()
	rep.Answers = answers.snapshot()
	rep.Attempts = attempts.Load()
	fmt.Fprintf(out, "flooded: %s", rep.Flooded)
	time.Sleep(time.Second)
	rep.RSSAfter = rss.current()
	if rep.Idle.NoAnswer+rep.Flooded.NoAnswer > 0 || rep.Idle.NAK+rep.Flooded.NAK > 0 {
		return rep, fmt.Errorf("frames not ACKed: idle %d NAK %d no answer, flooded %d NAK %d no answer",
			rep.Idle.NAK, rep.Idle.NoAnswer, rep.Flooded.NAK, rep.Flooded.NoAnswer)
	}
	return rep, nil
}

// prepareSignIn makes the server's store: the demo at 1% and the panels.
func prepareSignIn(ctx context.Context, path string, panels int) error {
	db, err := store.Open(ctx, store.Config{Path: path, Synchronous: "FULL"})
	if err != nil {
		return err
	}
	defer db.Close()
	if err := registry.SeedRegions(ctx, db); err != nil {
		return err
	}
	a := auth.New(db)
	if _, err := demo.Load(ctx, db, a, demo.Options{Scale: 0.01}); err != nil {
		return err
	}
	schools, err := store.Collect(ctx, db.Reader(), func(r *sql.Rows) (id int64, err error) { return id, r.Scan(&id) }, "SELECT id FROM schools ORDER BY id")
	if err != nil {
		return err
	}
	return db.InTx(ctx, func(tx *store.Tx) error {
		for i := 1; i <= panels; i++ {
			in := registry.DeviceInput{Kind: registry.AlarmPanel, Name: fmt.Sprintf("bench panel %d", i), DC09Account: fmt.Sprintf("C%05d", i)}
			if _, err := registry.InsertDevice(ctx, tx, time.Now().UnixMicro(), schools[i%len(schools)], in, nil); err != nil {
				return err
			}
		}
		return nil
	})
}

// server is a qorgan process started by a benchmark.
type server struct {
	cmd        *exec.Cmd
	http, dc09 string
	exited     chan struct{}
}

var (
	listeningRE = regexp.MustCompile(`listening on http://(\S+)`)
	dc09RE      = regexp.MustCompile(`DC-09 receiver on (\S+)`)
)

// startServer runs exe with args and waits until it says where it listens.
func startServer(ctx context.Context, exe string, args ...string) (*server, error) {
	cmd := exec.Command(exe, args...)
	cmd.Env = os.Environ()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, exited: make(chan struct{})}
	found := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if m := dc09RE.FindStringSubmatch(line); m != nil {
				s.dc09 = m[1]
			}
			if m := listeningRE.FindStringSubmatch(line); m != nil {
				s.http = m[1]
				close(found)
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	go func() { cmd.Wait(); close(s.exited) }()
	select {
	case <-found:
	case <-s.exited:
		return nil, fmt.Errorf("%s exited before listening: %s", exe, strings.TrimSpace(stderr.String()))
	case <-time.After(2 * time.Minute):
		s.stop()
		return nil, errors.New("the server did not start within 2 minutes")
	case <-ctx.Done():
		s.stop()
		return nil, ctx.Err()
	}
	if s.dc09 == "" {
		s.stop()
		return nil, errors.New("the server started no DC-09 receiver")
	}
	return s, nil
}

func (s *server) stop() {
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
}

// rssWatch samples a process's resident set.
type rssWatch struct {
	pid  int
	mu   sync.Mutex
	peak int64
}

func (w *rssWatch) current() int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(w.pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

func (w *rssWatch) run(every time.Duration) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				v := w.current()
				w.mu.Lock()
				w.peak = max(w.peak, v)
				w.mu.Unlock()
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// reset returns the peak since the last reset and starts a new one.
func (w *rssWatch) reset() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := max(w.peak, w.current())
	w.peak = 0
	return p
}

// statusCount counts HTTP answers by status (0: the request failed).
type statusCount struct {
	mu sync.Mutex
	n  map[int]int64
}

func (c *statusCount) add(status int) {
	c.mu.Lock()
	c.n[status]++
	c.mu.Unlock()
}

func (c *statusCount) snapshot() map[int]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.n)
}

// flood starts n clients posting wrong passwords until ctx ends, client i
// from loopback address 127.0.1.(i mod sources + 1) for the login
// "flood-i".
func flood(ctx context.Context, base string, n, sources int) (*statusCount, *atomic.Int64, *sync.WaitGroup) {
	answers := &statusCount{n: map[int]int64{}}
	var attempts atomic.Int64
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := &net.TCPAddr{IP: net.IPv4(127, 0, 1, byte(i%max(1, sources)+1))}
			client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
				DialContext: (&net.Dialer{LocalAddr: local}).DialContext, MaxIdleConnsPerHost: 1}}
			body := fmt.Sprintf(`{"login":"flood-%d","password":"not the password"}`, i)
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/session", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if ctx.Err() != nil {
					return
				}
				attempts.Add(1)
				if err != nil {
					answers.add(0)
					time.Sleep(10 * time.Millisecond)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				answers.add(resp.StatusCode)
			}
		}()
	}
	return answers, &attempts, &wg
}

// FormatAnswers lists the answers by status, in order.
func FormatAnswers(m map[int]int64) string {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		name := strconv.Itoa(k)
		if k == 0 {
			name = "failed"
		}
		parts = append(parts, fmt.Sprintf("%s: %d", name, m[k]))
	}
	return strings.Join(parts, ", ")
}

// cpuTicks is a process's user and system CPU time in clock ticks.
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces; the fields after it are fixed.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return u + s, nil
}

// settle waits until the process uses less than share of one core over a
// window, and says how long that took.
func settle(ctx context.Context, pid int, share float64, window, limit time.Duration) (time.Duration, error) {
	const ticksPerSecond = 100 // USER_HZ on Linux
	began := time.Now()
	for time.Since(began) < limit {
		a, err := cpuTicks(pid)
		if err != nil {
			return 0, err
		}
		select {
		case <-time.After(window):
		case <-ctx.Done():
			return 0, ctx.Err()
		}
		b, err := cpuTicks(pid)
		if err != nil {
			return 0, err
		}
		if float64(b-a)/ticksPerSecond/window.Seconds() < share {
			return time.Since(began), nil
		}
	}
	return 0, fmt.Errorf("the server was still busy after %s", limit)
}
