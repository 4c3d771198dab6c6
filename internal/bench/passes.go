package bench

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"

	"qorgan/internal/alarm"
	"qorgan/internal/attendance"
	"qorgan/internal/auth"
	"qorgan/internal/ingest/dc09gw"
	"qorgan/internal/ingest/mqttgw"
	"qorgan/internal/notify"
	"qorgan/internal/registry"
	"qorgan/internal/sim/panel"
	"qorgan/internal/store"
	"qorgan/internal/urgent"
)

// PassesConfig describes a passes run.
type PassesConfig struct {
	Duration time.Duration // length of each run
	Rate     int           // passes per second in the latency run
	Batch    int           // passes per HTTP request
	Clients  int           // concurrent controllers in the throughput run
	Sync     string        // SQLite synchronous mode
	// DatabaseURL runs on PostgreSQL instead: a fresh schema in this
	// database for each run, dropped at the end.
	DatabaseURL string
	CPUProfile  string // file for a CPU profile of the HTTP throughput run; empty: none
	MQTTURL     string // broker for the intake over MQTT; empty: that run is skipped
	// Concurrency is the notification worker's, as the server has it.
	Concurrency int
	// GiveWay has the worker's deliveries give way to the alarms on their
	// way, as the server wires it (false: the worker alone, to compare).
	GiveWay bool
	// MinRatio fails the run when the intake is below this share of the
	// raw insert of its pass rows, measured in the same run (0: never): a
	// check for CI, set far below the usual ratio.
	MinRatio float64
}

// Passes measures the attendance lane end to end on a fresh SQLite file:
// passes posted over HTTP by turnstile controllers (stored, presence
// updated, messages queued) against the raw batched insert of the same rows
// in the same run; then a pass's way to its webhook at a fixed rate, with
// alarms measured at the same time; then, with a broker, the same over MQTT
// on a fresh store.
func Passes(ctx context.Context, cfg PassesConfig, out, errOut io.Writer) error {
	o := passesBench{duration: cfg.Duration, rate: cfg.Rate, batch: cfg.Batch, clients: cfg.Clients, syncMode: cfg.Sync, cpuProfile: cfg.CPUProfile,
		concurrency: cfg.Concurrency, giveWay: cfg.GiveWay, minRatio: cfg.MinRatio, databaseURL: cfg.DatabaseURL}
	if err := o.run(ctx, "", out, errOut); err != nil {
		return err
	}
	if cfg.MQTTURL == "" {
		return nil
	}
	fmt.Fprintln(out, "— the same over MQTT, on a fresh store —")
	o.cpuProfile = "" // the profile is of the HTTP run
	return o.run(ctx, cfg.MQTTURL, out, errOut)
}

// passesBench is one run of bench passes: HTTP intake, its ceilings and
// the latency run; or, with a broker, the MQTT intake and its ceilings.
type passesBench struct {
	duration             time.Duration
	rate, batch, clients int
	syncMode, cpuProfile string
	concurrency          int
	giveWay              bool // the worker gives way to alarms (PassesConfig.GiveWay)
	minRatio             float64
	databaseURL          string // PostgreSQL instead of SQLite
}

func (o passesBench) run(ctx context.Context, mqttURL string, out, errOut io.Writer) error {
	duration, rate, batch, clients, syncMode, cpuProfile := o.duration, o.rate, o.batch, o.clients, o.syncMode, o.cpuProfile
	db, a, done, err := demoStoreOn(ctx, o.databaseURL, "", "passes.db", syncMode, out)
	if err != nil {
		return err
	}
	defer done()
	reg := registry.New(db, a)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	// Controllers: every turnstile with a credential, and its school's cards.
	type controller struct {
		token, mqttID string
		cards         []string
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
		c := controller{token: tok, mqttID: fmt.Sprintf("bench-turnstile-%d-%d", d.id, time.Now().UnixNano())}
		if _, err := db.W.ExecContext(ctx, db.Dialect.Rebind("UPDATE devices SET mqtt_client_id = ? WHERE id = ?"), c.mqttID, d.id); err != nil {
			return err
		}
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

	// The webhook sink records each message's way from the pass, once per
	// message (a retry after a lost answer is not a second sample).
	var mu sync.Mutex
	hookLat := map[string]time.Duration{}
	var hookAt lateBySecond    // when the late ones' passes came
	var sinkConns atomic.Int64 // connections the webhook sink accepted
	sink := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p notify.WebhookPayload
		json.NewDecoder(r.Body).Decode(&p)
		d := time.Since(p.CreatedAt)
		mu.Lock()
		if _, seen := hookLat[p.ID]; !seen {
			hookLat[p.ID] = d
			hookAt.add(p.CreatedAt, d)
		}
		mu.Unlock()
	}))
	sink.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			sinkConns.Add(1)
		}
	}
	sink.Start()
	defer sink.Close()
	noop := notify.ChannelFunc(func(context.Context, notify.Message) error { return nil })
	worker := notify.NewWorker(notify.New(db), map[notify.ChannelName]notify.Channel{
		notify.ChannelWebhook: &notify.WebhookChannel{Secret: []byte("bench-secret-bench-secret")},
		notify.ChannelSMS:     noop, notify.ChannelBot: noop, notify.ChannelEmail: noop,
	}, quiet)
	worker.Concurrency, worker.Batch = o.concurrency, 2*o.concurrency // as serve has them
	alarmsOnTheirWay := new(urgent.Signal)                            // as serve wires it
	if o.giveWay {
		worker.GiveWay = alarmsOnTheirWay
	}
	notifier := attendance.DefaultNotifier()
	notifier.WebhookURL = sink.URL
	notifier.QuietFrom, notifier.QuietTo = 0, 0
	passes := attendance.New(db, notifier, worker.Wake)
	alarms := alarm.New(db, a, quiet)
	alarms.Urgent = alarmsOnTheirWay
	base, closeWeb, err := serveWeb(db, a, reg, alarms, passes, worker.Outbox, quiet)
	if err != nil {
		return err
	}
	defer closeWeb()
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go worker.Run(runCtx)
	recv, err := dc09gw.New(dc09gw.Config{Addr: "127.0.0.1:0", Logger: quiet, Urgent: alarmsOnTheirWay}, alarms, reg)
	if err != nil {
		return err
	}
	if err := recv.Listen(); err != nil {
		return err
	}
	go recv.Run(runCtx)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var seq atomic.Int64
	events := func(buf *bytes.Buffer, c controller, n int) {
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
			fmt.Fprintf(buf, `{"event_id":"b%d","at":%q,"direction":%q,"card_uid":%q}`, k, now, dir, c.cards[int(k)%len(c.cards)])
		}
		buf.WriteString(`]}`)
	}
	post := func(c controller, n int) (time.Duration, error) {
		var buf bytes.Buffer
		events(&buf, c, n)
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

	// Latency first, on a fresh school day: at a steady rate nearly every
	// pass is a pupil's first entry, so nearly every one is told — the
	// morning peak the outbox has to keep up with.
	var probe []string // the alarm panels of both HTTP runs
	if mqttURL == "" {
		var wg sync.WaitGroup
		var httpLat []time.Duration
		var latMu sync.Mutex
		// The alarm probe: panels of their own sending on a fixed schedule,
		// each frame's latency counted from when it was due, so that a slow
		// ACK delays the frames behind it and that delay is measured.
		probe, err = probePanels(ctx, db, 10, 1)
		if err != nil {
			return err
		}
		sse, err := watchLive(runCtx, base, db)
		if err != nil {
			return err
		}
		// The latency run has a profile of its own: where the time of a
		// pass's way to its webhook goes, the outbox's drain included.
		stopLatencyProfile, err := startProfile(profileName(cpuProfile, ".latency"))
		if err != nil {
			return err
		}
		alarmProbe := startProbe(ctx, db, recv, probe, duration, errOut)
		loadBefore, coresBefore := loadAverage(), coresNow()
		mu.Lock()
		hookAt.start = time.Now()
		mu.Unlock()
		per := batch / 4 // smaller requests, more often, like many controllers
		interval := time.Duration(float64(time.Second) * float64(per) / float64(rate))
		tick := time.NewTicker(interval)
		end := time.Now().Add(duration)
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
		coresAfter := coresNow()
		arep, timings := alarmProbe.wait()
		time.Sleep(300 * time.Millisecond) // the last live events on their way
		sseLat := sse.stop()
		// Every message counts: wait until none is left to deliver (or a
		// minute has passed); one still undelivered then counts as late.
		waited, err := drainOutbox(ctx, db, time.Minute)
		stopLatencyProfile()
		if err != nil {
			return err
		}
		var queued int
		if err := db.Reader().QueryRowContext(ctx, "SELECT COUNT(*) FROM outbox WHERE channel = 'webhook'").Scan(&queued); err != nil {
			return err
		}
		mu.Lock()
		hl := make([]time.Duration, 0, max(queued, len(hookLat)))
		for _, d := range hookLat {
			hl = append(hl, d)
		}
		mu.Unlock()
		undelivered := queued - len(hl)
		for range undelivered {
			hl = append(hl, never)
		}
		fmt.Fprintf(out, "at %d passes/s for %s (%d sent: %.0f/s; a loaded machine sends fewer): request p50 %s, p99 %s; pass → webhook over all %d messages: p50 %s, p99 %s, max %s (%d undelivered; the last delivered %s after the last pass)\n",
			rate, duration, sent, float64(sent)/duration.Seconds(), ms(percentile(httpLat, 50)), ms(percentile(httpLat, 99)), queued, late(percentile(hl, 50)), late(percentile(hl, 99)), late(percentile(hl, 100)),
			max(undelivered, 0), waited.Round(10*time.Millisecond))
		fmt.Fprintf(out, "  the machine's load average (1 min) at the start and the end of the run: %s, %s; %s\n", loadBefore, loadAverage(), coresAfter.since(coresBefore))
		mu.Lock()
		fmt.Fprintf(out, "  %s\n", hookAt.String())
		mu.Unlock()
		if err := outboxSplit(ctx, db, out); err != nil {
			return err
		}
		ws := worker.Stats()
		fmt.Fprintf(out, "  the worker: %d messages claimed in %d claims (%.0f a claim), outcomes recorded with the claims and in %d transactions of their own: %.1f write transactions per 1,000 messages; the webhooks came over %d connections\n",
			ws.Claimed, ws.Claims, float64(ws.Claimed)/float64(max(ws.Claims, 1)), ws.Finishes, 1000*float64(ws.Claims+ws.Finishes)/float64(max(ws.Claimed, 1)), sinkConns.Load())
		fmt.Fprintf(out, "alarms meanwhile (%d panels, 50/s on a fixed schedule): %d ACKed (%d not byte-exact, %d unanswered), due → ACK p50 %s, p99 %s; frame → SSE p50 %s, p99 %s (%d delivered)\n",
			len(probe), arep.ACK, arep.WrongACKs, arep.NoAnswer, ms(arep.LatencyP50), ms(arep.LatencyP99), ms(percentile(sseLat, 50)), ms(percentile(sseLat, 99)), len(sseLat))
		fmt.Fprintf(out, "  %s\n", alarmProbe.lateLine())
		fmt.Fprintf(out, "  %s\n", alarmProbe.crowded)
		fmt.Fprintf(out, "  %s\n", alarmProbe.lagLine())
		writerLines(out, timings)
	}

	// The throughput run starts with the queue the latency run left drained.
	if _, err := drainOutbox(ctx, db, 2*time.Minute); err != nil {
		return err
	}

	// Throughput: controllers post as fast as they are answered.
	stopProfile, err := startProfile(cpuProfile)
	if err != nil {
		return err
	}
	// The full-speed run's alarm panels, registered before it starts.
	var fullPanels []string
	if clients > 0 && probe != nil && mqttURL == "" {
		if fullPanels, err = probePanels(ctx, db, len(probe), len(probe)+1); err != nil {
			return err
		}
	}
	spent := costNow()
	var stored atomic.Int64
	var wg sync.WaitGroup
	t0 := time.Now()
	end := t0.Add(duration)
	var perr error
	var errMu sync.Mutex
	over, unit := "HTTP", "request"
	if mqttURL != "" {
		over, unit = "MQTT", "message"
		n, took, err := benchPassesMQTT(ctx, mqttURL, passes, alarms, reg, quiet, len(ctrls), duration, clients, batch,
			func(i int) string { return ctrls[i].mqttID }, func(buf *bytes.Buffer, i, n int) { events(buf, ctrls[i], n) })
		if err != nil {
			fmt.Fprintf(out, "intake over MQTT: not measured: %v\n", err)
			return nil
		}
		stored.Store(n)
		t0 = time.Now().Add(-took) // the rate over the publishing, not the gateway's start
		clients = 0                // the HTTP controllers stay idle
	}
	// Alarms meanwhile, as in the latency run: with the controllers
	// posting as fast as they are answered, the intake's groups are large
	// (several requests a transaction), and an alarm must not wait for a
	// whole group (attendance.yieldPasses).
	var fullProbe *alarmProbe
	if fullPanels != nil && clients > 0 {
		fullProbe = startProbe(ctx, db, recv, fullPanels, time.Until(end), errOut)
	}
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
	intakeCost := spent.since().per(stored.Load(), "pass")
	stopProfile()
	var fullAlarms panel.Report
	var fullTimings map[string]store.Timing
	if fullProbe != nil {
		fullAlarms, fullTimings = fullProbe.wait()
	}
	// The ceilings are measured with the worker idle: while it still
	// delivers the run's messages it competes for the same writer and
	// cores, which slows the ceiling and flatters the ratio.
	drained, err := drainOutbox(ctx, db, 5*time.Minute)
	if err != nil {
		return err
	}
	// The ceilings, in the same run: the rows the intake wrote, inserted
	// raw into tables shaped and indexed the same, one transaction for
	// each request's worth. First the pass rows alone, then every row the
	// intake wrote for them (passes, presence, queued messages).
	n := stored.Load()
	requests := int(n) / batch
	passesOnly, _, err := rawCeiling(ctx, db, []string{"passes"}, requests, "c1_")
	if err != nil {
		return fmt.Errorf("ceiling: %w", err)
	}
	allRows, written, err := rawCeiling(ctx, db, []string{"passes", "presence", "outbox"}, requests, "c2_")
	if err != nil {
		return fmt.Errorf("ceiling: %w", err)
	}
	fmt.Fprintf(out, "intake over %s (%d clients, %d passes a %s; stored, presence, messages queued): %.0f passes/s\n", over, o.clients, batch, unit, intake)
	fmt.Fprintf(out, "  intake cost (server and controllers together): %s\n", intakeCost)
	if fullProbe != nil {
		fmt.Fprintf(out, "  alarms meanwhile (10 panels, 50/s on a fixed schedule): %d ACKed (%d not byte-exact, %d unanswered), due → ACK p50 %s, p99 %s\n",
			fullAlarms.ACK, fullAlarms.WrongACKs, fullAlarms.NoAnswer, ms(fullAlarms.LatencyP50), ms(fullAlarms.LatencyP99))
		fmt.Fprintf(out, "    %s\n", fullProbe.lateLine())
		fmt.Fprintf(out, "    %s\n", fullProbe.crowded)
		fmt.Fprintf(out, "    %s\n", fullProbe.lagLine())
		writerLines(out, fullTimings)
	}
	fmt.Fprintf(out, "  (the ceilings below measured after the outbox drained, %s after the intake ended)\n", drained.Round(10*time.Millisecond))
	fmt.Fprintf(out, "  ceiling, raw batched insert of the pass rows alone: %.0f passes/s; ratio %.2f\n", float64(n)/passesOnly.Seconds(), intake/(float64(n)/passesOnly.Seconds()))
	fmt.Fprintf(out, "  ceiling, raw batched insert of every row the intake wrote (%s): %.0f passes/s; ratio %.2f\n", written, float64(n)/allRows.Seconds(), intake/(float64(n)/allRows.Seconds()))
	if ratio := intake / (float64(n) / passesOnly.Seconds()); ratio < o.minRatio {
		fmt.Fprintf(out, "FAIL: the intake over %s is %.2f of the pass rows' ceiling, below the floor %.2f\n", over, ratio, o.minRatio)
		return fmt.Errorf("bench passes: intake over %s at %.2f of its ceiling, below %.2f", over, ratio, o.minRatio)
	}

	return nil
}

// copySQLiteTable creates prefix+t with t's own DDL: columns, keys and
// indexes (renamed with prefix).
func copySQLiteTable(ctx context.Context, db *store.DB, t, prefix string, index *regexp.Regexp) error {
	ddl, err := store.Collect(ctx, db.Reader(), func(r *sql.Rows) (string, error) {
		var s string
		return s, r.Scan(&s)
	}, "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL ORDER BY type DESC", t)
	if err != nil {
		return err
	}
	for _, q := range ddl {
		if strings.HasPrefix(q, "CREATE TABLE") {
			q = strings.Replace(q, "CREATE TABLE "+t, "CREATE TABLE "+prefix+t, 1)
		} else {
			q = index.ReplaceAllString(q, "${1}"+prefix+"${2}${3}"+prefix+"${4}")
		}
		if _, err := db.W.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// rawCeiling copies what tables hold into fresh tables with the same columns
// and indexes (named with prefix), split evenly over the given number of
// transactions as multi-row inserts, and returns the time the inserts took
// and how many rows of each table were written.
func rawCeiling(ctx context.Context, db *store.DB, tables []string, txs int, prefix string) (time.Duration, string, error) {
	type copyOf struct {
		name string
		cols []string
		rows [][]any
	}
	index := regexp.MustCompile(`^(CREATE (?:UNIQUE )?INDEX )(\w+)( ON )(\w+)`)
	var copies []copyOf
	var counts []string
	pg := db.Dialect == store.Postgres
	for _, t := range tables {
		var cols []string
		var err error
		order := "rowid"
		if pg {
			// The same columns, defaults, constraints and indexes (not the
			// identity: the copy takes the rows' own ids).
			if _, err := db.W.ExecContext(ctx, "CREATE TABLE "+prefix+t+" (LIKE "+t+" INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)"); err != nil {
				return 0, "", fmt.Errorf("copy %s: %w", t, err)
			}
			cols, err = store.Collect(ctx, db.Reader(), func(r *sql.Rows) (string, error) {
				var s string
				return s, r.Scan(&s)
			}, "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position", t)
			order = "1"
		} else {
			if err := copySQLiteTable(ctx, db, t, prefix, index); err != nil {
				return 0, "", err
			}
			cols, err = store.Collect(ctx, db.Reader(), func(r *sql.Rows) (string, error) {
				var s string
				return s, r.Scan(&s)
			}, "SELECT name FROM pragma_table_info(?) ORDER BY cid", t)
		}
		if err != nil {
			return 0, "", err
		}
		rows, err := db.Reader().QueryContext(ctx, "SELECT "+strings.Join(cols, ", ")+" FROM "+t+" ORDER BY "+order)
		if err != nil {
			return 0, "", err
		}
		c := copyOf{name: prefix + t, cols: cols}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return 0, "", err
			}
			c.rows = append(c.rows, vals)
		}
		rows.Close()
		copies = append(copies, c)
		counts = append(counts, fmt.Sprintf("%d %s", len(c.rows), t))
	}
	txs = max(txs, 1)
	t0 := time.Now()
	for i := range txs {
		err := db.InTx(ctx, func(tx *store.Tx) error {
			for _, c := range copies {
				from, to := len(c.rows)*i/txs, len(c.rows)*(i+1)/txs
				if from == to {
					continue
				}
				b := tx.NewBulk(c.name, c.cols...)
				for _, r := range c.rows[from:to] {
					if err := b.Add(ctx, r...); err != nil {
						return err
					}
				}
				if err := b.Flush(ctx); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return 0, "", err
		}
	}
	return time.Since(t0), strings.Join(counts, ", "), nil
}

// benchPassesMQTT has controllers publish batches of passes over MQTT (QoS
// 1) to a gateway on the same store, as fast as the gateway takes them, for
// the duration, and returns when the last batch is stored, with the number
// of passes sent.
func benchPassesMQTT(ctx context.Context, broker string, passes *attendance.Service, alarms *alarm.Service, reg *registry.Registry,
	log *slog.Logger, ctrls int, duration time.Duration, clients, batch int, clientID func(int) string, events func(*bytes.Buffer, int, int)) (int64, time.Duration, error) {
	u, err := url.Parse(broker)
	if err != nil {
		return 0, 0, err
	}
	if c, err := net.DialTimeout("tcp", u.Host, 2*time.Second); err != nil {
		return 0, 0, fmt.Errorf("no broker at %s", u.Host)
	} else {
		c.Close()
	}
	tag := fmt.Sprintf("bench-%d", time.Now().UnixNano())
	gw, err := mqttgw.New(mqttgw.Config{Broker: broker, ClientID: "qorgan-" + tag, ShareGroup: tag, TopicPrefix: "qorgan-" + tag, Passes: passes, Logger: log}, alarms, reg)
	if err != nil {
		return 0, 0, err
	}
	gwCtx, stopGW := context.WithCancel(ctx)
	defer stopGW()
	go gw.Run(gwCtx)
	for deadline := time.Now().Add(10 * time.Second); gw.Stats().Connects == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			return 0, 0, fmt.Errorf("the gateway did not connect to %s", broker)
		}
	}
	time.Sleep(200 * time.Millisecond) // the subscription in place
	before := gw.Stats().Handled
	var published atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	t0 := time.Now()
	end := t0.Add(duration)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ci := i % ctrls
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			cm, err := autopaho.NewConnection(cctx, autopaho.ClientConfig{ServerUrls: []*url.URL{u}, KeepAlive: 30, CleanStartOnInitialConnection: true,
				ClientConfig: paho.ClientConfig{ClientID: fmt.Sprintf("%s-publisher-%d", tag, i)}})
			if err != nil {
				firstErr.CompareAndSwap(nil, err)
				return
			}
			defer cm.Disconnect(context.Background())
			if err := cm.AwaitConnection(cctx); err != nil {
				firstErr.CompareAndSwap(nil, err)
				return
			}
			for time.Now().Before(end) {
				// Keep a few batches a controller ahead of the gateway:
				// sustained intake, not a backlog at the broker.
				for published.Load()-int64(gw.Stats().Handled-before) > int64(8*clients) {
					time.Sleep(time.Millisecond)
				}
				var buf bytes.Buffer
				// Like the HTTP run, each publisher speaks for every
				// clients-th controller in turn (a concentrator).
				events(&buf, ci, batch)
				topic := "qorgan-" + tag + "/devices/" + clientID(ci) + "/passes"
				ci = (ci + clients) % ctrls
				if _, err := cm.Publish(cctx, &paho.Publish{Topic: topic, QoS: 1, Payload: buf.Bytes()}); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				published.Add(1)
			}
		}(i)
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return 0, 0, err
	}
	for deadline := time.Now().Add(time.Minute); int64(gw.Stats().Handled-before) < published.Load(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			return 0, 0, fmt.Errorf("the gateway handled %d of %d batches", gw.Stats().Handled-before, published.Load())
		}
	}
	if st := gw.Stats(); st.Failed > 0 || st.Malformed > 0 || st.UnknownDevices > 0 {
		return 0, 0, fmt.Errorf("gateway: %+v", st)
	}
	return published.Load() * int64(batch), time.Since(t0), nil
}

// profileName is path with suffix, or empty for no profile.
func profileName(path, suffix string) string {
	if path == "" {
		return ""
	}
	return path + suffix
}

// never stands for a message not delivered by the end of a run: it sorts
// after every real latency, so it counts as late in the percentiles.
const never = time.Duration(1<<63 - 1)

// late writes a latency, or "undelivered" for never.
func late(d time.Duration) string {
	if d == never {
		return "undelivered"
	}
	return ms(d)
}

// drainOutbox waits until no message is pending or being sent, at most
// limit, and returns how long it waited; still not drained by then is an
// error (the worker is stuck: no figure after it would be honest).
func drainOutbox(ctx context.Context, db *store.DB, limit time.Duration) (time.Duration, error) {
	t0 := time.Now()
	for {
		var pending int
		if err := db.Reader().QueryRowContext(ctx, "SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending')").Scan(&pending); err != nil {
			return 0, err
		}
		if pending == 0 {
			return time.Since(t0), nil
		}
		if time.Since(t0) > limit {
			return 0, fmt.Errorf("the outbox still holds %d messages after %s", pending, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// alarmProbe is the alarm panels sending beside a run, on a fixed
// schedule, each frame's latency counted from when it was due (so that a
// slow ACK delays the frames behind it and that delay is measured), with
// the store's and the receiver's timings over the same span.
type alarmProbe struct {
	rep     chan panel.Report
	db      *store.DB
	recv    *dc09gw.Receiver
	before  map[string]store.Timing
	commits store.Timing
	mu      sync.Mutex
	late    *lateBySecond     // the alarms over 25 ms, by the second they were due
	lags    []time.Duration   // each frame's due → written: the probe's own lateness
	crowded *crowdingBySecond // how crowded the cores were, by second
}

// lateLine says when the run's late alarms were due.
func (p *alarmProbe) lateLine() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.late.String()
}

// lagLine says how late the probe itself wrote its frames: the panels'
// goroutines share this process's two cores with the load and the server,
// and a frame written late counts in its due → ACK though the receiver
// had not seen it yet. Each panel sends every 200 ms and waits for its
// answer first (panel.Config.Written), so while every answer comes within
// 200 ms the lag is the sender's own.
func (p *alarmProbe) lagLine() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return fmt.Sprintf("the probe's own lateness, due → frame written (%d frames; part of due → ACK, before the receiver sees the frame): p50 %s, p99 %s, max %s",
		len(p.lags), ms(percentile(p.lags, 50)), ms(percentile(p.lags, 99)), ms(percentile(p.lags, 100)))
}

// startProbe starts the panels of accounts at 50 frames/s for duration.
func startProbe(ctx context.Context, db *store.DB, recv *dc09gw.Receiver, accounts []string, duration time.Duration, errOut io.Writer) *alarmProbe {
	p := &alarmProbe{rep: make(chan panel.Report, 1), db: db, recv: recv, before: db.Timings(), commits: store.TimingOf(recv.CommitTimes()),
		late: alarmsLate()}
	p.late.start = time.Now()
	p.crowded = watchCrowding(ctx, duration)
	go func() {
		rep, err := panel.Run(ctx, panel.Config{Addr: recv.Addr(), Accounts: accounts, Codes: []string{"PA"},
			Rate: 50, Duration: duration, AckTimeout: 10 * time.Second, FromSchedule: true,
			Answered: func(due time.Time, d time.Duration) {
				p.mu.Lock()
				p.late.add(due, d)
				p.mu.Unlock()
			},
			Written: func(_ time.Time, lag time.Duration) {
				p.mu.Lock()
				p.lags = append(p.lags, lag)
				p.mu.Unlock()
			}}, io.Discard)
		if err != nil {
			fmt.Fprintln(errOut, "alarm panels:", err)
		}
		p.rep <- rep
	}()
	return p
}

// wait returns the panels' report and the timings of their run.
func (p *alarmProbe) wait() (panel.Report, map[string]store.Timing) {
	rep := <-p.rep
	p.crowded.wait()
	t := sinceTimings(p.db.Timings(), p.before)
	t["dc09_commit_seconds"] = store.TimingOf(p.recv.CommitTimes()).Since(p.commits)
	return rep, t
}

// probePanels registers n alarm panels on accounts of their own ("D00001"…
// from first) for the alarm probe that runs beside the passes, and returns
// the accounts. Each run gets panels of its own: a panel numbers its frames
// from 0001 again, and the same number and event from the same account
// within ten minutes is a retransmission, acknowledged and not stored.
func probePanels(ctx context.Context, db *store.DB, n, first int) ([]string, error) {
	var school int64
	if err := db.Reader().QueryRowContext(ctx, "SELECT MIN(id) FROM schools").Scan(&school); err != nil {
		return nil, err
	}
	accounts := make([]string, n)
	err := db.InTx(ctx, func(tx *store.Tx) error {
		for i := range accounts {
			accounts[i] = fmt.Sprintf("D%05d", first+i)
			in := registry.DeviceInput{Kind: registry.AlarmPanel, Name: "probe panel " + accounts[i], DC09Account: accounts[i]}
			if _, err := registry.InsertDevice(ctx, tx, time.Now().UnixMicro(), school, in, nil); err != nil {
				return err
			}
		}
		return nil
	})
	return accounts, err
}

// outboxSplit prints where the webhook messages' time went, from what the
// outbox recorded: from the pass's intake (created_at) to the claim that
// took the message for the last time (next_attempt_at, which the claim set
// to its lease's end, less the worker's 30 s lease), and from that claim to
// the delivery recorded (sent_at: the last of its claim's deliveries
// recorded together).
func outboxSplit(ctx context.Context, db *store.DB, out io.Writer) error {
	const lease = 30 * time.Second
	var toClaim, toSent []time.Duration
	err := store.Each(ctx, db.Reader(), func(r *sql.Rows) error {
		var created, leaseUntil, sent int64
		if err := r.Scan(&created, &leaseUntil, &sent); err != nil { // leaseUntil: next_attempt_at
			return err
		}
		claimed := leaseUntil - lease.Microseconds()
		toClaim = append(toClaim, time.Duration(claimed-created)*time.Microsecond)
		toSent = append(toSent, time.Duration(sent-claimed)*time.Microsecond)
		return nil
	}, "SELECT created_at, next_attempt_at, sent_at FROM outbox WHERE channel = 'webhook' AND status = 'sent'")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "  where the webhooks' time went: intake → claim p50 %s, p99 %s; claim → delivered p50 %s, p99 %s\n",
		ms(percentile(toClaim, 50)), ms(percentile(toClaim, 99)), ms(percentile(toSent, 50)), ms(percentile(toSent, 99)))
	return nil
}

// lateBySecond counts the messages delivered more than lateAfter after
// their pass, by the second of the run their pass came in: whether the
// tail is a stretch of the run (the first seconds, when every pass is a
// pupil's first entry of the day and nearly every one is told) or spread
// over all of it.
//
// The zero value counts messages; alarmsLate counts the alarm probe's
// frames the same way, by the second they were due.
type lateBySecond struct {
	start time.Time
	late  map[int]int // second of the run → messages late
	n     int
	// after, what and when, when set: the threshold, what is counted
	// ("alarms over %s from due to ACK") and when it came ("due").
	after      time.Duration
	what, when string
}

const lateAfter = 200 * time.Millisecond

// alarmsLate counts the alarms answered more than the goal of 25 ms after
// they were due, by the second of the run they were due in.
func alarmsLate() *lateBySecond {
	return &lateBySecond{after: 25 * time.Millisecond, what: "alarms over %s from due to ACK", when: "due"}
}

func (l *lateBySecond) threshold() time.Duration {
	if l.after > 0 {
		return l.after
	}
	return lateAfter
}

func (l *lateBySecond) add(passAt time.Time, d time.Duration) {
	if d <= l.threshold() || l.start.IsZero() {
		return
	}
	if l.late == nil {
		l.late = map[int]int{}
	}
	l.late[int(passAt.Sub(l.start)/time.Second)]++
	l.n++
}

// topSeconds is the ten of secs (seconds of a run, in order) that weigh
// most by weight, in order: the ones a line names.
func topSeconds(secs []int, weight func(int) float64) []int {
	top := slices.Clone(secs)
	slices.SortStableFunc(top, func(a, b int) int { return cmp.Compare(weight(b), weight(a)) })
	top = top[:min(10, len(top))]
	slices.Sort(top)
	return top
}

// String says it in one line: "messages over 200 ms: 5,120, their passes
// in seconds 0–2 of the run (0: 1,700, 1: 2,100, 2: 1,320)", the busiest
// ten seconds named.
func (l *lateBySecond) String() string {
	what, when := "messages over %s after their pass", "their passes"
	if l.what != "" {
		what, when = l.what, l.when
	}
	what = fmt.Sprintf(what, ms(l.threshold()))
	if l.n == 0 {
		return what + ": none"
	}
	secs := make([]int, 0, len(l.late))
	for s := range l.late {
		secs = append(secs, s)
	}
	slices.Sort(secs)
	var parts []string
	for _, s := range topSeconds(secs, func(s int) float64 { return float64(l.late[s]) }) {
		parts = append(parts, fmt.Sprintf("%d: %d", s, l.late[s]))
	}
	return fmt.Sprintf("%s: %d, %s in %d seconds of the run from second %d to %d (%s)",
		what, l.n, when, len(secs), secs[0], secs[len(secs)-1], strings.Join(parts, ", "))
}
