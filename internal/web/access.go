package web

import (
	"net/http"
	"strings"

	"qorgan/internal/access"
	"qorgan/internal/auth"
	"qorgan/internal/errs"
)

// passBatch is what a turnstile controller posts.
type passBatch struct {
	Events []access.PassEvent `json:"events"`
}

// devicePasses takes a batch of pass events from a turnstile controller
// (device credential). The batch is taken whole or not at all; a resent
// event is stored once.
func (s *Server) devicePasses(w http.ResponseWriter, r *http.Request) error {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || !strings.HasPrefix(tok, "qd_") {
		return errs.E(errs.Unauthorized, "Authorization", "send the device credential as Authorization: Bearer qd_…")
	}
	d, err := s.Registry.DeviceByCredential(r.Context(), strings.TrimSpace(tok))
	if err != nil {
		return err
	}
	var b passBatch
	if err := decodeLimit(w, r, &b, MaxPassBody); err != nil {
		return err
	}
	res, err := s.Access.Record(r.Context(), d, b.Events)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

type manualPassRequest struct {
	PupilID   int64            `json:"pupil_id"`
	Direction access.Direction `json:"direction"`
	RequestID string           `json:"request_id"`
}

func (s *Server) manualPass(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req manualPassRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if req.RequestID == "" || len(req.RequestID) > 64 {
		return errs.Invalidf("request_id", "request_id is required (1–64 characters) so that a repeated request records one pass")
	}
	res, err := s.Access.ManualPass(r.Context(), p, id, req.PupilID, req.Direction, req.RequestID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) rollCall(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	rc, err := s.Access.RollCall(r.Context(), s.Auth, p, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rc)
	return nil
}
