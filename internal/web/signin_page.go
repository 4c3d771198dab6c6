package web

import (
	"math"
	"net/http"
	"strconv"
	"strings"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
)

// The sign-in page: GET / shows the form (or sends a signed-in person to
// their page), POST / signs in with the same limits as the API's sign-in.

// A refused sign-in shows the form again with its message and what was
// typed, answered 200 (the limits' refusals keep their 429 and 503 with
// Retry-After): a browser treats the page as the form it is.
type signInForm struct {
	Login   string
	Next    string
	Error   string // a message id
	Seconds int    // for the limits' "try again in N s"
}

func (s *Server) signInPage(w http.ResponseWriter, r *http.Request) error {
	secure(w.Header())
	next := localPath(r.URL.Query().Get("next"), "")
	if sess, ok := s.pageSession(r); ok {
		http.Redirect(w, r, localPath(next, homeOf(sess.Principal)), http.StatusSeeOther)
		return nil
	}
	v := &view{Lang: langOf(r), CSRF: formToken(w, r, r.TLS != nil || s.SecureCookies), Path: r.URL.RequestURI(), Title: "ui.signin.title",
		Data: signInForm{Next: next}}
	s.render(w, http.StatusOK, "signin", v)
	return nil
}

func (s *Server) signIn(w http.ResponseWriter, r *http.Request) error {
	secure(w.Header())
	if err := r.ParseForm(); err != nil {
		return errs.Invalidf("login", "bad form")
	}
	f := signInForm{Login: strings.TrimSpace(r.PostForm.Get("login")), Next: localPath(r.PostForm.Get("next"), "")}
	v := &view{Lang: langOf(r), Path: "/", Title: "ui.signin.title"}
	show := func(status int, msg string) error {
		f.Error = msg
		v.CSRF = formToken(w, r, r.TLS != nil || s.SecureCookies)
		v.Data = f
		s.render(w, status, "signin", v)
		return nil
	}
	c, err := r.Cookie(preFormCookie)
	if err != nil || !sameToken(r.PostForm.Get("csrf_token"), c.Value) {
		return show(http.StatusOK, "ui.stale.text")
	}
	password := r.PostForm.Get("password")
	if f.Login == "" || password == "" {
		return show(http.StatusOK, "ui.signin.required")
	}
	sess, err := s.Auth.Login(r.Context(), s.clientAddr(r), f.Login, password)
	if err != nil {
		e := errs.As(err)
		switch e.Code {
		case errs.TooMany, errs.Unavailable:
			holdRefusal(r.Context())
			f.Seconds = max(1, int(math.Ceil(e.RetryAfter.Seconds())))
			w.Header().Set("Retry-After", strconv.Itoa(f.Seconds))
			msg := "ui.signin.too_many"
			if e.Code == errs.Unavailable {
				msg = "ui.signin.busy" // many people signing in at once, not this person's attempts
			}
			return show(statusOf[e.Code], msg)
		case errs.Unauthorized:
			return show(http.StatusOK, "ui.signin.wrong")
		}
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sess.Token, Path: "/", Expires: sess.ExpiresAt,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil || s.SecureCookies})
	http.Redirect(w, r, localPath(f.Next, homeOf(sess.Principal)), http.StatusSeeOther)
	return nil
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request) error {
	secure(w.Header())
	if err := r.ParseForm(); err != nil {
		return errs.Invalidf("csrf_token", "bad form")
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return nil
	}
	if sess, ok := s.pageSession(r); ok && sameToken(r.PostForm.Get("csrf_token"), sess.CSRF) {
		if err := s.Auth.Logout(r.Context(), c.Value); err != nil {
			return errs.Wrap(err, "sign out")
		}
		http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil || s.SecureCookies})
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}

// home is the page of a role whose own pages come later.
func (s *Server) home(w http.ResponseWriter, r *http.Request, _ auth.Session, v *view) error {
	v.Title = "ui.home.title"
	s.render(w, http.StatusOK, "home", v)
	return nil
}
