package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"qorgan/internal/alarm"
	"qorgan/internal/attendance"
	"qorgan/internal/auth"
	"qorgan/internal/cap"
	"qorgan/internal/cli"
	"qorgan/internal/config"
	"qorgan/internal/emergency"
	"qorgan/internal/ingest/dc09gw"
	"qorgan/internal/ingest/mqttgw"
	"qorgan/internal/notify"
	"qorgan/internal/protocol/dc09"
	"qorgan/internal/registry"
	"qorgan/internal/roadmap"
	"qorgan/internal/store"
	"qorgan/internal/transfer"
	"qorgan/internal/urgent"
	"qorgan/internal/web"
	"qorgan/internal/webpush"
)

// serve runs the HTTP server until ctx ends, then shuts down gracefully.
func serve(ctx context.Context, f config.Server, db *store.DB, log *slog.Logger, out io.Writer) error {
	a := auth.New(db)
	a.IdleTimeout = f.SessionIdle
	if f.PasswordWorkers > 0 {
		// Password checks run in child processes of this binary at a lower
		// priority, so that a flood of sign-ins cannot slow the alarms.
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("password workers: %w", err)
		}
		workers, err := auth.StartPasswordWorkers(exe, []string{passwordWorkerCommand}, nil, f.PasswordWorkers)
		if err != nil {
			return err
		}
		defer workers.Close()
		a.LimitSignIns(auth.SignInLimits{Checks: f.PasswordWorkers, PerSecond: f.PasswordRate})
		a.UsePasswordWorkers(workers)
	}
	reg := registry.New(db, a)
	alarms := alarm.New(db, a, log)
	alarms.T1, alarms.T2 = f.Alarm.EscalateAfter, f.Alarm.EscalateAgainAfter
	jobs := transfer.NewJobs(reg)
	worker := newNotifyWorker(db, f.Notify, log)
	// The alarms on their way, from any receiver: the worker's deliveries
	// give way to them.
	alarmsOnTheirWay := new(urgent.Signal)
	alarms.Urgent, worker.GiveWay = alarmsOnTheirWay, alarmsOnTheirWay
	notifier := attendance.DefaultNotifier()
	notifier.WebhookURL = f.Notify.WebhookURL
	notifier.QuietFrom, notifier.QuietTo = f.Notify.QuietHours.From, f.Notify.QuietHours.To
	notifier.Queued = worker.Wake
	passes := attendance.New(db, notifier, worker.Wake)
	// A pupil's export and erasure reach the attendance and the messages
	// kept about them.
	reg.Records = []registry.PupilRecords{passes, worker.Outbox}
	// The roadmap's rule sets, seeded history and 2021 allocations go into
	// the store at start (once; again changes nothing).
	rm := roadmap.New(db)
	if err := rm.Load(ctx); err != nil {
		return fmt.Errorf("roadmap: %w", err)
	}
	vapid, err := webpush.LoadKey(ctx, db, f.Notify.VAPIDPrivateKey)
	if err != nil {
		return err
	}
	push := webpush.New(db, vapid)
	worker.Channels[notify.ChannelWebPush] = webpush.NewChannel(push, f.Notify.VAPIDSubject)
	// Emergencies queue their messages in the same outbox; public-address
	// devices are told through the installation's webhook.
	emergencies := emergency.New(db, a, alarms, worker.Wake)
	emergencies.WebhookURL = f.Notify.WebhookURL
	emergencies.PublicURL = f.HTTP.PublicURL
	rm.Drills = emergencies // the drill indicator counts the drills it records
	var capHook *cap.Webhook
	if f.Notify.CAPWebhookURL != "" {
		if capHook, err = cap.NewWebhook(f.Notify.CAPWebhookURL, cap.ContentType, nil, nil); err != nil {
			return fmt.Errorf("--cap-webhook-url: %w", err)
		}
	}
	srv, err := web.New(web.Deps{DB: db, Auth: a, Registry: reg, Alarms: alarms, Jobs: jobs, Access: passes, Outbox: worker.Outbox, Push: push, Roadmap: rm, Emergency: emergencies, Log: log,
		SecureCookies: f.HTTP.SecureCookies, TrustedProxies: f.HTTP.TrustedProxies, MapTilesURL: f.HTTP.MapTilesURL, MetricsToken: f.HTTP.MetricsToken})
	if err != nil {
		return err
	}
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
	go passes.Run(runCtx, f.Keep.Passes, log)
	go worker.Outbox.Run(runCtx, f.Keep.Messages, log)
	go jobs.Run(runCtx, f.Keep.Imports, log)
	go reg.Run(runCtx, f.Keep.Unlinked, log)
	go rm.Run(runCtx, log) // the monthly snapshot
	if capHook != nil {
		go emergencies.RunCAP(runCtx, capHook, log) // emergencies' CAP alerts, each once, in order
	}
	if f.Notify.NotArrivedEvery > 0 {
		go notifier.Run(runCtx, db, f.Notify.NotArrivedEvery, log)
	}
	mqttDone := make(chan error, 1)
	if m := f.MQTT; m.URL != "" {
		gw, err := mqttgw.New(mqttgw.Config{Broker: m.URL, ClientID: m.ClientID, Username: m.Username, Password: m.Password, TopicPrefix: m.TopicPrefix, Passes: passes, Logger: log}, alarms, reg)
		if err != nil {
			return fmt.Errorf("--mqtt-url: %w", err)
		}
		go func() { mqttDone <- gw.Run(runCtx) }()
		fmt.Fprintf(out, "MQTT device alarms from %s on %s\n", m.URL, gw.Filter())
	} else {
		mqttDone <- nil
	}
	var receiver *dc09gw.Receiver
	recvDone := make(chan error, 1)
	if d := f.DC09; d.Addr != "" {
		var err error
		receiver, err = dc09gw.New(dc09gw.Config{Addr: d.Addr, Window: dc09.Window{Past: d.WindowPast, Future: d.WindowFuture},
			MaxConnsPerSource: d.MaxConnsPerSource, FirstFrameTimeout: d.FirstFrameTimeout, Logger: log, Urgent: alarmsOnTheirWay}, alarms, reg)
		if err != nil {
			return err
		}
		if err := receiver.Listen(); err != nil {
			return fmt.Errorf("--dc09-addr %s: %w", d.Addr, err)
		}
		receiver.ExportStats(srv.Metrics())
		go func() { recvDone <- receiver.Run(runCtx) }()
		fmt.Fprintf(out, "DC-09 receiver on %s (TCP and UDP)\n", receiver.Addr())
	}
	ln, err := net.Listen("tcp", f.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("--addr %s: %w", f.HTTP.Addr, err)
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
	log.Info("qorgan serving", "version", cli.VersionString(version), "addr", "http://"+addr, "store", f.DB.Describe())
	fmt.Fprintf(out, "Qorgan is listening on http://%s\n", addr)
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

// channels are the notification channels as configured (the others
// dead-letter their messages at once).
func channels(n config.Notify) map[notify.ChannelName]notify.Channel {
	ch := map[notify.ChannelName]notify.Channel{
		notify.ChannelEmail: notify.Unconfigured("e-mail"), notify.ChannelSMS: notify.Unconfigured("SMS"),
		notify.ChannelBot: notify.Unconfigured("messenger bot"), notify.ChannelWebhook: notify.Unconfigured("webhook"),
	}
	if n.SMTPAddr != "" {
		ch[notify.ChannelEmail] = &notify.EmailChannel{Addr: n.SMTPAddr, From: n.SMTPFrom, Username: n.SMTPUsername, Password: n.SMTPPassword, Security: n.SMTPSecurity}
	}
	if n.SMSURL != "" {
		c := &notify.SMSChannel{URL: n.SMSURL}
		if n.SMSAuthorization != "" {
			c.Header = http.Header{"Authorization": []string{n.SMSAuthorization}}
		}
		ch[notify.ChannelSMS] = c
	}
	if n.BotURL != "" {
		ch[notify.ChannelBot] = &notify.BotChannel{BaseURL: strings.TrimRight(n.BotURL, "/"), Token: n.BotToken}
	}
	if n.WebhookURL != "" {
		ch[notify.ChannelWebhook] = &notify.WebhookChannel{Secret: []byte(n.WebhookSecret)}
	}
	return ch
}

func newNotifyWorker(db *store.DB, n config.Notify, log *slog.Logger) *notify.Worker {
	return &notify.Worker{Outbox: notify.New(db), Channels: channels(n), Log: log, Lease: n.Lease, Concurrency: n.Concurrency,
		ChannelConcurrency: n.ChannelConcurrency, Batch: max(200, 2*n.Concurrency)}
}
