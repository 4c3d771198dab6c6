package roadmap

import (
	"context"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/kztime"
	"qorgan/internal/registry"
	"qorgan/internal/report"
)

// The ministry's documents from the roadmap: the «Справочно» part of a
// letter (seeded history beside the live figures, never mixed) and the
// table by region, in Russian or Kazakh, through package report.

// seededSource is how a letter names each seeded record, by its date.
var seededSource = map[string]report.Words{
	"2021-01-01": {RU: "ответ Министра просвещения на депутатский запрос ДЗ-237", KK: "Оқу-ағарту министрінің ДЗ-237 депутаттық сауалға жауабы"},
	"2025-12-03": {RU: "официальные данные на 3 декабря 2025 г.", KK: "2025 жылғы 3 желтоқсандағы ресми деректер"},
}

// reportKeys are the indicators a letter speaks of, in its order.
var reportKeys = []Key{Video, VideoStandard, COU, Panic, PCN, Turnstiles, Guard, Drill}

// liveFigures turns live indicators into the report's figures.
func liveFigures(f Figures) []report.Figure {
	var out []report.Figure
	for _, k := range reportKeys {
		in := f.Indicator(k)
		if !in.Measured {
			out = append(out, report.NotMeasured(report.Indicator(k)))
			continue
		}
		out = append(out, report.Counted(report.Indicator(k), in.Having, in.Required))
	}
	return out
}

// placeWords names a place of the figures in both languages.
func placeWords(f Figures) report.Words {
	switch f.Level {
	case LevelNation:
		return report.Words{RU: "Республика Казахстан", KK: "Қазақстан Республикасы"}
	case LevelRegion:
		for _, r := range registry.Regions() {
			if r.Code == f.Code {
				return report.Words{RU: r.NameRU, KK: r.NameKK}
			}
		}
	}
	return report.Words{RU: f.Name, KK: f.Name}
}

// Letter writes the «Справочно» part of a ministry letter in lang for the
// caller's scope (the nation for the ministry): each seeded record of the
// nation with its source, then Qorgan's live figures of today.
func (r *Roadmap) Letter(ctx context.Context, p auth.Principal, lang report.Lang) (report.Document, error) {
	live, err := r.Indicators(ctx, p, Place{})
	if err != nil {
		return report.Document{}, err
	}
	var snaps []report.Snapshot
	if live.Level == LevelNation {
		seeded, err := r.snapshotsOf(ctx, Place{Level: LevelNation}, OriginSeeded)
		if err != nil {
			return report.Document{}, err
		}
		for _, s := range seeded {
			src, ok := seededSource[s.TakenOn]
			if !ok {
				src = report.Words{RU: s.Source, KK: s.Source}
			}
			day, err := time.ParseInLocation(time.DateOnly, s.TakenOn, kztime.Almaty)
			if err != nil {
				return report.Document{}, errs.Wrap(err, "snapshot date")
			}
			rs := report.Snapshot{AsOf: day, Source: src, Place: placeWords(live)}
			for _, f := range s.Figures {
				rs.Figures = append(rs.Figures, seededFigure(f))
			}
			snaps = append(snaps, rs)
		}
	}
	asOf, _ := time.ParseInLocation(time.DateOnly, live.AsOf, kztime.Almaty)
	snaps = append(snaps, report.Snapshot{AsOf: asOf, Place: placeWords(live), Figures: liveFigures(live)})
	return report.LetterDocument(lang, snaps...)
}

// seededFigure is a seeded figure as the report takes it: a share, a
// count, a count of a required number, «more than» a count.
func seededFigure(f Figure) report.Figure {
	out := report.Figure{Indicator: report.Indicator(f.Key), Measured: f.Measured || f.Share != nil || f.Having != nil}
	if f.Having != nil {
		out.Count, out.HasCount = *f.Having, true
		out.AtLeast = f.Qualifier == "over"
	}
	if f.Required != nil && f.Having != nil {
		out.Required, out.HasRequired = *f.Required, true
	}
	if f.Share != nil {
		out.Share, out.HasShare = *f.Share*100, true
	}
	return out
}

// RegionReport is the table of live figures by region (or by district,
// for a region's department) in lang.
func (r *Roadmap) RegionReport(ctx context.Context, p auth.Principal, lang report.Lang) (report.Document, error) {
	live, err := r.Indicators(ctx, p, Place{})
	if err != nil {
		return report.Document{}, err
	}
	var rows []report.RegionRow
	for _, part := range live.Parts {
		rows = append(rows, report.RegionRow{Region: placeWords(part), Figures: liveFigures(part)})
	}
	if len(rows) == 0 {
		rows = append(rows, report.RegionRow{Region: placeWords(live), Figures: liveFigures(live)})
	}
	asOf, _ := time.ParseInLocation(time.DateOnly, live.AsOf, kztime.Almaty)
	return report.RegionTable(lang, asOf, report.Words{}, rows)
}
