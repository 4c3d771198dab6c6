package web

import (
	"net/http"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
)

// API tokens: a person creates, lists and revokes their own.

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
	return reply(w, http.StatusCreated, t, err)
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
