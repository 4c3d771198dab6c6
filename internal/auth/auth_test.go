package auth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
)

func TestValidateGrant(t *testing.T) {
	cases := []struct {
		role  auth.Role
		scope auth.Scope
		ok    bool
	}{
		{auth.RoleAdmin, auth.Scope{Kind: auth.ScopeInstallation}, true},
		{auth.RoleAnalyst, auth.Scope{Kind: auth.ScopeNation}, true},
		{auth.RoleEducation, auth.Scope{Kind: auth.ScopeRegion, Ref: "610000000"}, true},
		{auth.RoleEducation, auth.Scope{Kind: auth.ScopeRegion, Ref: "61"}, false},
		{auth.RoleDirector, auth.Scope{Kind: auth.ScopeSchool, Ref: "12"}, true},
		{auth.RoleDirector, auth.Scope{Kind: auth.ScopeRegion, Ref: "610000000"}, false},
		{auth.RoleGuard, auth.Scope{Kind: auth.ScopeSchool, Ref: "x"}, false},
		{auth.RoleAnalyst, auth.Scope{Kind: auth.ScopeNation, Ref: "1"}, false},
		{"janitor", auth.Scope{Kind: auth.ScopeSchool, Ref: "1"}, false},
	}
	for _, c := range cases {
		if err := auth.ValidateGrant(c.role, c.scope); (err == nil) != c.ok {
			t.Errorf("%s in %+v: %v, want ok=%v", c.role, c.scope, err, c.ok)
		}
	}
}

// clockedService is a service over db whose clock stands still at the
// returned time until a test moves it.
func clockedService(db *store.DB) (*auth.Service, *time.Time) {
	a := auth.New(db)
	now := time.Now()
	a.Now = func() time.Time { return now }
	return a, &now
}

func TestPeopleSessionsTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, now := clockedService(db)
		guard, err := a.CreateUser(ctx, auth.System, auth.NewUser{Login: "Guard.One", Password: "long-enough-1", Role: auth.RoleGuard, Scope: auth.Scope{Kind: auth.ScopeSchool, Ref: "1"}})
		if err != nil {
			t.Fatal(err)
		}
		if guard.Login != "guard.one" {
			t.Errorf("login not lower-cased: %q", guard.Login)
		}
		if _, err := a.CreateUser(ctx, auth.System, auth.NewUser{Login: "guard.one", Password: "long-enough-1", Role: auth.RoleGuard, Scope: auth.Scope{Kind: auth.ScopeSchool, Ref: "1"}}); errs.CodeOf(err) != errs.Conflict {
			t.Errorf("duplicate login: %v", err)
		}
		if _, err := a.CreateUser(ctx, auth.System, auth.NewUser{Login: "x", Password: "пароль123", Role: auth.RoleGuard, Scope: auth.Scope{Kind: auth.ScopeSchool, Ref: "1"}}); errs.As(err).Field != "password" {
			t.Errorf("a 9-character Cyrillic password: %v", err)
		}
		var hash string
		db.Reader().QueryRowContext(ctx, "SELECT password_hash FROM users WHERE login = 'guard.one'").Scan(&hash)
		if !strings.HasPrefix(hash, "$argon2id$") {
			t.Fatalf("password not stored as argon2id: %q", hash)
		}
		if _, err := a.Login(ctx, "", "guard.one", "wrong-password"); errs.CodeOf(err) != errs.Unauthorized {
			t.Errorf("wrong password: %v", err)
		}
		if _, err := a.Login(ctx, "", "nobody", "long-enough-1"); errs.CodeOf(err) != errs.Unauthorized {
			t.Errorf("unknown login: %v", err)
		}
		sess, err := a.Login(ctx, "", "GUARD.ONE", "long-enough-1")
		if err != nil {
			t.Fatal(err)
		}
		got, err := a.Session(ctx, sess.Token)
		if err != nil || got.Principal.Login != "guard.one" || got.CSRF != sess.CSRF || sess.CSRF == "" {
			t.Fatalf("session: %+v %v", got, err)
		}
		var stored int
		db.Reader().QueryRowContext(ctx, "SELECT COUNT(*) FROM sessions WHERE token_hash = ?", sess.Token).Scan(&stored)
		if stored != 0 {
			t.Fatal("the session token is stored in clear")
		}
		tok, err := a.CreateAPIToken(ctx, got.Principal, "journal", 0)
		if err != nil {
			t.Fatal(err)
		}
		if p, err := a.TokenPrincipal(ctx, tok.Token); err != nil || p.UserID != guard.ID {
			t.Fatalf("token: %+v %v", p, err)
		}
		// Sessions expire.
		*now = now.Add(auth.SessionTTL + time.Minute)
		if _, err := a.Session(ctx, sess.Token); errs.CodeOf(err) != errs.Unauthorized {
			t.Errorf("expired session accepted: %v", err)
		}
		// A new password ends sessions and revokes tokens.
		sess, _ = a.Login(ctx, "", "guard.one", "long-enough-1")
		if err := a.SetPassword(ctx, auth.System, "guard.one", "another-long-one"); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Session(ctx, sess.Token); errs.CodeOf(err) != errs.Unauthorized {
			t.Errorf("session survived a password change: %v", err)
		}
		if _, err := a.TokenPrincipal(ctx, tok.Token); errs.CodeOf(err) != errs.Unauthorized {
			t.Errorf("token survived a password change: %v", err)
		}
		if _, err := a.Login(ctx, "", "guard.one", "another-long-one"); err != nil {
			t.Errorf("new password: %v", err)
		}
		// Guardians get no API tokens.
		if _, err := a.CreateAPIToken(ctx, auth.Principal{UserID: 7, Role: auth.RoleGuardian, Scope: auth.Scope{Kind: auth.ScopeGuardian, Ref: "7"}}, "x", 0); errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("guardian token: %v", err)
		}
		// Grants change the role and end access too.
		if err := a.Grant(ctx, auth.System, "guard.one", auth.RoleDirector, auth.Scope{Kind: auth.ScopeSchool, Ref: "1"}); err != nil {
			t.Fatal(err)
		}
		p, err := a.Authenticate(ctx, "", "guard.one", "another-long-one")
		if err != nil || p.Role != auth.RoleDirector {
			t.Fatalf("after grant: %+v %v", p, err)
		}
		rep, err := a.VerifyAudit(ctx)
		if err != nil || !rep.OK || rep.Entries < 6 {
			t.Fatalf("audit: %+v %v", rep, err)
		}
	})
}

// TestIdleSessions: a session used now and then lives on; one left idle
// past IdleTimeout has ended; a live console touching it keeps it.
func TestIdleSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, now := clockedService(db)
		a.IdleTimeout = 30 * time.Minute
		if _, err := a.CreateUser(ctx, auth.System, auth.NewUser{Login: "director", Password: "long-enough-1", Role: auth.RoleDirector, Scope: auth.Scope{Kind: auth.ScopeSchool, Ref: "1"}}); err != nil {
			t.Fatal(err)
		}
		sess, err := a.Login(ctx, "", "director", "long-enough-1")
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 4; i++ { // used every 20 minutes: 80 minutes in all
			*now = now.Add(20 * time.Minute)
			if _, err := a.Session(ctx, sess.Token); err != nil {
				t.Fatalf("a session used every 20 minutes ended after %d: %v", (i+1)*20, err)
			}
		}
		*now = now.Add(25 * time.Minute)
		if err := a.Touch(ctx, sess.Token); err != nil { // the live feed, with nobody clicking
			t.Fatal(err)
		}
		*now = now.Add(25 * time.Minute)
		if _, err := a.Session(ctx, sess.Token); err != nil {
			t.Fatalf("a session its live feed touched ended: %v", err)
		}
		*now = now.Add(31 * time.Minute)
		_, err = a.Session(ctx, sess.Token)
		if errs.CodeOf(err) != errs.Unauthorized || !strings.Contains(err.Error(), "idle") {
			t.Errorf("a session idle for 31 minutes: %v, want unauthorized as idle", err)
		}
		a.IdleTimeout = 0
		if _, err := a.Session(ctx, sess.Token); err != nil {
			t.Errorf("with no idle limit the session is good until it expires: %v", err)
		}
	})
}
