package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/cap"
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
	return reply(w, http.StatusCreated, registry.List[emergency.Emergency]{Items: es}, err)
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

// emergencyAction is the action of POST /api/v1/emergencies/{id}/{action}:
// confirm, change, end.
func (s *Server) emergencyAction(ctx context.Context, p auth.Principal, id int64, action string, req emergencyActionRequest) (emergency.Emergency, error) {
	switch action {
	case "confirm":
		return s.Emergency.Confirm(ctx, p, id)
	case "change":
		return s.Emergency.Update(ctx, p, id, emergency.Change{Mode: req.Mode, Scenario: req.Scenario, Place: req.Place, Silent: req.Silent})
	case "end":
		return s.Emergency.End(ctx, p, id, req.Reason)
	}
	return emergency.Emergency{}, errs.NotFoundf("no emergency action %q (confirm, change, end)", action)
}

type marksRequest struct {
	Marks []emergency.Mark `json:"marks"`
}

// markEmergency handles POST /api/v1/emergencies/{id}/marks by the
// school's director or guard.
func (s *Server) markEmergency(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	return bodyByID(http.StatusOK, func(ctx context.Context, p auth.Principal, id int64, req marksRequest) (emergency.RollCall, error) {
		if err := s.Emergency.Mark(ctx, p, id, req.Marks); err != nil {
			return emergency.RollCall{}, err
		}
		return s.Emergency.Unaccounted(ctx, p, id)
	})(w, r, p)
}

// checkIn handles POST /api/v1/emergencies/{id}/reunions: a refused adult
// is recorded and answered 409 naming id_document.
func (s *Server) checkIn(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	return bodyByID(http.StatusCreated, s.Emergency.CheckIn)(w, r, p)
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
	return reply(w, http.StatusOK, x, err)
}

// confirmProposal handles POST /api/v1/emergency-proposals/{id}: the one
// action that turns a panic alarm's proposal into a live emergency.
func (s *Server) confirmProposal(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	var c emergency.Confirmation
	id, err := idAndOptionalBody(w, r, &c)
	if err != nil {
		return err
	}
	e, err := s.Emergency.ConfirmProposal(r.Context(), p, id, c)
	return reply(w, http.StatusCreated, e, err)
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
	return reply(w, http.StatusOK, pl, err)
}

// staffCode runs h with the code a staff member got in their emergency
// message (Authorization: Bearer qe_…): a teacher marks their class from
// their phone without a sign-in of their own. A JSON body is read first,
// so that one over the limit is refused as such. An address that has sent
// too many wrong codes is answered 429 before the code is looked up, after
// a second's hold, as a throttled sign-in is (staff_codes.go).
func (s *Server) staffCode(body any, h func(w http.ResponseWriter, r *http.Request, code string) error) http.Handler {
	return s.public(func(w http.ResponseWriter, r *http.Request) error {
		if body != nil {
			if err := decode(w, r, body); err != nil {
				return err
			}
		}
		code, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if code = strings.TrimSpace(code); !ok || code == "" {
			return errs.E(errs.Unauthorized, "", "send the code from your emergency message as Authorization: Bearer qe_…")
		}
		if err := s.admitCode(r, code); err != nil {
			holdRefusal(r.Context())
			return err
		}
		err := h(w, r, code)
		s.codeLooked(r, code, err)
		return err
	})
}

// staffMarks handles POST /api/v1/emergency-staff/marks: a teacher's
// marks for their own class.
func (s *Server) staffMarks() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req marksRequest
		s.staffCode(&req, func(w http.ResponseWriter, r *http.Request, code string) error {
			err := s.Emergency.MarkClass(r.Context(), code, req.Marks)
			return reply(w, http.StatusOK, map[string]int{"marked": len(req.Marks)}, err)
		}).ServeHTTP(w, r)
	})
}

// staffSecured handles POST /api/v1/emergency-staff/secured: the room is
// locked down, or the class is out.
func (s *Server) staffSecured(w http.ResponseWriter, r *http.Request, code string) error {
	at, err := s.Emergency.ConfirmSecured(r.Context(), code)
	return reply(w, http.StatusOK, map[string]time.Time{"secured_at": at}, err)
}

// staffChecklist handles GET /api/v1/emergency-staff/checklist.
func (s *Server) staffChecklist(w http.ResponseWriter, r *http.Request, code string) error {
	c, err := s.Emergency.StaffChecklist(r.Context(), code)
	return reply(w, http.StatusOK, c, err)
}

// staffTick handles POST /api/v1/emergency-staff/checklist/{step}.
func (s *Server) staffTick(w http.ResponseWriter, r *http.Request, code string) error {
	// Not a number is step 0, which the checklist refuses naming the step,
	// after the code is known.
	n, _ := strconv.Atoi(r.PathValue("step"))
	at, err := s.Emergency.StaffTick(r.Context(), code, n)
	return reply(w, http.StatusOK, map[string]time.Time{"ticked_at": at}, err)
}

type homeroomRequest struct {
	Class    string `json:"class"`
	Language string `json:"language"`
}

// setHomeroom handles PUT /api/v1/staff/{id}/homeroom: the class a teacher
// leads at the assembly point and the language of their messages.
func (s *Server) setHomeroom(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	return bodyByID(http.StatusOK, func(ctx context.Context, p auth.Principal, id int64, req homeroomRequest) (map[string]any, error) {
		err := s.Emergency.AssignClass(ctx, p, id, req.Class, req.Language)
		return map[string]any{"staff_id": id, "class": strings.TrimSpace(req.Class), "language": req.Language}, err
	})(w, r, p)
}

type documentRequest struct {
	IDDocument string `json:"id_document"`
}

// setIDDocument handles PUT /api/v1/guardians/{id}/id-document.
func (s *Server) setIDDocument(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	return bodyByID(http.StatusOK, func(ctx context.Context, p auth.Principal, id int64, req documentRequest) (map[string]any, error) {
		err := s.Emergency.SetIDDocument(ctx, p, id, req.IDDocument)
		return map[string]any{"guardian_id": id}, err
	})(w, r, p)
}

// addCourtOrder handles POST /api/v1/pupils/{id}/court-orders.
func (s *Server) addCourtOrder(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	return bodyByID(http.StatusCreated, func(ctx context.Context, p auth.Principal, id int64, in emergency.CourtOrderInput) (map[string]any, error) {
		n, err := s.Emergency.AddCourtOrder(ctx, p, id, in)
		return map[string]any{"id": n, "pupil_id": id}, err
	})(w, r, p)
}

type drillPlanRequest struct {
	Year      string `json:"year"`
	Practical int    `json:"practical"`
	Briefings int    `json:"briefings"`
}

// setDrillPlan handles PUT /api/v1/schools/{id}/drill-plan.
func (s *Server) setDrillPlan(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	return bodyByID(http.StatusOK, func(ctx context.Context, p auth.Principal, id int64, req drillPlanRequest) (map[string]any, error) {
		err := s.Emergency.SetPlan(ctx, p, id, req.Year, req.Practical, req.Briefings)
		return map[string]any{"school_id": id, "year": req.Year, "practical": req.Practical, "briefings": req.Briefings}, err
	})(w, r, p)
}

type briefingRequest struct {
	HeldOn string `json:"held_on"`
	Topic  string `json:"topic"`
}

// recordBriefing handles POST /api/v1/schools/{id}/briefings.
func (s *Server) recordBriefing(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	return bodyByID(http.StatusCreated, func(ctx context.Context, p auth.Principal, id int64, req briefingRequest) (emergency.Briefing, error) {
		return s.Emergency.RecordBriefing(ctx, p, id, req.HeldOn, req.Topic)
	})(w, r, p)
}

// capAlert is one CAP 1.2 alert of an emergency: its headers and the
// document itself, as a civil-protection system takes it.
type capAlert struct {
	Identifier string `json:"identifier"`
	MsgType    string `json:"msg_type"`
	Status     string `json:"status"`
	Sent       string `json:"sent"`
	XML        string `json:"xml"`
}

// emergencyAlerts lists an emergency's CAP alerts, oldest first.
func (s *Server) emergencyAlerts(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	_, as, err := getByID(r, p, s.Emergency.Alerts)
	if err != nil {
		return err
	}
	out := []capAlert{}
	for _, a := range as {
		doc, err := cap.Marshal(a)
		if err != nil {
			return errs.Wrap(err, "CAP alert")
		}
		out = append(out, capAlert{Identifier: a.Identifier, MsgType: string(a.MsgType), Status: string(a.Status), Sent: a.Sent.String(), XML: string(doc)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}
