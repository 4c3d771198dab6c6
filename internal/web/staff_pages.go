package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"qorgan/internal/emergency"
	"qorgan/internal/errs"
)

// The staff member's emergency page (/staff): a teacher on a phone enters
// the code from their emergency message and gets their checklist, the
// "secured" button and, with a class, its roll-call marks — the same
// domain calls as /api/v1/emergency-staff/*, with the code as the only
// credential, as the API has it.
//
// The code is held in a cookie, not in the address or the page: a reload
// or a phone waking from its lock screen keeps the page without typing it
// again, and the code is never in a URL, the history or the HTML. The
// cookie is HttpOnly, SameSite=Strict, scoped to /staff and short-lived;
// every form carries the pre-sign-in form token as well (double submit).
//
// A code is 120 random bits (qe_ and 24 base32 letters), beyond guessing,
// but each wrong one costs a read of the store: the page shares the API's
// guess throttle per client address (staff_codes.go), and an address over
// it gets the code form with when to try again, answered 429.

const (
	staffCookie    = "qorgan_staff"
	staffCookieAge = 8 * time.Hour // a lockdown may last hours; the code dies with the emergency anyway
)

// staffPageData is the staff page: the view of the code's staff member,
// what was typed in a refused marks form (pupil id → mark), and notices.
type staffPageData struct {
	// The class split: those inside at the declaration first, the teacher's
	// to find; then those the turnstiles had not seen in school.
	Inside, Away []emergency.Person
	View         emergency.StaffView
	Marks        map[int64]string
	Done         bool // the notice says a form's action was done
	formState
}

// staffCodeForm is the code form: what was typed and the message beside it.
type staffCodeForm struct {
	Code    string
	Error   string // a message id
	Seconds int    // for a refusal that says when to try again
}

// staffMarks are the marks the page offers, in the domain's words.
var staffMarks = []string{emergency.Present, emergency.Missing, emergency.Injured}

// staffPage runs h for a page under /staff: the reader's language, the
// pre-sign-in form token, and on a POST that token checked.
func (s *Server) staffPage(h func(w http.ResponseWriter, r *http.Request, v *view) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secure(w.Header())
		v := &view{Lang: langOf(r), CSRF: formToken(w, r, r.TLS != nil || s.SecureCookies), Path: "/staff"}
		if r.Method == http.MethodPost {
			c, err := r.Cookie(preFormCookie)
			if perr := r.ParseForm(); perr != nil || err != nil || !sameToken(r.PostForm.Get("csrf_token"), c.Value) {
				s.pageError(w, r, v, errs.E(errs.Forbidden, "csrf_token", "the form is stale"))
				return
			}
		}
		if err := s.admitCode(r, pageCode(r)); err != nil {
			holdRefusal(r.Context())
			secs := int(errs.As(err).RetryAfter / time.Second)
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			f := staffCodeForm{Error: "ui.staff.code.too_many", Seconds: secs}
			if r.Method == http.MethodPost && r.URL.Path == "/staff" {
				f.Code = r.PostForm.Get("code")
			}
			if err := s.renderPage(w, http.StatusTooManyRequests, "staff_code", v, "ui.staff.title", f); err != nil {
				s.pageError(w, r, v, err)
			}
			return
		}
		if err := h(w, r, v); err != nil {
			s.pageError(w, r, v, err)
		}
	})
}

// setStaffCode keeps code in the staff cookie; "" forgets it.
func (s *Server) setStaffCode(w http.ResponseWriter, r *http.Request, code string) {
	c := &http.Cookie{Name: staffCookie, Value: code, Path: "/staff", MaxAge: int(staffCookieAge / time.Second), HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil || s.SecureCookies}
	if code == "" {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

// staffCodeOf is the code the staff cookie holds, or "".
func staffCodeOf(r *http.Request) string {
	if c, err := r.Cookie(staffCookie); err == nil {
		return c.Value
	}
	return ""
}

// normalCode is a code as typed on a phone: spaces dropped, lower case (a
// keyboard may capitalise the first letter).
func normalCode(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), ""))
}

// codeRefusal is the message for a code the domain refused; ok is false
// for any other error. The form comes back answered 200, as a refused
// sign-in's does: a browser treats the page as the form it is. What the
// domain said of the code is recorded for the guess throttle.
func (s *Server) codeRefusal(r *http.Request, code string, err error) (id string, ok bool) {
	s.codeLooked(r, code, err)
	switch errs.As(err).Code {
	case errs.Unauthorized:
		return "ui.staff.code.wrong", true
	case errs.Conflict:
		return "ui.staff.code.ended", true
	}
	return "", false
}

// showCodeForm shows the code form with what was typed and, when refused,
// the message beside the field.
func (s *Server) showCodeForm(w http.ResponseWriter, v *view, f staffCodeForm) error {
	return s.renderPage(w, http.StatusOK, "staff_code", v, "ui.staff.title", f)
}

// staffHome handles GET /staff: the staff member's page when the cookie
// holds a live code, else the code form (with why the code kept no longer
// works).
func (s *Server) staffHome(w http.ResponseWriter, r *http.Request, v *view) error {
	code := staffCodeOf(r)
	if code == "" {
		return s.showCodeForm(w, v, staffCodeForm{})
	}
	done := r.URL.Query().Get("done")
	if !staffDone[done] {
		done = ""
	}
	return s.showStaff(w, r, v, code, http.StatusOK, staffPageData{Done: done != "", formState: blankForm(done)})
}

// staffDone is a notice the page shows after a form, by name (the address
// carries only which one: /staff?done=…).
var staffDone = map[string]bool{"ui.staff.ticked": true, "ui.staff.secured_done": true, "ui.staff.marks.saved": true}

// showStaff shows the staff member's page for code; a code refused (the
// emergency ended meanwhile) is forgotten and the code form says why.
func (s *Server) showStaff(w http.ResponseWriter, r *http.Request, v *view, code string, status int, d staffPageData) error {
	sv, err := s.Emergency.StaffView(r.Context(), code, v.Lang)
	if id, ok := s.codeRefusal(r, code, err); ok {
		s.setStaffCode(w, r, "")
		return s.showCodeForm(w, v, staffCodeForm{Error: id})
	}
	if err != nil {
		return err
	}
	d.View = sv
	for _, p := range sv.Class {
		if p.Inside {
			d.Inside = append(d.Inside, p)
		} else {
			d.Away = append(d.Away, p)
		}
	}
	if d.Marks == nil {
		d.Marks = map[int64]string{}
		for _, p := range sv.Class {
			d.Marks[p.ID] = p.Mark
		}
	}
	return s.renderPage(w, status, "staff", v, "ui.staff.title", d)
}

// staffEnter handles POST /staff: the code typed is kept in the cookie
// when it is a live emergency's, else the form comes back with why.
func (s *Server) staffEnter(w http.ResponseWriter, r *http.Request, v *view) error {
	typed := r.PostForm.Get("code")
	code := normalCode(typed)
	if code == "" {
		return s.showCodeForm(w, v, staffCodeForm{Code: typed, Error: "ui.staff.code.required"})
	}
	_, err := s.Emergency.StaffView(r.Context(), code, v.Lang)
	if id, ok := s.codeRefusal(r, code, err); ok {
		return s.showCodeForm(w, v, staffCodeForm{Code: typed, Error: id})
	}
	if err != nil {
		return err
	}
	s.setStaffCode(w, r, code)
	http.Redirect(w, r, "/staff", http.StatusSeeOther)
	return nil
}

// staffAction handles POST /staff/{action}: tick (step), secured, marks,
// leave. Each is the API's domain call with the cookie's code.
func (s *Server) staffAction(w http.ResponseWriter, r *http.Request, v *view) error {
	code := staffCodeOf(r)
	if r.PathValue("action") == "leave" {
		s.setStaffCode(w, r, "")
		http.Redirect(w, r, "/staff", http.StatusSeeOther)
		return nil
	}
	if code == "" {
		return s.showCodeForm(w, v, staffCodeForm{Error: "ui.staff.code.again"})
	}
	ctx := r.Context()
	f := r.PostForm
	var err error
	var done, anchor string
	switch r.PathValue("action") {
	case "tick":
		// Not a number is step 0, which the domain refuses, as the API's.
		n, _ := strconv.Atoi(f.Get("step"))
		_, err = s.Emergency.StaffTick(ctx, code, n)
		done, anchor = "ui.staff.ticked", "#step-"+strconv.Itoa(n)
	case "secured":
		_, err = s.Emergency.ConfirmSecured(ctx, code)
		done, anchor = "ui.staff.secured_done", "#secured"
	case "marks":
		return s.staffMarksPage(w, r, v, code)
	default:
		return errs.NotFoundf("no staff action %q", r.PathValue("action"))
	}
	if id, ok := s.codeRefusal(r, code, err); ok {
		s.setStaffCode(w, r, "")
		return s.showCodeForm(w, v, staffCodeForm{Error: id})
	}
	if errs.As(err).Code == errs.Invalid {
		d := staffPageData{formState: blankForm("ui.staff.step_invalid")}
		return s.showStaff(w, r, v, code, http.StatusUnprocessableEntity, d)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/staff?done="+done+anchor, http.StatusSeeOther)
	return nil
}

// staffMarksPage takes the class's marks: mark-<pupil id> = present,
// missing or injured; a pupil left unmarked is not sent. A pupil of
// another class is refused as the API refuses it, and the form comes back
// with what was chosen.
func (s *Server) staffMarksPage(w http.ResponseWriter, r *http.Request, v *view, code string) error {
	var marks []emergency.Mark
	typed := map[int64]string{}
	for k, vals := range r.PostForm {
		idText, ok := strings.CutPrefix(k, "mark-")
		if !ok || len(vals) == 0 || vals[0] == "" {
			continue
		}
		id, err := strconv.ParseInt(idText, 10, 64)
		if err != nil {
			return errs.Invalidf("marks", "%q names no pupil", k)
		}
		typed[id] = vals[0]
		marks = append(marks, emergency.Mark{PupilID: id, Mark: vals[0]})
	}
	d := staffPageData{Marks: typed, formState: blankForm("")}
	if len(marks) == 0 {
		d.refuse("marks", "ui.staff.marks.none")
		return s.showStaff(w, r, v, code, http.StatusUnprocessableEntity, d)
	}
	err := s.Emergency.MarkClass(r.Context(), code, marks)
	if id, ok := s.codeRefusal(r, code, err); ok {
		s.setStaffCode(w, r, "")
		return s.showCodeForm(w, v, staffCodeForm{Error: id})
	}
	if e := errs.As(err); err != nil && (e.Code == errs.Invalid || e.Code == errs.Forbidden) {
		id := "ui.staff.marks.invalid"
		if strings.HasSuffix(e.Field, "/pupil_id") || e.Code == errs.Forbidden {
			id = "ui.staff.marks.not_yours"
		}
		d.refuse("marks", id)
		return s.showStaff(w, r, v, code, statusOf[e.Code], d)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/staff?done=ui.staff.marks.saved#marks", http.StatusSeeOther)
	return nil
}
