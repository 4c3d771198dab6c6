package bench

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"qorgan/internal/alarm"
	"qorgan/internal/attendance"
	"qorgan/internal/auth"
	"qorgan/internal/demo"
	"qorgan/internal/emergency"
	"qorgan/internal/notify"
	"qorgan/internal/registry"
	"qorgan/internal/roadmap"
	"qorgan/internal/store"
	"qorgan/internal/transfer"
	"qorgan/internal/web"
	"qorgan/internal/webpush"
)

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

// Store opens a fresh SQLite file for a benchmark, in dir or in a
// temporary directory removed afterwards, and prints the machine it runs on.
func Store(ctx context.Context, dir, name, sync string, out io.Writer) (*store.DB, func(), error) {
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
	fmt.Fprintf(out, "machine: %s; SQLite synchronous=%s\n", Machine(), sync)
	return db, func() { db.Close(); cleanup() }, nil
}

// PostgresStore opens a fresh schema of a PostgreSQL database for a
// benchmark, migrated, and drops it afterwards; it prints the machine and
// the server's version.
func PostgresStore(ctx context.Context, url string, out io.Writer) (*store.DB, func(), error) {
	admin, err := sql.Open("pgx", url)
	if err != nil {
		return nil, nil, err
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	schema := "qorgan_bench_" + hex.EncodeToString(rnd[:])
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		return nil, nil, fmt.Errorf("postgres: create a schema for the benchmark: %w", err)
	}
	drop := func() {
		admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		admin.Close()
	}
	u, err := neturl.Parse(url)
	if err != nil {
		drop()
		return nil, nil, fmt.Errorf("--database-url: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db, err := store.Open(ctx, store.Config{URL: u.String()})
	if err != nil {
		drop()
		return nil, nil, err
	}
	var version string
	db.Reader().QueryRowContext(ctx, "SHOW server_version").Scan(&version)
	fmt.Fprintf(out, "machine: %s; PostgreSQL %s (schema %s, dropped at the end); costs count the postgres processes' CPU and writes too\n", Machine(), version, schema)
	withPostgres.Store(true)
	return db, func() { withPostgres.Store(false); db.Close(); drop() }, nil
}

// Machine says what a benchmark ran on: the host, its CPUs and their model
// (figures from two machines of the same size can differ by a third), the
// system and the Go version.
func Machine() string {
	host, _ := os.Hostname()
	model := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if name, value, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "model name" {
				model = " (" + strings.TrimSpace(value) + ")"
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d CPUs%s, %s/%s, %s", host, runtime.NumCPU(), model, runtime.GOOS, runtime.GOARCH, runtime.Version())
}

// loadAverage is the machine's one-minute load average, or "unknown" where
// the system does not say (it is read from /proc/loadavg): figures taken
// on a shared machine mean little without it.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "unknown"
}

// demoStore is Store with the demo loaded at a hundredth of the country,
// as the alarm and pass benchmarks start.
func demoStore(ctx context.Context, dir, name, sync string, out io.Writer) (*store.DB, *auth.Service, func(), error) {
	return demoStoreOn(ctx, "", dir, name, sync, out)
}

// demoStoreOn is demoStore on PostgreSQL when url is set.
func demoStoreOn(ctx context.Context, url, dir, name, sync string, out io.Writer) (*store.DB, *auth.Service, func(), error) {
	var db *store.DB
	var done func()
	var err error
	if url != "" {
		db, done, err = PostgresStore(ctx, url, out)
	} else {
		db, done, err = Store(ctx, dir, name, sync, out)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	a := auth.New(db)
	if _, err := demo.Load(ctx, db, a, demo.Options{Scale: 0.01}); err != nil {
		done()
		return nil, nil, nil, err
	}
	return db, a, done, nil
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
	var c cost
	c.cpu, c.written = ProcessCost()
	if withPostgres.Load() {
		s := postgresCost()
		c.cpu, c.written = c.cpu+s.cpu, c.written+s.written
	}
	return c
}

// ProcessCost is this process's CPU time so far and the bytes it has handed
// to write calls, for a benchmark of its own to take per operation (see
// cost).
func ProcessCost() (cpu time.Duration, written int64) {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), wchar("/proc/self/io")
}

// withPostgres makes costNow count the PostgreSQL server's processes too
// (set by PostgresStore): on PostgreSQL the database's work is theirs, and
// leaving it out would make a frame look cheaper than on SQLite, where it
// is ours.
var withPostgres atomic.Bool

// postgresCost is the CPU time and the bytes written of every process of
// this machine named postgres, from /proc. A backend that ends between two
// readings takes its share with it, so the figure is a floor; the
// benchmark's connections are pooled and live through a run.
func postgresCost() cost {
	var c cost
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		if _, err := strconv.Atoi(d.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid … utime stime: fields 14 and 15, counted
		// after the closing parenthesis of comm.
		s := string(b)
		open, shut := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || shut < open || s[open+1:shut] != "postgres" {
			continue
		}
		f := strings.Fields(s[shut+1:])
		if len(f) < 13 {
			continue
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		c.cpu += time.Duration(ut+st) * time.Second / 100 // USER_HZ
		c.written += wchar("/proc/" + d.Name() + "/io")
	}
	return c
}

// wchar is the bytes a process handed to write calls, from its io file.
func wchar(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "wchar: "); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}

// since is what was spent from c until now.
func (c cost) since() cost {
	now := costNow()
	return cost{cpu: now.cpu - c.cpu, written: now.written - c.written}
}

// per describes a spent cost (from since) for each of n operations.
func (c cost) per(n int64, what string) string {
	if n <= 0 {
		return ""
	}
	s := fmt.Sprintf("CPU %.1f µs per %s", float64(c.cpu.Nanoseconds())/1e3/float64(n), what)
	if c.written > 0 {
		s += fmt.Sprintf(", %.1f KB written per %s", float64(c.written)/1024/float64(n), what)
	}
	return s
}

// over describes, per operation, how much more c (for n operations) cost
// than base (for m): with the same load generator in both, what one
// receiver spends over the other.
func (c cost) over(n int64, base cost, m int64, what string) string {
	if n <= 0 || m <= 0 {
		return ""
	}
	d := float64(c.cpu.Nanoseconds())/float64(n) - float64(base.cpu.Nanoseconds())/float64(m)
	return fmt.Sprintf("CPU %+.1f µs per %s", d/1e3, what)
}

// startProfiles starts a CPU profile written to cpuPath and takes an
// allocation profile at memPath+".base" (each when its path is not empty);
// the function returned stops the CPU profile and writes the allocation
// profile to memPath, so that `go tool pprof -base memPath.base memPath`
// shows what was allocated in between.
func startProfiles(cpuPath, memPath string) (stop func() error, err error) {
	stopCPU, err := startProfile(cpuPath)
	if err != nil {
		return nil, err
	}
	writeAllocs := func(path string) error {
		if memPath == "" {
			return nil
		}
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		runtime.GC() // the profile is as of the last collection
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	if err := writeAllocs(memPath + ".base"); err != nil {
		stopCPU()
		return nil, err
	}
	return func() error {
		stopCPU()
		return writeAllocs(memPath)
	}, nil
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

// Millis writes d in milliseconds, as the reports do.
func Millis(d time.Duration) string { return ms(d) }

// serveWeb serves Qorgan's HTTP API on a loopback port, as serve has it,
// until stop is called, and returns its base URL. A nil alarm, pass or
// outbox service is a fresh one on db (the passes telling nobody).
func serveWeb(db *store.DB, a *auth.Service, reg *registry.Registry, alarms *alarm.Service, passes *attendance.Service, outbox *notify.Outbox, log *slog.Logger) (base string, stop func() error, err error) {
	if alarms == nil {
		alarms = alarm.New(db, a, log)
	}
	if passes == nil {
		passes = attendance.New(db, attendance.NoNotices, func() {})
	}
	if outbox == nil {
		outbox = notify.New(db)
	}
	reg.Records = []registry.PupilRecords{passes, outbox}
	rm := roadmap.New(db)
	if err := rm.Load(context.Background()); err != nil {
		return "", nil, err
	}
	key, err := webpush.LoadKey(context.Background(), db, "")
	if err != nil {
		return "", nil, err
	}
	srv, err := web.New(web.Deps{DB: db, Auth: a, Registry: reg, Alarms: alarms, Jobs: transfer.NewJobs(reg), Access: passes, Outbox: outbox,
		Push: webpush.New(db, key), Roadmap: rm, Emergency: emergency.New(db, a, alarms, func() {}), Log: log})
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	hs := &http.Server{Handler: srv.Handler()}
	go hs.Serve(ln)
	return "http://" + ln.Addr().String(), hs.Close, nil
}

// sinceTimings is what the store's writer timings counted between two
// snapshots.
func sinceTimings(now, before map[string]store.Timing) map[string]store.Timing {
	out := make(map[string]store.Timing, len(now))
	for k, t := range now {
		out[k] = t.Since(before[k])
	}
	return out
}

// writerLines says where the alarms' time on the store went during a run:
// their wait for SQLite's one writer, their own transaction, the wait for
// the log sync; and how long the other writers held it. Percentiles are
// the store's histogram bucket bounds (each 1.44× the last), so "≤".
func writerLines(out io.Writer, t map[string]store.Timing) {
	bound := func(d time.Duration) string {
		if d == math.MaxInt64 {
			return "> 2 s" // past the last bucket
		}
		return "≤ " + ms(d)
	}
	q := func(name string) string {
		h := t[name]
		return fmt.Sprintf("p50 %s, p99 %s", bound(h.Quantile(0.5)), bound(h.Quantile(0.99)))
	}
	if _, ok := t["dc09_commit_seconds"]; ok {
		fmt.Fprintf(out, "  in the receiver, frame read and checked → its commit on disk (%d frames): %s\n", t["dc09_commit_seconds"].Count, q("dc09_commit_seconds"))
	}
	fmt.Fprintf(out, "  the alarms' transactions (%d): waiting for the writer %s; holding it %s; commit → log synced %s\n",
		t["writer_hold_seconds/alarm"].Count, q("writer_wait_seconds/alarm"), q("writer_hold_seconds/alarm"), q("commit_sync_wait_seconds/alarm"))
	fmt.Fprintf(out, "  the other writers' transactions (%d, the intake's and the outbox's): holding the writer %s; the log syncs (%d) %s\n",
		t["writer_hold_seconds/other"].Count, q("writer_hold_seconds/other"), t["log_sync_seconds"].Count, q("log_sync_seconds"))
}

// cores is a reading of where the machine's CPU time has gone since boot
// (/proc/stat, in clock ticks) and of this process's own CPU time, so that
// a run can say whether something besides itself was using the cores: a
// run slowed by another process, or by the hypervisor giving the cores to
// another machine (steal), looks like a slow build otherwise. On
// PostgreSQL the database's own processes count as other processes.
type cores struct {
	busy, idle, steal uint64 // clock ticks (1/100 s) over every core
	self              time.Duration
	ok                bool
}

// coresNow reads it; on a system without /proc/stat, ok is false.
func coresNow() cores {
	self, _ := ProcessCost()
	c := cores{self: self}
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return c
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return c
	}
	var v [8]uint64 // user nice system idle iowait irq softirq steal
	for i := range v {
		if v[i], err = strconv.ParseUint(f[i+1], 10, 64); err != nil {
			return c
		}
	}
	c.busy, c.idle, c.steal, c.ok = v[0]+v[1]+v[2]+v[5]+v[6], v[3]+v[4], v[7], true
	return c
}

// since says how the cores' time went between since and c: this
// process's share, other processes', the hypervisor's (steal) and idle.
func (c cores) since(since cores) string {
	if !c.ok || !since.ok {
		return "where the cores' time went: unknown (no /proc/stat)"
	}
	// A counter read lower than before (iowait may go back) counts 0.
	diff := func(a, b uint64) uint64 {
		if a < b {
			return 0
		}
		return a - b
	}
	busy, idle, steal := diff(c.busy, since.busy), diff(c.idle, since.idle), diff(c.steal, since.steal)
	all := float64(busy + idle + steal)
	if all == 0 {
		return "where the cores' time went: too short a run to tell"
	}
	const tick = 10 * time.Millisecond // USER_HZ is 100 on Linux
	self := float64(c.self-since.self) / float64(tick)
	other := max(0, float64(busy)-self)
	return fmt.Sprintf("where the cores' time went: this process %.0f%%, other processes %.0f%%, taken by the hypervisor (steal) %.1f%%, idle %.0f%%",
		100*min(self, float64(busy))/all, 100*other/all, 100*float64(steal)/all, 100*float64(idle)/all)
}
