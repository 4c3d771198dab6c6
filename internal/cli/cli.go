// Package cli holds the bodies of qorgan's commands: each reads its options
// (declared in its table, see internal/config), opens what it needs and
// calls the domain. The server's wiring is not here: cmd/qorgan hands it in
// as a Wiring, so that cmd stays the one place the services are put
// together.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"

	"qorgan/internal/config"
	"qorgan/internal/errs"
	"qorgan/internal/store"
)

// Wiring is what cmd/qorgan gives the commands.
type Wiring struct {
	// Serve runs the server on db until ctx ends, then shuts it down.
	Serve func(ctx context.Context, cfg config.Server, db *store.DB, log *slog.Logger, out io.Writer) error
	// Version is the version set at build time, if any.
	Version string
}

// A command is one thing qorgan does: its options, bound to its own
// configuration, and its body.
type command interface {
	options() []*config.Option
	run(ctx context.Context, w Wiring, out, errOut io.Writer) error
}

// entry names a command: Name as typed after qorgan (a group and its
// subject, e.g. "bench alarms"), a one-line summary, what --help says, and
// a fresh instance of it.
type entry struct {
	name, summary, about string
	new                  func() command
}

// groups are the top-level commands, in the order --help lists them.
var groups = []struct{ name, summary string }{
	{"serve", "run the server (HTTP API)"},
	{"demo", "run the server on a generated demo dataset, with demo logins"},
	{"migrate", "apply database migrations and print the schema version"},
	{"import", "import schools or pupils with guardians from CSV or XLSX"},
	{"export", "export schools or pupils with guardians to CSV or XLSX"},
	{"user", "add, list, set the password of, or grant a role to people"},
	{"audit", "verify the hash-chained audit trail"},
	{"simulate", "simulate alarm panels (DC-09) or a morning of turnstile passes"},
	{"report", "print the roadmap: indicators, a school's gaps, snapshots"},
	{"bench", "measure the registry, the alarm lane, the passes intake or a sign-in flood"},
	{"version", "print the version"},
}

// commands lists every command with its table (see internal/config).
func commands() []entry {
	var all []entry
	for _, list := range [][]entry{serverCommands(), adminCommands(), transferCommands(), simulateCommands(), reportCommands(), benchCommands()} {
		all = append(all, list...)
	}
	return append(all, entry{"version", "print the version", "Print the version.", func() command { return &versionCmd{} }})
}

// Command is a command's name and options, for tests of the tables.
type Command = config.Command

// Commands returns every command's table, freshly bound.
func Commands() []Command {
	var out []Command
	for _, e := range commands() {
		out = append(out, Command{Name: e.name, About: e.about, Options: e.new().options()})
	}
	return out
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: qorgan <command> [flags]\n\nCommands:")
	for _, g := range groups {
		fmt.Fprintf(w, "  %-8s %s\n", g.name, g.summary)
	}
	fmt.Fprintln(w, "\nRun 'qorgan <command> --help' for a command's flags. Every flag can also be set")
	fmt.Fprintln(w, "with an environment variable QORGAN_<FLAG>, e.g. QORGAN_DATABASE_URL for --database-url.")
}

// Run runs the command args name (args without the program's name).
func Run(ctx context.Context, args []string, out, errOut io.Writer, w Wiring) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(out)
		if len(args) == 0 {
			return errors.New("no command given")
		}
		return nil
	}
	all := commands()
	var subjects []entry
	for _, e := range all {
		group, subject, _ := strings.Cut(e.name, " ")
		if group != args[0] {
			continue
		}
		if subject == "" {
			return parseAndRun(ctx, e, args[1:], w, out, errOut)
		}
		if len(args) > 1 && args[1] == subject {
			return parseAndRun(ctx, e, args[2:], w, out, errOut)
		}
		subjects = append(subjects, e)
	}
	if len(subjects) == 0 {
		usage(errOut)
		return fmt.Errorf("unknown command %q", args[0])
	}
	// A group named without (a known) subject: say which there are.
	var names []string
	dst := errOut
	if len(args) > 1 && (args[1] == "--help" || args[1] == "-h") {
		dst = out
	}
	fmt.Fprintf(dst, "Usage: qorgan %s <subject> [flags]\n\n", args[0])
	for _, e := range subjects {
		_, subject, _ := strings.Cut(e.name, " ")
		names = append(names, subject)
		fmt.Fprintf(dst, "  %-14s %s\n", subject, e.summary)
	}
	if dst == out {
		return nil
	}
	return fmt.Errorf("%s needs a subject: %s", args[0], orList(names))
}

func orList(words []string) string {
	if len(words) == 1 {
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

func parseAndRun(ctx context.Context, e entry, args []string, w Wiring, out, errOut io.Writer) error {
	c := e.new()
	if err := config.Parse(config.Command{Name: e.name, About: e.about, Options: c.options()}, args, errOut); err != nil {
		return err
	}
	return c.run(ctx, w, out, errOut)
}

// Message is what a person reads for err: the safe message of a typed
// error, naming the field, or the error itself.
func Message(err error) string {
	var e *errs.Error
	if errors.As(err, &e) && e.Code != errs.Internal {
		if e.Field != "" {
			return e.Field + ": " + e.Message
		}
		return e.Message
	}
	return err.Error()
}

// IsHelp says whether err is only that --help was asked for.
func IsHelp(err error) bool { return errors.Is(err, flag.ErrHelp) }

// VersionString is version, or else the build's VCS revision, or "dev".
func VersionString(version string) string {
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

type versionCmd struct{}

func (*versionCmd) options() []*config.Option { return nil }

func (*versionCmd) run(ctx context.Context, w Wiring, out, errOut io.Writer) error {
	fmt.Fprintln(out, "qorgan", VersionString(w.Version))
	return nil
}

// stdin is where commands read a password from (tests replace it).
var stdin io.Reader = os.Stdin
