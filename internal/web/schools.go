package web

import (
	"net/http"
	"strconv"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/registry"
)

// Regions, districts and schools, and the credentials of a school's devices.

// refusalHold is how long a sign-in refused by the limits (429, 503) is
// held before its answer goes out. Refusing costs no password check, but
// a client that asks again the moment it is answered still makes the
// server parse and answer thousands of requests a second, and on a small
// machine that is CPU the alarm receiver needs; held, a client that waits
// for its answers (a script, a loop of curl) asks once a second. A held
// request costs a goroutine and a timer.
const refusalHold = time.Second

func (s *Server) listRegions(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	rs, err := s.Registry.ListRegions(r.Context())
	if err != nil {
		return errs.Wrap(err, "list regions")
	}
	writeJSON(w, http.StatusOK, registry.List[registry.Region]{Items: rs})
	return nil
}

func (s *Server) listDistricts(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	ds, err := s.Registry.ListDistricts(r.Context(), r.PathValue("code"))
	if err != nil {
		return errs.Wrap(err, "list districts")
	}
	writeJSON(w, http.StatusOK, registry.List[registry.District]{Items: ds})
	return nil
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
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

func (s *Server) createSchool(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	var in registry.SchoolInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	sc, err := s.Registry.CreateSchool(r.Context(), p, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, sc)
	return nil
}

func (s *Server) issueDeviceCredential(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	tok, err := s.Registry.IssueDeviceCredential(r.Context(), p, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"device_id": id, "credential": tok})
	return nil
}
