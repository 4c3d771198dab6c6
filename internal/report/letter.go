package report

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"qorgan/internal/errs"
	"qorgan/internal/kztime"
)

// Reference writes the «Справочно» («Анықтама») part of a ministry letter in
// language l: a heading, then one paragraph per snapshot. Seeded history
// comes first, oldest first, then Qorgan's live figures; each paragraph
// says its date and its source, and no sentence mixes figures of two
// snapshots.
func Reference(l Lang, snaps ...Snapshot) ([]string, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	if len(snaps) == 0 {
		return nil, errs.Invalidf("snapshots", "is empty; a reference needs at least one snapshot")
	}
	for i, s := range snaps {
		if err := s.check(fieldf("snapshots/%d", i)); err != nil {
			return nil, err
		}
	}
	out := []string{map[Lang]string{RU: "Справочно:", KK: "Анықтама:"}[l]}
	for _, s := range ordered(snaps) {
		out = append(out, paragraph(l, s))
	}
	return out, nil
}

// ordered is history first, oldest first, then the live snapshots.
func ordered(snaps []Snapshot) []Snapshot {
	out := slices.Clone(snaps)
	slices.SortStableFunc(out, func(a, b Snapshot) int {
		if a.Live() != b.Live() {
			if a.Live() {
				return 1
			}
			return -1
		}
		return a.AsOf.Compare(b.AsOf)
	})
	return out
}

// paragraph is one snapshot's figures as sentences after their heading.
func paragraph(l Lang, s Snapshot) string {
	parts := []string{heading(l, s)}
	for _, f := range s.Figures {
		if l == KK {
			parts = append(parts, sentenceKK(f))
		} else {
			parts = append(parts, sentenceRU(f))
		}
	}
	return strings.Join(parts, " ")
}

// heading is «По состоянию на 3 декабря 2025 г. (…; источник: …):».
func heading(l Lang, s Snapshot) string {
	d := Date(l, s.AsOf)
	place := s.Place.In(l)
	switch {
	case l == KK && s.Live():
		return fmt.Sprintf("Qorgan ағымдағы деректері бойынша %s жағдай (%s):", d, place)
	case l == KK:
		return fmt.Sprintf("%s жағдай бойынша (%s; дереккөз: %s):", d, place, s.Source.KK)
	case s.Live():
		return fmt.Sprintf("По текущим данным Qorgan на %s (%s):", d, place)
	}
	return fmt.Sprintf("По состоянию на %s (%s; источник: %s):", d, place, s.Source.RU)
}

// Date is t's calendar day in Almaty as a letter writes it: «3 декабря
// 2025 г.», «2025 жылғы 3 желтоқсандағы».
func Date(l Lang, t time.Time) string {
	t = kztime.Today(t)
	if l == KK {
		m := kkMonths[t.Month()-1]
		return fmt.Sprintf("%d жылғы %d %s", t.Year(), t.Day(), kkWordCase(m, kkLocative)+kkAnalyse(m).pick("ғы", "гі"))
	}
	return fmt.Sprintf("%d %s %d г.", t.Day(), ruMonths[t.Month()-1], t.Year())
}

// phrasing writes each kind of sentence a letter makes of a figure, in one
// language; sentence chooses the kind. pct is "" or « (87%)» as the
// language places it.
type phrasing struct {
	notMeasured  func(tx indicatorText) string
	shareOnly    func(pct float64, tx indicatorText) string
	noneRequired func(tx indicatorText) string
	noneOf       func(required int, tx indicatorText) string // none of the required schools has it
	none         func(tx indicatorText) string
	atLeast      func(f Figure, pct string, tx indicatorText) string
	ofRequired   func(f Figure, pct string, tx indicatorText) string
	counted      func(f Figure, pct string, tx indicatorText) string
}

// sentence is the letter's sentence about f in the language of ph.
func sentence(f Figure, ph phrasing) string {
	tx := indicatorTexts[f.Indicator]
	if !f.Measured {
		return ph.notMeasured(tx)
	}
	pct, hasPct := f.Percent()
	if !f.HasCount {
		return ph.shareOnly(pct, tx)
	}
	if f.HasRequired && f.Required == 0 {
		return ph.noneRequired(tx)
	}
	if f.Count == 0 && !f.AtLeast {
		if f.HasRequired {
			return ph.noneOf(f.Required, tx)
		}
		return ph.none(tx)
	}
	pctPart := ""
	if hasPct {
		pctPart = " (" + percent(pct) + ")"
	}
	switch {
	case f.AtLeast:
		return ph.atLeast(f, pctPart, tx)
	case f.HasRequired:
		return ph.ofRequired(f, pctPart, tx)
	}
	return ph.counted(f, pctPart, tx)
}

func sentenceRU(f Figure) string { return sentence(f, ruPhrasing) }

var ruPhrasing = phrasing{
	notMeasured: func(tx indicatorText) string {
		return fmt.Sprintf("Показатель «%s» пока не измеряется.", tx.name.RU)
	},
	shareOnly: func(pct float64, tx indicatorText) string {
		return fmt.Sprintf("%s школ %s.", percent(pct), tx.ruAll)
	},
	noneRequired: func(tx indicatorText) string {
		return fmt.Sprintf("Показатель «%s»: подлежащих школ нет.", tx.name.RU)
	},
	// «0 школ оснащены» is not how a letter says it.
	noneOf: func(required int, tx indicatorText) string {
		return fmt.Sprintf("Ни одна школа из %s не %s (0%%).", ruRequired.gen(required), tx.ruOne)
	},
	none: func(tx indicatorText) string { return fmt.Sprintf("Ни одна школа не %s.", tx.ruOne) },
	atLeast: func(f Figure, pct string, tx indicatorText) string {
		return fmt.Sprintf("Более %s %s%s.", ruSchool.gen(f.Count), tx.ruAll, pct)
	},
	ofRequired: func(f Figure, pct string, tx indicatorText) string {
		return fmt.Sprintf("%s из %s %s%s.", ruSchool.nom(f.Count), ruRequired.gen(f.Required), ruPredicate(f.Count, tx), pct)
	},
	counted: func(f Figure, pct string, tx indicatorText) string {
		return fmt.Sprintf("%s %s%s.", ruSchool.nom(f.Count), ruPredicate(f.Count, tx), pct)
	},
}

// ruPredicate agrees with the count: «681 школа оснащена», «2 357 школ оснащены».
func ruPredicate(n int, tx indicatorText) string {
	if ruClass(n) == ruOne {
		return tx.ruOne
	}
	return tx.ruAll
}

func sentenceKK(f Figure) string { return sentence(f, kkPhrasing) }

var kkPhrasing = phrasing{
	notMeasured: func(tx indicatorText) string {
		return fmt.Sprintf("«%s» көрсеткіші әлі өлшенбейді.", tx.name.KK)
	},
	shareOnly: func(pct float64, tx indicatorText) string {
		return fmt.Sprintf("Мектептердің %s %s.", kkPercent(pct), tx.kk)
	},
	noneRequired: func(tx indicatorText) string {
		return fmt.Sprintf("«%s» көрсеткіші: міндетті мектеп жоқ.", tx.name.KK)
	},
	noneOf: func(required int, tx indicatorText) string {
		return fmt.Sprintf("Міндетті %s %s бірде-біреуі (0%%) %s.", Group(required), kkWordCase("мектеп", kkGenitive), tx.kkNot)
	},
	none: func(tx indicatorText) string { return fmt.Sprintf("Бірде-бір мектеп %s.", tx.kkNot) },
	atLeast: func(f Figure, pct string, tx indicatorText) string {
		return fmt.Sprintf("%s астам мектеп%s %s.", kkNum(f.Count, kkAblative), pct, tx.kk)
	},
	ofRequired: func(f Figure, pct string, tx indicatorText) string {
		return fmt.Sprintf("Міндетті %s %s %s%s %s.", Group(f.Required), kkWordCase("мектеп", kkGenitive), kkNum(f.Count, kkPossessive), pct, tx.kk)
	},
	counted: func(f Figure, pct string, tx indicatorText) string {
		return fmt.Sprintf("%s мектеп%s %s.", Group(f.Count), pct, tx.kk)
	},
}
