package web

import (
	"net/http"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/emergency"
	"qorgan/internal/errs"
	"qorgan/internal/registry"
)

// declareEmergency handles POST /api/v1/emergencies: one emergency per
// school named, pending from the school until confirmed.
func (s *Server) declareEmergency(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	var d emergency.Declaration
	if err := decode(w, r, &d); err != nil {
		return err
	}
	es, err := s.Emergency.Declare(r.Context(), p, d)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, registry.List[emergency.Emergency]{Items: es})
	return nil
}

// emergencyActionRequest is the body of an emergency action: change takes
// the mode, scenario, place and silence; end takes the reason.
type emergencyActionRequest struct {
	Mode     emergency.Mode     `json:"mode,omitempty"`
	Scenario emergency.Scenario `json:"scenario,omitempty"`
	Place    string             `json:"place,omitempty"`
	Silent   *bool              `json:"silent,omitempty"`
	Reason   string             `json:"reason,omitempty"`
}

// emergencyAction handles POST /api/v1/emergencies/{id}/{action}: confirm,
// change, end.
func (s *Server) emergencyAction(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req emergencyActionRequest
	if r.ContentLength != 0 {
		if err := decode(w, r, &req); err != nil {
			return err
		}
	}
	var e emergency.Emergency
	switch r.PathValue("action") {
	case "confirm":
		e, err = s.Emergency.Confirm(r.Context(), p, id)
	case "change":
		e, err = s.Emergency.Update(r.Context(), p, id, emergency.Change{Mode: req.Mode, Scenario: req.Scenario, Place: req.Place, Silent: req.Silent})
	case "end":
		e, err = s.Emergency.End(r.Context(), p, id, req.Reason)
	default:
		return errs.NotFoundf("no emergency action %q (confirm, change, end)", r.PathValue("action"))
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

type marksRequest struct {
	Marks []emergency.Mark `json:"marks"`
}

// markEmergency handles POST /api/v1/emergencies/{id}/marks by the
// school's director or guard.
func (s *Server) markEmergency(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req marksRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := s.Emergency.Mark(r.Context(), p, id, req.Marks); err != nil {
		return err
	}
	rc, err := s.Emergency.Unaccounted(r.Context(), p, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rc)
	return nil
}

// checkIn handles POST /api/v1/emergencies/{id}/reunions: a refused adult
// is recorded and answered 409 naming id_document.
func (s *Server) checkIn(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in emergency.CheckIn
	if err := decode(w, r, &in); err != nil {
		return err
	}
	x, err := s.Emergency.CheckIn(r.Context(), p, id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, x)
	return nil
}

type reunionActionRequest struct {
	Runner string `json:"runner,omitempty"`
}

// reunionAction handles POST /api/v1/emergencies/{id}/reunions/{reunion}/{action}:
// runner, release.
func (s *Server) reunionAction(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	rid, err := pathID(r, "reunion")
	if err != nil {
		return err
	}
	var req reunionActionRequest
	if r.ContentLength != 0 {
		if err := decode(w, r, &req); err != nil {
			return err
		}
	}
	var x emergency.Reunion
	switch r.PathValue("action") {
	case "runner":
		x, err = s.Emergency.SendRunner(r.Context(), p, id, rid, req.Runner)
	case "release":
		x, err = s.Emergency.Release(r.Context(), p, id, rid)
	default:
		return errs.NotFoundf("no reunification action %q (runner, release)", r.PathValue("action"))
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, x)
	return nil
}

// confirmProposal handles POST /api/v1/emergency-proposals/{id}: the one
// action that turns a panic alarm's proposal into a live emergency.
func (s *Server) confirmProposal(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var c emergency.Confirmation
	if r.ContentLength != 0 {
		if err := decode(w, r, &c); err != nil {
			return err
		}
	}
	e, err := s.Emergency.ConfirmProposal(r.Context(), p, id, c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, e)
	return nil
}

// drills handles GET /api/v1/schools/{id}/drills?year=2026-2027 (this
// school year by default): the plan, the briefings and each drill's report.
func (s *Server) drills(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	year := r.URL.Query().Get("year")
	if year == "" {
		year = emergency.SchoolYear(time.Now())
	}
	pl, err := s.Emergency.YearReport(r.Context(), p, id, year)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pl)
	return nil
}
