package roadmap

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/chore"
	"qorgan/internal/errs"
	"qorgan/internal/kztime"
	"qorgan/internal/store"
)

// Origins of a snapshot: computed here from the store, or a published
// figure seeded with its source. Reports show both, never one as the other.
const (
	OriginLive   = "live"
	OriginSeeded = "seeded"
)

// Figure is one snapshot figure of a place. Seeded figures may give only a
// share (Required and Having nil) or only a count; Qualifier "over" is the
// letter's «свыше».
type Figure struct {
	Level     string   `json:"level"`
	Code      string   `json:"code,omitempty"`
	Key       Key      `json:"key"`
	Required  *int     `json:"required"`
	Having    *int     `json:"having"`
	Share     *float64 `json:"share"`
	Measured  bool     `json:"measured"`
	Qualifier string   `json:"qualifier,omitempty"`
	Note      string   `json:"note,omitempty"`
}

// Snapshot is the figures of a day, live or seeded, with their source.
type Snapshot struct {
	ID      int64    `json:"id"`
	TakenOn string   `json:"taken_on"`
	Origin  string   `json:"origin"`
	Source  string   `json:"source"`
	Figures []Figure `json:"figures"`
}

func ip(n int) *int { return &n }

func bp(share *float64) any {
	if share == nil {
		return nil
	}
	return int64(*share*1e4 + 0.5)
}

// seeded is the published record Qorgan starts with.
var seeded = []Snapshot{
	{TakenOn: "2021-01-01", Origin: OriginSeeded,
		Source: "Minister's answer to deputies' inquiry ДЗ-237 (2021); dated by its year, the day is not in our sources",
		Figures: []Figure{
			{Key: Video, Share: fp(1), Note: "100% of schools have video surveillance"},
			{Key: VideoStandard, Share: fp(0.81), Note: "81% of them to the standards and requirements"},
			{Key: Guard, Having: ip(874), Note: "over 2,700 education objects under specialised guards; of them 874 schools with specialised security services"},
			{Key: Panic, Having: ip(761), Note: "761 of those 874 schools have panic buttons"},
			{Key: PCN, Having: ip(1700), Qualifier: "over", Note: "over 1,700 schools with alarm output to monitoring consoles (ПЦН)"},
			{Key: Turnstiles, Required: ip(2357), Having: ip(681), Share: fp(0.29), Note: "681 of the 2,357 schools required to have turnstiles, 29%"},
		}},
	{TakenOn: "2025-12-03", Origin: OriginSeeded, Source: "official statement of 3 December 2025",
		Figures: []Figure{
			{Key: Panic, Share: fp(0.87), Note: "87% of schools have panic buttons"},
			{Key: Turnstiles, Share: fp(0.62), Note: "62% of schools have turnstiles"},
			{Key: COU, Share: fp(0.70), Note: "70% of schools connected to the ЦОУ"},
			{Key: Guard, Share: fp(0.72), Note: "72% of state schools have licensed guards under contract"},
		}},
}

func fp(f float64) *float64 { return &f }

// SourceIDs names each published record Qorgan ships by a stable id, keyed
// by its source as stored (in English, for the record and the API), so
// that a page can say the source in its reader's language.
var SourceIDs = map[string]string{
	seeded[0].Source: "dz237_2021",
	seeded[1].Source: "statement_2025_12_03",
}

// seed writes the published history and the 2021 allocations once.
func (r *Roadmap) seed(ctx context.Context) error {
	now := store.Micros(r.Now())
	return r.DB.InTx(ctx, func(tx *store.Tx) error {
		for _, s := range seeded {
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM roadmap_snapshots WHERE origin = ? AND taken_on = ? AND source = ?", s.Origin, s.TakenOn, s.Source).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				continue
			}
			var id int64
			if err := tx.QueryRowContext(ctx, "INSERT INTO roadmap_snapshots (taken_on, origin, source, created_at) VALUES (?, ?, ?, ?) RETURNING id",
				s.TakenOn, s.Origin, s.Source, now).Scan(&id); err != nil {
				return err
			}
			for _, f := range s.Figures {
				if _, err := tx.ExecContext(ctx, `INSERT INTO roadmap_figures (snapshot_id, level, code, indicator, required_n, having_n, share_bp, measured, qualifier, note)
					VALUES (?, ?, '', ?, ?, ?, ?, ?, ?, ?)`, id, LevelNation, f.Key, f.Required, f.Having, bp(f.Share), true, f.Qualifier, f.Note); err != nil {
					return err
				}
			}
		}
		return seedAllocations(ctx, tx, now)
	})
}

// TakeSnapshot computes the nation's, every region's and every district's
// figures now and keeps them as the live snapshot of today (replacing one
// taken earlier today). Only a person whose scope is the nation may.
func (r *Roadmap) TakeSnapshot(ctx context.Context, p auth.Principal) (Snapshot, error) {
	if err := p.Require(auth.WriteRoadmap); err != nil {
		return Snapshot{}, err
	}
	if !covers(p, Place{Level: LevelNation}, "") {
		return Snapshot{}, errs.E(errs.Forbidden, "", "a snapshot of the nation needs the nation's scope")
	}
	return r.takeSnapshot(ctx, r.Now())
}

func (r *Roadmap) takeSnapshot(ctx context.Context, now time.Time) (Snapshot, error) {
	total, districts, _, err := r.compute(ctx, "1=1", nil, now, func(s schoolRow) (string, string) { return s.region + "/" + s.district, "" })
	if err != nil {
		return Snapshot{}, err
	}
	regions := map[string]*tally{}
	for k, t := range districts {
		region, _, _ := strings.Cut(k, "/")
		rt := regions[region]
		if rt == nil {
			rt = &tally{}
			regions[region] = rt
		}
		rt.schools += t.schools
		rt.uto += t.uto
		rt.drilled += t.drilled
		rt.drills = rt.drills || t.drills
		for i := range t.required {
			rt.required[i] += t.required[i]
			rt.having[i] += t.having[i]
		}
	}
	snap := Snapshot{TakenOn: kztime.Today(now).Format(time.DateOnly), Origin: OriginLive,
		Source: "computed by Qorgan from live data at " + now.UTC().Format(time.RFC3339)}
	add := func(level, code string, t *tally) {
		for _, in := range t.indicators() {
			f := Figure{Level: level, Code: code, Key: in.Key, Share: in.Share, Measured: in.Measured}
			if in.Measured {
				f.Required, f.Having = ip(in.Required), ip(in.Having)
			}
			snap.Figures = append(snap.Figures, f)
		}
	}
	add(LevelNation, "", total)
	for code, t := range regions {
		add(LevelRegion, code, t)
	}
	for k, t := range districts {
		if _, d, _ := strings.Cut(k, "/"); d != "" {
			add(LevelDistrict, d, t)
		}
	}
	err = r.DB.InTx(ctx, func(tx *store.Tx) error {
		var old int64
		err := tx.QueryRowContext(ctx, "SELECT id FROM roadmap_snapshots WHERE origin = ? AND taken_on = ?", OriginLive, snap.TakenOn).Scan(&old)
		if err == nil {
			if _, err := tx.ExecContext(ctx, "DELETE FROM roadmap_figures WHERE snapshot_id = ?", old); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "DELETE FROM roadmap_snapshots WHERE id = ?", old); err != nil {
				return err
			}
		} else if err != sql.ErrNoRows {
			return err
		}
		if err := tx.QueryRowContext(ctx, "INSERT INTO roadmap_snapshots (taken_on, origin, source, created_at) VALUES (?, ?, ?, ?) RETURNING id",
			snap.TakenOn, snap.Origin, snap.Source, store.Micros(now)).Scan(&snap.ID); err != nil {
			return err
		}
		b := tx.NewBulk("roadmap_figures", "snapshot_id", "level", "code", "indicator", "required_n", "having_n", "share_bp", "measured", "qualifier", "note")
		for _, f := range snap.Figures {
			if err := b.Add(ctx, snap.ID, f.Level, f.Code, string(f.Key), f.Required, f.Having, bp(f.Share), f.Measured, "", ""); err != nil {
				return err
			}
		}
		return b.Flush(ctx)
	})
	return snap, err
}

// MonthlySnapshot takes this month's live snapshot unless there is one:
// on the first day of the month, or at the first start after it.
func (r *Roadmap) MonthlySnapshot(ctx context.Context) (bool, error) {
	now := r.Now()
	month := kztime.Today(now).Format("2006-01")
	var n int
	if err := r.DB.Reader().QueryRowContext(ctx, "SELECT COUNT(*) FROM roadmap_snapshots WHERE origin = ? AND taken_on >= ? AND taken_on <= ?",
		OriginLive, month+"-01", month+"-31").Scan(&n); err != nil {
		return false, errs.Wrap(err, "snapshots")
	}
	if n > 0 {
		return false, nil
	}
	_, err := r.takeSnapshot(ctx, now)
	return err == nil, err
}

// Run takes the monthly snapshot (checked every hour) and rebuilds the
// kept evaluation hourly, until ctx ends.
func (r *Roadmap) Run(ctx context.Context, log *slog.Logger) {
	first := true
	chore.Every(ctx, time.Hour, log, "roadmap: monthly snapshot taken", "snapshots", func(ctx context.Context) (int64, error) {
		if !first {
			r.Rebuild() // hourly: nothing a refresh could miss lives longer
		}
		first = false
		took, err := r.MonthlySnapshot(ctx)
		if took {
			return 1, err
		}
		return 0, err
	})
}

// placeOf resolves a place to ask snapshots or targets for: empty is the
// caller's own (the nation, or its region or district).
func (r *Roadmap) placeOf(ctx context.Context, p auth.Principal, pl Place) (Place, error) {
	if pl.Level == "" {
		switch p.Scope.Kind {
		case auth.ScopeInstallation, auth.ScopeNation:
			pl = Place{Level: LevelNation}
		case auth.ScopeRegion:
			pl = Place{Level: LevelRegion, Code: p.Scope.Ref}
		case auth.ScopeDistrict:
			pl = Place{Level: LevelDistrict, Code: p.Scope.Ref}
		}
	}
	var region string
	switch pl.Level {
	case LevelNation:
		pl.Code = ""
	case LevelRegion:
	case LevelDistrict:
		if err := r.DB.Reader().QueryRowContext(ctx, "SELECT region_code FROM districts WHERE code = ?", pl.Code).Scan(&region); err != nil && err != sql.ErrNoRows {
			return pl, errs.Wrap(err, "district")
		}
	case "":
		return pl, errs.NotFoundf("no place in your scope has roadmap figures")
	default:
		return pl, errs.Invalidf("level", "level must be nation, region or district, got %q", pl.Level)
	}
	if !covers(p, pl, region) {
		return pl, errs.NotFoundf("no %s %s", pl.Level, pl.Code)
	}
	return pl, nil
}

// Snapshots lists the snapshots of a place in the caller's scope, oldest
// first, seeded and live apart (each says its origin and source), with the
// place's figures.
func (r *Roadmap) Snapshots(ctx context.Context, p auth.Principal, pl Place) ([]Snapshot, error) {
	if err := p.Require(auth.ReadRegistry); err != nil {
		return nil, err
	}
	pl, err := r.placeOf(ctx, p, pl)
	if err != nil {
		return nil, err
	}
	return r.snapshotsOf(ctx, pl, "")
}

func (r *Roadmap) snapshotsOf(ctx context.Context, pl Place, origin string) ([]Snapshot, error) {
	byID := map[int64]*Snapshot{}
	var order []int64
	q := `SELECT n.id, n.taken_on, n.origin, n.source, f.indicator, f.required_n, f.having_n, f.share_bp, f.measured, f.qualifier, f.note
		FROM roadmap_snapshots n JOIN roadmap_figures f ON f.snapshot_id = n.id WHERE f.level = ? AND f.code = ?`
	args := []any{pl.Level, pl.Code}
	if origin != "" {
		q += " AND n.origin = ?"
		args = append(args, origin)
	}
	err := store.Each(ctx, r.DB.Reader(), func(rows *sql.Rows) error {
		var s Snapshot
		var f Figure
		var req, have, share sql.NullInt64
		if err := rows.Scan(&s.ID, &s.TakenOn, &s.Origin, &s.Source, &f.Key, &req, &have, &share, &f.Measured, &f.Qualifier, &f.Note); err != nil {
			return err
		}
		f.Level, f.Code = pl.Level, pl.Code
		if req.Valid {
			f.Required = ip(int(req.Int64))
		}
		if have.Valid {
			f.Having = ip(int(have.Int64))
		}
		if share.Valid {
			f.Share = fp(float64(share.Int64) / 1e4)
		}
		if byID[s.ID] == nil {
			s.Figures = []Figure{}
			byID[s.ID] = &s
			order = append(order, s.ID)
		}
		byID[s.ID].Figures = append(byID[s.ID].Figures, f)
		return nil
	}, q+" ORDER BY n.taken_on, n.id", args...)
	if err != nil {
		return nil, errs.Wrap(err, "snapshots")
	}
	out := make([]Snapshot, 0, len(order))
	for _, id := range order {
		s := byID[id]
		sort.Slice(s.Figures, func(i, j int) bool { return keyOrder(s.Figures[i].Key) < keyOrder(s.Figures[j].Key) })
		out = append(out, *s)
	}
	return out, nil
}

func keyOrder(k Key) int {
	for i, x := range IndicatorKeys {
		if x == k {
			return i
		}
	}
	return len(IndicatorKeys)
}

// String is a snapshot figure as a line of text.
func (f Figure) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:", f.Key)
	if !f.Measured {
		return b.String() + " not measured"
	}
	if f.Having != nil {
		fmt.Fprintf(&b, " %s%d", map[string]string{"over": "over "}[f.Qualifier], *f.Having)
		if f.Required != nil {
			fmt.Fprintf(&b, " of %d", *f.Required)
		}
	}
	if f.Share != nil {
		fmt.Fprintf(&b, " %.1f%%", *f.Share*100)
	}
	return b.String()
}
