package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"qorgan/internal/errs"
	"qorgan/internal/store"
)

// SchoolFilter returns a SQL condition, with its arguments, that holds for the
// schools (table alias `s`) inside the principal's scope. Every query over
// schools, and over anything that belongs to a school, includes it: scope is
// applied by the database, never by filtering rows afterwards.
//
// today is the calendar date (Asia/Almaty) that decides which provider
// contracts are in force.
func (p Principal) SchoolFilter(alias string, today time.Time) (string, []any) {
	a := alias
	switch p.Scope.Kind {
	case ScopeInstallation, ScopeNation:
		return "1=1", nil
	case ScopeRegion:
		return a + ".region_code = ?", []any{p.Scope.Ref}
	case ScopeDistrict:
		return a + ".district_code = ?", []any{p.Scope.Ref}
	case ScopeSchool:
		return a + ".id = ?", []any{p.Scope.ID()}
	case ScopeProvider:
		d := today.Format(time.DateOnly)
		return fmt.Sprintf("EXISTS (SELECT 1 FROM contracts c WHERE c.school_id = %s.id AND c.provider_id = ? AND c.starts_on <= ? AND (c.ends_on IS NULL OR c.ends_on >= ?))", a),
			[]any{p.Scope.ID(), d, d}
	case ScopePoliceUnit:
		return fmt.Sprintf("EXISTS (SELECT 1 FROM police_units u WHERE u.id = ? AND u.region_code = %[1]s.region_code AND (u.district_code IS NULL OR u.district_code = %[1]s.district_code))", a),
			[]any{p.Scope.ID()}
	}
	// A guardian's scope is their own children, not their schools (nor
	// anything else): a school's pages answer them as if it did not exist.
	return "1=0", nil
}

// PupilScope returns a SQL condition over pupils (alias `alias`, with its
// school joined as `s`) for the pupils inside the principal's scope: a
// guardian's own children; for everyone else, the pupils of the schools in
// scope. Whether the role may read them is a permission (ReadPupils).
func (p Principal) PupilScope(alias string, today time.Time) (string, []any) {
	if p.Scope.Kind == ScopeGuardian {
		return fmt.Sprintf("EXISTS (SELECT 1 FROM pupil_guardians og WHERE og.pupil_id = %s.id AND og.guardian_id = ?)", alias), []any{p.Scope.ID()}
	}
	return p.SchoolFilter("s", today)
}

// PupilFilter returns a SQL condition over pupils (alias `alias`, with its
// school joined as `s`) for the pupils whose personal data the principal may
// read: those in scope for a role holding ReadPupils, nothing otherwise.
func (p Principal) PupilFilter(alias string, today time.Time) (string, []any) {
	if !p.Can(ReadPupils) {
		return "1=0", nil
	}
	return p.PupilScope(alias, today)
}

// AtSchool applies InScope to a school: NotFound unless the school is in
// p's scope, then Forbidden unless p's role may do perm.
func (p Principal) AtSchool(ctx context.Context, q store.Querier, today time.Time, id int64, perm Permission) error {
	cond, args := p.SchoolFilter("s", today)
	var n int
	if err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM schools s WHERE s.id = ? AND "+cond, append([]any{id}, args...)...).Scan(&n); err != nil {
		return errs.Wrap(err, "school scope")
	}
	return p.InScope(n > 0, perm, fmt.Sprintf("school %d", id))
}

// AtPupil applies InScope to a pupil (PupilScope) and returns the pupil's
// school.
func (p Principal) AtPupil(ctx context.Context, q store.Querier, today time.Time, id int64, perm Permission) (schoolID int64, err error) {
	cond, args := p.PupilScope("p", today)
	err = q.QueryRowContext(ctx, "SELECT p.school_id FROM pupils p JOIN schools s ON s.id = p.school_id WHERE p.id = ? AND "+cond,
		append([]any{id}, args...)...).Scan(&schoolID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, errs.Wrap(err, "pupil scope")
	}
	return schoolID, p.InScope(err == nil, perm, fmt.Sprintf("pupil %d", id))
}
