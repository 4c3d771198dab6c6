// Command qorgan runs Qorgan, the safety system for Kazakhstan's schools:
// the server, its demo, and the tools an operator needs (migrations, imports
// and exports, people, audit verification, benchmarks). The commands' bodies
// are in internal/cli and their options in internal/config; this package
// holds main, the signals and the wiring of the server's services.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"qorgan/internal/auth"
	"qorgan/internal/cli"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

// passwordWorkerCommand runs a password worker: the server starts it (see
// --password-workers), people do not.
const passwordWorkerCommand = "internal-password-worker"

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
		if cli.IsHelp(err) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "qorgan:", cli.Message(err))
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out, errOut io.Writer) error {
	if len(args) > 0 && args[0] == passwordWorkerCommand {
		return auth.ServePasswordWorker(os.Stdin, out)
	}
	return cli.Run(ctx, args, out, errOut, cli.Wiring{Serve: serve, DC09: newDC09Receiver, Version: version})
}
