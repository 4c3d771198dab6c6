// Command qorgan runs Qorgan, the safety system for Kazakhstan's schools:
// the server, its demo, and the tools an operator needs (migrations, imports
// and exports, people, audit verification, benchmarks).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal starts a graceful stop; once it has, the signals
	// are let go, so that a second one ends the process at once.
	go func() {
		<-ctx.Done()
		stop()
	}()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "qorgan:", message(err))
		os.Exit(1)
	}
}

// message is what a person reads for err: the safe message of a typed error,
// naming the field, or the error itself.
func message(err error) string {
	var e *errs.Error
	if errors.As(err, &e) && e.Code != errs.Internal {
		if e.Field != "" {
			return e.Field + ": " + e.Message
		}
		return e.Message
	}
	return err.Error()
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, out, errOut io.Writer) error
}

// passwordWorkerCommand runs a password worker: the server starts it.
const passwordWorkerCommand = "internal-password-worker"

func commands() []command {
	return []command{
		{"serve", "run the server (HTTP API)", runServe},
		{"demo", "run the server on a generated demo dataset, with demo logins", runDemo},
		{"migrate", "apply database migrations and print the schema version", runMigrate},
		{"import", "import schools or pupils with guardians from CSV or XLSX", runImport},
		{"export", "export schools or pupils with guardians to CSV or XLSX", runExport},
		{"user", "add, list, set the password of, or grant a role to people", runUser},
		{"audit", "verify the hash-chained audit trail", runAudit},
		{"simulate", "simulate alarm panels (DC-09) or a morning of turnstile passes", runSimulate},
		{"bench", "measure the registry, the alarm lane, the passes intake or a sign-in flood", runBench},
		{"version", "print the version", runVersion},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: qorgan <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'qorgan <command> --help' for a command's flags. Every flag can also be set")
	fmt.Fprintln(w, "with an environment variable QORGAN_<FLAG>, e.g. QORGAN_DATABASE_URL for --database-url.")
}

func run(ctx context.Context, args []string, out, errOut io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(out)
		if len(args) == 0 {
			return errors.New("no command given")
		}
		return nil
	}
	if args[0] == passwordWorkerCommand {
		// Started by the server itself (see --password-workers), not by people.
		return auth.ServePasswordWorker(os.Stdin, out)
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], out, errOut)
		}
	}
	usage(errOut)
	return fmt.Errorf("unknown command %q", args[0])
}

// flagSet makes a command's flag set whose defaults can come from QORGAN_*
// environment variables (applied by parse).
func flagSet(name, summary string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("qorgan "+name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: qorgan %s [flags]\n\n%s\n\nFlags (each also from the environment variable shown):\n", name, summary)
		fs.VisitAll(func(f *flag.Flag) {
			def := f.DefValue
			if secretFlags[f.Name] && def != "" {
				def = "***"
			}
			fmt.Fprintf(out, "  --%s  (%s)\n        %s", f.Name, envName(f.Name), f.Usage)
			if def != "" {
				fmt.Fprintf(out, " (default %s)", def)
			}
			fmt.Fprintln(out)
		})
	}
	return fs
}

// secretFlags are never printed.
var secretFlags = map[string]bool{"database-url": true, "password": true, "mqtt-password": true,
	"smtp-password": true, "sms-authorization": true, "bot-token": true, "webhook-secret": true}

func envName(flagName string) string {
	return "QORGAN_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parse applies QORGAN_* environment variables, then the command line (which
// wins), and rejects stray arguments.
func parse(fs *flag.FlagSet, args []string) error {
	var bad []string
	fs.VisitAll(func(f *flag.Flag) {
		if v, ok := os.LookupEnv(envName(f.Name)); ok {
			if err := f.Value.Set(v); err != nil {
				bad = append(bad, fmt.Sprintf("%s: %v", envName(f.Name), err))
			}
		}
	})
	sort.Strings(bad)
	if len(bad) > 0 {
		return errors.New(strings.Join(bad, "; "))
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (flags go before nothing else; see --help)", fs.Arg(0))
	}
	return nil
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %v", err)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, not %q", format)
}

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", ""
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "+dirty"
				}
			}
		}
		if rev != "" {
			return "dev-" + rev[:min(12, len(rev))] + dirty
		}
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			return bi.Main.Version
		}
	}
	return "dev"
}

func runVersion(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := flagSet("version", "Print the version.", errOut)
	if err := parse(fs, args); err != nil {
		return err
	}
	fmt.Fprintln(out, "qorgan", versionString())
	return nil
}
