package web

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"

	"qorgan/internal/auth"
	"qorgan/internal/registry"
	"qorgan/internal/roadmap"
)

// The roadmap's pages: the indicators of a place with a bar chart drawn
// on the server (SVG, no script), its parts to drill down into (nation →
// region → district → school), the seeded record beside the live figures
// (never mixed), the ministry's documents to download; and a school's gap
// list against the rules in force.

// bar is one indicator as the chart and the table show it.
type bar struct {
	Key                   roadmap.Key
	Having, Required, Pct int
	Measured, HasShare    bool
	Y, Width, TextY       int // the chart's geometry (px in its viewBox)
}

// chartWidth is the bars' full length in the SVG's viewBox.
const chartWidth = 300

func barsOf(f roadmap.Figures) []bar {
	var out []bar
	for _, in := range f.Indicators {
		if in.Key == roadmap.Notification {
			continue // not a roadmap line of the letter; on the school's gap list
		}
		b := bar{Key: in.Key, Having: in.Having, Required: in.Required, Measured: in.Measured}
		if in.Share != nil {
			b.HasShare = true
			b.Pct = int(math.Floor(*in.Share*100 + 1e-9)) // never 100% before it is
			b.Width = int(*in.Share * chartWidth)
		}
		b.Y = len(out) * 30
		b.TextY = b.Y + 16
		out = append(out, b)
	}
	return out
}

type partRow struct {
	Name, Href string
	Schools    int
	Bars       []bar
}

type seededCol struct {
	TakenOn, Source string
	Pct             map[roadmap.Key]string
}

type indicatorsData struct {
	F          roadmap.Figures
	Name       string // the place, in the reader's language
	RuleSet    string // the title of the rule set in force, in the reader's language
	Bars       []bar
	ChartH     int
	Parts      []partRow
	PartsLevel string
	Seeded     []seededCol
	Up         string // the place above, when the caller's scope holds it
	Docs       bool
}

// roadmapPlace names a place in lang: the nation and the regions from the
// embedded list, a district or a school by local (its names as the
// registry holds them, see localNames), else name as the figures carry it.
func roadmapPlace(lang, level, code, name string, local map[string]string) string {
	switch level {
	case roadmap.LevelNation:
		return tr(lang, "ui.roadmap.nation", nil, 0)
	case roadmap.LevelRegion:
		for _, r := range registry.Regions() {
			if r.Code == code {
				return placeName(lang, r.NameKK, r.NameRU, r.NameEN)
			}
		}
	case roadmap.LevelDistrict, roadmap.LevelSchool:
		if n := local[level+"/"+code]; n != "" {
			return n
		}
	}
	return name
}

// localNames reads from the registry the names in lang of the districts
// and schools among f and its parts, keyed "level/code" (the figures carry
// only the Russian name): a district's in every language, a school's in
// Kazakh or Russian (Russian on an English page). When f is a district,
// region is the region it lies in, for the link up.
func (s *Server) localNames(ctx context.Context, lang string, f roadmap.Figures, partsLevel string) (names map[string]string, region string, err error) {
	var districts []string
	var schools []int64
	add := func(level, code string) {
		switch level {
		case roadmap.LevelDistrict:
			districts = append(districts, code)
		case roadmap.LevelSchool:
			if id, err := strconv.ParseInt(code, 10, 64); err == nil {
				schools = append(schools, id)
			}
		}
	}
	add(f.Level, f.Code)
	for _, part := range f.Parts {
		add(partsLevel, part.Code)
	}
	ds, err := s.Registry.DistrictsByCode(ctx, districts)
	if err != nil {
		return nil, "", err
	}
	ss, err := s.Registry.SchoolNames(ctx, schools)
	if err != nil {
		return nil, "", err
	}
	names = make(map[string]string, len(ds)+len(ss))
	for code, d := range ds {
		names[roadmap.LevelDistrict+"/"+code] = placeName(lang, d.NameKK, d.NameRU, d.NameEN)
	}
	for id, n := range ss {
		names[roadmap.LevelSchool+"/"+strconv.FormatInt(id, 10)] = placeName(lang, n[0], n[1], n[1])
	}
	if f.Level == roadmap.LevelDistrict {
		region = ds[f.Code].RegionCode
	}
	return names, region, nil
}

// ruleSetTitle is the title in lang of the rule set held under id, or the
// id itself should the set no longer be held.
func (s *Server) ruleSetTitle(lang, id string) string {
	if set, ok := s.Roadmap.RuleSet(id); ok {
		return set.TitleIn(lang)
	}
	return id
}

func placeQuery(level, code string) string {
	if code == "" && level != roadmap.LevelNation {
		return "" // schools with no district: no place to open
	}
	switch level {
	case roadmap.LevelRegion:
		return "/indicators?region=" + code
	case roadmap.LevelDistrict:
		return "/indicators?district=" + code
	case roadmap.LevelSchool:
		return "/schools/" + code + "/compliance"
	}
	return "/indicators"
}

func (s *Server) indicatorsPage(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view) error {
	p := sess.Principal
	pl, err := placeOf(r, roadmap.LevelRegion, roadmap.LevelDistrict)
	if err != nil {
		return err
	}
	ctx := r.Context()
	f, err := s.Roadmap.Indicators(ctx, p, pl)
	if err != nil {
		return err
	}
	next := map[string]string{roadmap.LevelNation: roadmap.LevelRegion, roadmap.LevelRegion: roadmap.LevelDistrict, roadmap.LevelDistrict: roadmap.LevelSchool}[f.Level]
	if f.Level == roadmap.LevelScope {
		next = roadmap.LevelRegion
	}
	local, region, err := s.localNames(ctx, v.Lang, f, next)
	if err != nil {
		return err
	}
	d := indicatorsData{F: f, Name: roadmapPlace(v.Lang, f.Level, f.Code, f.Name, local), RuleSet: s.ruleSetTitle(v.Lang, f.RuleSet), Bars: barsOf(f),
		Docs: p.Can(auth.ReadRegistry)}
	d.ChartH = len(d.Bars) * 30
	d.PartsLevel = next
	for _, part := range f.Parts {
		d.Parts = append(d.Parts, partRow{Name: roadmapPlace(v.Lang, next, part.Code, part.Name, local), Href: placeQuery(next, part.Code), Schools: part.Schools, Bars: barsOf(part)})
	}
	switch {
	case f.Level == roadmap.LevelRegion && (p.Scope.Kind == auth.ScopeNation || p.Scope.Kind == auth.ScopeInstallation):
		d.Up = "/indicators"
	case f.Level == roadmap.LevelDistrict && p.Scope.Kind != auth.ScopeDistrict && region != "":
		d.Up = placeQuery(roadmap.LevelRegion, region)
	}
	if f.Level == roadmap.LevelNation || f.Level == roadmap.LevelRegion || f.Level == roadmap.LevelDistrict {
		snaps, err := s.Roadmap.Snapshots(ctx, p, roadmap.Place{Level: f.Level, Code: f.Code})
		if err != nil {
			return err
		}
		for _, sn := range snaps {
			if sn.Origin != "seeded" {
				continue
			}
			c := seededCol{TakenOn: sn.TakenOn, Source: sn.Source, Pct: map[roadmap.Key]string{}}
			if id, ok := roadmap.SourceIDs[sn.Source]; ok {
				c.Source = tr(v.Lang, "ui.roadmap.source."+id, nil, 0)
			}
			for _, x := range sn.Figures {
				switch {
				case x.Share != nil:
					c.Pct[x.Key] = strconv.Itoa(int(math.Round(*x.Share*100))) + "%"
				case x.Having != nil && x.Qualifier == "over":
					c.Pct[x.Key] = "> " + strconv.Itoa(*x.Having)
				case x.Having != nil:
					c.Pct[x.Key] = strconv.Itoa(*x.Having)
				}
			}
			d.Seeded = append(d.Seeded, c)
		}
	}
	return s.renderPage(w, http.StatusOK, "indicators", v, "ui.roadmap.title", d)
}

type gapsPageData struct {
	G       roadmap.Gaps
	RuleSet string     // the title of the rule set in force, in the reader's language
	Reasons []string   // each item's reason in the reader's language, by index
	Rules   []citation // each item's act and clause in the reader's language, by index
}

// citation is the act and the clause behind an item as the page shows them:
// a number kept on the line of its «№» or «No.».
type citation struct{ Act, Clause string }

var numberSign = strings.NewReplacer("№ ", "№\u00a0", "No. ", "No.\u00a0")

func citationIn(lang string, src roadmap.Source) citation {
	act, clause := src.In(lang)
	return citation{numberSign.Replace(act), numberSign.Replace(clause)}
}

func (s *Server) compliancePage(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view) error {
	_, g, err := getByID(r, sess.Principal, s.Roadmap.Gaps)
	if err != nil {
		return err
	}
	d := gapsPageData{G: g, RuleSet: s.ruleSetTitle(v.Lang, g.Required.RuleSet)}
	for _, it := range g.Items {
		d.Reasons = append(d.Reasons, it.Why.In(v.Lang))
		d.Rules = append(d.Rules, citationIn(v.Lang, it.Source))
	}
	return s.renderPage(w, http.StatusOK, "gaps", v, "ui.gaps.title", d)
}
