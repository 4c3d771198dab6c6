package roadmap

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/registry"
	"qorgan/internal/store"
)

// Target is a share of schools to reach for an indicator at a place by a
// deadline, e.g. 100% with video to the standard nationwide by 2025-12-31.
type Target struct {
	ID       int64   `json:"id"`
	Key      Key     `json:"key"`
	Level    string  `json:"level"`
	Code     string  `json:"code,omitempty"`
	Share    float64 `json:"share"` // 0–1
	Deadline string  `json:"deadline"`
}

// Verdicts of a projection.
const (
	Reached      = "reached"
	OnTime       = "on time"
	Late         = "late"
	NotAtPace    = "not at this pace"
	NoHistory    = "not enough history"
	NotMeasuredV = "not measured"
)

// Projection is where one place stands against a target: its share in its
// latest live snapshot, its pace over its last snapshots, and the date it
// reaches the target at that pace.
type Projection struct {
	Target    Target   `json:"target"`
	Level     string   `json:"level"`
	Code      string   `json:"code"`
	Name      string   `json:"name"`
	Share     *float64 `json:"share"`
	AsOf      string   `json:"as_of,omitempty"`
	PerMonth  *float64 `json:"pace_per_month"` // share points gained per 30 days
	Projected string   `json:"projected,omitempty"`
	Verdict   string   `json:"verdict"`
}

// SetTarget records a target for a place in the caller's scope.
func (r *Roadmap) SetTarget(ctx context.Context, p auth.Principal, t Target) (Target, error) {
	if err := p.Require(auth.WriteRoadmap); err != nil {
		return t, err
	}
	known := false
	for _, k := range indicatorItems {
		known = known || k == t.Key
	}
	if !known {
		return t, errs.Invalidf("key", "key must be one of %v, got %q", indicatorItems, t.Key)
	}
	if t.Share <= 0 || t.Share > 1 || math.IsNaN(t.Share) {
		return t, errs.Invalidf("share", "share must be above 0 and at most 1, got %v", t.Share)
	}
	if _, err := time.Parse(time.DateOnly, t.Deadline); err != nil {
		return t, errs.Invalidf("deadline", "deadline must be a date YYYY-MM-DD, got %q", t.Deadline)
	}
	if t.Level != LevelNation && t.Level != LevelRegion && t.Level != LevelDistrict {
		return t, errs.Invalidf("level", "level must be nation, region or district, got %q", t.Level)
	}
	pl, err := r.placeOf(ctx, p, Place{Level: t.Level, Code: t.Code})
	if err != nil {
		return t, err
	}
	t.Code = pl.Code
	now := r.Now()
	err = r.DB.InTx(ctx, func(tx *store.Tx) error {
		err := tx.QueryRowContext(ctx, "INSERT INTO roadmap_targets (indicator, level, code, share_bp, deadline, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
			t.Key, t.Level, t.Code, bp(&t.Share), t.Deadline, store.Micros(now)).Scan(&t.ID)
		if store.IsUniqueViolation(err) {
			return errs.E(errs.Conflict, "deadline", "a target for %s at this place by %s exists already", t.Key, t.Deadline)
		}
		if err != nil {
			return err
		}
		return auth.Append(ctx, tx, now, p, "roadmap.target", fmt.Sprintf("target/%d", t.ID), t)
	})
	return t, err
}

// Targets lists the targets the caller's scope reaches, each projected for
// its place or, a national target, for every region in the scope too.
func (r *Roadmap) Targets(ctx context.Context, p auth.Principal) ([]Projection, error) {
	if err := p.Require(auth.ReadRegistry); err != nil {
		return nil, err
	}
	targets, err := store.Collect(ctx, r.DB.Reader(), func(rows *sql.Rows) (Target, error) {
		var t Target
		var b int64
		err := rows.Scan(&t.ID, &t.Key, &t.Level, &t.Code, &b, &t.Deadline)
		t.Share = float64(b) / 1e4
		return t, err
	}, "SELECT id, indicator, level, code, share_bp, deadline FROM roadmap_targets ORDER BY deadline, id")
	if err != nil {
		return nil, errs.Wrap(err, "targets")
	}
	names := map[string]string{"": "Қазақстан / Казахстан"}
	for _, rg := range registry.Regions() {
		names[rg.Code] = rg.NameRU
	}
	out := []Projection{}
	for _, t := range targets {
		var places []Place
		switch t.Level {
		case LevelNation:
			if covers(p, Place{Level: LevelNation}, "") {
				places = append(places, Place{Level: LevelNation})
			}
			for _, rg := range registry.Regions() {
				if covers(p, Place{Level: LevelRegion, Code: rg.Code}, "") {
					places = append(places, Place{Level: LevelRegion, Code: rg.Code})
				}
			}
		default:
			if _, err := r.placeOf(ctx, p, Place{Level: t.Level, Code: t.Code}); err == nil {
				places = append(places, Place{Level: t.Level, Code: t.Code})
			}
		}
		for _, pl := range places {
			pr, err := r.project(ctx, t, pl)
			if err != nil {
				return nil, err
			}
			pr.Name = names[pl.Code]
			if pl.Level == LevelDistrict {
				r.DB.Reader().QueryRowContext(ctx, "SELECT name_ru FROM districts WHERE code = ?", pl.Code).Scan(&pr.Name)
			}
			out = append(out, pr)
		}
	}
	return out, nil
}

// paceSnapshots is how many of a place's latest live snapshots set its pace.
const paceSnapshots = 6

// project places a target at a place against its live snapshots.
func (r *Roadmap) project(ctx context.Context, t Target, pl Place) (Projection, error) {
	pr := Projection{Target: t, Level: pl.Level, Code: pl.Code}
	snaps, err := r.snapshotsOf(ctx, pl, OriginLive)
	if err != nil {
		return pr, err
	}
	type point struct {
		day   time.Time
		share float64
	}
	var pts []point
	for _, s := range snaps {
		for _, f := range s.Figures {
			if f.Key == t.Key && f.Share != nil {
				d, _ := time.Parse(time.DateOnly, s.TakenOn)
				pts = append(pts, point{d, *f.Share})
			}
		}
	}
	if len(pts) > paceSnapshots {
		pts = pts[len(pts)-paceSnapshots:]
	}
	if len(pts) == 0 {
		pr.Verdict = NoHistory
		return pr, nil
	}
	last := pts[len(pts)-1]
	pr.Share, pr.AsOf = fp(last.share), last.day.Format(time.DateOnly)
	if last.share >= t.Share-1e-9 {
		pr.Verdict = Reached
		return pr, nil
	}
	first := pts[0]
	days := last.day.Sub(first.day).Hours() / 24
	if len(pts) < 2 || days <= 0 {
		pr.Verdict = NoHistory
		return pr, nil
	}
	perDay := (last.share - first.share) / days
	pr.PerMonth = fp(math.Round(perDay*30*1e4) / 1e4)
	if perDay <= 0 {
		pr.Verdict = NotAtPace
		return pr, nil
	}
	need := math.Ceil((t.Share-last.share)/perDay - 1e-6) // shares are whole basis points: no float dust
	if need > 365*100 {
		pr.Verdict = NotAtPace
		return pr, nil
	}
	at := last.day.AddDate(0, 0, int(need))
	pr.Projected = at.Format(time.DateOnly)
	pr.Verdict = OnTime
	if pr.Projected > t.Deadline {
		pr.Verdict = Late
	}
	return pr, nil
}
