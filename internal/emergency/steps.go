package emergency

import (
	"context"
	"database/sql"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/store"
)

// Step is one entry of an emergency's ordered log: declared, confirmed,
// updated, cancelled (a false alarm) or all_clear. Each is one CAP 1.2
// alert (Alert, Update, Cancel with references to the earlier ones; status
// Exercise for a drill); it carries what the alert needs of the school.
type Step struct {
	ID          int64     `json:"id"`
	EmergencyID int64     `json:"emergency_id"`
	Incident    string    `json:"incident"`
	At          time.Time `json:"at"`
	Kind        string    `json:"kind"`
	Actor       string    `json:"actor"`
	Mode        Mode      `json:"mode"`
	Scenario    Scenario  `json:"scenario"`
	Place       string    `json:"place,omitempty"`
	Drill       bool      `json:"drill"`
	Silent      bool      `json:"silent"`
	School      Place     `json:"school"`
}

// Place is where an emergency is, as a CAP area needs it.
type Place struct {
	ID     int64    `json:"id"`
	NameKK string   `json:"name_kk"`
	NameRU string   `json:"name_ru"`
	KATO   string   `json:"kato"` // the district's code, else the region's
	Lat    *float64 `json:"lat,omitempty"`
	Lon    *float64 `json:"lon,omitempty"`
}

func (s *Service) logStep(ctx context.Context, tx *store.Tx, e Emergency, kind string, p auth.Principal, now time.Time) error {
	_, err := tx.ExecContext(ctx, "INSERT INTO emergency_steps (emergency_id, at, kind, actor, mode, scenario, place, drill, silent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		e.ID, store.Micros(now), kind, p.Actor(), string(e.Mode), string(e.Scenario), e.Place, e.Drill, e.Silent)
	return errs.Wrap(err, "emergency step")
}

// Steps returns an emergency's log, oldest first.
func (s *Service) Steps(ctx context.Context, p auth.Principal, id int64) ([]Step, error) {
	e, err := s.Get(ctx, p, id)
	if err != nil {
		return nil, err
	}
	return steps(ctx, s.DB.Reader(), e)
}

func steps(ctx context.Context, q store.Querier, e Emergency) ([]Step, error) {
	var pl Place
	var dc sql.NullString
	var rc string
	var lat, lon sql.NullFloat64
	if err := q.QueryRowContext(ctx, "SELECT id, name_kk, name_ru, region_code, district_code, lat, lon FROM schools WHERE id = ?", e.SchoolID).
		Scan(&pl.ID, &pl.NameKK, &pl.NameRU, &rc, &dc, &lat, &lon); err != nil {
		return nil, errs.Wrap(err, "emergency school")
	}
	pl.KATO = rc
	if dc.Valid {
		pl.KATO = dc.String
	}
	if lat.Valid && lon.Valid {
		pl.Lat, pl.Lon = &lat.Float64, &lon.Float64
	}
	out, err := store.Collect(ctx, q, func(rows *sql.Rows) (Step, error) {
		st := Step{EmergencyID: e.ID, Incident: e.Incident, School: pl}
		var at int64
		err := rows.Scan(&st.ID, &at, &st.Kind, &st.Actor, &st.Mode, &st.Scenario, &st.Place, &st.Drill, &st.Silent)
		st.At = store.FromMicros(at)
		return st, err
	}, "SELECT id, at, kind, actor, mode, scenario, place, drill, silent FROM emergency_steps WHERE emergency_id = ? ORDER BY id", e.ID)
	return out, errs.Wrap(err, "emergency steps")
}
