package report

import (
	"time"

	"qorgan/internal/errs"
)

// LetterDocument is the «Справочно» paragraph as a document of its own.
func LetterDocument(l Lang, snaps ...Snapshot) (Document, error) {
	paras, err := Reference(l, snaps...)
	if err != nil {
		return Document{}, err
	}
	title := map[Lang]string{
		RU: "Справочная информация о ходе реализации Дорожной карты",
		KK: "Жол картасының іске асырылуы туралы анықтама",
	}[l]
	return Document{Title: title, Paragraphs: paras}, nil
}

// RegionTable is the table by region: one row per region and indicator
// (region, indicator, schools having it, schools required, share in per
// cent), as of one date from one source (zero: Qorgan's live figures). An
// indicator not yet measured says so in words and leaves the numbers blank.
func RegionTable(l Lang, asOf time.Time, source Words, rows []RegionRow) (Document, error) {
	if err := l.check(); err != nil {
		return Document{}, err
	}
	if asOf.IsZero() {
		return Document{}, errs.Invalidf("as_of", "is required")
	}
	for i, r := range rows {
		fld := fieldf("rows/%d", i)
		if err := r.Region.check(fld + "/region"); err != nil {
			return Document{}, err
		}
		for j, f := range r.Figures {
			if err := f.check(fieldf("%s/figures/%d", fld, j)); err != nil {
				return Document{}, err
			}
		}
	}
	if source != (Words{}) {
		if err := source.check("source"); err != nil {
			return Document{}, err
		}
	}
	w := regionWords[l]
	src := source.In(l)
	if src == "" {
		src = w.live
	}
	d := Document{
		Title:  w.title,
		Fields: []Field{{w.asOf, Date(l, asOf)}, {w.source, src}},
	}
	t := Table{Columns: w.columns}
	for _, r := range rows {
		for _, f := range r.Figures {
			row := []Cell{Text(r.Region.In(l)), Text(f.Indicator.Name(l)), Text(""), Text(""), Text("")}
			if !f.Measured {
				row[2] = Text(w.notMeasured)
				t.Rows = append(t.Rows, row)
				continue
			}
			if f.HasCount {
				row[2] = Int(f.Count)
				if f.AtLeast {
					row[2] = Text(w.over + " " + Group(f.Count))
				}
			}
			if f.HasRequired {
				row[3] = Int(f.Required)
			}
			if p, ok := f.Percent(); ok {
				row[4] = Num(roundTenth(p))
			}
			t.Rows = append(t.Rows, row)
		}
	}
	d.Tables = []Table{t}
	return d, nil
}

func roundTenth(x float64) float64 {
	return float64(int(x*10+0.5)) / 10
}

var regionWords = map[Lang]struct {
	title, asOf, source, live, notMeasured, over string
	columns                                      []string
}{
	RU: {"Показатели Дорожной карты по регионам", "По состоянию на", "Источник", "текущие данные Qorgan", "не измеряется", "более",
		[]string{"Регион", "Показатель", "Имеют", "Подлежат", "Доля, %"}},
	KK: {"Жол картасының өңірлер бойынша көрсеткіштері", "Жағдай бойынша", "Дереккөз", "Qorgan ағымдағы деректері", "өлшенбейді", "астам",
		[]string{"Өңір", "Көрсеткіш", "Бар", "Міндетті", "Үлесі, %"}},
}

// GapList is a school's gap list: each item it lacks or that fails, with the
// reason and the act and clause that require it.
func GapList(l Lang, g SchoolGaps) (Document, error) {
	if err := l.check(); err != nil {
		return Document{}, err
	}
	if err := g.check(); err != nil {
		return Document{}, err
	}
	n := len(g.Gaps)
	var summary string
	if l == KK {
		summary = "Барлық талаптар орындалған."
		if n > 0 {
			summary = "Талаптардың " + Group(n) + " тармағы орындалмаған."
		}
	} else {
		summary = "Все требования выполнены."
		if n > 0 {
			verb := map[ruPlural]string{ruOne: "Не выполнен", ruFew: "Не выполнены", ruMany: "Не выполнено"}[ruClass(n)]
			summary = verb + " " + ruItem.nom(n) + " требований."
		}
	}
	d := Document{Paragraphs: []string{summary}}
	var cols []string
	if l == KK {
		d.Title = g.School.KK + ": жетіспейтіндер тізбесі"
		d.Fields = []Field{{"Жағдай бойынша", Date(l, g.AsOf)}}
		cols = []string{"№", "Талап", "Себебі", "Акт", "Тармақ"}
	} else {
		d.Title = "Перечень недостающего: " + g.School.RU
		d.Fields = []Field{{"По состоянию на", Date(l, g.AsOf)}}
		cols = []string{"№", "Требование", "Причина", "Акт", "Пункт"}
	}
	t := Table{Columns: cols}
	for i, x := range g.Gaps {
		t.Rows = append(t.Rows, []Cell{Int(i + 1), Text(x.Item.In(l)), Text(x.Reason.In(l)), Text(x.Act.In(l)), Text(x.Clause.In(l))})
	}
	d.Tables = []Table{t}
	return d, nil
}

// IndicatorTable puts one place's snapshots side by side: a row per
// indicator, a column per snapshot (history first, oldest first, then the
// live figures), each column's date and source listed under the title.
// A cell is «681 / 2 357 (29%)», «87%», «более 1 700», «не измеряется»,
// or «—» where that snapshot has no such figure.
func IndicatorTable(l Lang, snaps ...Snapshot) (Document, error) {
	if err := l.check(); err != nil {
		return Document{}, err
	}
	if len(snaps) == 0 {
		return Document{}, errs.Invalidf("snapshots", "is empty; a table needs at least one snapshot")
	}
	for i, s := range snaps {
		if err := s.check(fieldf("snapshots/%d", i)); err != nil {
			return Document{}, err
		}
		if s.Place != snaps[0].Place {
			return Document{}, errs.Invalidf(fieldf("snapshots/%d/place", i), "is %s, not %s: one table holds one place", s.Place.RU, snaps[0].Place.RU)
		}
	}
	w := regionWords[l]
	snaps = ordered(snaps)
	d := Document{Title: map[Lang]string{
		RU: "Показатели Дорожной карты: история и текущие данные — ",
		KK: "Жол картасының көрсеткіштері: тарих және ағымдағы деректер — ",
	}[l] + snaps[0].Place.In(l)}
	t := Table{Columns: []string{w.columns[1]}}
	for _, s := range snaps {
		head := Date(l, s.AsOf)
		src := s.Source.In(l)
		if s.Live() {
			head += " (Qorgan)"
			src = w.live
		}
		t.Columns = append(t.Columns, head)
		d.Fields = append(d.Fields, Field{head, src})
	}
	for _, ind := range Indicators {
		row := []Cell{Text(ind.Name(l))}
		present := false
		for _, s := range snaps {
			cell := "—"
			for _, f := range s.Figures {
				if f.Indicator == ind {
					cell, present = figureCell(l, f), true
				}
			}
			row = append(row, Text(cell))
		}
		if present {
			t.Rows = append(t.Rows, row)
		}
	}
	d.Tables = []Table{t}
	return d, nil
}

// figureCell is a figure in a table cell: «681 / 2 357 (29%)».
func figureCell(l Lang, f Figure) string {
	w := regionWords[l]
	if !f.Measured {
		return w.notMeasured
	}
	var s string
	switch {
	case f.HasCount && f.AtLeast && l == KK:
		s = kkNum(f.Count, kkAblative) + " " + w.over
	case f.HasCount && f.AtLeast:
		s = w.over + " " + Group(f.Count)
	case f.HasCount && f.HasRequired:
		s = Group(f.Count) + " / " + Group(f.Required)
	case f.HasCount:
		s = Group(f.Count)
	}
	if p, ok := f.Percent(); ok {
		if s == "" {
			return percent(p)
		}
		s += " (" + percent(p) + ")"
	}
	return s
}
