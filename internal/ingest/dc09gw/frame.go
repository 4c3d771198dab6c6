package dc09gw

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"qorgan/internal/protocol/dc09"
)

// step is the fate of one frame: an answer known at once (nil when the
// frame gets none), or a commit to wait for before answering.
type step struct {
	answer  []byte
	pending *pending
	msg     dc09.Message
	keys    *accountKey
	source  source
}

// source is where a frame came from, for the Frame and the logs.
type source struct {
	ip        string // rate-limit key: the address without the port
	remote    string
	transport string
}

// accountKey looks the account up once per frame and serves the key to
// Parse and Answer as a dc09.KeyLookup, keeping the panel for the
// decision that follows and for the Frame.
type accountKey struct {
	ctx      context.Context
	accounts Accounts
	done     bool
	account  string
	panel    Panel
	known    bool
	err      error
}

func (a *accountKey) lookup(account string) {
	if a.done && a.account == account {
		return
	}
	a.done, a.account = true, account
	a.panel, a.known, a.err = a.accounts.Lookup(a.ctx, account)
}

func (a *accountKey) Key(account string) ([]byte, bool) {
	a.lookup(account)
	if a.err != nil || !a.known || a.panel.Key == nil {
		return nil, false
	}
	return a.panel.Key, true
}

// inspect parses one frame and decides its fate. It never ACKs: frames
// that may be ACKed are queued for commit and answered by finish.
func (r *Receiver) inspect(raw []byte, src source) step {
	r.stats.frames.Add(1)
	now := r.cfg.Now()
	keys := &accountKey{ctx: r.work, accounts: r.accounts}
	m, err := dc09.Parse(raw, keys, now, r.cfg.Window)
	reply := dc09.Decide(m, err)
	st := step{msg: m, keys: keys, source: src}

	if reply == dc09.ReplyNone {
		r.stats.ignored.Add(1)
		reason := "not-dc09"
		if err == nil {
			reason = "response-token"
		}
		r.reject(slog.LevelWarn, src, reason, raw, m, err)
		return st
	}
	if keys.err != nil {
		r.lookupFailed(src, raw, m, keys.err)
		return st
	}
	if err != nil {
		switch {
		case keys.done && !keys.known:
			r.unknownAccount(src, raw, m)
		case errors.Is(err, dc09.ErrTimestamp):
			// The frame is complete: log its events, a real alarm from a
			// panel with a drifting clock must be visible before the retry.
			r.reject(slog.LevelWarn, src, reason(err), raw, m, err, "events", m.Events)
		default:
			r.reject(slog.LevelWarn, src, reason(err), raw, m, err)
		}
		st.answer = r.answer(reply, st)
		return st
	}

	account := strings.ToUpper(m.AccountID())
	keys.lookup(account)
	switch {
	case keys.err != nil:
		r.lookupFailed(src, raw, m, keys.err)
		return st
	case !keys.known:
		r.unknownAccount(src, raw, m)
		st.answer = r.answer(dc09.ReplyNAK, st)
		return st
	case keys.panel.Key != nil && !m.Encrypted:
		// An account with a key sends encrypted frames only: a plain one
		// is a misconfigured panel or someone speaking for it.
		r.security(src, "plain-frame-for-encrypted-account", raw, m)
		st.answer = r.answer(dc09.ReplyNAK, st)
		return st
	}
	st.pending = &pending{
		frame: Frame{
			Account:    account,
			Device:     keys.panel.Device,
			Message:    m,
			Raw:        append([]byte(nil), raw...),
			Remote:     src.remote,
			Transport:  src.transport,
			ReceivedAt: now.UTC(),
			Reply:      reply,
		},
		src:  src,
		done: make(chan error, 1),
		read: time.Now(),
	}
	return st
}

// answer builds the bytes of a reply and counts it.
func (r *Receiver) answer(reply dc09.Reply, st step) []byte {
	out, err := dc09.Answer(reply, st.msg, st.keys, r.cfg.Now(), r.cfg.Rand)
	if err != nil {
		r.log.Error("dc09: cannot build reply", "reply", reply.String(), "remote", st.source.remote,
			"account", st.msg.AccountID(), "err", err)
		return nil
	}
	switch reply {
	case dc09.ReplyACK:
		r.stats.acks.Add(1)
	case dc09.ReplyNAK:
		r.stats.naks.Add(1)
	case dc09.ReplyDUH:
		r.stats.duhs.Add(1)
	}
	return out
}

// finish waits for a queued frame's commit and returns its answer: none
// when the commit failed, so that the panel retransmits.
func (r *Receiver) finish(st step) []byte {
	if st.pending == nil {
		return st.answer
	}
	err := <-st.pending.done
	if marked(st.pending) {
		r.cfg.Urgent.End()
	}
	if err != nil {
		r.stats.unanswered.Add(1)
		return nil
	}
	r.answerTimes.Observe(time.Since(st.pending.read).Seconds())
	return r.answer(st.pending.frame.Reply, st)
}

// enqueue hands a frame to the committer. A frame that carries events
// (an alarm, a restoral, a test report: anything but a link test) is marked
// on its way in Config.Urgent until finish has its answer.
func (r *Receiver) enqueue(st step) {
	if st.pending != nil {
		if marked(st.pending) {
			r.cfg.Urgent.Begin() // a nil Signal marks nothing
		}
		r.queue <- st.pending
	}
}

// marked reports whether a frame is marked on its way while it waits for
// its commit: one that carries events, not a link test.
func marked(p *pending) bool { return len(p.frame.Message.Events) > 0 }

func reason(err error) string {
	for _, c := range []struct {
		err  error
		name string
	}{
		{dc09.ErrTooLarge, "too-large"},
		{dc09.ErrCRC, "crc"},
		{dc09.ErrLength, "length"},
		{dc09.ErrFormat, "format"},
		{dc09.ErrUnsupportedToken, "unsupported-token"},
		{dc09.ErrNoKey, "no-key"},
		{dc09.ErrDecrypt, "decrypt"},
		{dc09.ErrTimestamp, "timestamp"},
		{dc09.ErrNotDC09, "not-dc09"},
	} {
		if errors.Is(err, c.err) {
			return c.name
		}
	}
	return "other"
}

// maxLoggedRaw keeps a garbage flood from writing kilobytes per log line.
const maxLoggedRaw = 256

func rawAttr(raw []byte) slog.Attr {
	if len(raw) > maxLoggedRaw {
		return slog.String("raw", string(raw[:maxLoggedRaw])+"…")
	}
	return slog.String("raw", string(raw))
}

// reject logs a refused frame, at most once per source and reason per
// LogEvery.
func (r *Receiver) reject(level slog.Level, src source, why string, raw []byte, m dc09.Message, err error, extra ...any) {
	ok, suppressed := r.limiter.Allow(time.Now(), src.ip, why)
	if !ok {
		return
	}
	args := []any{"reason", why, "remote", src.remote, "transport", src.transport,
		"account", m.AccountID(), "seq", m.Sequence, rawAttr(raw)}
	if err != nil {
		args = append(args, "err", err.Error())
	}
	args = append(args, extra...)
	if suppressed > 0 {
		args = append(args, "suppressed", suppressed)
	}
	r.log.Log(context.Background(), level, "dc09 frame refused", args...)
}

// securityReasons are the refusals that may be an attack; their log lines
// carry security=true for the security log.
var securityReasons = map[string]bool{
	"unknown-account":                   true,
	"plain-frame-for-encrypted-account": true,
}

// security logs a refusal that may be an attack, rate-limited like the
// others.
func (r *Receiver) security(src source, why string, raw []byte, m dc09.Message) {
	r.reject(slog.LevelWarn, src, why, raw, m, nil, "security", true)
}

func (r *Receiver) unknownAccount(src source, raw []byte, m dc09.Message) {
	r.stats.unknownAccounts.Add(1)
	r.security(src, "unknown-account", raw, m)
}

func (r *Receiver) lookupFailed(src source, raw []byte, m dc09.Message, err error) {
	r.stats.lookupErrors.Add(1)
	r.reject(slog.LevelError, src, "account-lookup-failed", raw, m, err)
}
