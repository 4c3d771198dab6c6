package web

import (
	"net/http"
	"strconv"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
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
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, f)
	return nil
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
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": xs})
	return nil
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
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, f)
	return nil
}
