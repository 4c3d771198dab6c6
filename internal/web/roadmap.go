package web

import (
	"bytes"
	"mime"
	"net/http"
	"strconv"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/report"
	"qorgan/internal/roadmap"
)

// The roadmap's routes: indicators by place, a school's gap list and its
// declaration, snapshots, targets, funding (internal/roadmap).

// placeOf reads the place a roadmap request asks for: one of ?region=,
// ?district=, ?school= (none: the caller's own).
func placeOf(r *http.Request, levels ...string) (roadmap.Place, error) {
	q := r.URL.Query()
	var pl roadmap.Place
	for _, l := range levels {
		if v := q.Get(l); v != "" {
			if pl.Level != "" {
				return pl, errs.Invalidf(l, "ask for one place: %s or %s, not both", pl.Level, l)
			}
			pl = roadmap.Place{Level: l, Code: v}
		}
	}
	return pl, nil
}

func (s *Server) indicators(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	pl, err := placeOf(r, roadmap.LevelRegion, roadmap.LevelDistrict, roadmap.LevelSchool)
	if err != nil {
		return err
	}
	f, err := s.Roadmap.Indicators(r.Context(), p, pl)
	return reply(w, http.StatusOK, f, err)
}

func (s *Server) snapshots(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	pl, err := placeOf(r, roadmap.LevelRegion, roadmap.LevelDistrict)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("nation") != "" {
		pl = roadmap.Place{Level: roadmap.LevelNation}
	}
	xs, err := s.Roadmap.Snapshots(r.Context(), p, pl)
	return reply(w, http.StatusOK, map[string]any{"items": xs}, err)
}

func (s *Server) funding(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	year := 0
	if y := r.URL.Query().Get("year"); y != "" {
		var err error
		if year, err = strconv.Atoi(y); err != nil {
			return errs.Invalidf("year", "year must be a number, got %q", y)
		}
	}
	f, err := s.Roadmap.Funding(r.Context(), p, year)
	return reply(w, http.StatusOK, f, err)
}

// roadmapDocument writes one of the ministry's documents from live data:
// the «Справочно» part of a letter or the table by region, in Russian or
// Kazakh, as PDF, XLSX, CSV or text, in the caller's scope.
func (s *Server) roadmapDocument(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	q := r.URL.Query()
	lang := report.Lang(q.Get("lang"))
	if lang == "" {
		lang = report.RU
	}
	if lang != report.RU && lang != report.KK {
		return errs.Invalidf("lang", "lang must be ru or kk")
	}
	format := q.Get("format")
	if format == "" {
		format = "pdf"
	}
	types := map[string]string{"pdf": "application/pdf", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		"csv": "text/csv; charset=utf-8", "txt": "text/plain; charset=utf-8"}
	ctype, ok := types[format]
	if !ok {
		return errs.Invalidf("format", "format must be pdf, xlsx, csv or txt")
	}
	var d report.Document
	var err error
	switch kind := r.PathValue("kind"); kind {
	case "letter":
		d, err = s.Roadmap.Letter(r.Context(), p, lang)
	case "regions":
		d, err = s.Roadmap.RegionReport(r.Context(), p, lang)
	default:
		return errs.NotFoundf("no document %q (letter or regions)", kind)
	}
	if err != nil {
		return err
	}
	// Built whole before the first byte: an error is a problem document,
	// never half a file.
	var buf bytes.Buffer
	if err := report.Write(&buf, d, format); err != nil {
		return errs.Wrap(err, "document")
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": r.PathValue("kind") + "-" + string(lang) + "." + format}))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
	return nil
}
