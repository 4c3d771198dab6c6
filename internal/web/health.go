package web

import (
	"context"
	"net/http"
	"time"

	"qorgan/internal/errs"
)

// Liveness and readiness for the orchestrator, and the answer to an
// unknown path.

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
