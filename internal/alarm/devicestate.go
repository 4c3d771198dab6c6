package alarm

import (
	"context"
	"database/sql"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/kztime"
	"qorgan/internal/registry"
	"qorgan/internal/store"
)

// Device states as supervision sees them.
const (
	DeviceWorking      = "working"      // heard within its reporting interval
	DeviceSilent       = "silent"       // supervised and not heard within its interval
	DeviceNeverHeard   = "never_heard"  // supervised, and nothing received since it was registered
	DeviceUnsupervised = "unsupervised" // reports on no schedule: no promise to break
)

// DeviceState is a school's device with what supervision knows of it.
type DeviceState struct {
	ID                int64               `json:"id"`
	Kind              registry.DeviceKind `json:"kind"`
	Name              string              `json:"name"`
	Place             string              `json:"place,omitempty"`
	ReportingInterval int                 `json:"reporting_interval_s"`
	LastSeen          *time.Time          `json:"last_seen_at,omitempty"`
	State             string              `json:"state"`
}

// DeviceStates lists school schoolID's devices with their state at now:
// a device never heard, or silent past its reporting interval, does not
// count as working.
func (s *Service) DeviceStates(ctx context.Context, p auth.Principal, schoolID int64) ([]DeviceState, error) {
	now := s.Now()
	q := s.DB.Reader()
	if err := registry.AtSchool(ctx, q, p, kztime.Today(now), schoolID, auth.ReadRegistry); err != nil {
		return nil, err
	}
	out, err := store.Collect(ctx, q, func(rows *sql.Rows) (DeviceState, error) {
		var d DeviceState
		var seen sql.NullInt64
		var lost bool
		err := rows.Scan(&d.ID, &d.Kind, &d.Name, &d.Place, &d.ReportingInterval, &seen, &lost)
		d.LastSeen = store.FromNullMicros(seen)
		switch {
		case d.ReportingInterval <= 0:
			// No promise to report: nothing to break (a camera, a
			// turnstile heard only through its passes).
			d.State = DeviceUnsupervised
		case !seen.Valid:
			d.State = DeviceNeverHeard
		case lost || now.Sub(*d.LastSeen) > time.Duration(d.ReportingInterval)*time.Second:
			d.State = DeviceSilent
		default:
			d.State = DeviceWorking
		}
		return d, err
	}, `SELECT d.id, d.kind, d.name, COALESCE(d.place, ''), d.reporting_interval_s, st.last_seen_at, st.lost_alarm_id IS NOT NULL
		FROM devices d LEFT JOIN device_status st ON st.device_id = d.id WHERE d.school_id = ? ORDER BY d.kind, d.id`, schoolID)
	return out, errs.Wrap(err, "device states")
}
