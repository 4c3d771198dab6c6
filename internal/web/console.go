package web

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"qorgan/internal/alarm"
	"qorgan/internal/auth"
	"qorgan/internal/emergency"
	"qorgan/internal/errs"
	"qorgan/internal/kztime"
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
	// The later steps this person may take now, as the alarm package
	// decides them (a refused step is refused there too).
	CanDispatch, CanOnSite, CanResolve bool
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
	open := mine != "" && p.Can(auth.RespondAlarms) && a.State != alarm.Resolved
	r.CanAck = open && !r.Mine
	r.CanDispatch = open && r.Mine && mine != alarm.PartySchool
	r.CanOnSite = open && slices.ContainsFunc(a.Steps, func(st alarm.Step) bool { return st.Step == "dispatched" }) && a.State != alarm.OnSite
	r.CanResolve = open && (mine != alarm.PartySchool || p.Role == auth.RoleDirector)
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
	// Stats are today's acknowledgement shares of this person's ПЦН or
	// ЦОУ, one sentence each; StatsShown is false for a role without them.
	Stats      []string
	StatsShown bool
	// Proposals are the emergencies the panic alarms in scope propose,
	// for an operator who may confirm one.
	Proposals []emergency.Proposal
	// InForce are the emergencies not yet ended at the schools in scope,
	// each with its school's name in the page's language.
	InForce []inForce
}

// inForce is an emergency in force as the console lists it.
type inForce struct {
	emergency.Emergency
	SchoolName string
}

// alarmTypes and alarmSteps are the words a live row may need; the page
// carries them so that the script shows them in the person's language.
var alarmTypes = []string{"panic", "duress", "silent_panic", "holdup", "fire", "medical", "burglary", "tamper", "ac_loss", "low_battery", "comm_trouble",
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
	if p.Can(auth.AlarmStats) && d.Party != "" && d.Party != alarm.PartySchool {
		d.StatsShown = true
		y, m, day := kztime.Today(v.Now).Date()
		cards, err := s.Alarms.Stats(r.Context(), p, time.Date(y, m, day, 0, 0, 0, 0, kztime.Almaty), v.Now.Add(time.Second))
		if err != nil {
			return err
		}
		for _, c := range cards {
			if c.Party != d.Party || c.Alarms == 0 {
				continue
			}
			d.Stats = append(d.Stats, tr(v.Lang, "ui.stats.line", map[string]any{
				"Name": c.Name, "Count": c.Alarms, "Share30": percent(c.Share30s), "Share60": percent(c.Share60s)}, c.Alarms))
		}
	}
	if d.Proposals, err = s.proposals(r.Context(), p, func(emergency.Proposal) bool { return true }); err != nil {
		return err
	}
	if d.InForce, err = s.inForce(r.Context(), p, v.Lang); err != nil {
		return err
	}
	newest := func(a, b alarmRow) int { return b.CommittedAt.Compare(a.CommittedAt) }
	slices.SortStableFunc(d.Alarms, newest)
	slices.SortStableFunc(d.Trouble, newest)
	return s.renderPage(w, http.StatusOK, "console", v, "ui.console.title", d)
}

// percent is a share as a whole per cent, rounded down so that 99.6% never
// reads as 100%.
func percent(share float64) int { return int(share * 100) }

// schoolCard is what an operator needs to know about the school in alarm.
type schoolCard struct {
	// PressedBy is the person who pressed the panic in the console (their
	// name and role), for a staff panic.
	PressedBy  string
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
	Row         alarmRow
	Card        schoolCard
	Timeline    []timelineEntry
	Resolutions []string
	After       int64 // the live feed resumes after this event
	// A refused form comes back with what was typed and the message next
	// to the field (message ids), or a notice above the forms.
	formState
	Map schoolMap
	// Proposals holds the emergency this alarm proposes, if any, for a
	// person who may confirm it.
	Proposals []emergency.Proposal
}

func (s *Server) alarmPage(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.showAlarm(w, r, sess.Principal, v, id, http.StatusOK, alarmPageData{})
}

// showAlarm renders alarm id's page with status; d carries a refused
// form's values and messages.
func (s *Server) showAlarm(w http.ResponseWriter, r *http.Request, p auth.Principal, v *view, id int64, status int, d alarmPageData) error {
	after, err := s.Alarms.LatestSeq(r.Context())
	if err != nil {
		return err
	}
	a, err := s.Alarms.Get(r.Context(), p, id)
	if err != nil {
		return err
	}
	d.After = after
	d.Row, d.Card, d.Resolutions = rowOf(a, p), s.cardOf(r, p, a), alarm.Resolutions
	if d.Proposals, err = s.proposals(r.Context(), p, func(x emergency.Proposal) bool { return x.Alarm.ID == id }); err != nil {
		return err
	}
	if login, err := s.Alarms.PressedBy(r.Context(), a); err != nil {
		return err
	} else if login != "" {
		d.Card.PressedBy = login
		if u, err := s.Auth.User(r.Context(), login); err == nil {
			d.Card.PressedBy = u.FullName + " · " + tr(v.Lang, "role."+string(u.Role), nil, 0)
		}
	}
	d.Map.Tiles = s.MapTilesURL
	if sc := d.Card.School; sc != nil && sc.Lat != nil && sc.Lon != nil {
		d.Map.Lat, d.Map.Lon, d.Map.Has = *sc.Lat, *sc.Lon, true
	}
	if s.mapCSP != "" {
		w.Header().Set("Content-Security-Policy", s.mapCSP)
	}
	raised := a.Code // the device's event code
	if d.Card.PressedBy != "" {
		raised = tr(v.Lang, "ui.timeline.console_panic", nil, 0)
	}
	d.Timeline = append(d.Timeline, timelineEntry{At: a.CommittedAt, Party: alarm.PartySystem, Step: "raised", Detail: raised})
	if a.FirstDeliveryAt != nil {
		d.Timeline = append(d.Timeline, timelineEntry{At: *a.FirstDeliveryAt, Party: alarm.PartySystem, Step: "delivered"})
	}
	for _, st := range a.Steps {
		e := timelineEntry{At: st.At, Party: st.Party, Step: st.Step, Detail: stepDetail(v.Lang, st.Party, st.Step, st.Detail)}
		if st.Step == "acknowledged" {
			// The domain writes "after 1.2s" for the record; the page says
			// it in the reader's language.
			secs := st.At.Sub(a.CommittedAt).Seconds()
			n := strconv.FormatFloat(secs, 'f', 1, 64)
			if v.Lang != "en" {
				n = strings.Replace(n, ".", ",", 1) // «1,8 с»: a decimal comma in Kazakh and Russian
			}
			e.Detail = tr(v.Lang, "ui.timeline.after", map[string]string{"Seconds": n}, 0)
		}
		if st.Step == "resolved" && slices.Contains(alarm.Resolutions, st.Detail) {
			e.Detail = tr(v.Lang, "resolution."+st.Detail, nil, 0)
			if a.Notes != "" {
				e.Detail += " — " + a.Notes // what the person closing it wrote
			}
		}
		d.Timeline = append(d.Timeline, e)
	}
	slices.SortStableFunc(d.Timeline, func(x, y timelineEntry) int { return x.At.Compare(y.At) })
	return s.renderPage(w, status, "alarm", v, "ui.alarm.title", d)
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

// alarmStepPage is a response step from a form, for the page without the
// script: the same domain calls as POST /api/v1/alarms/{id}/{step}. A bad
// field brings the alarm's page back with the message next to it and what
// was typed; a step another party or operator made meanwhile brings it back
// with a notice and the alarm as it now is.
func (s *Server) alarmStepPage(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view) error {
	p := sess.Principal
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f := r.PostForm
	ctx := r.Context()
	switch r.PathValue("step") {
	case "acknowledge":
		_, err = s.Alarms.Acknowledge(ctx, p, id)
	case "dispatch":
		_, err = s.Alarms.Dispatch(ctx, p, id, f.Get("responder"))
	case "on-site":
		_, err = s.Alarms.ArriveOnSite(ctx, p, id, f.Get("note"))
	case "resolve":
		_, err = s.Alarms.Resolve(ctx, p, id, f.Get("resolution"), f.Get("notes"))
	default:
		return errs.NotFoundf("no step %q", r.PathValue("step"))
	}
	fs := typed(f, "responder", "note", "resolution", "notes")
	if status, ok := fs.stepRefused(err, "ui.form.", "ui.alarm.conflict", "responder", "resolution", "notes"); ok {
		return s.showAlarm(w, r, p, v, id, status, alarmPageData{formState: fs})
	}
	if err != nil {
		return err
	}
	back := localPath(f.Get("back"), "/alarms/"+strconv.FormatInt(id, 10))
	if r.PathValue("step") == "resolve" && back != "/console" {
		back = "/console" // a resolved alarm leaves the queue: back to it
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
	return nil
}

// notFoundPage answers a path that is no page, as a page.
func (s *Server) notFoundPage(w http.ResponseWriter, r *http.Request, _ auth.Session, v *view) error {
	return errs.NotFoundf("no page %s", r.URL.Path)
}

// inForce lists the emergencies in force in p's scope for the console,
// none for a person who may not read emergencies.
func (s *Server) inForce(ctx context.Context, p auth.Principal, lang string) ([]inForce, error) {
	if !p.Can(auth.ReadEmergency) {
		return nil, nil
	}
	es, err := s.Emergency.InForce(ctx, p)
	if err != nil || len(es) == 0 {
		return nil, err
	}
	ids := make([]int64, len(es))
	for i, e := range es {
		ids[i] = e.SchoolID
	}
	names, err := s.Registry.SchoolNames(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]inForce, len(es))
	for i, e := range es {
		n := names[e.SchoolID]
		out[i] = inForce{Emergency: e, SchoolName: placeName(lang, n[0], n[1], n[1])}
	}
	return out, nil
}
