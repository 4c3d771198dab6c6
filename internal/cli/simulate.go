package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"qorgan/internal/config"
	"qorgan/internal/demo"
	"qorgan/internal/sim/morning"
	"qorgan/internal/sim/panel"
)

func simulateCommands() []entry {
	return []entry{
		{"simulate panel", "send SIA DC-09 frames as alarm panels would",
			"Send SIA DC-09 frames as alarm panels would (each waits for its ACK, retransmits on\n" +
				"silence) and report answers and ACK latency; exits non-zero when no frame was ACKed.\n" +
				"Example, the demo's two panels (its DC-09 receiver on the default 127.0.0.1:10001):\n" +
				"  qorgan simulate panel --accounts 1234 --codes PA --count 5\n" +
				"  qorgan simulate panel --accounts 5678 --key-text 0123456789abcdef --codes \"1120 01 005\" --count 5",
			func() command { return &panelCmd{} }},
		{"simulate morning", "play a morning peak of turnstile passes against a running server",
			"Play a 30-minute morning peak against a running server over HTTP, as its turnstile\n" +
				"controllers would: arrivals along a curve, lost cards, bounces at the gate, and one controller\n" +
				"that was offline uploading its backlog at the end. Signs in as a sysadmin to issue the\n" +
				"turnstiles new credentials and read the pupils' cards (use it on a demo or test installation).\n" +
				"Example, with the demo running:  qorgan simulate morning --speed 60",
			func() command { return &morningCmd{} }},
	}
}

type panelCmd struct {
	c               panel.Config
	accounts, codes string
}

func (p *panelCmd) options() []*config.Option {
	c := &p.c
	return []*config.Option{
		// The server's name for its receiver, so that QORGAN_DC09_ADDR means
		// the same to both; QORGAN_ADDR is the server's HTTP address.
		config.String(&c.Addr, "dc09-addr", "127.0.0.1:10001", "the server's SIA DC-09 receiver, host:port (the server's --dc09-addr, not its HTTP --addr)"),
		config.String(&c.Transport, "transport", "tcp", "tcp or udp"),
		config.Int(&c.Panels, "panels", 0, "panels sending at once (default: one per account, or 1)"),
		config.String(&p.accounts, "accounts", "", "comma-separated accounts, one per panel"),
		config.String(&c.AccountPattern, "account-pattern", "", "fmt pattern naming panel n's account when --accounts is not given, e.g. %06X"),
		config.String(&c.KeyHex, "key-hex", "", "AES key as 32, 48 or 64 hex digits (encrypts)").Secret(),
		config.String(&c.KeyText, "key-text", "", "AES key as 16, 24 or 32 ASCII characters (encrypts)").Secret(),
		config.String(&p.codes, "codes", "RP", "comma-separated codes sent in turn: SIA (PA, BA, …), Contact ID (\"1120 01 005\") or NULL"),
		config.Float(&c.Rate, "rate", 0, "frames per second of all panels together (0: as fast as answers come)"),
		config.Duration(&c.Duration, "duration", 0, "how long to send"),
		config.Int(&c.Count, "count", 0, "how many frames to send").Check(func() error {
			if c.Duration == 0 && c.Count == 0 {
				return errors.New("(or --duration) must be given")
			}
			return nil
		}),
		config.Duration(&c.AckTimeout, "ack-timeout", 5*time.Second, "wait this long for an answer before retransmitting"),
		config.Duration(&c.Progress, "progress", 0, "print progress this often (0: only the report)"),
	}
}

func (p *panelCmd) run(ctx context.Context, w Wiring, out, errOut io.Writer) error {
	c := p.c
	if p.accounts != "" {
		c.Accounts = strings.Split(p.accounts, ",")
	}
	if p.codes != "" {
		c.Codes = strings.Split(p.codes, ",")
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

type morningCmd struct{ c morning.Config }

func (m *morningCmd) options() []*config.Option {
	c := &m.c
	return []*config.Option{
		config.String(&c.Server, "server", "http://127.0.0.1:8080", "the server's base URL"),
		config.String(&c.Login, "login", "admin", "a sysadmin login"),
		config.String(&c.Password, "password", demo.DefaultPassword, "its password").Secret(),
		config.Float(&c.Scale, "scale", 1, "share of the server's schools to play"),
		config.Float(&c.Speed, "speed", 30, "times faster than real time (30: the 30 minutes in one)"),
		config.Duration(&c.Batch, "batch", 10*time.Second, "how often (in simulated time) a controller posts what it has"),
		config.Float(&c.LostCards, "lost-cards", 0.03, "share of pupils whose card is lost (an unknown credential)"),
		config.Float(&c.Bounces, "bounces", 0.05, "share of pupils who step out and back in at the gate"),
		config.Uint64(&c.Seed, "seed", 2026, "seed of the morning"),
	}
}

func (m *morningCmd) run(ctx context.Context, w Wiring, out, errOut io.Writer) error {
	rep, err := morning.Run(ctx, m.c, out)
	if err != nil {
		return err
	}
	fmt.Fprint(out, rep.String())
	return nil
}
