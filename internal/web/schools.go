package web

import (
	"net/http"
	"strconv"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/registry"
)

// Regions, districts and schools, and the credentials of a school's devices.

func (s *Server) listRegions(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	rs, err := s.Registry.ListRegions(r.Context())
	return reply(w, http.StatusOK, registry.List[registry.Region]{Items: rs}, errs.Wrap(err, "list regions"))
}

func (s *Server) listDistricts(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	ds, err := s.Registry.ListDistricts(r.Context(), r.PathValue("code"))
	return reply(w, http.StatusOK, registry.List[registry.District]{Items: ds}, errs.Wrap(err, "list districts"))
}

func (s *Server) listSchools(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	pg, err := pageOf(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := registry.SchoolFilter{Region: q.Get("region"), District: q.Get("district")}
	if u := q.Get("uto"); u != "" {
		b, err := strconv.ParseBool(u)
		if err != nil {
			return errs.Invalidf("uto", "uto must be true or false")
		}
		f.UTO = &b
	}
	list, err := s.Registry.ListSchools(r.Context(), p, f, pg)
	return reply(w, http.StatusOK, list, err)
}

func (s *Server) issueDeviceCredential(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, tok, err := getByID(r, p, s.Registry.IssueDeviceCredential)
	return reply(w, http.StatusCreated, map[string]any{"device_id": id, "credential": tok}, err)
}
