package web

import (
	"fmt"
	"net/http"
	"strconv"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/registry"
)

// The personal-data law's rights, and the tokens a person holds: a pupil's
// record changed, exported whole, erased; a guardian's consent withdrawn;
// API tokens listed and revoked.

func (s *Server) exportPupil(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	x, err := s.Registry.ExportPupil(r.Context(), p, id)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="pupil-%d.json"`, id))
	writeJSON(w, http.StatusOK, x)
	return nil
}

func (s *Server) withdrawConsent(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	c, err := s.Registry.WithdrawMyConsent(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	ts, err := s.Auth.ListAPITokens(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, registry.List[auth.APIToken]{Items: ts})
	return nil
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.Auth.RevokeAPIToken(r.Context(), p, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
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
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, u)
		return nil
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
