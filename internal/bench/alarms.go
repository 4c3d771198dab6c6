package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"qorgan/internal/alarm"
	"qorgan/internal/auth"
	"qorgan/internal/ingest/dc09gw"
	"qorgan/internal/protocol/dc09"
	"qorgan/internal/registry"
	"qorgan/internal/sim/panel"
	"qorgan/internal/store"
)

// AlarmsConfig describes an alarms run.
type AlarmsConfig struct {
	Panels      int           // concurrent panels for the throughput run
	Duration    time.Duration // length of each run
	LatencyRate int           // alarms per second during the latency runs
	Attendance  int           // synthetic attendance events per second in the loaded latency run
	Sync        string        // SQLite synchronous mode
	Codes       []string      // codes the panels send in the throughput run
	Dir         string        // directory for the SQLite file; empty: a temporary one
	DatabaseURL string        // PostgreSQL instead of SQLite: a fresh schema in this database, dropped at the end
	CPUProfile  string        // file for a CPU profile of the plain throughput run against Qorgan; empty: none
	MemProfile  string        // file for an allocation profile of that run (and MemProfile+".base" from before it); empty: none
	// Compare is the address of another DC-09 receiver (e.g. iobroker.sia)
	// measured on the same load in the same run, after the ceiling; it
	// must know the accounts plainPattern and aesPattern name, the latter
	// with the key benchKeyHex. Empty: none.
	Compare string
	// Consoles is how many live streams besides the measured one are open
	// during the latency runs, each signed in as one of the demo's people
	// who may read alarms, in turn: a node serving many consoles at once.
	Consoles int
	// MinRatio fails the run when a throughput run's rate is below this
	// share of its same-run ceiling (0: never): a check for CI, set far
	// below the usual ratio so that a loaded machine passes and a
	// regression of 2× does not.
	MinRatio float64
}

// The benchmark's accounts: panels of the plain and the encrypted
// throughput runs, and of the latency runs; all hex, as DC-09 wants.
const (
	plainPattern   = "B%05d"
	aesPattern     = "E%05d"
	latencyPattern = "C%05d"
	latencyPanels  = 20
	benchKeyHex    = "000102030405060708090A0B0C0D0E0F"
)

// exactAnswers fails a run in which a frame went unanswered or was
// refused, or an ACK was not byte-exact: such a run measures something else.
func exactAnswers(rep panel.Report, who string) error {
	if rep.NoAnswer > 0 || rep.NAK > 0 || rep.DUH > 0 || rep.WrongACKs > 0 || rep.ACK == 0 {
		return fmt.Errorf("%s answered %d frames with %d ACK (%d not byte-exact), %d NAK, %d DUH, %d not at all",
			who, rep.Frames, rep.ACK, rep.WrongACKs, rep.NAK, rep.DUH, rep.NoAnswer)
	}
	return nil
}

// Alarms measures the alarm lane end to end on a fresh SQLite file: DC-09
// frames over TCP with ACK after commit from many panels, each on an
// account of its own (plain, then encrypted), against a receiver that
// stores nothing on the same load in the same run (the ceiling); every ACK
// is checked byte for byte. Then the latency of an alarm from the moment
// it was due to its ACK and to a console's SSE stream, idle and while a
// synthetic attendance load writes to the same store.
func Alarms(ctx context.Context, cfg AlarmsConfig, out io.Writer) (err error) {
	var failed error // a ratio below MinRatio: reported after the whole run
	defer func() {
		if err == nil {
			err = failed
		}
	}()
	panels, duration, latencyRate, attendance, sync, codes := cfg.Panels, cfg.Duration, cfg.LatencyRate, cfg.Attendance, cfg.Sync, cfg.Codes
	db, a, done, err := demoStoreOn(ctx, cfg.DatabaseURL, cfg.Dir, "alarms.db", sync, out)
	if err != nil {
		return err
	}
	defer done()
	// One panel per account, spread over the schools: a plain and an
	// encrypted set for the throughput runs, and sets of their own for the
	// latency runs (a second run on the same panels would resend the first
	// run's frames, which the receiver rightly takes as retransmissions).
	var schools []int64
	rows, err := db.Reader().QueryContext(ctx, "SELECT id FROM schools ORDER BY id")
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		schools = append(schools, id)
	}
	rows.Close()
	key, _ := dc09.ParseKeyHex(benchKeyHex)
	keys := dc09.Keys{}
	register := func(tx *store.Tx, pattern string, n int, k []byte) error {
		for i := 1; i <= n; i++ {
			acct := fmt.Sprintf(pattern, i)
			in := registry.DeviceInput{Kind: registry.AlarmPanel, Name: "bench panel " + acct, DC09Account: acct}
			if _, err := registry.InsertDevice(ctx, tx, time.Now().UnixMicro(), schools[i%len(schools)], in, k); err != nil {
				return err
			}
			if k != nil {
				keys[acct] = k
			}
		}
		return nil
	}
	if err := db.InTx(ctx, func(tx *store.Tx) error {
		if err := register(tx, plainPattern, panels, nil); err != nil {
			return err
		}
		if err := register(tx, aesPattern, panels, key); err != nil {
			return err
		}
		return register(tx, latencyPattern, 2*latencyPanels, nil)
	}); err != nil {
		return err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := registry.New(db, a)
	alarms := alarm.New(db, a, quiet)
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	recv, err := dc09gw.New(dc09gw.Config{Addr: "127.0.0.1:0", Logger: quiet, MaxConnsPerSource: 2*panels + 50}, alarms, reg)
	if err != nil {
		return err
	}
	if err := recv.Listen(); err != nil {
		return err
	}
	go recv.Run(runCtx)
	base, closeWeb, err := serveWeb(db, a, reg, alarms, nil, nil, quiet)
	if err != nil {
		return err
	}
	defer closeWeb()
	ceil, err := startCeiling(keys)
	if err != nil {
		return err
	}
	defer ceil.stop()

	// Throughput: every panel as fast as its ACKs come, first against the
	// ceiling (a receiver that stores nothing), then against Qorgan, on
	// the same load; plain, then encrypted.
	for _, mode := range []struct {
		name, pattern, keyHex string
	}{{"plain", plainPattern, ""}, {"AES", aesPattern, benchKeyHex}} {
		load := panel.Config{Panels: panels, AccountPattern: mode.pattern, KeyHex: mode.keyHex, Codes: codes,
			Duration: duration, AckTimeout: 10 * time.Second}
		load.Addr = ceil.Addr()
		spent := costNow()
		top, err := panel.Run(ctx, load, io.Discard)
		if err != nil {
			return err
		}
		topCost := spent.since()
		if err := exactAnswers(top, "the ceiling"); err != nil {
			return err
		}
		var other panel.Report
		if cfg.Compare != "" {
			load.Addr = cfg.Compare
			if other, err = panel.Run(ctx, load, io.Discard); err != nil {
				return err
			}
			if err := exactAnswers(other, cfg.Compare); err != nil {
				return err
			}
		}
		before := recv.Stats()
		load.Addr = recv.Addr()
		// The profiles are of the plain run against Qorgan alone.
		profile := mode.keyHex == ""
		stopProfile := func() error { return nil }
		if profile {
			if stopProfile, err = startProfiles(cfg.CPUProfile, cfg.MemProfile); err != nil {
				return err
			}
		}
		spent = costNow()
		rep, err := panel.Run(ctx, load, io.Discard)
		if err != nil {
			return err
		}
		ourCost := spent.since()
		if err := stopProfile(); err != nil {
			return err
		}
		if err := exactAnswers(rep, "Qorgan"); err != nil {
			return err
		}
		st := recv.Stats()
		commits, frames := st.Commits-before.Commits, st.CommittedFrames-before.CommittedFrames
		mean := 0.0
		if commits > 0 {
			mean = float64(frames) / float64(commits)
		}
		// How much of the run the one committer spent inside commits: near
		// 100% the commit path is what bounds the rate, not the load.
		busy, took := 0.0, time.Duration(0)
		if commits > 0 {
			took = (st.CommitTime - before.CommitTime) / time.Duration(commits)
			busy = 100 * float64(st.CommitTime-before.CommitTime) / float64(rep.Elapsed)
		}
		fmt.Fprintf(out, "throughput, %d %s panels on %d accounts, codes %s: %.0f frames/s with ACK after commit (%d ACK, every one byte-exact); ACK p50 %s, p99 %s; %d commits, mean batch %.0f, mean commit %s, committer busy %.0f%%\n",
			panels, mode.name, panels, strings.Join(codes, ","), rep.FramesPerSecond, rep.ACK, ms(rep.LatencyP50), ms(rep.LatencyP99), commits, mean, ms(took), busy)
		fmt.Fprintf(out, "  ceiling, same load, a receiver that stores nothing (split, parse, echo ACK): %.0f frames/s; ratio %.2f\n",
			top.FramesPerSecond, rep.FramesPerSecond/top.FramesPerSecond)
		if cfg.Compare != "" {
			fmt.Fprintf(out, "  the receiver at %s, same load (every ACK byte-exact): %.0f frames/s; Qorgan's ratio to it %.2f\n",
				cfg.Compare, other.FramesPerSecond, rep.FramesPerSecond/other.FramesPerSecond)
		}
		if ratio := rep.FramesPerSecond / top.FramesPerSecond; ratio < cfg.MinRatio {
			defer func() {
				fmt.Fprintf(out, "FAIL: %s ratio %.2f is below the floor %.2f\n", mode.name, ratio, cfg.MinRatio)
			}()
			failed = fmt.Errorf("bench alarms: the %s ratio to the ceiling is %.2f, below %.2f", mode.name, ratio, cfg.MinRatio)
		}
		fmt.Fprintf(out, "  cost (receiver and simulator together): Qorgan %s; ceiling %s; Qorgan's receiver over the ceiling's: %s\n",
			ourCost.per(rep.ACK, "frame"), topCost.per(top.ACK, "frame"), ourCost.over(rep.ACK, topCost, top.ACK, "frame"))
	}

	// Consoles open with no alarm coming: what keeping them costs.
	if cfg.Consoles > 0 {
		others, err := openConsoles(runCtx, base, db, cfg.Consoles)
		if err != nil {
			return err
		}
		time.Sleep(time.Second) // settled: every stream open and waiting
		spent, quietFor := costNow(), 5*time.Second
		time.Sleep(quietFor)
		quiet := spent.since()
		others.stop()
		fmt.Fprintf(out, "%d consoles open, no alarms: CPU %.1f ms per second (the whole process)\n",
			cfg.Consoles, float64(quiet.cpu.Microseconds())/1e3/quietFor.Seconds())
	}

	// Latency, idle and under attendance load. The console is the admin's
	// live stream; delivery latency is measured from the receiver's
	// timestamp of the frame to the event's arrival.
	for run, load := range []int{0, attendance} {
		// Each run has panels of its own: the simulator numbers its frames
		// from 0001, and the same account, sequence number and event within
		// the retransmission window is one message (a retry), so a second
		// run on the first run's panels would raise no alarm at all.
		accounts := make([]string, latencyPanels)
		for i := range accounts {
			accounts[i] = fmt.Sprintf(latencyPattern, 1+run*len(accounts)+i)
		}
		stopLoad := func() (int, error) { return 0, nil }
		if load > 0 {
			stopLoad = syntheticAttendance(runCtx, db, load)
		}
		others, err := openConsoles(runCtx, base, db, cfg.Consoles)
		if err != nil {
			return err
		}
		sse, err := watchLive(runCtx, base, db)
		if err != nil {
			others.stop()
			return err
		}
		spent := costNow()
		rep, err := panel.Run(ctx, panel.Config{Addr: recv.Addr(), Accounts: accounts, Codes: []string{"PA"},
			Rate: float64(latencyRate), Duration: duration, AckTimeout: 10 * time.Second, FromSchedule: true}, io.Discard)
		if err != nil {
			return err
		}
		if err := exactAnswers(rep, "Qorgan"); err != nil {
			return err
		}
		time.Sleep(500 * time.Millisecond)
		latencyCost := spent.since()
		written, lerr := stopLoad()
		if lerr != nil {
			return lerr
		}
		d := sse.stop()
		otherEvents := others.stop()
		label := "idle"
		if load > 0 {
			label = fmt.Sprintf("under %d attendance events/s (%.0f/s written)", load, float64(written)/duration.Seconds())
		}
		fmt.Fprintf(out, "latency %s: %d alarms; due→ACK p50 %s, p99 %s; frame→SSE p50 %s, p99 %s (%d delivered)\n",
			label, rep.ACK, ms(rep.LatencyP50), ms(rep.LatencyP99), ms(percentile(d, 50)), ms(percentile(d, 99)), len(d))
		if cfg.Consoles > 0 {
			fmt.Fprintf(out, "  with %d other consoles open (%d events reached them); the whole process (receiver, server, simulator, consoles): %s\n",
				cfg.Consoles, otherEvents, latencyCost.per(rep.ACK, "alarm"))
		}
	}
	return nil
}

// syntheticAttendance writes n turnstile-like rows a second into the same
// store, in batches every 10 ms, until stopped; it returns how many it wrote.
// It stands in for the passes intake until that lands.
func syntheticAttendance(ctx context.Context, db *store.DB, n int) func() (int, error) {
	done := make(chan struct{})
	var written int
	var werr error
	var wg sync.WaitGroup
	id := "id INTEGER PRIMARY KEY" // SQLite's rowid
	if db.Dialect == store.Postgres {
		id = "id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
	}
	if _, err := db.W.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS bench_attendance ("+id+", school_id BIGINT, card TEXT, at BIGINT, direction TEXT)"); err != nil {
		return func() (int, error) { return 0, err }
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		per := max(1, n/100)
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			err := db.InTx(ctx, func(tx *store.Tx) error {
				b := tx.NewBulk("bench_attendance", "school_id", "card", "at", "direction")
				now := time.Now().UnixMicro()
				for i := 0; i < per; i++ {
					if err := b.Add(ctx, int64(i%79+1), fmt.Sprintf("%08X", i), now, "in"); err != nil {
						return err
					}
				}
				return b.Flush(ctx)
			})
			if err != nil {
				werr = err
				return
			}
			written += per
		}
	}()
	return func() (int, error) {
		close(done)
		wg.Wait()
		return written, werr
	}
}

// consoles are live streams open only to be served: each counts the
// events it is sent.
type consoles struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	events atomic.Int64
}

// openConsoles opens n live streams, signed in (by API token) as the demo's
// people who may read alarms in turn: the administrator, the analyst, the
// region, the district, the schools' staff, the ПЦН and the ЦОУ.
func openConsoles(ctx context.Context, base string, db *store.DB, n int) (*consoles, error) {
	cctx, cancel := context.WithCancel(ctx)
	c := &consoles{cancel: cancel}
	if n <= 0 {
		return c, nil
	}
	a := auth.New(db)
	users, err := a.ListUsers(ctx)
	if err != nil {
		cancel()
		return nil, err
	}
	var tokens []string
	for _, u := range users {
		p := auth.Principal{UserID: u.ID, Login: u.Login, Role: u.Role, Scope: u.Scope}
		if !p.Can(auth.ReadAlarms) {
			continue
		}
		tok, err := a.CreateAPIToken(ctx, p, "bench-consoles", time.Hour)
		if err != nil {
			cancel()
			return nil, err
		}
		tokens = append(tokens, tok.Token)
	}
	if len(tokens) == 0 {
		cancel()
		return nil, errors.New("consoles: nobody in the demo may read alarms")
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	for i := range n {
		req, _ := http.NewRequestWithContext(cctx, "GET", base+"/api/v1/live", nil)
		req.Header.Set("Authorization", "Bearer "+tokens[i%len(tokens)])
		resp, err := client.Do(req)
		if err == nil && resp.StatusCode != 200 {
			resp.Body.Close()
			err = errors.New(resp.Status)
		}
		if err != nil {
			c.stop()
			return nil, fmt.Errorf("console %d of %d: %w", i+1, n, err)
		}
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			defer resp.Body.Close()
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(make([]byte, 0, 16<<10), 1<<20) // grows as an event needs: a thousand consoles, not a gigabyte
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "data: ") {
					c.events.Add(1)
				}
			}
		}()
	}
	return c, nil
}

// stop closes the streams and returns how many events they were sent.
func (c *consoles) stop() int64 {
	c.cancel()
	c.wg.Wait()
	return c.events.Load()
}

type liveWatch struct {
	cancel context.CancelFunc
	mu     sync.Mutex
	d      []time.Duration
	done   chan struct{}
}

func (w *liveWatch) stop() []time.Duration {
	w.cancel()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.d
}

// watchLive follows the admin's live stream and records, per raised alarm,
// how long after its frame was received it arrived.
func watchLive(ctx context.Context, base string, db *store.DB) (*liveWatch, error) {
	a := auth.New(db)
	users, err := a.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	var admin auth.Principal
	for _, u := range users {
		if u.Login == "admin" {
			admin = auth.Principal{UserID: u.ID, Login: u.Login, Role: u.Role, Scope: u.Scope}
		}
	}
	tok, err := a.CreateAPIToken(ctx, admin, "bench-live", time.Hour)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithCancel(ctx)
	req, _ := http.NewRequestWithContext(cctx, "GET", base+"/api/v1/live", nil)
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		return nil, err
	}
	if resp.StatusCode != 200 {
		cancel()
		return nil, errors.New("live stream: " + resp.Status)
	}
	w := &liveWatch{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			arrived := time.Now()
			var e struct {
				Kind  string `json:"kind"`
				Alarm struct {
					ReceivedAt time.Time `json:"received_at"`
				} `json:"alarm"`
			}
			if json.Unmarshal([]byte(line), &e) == nil && e.Kind == "alarm.raised" {
				w.mu.Lock()
				w.d = append(w.d, arrived.Sub(e.Alarm.ReceivedAt))
				w.mu.Unlock()
			}
		}
	}()
	return w, nil
}
