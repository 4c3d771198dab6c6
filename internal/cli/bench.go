package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"qorgan/internal/bench"
	"qorgan/internal/config"
)

func benchCommands() []entry {
	return []entry{
		{"bench registry", "load the national registry and list schools through the HTTP API",
			"Load the demo dataset into a fresh SQLite file and measure the load (pupils/s), then\n" +
				"list the schools of every region through the real HTTP API, as each region's education\n" +
				"department, the ministry analyst, a ПЦН and a ЦОУ, and report p50/p99 per page next to\n" +
				"GET /healthz measured in the same run.",
			func() command { return &benchRegistryCmd{} }},
		{"bench alarms", "measure the DC-09 alarm lane, idle and under attendance load",
			"Measure the DC-09 alarm lane on a fresh SQLite file: throughput with many panels, each on an\n" +
				"account of its own (plain, then AES), against a receiver that stores nothing on the same load\n" +
				"(the ceiling, same run; the ratio is printed), every ACK checked byte for byte; then the latency\n" +
				"of alarms (due → ACK, due → SSE delivery) idle and under a synthetic attendance load.",
			func() command { return &benchAlarmsCmd{} }},
		{"bench passes", "measure the passes intake and a pass's way to its webhook",
			"Measure the passes intake over HTTP (stored, presence, messages queued) against the raw insert\n" +
				"of the same rows, then pass → webhook latency at a fixed rate while alarms are measured too; then\n" +
				"the intake over MQTT against its own ceiling, on a fresh store.",
			func() command { return &benchPassesCmd{} }},
		{"bench pages", "time every console page of every role on the demo data",
			"Load the demo dataset, raise an alarm and record passes, then sign in as each role and time\n" +
				"each of its console pages over the real HTTP stack (p50/p99), next to GET /healthz in the same run.",
			func() command { return &benchPagesCmd{} }},
		{"bench indicators", "time the roadmap's indicators, gap lists and monthly snapshot",
			"Load the demo dataset into a fresh SQLite file (or an empty PostgreSQL database), mark its\n" +
				"supervised panels heard, and time the nation's and each region's indicators, a school's gap\n" +
				"list and the monthly snapshot; report p50/p99 against the roadmap's targets.",
			func() command { return &benchIndicatorsCmd{} }},
		{"bench signin", "measure the alarms' ACK latency under a flood of wrong passwords",
			"Start the server on a fresh demo store and measure the DC-09 ACK latency of many panels, idle\n" +
				"and then while clients post wrong passwords without pause; report both p99s, their ratio and\n" +
				"the server's resident memory in each phase.",
			func() command { return &benchSignInCmd{} }},
	}
}

type benchRegistryCmd struct{ c bench.RegistryConfig }

func (b *benchRegistryCmd) options() []*config.Option {
	c := &b.c
	return demoLoadOptions(&c.Scale, &c.Requests, 2000, "list requests to time", &c.Dir, &c.Sync, "SQLite synchronous mode for the load (FULL or NORMAL)")
}

// demoLoadOptions are the options of a bench that loads the demo into a
// SQLite file of its own and times requests on it: how much of the country,
// how many requests (requests, by default), where the file goes and
// SQLite's synchronous mode.
func demoLoadOptions(scale *float64, requests *int, nrequests int, requestsUsage string, dir, sync *string, syncUsage string) []*config.Option {
	return []*config.Option{
		config.Float(scale, "scale", 1, "share of the country to load (1 = national)"),
		config.Int(requests, "requests", nrequests, requestsUsage),
		config.String(dir, "dir", "", "directory for the SQLite file (default: a temporary one, removed after)"),
		config.String(sync, "sqlite-sync", "NORMAL", syncUsage),
	}
}

func (b *benchRegistryCmd) run(ctx context.Context, w Wiring, out, errOut io.Writer) error {
	return bench.Registry(ctx, b.c, out, errOut)
}

type benchIndicatorsCmd struct{ c bench.IndicatorsConfig }

func (b *benchIndicatorsCmd) options() []*config.Option {
	c := &b.c
	return []*config.Option{
		config.Float(&c.Scale, "scale", 1, "share of the country to load (1 = national)"),
		config.Int(&c.Requests, "requests", 200, "timed calls of each kind"),
		config.Int(&c.Snapshots, "snapshots", 5, "timed monthly snapshots"),
		config.String(&c.Dir, "dir", "", "directory for the SQLite file (default: a temporary one, removed after)"),
		config.String(&c.Sync, "sqlite-sync", "NORMAL", "SQLite synchronous mode (FULL or NORMAL)"),
		config.String(&c.Postgres, "database-url", "", "an empty PostgreSQL database to run on instead of SQLite").Secret(),
	}
}

func (b *benchIndicatorsCmd) run(ctx context.Context, w Wiring, out, errOut io.Writer) error {
	return bench.Indicators(ctx, b.c, out, errOut)
}

type benchAlarmsCmd struct {
	c     bench.AlarmsConfig
	codes string
}

func (b *benchAlarmsCmd) options() []*config.Option {
	c := &b.c
	return []*config.Option{
		config.Int(&c.Panels, "panels", 200, "concurrent panels for each throughput run, each on an account of its own"),
		config.Duration(&c.Duration, "duration", 10*time.Second, "length of each run"),
		config.Int(&c.LatencyRate, "latency-rate", 100, "alarms per second during the latency runs"),
		config.Int(&c.Attendance, "attendance", 10000, "synthetic attendance events per second written during the loaded latency run"),
		config.Int(&c.Consoles, "consoles", 0, "live streams open besides the measured one during the latency runs, as the demo's people who read alarms in turn"),
		config.String(&c.Sync, "sqlite-sync", "FULL", "SQLite synchronous mode (FULL or NORMAL)"),
		config.String(&b.codes, "codes", "BA", "comma-separated codes the panels send in the throughput run"),
		config.String(&c.Dir, "dir", "", "directory for the SQLite file (default: a temporary one)"),
		config.String(&c.DatabaseURL, "database-url", "", "measure on PostgreSQL instead of SQLite: a connection URL (postgres://…); each run gets a fresh schema of its own, dropped at the end").Secret(),
		config.String(&c.CPUProfile, "cpuprofile", "", "write a CPU profile of the plain throughput run against Qorgan to this file"),
		config.String(&c.MemProfile, "memprofile", "", "write an allocation profile of the plain throughput run to this file (and one from before it to FILE.base)"),
		config.Float(&c.MinRatio, "min-ratio", 0, "fail when a throughput run is below this share of its same-run ceiling (0: never; for CI)"),
		config.String(&c.Compare, "compare", "", "host:port of another DC-09 receiver to measure on the same load in the same run (accounts B00001…, and E00001… with key 000102…0F)"),
	}
}

func (b *benchAlarmsCmd) run(ctx context.Context, w Wiring, out, errOut io.Writer) error {
	b.c.Codes = strings.Split(b.codes, ",")
	return bench.Alarms(ctx, b.c, out)
}

type benchPassesCmd struct{ c bench.PassesConfig }

func (b *benchPassesCmd) options() []*config.Option {
	c := &b.c
	return []*config.Option{
		config.Duration(&c.Duration, "duration", 10*time.Second, "length of each run"),
		config.Int(&c.Rate, "rate", 5000, "passes per second in the latency run"),
		config.Int(&c.Batch, "batch", 200, "passes per HTTP request"),
		config.Int(&c.Clients, "clients", 8, "concurrent controllers in the throughput run"),
		config.String(&c.Sync, "sqlite-sync", "FULL", "SQLite synchronous mode"),
		config.String(&c.DatabaseURL, "database-url", "", "measure on PostgreSQL instead of SQLite: a connection URL (postgres://…); each run gets a fresh schema of its own, dropped at the end").Secret(),
		config.String(&c.CPUProfile, "cpuprofile", "", "write a CPU profile of the throughput run to this file, and one of the latency run (pass → webhook, the outbox drained) to FILE.latency"),
		config.String(&c.MQTTURL, "mqtt-url", "mqtt://127.0.0.1:1883", "MQTT broker for the intake over MQTT (empty: that run is skipped)"),
		config.Float(&c.MinRatio, "min-ratio", 0, "fail when the intake is below this share of its pass rows' same-run ceiling (0: never; for CI)"),
		config.Int(&c.Concurrency, "message-concurrency", config.DefaultMessageConcurrency, "messages the notification worker delivers at once, as the server's option of that name"),
		config.Bool(&c.GiveWay, "give-way", true, "the worker's deliveries give way to alarms on their way, as the server's do (false: measure without)"),
	}
}

func (b *benchPassesCmd) run(ctx context.Context, w Wiring, out, errOut io.Writer) error {
	return bench.Passes(ctx, b.c, out, errOut)
}

type benchSignInCmd struct{ c bench.SignInConfig }

func (b *benchSignInCmd) options() []*config.Option {
	c := &b.c
	return []*config.Option{
		config.Int(&c.Panels, "panels", 100, "panels reporting, each on its own account"),
		config.Float(&c.Rate, "rate", 200, "frames per second of all panels together (alarms, tests and NULL in turn)"),
		config.Duration(&c.Duration, "duration", 20*time.Second, "length of each phase"),
		config.Int(&c.Flood, "flood", 40, "clients posting wrong passwords at once"),
		config.Int(&c.Sources, "sources", 40, "loopback source addresses the flood comes from"),
		config.String(&c.Dir, "dir", "", "directory for the SQLite file (default: a temporary one)"),
		config.String(&c.Exe, "server", "", "the qorgan binary to run as the server (default: this one; another build compares)"),
	}
}

// run floods the real server with wrong passwords while panels report, and
// compares their ACK latency and the server's memory with the same load idle.
func (b *benchSignInCmd) run(ctx context.Context, w Wiring, out, errOut io.Writer) error {
	c := b.c
	if c.Exe == "" {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		c.Exe = exe
	}
	fmt.Fprintf(out, "machine: %s\n", bench.Machine())
	rep, err := bench.SignIn(ctx, c, out)
	if err != nil {
		return err
	}
	mb := func(b int64) string { return fmt.Sprintf("%.0f MB", float64(b)/1e6) }
	ms := bench.Millis
	fmt.Fprintf(out, "sign-in flood: %d clients from %d addresses, %d attempts (%s)\n", c.Flood, c.Sources, rep.Attempts, bench.FormatAnswers(rep.Answers))
	fmt.Fprintf(out, "ACK p99 idle %s, flooded %s: ratio %.2f (p50 %s → %s)\n", ms(rep.Idle.LatencyP99), ms(rep.Flooded.LatencyP99), rep.Ratio(),
		ms(rep.Idle.LatencyP50), ms(rep.Flooded.LatencyP50))
	fmt.Fprintf(out, "server memory (resident, peak): idle %s, flooded %s, after %s\n", mb(rep.RSSIdle), mb(rep.RSSFlood), mb(rep.RSSAfter))
	return nil
}

type benchPagesCmd struct{ c bench.PagesConfig }

func (b *benchPagesCmd) options() []*config.Option {
	c := &b.c
	return append(demoLoadOptions(&c.Scale, &c.Requests, 200, "requests per page", &c.Dir, &c.Sync, "SQLite synchronous mode (FULL or NORMAL)"),
		config.Duration(&c.MaxMedian, "max-median", 0, "fail when a page's median answer is slower than this (0: never; for CI, which runs it at --scale 1 with 200ms)"))
}

func (b *benchPagesCmd) run(ctx context.Context, w Wiring, out, errOut io.Writer) error {
	return bench.Pages(ctx, b.c, out, errOut)
}
