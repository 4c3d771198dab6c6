package web

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/text/language"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/kztime"
	"qorgan/internal/locale"
	"qorgan/internal/transfer"
)

// The console's frame: server-rendered pages over the same domain calls and
// scopes as the API, their embedded templates and assets, the person's
// language, CSRF on every form and the security headers of every page.

//go:embed ui/templates/*.html ui/static/* ui/root/*
var ui embed.FS

// Cookies of the pages besides the session: the person's language, and a
// sign-in form's CSRF token before there is a session to hold one.
const (
	langCookie    = "qorgan_lang"
	preFormCookie = "qorgan_form"
)

// pageCSP allows only the console's own files: no inline script or style,
// no framing.
const pageCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// asset is one embedded static file under its content-hashed name.
type asset struct {
	body  []byte
	ctype string
}

type assets struct {
	byURL  map[string]asset  // hashed URL path → file
	urlOf  map[string]string // file name → hashed URL path
	layout *template.Template
	pages  map[string]*template.Template
}

var loadUI = sync.OnceValues(func() (*assets, error) {
	a := &assets{byURL: map[string]asset{}, urlOf: map[string]string{}, pages: map[string]*template.Template{}}
	names, err := fs.Glob(ui, "ui/static/*")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		body, err := ui.ReadFile(n)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(body)
		base := path.Base(n)
		ext := path.Ext(base)
		u := "/static/" + strings.TrimSuffix(base, ext) + "." + hex.EncodeToString(sum[:6]) + ext
		ctype := mime.TypeByExtension(ext)
		if ext == ".js" {
			ctype = "text/javascript; charset=utf-8"
		}
		a.byURL[u] = asset{body: body, ctype: ctype}
		a.urlOf[base] = u
	}
	layout, err := template.New("layout.html").Funcs(pageFuncs(a)).ParseFS(ui, "ui/templates/layout.html")
	if err != nil {
		return nil, err
	}
	a.layout = layout
	pages, err := fs.Glob(ui, "ui/templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, p := range pages {
		name := path.Base(p)
		if name == "layout.html" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(ui, p)
		if err != nil {
			return nil, err
		}
		a.pages[strings.TrimSuffix(name, ".html")] = t
	}
	return a, nil
})

// pageFuncs are the templates' functions. T and TN are bound to the page's
// language at render time (see view.funcs); these stand in at parse time.
func pageFuncs(a *assets) template.FuncMap {
	return template.FuncMap{
		"asset": func(name string) (string, error) {
			u, ok := a.urlOf[name]
			if !ok {
				return "", fmt.Errorf("no static file %q", name)
			}
			return u, nil
		},
		"T":      func(id string) string { return id },
		"rel":    func(s string) string { return s },
		"pos":    func(s string) string { return s },
		"TN":     func(id string, n int) string { return id },
		"clock":  func(t time.Time) string { return t.In(kztime.Almaty).Format("15:04:05") },
		"when":   func(t time.Time) string { return t.In(kztime.Almaty).Format("02.01.2006 15:04:05") },
		"millis": func(t time.Time) int64 { return t.UnixMilli() },
		"age": func(now, t time.Time) string {
			d := max(0, now.Sub(t)) / time.Second
			return fmt.Sprintf("%d:%02d", d/60, d%60)
		},
		"ageClass": func(now, t time.Time) string {
			switch d := now.Sub(t); {
			case d >= 60*time.Second:
				return "age-60"
			case d >= 30*time.Second:
				return "age-30"
			}
			return "age-0"
		},
		"dict": func(kv ...any) (map[string]any, error) {
			if len(kv)%2 != 0 {
				return nil, fmt.Errorf("dict: odd arguments")
			}
			m := map[string]any{}
			for i := 0; i < len(kv); i += 2 {
				k, ok := kv[i].(string)
				if !ok {
					return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
				}
				m[k] = kv[i+1]
			}
			return m, nil
		},
		"deref": func(f *float64) float64 { return *f },
		"list":  func(xs ...string) []string { return xs },
		// day writes a calendar date (2006-01-02) as people read it here.
		"day": func(d string) string {
			t, err := time.Parse(time.DateOnly, d)
			if err != nil {
				return d
			}
			return t.Format("02.01.2006")
		},
		"key": func(prefix string, v any) string { return fmt.Sprint(prefix, v) },
		// pick chooses a name by language: the registry keeps Kazakh and
		// Russian names, and English readers get the Russian one.
		"pick": func(lang, kk, ru string) string {
			if lang == "kk" && kk != "" {
				return kk
			}
			return ru
		},
	}
}

// view is what every page gets: who is signed in (nil on the sign-in page),
// their language and form token, and the page's own data.
type view struct {
	Lang      string
	Languages []string
	Person    *auth.Principal
	CSRF      string
	Path      string // where the language switch returns to: this page, with its query (filters, page)
	Title     string // a message id
	TitleArg  string // shown after the title: never personal data
	Menu      []menuItem
	Now       time.Time
	Data      any
}

type menuItem struct {
	Href, Label string
	Current     bool
}

// menu is what a role may use: a page appears for the roles whose
// permission its domain call requires.
func menu(p auth.Principal, current string) []menuItem {
	var m []menuItem
	school := p.Scope.Kind == auth.ScopeSchool
	if school {
		id := strconv.FormatInt(p.Scope.ID(), 10)
		m = append(m, menuItem{Href: "/schools/" + id + "/board", Label: "ui.menu.board"})
		if p.Can(auth.ReadPupils) {
			m = append(m, menuItem{Href: "/schools/" + id + "/rollcall", Label: "ui.menu.rollcall"})
		}
		if p.Can(auth.ReadPupils) {
			m = append(m, menuItem{Href: "/schools/" + id + "/pupils", Label: "ui.menu.pupils"}, menuItem{Href: "/schools/" + id + "/guardians", Label: "ui.menu.guardians"})
		}
		if p.Can(auth.ReadStaff) {
			m = append(m, menuItem{Href: "/schools/" + id + "/staff", Label: "ui.menu.staff"})
		}
		if p.Can(auth.ImportPupils) {
			m = append(m, menuItem{Href: "/schools/" + id + "/import", Label: "ui.menu.import"})
		}
		if p.Can(auth.ReadEmergency) {
			m = append(m, menuItem{Href: "/schools/" + id + "/emergency", Label: "ui.menu.emergency"})
		}
		if p.Can(auth.ReadMessages) {
			m = append(m, menuItem{Href: "/schools/" + id + "/messages", Label: "ui.menu.messages"})
		}
		if p.Role == auth.RoleDirector {
			m = append(m, menuItem{Href: "/schools/" + id + "/compliance", Label: "ui.menu.compliance"})
		}
	} else if p.Can(auth.ReadOwnChildren) {
		m = append(m, menuItem{Href: "/family", Label: "ui.menu.family"})
	} else if p.Can(auth.ReadAlarms) {
		m = append(m, menuItem{Href: "/console", Label: "ui.menu.console"})
	}
	// The registry over a region, a district, the nation or the
	// installation: the education department's and the ministry's pages.
	switch p.Scope.Kind {
	case auth.ScopeRegion, auth.ScopeDistrict, auth.ScopeNation, auth.ScopeInstallation:
		if p.Can(auth.ReadRegistry) {
			m = append(m, menuItem{Href: "/schools", Label: "ui.menu.schools"}, menuItem{Href: "/providers", Label: "ui.menu.providers"},
				menuItem{Href: "/police-units", Label: "ui.menu.police"}, menuItem{Href: "/indicators", Label: "ui.menu.indicators"})
		}
	}
	if p.Can(auth.ManageUsers) {
		m = append(m, menuItem{Href: "/admin/people", Label: "ui.menu.people"}, menuItem{Href: "/admin/tokens", Label: "ui.menu.tokens"})
	}
	if p.Can(auth.VerifyAudit) {
		m = append(m, menuItem{Href: "/admin/audit", Label: "ui.menu.audit"})
	}
	if len(m) == 0 {
		m = append(m, menuItem{Href: "/home", Label: "ui.menu.home"})
	}
	for i := range m {
		m[i].Current = m[i].Href == current
	}
	return m
}

// homeOf is where a person lands after signing in.
func homeOf(p auth.Principal) string {
	return menu(p, "")[0].Href
}

// tr renders message id in lang; a missing message shows its id.
func tr(lang, id string, data any, count int) string { return locale.Words(lang, id, data, count) }

// render writes page name with v in v.Lang.
func (s *Server) render(w http.ResponseWriter, status int, name string, v *view) {
	a, err := loadUI()
	if err != nil {
		s.Log.Error("console templates", "err", err)
		http.Error(w, "console unavailable", http.StatusInternalServerError)
		return
	}
	t, ok := a.pages[name]
	if !ok {
		s.Log.Error("no console page", "page", name)
		http.Error(w, "console unavailable", http.StatusInternalServerError)
		return
	}
	v.Languages = locale.Languages
	if v.Now.IsZero() {
		v.Now = time.Now()
	}
	lang := v.Lang
	t = template.Must(t.Clone()).Funcs(template.FuncMap{
		"T":   func(id string) string { return tr(lang, id, nil, 0) },
		"TN":  func(id string, n int) string { return tr(lang, id, map[string]any{"Count": n}, n) },
		"rel": func(s string) string { return relationText(lang, s) },
		"pos": func(s string) string { return positionText(lang, s) },
	})
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		s.Log.Error("render page", "page", name, "err", err)
		http.Error(w, "console unavailable", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Language", lang)
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// renderPage shows page name with status, titled title (a message id),
// with d as its data: the end of every page handler.
func (s *Server) renderPage(w http.ResponseWriter, status int, name string, v *view, title string, d any) error {
	v.Title, v.Data = title, d
	s.render(w, status, name, v)
	return nil
}

// secure sets the headers every page and asset carries.
func secure(h http.Header) {
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Content-Type-Options", "nosniff")
}

var matcher = language.NewMatcher([]language.Tag{language.Kazakh, language.Russian, language.English})

// langOf is the person's language: their choice (a cookie, remembered in
// this browser), else the browser's Accept-Language, else Kazakh. A
// signed-in person's choice is on the person (see personLang).
func langOf(r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil {
		if l, ok := locale.Language(c.Value); ok {
			return l
		}
	}
	tags, _, _ := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if len(tags) > 0 {
		_, i, conf := matcher.Match(tags...)
		if conf != language.No {
			return locale.Languages[i]
		}
	}
	return locale.Languages[0]
}

// personLang is a signed-in person's language: the one they chose, kept on
// the person and so the same in every browser, else langOf.
func personLang(r *http.Request, sess auth.Session) string {
	if l, ok := locale.Language(sess.Language); ok && sess.Language != "" {
		return l
	}
	return langOf(r)
}

// pageSession is the signed-in person behind a page request, if any.
func (s *Server) pageSession(r *http.Request) (auth.Session, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return auth.Session{}, false
	}
	sess, err := s.Auth.Session(r.Context(), c.Value)
	return sess, err == nil
}

// pageFunc is a page for a signed-in person.
type pageFunc func(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view) error

// page runs h for a signed-in person; anyone else is sent to sign in and
// brought back here after. A form must carry the session's CSRF token. The
// error map is the API's, rendered as a page.
func (s *Server) page(h pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secure(w.Header())
		sess, ok := s.pageSession(r)
		if !ok {
			back := r.URL.Path
			if r.Method != http.MethodGet {
				back = ""
			}
			to := "/"
			if back != "" && back != "/" {
				to = "/?next=" + url.QueryEscape(back)
			}
			http.Redirect(w, r, to, http.StatusSeeOther)
			return
		}
		v := &view{Lang: personLang(r, sess), Person: &sess.Principal, CSRF: sess.CSRF, Path: r.URL.RequestURI(), Menu: menu(sess.Principal, r.URL.Path)}
		if r.Method == http.MethodPost {
			var err error
			if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
				// A file form (an import): the file stays in memory up to
				// its limit, as the API's upload does.
				r.Body = http.MaxBytesReader(w, r.Body, transfer.MaxFileSize+1<<20)
				err = r.ParseMultipartForm(transfer.MaxFileSize + 1<<20)
			} else {
				err = r.ParseForm()
			}
			if err != nil || !sameToken(r.PostForm.Get("csrf_token"), sess.CSRF) {
				s.pageError(w, r, v, errs.E(errs.Forbidden, "csrf_token", "the form is stale"))
				return
			}
		}
		if err := h(w, r, sess, v); err != nil {
			s.pageError(w, r, v, err)
		}
	})
}

func sameToken(got, want string) bool {
	return got != "" && want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// pageError renders err by the API's error map: the same status, a page
// in the person's language; internal detail goes to the log only.
func (s *Server) pageError(w http.ResponseWriter, r *http.Request, v *view, err error) {
	e := errs.As(err)
	status := statusOf[e.Code]
	if status == 0 {
		status = http.StatusInternalServerError
	}
	if e.Code == errs.Internal || status == http.StatusInternalServerError {
		s.Log.Error("page failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	id := "ui.error"
	switch e.Code {
	case errs.NotFound:
		id = "ui.notfound"
	case errs.Forbidden:
		id = "ui.forbidden"
		if e.Field == "csrf_token" {
			id = "ui.stale"
		}
	}
	v.Title = id + ".title"
	v.Data = map[string]string{"Text": id + ".text"}
	s.render(w, status, "error", v)
}

// formToken is the CSRF token of a form shown before sign-in: a random
// value in a cookie that the form must send back (double submit).
func formToken(w http.ResponseWriter, r *http.Request, secureCookie bool) string {
	if c, err := r.Cookie(preFormCookie); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	var b [32]byte
	rand.Read(b[:])
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	http.SetCookie(w, &http.Cookie{Name: preFormCookie, Value: tok, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secureCookie})
	return tok
}

// staticFile serves an embedded asset by its content-hashed URL: its bytes
// never change under that URL, so browsers keep it for a year.
func (s *Server) staticFile(w http.ResponseWriter, r *http.Request) error {
	a, err := loadUI()
	if err != nil {
		return errs.Wrap(err, "console assets")
	}
	f, ok := a.byURL[r.URL.Path]
	if !ok {
		return errs.NotFoundf("no static file %s", r.URL.Path)
	}
	h := w.Header()
	secure(h)
	h.Set("Content-Type", f.ctype)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Write(f.body)
	return nil
}

// rootFile serves the files that must live at the site's root rather than
// under a hashed URL: the service worker (its scope is its own folder, and
// browsers check it for updates themselves), the web app manifest and the
// icon they name.
func (s *Server) rootFile(w http.ResponseWriter, r *http.Request) error {
	name := path.Base(r.URL.Path)
	src := "ui/root/" + name
	if name == "icon.svg" {
		src = "ui/static/icon.svg"
	}
	body, err := ui.ReadFile(src)
	if err != nil {
		return errs.NotFoundf("no file %s", r.URL.Path)
	}
	h := w.Header()
	secure(h)
	switch path.Ext(name) {
	case ".js":
		h.Set("Content-Type", "text/javascript; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
	case ".webmanifest":
		h.Set("Content-Type", "application/manifest+json")
		h.Set("Cache-Control", "public, max-age=3600")
	default:
		h.Set("Content-Type", mime.TypeByExtension(path.Ext(name)))
		h.Set("Cache-Control", "public, max-age=86400")
	}
	w.Write(body)
	return nil
}

// setLanguage remembers the person's language (a cookie, for a year) and
// returns them to the page they were on.
func (s *Server) setLanguage(w http.ResponseWriter, r *http.Request) error {
	secure(w.Header())
	if err := r.ParseForm(); err != nil {
		return errs.Invalidf("lang", "bad form")
	}
	want := ""
	if sess, ok := s.pageSession(r); ok {
		want = sess.CSRF
	} else if c, err := r.Cookie(preFormCookie); err == nil {
		want = c.Value
	}
	if !sameToken(r.PostForm.Get("csrf_token"), want) {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return nil
	}
	l, ok := locale.Language(r.PostForm.Get("lang"))
	if !ok {
		return errs.Invalidf("lang", "one of kk, ru, en")
	}
	if sess, ok := s.pageSession(r); ok {
		if err := s.Auth.SetLanguage(r.Context(), sess.Principal, l); err != nil {
			return err
		}
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600, HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: r.TLS != nil || s.SecureCookies})
	http.Redirect(w, r, localPath(r.PostForm.Get("back"), "/"), http.StatusSeeOther)
	return nil
}

// localPath is p when it is a path on this site, else def: a sign-in or a
// language switch never sends anyone elsewhere.
func localPath(p, def string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n") {
		return def
	}
	return p
}

// relations maps the words schools and the demo write for a guardian's
// relation to the child, in any of the three languages, to one message:
// the page says it in its reader's language. Another word is shown as the
// school wrote it.
var relations = map[string]string{
	"mother": "mother", "мать": "mother", "мама": "mother", "анасы": "mother", "ана": "mother",
	"father": "father", "отец": "father", "папа": "father", "әкесі": "father", "әке": "father",
	"grandmother": "grandmother", "бабушка": "grandmother", "әжесі": "grandmother", "әже": "grandmother",
	"grandfather": "grandfather", "дедушка": "grandfather", "атасы": "grandfather", "ата": "grandfather",
	"guardian": "guardian", "опекун": "guardian", "қамқоршы": "guardian", "қамқоршысы": "guardian",
}

// relationKinds are the relations a page words itself.
var relationKinds = []string{"mother", "father", "grandmother", "grandfather", "guardian"}

func relationText(lang, s string) string { return wordText(lang, relations, "ui.relation.", s) }

// positions maps the words schools and the demo write for a staff
// member's position, in any of the three languages, to one message, as
// relations does; another position is shown as the school wrote it.
var positions = map[string]string{
	"director": "director", "директор": "director", "мектеп директоры": "director",
	"safety_officer": "safety_officer", "ответственный за безопасность": "safety_officer", "қауіпсіздікке жауапты": "safety_officer",
	"guard": "guard", "охранник": "guard", "сторож": "guard", "күзетші": "guard",
	"teacher": "teacher", "учитель": "teacher", "педагог": "teacher", "мұғалім": "teacher",
}

func positionText(lang, s string) string { return wordText(lang, positions, "ui.position.", s) }

// wordText says a word a school wrote in the reader's language when words
// knows it (the message prefix+its kind), and as written otherwise.
func wordText(lang string, words map[string]string, prefix, s string) string {
	if k, ok := words[strings.ToLower(strings.TrimSpace(s))]; ok {
		return tr(lang, prefix+k, nil, 0)
	}
	return s
}
