package web

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/registry"
)

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.DB.Ping(ctx); err != nil {
		s.Log.Warn("not ready", "err", err)
		return errs.E(errs.Unavailable, "", "the store does not answer")
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready", "store": string(s.DB.Dialect)})
	return nil
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) error {
	return errs.NotFoundf("no such endpoint: %s %s", r.Method, r.URL.Path)
}

// pathID reads a numeric path parameter; anything else is simply not found.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.NotFoundf("no %s %q", name, r.PathValue(name))
	}
	return id, nil
}

func pageOf(r *http.Request) (registry.Page, error) {
	q := r.URL.Query()
	pg := registry.Page{Cursor: q.Get("cursor")}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			return pg, errs.Invalidf("limit", "limit must be a positive integer, got %q", l)
		}
		pg.Limit = n
	}
	return pg, nil
}

// --- people and sessions

type loginRequest struct {
	Login    string `json:"login"`
	Password string `json:"password"`
}

type sessionResponse struct {
	Principal auth.Principal `json:"principal"`
	CSRFToken string         `json:"csrf_token"`
	ExpiresAt time.Time      `json:"expires_at"`
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	var req loginRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if req.Login == "" {
		return errs.Invalidf("login", "login is required")
	}
	if req.Password == "" {
		return errs.Invalidf("password", "password is required")
	}
	sess, err := s.Auth.Login(r.Context(), s.clientAddr(r), req.Login, req.Password)
	if err != nil {
		if c := errs.CodeOf(err); c == errs.TooMany || c == errs.Unavailable {
			holdRefusal(r.Context())
		}
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sess.Token, Path: "/", Expires: sess.ExpiresAt,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil || s.SecureCookies})
	writeJSON(w, http.StatusOK, sessionResponse{Principal: sess.Principal, CSRFToken: sess.CSRF, ExpiresAt: sess.ExpiresAt.UTC()})
	return nil
}

// refusalHold is how long a sign-in refused by the limits (429, 503) is
// held before its answer goes out. Refusing costs no password check, but
// a client that asks again the moment it is answered still makes the
// server parse and answer thousands of requests a second, and on a small
// machine that is CPU the alarm receiver needs; held, a client that waits
// for its answers (a script, a loop of curl) asks once a second. A held
// request costs a goroutine and a timer.
const refusalHold = time.Second

func holdRefusal(ctx context.Context) {
	t := time.NewTimer(refusalHold)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := s.Auth.Logout(r.Context(), c.Value); err != nil {
			return errs.Wrap(err, "logout")
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil || s.SecureCookies})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) me(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	writeJSON(w, http.StatusOK, p)
	return nil
}

type tokenRequest struct {
	Name     string `json:"name"`
	TTLHours int    `json:"ttl_hours,omitempty"`
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	var req tokenRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if req.TTLHours < 0 || req.TTLHours > 24*366 {
		return errs.Invalidf("ttl_hours", "ttl_hours must be 0 (no expiry) to 8784")
	}
	t, err := s.Auth.CreateAPIToken(r.Context(), p, req.Name, time.Duration(req.TTLHours)*time.Hour)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, t)
	return nil
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if err := p.Require(auth.ManageUsers); err != nil {
		return err
	}
	us, err := s.Auth.ListUsers(r.Context())
	if err != nil {
		return errs.Wrap(err, "list users")
	}
	if us == nil {
		us = []auth.User{}
	}
	writeJSON(w, http.StatusOK, registry.List[auth.User]{Items: us})
	return nil
}

type userRequest struct {
	Login    string     `json:"login"`
	FullName string     `json:"full_name"`
	Password string     `json:"password"`
	Role     auth.Role  `json:"role"`
	Scope    auth.Scope `json:"scope"`
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if err := p.Require(auth.ManageUsers); err != nil {
		return err
	}
	var req userRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	u, err := s.Auth.CreateUser(r.Context(), p, auth.NewUser{Login: req.Login, FullName: req.FullName, Password: req.Password, Role: req.Role, Scope: req.Scope})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, u)
	return nil
}

func (s *Server) verifyAudit(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if err := p.Require(auth.VerifyAudit); err != nil {
		return err
	}
	rep, err := s.Auth.VerifyAudit(r.Context())
	if err != nil {
		return errs.Wrap(err, "verify audit")
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// --- registry

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
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

func (s *Server) children(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	xs, err := s.Registry.Children(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, registry.List[registry.Pupil]{Items: xs})
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

func (s *Server) listProviders(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	xs, err := s.Registry.ListProviders(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, registry.List[registry.Provider]{Items: xs})
	return nil
}

func (s *Server) createProvider(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	var in registry.ProviderInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	x, err := s.Registry.CreateProvider(r.Context(), p, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, x)
	return nil
}

type contractRequest struct {
	ProviderID int64  `json:"provider_id"`
	SchoolID   int64  `json:"school_id"`
	StartsOn   string `json:"starts_on"`
	EndsOn     string `json:"ends_on,omitempty"`
}

func (s *Server) createContract(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	var in contractRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	c, err := s.Registry.CreateContract(r.Context(), p, registry.Contract{ProviderID: in.ProviderID, SchoolID: in.SchoolID, StartsOn: in.StartsOn, EndsOn: in.EndsOn})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (s *Server) listPoliceUnits(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	xs, err := s.Registry.ListPoliceUnits(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, registry.List[registry.PoliceUnit]{Items: xs})
	return nil
}

type policeUnitRequest struct {
	NameKK       string `json:"name_kk"`
	NameRU       string `json:"name_ru"`
	RegionCode   string `json:"region_code"`
	DistrictCode string `json:"district_code,omitempty"`
}

func (s *Server) createPoliceUnit(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	var in policeUnitRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	u, err := s.Registry.CreatePoliceUnit(r.Context(), p, registry.PoliceUnit{NameKK: in.NameKK, NameRU: in.NameRU, RegionCode: in.RegionCode, DistrictCode: in.DistrictCode})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, u)
	return nil
}
