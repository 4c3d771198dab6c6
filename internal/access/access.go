// Package access turns turnstile passes, reader taps and the guard's manual
// passes into presence (who is inside each school now), attendance (first
// arrival and last departure of the day, lateness) and the roll-call an
// evacuation starts from. A device's resent event is stored once, whichever
// way it came; presence follows each event's own time, so a controller
// uploading its backlog late does not change who is inside now.
package access

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/kztime"
	"qorgan/internal/registry"
	"qorgan/internal/store"
	"qorgan/internal/text"
)

// Service records passes over one store. Every new pass is told to its
// Notices inside the intake transaction (the messages to guardians commit
// with the pass), and once a transaction stored new passes, wake is called
// (the delivery worker starts on them at once).
type Service struct {
	DB  *store.DB
	Now func() time.Time
	// MaxSkew is how far in the future an event's time may be (device
	// clocks drift); later ones are refused.
	MaxSkew time.Duration

	notices Notices
	wake    func()
	group   groupCommit
}

// Notices hears of new passes: Enqueue is called inside the intake
// transaction with the passes that were new (all the batches of one group
// commit, in time order), before presence takes them in, so that the
// messages it queues commit together with them and can read each person's
// day as it was. Its error fails the intake. Notifier is the Notices of the
// server.
type Notices interface {
	Enqueue(ctx context.Context, tx *store.Tx, passes []Pass) error
}

// NoticesFunc is a function that hears of new passes.
type NoticesFunc func(ctx context.Context, tx *store.Tx, passes []Pass) error

func (f NoticesFunc) Enqueue(ctx context.Context, tx *store.Tx, passes []Pass) error {
	return f(ctx, tx, passes)
}

// NoNotices tells nobody: for tools and tests that send no messages.
var NoNotices = NoticesFunc(func(context.Context, *store.Tx, []Pass) error { return nil })

// New returns a Service on db, on the wall clock, that tells notices of
// every new pass and calls wake after new passes were committed. None may be
// nil (NoNotices and a func(){} say "nobody" and "nothing" explicitly).
func New(db *store.DB, notices Notices, wake func()) *Service {
	switch {
	case db == nil:
		panic("access.New: no store")
	case notices == nil:
		panic("access.New: no notices (use access.NoNotices to tell nobody)")
	case wake == nil:
		panic("access.New: no wake (use func() {} to wake nothing)")
	}
	return &Service{DB: db, Now: time.Now, MaxSkew: 5 * time.Minute, notices: notices, wake: wake}
}

// Direction is which way a person went.
type Direction string

const (
	In  Direction = "in"
	Out Direction = "out"
)

// PassEvent is one event as a device reports it.
type PassEvent struct {
	EventID    string    `json:"event_id"`
	At         time.Time `json:"at"`
	Direction  Direction `json:"direction"`
	CardUID    string    `json:"card_uid,omitempty"`
	PhoneToken string    `json:"phone_token,omitempty"`
}

// Pass is a stored pass, with the person it was matched to.
type Pass struct {
	ID         int64     `json:"id"`
	SchoolID   int64     `json:"school_id"`
	DeviceID   int64     `json:"device_id,omitempty"`
	EventID    string    `json:"event_id"`
	At         time.Time `json:"at"`
	ReceivedAt time.Time `json:"received_at"`
	Direction  Direction `json:"direction"`
	Credential string    `json:"-"`
	PersonKind string    `json:"person_kind"` // pupil, staff, unknown
	PersonID   int64     `json:"person_id,omitempty"`
	Manual     bool      `json:"manual"`

	actor string // who let a manual pass through
}

// MaxBatch is the most events one intake call takes.
const MaxBatch = 5000

// Result says what an intake call did.
type Result struct {
	Received  int `json:"received"`
	Stored    int `json:"stored"`
	Duplicate int `json:"duplicate"`
	Unknown   int `json:"unknown"` // credentials matched to nobody (stored, shown to the guard)
}

// textFields are the text members of a PassEvent, in validate's order.
var textFields = [3]string{"event_id", "card_uid", "phone_token"}

// validate checks every event of a batch; a batch with any bad event is
// refused whole (all of its problems named), so a device never has to guess
// which of its events were taken.
func (s *Service) validate(events []PassEvent, now time.Time) error {
	if len(events) == 0 {
		return errs.Invalidf("events", "the batch has no events")
	}
	if len(events) > MaxBatch {
		return errs.E(errs.TooLarge, "events", "at most %d events per batch, got %d", MaxBatch, len(events))
	}
	var probs []*errs.Error
	seen := map[string]bool{}
	for i := range events {
		e := &events[i]
		f := func(name string) string { return fmt.Sprintf("events/%d/%s", i, name) }
		e.EventID = strings.TrimSpace(e.EventID)
		e.CardUID = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(e.CardUID), ":", ""))
		e.PhoneToken = strings.TrimSpace(e.PhoneToken)
		// Ids and credentials are one line of text (text.Line), as in a
		// JSON body; a batch over MQTT is checked here only.
		var badText [3]bool
		for j, v := range [3]string{e.EventID, e.CardUID, e.PhoneToken} {
			if msg := text.Check(v, text.Line); msg != "" {
				probs = append(probs, errs.Invalidf(f(textFields[j]), "%s %s", textFields[j], msg))
				badText[j] = true
			}
		}
		switch {
		case badText[0]:
		case e.EventID == "" || len(e.EventID) > 64:
			probs = append(probs, errs.Invalidf(f("event_id"), "event_id is required, 1–64 characters"))
		case seen[e.EventID]:
			probs = append(probs, errs.Invalidf(f("event_id"), "event_id %q appears twice in the batch", e.EventID))
		}
		seen[e.EventID] = true
		if e.At.IsZero() {
			probs = append(probs, errs.Invalidf(f("at"), "at (the time of the pass, RFC 3339) is required"))
		} else if e.At.After(now.Add(s.MaxSkew)) {
			probs = append(probs, errs.Invalidf(f("at"), "at %s is in the future (the device clock is %s ahead)", e.At.Format(time.RFC3339), e.At.Sub(now).Round(time.Second)))
		} else if e.At.Before(now.AddDate(0, 0, -60)) {
			probs = append(probs, errs.Invalidf(f("at"), "at %s is more than 60 days old", e.At.Format(time.RFC3339)))
		}
		if e.Direction != In && e.Direction != Out {
			probs = append(probs, errs.Invalidf(f("direction"), "direction must be in or out, got %q", e.Direction))
		}
		if badText[1] || badText[2] {
			continue
		}
		if (e.CardUID == "") == (e.PhoneToken == "") {
			probs = append(probs, errs.Invalidf(f("card_uid"), "give card_uid or phone_token, exactly one"))
		} else if len(e.CardUID) > 20 || len(e.PhoneToken) > 128 {
			probs = append(probs, errs.Invalidf(f("card_uid"), "credential too long"))
		}
	}
	return errs.Of(probs)
}

// Record stores a device's batch of events at its school, updates presence
// and (through its Notices) queues notifications, in one transaction. Resent
// events are counted as duplicates and change nothing.
func (s *Service) Record(ctx context.Context, d registry.Device, events []PassEvent) (Result, error) {
	if d.Kind != registry.Turnstile {
		return Result{}, errs.E(errs.Forbidden, "", "device %d is a %s, not a turnstile or reader", d.ID, d.Kind)
	}
	now := s.Now()
	if err := s.validate(events, now); err != nil {
		return Result{}, err
	}
	return s.record(ctx, d.SchoolID, d.ID, events, false, "", now)
}

// ManualPass records a pass the guard let through by hand (a lost or
// forgotten card); it counts and notifies like any other. requestID makes a
// repeated request harmless.
func (s *Service) ManualPass(ctx context.Context, p auth.Principal, schoolID, pupilID int64, dir Direction, requestID string) (Result, error) {
	if err := registry.AtSchool(ctx, s.DB.Reader(), p, kztime.Today(s.Now()), schoolID, auth.RecordPasses); err != nil {
		return Result{}, err
	}
	var n int
	if err := s.DB.Reader().QueryRowContext(ctx, "SELECT COUNT(*) FROM pupils WHERE id = ? AND school_id = ?", pupilID, schoolID).Scan(&n); err != nil {
		return Result{}, errs.Wrap(err, "manual pass")
	}
	if n == 0 {
		return Result{}, errs.E(errs.NotFound, "pupil_id", "no pupil %d at this school", pupilID)
	}
	now := s.Now()
	// The request id becomes the pass's event id; one too long for an
	// event id with its prefix is replaced by its digest, as repeatable.
	eventID := "manual:" + requestID
	if len(eventID) > 64 {
		sum := sha256.Sum256([]byte(requestID))
		eventID = "manual:" + hex.EncodeToString(sum[:20])
	}
	ev := []PassEvent{{EventID: eventID, At: now, Direction: dir, PhoneToken: fmt.Sprintf("pupil:%d", pupilID)}}
	if err := s.validate(ev, now); err != nil {
		return Result{}, err
	}
	return s.record(ctx, schoolID, 0, ev, true, p.Actor(), now)
}
