package web

import (
	"context"
	"net/http"
	"time"

	"qorgan/internal/attendance"
	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/notify"
	"qorgan/internal/registry"
)

// passBatch is what a turnstile controller posts.
type passBatch struct {
	Events []attendance.PassEvent `json:"events"`
}

// devicePasses takes a batch of pass events from a turnstile controller
// (device credential). The batch is taken whole or not at all; a resent
// event is stored once.
func (s *Server) devicePasses(w http.ResponseWriter, r *http.Request, d registry.Device) error {
	var b passBatch
	if err := decodeLimit(w, r, &b, MaxPassBody); err != nil {
		return err
	}
	res, err := s.Access.Record(r.Context(), d, b.Events)
	return reply(w, http.StatusOK, res, err)
}

type manualPassRequest struct {
	PupilID   int64                `json:"pupil_id"`
	Direction attendance.Direction `json:"direction"`
	RequestID string               `json:"request_id"`
}

func (s *Server) manualPass(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	return bodyByID(http.StatusOK, func(ctx context.Context, p auth.Principal, id int64, req manualPassRequest) (attendance.Result, error) {
		if req.RequestID == "" || len(req.RequestID) > 64 {
			return attendance.Result{}, errs.Invalidf("request_id", "request_id is required (1–64 characters) so that a repeated request records one pass")
		}
		return s.Access.ManualPass(ctx, p, id, req.PupilID, req.Direction, req.RequestID)
	})(w, r, p)
}

func (s *Server) rollCall(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	rc, err := s.Access.RollCall(r.Context(), s.Auth, p, id)
	return reply(w, http.StatusOK, rc, err)
}

// deliveryReport is a school's view of the messages sent to its parents.
type deliveryReport struct {
	Since    time.Time            `json:"since"`
	Counts   []notify.StatusCount `json:"counts"`
	Failures []notify.Failure     `json:"failures"`
}

// notifications shows the school's staff how the messages to parents are
// doing: counts by channel and status, and the latest failures.
func (s *Server) notifications(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := s.Registry.SchoolFor(r.Context(), p, id, auth.ReadMessages); err != nil {
		return err
	}
	since := time.Now().Add(-24 * time.Hour)
	if v := r.URL.Query().Get("since"); v != "" {
		if since, err = time.Parse(time.RFC3339, v); err != nil {
			return errs.Invalidf("since", "since must be an RFC 3339 time")
		}
	}
	counts, err := s.Outbox.Status(r.Context(), id, since)
	if err != nil {
		return errs.Wrap(err, "delivery status")
	}
	fails, err := s.Outbox.Failures(r.Context(), id, since, 50)
	if err != nil {
		return errs.Wrap(err, "delivery failures")
	}
	if counts == nil {
		counts = []notify.StatusCount{}
	}
	if fails == nil {
		fails = []notify.Failure{}
	}
	writeJSON(w, http.StatusOK, deliveryReport{Since: since.UTC(), Counts: counts, Failures: fails})
	return nil
}
