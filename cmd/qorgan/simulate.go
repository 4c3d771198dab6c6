package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"qorgan/internal/sim/morning"
	"qorgan/internal/sim/panel"
)

func runSimulate(ctx context.Context, args []string, out, errOut io.Writer) error {
	if len(args) > 0 && args[0] == "morning" {
		return runSimulateMorning(ctx, args[1:], out, errOut)
	}
	if len(args) == 0 || args[0] != "panel" {
		fmt.Fprintln(errOut, "Usage: qorgan simulate panel [flags]\n       qorgan simulate morning [flags]")
		return errors.New("simulate needs a subject: panel or morning")
	}
	var c panel.Config
	var accounts, codes string
	fs := flagSet("simulate panel", "Send SIA DC-09 frames as alarm panels would (each waits for its ACK, retransmits on\n"+
		"silence) and report answers and ACK latency; exits non-zero when no frame was ACKed.\n"+
		"Example, the demo's two panels (its DC-09 receiver on the default 127.0.0.1:10001):\n"+
		"  qorgan simulate panel --accounts 1234 --codes PA --count 5\n"+
		"  qorgan simulate panel --accounts 5678 --key-text 0123456789abcdef --codes \"1120 01 005\" --count 5", errOut)
	// The server's name for its receiver, so that QORGAN_DC09_ADDR means the
	// same to both; QORGAN_ADDR is the server's HTTP address.
	fs.StringVar(&c.Addr, "dc09-addr", "127.0.0.1:10001", "the server's SIA DC-09 receiver, host:port (the server's --dc09-addr, not its HTTP --addr)")
	fs.StringVar(&c.Transport, "transport", "tcp", "tcp or udp")
	fs.IntVar(&c.Panels, "panels", 0, "panels sending at once (default: one per account, or 1)")
	fs.StringVar(&accounts, "accounts", "", "comma-separated accounts, one per panel")
	fs.StringVar(&c.AccountPattern, "account-pattern", "", "fmt pattern naming panel n's account when --accounts is not given, e.g. %06X")
	fs.StringVar(&c.KeyHex, "key-hex", "", "AES key as 32, 48 or 64 hex digits (encrypts)")
	fs.StringVar(&c.KeyText, "key-text", "", "AES key as 16, 24 or 32 ASCII characters (encrypts)")
	fs.StringVar(&codes, "codes", "RP", "comma-separated codes sent in turn: SIA (PA, BA, …), Contact ID (\"1120 01 005\") or NULL")
	fs.Float64Var(&c.Rate, "rate", 0, "frames per second of all panels together (0: as fast as answers come)")
	fs.DurationVar(&c.Duration, "duration", 0, "how long to send")
	fs.IntVar(&c.Count, "count", 0, "how many frames to send")
	fs.DurationVar(&c.AckTimeout, "ack-timeout", 5*time.Second, "wait this long for an answer before retransmitting")
	fs.DurationVar(&c.Progress, "progress", 0, "print progress this often (0: only the report)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if accounts != "" {
		c.Accounts = strings.Split(accounts, ",")
	}
	if codes != "" {
		c.Codes = strings.Split(codes, ",")
	}
	if c.Duration == 0 && c.Count == 0 {
		return errors.New("give --count or --duration")
	}
	rep, err := panel.Run(ctx, c, out) // writes its report to out
	if err != nil {
		return err
	}
	return noneACKed(rep, c.Addr)
}

// noneACKed fails a run in which no frame was ACKed: nothing reached the
// server's store, whatever the report's numbers look like.
func noneACKed(rep panel.Report, addr string) error {
	switch {
	case rep.ACK > 0:
		return nil
	case rep.NAK+rep.DUH > 0:
		return fmt.Errorf("no frame was ACKed by %s (%d NAK, %d DUH): the receiver refused them; is each account a device of the server, with its key?",
			addr, rep.NAK, rep.DUH)
	}
	return fmt.Errorf("no frame was ACKed by %s (%d no answer, %d bad replies): is --dc09-addr (QORGAN_DC09_ADDR) the server's DC-09 receiver, its --dc09-addr, and not its HTTP address?",
		addr, rep.NoAnswer, rep.BadReplies)
}

func runSimulateMorning(ctx context.Context, args []string, out, errOut io.Writer) error {
	var c morning.Config
	fs := flagSet("simulate morning", "Play a 30-minute morning peak against a running server over HTTP, as its turnstile\n"+
		"controllers would: arrivals along a curve, lost cards, bounces at the gate, and one controller\n"+
		"that was offline uploading its backlog at the end. Signs in as a sysadmin to issue the\n"+
		"turnstiles new credentials and read the pupils' cards (use it on a demo or test installation).\n"+
		"Example, with the demo running:  qorgan simulate morning --speed 60", errOut)
	fs.StringVar(&c.Server, "server", "http://127.0.0.1:8080", "the server's base URL")
	fs.StringVar(&c.Login, "login", "admin", "a sysadmin login")
	fs.StringVar(&c.Password, "password", "qorgan-demo-2026", "its password")
	fs.Float64Var(&c.Scale, "scale", 1, "share of the server's schools to play")
	fs.Float64Var(&c.Speed, "speed", 30, "times faster than real time (30: the 30 minutes in one)")
	fs.DurationVar(&c.Batch, "batch", 10*time.Second, "how often (in simulated time) a controller posts what it has")
	fs.Float64Var(&c.LostCards, "lost-cards", 0.03, "share of pupils whose card is lost (an unknown credential)")
	fs.Float64Var(&c.Bounces, "bounces", 0.05, "share of pupils who step out and back in at the gate")
	fs.Uint64Var(&c.Seed, "seed", 2026, "seed of the morning")
	if err := parse(fs, args); err != nil {
		return err
	}
	rep, err := morning.Run(ctx, c, out)
	if err != nil {
		return err
	}
	fmt.Fprint(out, rep.String())
	return nil
}
