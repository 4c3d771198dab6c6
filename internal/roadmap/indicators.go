package roadmap

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sort"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/kztime"
	"qorgan/internal/registry"
	"qorgan/internal/store"
)

// Levels of the places figures are given for.
const (
	LevelNation   = "nation"
	LevelRegion   = "region"
	LevelDistrict = "district"
	LevelSchool   = "school"
	// LevelScope is the schools of a scope that is no place: a ПЦН's
	// contracted schools, a ЦОУ's jurisdiction.
	LevelScope = "scope"
)

// Indicator is one coverage figure: of the schools Required to have the
// item, how many have it (and it works), as a count and a share.
// Measured is false for what Qorgan does not measure yet (the drill): its
// counts are then not zero but unknown, and Share is nil.
type Indicator struct {
	Key      Key      `json:"key"`
	Required int      `json:"required"`
	Having   int      `json:"having"`
	Share    *float64 `json:"share"` // Having/Required, 0–1; nil when nothing is required or not measured
	Measured bool     `json:"measured"`
	// Denominator names what the share is of, e.g. "among the 2357 schools
	// required to have turnstiles".
	Denominator string `json:"denominator"`
}

// Figures are the live indicators of one place, with its parts (regions of
// the nation, districts of a region, schools of a district).
type Figures struct {
	Level      string      `json:"level"`
	Code       string      `json:"code,omitempty"`
	Name       string      `json:"name"`
	AsOf       string      `json:"as_of"`
	ComputedAt time.Time   `json:"computed_at"`
	Origin     string      `json:"origin"` // live
	Source     string      `json:"source"`
	RuleSet    string      `json:"rule_set"`
	Schools    int         `json:"schools"`
	UTOSchools int         `json:"uto_schools"`
	Indicators []Indicator `json:"indicators"`
	Parts      []Figures   `json:"parts,omitempty"`
}

// Indicator returns the figure for k (the zero Indicator if absent).
func (f Figures) Indicator(k Key) Indicator {
	for _, i := range f.Indicators {
		if i.Key == k {
			return i
		}
	}
	return Indicator{Key: k}
}

var itemNoun = map[Key]string{Video: "video surveillance", VideoStandard: "video surveillance to the standard", COU: "cameras connected to the ЦОУ",
	Panic: "panic buttons", PCN: "alarm output to a ПЦН", Turnstiles: "turnstiles", Guard: "a licensed guard", Drill: "this year's drill"}

// Place is what figures are asked for: a level and its code (a KATO code,
// or a school id); an empty Level is the caller's whole scope.
type Place struct {
	Level string
	Code  string
}

// tally counts, for one place, schools required to have each key and
// having it.
type tally struct {
	name             string
	schools, uto     int
	required, having [len(indicatorItems)]int
	// drilled counts the schools that did the year's drills; drills is
	// whether that was measured at all.
	drilled int
	drills  bool
}

// addDrill counts a school's drill when d (the year's record) is known.
func (t *tally) addDrill(d *drillSet, school int64) {
	if d == nil {
		return
	}
	t.drills = true
	if d.has(school) {
		t.drilled++
	}
}

// indicatorItems fixes the index of each indicator key in a tally.
var indicatorItems = [...]Key{Video, VideoStandard, COU, Panic, PCN, Turnstiles, Guard}

func keyIndex(k Key) int {
	for i, x := range indicatorItems {
		if x == k {
			return i
		}
	}
	return -1
}

func (t *tally) add(items []Item) {
	t.schools++
	if len(items) == 0 {
		return
	}
	t.uto++
	for _, it := range items {
		if i := keyIndex(it.Key); i >= 0 {
			t.required[i]++
			if it.Met {
				t.having[i]++
			}
		}
	}
}

// addBits counts a school from its required and met bits (cache.go).
func (t *tally) addBits(uto bool, req, met uint8) {
	t.schools++
	if !uto {
		return
	}
	t.uto++
	for i := range indicatorItems {
		if req&(1<<i) != 0 {
			t.required[i]++
			if met&(1<<i) != 0 {
				t.having[i]++
			}
		}
	}
}

func (t *tally) indicators() []Indicator {
	out := make([]Indicator, 0, len(IndicatorKeys))
	for i, k := range indicatorItems {
		in := Indicator{Key: k, Required: t.required[i], Having: t.having[i], Measured: true,
			Denominator: fmt.Sprintf("among the %d schools required to have %s", t.required[i], itemNoun[k])}
		if in.Required > 0 {
			s := math.Round(float64(in.Having)/float64(in.Required)*1e4) / 1e4
			in.Share = &s
		}
		out = append(out, in)
	}
	if !t.drills {
		return append(out, Indicator{Key: Drill, Measured: false, Denominator: "not measured here: the emergency module, which records each school's drills, is not running with these figures"})
	}
	in := Indicator{Key: Drill, Required: t.schools, Having: t.drilled, Measured: true,
		Denominator: fmt.Sprintf("among all %d schools: the school year's practical drill and briefings done, as each school's drill plan asks (GET /api/v1/schools/{id}/drills)", t.schools)}
	if in.Required > 0 {
		s := math.Round(float64(in.Having)/float64(in.Required)*1e4) / 1e4
		in.Share = &s
	}
	return append(out, in)
}

type schoolRow struct {
	id                     int64
	name, region, district string
	headcount              int
	centre                 bool
}

// compute evaluates every school matching cond at now and tallies them by
// the place key part gives each school.
func (r *Roadmap) compute(ctx context.Context, cond string, args []any, now time.Time, part func(schoolRow) (string, string)) (total *tally, parts map[string]*tally, set RuleSet, err error) {
	set, err = r.RuleSetOn(kztime.Today(now))
	if err != nil {
		return nil, nil, set, err
	}
	q := r.DB.Reader()
	schools, err := store.Collect(ctx, q, func(rows *sql.Rows) (schoolRow, error) {
		var s schoolRow
		return s, rows.Scan(&s.id, &s.name, &s.region, &s.district, &s.headcount, &s.centre)
	}, "SELECT s.id, s.name_ru, s.region_code, COALESCE(s.district_code, ''), s.headcount, s.regional_centre FROM schools s WHERE "+cond, args...)
	if err != nil {
		return nil, nil, set, errs.Wrap(err, "schools")
	}
	fs, err := readFacts(ctx, q, cond, args, now)
	if err != nil {
		return nil, nil, set, err
	}
	drills, err := r.drillsDone(ctx, now)
	if err != nil {
		return nil, nil, set, err
	}
	empty := &facts{kinds: map[registry.DeviceKind]*kindCount{}, guardWhy: noContract}
	total, parts = &tally{}, map[string]*tally{}
	asOf := kztime.Today(now)
	for _, s := range schools {
		f := fs[s.id]
		if f == nil {
			f = empty
		}
		items := evaluate(set.Requirement(s.headcount, s.centre, asOf), f)
		total.add(items)
		total.addDrill(drills, s.id)
		if part != nil {
			k, name := part(s)
			t := parts[k]
			if t == nil {
				t = &tally{name: name}
				parts[k] = t
			}
			t.add(items)
			t.addDrill(drills, s.id)
		}
	}
	return total, parts, set, nil
}

// covers reports whether the principal's scope holds the whole place.
func covers(p auth.Principal, pl Place, regionOf string) bool {
	switch p.Scope.Kind {
	case auth.ScopeInstallation, auth.ScopeNation:
		return true
	case auth.ScopeRegion:
		return (pl.Level == LevelRegion && pl.Code == p.Scope.Ref) || (pl.Level == LevelDistrict && regionOf == p.Scope.Ref)
	case auth.ScopeDistrict:
		return pl.Level == LevelDistrict && pl.Code == p.Scope.Ref
	}
	return false
}

// Indicators computes the live figures of a place in the caller's scope,
// with its parts: the regions of the nation, the districts of a region,
// the schools of a district. The empty Place is the caller's whole scope
// (the nation for the ministry). A place outside the scope is not found.
func (r *Roadmap) Indicators(ctx context.Context, p auth.Principal, pl Place) (Figures, error) {
	now := r.Now()
	if pl.Level == "" {
		switch p.Scope.Kind {
		case auth.ScopeInstallation, auth.ScopeNation:
			pl = Place{Level: LevelNation}
		case auth.ScopeRegion:
			pl = Place{Level: LevelRegion, Code: p.Scope.Ref}
		case auth.ScopeDistrict:
			pl = Place{Level: LevelDistrict, Code: p.Scope.Ref}
		case auth.ScopeSchool:
			pl = Place{Level: LevelSchool, Code: fmt.Sprint(p.Scope.ID())}
		default:
			pl = Place{Level: LevelScope}
		}
	}
	if err := p.Require(auth.ReadRegistry); err != nil && pl.Level != LevelSchool {
		return Figures{}, err
	}
	f := Figures{Level: pl.Level, Code: pl.Code, AsOf: kztime.Today(now).Format(time.DateOnly), ComputedAt: now.UTC(), Origin: "live",
		Source: "computed from the registry, device supervision and contracts at " + now.UTC().Format(time.RFC3339)}
	var cond string
	var args []any
	var part func(schoolRow) (string, string)
	regionNames := map[string]string{}
	for _, rg := range registry.Regions() {
		regionNames[rg.Code] = rg.NameRU
	}
	byRegion := func(s schoolRow) (string, string) { return s.region, regionNames[s.region] }
	switch pl.Level {
	case LevelNation:
		if !covers(p, pl, "") {
			return f, errs.NotFoundf("no figures for the nation in your scope")
		}
		f.Name, cond, part = "Қазақстан / Казахстан", "1=1", byRegion
	case LevelScope:
		f.Name = "your scope"
		cond, args = registry.SchoolScope(p, "s", r.today())
		part = byRegion
	case LevelRegion:
		name, ok := regionNames[pl.Code]
		if !ok || !covers(p, pl, "") {
			return f, errs.NotFoundf("no region %s", pl.Code)
		}
		f.Name, cond, args = name, "s.region_code = ?", []any{pl.Code}
		districts, err := r.districtNames(ctx, pl.Code)
		if err != nil {
			return f, err
		}
		part = func(s schoolRow) (string, string) {
			if s.district == "" {
				return "", "no district"
			}
			return s.district, districts[s.district]
		}
	case LevelDistrict:
		var region string
		err := r.DB.Reader().QueryRowContext(ctx, "SELECT region_code, name_ru FROM districts WHERE code = ?", pl.Code).Scan(&region, &f.Name)
		if err != nil || !covers(p, pl, region) {
			return f, errs.NotFoundf("no district %s", pl.Code)
		}
		cond, args = "s.district_code = ?", []any{pl.Code}
		part = func(s schoolRow) (string, string) { return fmt.Sprint(s.id), s.name }
	case LevelSchool:
		var id int64
		if _, err := fmt.Sscan(pl.Code, &id); err != nil {
			return f, errs.Invalidf("school", "school must be a school id, got %q", pl.Code)
		}
		if err := registry.AtSchool(ctx, r.DB.Reader(), p, r.today(), id, auth.ReadRegistry); err != nil {
			return f, err
		}
		cond, args = "s.id = ?", []any{id}
	default:
		return f, errs.Invalidf("level", "level must be nation, region, district or school, got %q", pl.Level)
	}
	var total *tally
	var parts map[string]*tally
	var set RuleSet
	var err error
	if kept := keptPlace(pl); kept != nil && !r.FromScratch {
		total, parts, set, err = r.tally(ctx, now, kept, func(s *cSchool) (string, string) {
			return part(schoolRow{id: s.id, name: s.name, region: s.region, district: s.district})
		})
	} else {
		total, parts, set, err = r.compute(ctx, cond, args, now, part)
	}
	if err != nil {
		return f, err
	}
	f.RuleSet, f.Schools, f.UTOSchools, f.Indicators = set.ID, total.schools, total.uto, total.indicators()
	if pl.Level == LevelSchool {
		r.DB.Reader().QueryRowContext(ctx, "SELECT name_ru FROM schools WHERE id = ?", args[0]).Scan(&f.Name)
	}
	sub := map[string]string{LevelNation: LevelRegion, LevelScope: LevelRegion, LevelRegion: LevelDistrict, LevelDistrict: LevelSchool}[pl.Level]
	for code, t := range parts {
		f.Parts = append(f.Parts, Figures{Level: sub, Code: code, Name: t.name, AsOf: f.AsOf, ComputedAt: f.ComputedAt, Origin: f.Origin, Source: f.Source,
			RuleSet: set.ID, Schools: t.schools, UTOSchools: t.uto, Indicators: t.indicators()})
	}
	sort.Slice(f.Parts, func(i, j int) bool { return f.Parts[i].Code < f.Parts[j].Code })
	return f, nil
}

// keptPlace is which kept schools a place holds; nil for a place the kept
// evaluation does not serve (a school, a scope that is no place).
func keptPlace(pl Place) func(*cSchool) bool {
	switch pl.Level {
	case LevelNation:
		return func(*cSchool) bool { return true }
	case LevelRegion:
		return func(s *cSchool) bool { return s.region == pl.Code }
	case LevelDistrict:
		return func(s *cSchool) bool { return s.district == pl.Code }
	}
	return nil
}

func (r *Roadmap) districtNames(ctx context.Context, region string) (map[string]string, error) {
	out := map[string]string{}
	err := store.Each(ctx, r.DB.Reader(), func(rows *sql.Rows) error {
		var c, n string
		err := rows.Scan(&c, &n)
		out[c] = n
		return err
	}, "SELECT code, name_ru FROM districts WHERE region_code = ?", region)
	return out, errs.Wrap(err, "districts")
}
