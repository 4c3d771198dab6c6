package web

import (
	"net/http"
	"strconv"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/registry"
)

// People's accounts and the audit trail, for the administrator.

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if err := p.Require(auth.ManageUsers); err != nil {
		return err
	}
	us, err := s.Auth.ListUsers(r.Context())
	return reply(w, http.StatusOK, registry.List[auth.User]{Items: us}, errs.Wrap(err, "list users"))
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
	return reply(w, http.StatusCreated, u, err)
}

func (s *Server) verifyAudit(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if err := p.Require(auth.VerifyAudit); err != nil {
		return err
	}
	rep, err := s.Auth.VerifyAudit(r.Context())
	return reply(w, http.StatusOK, rep, errs.Wrap(err, "verify audit"))
}

// setDisabled disables or enables a person's account (administrators).
func (s *Server) setDisabled(disabled bool) func(http.ResponseWriter, *http.Request, auth.Principal) error {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		if err := p.Require(auth.ManageUsers); err != nil {
			return err
		}
		login := r.PathValue("login")
		if err := s.Auth.SetDisabled(r.Context(), p, login, disabled); err != nil {
			return err
		}
		u, err := s.Auth.User(r.Context(), login)
		return reply(w, http.StatusOK, u, err)
	}
}

// listAudit pages through the audit trail, newest first; the cursor is the
// sequence number of the last entry seen.
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	q := r.URL.Query()
	aq := auth.AuditQuery{Object: q.Get("object"), Actor: q.Get("actor"), Action: q.Get("action"), Limit: 100}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > registry.MaxLimit {
			return errs.Invalidf("limit", "limit must be 1 to %d", registry.MaxLimit)
		}
		aq.Limit = n
	}
	if v := q.Get("cursor"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return errs.Invalidf("cursor", "cursor is not one this server gave")
		}
		aq.Before = n
	}
	es, err := s.Auth.ListAudit(r.Context(), p, aq)
	if err != nil {
		return err
	}
	out := registry.List[auth.AuditRecord]{Items: es}
	if len(es) == aq.Limit {
		out.NextCursor = strconv.FormatInt(es[len(es)-1].Seq, 10)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
