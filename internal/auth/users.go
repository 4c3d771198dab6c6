package auth

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alexedwards/argon2id"

	"qorgan/internal/errs"
	"qorgan/internal/store"
)

// Service is people, sessions, tokens and the audit trail over one store.
type Service struct {
	DB  *store.DB
	Now func() time.Time
	// IdleTimeout ends a session unused for longer (0: never); see
	// Session and Touch.
	IdleTimeout time.Duration

	guard  *signInGuard
	hasher hasher
}

// New returns a Service on db using the wall clock and the default
// SignInLimits.
func New(db *store.DB) *Service {
	return &Service{DB: db, Now: time.Now, guard: newSignInGuard(SignInLimits{}), hasher: inProcess{}}
}

// UsePasswordWorkers has the password checks run in workers (see
// PasswordWorkers) instead of in this process; call it before the Service
// is used. The workers should number SignInLimits.Checks.
func (s *Service) UsePasswordWorkers(p *PasswordWorkers) { s.hasher = p }

// LimitSignIns replaces the sign-in limits; call it before the Service is
// used.
func (s *Service) LimitSignIns(l SignInLimits) { s.guard = newSignInGuard(l) }

// hashPassword hashes a new password as one of the bounded password
// checks, so that administrators creating accounts cannot take the memory
// the sign-in limits keep free either.
func (s *Service) hashPassword(ctx context.Context, pw string) (hash string, err error) {
	if gerr := s.guard.hash(ctx, func() { hash, err = s.hasher.hash(ctx, pw) }); gerr != nil {
		return "", gerr
	}
	if err != nil {
		return "", errs.Wrap(err, "hash password")
	}
	return hash, nil
}

// passwordParams are argon2id's parameters: RFC 9106's second recommended
// option (64 MiB, 1 pass would be the first; we take 3 passes with 64 MiB).
var passwordParams = &argon2id.Params{Memory: 64 * 1024, Iterations: 3, Parallelism: 2, SaltLength: 16, KeyLength: 32}

// HashPassword returns the argon2id PHC string for a password.
func HashPassword(pw string) (string, error) { return argon2id.CreateHash(pw, passwordParams) }

// User is a person who signs in.
type User struct {
	ID       int64  `json:"id"`
	Login    string `json:"login"`
	FullName string `json:"full_name"`
	Role     Role   `json:"role"`
	Scope    Scope  `json:"scope"`
	Disabled bool   `json:"disabled"`
}

// NewUser is what CreateUser needs.
type NewUser struct {
	Login    string
	FullName string
	Password string
	// PasswordHash, when set, is used instead of hashing Password (the demo
	// hashes its one shared password once for all its logins).
	PasswordHash string
	Role         Role
	Scope        Scope
}

func validatePassword(pw string) error {
	if utf8.RuneCountInString(pw) < 10 {
		return errs.Invalidf("password", "password must have at least 10 characters")
	}
	if utf8.RuneCountInString(pw) > 256 {
		return errs.Invalidf("password", "password must have at most 256 characters")
	}
	return nil
}

func validateLogin(l string) error {
	if l == "" || len(l) > 64 {
		return errs.Invalidf("login", "login must have 1 to 64 characters")
	}
	for _, c := range l {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' || c == '@') {
			return errs.Invalidf("login", "login may hold only a-z, 0-9 and . - _ @")
		}
	}
	return nil
}

// CreateUser adds a person, audited as by actor.
func (s *Service) CreateUser(ctx context.Context, actor Principal, u NewUser) (User, error) {
	u.Login = strings.ToLower(strings.TrimSpace(u.Login))
	if err := errs.Of(u.Problems()); err != nil {
		return User{}, err
	}
	hash := u.PasswordHash
	if hash == "" {
		var err error
		if hash, err = s.hashPassword(ctx, u.Password); err != nil {
			return User{}, err
		}
	}
	now := store.Micros(s.Now())
	var out User
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO users (login, full_name, password_hash, role, scope_kind, scope_ref, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, u.Login, u.FullName, hash, u.Role, u.Scope.Kind, u.Scope.Ref, now, now).Scan(&id)
		if store.IsUniqueViolation(err) {
			return errs.E(errs.Conflict, "login", "login %q is taken", u.Login)
		}
		if err != nil {
			return err
		}
		out = User{ID: id, Login: u.Login, FullName: u.FullName, Role: u.Role, Scope: u.Scope}
		return Append(ctx, tx, s.Now(), actor, "user.create", userObject(id), map[string]any{"login": u.Login, "role": u.Role, "scope": u.Scope})
	})
	return out, err
}

func userObject(id int64) string { return "user/" + itoa(id) }

// SetPassword replaces a person's password and ends their sessions.
func (s *Service) SetPassword(ctx context.Context, actor Principal, login, pw string) error {
	if err := validatePassword(pw); err != nil {
		return err
	}
	hash, err := s.hashPassword(ctx, pw)
	if err != nil {
		return err
	}
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		id, err := userID(ctx, tx, login)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?", hash, store.Micros(s.Now()), id); err != nil {
			return err
		}
		if err := endAccess(ctx, tx, id, s.Now()); err != nil {
			return err
		}
		return Append(ctx, tx, s.Now(), actor, "user.set_password", userObject(id), map[string]any{"login": login})
	})
}

// Grant gives a person a role in a scope (replacing the one they had).
func (s *Service) Grant(ctx context.Context, actor Principal, login string, role Role, scope Scope) error {
	if err := ValidateGrant(role, scope); err != nil {
		return err
	}
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		id, err := userID(ctx, tx, login)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE users SET role = ?, scope_kind = ?, scope_ref = ?, updated_at = ? WHERE id = ?",
			role, scope.Kind, scope.Ref, store.Micros(s.Now()), id); err != nil {
			return err
		}
		if err := endAccess(ctx, tx, id, s.Now()); err != nil {
			return err
		}
		return Append(ctx, tx, s.Now(), actor, "user.grant", userObject(id), map[string]any{"login": login, "role": role, "scope": scope})
	})
}

// SetDisabled disables a person's account (they can no longer sign in;
// their sessions end and their API tokens are revoked) or enables it
// again; audited. An administrator cannot disable their own account, so
// that an installation is not locked out by mistake.
func (s *Service) SetDisabled(ctx context.Context, actor Principal, login string, disabled bool) error {
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		id, err := userID(ctx, tx, login)
		if err != nil {
			return err
		}
		if disabled && id == actor.UserID {
			return errs.E(errs.Conflict, "login", "you cannot disable your own account")
		}
		res, err := tx.ExecContext(ctx, "UPDATE users SET disabled = ?, updated_at = ? WHERE id = ? AND disabled <> ?", disabled, store.Micros(s.Now()), id, disabled)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err // already so: nothing to do or to audit
		}
		action := "user.enable"
		if disabled {
			action = "user.disable"
			if err := endAccess(ctx, tx, id, s.Now()); err != nil {
				return err
			}
		}
		return Append(ctx, tx, s.Now(), actor, action, userObject(id), map[string]any{"login": login})
	})
}

// User returns one person's account by login.
func (s *Service) User(ctx context.Context, login string) (User, error) {
	var u User
	err := s.DB.Reader().QueryRowContext(ctx, "SELECT id, login, full_name, role, scope_kind, scope_ref, disabled FROM users WHERE login = ?",
		strings.ToLower(strings.TrimSpace(login))).Scan(&u.ID, &u.Login, &u.FullName, &u.Role, &u.Scope.Kind, &u.Scope.Ref, &u.Disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, errs.NotFoundf("no user with login %q", login)
	}
	return u, errs.Wrap(err, "user")
}

func userID(ctx context.Context, q store.Querier, login string) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, "SELECT id FROM users WHERE login = ?", strings.ToLower(login)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, errs.NotFoundf("no user with login %q", login)
	}
	return id, err
}

// ListUsers returns everyone, by login.
func (s *Service) ListUsers(ctx context.Context) ([]User, error) {
	return store.Collect(ctx, s.DB.Reader(), func(rows *sql.Rows) (User, error) {
		var u User
		return u, rows.Scan(&u.ID, &u.Login, &u.FullName, &u.Role, &u.Scope.Kind, &u.Scope.Ref, &u.Disabled)
	}, "SELECT id, login, full_name, role, scope_kind, scope_ref, disabled FROM users ORDER BY login")
}

// dummyHash is compared against when the login is unknown so that a wrong
// login and a wrong password take the same time.
var dummyHash, _ = HashPassword("qorgan-no-such-user")

// Authenticate checks a login and password, from the client address from
// (empty when there is none, as on the command line). The attempt is
// refused before any hashing when its login or address has used up its
// failed attempts (TooMany) or when too many checks are running or waiting
// (Unavailable); both say when to try again. See SignInLimits.
func (s *Service) Authenticate(ctx context.Context, from, login, pw string) (Principal, error) {
	login = strings.ToLower(strings.TrimSpace(login))
	addr := SourceKey(from)
	if err := s.guard.admit(login, addr, s.Now()); err != nil {
		return Principal{}, err
	}
	var p Principal
	var hash string
	var disabled bool
	err := s.DB.Reader().QueryRowContext(ctx, "SELECT id, login, full_name, role, scope_kind, scope_ref, password_hash, disabled FROM users WHERE login = ?",
		login).Scan(&p.UserID, &p.Login, &p.Name, &p.Role, &p.Scope.Kind, &p.Scope.Ref, &hash, &disabled)
	if errors.Is(err, sql.ErrNoRows) {
		// An unknown login costs what a known one does, so that the time
		// of the answer does not tell which logins exist.
		hash = dummyHash
	} else if err != nil {
		return Principal{}, errs.Wrap(err, "authenticate")
	}
	var ok bool
	var herr error
	if err := s.guard.check(ctx, func() { ok, herr = s.hasher.check(ctx, pw, hash) }); err != nil {
		return Principal{}, err
	}
	if herr != nil && !errors.Is(herr, argon2id.ErrInvalidHash) && !errors.Is(herr, argon2id.ErrIncompatibleVersion) {
		// The worker failed: nothing was decided about the password.
		e := errs.E(errs.Unavailable, "", "the sign-in could not be checked; try again in a moment")
		e.RetryAfter, e.Err = time.Second, herr
		return Principal{}, e
	}
	if !ok || p.UserID == 0 || disabled {
		s.guard.fail(login, addr, s.Now())
		return Principal{}, errs.E(errs.Unauthorized, "", "wrong login or password")
	}
	return p, nil
}

// endAccess signs a person out everywhere: their sessions end and their API
// tokens are revoked (after a password change or a new role).
func endAccess(ctx context.Context, tx *store.Tx, userID int64, now time.Time) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE user_id = ?", userID); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, "UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL", store.Micros(now), userID)
	return err
}

// DeleteGuardianLogins removes the sign-ins of a guardian who is being
// erased: their sessions, any tokens and the user rows themselves. It says
// how many logins there were.
func DeleteGuardianLogins(ctx context.Context, tx *store.Tx, guardianID int64) (int, error) {
	where := "FROM users WHERE scope_kind = ? AND scope_ref = ?"
	args := []any{string(ScopeGuardian), strconv.FormatInt(guardianID, 10)}
	for _, t := range []string{"sessions", "api_tokens"} {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+t+" WHERE user_id IN (SELECT id "+where+")", args...); err != nil {
			return 0, err
		}
	}
	res, err := tx.ExecContext(ctx, "DELETE "+where, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}
