package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"qorgan/internal/errs"
	"qorgan/internal/store"
)

// SessionTTL is how long a sign-in lasts.
const SessionTTL = 12 * time.Hour

// Session is a signed-in browser. Token goes in the cookie; CSRF must come
// back in the X-CSRF-Token header of every state-changing request.
type Session struct {
	Token     string
	CSRF      string
	ExpiresAt time.Time
	Principal Principal
	Language  string // the person's chosen console language; empty: not chosen
}

func randomToken(prefix string) string {
	var b [32]byte
	rand.Read(b[:])
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// TokenHash is what the store keeps of a secret token: its SHA-256. Tokens are
// 256-bit random, so a fast hash is enough (no dictionary to guard against).
func TokenHash(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Login authenticates (see Authenticate) and opens a session.
func (s *Service) Login(ctx context.Context, from, login, pw string) (Session, error) {
	p, err := s.Authenticate(ctx, from, login, pw)
	if err != nil {
		return Session{}, err
	}
	now := s.Now()
	sess := Session{Token: randomToken("qs_"), CSRF: randomToken(""), ExpiresAt: now.Add(SessionTTL), Principal: p}
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
			TokenHash(sess.Token), p.UserID, sess.CSRF, store.Micros(now), store.Micros(sess.ExpiresAt))
		if err != nil {
			return err
		}
		return Append(ctx, tx, now, p, "session.login", userObject(p.UserID), map[string]any{})
	})
	return sess, err
}

// touchEvery is how stale a session's last use may be before a request
// records it again: one write a minute per person at most.
const touchEvery = time.Minute

// Session looks up a session token. A session idle for longer than
// IdleTimeout (when set) has ended; a used one records its use, at most once
// a touchEvery.
func (s *Service) Session(ctx context.Context, token string) (Session, error) {
	var sess Session
	var exp, seen int64
	p := &sess.Principal
	err := s.DB.Reader().QueryRowContext(ctx, `SELECT u.id, u.login, u.full_name, u.role, u.scope_kind, u.scope_ref, x.csrf_token, x.expires_at,
		COALESCE(x.last_seen_at, x.created_at), COALESCE(u.language, '')
		FROM sessions x JOIN users u ON u.id = x.user_id WHERE x.token_hash = ? AND NOT u.disabled`, TokenHash(token)).
		Scan(&p.UserID, &p.Login, &p.Name, &p.Role, &p.Scope.Kind, &p.Scope.Ref, &sess.CSRF, &exp, &seen, &sess.Language)
	now := s.Now()
	if errors.Is(err, sql.ErrNoRows) || (err == nil && exp < store.Micros(now)) {
		return Session{}, errs.E(errs.Unauthorized, "", "session expired or unknown; sign in again")
	}
	if err != nil {
		return Session{}, errs.Wrap(err, "session")
	}
	last := store.FromMicros(seen)
	if s.IdleTimeout > 0 && now.Sub(last) > s.IdleTimeout {
		return Session{}, errs.E(errs.Unauthorized, "", "the session was idle for more than %s; sign in again", s.IdleTimeout)
	}
	if now.Sub(last) >= touchEvery {
		if err := s.Touch(ctx, token); err != nil {
			return Session{}, err
		}
	}
	sess.Token = token
	sess.ExpiresAt = store.FromMicros(exp)
	return sess, nil
}

// Touch records that session token is in use now: a console with its live
// feed open is in use while nobody clicks (the feed touches it).
func (s *Service) Touch(ctx context.Context, token string) error {
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?", store.Micros(s.Now()), TokenHash(token))
		return err
	})
	return errs.Wrap(err, "session")
}

// SetLanguage remembers p's console language (one of the languages the
// caller checked) on the person, for every browser they sign in from.
func (s *Service) SetLanguage(ctx context.Context, p Principal, lang string) error {
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE users SET language = ? WHERE id = ?", lang, p.UserID)
		return err
	})
	return errs.Wrap(err, "language")
}

// Logout ends a session.
func (s *Service) Logout(ctx context.Context, token string) error {
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE token_hash = ?", TokenHash(token))
		return err
	})
}

// APIToken is an integration's credential, acting as the user who made it.
type APIToken struct {
	ID        int64      `json:"id"`
	Name      string     `json:"name"`
	Token     string     `json:"token,omitempty"` // shown once, at creation
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	Login     string     `json:"login,omitempty"` // whose token, in the administrator's list
}

// CreateAPIToken makes a token for p, valid for ttl (0 = until revoked).
func (s *Service) CreateAPIToken(ctx context.Context, p Principal, name string, ttl time.Duration) (APIToken, error) {
	// API tokens are for staff and integrations, not for guardians.
	if err := p.Require(CreateTokens); err != nil {
		return APIToken{}, err
	}
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 100 {
		return APIToken{}, errs.Invalidf("name", "token name must have 1 to 100 characters")
	}
	now := s.Now()
	t := APIToken{Name: name, Token: randomToken("qt_"), CreatedAt: now.UTC()}
	var exp *int64
	if ttl > 0 {
		e := now.Add(ttl).UTC()
		t.ExpiresAt = &e
		m := store.Micros(e)
		exp = &m
	}
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.QueryRowContext(ctx, "INSERT INTO api_tokens (user_id, name, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
			p.UserID, name, TokenHash(t.Token), store.Micros(now), exp).Scan(&t.ID); err != nil {
			return err
		}
		return Append(ctx, tx, now, p, "token.create", "token/"+itoa(t.ID), map[string]any{"name": name})
	})
	return t, err
}

// TokenPrincipal resolves a bearer token.
func (s *Service) TokenPrincipal(ctx context.Context, token string) (Principal, error) {
	var p Principal
	var exp, revoked sql.NullInt64
	err := s.DB.Reader().QueryRowContext(ctx, `SELECT u.id, u.login, u.full_name, u.role, u.scope_kind, u.scope_ref, t.expires_at, t.revoked_at
		FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ? AND NOT u.disabled`, TokenHash(token)).
		Scan(&p.UserID, &p.Login, &p.Name, &p.Role, &p.Scope.Kind, &p.Scope.Ref, &exp, &revoked)
	if errors.Is(err, sql.ErrNoRows) || revoked.Valid || (exp.Valid && exp.Int64 < store.Micros(s.Now())) {
		return Principal{}, errs.E(errs.Unauthorized, "", "unknown, expired or revoked API token")
	}
	if err != nil {
		return Principal{}, errs.Wrap(err, "token")
	}
	return p, nil
}

// ListAPITokens lists the caller's own API tokens, newest first, revoked and
// expired ones too; an administrator (ManageUsers) sees everyone's. The
// secrets themselves are never shown again.
func (s *Service) ListAPITokens(ctx context.Context, p Principal) ([]APIToken, error) {
	q := `SELECT t.id, t.name, t.created_at, t.expires_at, t.revoked_at, u.login FROM api_tokens t JOIN users u ON u.id = t.user_id`
	var args []any
	if !p.Can(ManageUsers) {
		q += " WHERE t.user_id = ?"
		args = append(args, p.UserID)
	}
	out, err := store.Collect(ctx, s.DB.Reader(), func(r *sql.Rows) (APIToken, error) {
		var t APIToken
		var created int64
		var exp, rev sql.NullInt64
		err := r.Scan(&t.ID, &t.Name, &created, &exp, &rev, &t.Login)
		t.CreatedAt, t.ExpiresAt, t.RevokedAt = store.FromMicros(created), store.FromNullMicros(exp), store.FromNullMicros(rev)
		return t, err
	}, q+" ORDER BY t.id DESC LIMIT 1000", args...)
	return out, errs.Wrap(err, "tokens")
}

// RevokeAPIToken revokes one of the caller's tokens (an administrator: any
// token); it stops working at once. Someone else's token is NotFound.
// Revoking a revoked token changes nothing.
func (s *Service) RevokeAPIToken(ctx context.Context, p Principal, id int64) error {
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		var owner int64
		var revoked sql.NullInt64
		err := tx.QueryRowContext(ctx, "SELECT user_id, revoked_at FROM api_tokens WHERE id = ?", id).Scan(&owner, &revoked)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && owner != p.UserID && !p.Can(ManageUsers)) {
			return errs.NotFoundf("no token %d", id)
		}
		if err != nil || revoked.Valid {
			return err
		}
		now := s.Now()
		if _, err := tx.ExecContext(ctx, "UPDATE api_tokens SET revoked_at = ? WHERE id = ?", store.Micros(now), id); err != nil {
			return err
		}
		return Append(ctx, tx, now, p, "token.revoke", "token/"+itoa(id), map[string]any{"user_id": owner})
	})
}
