package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
)

// The administrator's pages: people and their roles (a list searched by
// login and paged, a new account, disable and enable), everyone's API
// tokens with revocation, and the audit trail with its verification. Each
// calls the same auth functions as the API routes in users.go and
// tokens.go, in the same scope.

// peoplePage is how many accounts one page of the list shows.
const peoplePage = 50

// newUserFields are the fields of the new-account form, in the order they
// are shown.
var newUserFields = []string{"login", "full_name", "role", "scope_kind", "scope_ref", "password"}

type peopleData struct {
	Users     []auth.User
	Login     string // the search, by login
	After     string // the login this page starts after
	Next      string // the login the next page starts after
	Roles     []auth.Role
	Kinds     []auth.ScopeKind
	formState       // the new-account form; its notice is shown above the list
	Self      int64 // the administrator's own account: not disabled from here
	// ScopeNames names the users' scopes by scopeKey (see scopeNames).
	ScopeNames map[string]string
	// The grant form: a new role and scope for an existing account.
	Grant       map[string]string
	GrantErrors map[string]string
}

var scopeKinds = []auth.ScopeKind{auth.ScopeInstallation, auth.ScopeNation, auth.ScopeRegion, auth.ScopeDistrict, auth.ScopeSchool,
	auth.ScopeProvider, auth.ScopePoliceUnit, auth.ScopeGuardian}

// adminPeople lists accounts, searched by login, 50 at a time.
func (s *Server) adminPeople(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view) error {
	return s.showPeople(w, r, sess, v, http.StatusOK, peopleData{formState: blankForm(noticeOf(r))})
}

// noticeOf is the message id a redirect after a change names (?done=...),
// when it is one this page knows.
func noticeOf(r *http.Request) string {
	switch d := r.URL.Query().Get("done"); d {
	case "created", "disabled", "enabled", "revoked", "granted":
		return "ui.admin.done." + d
	}
	return ""
}

func (s *Server) showPeople(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view, status int, d peopleData) error {
	q := r.URL.Query()
	d.Login, d.After = q.Get("login"), q.Get("after")
	if utf8.RuneCountInString(d.Login) > 64 {
		return errs.Invalidf("login", "search by at most 64 characters")
	}
	users, next, err := s.Auth.FindUsers(r.Context(), sess.Principal, auth.UserQuery{Login: d.Login, After: d.After, Limit: peoplePage})
	if err != nil {
		return err
	}
	d.Users, d.Next, d.Roles, d.Kinds, d.Self = users, next, auth.Roles, scopeKinds, sess.Principal.UserID
	if d.ScopeNames, err = s.scopeNames(r.Context(), sess.Principal, v.Lang, users); err != nil {
		return err
	}
	if d.Grant == nil {
		d.Grant, d.GrantErrors = map[string]string{}, map[string]string{}
	}
	return s.renderPage(w, status, "admin_people", v, "ui.admin.people.title", d)
}

// adminCreatePerson creates an account from the form. Every bad field
// comes back beside itself with what was typed (never the password);
// nothing is written until all are right.
func (s *Server) adminCreatePerson(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view) error {
	if err := sess.Principal.Require(auth.ManageUsers); err != nil {
		return err
	}
	f := r.PostForm
	d := peopleData{formState: blankForm("")}
	for _, k := range newUserFields {
		if k != "password" {
			d.Form[k] = f.Get(k)
		}
	}
	nu := auth.NewUser{Login: f.Get("login"), FullName: strings.TrimSpace(f.Get("full_name")), Password: f.Get("password"),
		Role: auth.Role(f.Get("role")), Scope: auth.Scope{Kind: auth.ScopeKind(f.Get("scope_kind")), Ref: strings.TrimSpace(f.Get("scope_ref"))}}
	problems := nu.Problems()
	if n := utf8.RuneCountInString(nu.FullName); n == 0 || n > 200 {
		problems = append(problems, errs.Invalidf("full_name", "a name of 1 to 200 characters"))
	}
	var err error
	if len(problems) == 0 {
		_, err = s.Auth.CreateUser(r.Context(), sess.Principal, nu)
		if e := errs.As(err); err != nil && (e.Code == errs.Invalid || e.Code == errs.Conflict) {
			problems = append(problems, e)
		} else if err != nil {
			return err
		}
	}
	if len(problems) > 0 {
		for _, e := range problems {
			field, id := e.Field, "ui.admin.err."+e.Field
			switch {
			case e.Code == errs.Conflict:
				id = "ui.admin.err.login_taken"
			case field == "scope":
				// A scope that does not fit the role: the reference is
				// where it is typed, the kind beside the role.
				field = "scope_ref"
				if nu.Role != "" && !fits(nu.Role, nu.Scope.Kind) {
					field, id = "scope_kind", "ui.admin.err.scope_kind"
				}
			case field != "login" && field != "full_name" && field != "role" && field != "password":
				field, id = "", "ui.form.invalid"
			}
			if _, seen := d.Errors[field]; !seen && field != "" {
				d.Errors[field] = id
			} else if field == "" {
				d.Notice = id
			}
		}
		return s.showPeople(w, r, sess, v, http.StatusUnprocessableEntity, d)
	}
	http.Redirect(w, r, "/admin/people?done=created&login="+url.QueryEscape(strings.ToLower(strings.TrimSpace(nu.Login))), http.StatusSeeOther)
	return nil
}

// fits reports whether a role may hold a scope of kind k.
func fits(role auth.Role, k auth.ScopeKind) bool {
	probe := auth.Scope{Kind: k}
	switch k {
	case auth.ScopeRegion, auth.ScopeDistrict:
		probe.Ref = "000000000"
	case auth.ScopeInstallation, auth.ScopeNation:
	default:
		probe.Ref = "1"
	}
	return auth.ValidateGrant(role, probe) == nil
}

// adminSetDisabled disables or enables the account named in the form: a
// disabled person's sessions end at once (auth.Service.SetDisabled).
func (s *Server) adminSetDisabled(disabled bool) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view) error {
		if err := sess.Principal.Require(auth.ManageUsers); err != nil {
			return err
		}
		login := r.PostForm.Get("login")
		err := s.Auth.SetDisabled(r.Context(), sess.Principal, login, disabled)
		if errs.CodeOf(err) == errs.Conflict {
			return s.showPeople(w, r, sess, v, http.StatusConflict, peopleData{formState: blankForm("ui.admin.err.self")})
		}
		if err != nil {
			return err
		}
		done := "enabled"
		if disabled {
			done = "disabled"
		}
		back := "/admin/people?done=" + done
		if q := r.PostForm.Get("q"); q != "" {
			back += "&login=" + url.QueryEscape(q)
		}
		http.Redirect(w, r, back, http.StatusSeeOther)
		return nil
	}
}

type tokensData struct {
	Tokens []auth.APIToken
	Notice string
}

// adminTokens lists everyone's API tokens (the administrator's list of
// GET /api/v1/tokens), newest first.
func (s *Server) adminTokens(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view) error {
	if err := sess.Principal.Require(auth.ManageUsers); err != nil {
		return err
	}
	ts, err := s.Auth.ListAPITokens(r.Context(), sess.Principal)
	if err != nil {
		return err
	}
	return s.renderPage(w, http.StatusOK, "admin_tokens", v, "ui.admin.tokens.title", tokensData{Tokens: ts, Notice: noticeOf(r)})
}

// adminRevokeToken revokes a token; it stops working at once.
func (s *Server) adminRevokeToken(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view) error {
	if err := sess.Principal.Require(auth.ManageUsers); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.Auth.RevokeAPIToken(r.Context(), sess.Principal, id); err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/tokens?done=revoked", http.StatusSeeOther)
	return nil
}

// auditPage is how many entries of the trail one page shows.
const auditPage = 50

type auditData struct {
	Report                auth.AuditReport
	Checked               int       // entries verified, for the plural form
	VerifiedAt            time.Time // when the chain was last walked
	Entries               []auditRow
	Actions               []string // the actions the filter offers (auth.Actions)
	OtherAction           bool     // the filter holds an action that is not among them
	Object, Actor, Action string
	Next                  string // the sequence number the next page starts before
	Before                string
	Errors                map[string]string
}

// adminAudit shows the audit trail, filtered by object, actor and action
// and paged, with the result of verifying the whole chain.
func (s *Server) adminAudit(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view) error {
	p := sess.Principal
	if err := p.Require(auth.VerifyAudit); err != nil {
		return err
	}
	q := r.URL.Query()
	d := auditData{Object: q.Get("object"), Actor: q.Get("actor"), Action: q.Get("action"), Before: q.Get("before"), Errors: map[string]string{}, Actions: auth.Actions}
	aq := auth.AuditQuery{Object: strings.TrimSpace(d.Object), Actor: strings.TrimSpace(d.Actor), Action: strings.TrimSpace(d.Action), Limit: auditPage}
	d.Action = aq.Action // as the filter holds it, for the list's choice
	d.OtherAction = aq.Action != "" && !slices.Contains(auth.Actions, aq.Action)
	for k, x := range map[string]string{"object": aq.Object, "actor": aq.Actor, "action": aq.Action} {
		if utf8.RuneCountInString(x) > 200 {
			d.Errors[k] = "ui.admin.err.filter"
		}
	}
	if d.Before != "" {
		n, err := strconv.ParseInt(d.Before, 10, 64)
		if err != nil || n < 1 {
			d.Errors["before"] = "ui.admin.err.before"
		}
		aq.Before = n
	}
	status := http.StatusOK
	if len(d.Errors) == 0 {
		es, err := s.Auth.ListAudit(r.Context(), p, aq)
		if err != nil {
			return err
		}
		d.Entries = auditRows(es)
		if len(es) == aq.Limit {
			d.Next = strconv.FormatInt(es[len(es)-1].Seq, 10)
		}
	} else {
		status = http.StatusUnprocessableEntity
	}
	rep, at, err := s.verifiedAudit(r, false)
	if err != nil {
		return err
	}
	d.Report, d.Checked, d.VerifiedAt = rep, int(rep.Entries), at
	return s.renderPage(w, status, "admin_audit", v, "ui.admin.audit.title", d)
}

// auditCheck is the last verification of one installation's audit trail.
// Walking the whole chain takes time in proportion to its length, so the
// page shows a result at most auditCheckAge old and walks it again on
// request (the "verify now" button); the API's GET /api/v1/audit/verify
// always walks it.
type auditCheck struct {
	mu  sync.Mutex
	at  time.Time
	rep auth.AuditReport
}

const auditCheckAge = time.Minute

// auditChecks holds an auditCheck per auth.Service (one per installation;
// tests run several in one process).
var auditChecks sync.Map

// verifiedAudit returns the chain's verification and when it was made:
// the last one when it is recent, else (or when fresh is set) a new walk.
func (s *Server) verifiedAudit(r *http.Request, fresh bool) (auth.AuditReport, time.Time, error) {
	c, _ := auditChecks.LoadOrStore(s.Auth, &auditCheck{})
	ac := c.(*auditCheck)
	ac.mu.Lock()
	defer ac.mu.Unlock()
	if !fresh && !ac.at.IsZero() && time.Since(ac.at) < auditCheckAge {
		return ac.rep, ac.at, nil
	}
	rep, err := s.Auth.VerifyAudit(r.Context())
	if err != nil {
		return rep, time.Time{}, errs.Wrap(err, "verify audit")
	}
	ac.rep, ac.at = rep, time.Now()
	return ac.rep, ac.at, nil
}

// adminVerifyAudit walks the whole chain now and shows the trail again.
func (s *Server) adminVerifyAudit(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view) error {
	if err := sess.Principal.Require(auth.VerifyAudit); err != nil {
		return err
	}
	if _, _, err := s.verifiedAudit(r, true); err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/audit", http.StatusSeeOther)
	return nil
}

// adminGrant gives an account a new role and scope (auth.Service.Grant):
// the person's sessions and tokens end, so that the new scope applies from
// their next sign-in. A bad field comes back beside itself.
func (s *Server) adminGrant(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view) error {
	if err := sess.Principal.Require(auth.ManageUsers); err != nil {
		return err
	}
	f := r.PostForm
	login := strings.ToLower(strings.TrimSpace(f.Get("login")))
	role := auth.Role(f.Get("role"))
	scope := auth.Scope{Kind: auth.ScopeKind(f.Get("scope_kind")), Ref: strings.TrimSpace(f.Get("scope_ref"))}
	err := s.Auth.Grant(r.Context(), sess.Principal, login, role, scope)
	if err == nil {
		http.Redirect(w, r, "/admin/people?done=granted&login="+url.QueryEscape(login), http.StatusSeeOther)
		return nil
	}
	e := errs.As(err)
	g := typed(f, "login", "role", "scope_kind", "scope_ref")
	d := peopleData{formState: blankForm(""), Grant: g.Form, GrantErrors: g.Errors}
	status := http.StatusUnprocessableEntity
	switch {
	case e.Code == errs.NotFound:
		d.GrantErrors["login"] = "ui.admin.err.no_login"
	case e.Code != errs.Invalid:
		return err
	case e.Field == "role":
		d.GrantErrors["role"] = "ui.admin.err.role"
	case e.Field == "scope" && role != "" && !fits(role, scope.Kind):
		d.GrantErrors["scope_kind"] = "ui.admin.err.scope_kind"
	case e.Field == "scope":
		d.GrantErrors["scope_ref"] = "ui.admin.err.scope_ref"
	default:
		d.Notice = "ui.form.invalid"
	}
	return s.showPeople(w, r, sess, v, status, d)
}
