package web

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"qorgan/internal/alarm"
	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/registry"
)

// The operator console: the live queue of open alarms in the person's scope
// and an alarm's page, over the same domain calls as /api/v1/alarms.

// parties are the parties whose acknowledgement a row shows, in order.
var parties = []alarm.Party{alarm.PartyPCN, alarm.PartyCOU, alarm.PartySchool}

// alarmRow is an alarm as the queue shows it.
type alarmRow struct {
	alarm.Alarm
	Acks   []partyAck
	Mine   bool // this person's party has acknowledged
	CanAck bool
}

type partyAck struct {
	Party alarm.Party
	Done  bool
}

// partyOf is the party a person acknowledges for (as the alarm package
// decides it), empty for a role that does not respond.
func partyOf(p auth.Principal) alarm.Party {
	switch p.Role {
	case auth.RolePCNOperator:
		return alarm.PartyPCN
	case auth.RoleCOUOperator:
		return alarm.PartyCOU
	case auth.RoleGuard, auth.RoleDirector:
		return alarm.PartySchool
	}
	return ""
}

func rowOf(a alarm.Alarm, p auth.Principal) alarmRow {
	r := alarmRow{Alarm: a}
	mine := partyOf(p)
	for _, x := range parties {
		r.Acks = append(r.Acks, partyAck{Party: x, Done: a.AcknowledgedBy(x)})
	}
	r.Mine = mine != "" && a.AcknowledgedBy(mine)
	r.CanAck = mine != "" && p.Can(auth.RespondAlarms) && !r.Mine && a.State != alarm.Resolved
	return r
}

type consoleData struct {
	Alarms, Trouble []alarmRow
	After           int64 // the live feed resumes after this event
	Party           alarm.Party
	Types           []string
	States          []alarm.State
	Parties         []alarm.Party
	Steps           []string
	Template        alarmRow // the row the script fills in for a new alarm
}

// alarmTypes and alarmSteps are the words a live row may need; the page
// carries them so that the script shows them in the person's language.
var alarmTypes = []string{"panic", "duress", "silent_panic", "holdup", "fire", "medical", "tamper", "ac_loss", "low_battery", "comm_trouble",
	"periodic_test", "opening", "closing", "restore", "unknown"}

var alarmStates = []alarm.State{alarm.Raised, alarm.Acknowledged, alarm.Dispatched, alarm.OnSite, alarm.Resolved}

var alarmSteps = []string{"raised", "delivered", "acknowledged", "dispatched", "on_site", "resolved", "escalated"}

func (s *Server) console(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view) error {
	p := sess.Principal
	v.Now = time.Now()
	if err := p.Require(auth.ReadAlarms); err != nil {
		return err
	}
	// The cursor first, then the list: an alarm raised in between comes
	// over the feed as well, and a row is updated, never doubled.
	after, err := s.Alarms.LatestSeq(r.Context())
	if err != nil {
		return err
	}
	xs, err := s.Alarms.List(r.Context(), p, false, 200)
	if err != nil {
		return err
	}
	d := consoleData{After: after, Party: partyOf(p), Types: alarmTypes, States: alarmStates, Parties: parties, Steps: alarmSteps,
		Template: rowOf(alarm.Alarm{Priority: int(alarm.PriorityAlarm), Type: "unknown", State: alarm.Raised, CommittedAt: v.Now}, p)}
	for _, a := range xs {
		// The list carries no steps: the acknowledgements are read alarm
		// by alarm (open alarms are few), in the same scope.
		full, err := s.Alarms.Get(r.Context(), p, a.ID)
		if err != nil {
			continue // resolved or gone out of scope since the list
		}
		row := rowOf(full, p)
		if a.Priority == int(alarm.PriorityAlarm) {
			d.Alarms = append(d.Alarms, row)
		} else {
			d.Trouble = append(d.Trouble, row)
		}
	}
	newest := func(a, b alarmRow) int { return b.CommittedAt.Compare(a.CommittedAt) }
	slices.SortStableFunc(d.Alarms, newest)
	slices.SortStableFunc(d.Trouble, newest)
	v.Title = "ui.console.title"
	v.Data = d
	s.render(w, http.StatusOK, "console", v)
	return nil
}

// schoolCard is what an operator needs to know about the school in alarm.
type schoolCard struct {
	School     *registry.School
	District   *registry.District
	Device     *registry.Device
	Contract   *registry.Contract
	Provider   *registry.Provider
	PoliceUnit *registry.PoliceUnit
}

type timelineEntry struct {
	At     time.Time
	Party  alarm.Party
	Step   string
	Detail string
}

type alarmPageData struct {
	Row      alarmRow
	Card     schoolCard
	Timeline []timelineEntry
}

func (s *Server) alarmPage(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view) error {
	p := sess.Principal
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	a, err := s.Alarms.Get(r.Context(), p, id)
	if err != nil {
		return err
	}
	d := alarmPageData{Row: rowOf(a, p), Card: s.cardOf(r, p, a)}
	d.Timeline = append(d.Timeline, timelineEntry{At: a.CommittedAt, Party: alarm.PartySystem, Step: "raised", Detail: a.Code})
	if a.FirstDeliveryAt != nil {
		d.Timeline = append(d.Timeline, timelineEntry{At: *a.FirstDeliveryAt, Party: alarm.PartySystem, Step: "delivered"})
	}
	for _, st := range a.Steps {
		e := timelineEntry{At: st.At, Party: st.Party, Step: st.Step, Detail: st.Detail}
		if st.Step == "acknowledged" {
			// The domain writes "after 1.2s" for the record; the page says
			// it in the reader's language.
			secs := st.At.Sub(a.CommittedAt).Seconds()
			e.Detail = tr(v.Lang, "ui.timeline.after", map[string]string{"Seconds": strconv.FormatFloat(secs, 'f', 1, 64)}, 0)
		}
		d.Timeline = append(d.Timeline, e)
	}
	slices.SortStableFunc(d.Timeline, func(x, y timelineEntry) int { return x.At.Compare(y.At) })
	v.Title = "ui.alarm.title"
	v.Data = d
	s.render(w, http.StatusOK, "alarm", v)
	return nil
}

// cardOf gathers the school's card with the person's own scope: what they
// may not read stays empty on the page rather than failing it.
func (s *Server) cardOf(r *http.Request, p auth.Principal, a alarm.Alarm) schoolCard {
	ctx := r.Context()
	var c schoolCard
	sc, err := s.Registry.School(ctx, p, a.SchoolID)
	if err != nil {
		return c
	}
	c.School = &sc
	if ds, err := s.Registry.ListDistricts(ctx, sc.RegionCode); err == nil {
		for i := range ds {
			if ds[i].Code == sc.DistrictCode {
				c.District = &ds[i]
			}
		}
	}
	if devs, err := s.Registry.ListDevices(ctx, p, a.SchoolID); err == nil {
		for i := range devs {
			if devs[i].ID == a.DeviceID {
				c.Device = &devs[i]
			}
		}
	}
	if cs, err := s.Registry.ContractsOfSchool(ctx, p, a.SchoolID); err == nil {
		for i := range cs {
			if cs[i].ProviderID == a.ProviderID {
				c.Contract = &cs[i]
				break
			}
		}
	}
	if ps, err := s.Registry.ListProviders(ctx, p); err == nil {
		for i := range ps {
			if ps[i].ID == a.ProviderID {
				c.Provider = &ps[i]
			}
		}
	}
	if us, err := s.Registry.ListPoliceUnits(ctx, p); err == nil {
		for i := range us {
			if us[i].ID == a.PoliceUnitID {
				c.PoliceUnit = &us[i]
			}
		}
	}
	return c
}

// acknowledgePage is the acknowledge button without the script: the same
// domain call as POST /api/v1/alarms/{id}/acknowledge.
func (s *Server) acknowledgePage(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := s.Alarms.Acknowledge(r.Context(), sess.Principal, id); err != nil {
		return err
	}
	http.Redirect(w, r, localPath(r.PostForm.Get("back"), "/console"), http.StatusSeeOther)
	return nil
}

// notFoundPage answers a path that is no page, as a page.
func (s *Server) notFoundPage(w http.ResponseWriter, r *http.Request, _ auth.Session, v *view) error {
	return errs.NotFoundf("no page %s", r.URL.Path)
}
