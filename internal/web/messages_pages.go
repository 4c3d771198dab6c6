package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"qorgan/internal/attendance"
	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/notify"
	"qorgan/internal/registry"
)

// The school's messages to parents and its not-arrived rule, for its
// director, its guard (the rule read-only) and the administrator: the same
// outbox reads as GET /api/v1/schools/{id}/notifications and the same
// attendance calls as the not-arrived rule's API, in the same scope.

// messagesPage is how many messages one page of the list shows, and
// messagesWindow how far back the page looks (as the API's default).
const (
	messagesPage   = 50
	messagesWindow = 24 * time.Hour
)

// messageKinds are the kinds of message the page names in words; another
// kind is shown as it is stored.
var messageKinds = []string{"pupil.entered", "pupil.left", "pupil.not_arrived", "emergency.guardian", "emergency.staff", "emergency.court_order", "emergency.public_address"}

type messageRow struct {
	notify.Delivery
	KindID  string // a message id, or "" for a kind without words
	Channel string // a message id
	Reason  string // a message id, or "" for a reason Qorgan does not know
}

type stateCount struct {
	State notify.State
	Count int
	Href  string
}

type messagesData struct {
	School registry.School
	Counts []stateCount
	Total  int
	State  notify.State // the filter; "" for all
	Rows   []messageRow
	Next   string // the next page's address; empty on the last
	First  bool
	Since  time.Time
}

// messagesSchool is the school of the page's address, in p's scope, for a
// role that may read its messages (as the API's routes check).
func (s *Server) messagesSchool(r *http.Request, p auth.Principal) (registry.School, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return registry.School{}, err
	}
	return s.Registry.SchoolFor(r.Context(), p, id, auth.ReadMessages)
}

func (s *Server) messagesPage(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view) error {
	sc, err := s.messagesSchool(r, sess.Principal)
	if err != nil {
		return err
	}
	ctx, id := r.Context(), sc.ID
	q := r.URL.Query()
	d := messagesData{School: sc, Since: time.Now().Add(-messagesWindow), First: q.Get("cursor") == ""}
	if st := notify.State(q.Get("state")); st != "" {
		for _, x := range notify.States {
			if st == x {
				d.State = st
			}
		}
	}
	base := "/schools/" + strconv.FormatInt(id, 10) + "/messages"
	counts, err := s.Outbox.StateCounts(ctx, id, d.Since)
	if err != nil {
		return err
	}
	for _, st := range notify.States {
		d.Counts = append(d.Counts, stateCount{State: st, Count: counts[st], Href: base + "?state=" + string(st)})
		d.Total += counts[st]
	}
	list, err := s.Outbox.ListDeliveries(ctx, id, d.Since, d.State, q.Get("cursor"), messagesPage)
	if errs.CodeOf(err) == errs.Invalid {
		return errs.NotFoundf("no such page of messages") // a cursor this server did not give
	}
	if err != nil {
		return err
	}
	for _, m := range list.Items {
		row := messageRow{Delivery: m, Channel: "ui.messages.channel." + string(m.Channel)}
		for _, k := range messageKinds {
			if m.Kind == k {
				row.KindID = "ui.messages.kind." + k
			}
		}
		if m.Reason != "" {
			row.Reason = "ui.messages.reason." + m.Reason
		}
		d.Rows = append(d.Rows, row)
	}
	if list.Next != "" {
		nq := url.Values{"cursor": {list.Next}}
		if d.State != "" {
			nq.Set("state", string(d.State))
		}
		d.Next = base + "?" + nq.Encode()
	}
	return s.renderPage(w, http.StatusOK, "messages", v, "ui.messages.title", d)
}

// ruleData is the not-arrived rule's page: the rule and its last check,
// and the form as it was sent when a field was refused.
type ruleData struct {
	School     registry.School
	Rule       attendance.NotArrivedRule
	CanEdit    bool
	Form       map[string]string
	Errors     map[string]string // field → the message, already in the page's language
	Done       bool
	Outcome    string // the last check's outcome, a message id
	Shifts     string // "08:00–13:30", as the school's timetable says
	MultiShift bool   // the school teaches in more than one shift: the rule cannot be on
}

var ruleTime = regexp.MustCompile(`^([01]?[0-9]|2[0-3]):([0-5][0-9])$`)

func (s *Server) notArrivedRulePage(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view) error {
	return s.showRule(w, r, sess.Principal, v, http.StatusOK, nil, nil)
}

// showRule renders the rule's page; form and errors are a refused form's
// values and messages (nil: the rule as stored).
func (s *Server) showRule(w http.ResponseWriter, r *http.Request, p auth.Principal, v *view, status int, form, errors map[string]string) error {
	sc, err := s.messagesSchool(r, p)
	if err != nil {
		return err
	}
	rule, err := s.Access.NotArrivedRule(r.Context(), p, sc.ID)
	if err != nil {
		return err
	}
	d := ruleData{School: sc, Rule: rule, CanEdit: p.Can(auth.WriteMessageRules), Form: form, Errors: errors, Done: r.URL.Query().Get("done") == "1",
		MultiShift: len(sc.Shifts) > 1}
	var sh []string
	for _, x := range sc.Shifts {
		sh = append(sh, x.Start+"–"+x.End)
	}
	d.Shifts = strings.Join(sh, "; ")
	if d.Form == nil {
		d.Form = map[string]string{"at": rule.At}
		if rule.At != "" {
			d.Form["on"] = "on"
		}
		if rule.Saturday {
			d.Form["saturday"] = "on"
		}
	}
	if c := rule.LastCheck; c != nil {
		d.Outcome = "ui.rule.outcome." + c.Outcome
	}
	return s.renderPage(w, status, "not_arrived_rule", v, "ui.rule.title", d)
}

// setNotArrivedRule takes the rule's form: the same SetNotArrivedRule as
// the API's PUT, audited there; a refused time comes back beside its field
// in the person's language, with what was typed.
func (s *Server) setNotArrivedRule(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view) error {
	p := sess.Principal
	sc, err := s.messagesSchool(r, p)
	if err != nil {
		return err
	}
	id := sc.ID
	if err := p.Require(auth.WriteMessageRules); err != nil {
		return err
	}
	f := r.PostForm
	form := map[string]string{"on": f.Get("on"), "at": strings.TrimSpace(f.Get("at")), "saturday": f.Get("saturday")}
	in := attendance.NotArrivedRule{Saturday: form["saturday"] == "on"}
	bad := map[string]string{}
	if form["on"] == "on" {
		m := ruleTime.FindStringSubmatch(form["at"])
		switch {
		case form["at"] == "":
			bad["at"] = tr(v.Lang, "ui.rule.err.at_missing", nil, 0)
		case m == nil:
			bad["at"] = tr(v.Lang, "ui.rule.err.at_format", map[string]string{"Value": form["at"]}, 0)
		default:
			in.At = m[1] + ":" + m[2]
			if len(m[1]) == 1 {
				in.At = "0" + in.At // 8:30 is 08:30
			}
		}
	}
	if len(bad) == 0 {
		_, err := s.Access.SetNotArrivedRule(r.Context(), p, id, in)
		if err == nil {
			http.Redirect(w, r, "/schools/"+strconv.FormatInt(id, 10)+"/not-arrived-rule?done=1", http.StatusSeeOther)
			return nil
		}
		if e := errs.As(err); e.Code != errs.Invalid || e.Field != "at" {
			return err
		}
		// The domain refused the time against the school's timetable.
		switch {
		case len(sc.Shifts) > 1:
			bad["at"] = tr(v.Lang, "ui.rule.err.shifts", nil, 0)
		case len(sc.Shifts) == 1:
			bad["at"] = tr(v.Lang, "ui.rule.err.at_shift", map[string]string{"Value": in.At, "Start": sc.Shifts[0].Start, "End": sc.Shifts[0].End}, 0)
		default:
			bad["at"] = tr(v.Lang, "ui.rule.err.at_format", map[string]string{"Value": form["at"]}, 0)
		}
	}
	return s.showRule(w, r, p, v, http.StatusUnprocessableEntity, form, bad)
}
