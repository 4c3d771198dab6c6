package web

import (
	"context"
	"net/http"
	"slices"
	"strconv"

	"qorgan/internal/auth"
	"qorgan/internal/emergency"
	"qorgan/internal/errs"
	"qorgan/internal/registry"
)

// The school's emergency page (director, guard; the ЦОУ and the ПЦН by
// the school's address): the open emergency, if any, with its roll-call of
// the unaccounted by class; declaring one (from the school it waits for a
// second, deliberate confirmation), confirming, changing the mode, and
// ending it — each by the same domain calls as /api/v1/emergencies; and
// the emergency a panic alarm proposes, confirmed in one action as
// /api/v1/emergency-proposals confirms it.

type emergencyPageData struct {
	School    registry.School
	Open      *emergency.Emergency
	RollCall  *emergency.RollCall
	Proposals []emergency.Proposal // the school's panic alarms' proposals, for one who may confirm them
	Modes     []emergency.Mode
	Scenarios []emergency.Scenario
	formState
	CanDeclare, CanEnd,
	CanConfirm bool
	// Done is the step just taken, for the notice that says so: declared,
	// pending, changed or ended; "" for none.
	Done string
}

// emergencyDone are the steps the emergency page's notice may say.
var emergencyDone = []string{"declared", "pending", "changed", "ended"}

func (s *Server) emergencyPage(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d := emergencyPageData{}
	if done := r.URL.Query().Get("done"); slices.Contains(emergencyDone, done) {
		d.Done = done
	}
	return s.showEmergency(w, r, sess.Principal, v, id, http.StatusOK, d)
}

// proposals are the emergencies the panic alarms in p's scope propose, as
// /api/v1/emergency-proposals lists them, those keep takes; none for a
// person who may not confirm one.
func (s *Server) proposals(ctx context.Context, p auth.Principal, keep func(emergency.Proposal) bool) ([]emergency.Proposal, error) {
	if !p.Can(auth.ConfirmProposal) {
		return nil, nil
	}
	ps, err := s.Emergency.Proposals(ctx, p)
	return slices.DeleteFunc(ps, func(x emergency.Proposal) bool { return !keep(x) }), err
}

func (s *Server) showEmergency(w http.ResponseWriter, r *http.Request, p auth.Principal, v *view, schoolID int64, status int, d emergencyPageData) error {
	ctx := r.Context()
	sc, err := s.Registry.School(ctx, p, schoolID)
	if err != nil {
		return err
	}
	list, err := s.Emergency.List(ctx, p, schoolID, 1)
	if err != nil {
		return err
	}
	d.School, d.Modes, d.Scenarios = sc, emergency.Modes, emergency.Scenarios
	if len(list) > 0 && list[0].State != emergency.Ended {
		d.Open = &list[0]
		if d.Open.State == emergency.Live && p.Can(auth.ReadUnaccounted) {
			rc, err := s.Emergency.Unaccounted(ctx, p, d.Open.ID)
			if err != nil {
				return err
			}
			d.RollCall = &rc
		}
	}
	if d.Proposals, err = s.proposals(ctx, p, func(x emergency.Proposal) bool { return x.Alarm.SchoolID == schoolID }); err != nil {
		return err
	}
	d.CanDeclare, d.CanEnd = p.Can(auth.DeclareEmergency), p.Can(auth.EndEmergency)
	d.CanConfirm = d.CanDeclare && d.Open != nil && d.Open.State == emergency.Pending
	if d.Form == nil {
		d.Form = map[string]string{}
		if o := d.Open; o != nil {
			// The change form starts from what is in force.
			d.Form["mode"], d.Form["scenario"], d.Form["place"] = string(o.Mode), string(o.Scenario), o.Place
			if o.Drill {
				d.Form["drill"] = "on"
			}
			if o.Silent {
				d.Form["silent"] = "on"
			}
		}
	}
	return s.renderPage(w, status, "emergency", v, "ui.emergency.title", d)
}

// emergencyStepPage takes the page's forms: declare (or change, when one is
// open), confirm, end, and confirm-proposal (a panic alarm's proposal, also
// from the alarm's page and the console). A bad field comes back beside it
// with what was typed; a step someone took meanwhile, as a notice. What
// makes an emergency live comes back to the page with a notice that it was
// declared.
func (s *Server) emergencyStepPage(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view) error {
	p := sess.Principal
	schoolID, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f := r.PostForm
	ctx := r.Context()
	eid, _ := strconv.ParseInt(f.Get("emergency_id"), 10, 64)
	back := "/schools/" + strconv.FormatInt(schoolID, 10) + "/emergency"
	var e emergency.Emergency
	done := ""
	switch r.PathValue("step") {
	case "declare":
		var es []emergency.Emergency
		es, err = s.Emergency.Declare(ctx, p, emergency.Declaration{SchoolIDs: []int64{schoolID}, Mode: emergency.Mode(f.Get("mode")),
			Scenario: emergency.Scenario(f.Get("scenario")), Place: f.Get("place"), Drill: f.Get("drill") == "on", Silent: f.Get("silent") == "on"})
		switch {
		case err != nil || len(es) == 0:
		case f.Get("changing") != "":
			done = "changed" // a declaration while one is open changes it
		case es[0].State == emergency.Pending:
			done = "pending"
		default:
			done = "declared"
		}
	case "confirm":
		e, err = s.Emergency.Confirm(ctx, p, eid)
	case "confirm-proposal":
		aid, _ := strconv.ParseInt(f.Get("alarm_id"), 10, 64)
		e, err = s.Emergency.ConfirmProposal(ctx, p, aid, emergency.Confirmation{})
	case "end":
		_, err = s.Emergency.End(ctx, p, eid, f.Get("reason"))
		done = "ended"
	default:
		return errs.NotFoundf("no step %q", r.PathValue("step"))
	}
	fs := typed(f, "mode", "scenario", "place", "drill", "silent", "reason")
	if status, ok := fs.stepRefused(err, "ui.emergency.form.", "ui.emergency.conflict", "mode", "scenario", "place", "reason"); ok {
		return s.showEmergency(w, r, p, v, schoolID, status, emergencyPageData{formState: fs})
	}
	if err != nil {
		return err
	}
	if e.State == emergency.Live {
		// The alarm's school, whichever page the proposal was confirmed on.
		back, done = "/schools/"+strconv.FormatInt(e.SchoolID, 10)+"/emergency", "declared"
	}
	if done != "" {
		back += "?done=" + done
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
	return nil
}
