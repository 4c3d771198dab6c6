package web

import (
	"fmt"
	"net/http"

	"qorgan/internal/auth"
	"qorgan/internal/registry"
)

// Pupils, and the personal-data law's rights over their records: a school's
// list, a guardian's own children, a record exported whole, a guardian's
// consent withdrawn.

func (s *Server) exportPupil(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, x, err := getByID(r, p, s.Registry.ExportPupil)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="pupil-%d.json"`, id))
	writeJSON(w, http.StatusOK, x)
	return nil
}

func (s *Server) withdrawConsent(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	c, err := s.Registry.WithdrawMyConsent(r.Context(), p)
	return reply(w, http.StatusOK, c, err)
}

func (s *Server) listPupils(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	pg, err := pageOf(r)
	if err != nil {
		return err
	}
	list, err := s.Registry.ListPupils(r.Context(), p, id, pg)
	return reply(w, http.StatusOK, list, err)
}

func (s *Server) children(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	xs, err := s.Registry.Children(r.Context(), p)
	return reply(w, http.StatusOK, registry.List[registry.Pupil]{Items: xs}, err)
}
