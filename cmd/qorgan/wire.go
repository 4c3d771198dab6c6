package main

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"qorgan/internal/alarm"
	"qorgan/internal/errs"
	"qorgan/internal/ingest/dc09gw"
	"qorgan/internal/protocol/dc09"
	"qorgan/internal/registry"
)

// alarmSink hands the DC-09 receiver's committed batches to the alarm domain.
type alarmSink struct{ alarms *alarm.Service }

func (s alarmSink) Commit(ctx context.Context, frames []dc09gw.Frame) error {
	sigs := make([]alarm.Signal, len(frames))
	for i, f := range frames {
		m := f.Message
		// A retry may be stamped anew: the same account, sequence number
		// and content within the window is one message, whatever its time.
		sigs[i] = alarm.Signal{Source: "dc09", Account: f.Account, Sequence: m.Sequence, Content: f.Content(), RetryWindow: dc09gw.RetransmissionWindow,
			Events: m.Events, LinkTest: len(m.Events) == 0, ReceivedAt: f.ReceivedAt, Remote: f.Remote, Raw: f.Raw}
	}
	return s.alarms.Commit(ctx, sigs)
}

// panelAccounts resolves DC-09 accounts to keys, with a short cache: the
// receiver asks for every frame.
type panelAccounts struct {
	reg *registry.Registry
	mu  sync.Mutex
	ttl time.Duration
	hit map[string]accountEntry
}

type accountEntry struct {
	key     []byte
	known   bool
	expires time.Time
}

func newPanelAccounts(reg *registry.Registry) *panelAccounts {
	return &panelAccounts{reg: reg, ttl: 30 * time.Second, hit: map[string]accountEntry{}}
}

func (p *panelAccounts) Lookup(ctx context.Context, account string) ([]byte, bool, error) {
	now := time.Now()
	p.mu.Lock()
	e, ok := p.hit[account]
	p.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.key, e.known, nil
	}
	_, key, err := p.reg.DeviceByDC09Account(ctx, account)
	known := err == nil
	if err != nil && errs.CodeOf(err) != errs.NotFound {
		return nil, false, err
	}
	ttl := p.ttl
	if !known {
		ttl = 5 * time.Second // a panel registered a moment ago is heard soon
	}
	p.mu.Lock()
	if len(p.hit) > 100_000 {
		p.hit = map[string]accountEntry{}
	}
	p.hit[account] = accountEntry{key: key, known: known, expires: now.Add(ttl)}
	p.mu.Unlock()
	return key, known, nil
}

// dc09Config is the receiver's part of the server's flags.
func (s *serveFlags) dc09Config() dc09gw.Config {
	return dc09gw.Config{Addr: s.dc09Addr, Window: dc09.Window{Past: s.dc09Past, Future: s.dc09Future},
		MaxConnsPerSource: s.dc09PerSource, FirstFrameTimeout: s.dc09FirstFrame}
}

// exportReceiverStats publishes the DC-09 receiver's counters on /metrics.
func exportReceiverStats(reg *prometheus.Registry, r *dc09gw.Receiver) {
	counter := func(name, help string, f func(dc09gw.Stats) uint64) {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "qorgan_dc09_" + name, Help: help},
			func() float64 { return float64(f(r.Stats())) }))
	}
	counter("frames_total", "DC-09 frames read, good or not.", func(s dc09gw.Stats) uint64 { return s.Frames })
	counter("acked_total", "DC-09 frames committed and ACKed.", func(s dc09gw.Stats) uint64 { return s.Accepted })
	counter("naks_total", "DC-09 frames refused with NAK.", func(s dc09gw.Stats) uint64 { return s.NAKs })
	counter("duhs_total", "DC-09 frames answered DUH.", func(s dc09gw.Stats) uint64 { return s.DUHs })
	counter("unknown_accounts_total", "DC-09 frames from unregistered accounts.", func(s dc09gw.Stats) uint64 { return s.UnknownAccounts })
	counter("unanswered_total", "DC-09 frames left unanswered because their commit failed.", func(s dc09gw.Stats) uint64 { return s.Unanswered })
	counter("commits_total", "Group commits of DC-09 frames.", func(s dc09gw.Stats) uint64 { return s.Commits })
	counter("commit_errors_total", "Failed group commits.", func(s dc09gw.Stats) uint64 { return s.CommitErrors })
	counter("split_commits_total", "Failed group commits whose frames were committed again in parts, to leave out only those that fail alone.", func(s dc09gw.Stats) uint64 { return s.SplitCommits })
	counter("connections_refused_total", "DC-09 TCP connections refused at a connection limit (every open one had proved itself).", func(s dc09gw.Stats) uint64 { return s.ConnectionsRefused })
	counter("connections_evicted_total", "DC-09 TCP connections that had sent no frame from a registered account, closed to make room at a limit.", func(s dc09gw.Stats) uint64 { return s.ConnectionsEvicted })
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "qorgan_dc09_connections", Help: "Open DC-09 TCP connections."},
		func() float64 { return float64(r.Stats().Connections) }))
}
