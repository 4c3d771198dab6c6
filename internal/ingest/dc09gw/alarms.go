package dc09gw

import (
	"context"
	"errors"
	"sync"
	"time"

	"qorgan/internal/alarm"
	"qorgan/internal/errs"
	"qorgan/internal/registry"
)

// Alarms takes the accepted frames as signals; *alarm.Service is one.
// Commit must store the whole batch in one transaction, or none of it, and
// return nil only when it is durable: the panels are answered then. A
// signal already stored (the same source, account, sequence and content,
// within the stored one's RetryWindow) must be stored once and still
// return nil, so that the retry is acknowledged again.
type Alarms interface {
	Commit(ctx context.Context, sigs []alarm.Signal) error
}

// AlarmsThen is an Alarms that can also commit a batch and report later
// when it is durable (see PipelinedSink); *alarm.Service is one.
type AlarmsThen interface {
	CommitThen(ctx context.Context, sigs []alarm.Signal) (durable func() error, err error)
}

// Devices finds the panel behind a DC-09 account, with its key (nil for a
// plain account); *registry.Registry is one. An unknown account is an
// error with code errs.NotFound; any other error is taken as the store
// failing, and the frame is left unanswered for the panel to retransmit.
type Devices interface {
	DeviceByDC09Account(ctx context.Context, account string) (registry.Device, []byte, error)
}

// New returns a receiver that commits the frames it accepts to alarms and
// finds the panels in devices, once per frame through a short cache; the
// device found travels with the frame to the commit. Listen or Run binds
// the sockets.
func New(cfg Config, alarms Alarms, devices Devices) (*Receiver, error) {
	if alarms == nil || devices == nil {
		return nil, errors.New("dc09gw: an Alarms and a Devices are required")
	}
	return NewWithSink(cfg, alarmSink{alarms}, newPanels(devices))
}

// alarmSink turns frames into the alarm domain's signals.
type alarmSink struct{ alarms Alarms }

func (s alarmSink) Commit(ctx context.Context, frames []Frame) error {
	return s.alarms.Commit(ctx, signals(frames))
}

// CommitThen commits through the alarms' CommitThen when they have one.
func (s alarmSink) CommitThen(ctx context.Context, frames []Frame) (func() error, error) {
	if a, ok := s.alarms.(AlarmsThen); ok {
		return a.CommitThen(ctx, signals(frames))
	}
	if err := s.alarms.Commit(ctx, signals(frames)); err != nil {
		return nil, err
	}
	return durableNow, nil
}

func durableNow() error { return nil }

// signals turns frames into the alarm domain's signals.
func signals(frames []Frame) []alarm.Signal {
	sigs := make([]alarm.Signal, len(frames))
	for i := range frames {
		f := &frames[i]
		m := &f.Message
		// A retry may be stamped anew: the same account, sequence number
		// and content within the window is one message, whatever its time.
		sigs[i] = alarm.Signal{Source: "dc09", Account: f.Account, DeviceID: f.Device.ID, SchoolID: f.Device.SchoolID,
			Sequence: m.Sequence, Content: f.Content(), RetryWindow: RetransmissionWindow,
			Events: m.Events, LinkTest: len(m.Events) == 0, ReceivedAt: f.ReceivedAt, Remote: f.Remote, Raw: f.Raw}
	}
	return sigs
}

// Cache lifetimes of the account lookup. The receiver asks for every
// frame; a device is never deleted nor moved to another school, so what
// is cached stays true, but a key changed or a panel registered a moment
// ago is heard soon.
const (
	knownTTL   = 30 * time.Second
	unknownTTL = 5 * time.Second
	maxCached  = 100_000
)

// panels resolves DC-09 accounts to their panels, with a short cache.
type panels struct {
	devices Devices
	mu      sync.Mutex
	hit     map[string]panelEntry
}

type panelEntry struct {
	panel   Panel
	known   bool
	expires time.Time
}

func newPanels(devices Devices) *panels {
	return &panels{devices: devices, hit: map[string]panelEntry{}}
}

func (p *panels) Lookup(ctx context.Context, account string) (Panel, bool, error) {
	now := time.Now()
	p.mu.Lock()
	e, ok := p.hit[account]
	p.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.panel, e.known, nil
	}
	d, key, err := p.devices.DeviceByDC09Account(ctx, account)
	known := err == nil
	if err != nil && errs.CodeOf(err) != errs.NotFound {
		return Panel{}, false, err
	}
	e = panelEntry{known: known, expires: now.Add(unknownTTL)}
	if known {
		e.panel, e.expires = Panel{Device: d, Key: key}, now.Add(knownTTL)
	}
	p.mu.Lock()
	if len(p.hit) > maxCached {
		p.hit = map[string]panelEntry{}
	}
	p.hit[account] = e
	p.mu.Unlock()
	return e.panel, e.known, nil
}
