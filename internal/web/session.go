package web

import (
	"context"
	"net/http"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
)

// Signing in and out: a session cookie for a person with a login and
// password, and who the signed-in person is.

type loginRequest struct {
	Login    string `json:"login"`
	Password string `json:"password"`
}

type sessionResponse struct {
	Principal auth.Principal `json:"principal"`
	CSRFToken string         `json:"csrf_token"`
	ExpiresAt time.Time      `json:"expires_at"`
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	var req loginRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if req.Login == "" {
		return errs.Invalidf("login", "login is required")
	}
	if req.Password == "" {
		return errs.Invalidf("password", "password is required")
	}
	sess, err := s.Auth.Login(r.Context(), s.clientAddr(r), req.Login, req.Password)
	if err != nil {
		if c := errs.CodeOf(err); c == errs.TooMany || c == errs.Unavailable {
			holdRefusal(r.Context())
		}
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sess.Token, Path: "/", Expires: sess.ExpiresAt,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil || s.SecureCookies})
	writeJSON(w, http.StatusOK, sessionResponse{Principal: sess.Principal, CSRFToken: sess.CSRF, ExpiresAt: sess.ExpiresAt.UTC()})
	return nil
}

// refusalHold is how long a sign-in refused by the limits (429, 503) is
// held before its answer goes out. Refusing costs no password check, but
// a client that asks again the moment it is answered still makes the
// server parse and answer thousands of requests a second, and on a small
// machine that is CPU the alarm receiver needs; held, a client that waits
// for its answers (a script, a loop of curl) asks once a second. A held
// request costs a goroutine and a timer.
const refusalHold = time.Second

func holdRefusal(ctx context.Context) {
	t := time.NewTimer(refusalHold)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := s.Auth.Logout(r.Context(), c.Value); err != nil {
			return errs.Wrap(err, "logout")
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil || s.SecureCookies})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) me(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	writeJSON(w, http.StatusOK, p)
	return nil
}
