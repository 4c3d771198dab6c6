package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/store"
)

// The scope of a person (auth.Scope) is a part of the registry: the schools
// of a region or district, a provider's contracted schools, a police unit's
// jurisdiction, a guardian's children. The SQL that draws it lives here,
// beside the tables it reads; whether a role may do something inside it is
// auth's rule (auth.Principal.InScope).

// SchoolScope returns a SQL condition, with its arguments, that holds for
// the schools (table alias `alias`) inside the principal's scope. Every
// query over schools, and over anything that belongs to a school, includes
// it: scope is applied by the database, never by filtering rows afterwards.
//
// today is the calendar date (Asia/Almaty) that decides which provider
// contracts are in force.
func SchoolScope(p auth.Principal, alias string, today time.Time) (string, []any) {
	a := alias
	switch p.Scope.Kind {
	case auth.ScopeInstallation, auth.ScopeNation:
		return "1=1", nil
	case auth.ScopeRegion:
		return a + ".region_code = ?", []any{p.Scope.Ref}
	case auth.ScopeDistrict:
		return a + ".district_code = ?", []any{p.Scope.Ref}
	case auth.ScopeSchool:
		return a + ".id = ?", []any{p.Scope.ID()}
	case auth.ScopeProvider:
		d := today.Format(time.DateOnly)
		return fmt.Sprintf("EXISTS (SELECT 1 FROM contracts c WHERE c.school_id = %s.id AND c.provider_id = ? AND c.starts_on <= ? AND (c.ends_on IS NULL OR c.ends_on >= ?))", a),
			[]any{p.Scope.ID(), d, d}
	case auth.ScopePoliceUnit:
		return fmt.Sprintf("EXISTS (SELECT 1 FROM police_units u WHERE u.id = ? AND u.region_code = %[1]s.region_code AND (u.district_code IS NULL OR u.district_code = %[1]s.district_code))", a),
			[]any{p.Scope.ID()}
	}
	// A guardian's scope is their own children, not their schools (nor
	// anything else): a school's pages answer them as if it did not exist.
	return "1=0", nil
}

// pupilScope returns a SQL condition over pupils (alias `alias`, with its
// school joined as `s`) for the pupils inside the principal's scope: a
// guardian's own children; for everyone else, the pupils of the schools in
// scope. Whether the role may read them is a permission (ReadPupils).
func pupilScope(p auth.Principal, alias string, today time.Time) (string, []any) {
	if p.Scope.Kind == auth.ScopeGuardian {
		// IN, not a correlated EXISTS: SQLite then starts from the
		// guardian's few links (an index) instead of scanning every pupil
		// (a guardian's list of children took 0.3 s at 1% of the country).
		return fmt.Sprintf("%s.id IN (SELECT og.pupil_id FROM pupil_guardians og WHERE og.guardian_id = ?)", alias), []any{p.Scope.ID()}
	}
	return SchoolScope(p, "s", today)
}

// pupilFilter returns a SQL condition over pupils (alias `alias`, with its
// school joined as `s`) for the pupils whose personal data the principal may
// read: those in scope for a role holding ReadPupils, nothing otherwise.
func pupilFilter(p auth.Principal, alias string, today time.Time) (string, []any) {
	if !p.Can(auth.ReadPupils) {
		return "1=0", nil
	}
	return pupilScope(p, alias, today)
}

// AtSchool applies auth.Principal.InScope to a school: NotFound unless the
// school is in p's scope, then Forbidden unless p's role may do perm.
func AtSchool(ctx context.Context, q store.Querier, p auth.Principal, today time.Time, id int64, perm auth.Permission) error {
	cond, args := SchoolScope(p, "s", today)
	var n int
	if err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM schools s WHERE s.id = ? AND "+cond, append([]any{id}, args...)...).Scan(&n); err != nil {
		return errs.Wrap(err, "school scope")
	}
	return p.InScope(n > 0, perm, fmt.Sprintf("school %d", id))
}

// atPupil applies auth.Principal.InScope to a pupil (pupilScope) and
// returns the pupil's school.
func atPupil(ctx context.Context, q store.Querier, p auth.Principal, today time.Time, id int64, perm auth.Permission) (schoolID int64, err error) {
	cond, args := pupilScope(p, "p", today)
	err = q.QueryRowContext(ctx, "SELECT p.school_id FROM pupils p JOIN schools s ON s.id = p.school_id WHERE p.id = ? AND "+cond,
		append([]any{id}, args...)...).Scan(&schoolID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, errs.Wrap(err, "pupil scope")
	}
	return schoolID, p.InScope(err == nil, perm, fmt.Sprintf("pupil %d", id))
}

// AtPupil applies auth.Principal.InScope to a pupil: NotFound unless the
// pupil is in p's scope (a guardian: their own child), then Forbidden
// unless p's role may do perm. It returns the pupil's school.
func AtPupil(ctx context.Context, q store.Querier, p auth.Principal, today time.Time, id int64, perm auth.Permission) (int64, error) {
	return atPupil(ctx, q, p, today, id, perm)
}
