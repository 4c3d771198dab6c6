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
		t.Rows = append(t.Rows, []Cell{Int(i + 1), Text(x.Item.In(l)), Text(x.Reason.In(l)), Text(x.Act), Text(x.Clause)})
	}
	d.Tables = []Table{t}
	return d, nil
}
