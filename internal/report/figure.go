package report

import (
	"time"

	"qorgan/internal/errs"
)

// Indicator is one of the roadmap's coverage indicators.
type Indicator string

// The indicators, in the order a letter lists them.
const (
	Video         Indicator = "video"          // video surveillance
	VideoStandard Indicator = "video_standard" // video to the standards and requirements
	COU           Indicator = "cou"            // cameras connected to the police ЦОУ
	Panic         Indicator = "panic"          // panic buttons
	PCN           Indicator = "pcn"            // alarm output to a monitoring console (ПЦН)
	Turnstiles    Indicator = "turnstiles"     // turnstiles
	Guard         Indicator = "guard"          // a licensed guard under contract
	Drill         Indicator = "drill"          // this year's drill done
)

// Indicators lists every indicator in a letter's order.
var Indicators = []Indicator{Video, VideoStandard, COU, Panic, PCN, Turnstiles, Guard, Drill}

// indicatorText is how a report names an indicator and what a school having
// it "does" in a sentence.
type indicatorText struct {
	name  Words // a table's word for it
	ruOne string
	ruAll string // the predicate for 1 (21, 681) schools, and for the others
	kk    string
	kkNot string // the Kazakh predicate negated, for "none of them"
}

var indicatorTexts = map[Indicator]indicatorText{
	Video: {Words{"Видеонаблюдение", "Бейнебақылау"},
		"оснащена системами видеонаблюдения", "оснащены системами видеонаблюдения",
		"бейнебақылау жүйелерімен жабдықталған", "бейнебақылау жүйелерімен жабдықталмаған"},
	VideoStandard: {Words{"Видеонаблюдение по стандарту", "Стандартқа сәйкес бейнебақылау"},
		"имеет видеонаблюдение в соответствии со стандартами и требованиями", "имеют видеонаблюдение в соответствии со стандартами и требованиями",
		"стандарттар мен талаптарға сәйкес бейнебақылаумен жабдықталған", "стандарттар мен талаптарға сәйкес бейнебақылаумен жабдықталмаған"},
	COU: {Words{"Подключение к ЦОУ", "ЖБО-ға қосылу"},
		"подключена к ЦОУ органов внутренних дел", "подключены к ЦОУ органов внутренних дел",
		"ішкі істер органдарының ЖБО-ына қосылған", "ішкі істер органдарының ЖБО-ына қосылмаған"},
	Panic: {Words{"Тревожные кнопки", "Дабыл түймелері"},
		"оснащена тревожными кнопками", "оснащены тревожными кнопками",
		"дабыл түймелерімен жабдықталған", "дабыл түймелерімен жабдықталмаған"},
	PCN: {Words{"Вывод на ПЦН", "Бақылау пультіне шығару"},
		"имеет вывод тревожной сигнализации на ПЦН", "имеют вывод тревожной сигнализации на ПЦН",
		"дабыл сигнализациясын орталықтандырылған бақылау пультіне шығарған", "дабыл сигнализациясын орталықтандырылған бақылау пультіне шығармаған"},
	Turnstiles: {Words{"Турникеты", "Турникеттер"},
		"оснащена турникетами", "оснащены турникетами",
		"турникеттермен жабдықталған", "турникеттермен жабдықталмаған"},
	Guard: {Words{"Лицензированная охрана", "Лицензиясы бар күзет"},
		"охраняется лицензированной охранной организацией", "охраняются лицензированными охранными организациями",
		"лицензиясы бар күзет ұйымымен күзетіледі", "лицензиясы бар күзет ұйымымен күзетілмейді"},
	Drill: {Words{"Учения в текущем году", "Биылғы оқу-жаттығу"},
		"провела учения в текущем году", "провели учения в текущем году",
		"биыл оқу-жаттығу өткізген", "биыл оқу-жаттығу өткізбеген"},
}

// Name is the indicator's name in language l, as a table heads it.
func (i Indicator) Name(l Lang) string { return indicatorTexts[i].name.In(l) }

func (i Indicator) check(field string) error {
	if _, ok := indicatorTexts[i]; !ok {
		return errs.Invalidf(field, "is %q, not one of video, video_standard, cou, panic, pcn, turnstiles, guard, drill", string(i))
	}
	return nil
}

// Figure is one indicator's figure: how many schools have it, out of how
// many required to, and the share in per cent. What is known varies: a
// live figure has count and required; a seeded one may have only a share
// («87%») or only a count («более 1 700»). An indicator not yet measured is
// written as such, never as 0.
type Figure struct {
	Indicator Indicator `json:"indicator"`
	// Measured is false for an indicator Qorgan cannot compute yet; the
	// other fields are then ignored.
	Measured bool `json:"measured"`
	// Count is how many schools have it, when HasCount.
	Count    int  `json:"count"`
	HasCount bool `json:"has_count"`
	// AtLeast marks Count as a lower bound, as a letter says «более 1 700».
	AtLeast bool `json:"at_least,omitempty"`
	// Required is how many schools must have it, when HasRequired: the
	// denominator of the share.
	Required    int  `json:"required"`
	HasRequired bool `json:"has_required"`
	// Share is the share in per cent when HasShare; with Count and Required
	// and no share given, it is computed.
	Share    float64 `json:"share"`
	HasShare bool    `json:"has_share"`
}

// Counted is a live figure: count schools of required have it.
func Counted(i Indicator, count, required int) Figure {
	return Figure{Indicator: i, Measured: true, Count: count, HasCount: true, Required: required, HasRequired: true}
}

// Shared is a figure known only as a share in per cent.
func Shared(i Indicator, pct float64) Figure {
	return Figure{Indicator: i, Measured: true, Share: pct, HasShare: true}
}

// NotMeasured is an indicator Qorgan does not measure yet.
func NotMeasured(i Indicator) Figure { return Figure{Indicator: i} }

// Percent is the figure's share in per cent and whether it is known.
func (f Figure) Percent() (float64, bool) {
	switch {
	case f.HasShare:
		return f.Share, true
	case f.HasCount && f.HasRequired && f.Required > 0:
		return share(f.Count, f.Required), true
	}
	return 0, false
}

func (f Figure) check(field string) error {
	if err := f.Indicator.check(field + "/indicator"); err != nil {
		return err
	}
	if !f.Measured {
		return nil
	}
	if !f.HasCount && !f.HasShare {
		return errs.Invalidf(field, "is measured but has neither a count nor a share")
	}
	if f.HasCount && f.Count < 0 {
		return errs.Invalidf(field+"/count", "is %d; a count of schools is not negative", f.Count)
	}
	if f.HasRequired {
		if f.Required < 0 {
			return errs.Invalidf(field+"/required", "is %d; a count of schools is not negative", f.Required)
		}
		if !f.HasCount {
			return errs.Invalidf(field+"/count", "is required with required (a denominator needs its count)")
		}
		if f.Count > f.Required {
			return errs.Invalidf(field+"/count", "is %d, more than the %d schools required", f.Count, f.Required)
		}
	}
	if f.HasShare && (f.Share < 0 || f.Share > 100) {
		return errs.Invalidf(field+"/share", "is %g; a share is between 0 and 100 per cent", f.Share)
	}
	return nil
}

// Snapshot is the figures of one place as of one date: a seeded record of
// history (with its source) or Qorgan's live computation (Source empty).
type Snapshot struct {
	AsOf time.Time `json:"as_of"` // the date the figures hold for, read in Almaty
	// Source names where seeded figures come from (act, letter, date), in
	// both languages; empty for figures Qorgan computed from live data.
	Source  Words    `json:"source"`
	Place   Words    `json:"place"`
	Figures []Figure `json:"figures"`
}

// Live reports whether the snapshot is Qorgan's own computation.
func (s Snapshot) Live() bool { return s.Source == Words{} }

func (s Snapshot) check(field string) error {
	if s.AsOf.IsZero() {
		return errs.Invalidf(field+"/as_of", "is required")
	}
	if err := s.Place.check(field + "/place"); err != nil {
		return err
	}
	if !s.Live() {
		if err := s.Source.check(field + "/source"); err != nil {
			return err
		}
	}
	if len(s.Figures) == 0 {
		return errs.Invalidf(field+"/figures", "is empty; a snapshot has at least one figure")
	}
	seen := map[Indicator]bool{}
	for i, f := range s.Figures {
		fld := fieldf("%s/figures/%d", field, i)
		if err := f.check(fld); err != nil {
			return err
		}
		if seen[f.Indicator] {
			return errs.Invalidf(fld+"/indicator", "%s appears twice in one snapshot", f.Indicator)
		}
		seen[f.Indicator] = true
	}
	return nil
}

// RegionRow is one region's figures for the table by region.
type RegionRow struct {
	Region  Words    `json:"region"`
	Figures []Figure `json:"figures"`
}

// Gap is one item a school lacks or that fails, with the reason and the
// rule that requires it.
type Gap struct {
	Item   Words `json:"item"`   // «Турникеты» / «Турникеттер»
	Reason Words `json:"reason"` // «нет устройства в реестре», «молчит с …»
	Act    Words `json:"act"`    // the act that requires it, as officials cite it in each language
	Clause Words `json:"clause"` // the clause of the act
}

// SchoolGaps is a school's gap list as of a date.
type SchoolGaps struct {
	School Words     `json:"school"`
	AsOf   time.Time `json:"as_of"`
	Gaps   []Gap     `json:"gaps"`
}

func (g SchoolGaps) check() error {
	if err := g.School.check("school"); err != nil {
		return err
	}
	if g.AsOf.IsZero() {
		return errs.Invalidf("as_of", "is required")
	}
	for i, x := range g.Gaps {
		fld := fieldf("gaps/%d", i)
		if err := x.Item.check(fld + "/item"); err != nil {
			return err
		}
		if err := x.Reason.check(fld + "/reason"); err != nil {
			return err
		}
		if err := x.Act.check(fld + "/act"); err != nil {
			return err // the act that requires the item, in both languages
		}
	}
	return nil
}
