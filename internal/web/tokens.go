package web

import (
	"context"
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
	return bodyForPerson(http.StatusCreated, func(ctx context.Context, p auth.Principal, req tokenRequest) (auth.APIToken, error) {
		if req.TTLHours < 0 || req.TTLHours > 24*366 {
			return auth.APIToken{}, errs.Invalidf("ttl_hours", "ttl_hours must be 0 (no expiry) to 8784")
		}
		return s.Auth.CreateAPIToken(ctx, p, req.Name, time.Duration(req.TTLHours)*time.Hour)
	})(w, r, p)
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
