package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"qorgan/internal/access"
	"qorgan/internal/alarm"
	"qorgan/internal/auth"
	"qorgan/internal/demo"
	"qorgan/internal/ingest/dc09gw"
	"qorgan/internal/notify"
	"qorgan/internal/registry"
	"qorgan/internal/sim/panel"
	"qorgan/internal/store"
	"qorgan/internal/web"
)

// benchPasses measures the attendance lane end to end on a fresh SQLite
// file: passes posted over HTTP by turnstile controllers (stored, presence
// updated, messages queued) against the raw batched insert of the same rows
// in the same run; then a pass's way to its webhook at a fixed rate, with
// alarms measured at the same time.
func benchPasses(ctx context.Context, args []string, out, errOut io.Writer) error {
	var duration time.Duration
	var rate, batch, clients int
	var syncMode, cpuProfile string
	fs := flagSet("bench passes", "Measure the passes intake over HTTP (stored, presence, messages queued) against the raw insert\n"+
		"ceiling, then pass → webhook latency at a fixed rate while alarms are measured too.", errOut)
	fs.DurationVar(&duration, "duration", 10*time.Second, "length of each run")
	fs.IntVar(&rate, "rate", 5000, "passes per second in the latency run")
	fs.IntVar(&batch, "batch", 200, "passes per HTTP request")
	fs.IntVar(&clients, "clients", 8, "concurrent controllers in the throughput run")
	fs.StringVar(&syncMode, "sqlite-sync", "FULL", "SQLite synchronous mode")
	fs.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the throughput run to this file")
	if err := parse(fs, args); err != nil {
		return err
	}
	db, done, err := benchStore(ctx, "", "passes.db", syncMode, out)
	if err != nil {
		return err
	}
	defer done()
	a := auth.New(db)
	if _, err := demo.Load(ctx, db, a, demo.Options{Scale: 0.01}); err != nil {
		return err
	}
	reg := registry.New(db, a)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	// Controllers: every turnstile with a credential, and its school's cards.
	type controller struct {
		token string
		cards []string
	}
	var ctrls []controller
	rows, err := db.Reader().QueryContext(ctx, "SELECT id, school_id FROM devices WHERE kind = 'turnstile' ORDER BY id")
	if err != nil {
		return err
	}
	type dev struct{ id, school int64 }
	var devs []dev
	for rows.Next() {
		var d dev
		rows.Scan(&d.id, &d.school)
		devs = append(devs, d)
	}
	rows.Close()
	seenSchool := map[int64]bool{}
	for _, d := range devs {
		if seenSchool[d.school] {
			continue // one controller per school keeps event ids simple
		}
		seenSchool[d.school] = true
		tok, err := reg.IssueDeviceCredential(ctx, auth.System, d.id)
		if err != nil {
			return err
		}
		c := controller{token: tok}
		r, err := db.Reader().QueryContext(ctx, "SELECT card_uid FROM pupils WHERE school_id = ?", d.school)
		if err != nil {
			return err
		}
		for r.Next() {
			var card string
			r.Scan(&card)
			c.cards = append(c.cards, card)
		}
		r.Close()
		ctrls = append(ctrls, c)
	}

	// The webhook sink records each message's way from the pass.
	var mu sync.Mutex
	var hookLat []time.Duration
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p notify.WebhookPayload
		json.NewDecoder(r.Body).Decode(&p)
		mu.Lock()
		hookLat = append(hookLat, time.Since(p.CreatedAt))
		mu.Unlock()
	}))
	defer sink.Close()
	noop := notify.ChannelFunc(func(context.Context, notify.Message) error { return nil })
	worker := notify.NewWorker(notify.New(db), map[notify.ChannelName]notify.Channel{
		notify.ChannelWebhook: &notify.WebhookChannel{Secret: []byte("bench-secret-bench-secret")},
		notify.ChannelSMS:     noop, notify.ChannelBot: noop, notify.ChannelEmail: noop,
	}, quiet)
	notifier := access.DefaultNotifier()
	notifier.WebhookURL = sink.URL
	notifier.QuietFrom, notifier.QuietTo = 0, 0
	passes := access.New(db)
	passes.OnPasses = notifier.Enqueue
	passes.Committed = worker.Wake
	alarms := alarm.New(db, a, quiet)
	srv := &web.Server{DB: db, Auth: a, Registry: reg, Alarms: alarms, Access: passes, Log: quiet}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv.Handler()}
	go hs.Serve(ln)
	defer hs.Close()
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go worker.Run(runCtx)
	recv, err := dc09gw.New(dc09gw.Config{Addr: "127.0.0.1:0", Logger: quiet}, alarmSink{alarms}, newPanelAccounts(reg))
	if err != nil {
		return err
	}
	if err := recv.Listen(); err != nil {
		return err
	}
	go recv.Run(runCtx)
	base := "http://" + ln.Addr().String()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var seq atomic.Int64
	post := func(c controller, n int) (time.Duration, error) {
		var buf bytes.Buffer
		buf.WriteString(`{"events":[`)
		now := time.Now().UTC().Format(time.RFC3339Nano)
		for i := 0; i < n; i++ {
			if i > 0 {
				buf.WriteByte(',')
			}
			k := seq.Add(1)
			dir := "in"
			if k%3 == 0 {
				dir = "out"
			}
			fmt.Fprintf(&buf, `{"event_id":"b%d","at":%q,"direction":%q,"card_uid":%q}`, k, now, dir, c.cards[int(k)%len(c.cards)])
		}
		buf.WriteString(`]}`)
		req, _ := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/device/passes", &buf)
		req.Header.Set("Authorization", "Bearer "+c.token)
		req.Header.Set("Content-Type", "application/json")
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return 0, fmt.Errorf("passes: %s", resp.Status)
		}
		return time.Since(t0), nil
	}

	// Throughput: controllers post as fast as they are answered.
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		pprof.StartCPUProfile(f)
	}
	spent := costNow()
	var stored atomic.Int64
	var wg sync.WaitGroup
	t0 := time.Now()
	end := t0.Add(duration)
	var perr error
	var errMu sync.Mutex
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := i; time.Now().Before(end); j += clients {
				if _, err := post(ctrls[j%len(ctrls)], batch); err != nil {
					errMu.Lock()
					perr = err
					errMu.Unlock()
					return
				}
				stored.Add(int64(batch))
			}
		}(i)
	}
	wg.Wait()
	if perr != nil {
		return perr
	}
	intake := float64(stored.Load()) / time.Since(t0).Seconds()
	intakeCost := spent.per(stored.Load(), "pass")
	if cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	// The ceiling: the same rows, batched the same way, straight into a
	// table shaped and indexed like passes.
	for _, q := range []string{
		"CREATE TABLE ceiling_passes (id INTEGER PRIMARY KEY, device_id BIGINT, school_id BIGINT, event_id TEXT, at BIGINT, received_at BIGINT, direction TEXT, credential TEXT, person_kind TEXT, person_id BIGINT, manual BOOLEAN, actor TEXT)",
		"CREATE UNIQUE INDEX ceiling_passes_event ON ceiling_passes(school_id, device_id, event_id)",
		"CREATE INDEX ceiling_passes_school_at ON ceiling_passes(school_id, at)",
	} {
		if _, err := db.W.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	n := int(stored.Load())
	t1 := time.Now()
	for done := 0; done < n; done += batch {
		err := db.InTx(ctx, func(tx *store.Tx) error {
			b := tx.NewBulk("ceiling_passes", "device_id", "school_id", "event_id", "at", "received_at", "direction", "credential", "person_kind", "person_id", "manual", "actor")
			now := time.Now().UnixMicro()
			for i := 0; i < batch; i++ {
				if err := b.Add(ctx, 1, 1, fmt.Sprint("c", done+i), now, now, "in", "0A0B0C0D", "pupil", done+i, false, ""); err != nil {
					return err
				}
			}
			return b.Flush(ctx)
		})
		if err != nil {
			return err
		}
	}
	ceiling := float64(n) / time.Since(t1).Seconds()
	fmt.Fprintf(out, "intake over HTTP (%d controllers, %d passes a request; stored, presence, messages queued): %.0f passes/s; raw batched insert ceiling, same run: %.0f rows/s; ratio %.2f\n",
		clients, batch, intake, ceiling, intake/ceiling)
	fmt.Fprintf(out, "  intake cost (server and controllers together): %s\n", intakeCost)

	// Drain the queue the throughput run left, then measure at a fixed rate.
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		var pending int
		db.Reader().QueryRowContext(ctx, "SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending')").Scan(&pending)
		if pending == 0 {
			break
		}
	}
	mu.Lock()
	hookLat = hookLat[:0]
	mu.Unlock()
	var httpLat []time.Duration
	var latMu sync.Mutex
	alarmRep := make(chan panel.Report, 1)
	go func() {
		rep, err := panel.Run(ctx, panel.Config{Addr: recv.Addr(), Panels: 1, Accounts: []string{demo.PlainAccount}, Codes: []string{"PA"},
			Rate: 50, Duration: duration, AckTimeout: 10 * time.Second}, io.Discard)
		if err != nil {
			fmt.Fprintln(errOut, "alarm panels:", err)
		}
		alarmRep <- rep
	}()
	per := batch / 4 // smaller requests, more often, like many controllers
	interval := time.Duration(float64(time.Second) * float64(per) / float64(rate))
	tick := time.NewTicker(interval)
	end = time.Now().Add(duration)
	sent := 0
	for i := 0; time.Now().Before(end); i++ {
		<-tick.C
		wg.Add(1)
		go func(c controller) {
			defer wg.Done()
			d, err := post(c, per)
			if err == nil {
				latMu.Lock()
				httpLat = append(httpLat, d)
				latMu.Unlock()
			}
		}(ctrls[i%len(ctrls)])
		sent += per
	}
	tick.Stop()
	wg.Wait()
	arep := <-alarmRep
	time.Sleep(3 * time.Second) // the last messages on their way
	mu.Lock()
	hl := append([]time.Duration(nil), hookLat...)
	mu.Unlock()
	fmt.Fprintf(out, "at %d passes/s for %s (%d sent): request p50 %s, p99 %s; pass → webhook p50 %s, p99 %s (%d webhooks)\n",
		rate, duration, sent, ms(percentile(httpLat, 50)), ms(percentile(httpLat, 99)), ms(percentile(hl, 50)), ms(percentile(hl, 99)), len(hl))
	fmt.Fprintf(out, "alarms meanwhile: %d ACKed, frame → ACK p50 %s, p99 %s\n", arep.ACK, ms(arep.LatencyP50), ms(arep.LatencyP99))
	return nil
}
