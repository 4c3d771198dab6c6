// Package alarm follows every alarm from the moment a signal arrives until
// someone has arrived at the school: it stores signals once (a retransmission
// is acknowledged again but not stored twice), raises alarms routed at once
// to the school's duty staff, the ПЦН of the provider under contract today and
// the ЦОУ whose jurisdiction covers the school, records each party's
// acknowledgement and the response, escalates when the ПЦН does not
// acknowledge in time (timers kept in the store, so they survive a restart),
// supervises devices that must report, and feeds the consoles' live stream.
package alarm

import (
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/protocol/alarmcode"
	"qorgan/internal/store"
	"qorgan/internal/urgent"
)

// Priority orders what a console shows first.
type Priority int

const (
	PriorityAlarm   Priority = 1 // people may be in danger
	PriorityTrouble Priority = 2 // the system may not be able to report danger
)

// priorityOf says whether an event type raises an alarm, and how urgent.
// Status reports (tests, openings, restores) are stored as signals only.
func priorityOf(t alarmcode.Type) (Priority, bool) {
	switch t {
	case alarmcode.Panic, alarmcode.Duress, alarmcode.SilentPanic, alarmcode.Holdup, alarmcode.Fire, alarmcode.Medical, alarmcode.Burglary:
		return PriorityAlarm, true
	case alarmcode.Unknown:
		// An event we cannot read may be a panic: raise it as one.
		return PriorityAlarm, true
	case alarmcode.Tamper, alarmcode.ACLoss, alarmcode.LowBattery, alarmcode.CommTrouble:
		return PriorityTrouble, true
	}
	return 0, false
}

// silentTypes are never announced inside the school: the attacker may be
// standing next to the guard.
func silent(t alarmcode.Type) bool {
	return t == alarmcode.SilentPanic || t == alarmcode.Duress || t == alarmcode.Holdup
}

// State is where an alarm is in its response.
type State string

const (
	Raised       State = "raised"
	Acknowledged State = "acknowledged"
	Dispatched   State = "dispatched"
	OnSite       State = "on_site"
	Resolved     State = "resolved"
)

// Party is who acts on an alarm.
type Party string

const (
	PartySchool Party = "school" // the school's duty staff
	PartyPCN    Party = "pcn"    // the security provider's monitoring console
	PartyCOU    Party = "cou"    // the police Operations Control Centre
	PartySystem Party = "system"
)

// Resolutions a closed alarm may have.
var Resolutions = []string{"real", "false", "test", "technical"}

// Defaults for escalation: no ПЦН acknowledgement within T1 escalates to the
// ЦОУ supervisor and the school director; none within T2 to the next level
// (the region's education department and police).
const (
	DefaultT1 = 30 * time.Second
	DefaultT2 = 60 * time.Second
)

// Service runs alarms over one store.
type Service struct {
	DB   *store.DB
	Auth *auth.Service
	Log  *slog.Logger
	Now  func() time.Time
	T1   time.Duration
	T2   time.Duration
	// Urgent, when set, has each device event (DeviceSignal: HTTP and
	// MQTT) and each press of a panic button (StaffPanic) marked on its way
	// from its check to its commit on disk, so that the work that can wait
	// gives way to it (package urgent). The DC-09 receiver marks its frames
	// itself, from queued for commit to answered.
	Urgent *urgent.Signal
	// FeedPoll is how often the live feed's reader looks at the store
	// when nothing wakes it (0: every 2 s); see Fanout.
	FeedPoll time.Duration

	bus      *Bus
	mu       sync.Mutex
	delivery map[int64]bool            // alarms whose first console delivery is recorded
	routes   map[int64]route           // school → where its alarms go, for routeTTL
	raised   map[int64]json.RawMessage // alarm → its raised event's JSON (fillRaised)
	heard    heardLog

	fanoutOnce sync.Once
	fanout     *Fanout // the node's consoles' reader (Fanout)
}

// New returns a Service with the default timers and the wall clock.
func New(db *store.DB, a *auth.Service, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{DB: db, Auth: a, Log: log, Now: time.Now, T1: DefaultT1, T2: DefaultT2, bus: NewBus(), delivery: map[int64]bool{}, routes: map[int64]route{},
		raised: map[int64]json.RawMessage{}}
}

// Bus returns the notifier consoles wait on.
func (s *Service) Bus() *Bus { return s.bus }
