package auth

import (
	"context"
	"database/sql"
	"strings"

	"qorgan/internal/errs"
	"qorgan/internal/store"
)

// UserQuery selects accounts for the administrator's list: those whose
// login contains Login (when given), after the login After, by login, at
// most Limit. Logins, not names, are searched: a search term may travel in
// a page's address, and a login is not a person's name.
type UserQuery struct {
	Login string
	After string
	Limit int
}

// FindUsers lists accounts for a person who manages them, one page at a
// time; next is the login to continue after, empty at the end.
func (s *Service) FindUsers(ctx context.Context, p Principal, q UserQuery) (users []User, next string, err error) {
	if err := p.Require(ManageUsers); err != nil {
		return nil, "", err
	}
	if q.Limit <= 0 || q.Limit > 500 {
		return nil, "", errs.Invalidf("limit", "limit must be 1 to 500")
	}
	where, args := "login > ?", []any{strings.ToLower(q.After)}
	if t := strings.ToLower(strings.TrimSpace(q.Login)); t != "" {
		r := strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`)
		where += ` AND login LIKE ? ESCAPE '\'`
		args = append(args, "%"+r.Replace(t)+"%")
	}
	out, err := store.Collect(ctx, s.DB.Reader(), func(rows *sql.Rows) (User, error) {
		var u User
		return u, rows.Scan(&u.ID, &u.Login, &u.FullName, &u.Role, &u.Scope.Kind, &u.Scope.Ref, &u.Disabled)
	}, "SELECT id, login, full_name, role, scope_kind, scope_ref, disabled FROM users WHERE "+where+" ORDER BY login LIMIT ?", append(args, q.Limit+1)...)
	if err != nil {
		return nil, "", errs.Wrap(err, "find users")
	}
	if len(out) > q.Limit {
		out = out[:q.Limit]
		next = out[len(out)-1].Login
	}
	return out, next, nil
}

// Problems lists everything wrong with a new account at once (login, role
// and scope, password), so that a form can show each beside its field.
// A login already taken is found only when the account is written.
func (u NewUser) Problems() []*errs.Error {
	var out []*errs.Error
	add := func(err error) {
		if err != nil {
			out = append(out, errs.As(err))
		}
	}
	add(validateLogin(strings.ToLower(strings.TrimSpace(u.Login))))
	add(ValidateGrant(u.Role, u.Scope))
	if u.PasswordHash == "" {
		add(validatePassword(u.Password))
	}
	return out
}
