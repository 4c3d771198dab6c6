package main

import (
	"context"
	"sync"
	"time"

	"qorgan/internal/alarm"
	"qorgan/internal/errs"
	"qorgan/internal/ingest/dc09gw"
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

// newDC09Receiver makes a DC-09 receiver that commits to alarms and looks
// the panels' accounts up in reg.
func newDC09Receiver(cfg dc09gw.Config, alarms *alarm.Service, reg *registry.Registry) (*dc09gw.Receiver, error) {
	return dc09gw.New(cfg, alarmSink{alarms}, newPanelAccounts(reg))
}
