package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/config"
	"qorgan/internal/demo"
	"qorgan/internal/registry"
	"qorgan/internal/store"
)

func serverCommands() []entry {
	return []entry{
		{"serve", "run the server (HTTP API)", "Run the Qorgan server.", func() command { return &serveCmd{} }},
		{"demo", "run the server on a generated demo dataset, with demo logins",
			"Run the server on a generated demo dataset. The SQLite file is created anew\nunless --keep is given; on PostgreSQL the database must be empty.",
			func() command { return &demoCmd{} }},
	}
}

// openDB opens the database and seeds the regions every command expects.
func openDB(ctx context.Context, d config.DB) (*store.DB, error) {
	db, err := store.Open(ctx, store.Config{URL: d.URL, Path: d.Path, Synchronous: d.Synchronous})
	if err != nil {
		return nil, err
	}
	if err := registry.SeedRegions(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func newLogger(w io.Writer, c config.Log) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.Level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

type serveCmd struct{ cfg config.Server }

func (c *serveCmd) options() []*config.Option { return c.cfg.Options("qorgan.db") }

func (c *serveCmd) run(ctx context.Context, w Wiring, out, errOut io.Writer) error {
	db, err := openDB(ctx, c.cfg.DB)
	if err != nil {
		return err
	}
	defer db.Close()
	return w.Serve(ctx, c.cfg, db, newLogger(errOut, c.cfg.Log), out)
}

type demoCmd struct {
	cfg  config.Server
	demo demo.Options
	keep bool
}

func (c *demoCmd) options() []*config.Option {
	return append(c.cfg.Options("qorgan-demo.db"),
		config.Float(&c.demo.Scale, "scale", 0.01, "share of the country's schools to generate (1 = ~7,800 schools, 3.9 million pupils)"),
		config.Uint64(&c.demo.Seed, "seed", 2026, "seed of the generated data"),
		config.String(&c.demo.Password, "password", demo.DefaultPassword, "password of every demo login").Secret(),
		config.Bool(&c.keep, "keep", false, "reuse an existing demo SQLite file instead of generating anew"),
	)
}

func (c *demoCmd) run(ctx context.Context, w Wiring, out, errOut io.Writer) error {
	f := &c.cfg
	log := newLogger(errOut, f.Log)
	fresh := true
	if f.DB.URL == "" {
		if _, err := os.Stat(f.DB.Path); err == nil && c.keep {
			fresh = false
		} else {
			for _, suffix := range []string{"", "-wal", "-shm"} {
				if err := os.Remove(f.DB.Path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
					return err
				}
			}
		}
	}
	if fresh {
		// Generating is a bulk load of a disposable file (lost, it is
		// generated again): it runs with synchronous=NORMAL, several times
		// faster. Serving then runs with --sqlite-sync, FULL unless told
		// otherwise, as `serve` does: the alarms a demo takes are kept as
		// a real installation keeps them.
		load := f.DB
		if load.URL == "" {
			load.Synchronous = "NORMAL"
		}
		db, err := openDB(ctx, load)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "Generating the demo dataset at scale %g into %s …\n", c.demo.Scale, f.DB.Describe())
		res, err := demo.Load(ctx, db, auth.New(db), c.demo)
		db.Close()
		if err != nil {
			return err
		}
		printDemo(out, res)
		// The demo holds no passes: a board shows nobody inside until
		// turnstiles report, so say how to play a morning's.
		server := "http://" + f.HTTP.Addr
		if strings.HasSuffix(f.HTTP.Addr, ":0") {
			server = "<the address below>"
		}
		fmt.Fprintf(out, "No turnstile has reported yet. To see pupils come in (the school board, roll-call, parents' messages), play a morning:\n  go run ./cmd/qorgan simulate morning --server %s --speed 120\n\n", server)
	} else {
		fmt.Fprintf(out, "Reusing the demo dataset in %s (password of every demo login as generated).\n", f.DB.Describe())
	}
	db, err := openDB(ctx, f.DB)
	if err != nil {
		return err
	}
	defer db.Close()
	if sync, err := db.SQLiteSynchronous(ctx); err != nil {
		return err
	} else if sync != "" {
		fmt.Fprintf(out, "Serving with SQLite synchronous=%s.\n", sync)
	}
	return w.Serve(ctx, *f, db, log, out)
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
