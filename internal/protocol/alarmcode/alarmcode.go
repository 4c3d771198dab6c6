// Package alarmcode holds the event vocabulary that every panel protocol
// (Contact ID, SIA DCS) is translated into, so the receiver and the alarm
// domain deal with one set of types whatever the panel speaks.
package alarmcode

// Type is what Qorgan does with an event. It is deliberately coarse: the
// original protocol code travels alongside it in Event.Code.
type Type string

const (
	Panic       Type = "panic"
	Duress      Type = "duress"
	SilentPanic Type = "silent_panic"
	Holdup      Type = "holdup"
	Fire        Type = "fire"
	Medical     Type = "medical"
	// Burglary is an intrusion detector's alarm: someone in the building
	// while it is armed.
	Burglary     Type = "burglary"
	Tamper       Type = "tamper"
	ACLoss       Type = "ac_loss"
	LowBattery   Type = "low_battery"
	CommTrouble  Type = "comm_trouble"
	PeriodicTest Type = "periodic_test"
	Opening      Type = "opening"
	Closing      Type = "closing"
	// Restore ends an earlier condition; Event.Restores says which one, so
	// that a consumer switching on Type never mistakes "panic over" for a
	// new panic.
	Restore Type = "restore"
	// Unknown covers codes Qorgan has no specific handling for, known to
	// the protocol (water, gas, door access…) or not; Event.Known
	// tells the two apart.
	Unknown Type = "unknown"
)

// Types lists every Type, for validation and for tests that need to walk
// the whole vocabulary.
func Types() []Type {
	return []Type{Panic, Duress, SilentPanic, Holdup, Fire, Medical, Burglary, Tamper,
		ACLoss, LowBattery, CommTrouble, PeriodicTest, Opening, Closing,
		Restore, Unknown}
}

// IsAlarm reports whether the type calls for an operator response rather
// than a log line.
func (t Type) IsAlarm() bool {
	switch t {
	case Panic, Duress, SilentPanic, Holdup, Fire, Medical, Burglary:
		return true
	}
	return false
}

// Format names the panel protocol an event was written in.
type Format string

const (
	ContactID Format = "contact-id"
	SIADCS    Format = "sia-dcs"
)

// Event is one decoded panel event.
//
// Text fields are copied from the wire unchanged: they may be Windows-1252
// or binary, so they are not guaranteed to be valid UTF-8 and must not be
// trusted for display of Cyrillic names (those come from Qorgan's records).
type Event struct {
	Format Format
	// Code is the event code exactly as sent: "PA" for SIA DCS, the
	// qualifier and event "1120" for Contact ID.
	Code string
	// Description is the English name of the code in its standard, empty
	// when the code is not known.
	Description string
	Type        Type
	// Restores is the condition that ended when Type is Restore.
	Restores Type
	// Status is set for a Contact ID status report (qualifier 6): the
	// condition was reported before and is still present.
	Status bool
	// Known is false when the code is not in the protocol's table. The
	// receiver answers such a frame with DUH but still stores the event:
	// an unknown code from a school panic button is never dropped.
	Known     bool
	Zone      string
	User      string
	Partition string
	// Text is free text from the panel (SIA ^text^ or an |A block).
	Text string
}

// IsRestore reports whether the event ends an earlier condition.
func (e Event) IsRestore() bool { return e.Type == Restore }
