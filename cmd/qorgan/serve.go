package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"runtime"
	"strings"
	"time"

	"qorgan/internal/access"
	"qorgan/internal/alarm"
	"qorgan/internal/auth"
	"qorgan/internal/demo"
	"qorgan/internal/ingest/dc09gw"
	"qorgan/internal/ingest/mqttgw"
	"qorgan/internal/registry"
	"qorgan/internal/store"
	"qorgan/internal/transfer"
	"qorgan/internal/web"
)

// dbFlags choose the database for every command that needs one.
type dbFlags struct {
	url  string
	path string
	sync string
}

func (d *dbFlags) register(fs *flag.FlagSet, defaultPath string) {
	fs.StringVar(&d.url, "database-url", "", "PostgreSQL URL (postgres://…); empty means the embedded SQLite file")
	fs.StringVar(&d.path, "db", defaultPath, "SQLite database file")
	fs.StringVar(&d.sync, "sqlite-sync", "FULL", "SQLite synchronous mode: FULL (survives power loss) or NORMAL")
}

func (d *dbFlags) open(ctx context.Context) (*store.DB, error) {
	db, err := store.Open(ctx, store.Config{URL: d.url, Path: d.path, Synchronous: d.sync})
	if err != nil {
		return nil, err
	}
	if err := registry.SeedRegions(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// describe names the database without its password.
func (d *dbFlags) describe() string {
	if d.url == "" {
		return "sqlite:" + d.path
	}
	u, err := url.Parse(d.url)
	if err != nil {
		return "postgres (unparsable URL)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "***")
	}
	return u.Redacted()
}

// serveFlags are the server's settings.
type serveFlags struct {
	db              dbFlags
	addr            string
	logLevel        string
	logFormat       string
	secureCookies   bool
	proxies         string
	passwordWorkers int
	trusted         []netip.Prefix
	t1, t2          time.Duration
	dc09Addr        string
	dc09Past        time.Duration
	dc09Future      time.Duration
	dc09PerSource   int
	dc09FirstFrame  time.Duration
	mqttURL         string
	mqttClientID    string
	mqttUser        string
	mqttPassword    string
	mqttPrefix      string
	keepPasses      time.Duration
	keepImports     time.Duration
	keepUnlinked    time.Duration
	notify          notifyFlags
}

func (s *serveFlags) register(fs *flag.FlagSet, defaultDB string) {
	s.db.register(fs, defaultDB)
	fs.StringVar(&s.addr, "addr", "127.0.0.1:8080", "HTTP listen address (host:port; port 0 picks a free one)")
	fs.StringVar(&s.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&s.logFormat, "log-format", "text", "log format: text or json")
	fs.BoolVar(&s.secureCookies, "secure-cookies", false, "mark cookies Secure (set behind a TLS-terminating proxy)")
	fs.IntVar(&s.passwordWorkers, "password-workers", max(1, runtime.NumCPU()/2), "password checks (argon2id, 64 MiB each) run at once, each in a child process at a lower CPU priority; more sign-ins wait or are answered 503")
	fs.StringVar(&s.proxies, "trusted-proxies", "", "comma-separated addresses or CIDR prefixes of the reverse proxies in front of Qorgan, whose X-Forwarded-For names the client (for the sign-in limits per address); empty: the connection's peer is the client")
	fs.DurationVar(&s.t1, "escalate-after", alarm.DefaultT1, "escalate an alarm the ПЦН has not acknowledged after this long (T1)")
	fs.DurationVar(&s.t2, "escalate-again-after", alarm.DefaultT2, "escalate to the next level after this long (T2)")
	fs.StringVar(&s.dc09Addr, "dc09-addr", "127.0.0.1:10001", "SIA DC-09 receiver address, TCP and UDP (empty: no receiver)")
	fs.DurationVar(&s.dc09Past, "dc09-window-past", 40*time.Second, "how old an encrypted DC-09 frame's timestamp may be")
	fs.DurationVar(&s.dc09Future, "dc09-window-future", 20*time.Second, "how far ahead an encrypted DC-09 frame's timestamp may be")
	s.notify.register(fs)
	fs.StringVar(&s.mqttURL, "mqtt-url", "", "MQTT broker for device alarms (mqtt://host:1883, mqtts://…); empty: none")
	fs.StringVar(&s.mqttClientID, "mqtt-client-id", "", "this node's MQTT client id; keep it stable across restarts (default qorgan-<hostname>)")
	fs.StringVar(&s.mqttUser, "mqtt-username", "", "MQTT user name")
	fs.StringVar(&s.mqttPrefix, "mqtt-topic-prefix", "qorgan/v1", "MQTT topic prefix: devices publish to <prefix>/devices/<client id>/alarm")
	fs.StringVar(&s.mqttPassword, "mqtt-password", "", "MQTT password")
	fs.DurationVar(&s.keepUnlinked, "keep-unlinked", 30*24*time.Hour, "how long a guardian taken off the list of their last child is kept (with consent dates, settings and sign-in) before being deleted, so that a mistaken import can be put right")
	fs.DurationVar(&s.keepImports, "keep-imports", 30*24*time.Hour, "how long the record of finished imports is kept (a refused file's report quotes its bad cells: phone numbers, e-mail addresses)")
	fs.DurationVar(&s.keepPasses, "keep-passes", 400*24*time.Hour, "how long turnstile passes and daily presence are kept before they are deleted (children's personal data; default a school year and the summer after it)")
	fs.IntVar(&s.dc09PerSource, "dc09-max-conns-per-source", 512, "open DC-09 TCP connections allowed from one IP address (panels behind one NAT share it); when full, the oldest connection that has sent no frame from a registered account makes room")
	fs.DurationVar(&s.dc09FirstFrame, "dc09-first-frame-timeout", 10*time.Second, "close a DC-09 TCP connection that has sent no frame from a registered account this long after it opened")
}

func (s *serveFlags) validate() error {
	if s.passwordWorkers < 1 || s.passwordWorkers > 64 {
		return fmt.Errorf("--password-workers must be between 1 and 64, not %d", s.passwordWorkers)
	}
	s.trusted = nil
	for _, p := range strings.Split(s.proxies, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			a, aerr := netip.ParseAddr(p)
			if aerr != nil {
				return fmt.Errorf("--trusted-proxies: %q is neither an address nor a CIDR prefix", p)
			}
			pfx = netip.PrefixFrom(a, a.BitLen())
		}
		s.trusted = append(s.trusted, pfx.Masked())
	}
	if s.t1 <= 0 || s.t2 <= s.t1 {
		return fmt.Errorf("--escalate-after (%s) must be positive and less than --escalate-again-after (%s)", s.t1, s.t2)
	}
	if s.notify.lease < time.Second {
		return fmt.Errorf("--message-lease must be at least 1s, not %s", s.notify.lease)
	}
	if s.notify.concurrency < 1 || s.notify.concurrency > 10000 {
		return fmt.Errorf("--message-concurrency must be between 1 and 10000, not %d", s.notify.concurrency)
	}
	if c := s.notify.channelConcurrency; c < 0 || c > s.notify.concurrency {
		return fmt.Errorf("--message-channel-concurrency must be between 0 (three quarters of --message-concurrency) and --message-concurrency (%d), not %d", s.notify.concurrency, c)
	}
	if s.keepUnlinked < time.Hour {
		return fmt.Errorf("--keep-unlinked must be at least 1h, not %s", s.keepUnlinked)
	}
	if s.keepImports < time.Hour {
		return fmt.Errorf("--keep-imports must be at least 1h (a running import's status is read from it), not %s", s.keepImports)
	}
	if s.keepPasses < 24*time.Hour {
		return fmt.Errorf("--keep-passes must be at least 24h (today's presence is needed), not %s", s.keepPasses)
	}
	if s.dc09FirstFrame < time.Second || s.dc09FirstFrame > 2*time.Minute {
		return fmt.Errorf("--dc09-first-frame-timeout must be between 1s and 2m, not %s", s.dc09FirstFrame)
	}
	if s.notify.notArrivedEvery < 0 {
		return fmt.Errorf("--not-arrived-every must be a positive duration or 0 (never on this node), not %s", s.notify.notArrivedEvery)
	}
	return nil
}

func runServe(ctx context.Context, args []string, out, errOut io.Writer) error {
	var f serveFlags
	fs := flagSet("serve", "Run the Qorgan server.", errOut)
	f.register(fs, "qorgan.db")
	if err := parse(fs, args); err != nil {
		return err
	}
	log, err := newLogger(errOut, f.logLevel, f.logFormat)
	if err != nil {
		return err
	}
	if err := f.validate(); err != nil {
		return err
	}
	db, err := f.db.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	return serve(ctx, f, db, log, out, nil)
}

// serve runs the HTTP server until ctx ends, then shuts down gracefully.
// ready, if set, is called with the bound address before serving.
func serve(ctx context.Context, f serveFlags, db *store.DB, log *slog.Logger, out io.Writer, ready func(addr string)) error {
	a := auth.New(db)
	if f.passwordWorkers > 0 {
		// Password checks run in child processes of this binary at a lower
		// priority, so that a flood of sign-ins cannot slow the alarms.
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("password workers: %w", err)
		}
		workers, err := auth.StartPasswordWorkers(exe, []string{passwordWorkerCommand}, nil, f.passwordWorkers)
		if err != nil {
			return err
		}
		defer workers.Close()
		a.LimitSignIns(auth.SignInLimits{Checks: f.passwordWorkers})
		a.UsePasswordWorkers(workers)
	}
	reg := registry.New(db, a)
	alarms := alarm.New(db, a, log)
	alarms.T1, alarms.T2 = f.t1, f.t2
	jobs := transfer.NewJobs(reg)
	worker, err := newNotifyWorker(db, &f.notify, log)
	if err != nil {
		return err
	}
	notifier := access.DefaultNotifier()
	notifier.WebhookURL = f.notify.webhookURL
	if notifier.QuietFrom, notifier.QuietTo, err = f.notify.quiet(); err != nil {
		return err
	}
	notifier.Queued = worker.Wake
	passes := access.New(db)
	passes.OnPasses = notifier.Enqueue
	passes.Committed = worker.Wake
	reg.Records = []registry.PupilRecords{passes, worker.Outbox}
	srv := &web.Server{DB: db, Auth: a, Registry: reg, Alarms: alarms, Jobs: jobs, Access: passes, Log: log, SecureCookies: f.secureCookies, TrustedProxies: f.trusted}
	runCtx, stopRun := context.WithCancel(context.Background())
	defer stopRun()
	go alarms.Run(runCtx)
	// The worker stops first, at the signal, while the rest shuts down: it
	// lets the deliveries in flight finish and records them, so that a
	// restart sends none of them again.
	workerCtx, stopWorker := context.WithCancel(context.Background())
	defer stopWorker()
	workerDone := make(chan error, 1)
	go func() { workerDone <- worker.Run(workerCtx) }()
	// Housekeeping: the deletions the law and the store need, each by the
	// service that owns the rows.
	go passes.Run(runCtx, f.keepPasses, log)
	go worker.Outbox.Run(runCtx, f.notify.keep, log)
	go jobs.Run(runCtx, f.keepImports, log)
	go reg.Run(runCtx, f.keepUnlinked, log)
	if f.notify.notArrivedEvery > 0 {
		go notifier.Run(runCtx, db, f.notify.notArrivedEvery, log)
	}
	mqttDone := make(chan error, 1)
	if f.mqttURL != "" {
		gw, err := mqttgw.New(mqttgw.Config{Broker: f.mqttURL, ClientID: f.mqttClientID, Username: f.mqttUser, Password: f.mqttPassword, TopicPrefix: f.mqttPrefix, Passes: passes, Logger: log}, alarms, reg)
		if err != nil {
			return fmt.Errorf("--mqtt-url: %w", err)
		}
		go func() { mqttDone <- gw.Run(runCtx) }()
		fmt.Fprintf(out, "MQTT device alarms from %s on %s\n", f.mqttURL, gw.Filter())
	} else {
		mqttDone <- nil
	}
	var receiver *dc09gw.Receiver
	recvDone := make(chan error, 1)
	if f.dc09Addr != "" {
		cfg := f.dc09Config()
		cfg.Logger = log
		var err error
		receiver, err = dc09gw.New(cfg, alarmSink{alarms}, newPanelAccounts(reg))
		if err != nil {
			return err
		}
		if err := receiver.Listen(); err != nil {
			return fmt.Errorf("--dc09-addr %s: %w", f.dc09Addr, err)
		}
		exportReceiverStats(srv.Metrics(), receiver)
		go func() { recvDone <- receiver.Run(runCtx) }()
		fmt.Fprintf(out, "DC-09 receiver on %s (TCP and UDP)\n", receiver.Addr())
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return fmt.Errorf("--addr %s: %w", f.addr, err)
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute, // imports upload files of up to 50 MiB
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	hs.RegisterOnShutdown(srv.EndStreams)
	addr := ln.Addr().String()
	log.Info("qorgan serving", "version", versionString(), "addr", "http://"+addr, "store", f.db.describe())
	fmt.Fprintf(out, "Qorgan is listening on http://%s\n", addr)
	if ready != nil {
		ready(addr)
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	// A failing HTTP server stops the rest as a signal does, so that the
	// worker and the receivers finish before the store is closed.
	var httpErr error
	httpDone := false
	select {
	case httpErr = <-errc:
		httpDone = true
		log.Error("HTTP server failed; shutting down", "err", httpErr)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	stopWorker()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		// Requests still running after the grace period are cut off; the
		// rest of the stop goes on, so the store closes last.
		log.Warn("HTTP requests still running at shutdown were cut off", "err", err)
		hs.Close()
	}
	if err := jobs.Shutdown(sctx); err != nil {
		log.Warn("imports still running at shutdown were stopped", "err", err)
	}
	stopRun()
	if err := <-workerDone; err != nil {
		log.Warn("notification worker stopped", "err", err)
	} else {
		st := worker.Stats()
		log.Info("notification worker stopped", "sent", st.Sent, "retries", st.Retried, "dead", st.Dead, "released", st.Released)
	}
	if err := <-mqttDone; err != nil {
		log.Warn("MQTT gateway stopped", "err", err)
	}
	if receiver != nil {
		if err := <-recvDone; err != nil {
			log.Warn("DC-09 receiver stopped", "err", err)
		}
	}
	if !httpDone {
		httpErr = <-errc
	}
	if httpErr != nil && !errors.Is(httpErr, http.ErrServerClosed) {
		return httpErr
	}
	return nil
}

func runDemo(ctx context.Context, args []string, out, errOut io.Writer) error {
	var f serveFlags
	var scale float64
	var seed uint64
	var password string
	var keep bool
	fs := flagSet("demo", "Run the server on a generated demo dataset. The SQLite file is created anew\nunless --keep is given; on PostgreSQL the database must be empty.", errOut)
	f.register(fs, "qorgan-demo.db")
	fs.Float64Var(&scale, "scale", 0.01, "share of the country's schools to generate (1 = ~7,800 schools, 3.9 million pupils)")
	fs.Uint64Var(&seed, "seed", 2026, "seed of the generated data")
	fs.StringVar(&password, "password", demo.DefaultPassword, "password of every demo login")
	fs.BoolVar(&keep, "keep", false, "reuse an existing demo SQLite file instead of generating anew")
	if err := parse(fs, args); err != nil {
		return err
	}
	log, err := newLogger(errOut, f.logLevel, f.logFormat)
	if err != nil {
		return err
	}
	if err := f.validate(); err != nil {
		return err
	}
	fresh := true
	if f.db.url == "" {
		if _, err := os.Stat(f.db.path); err == nil && keep {
			fresh = false
		} else {
			for _, suffix := range []string{"", "-wal", "-shm"} {
				if err := os.Remove(f.db.path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
					return err
				}
			}
		}
	}
	// The demo is disposable: NORMAL sync loads it several times faster.
	if f.db.url == "" && f.db.sync == "FULL" && fresh {
		f.db.sync = "NORMAL"
	}
	db, err := f.db.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if fresh {
		fmt.Fprintf(out, "Generating the demo dataset at scale %g into %s …\n", scale, f.db.describe())
		res, err := demo.Load(ctx, db, auth.New(db), demo.Options{Scale: scale, Seed: seed, Password: password})
		if err != nil {
			return err
		}
		printDemo(out, res)
	} else {
		fmt.Fprintf(out, "Reusing the demo dataset in %s (password of every demo login as generated).\n", f.db.describe())
	}
	return serve(ctx, f, db, log, out, nil)
}

func printDemo(out io.Writer, res demo.Result) {
	fmt.Fprintf(out, "Generated %d schools, %d pupils, %d guardians, %d staff, %d devices (%d УТО schools short of a required device), %d providers, %d contracts, %d police units in %s.\n",
		res.Schools, res.Pupils, res.Guardians, res.Staff, res.Devices, res.ShortSchools, res.Providers, res.Contracts, res.PoliceUnits, res.Took.Round(time.Millisecond))
	fmt.Fprintln(out, "\nDemo logins (POST /api/v1/session with {\"login\":…,\"password\":…}):")
	for _, l := range res.Logins {
		scope := string(l.Scope.Kind)
		if l.Scope.Ref != "" {
			scope += " " + l.Scope.Ref
		}
		fmt.Fprintf(out, "  %-9s %-18s %-22s %-22s %s\n", l.Login, l.Password, l.Role, scope, l.Note)
	}
	fmt.Fprintf(out, "\nDC-09 panels at school 1: account %s (plain) and account %s (AES-128, key text %q).\n\n",
		demo.PlainAccount, demo.EncryptedAccount, demo.EncryptedKeyText)
}
