package auth

import (
	"fmt"
	"time"
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
	case ScopeGuardian:
		return fmt.Sprintf("EXISTS (SELECT 1 FROM pupils gp JOIN pupil_guardians gg ON gg.pupil_id = gp.id WHERE gp.school_id = %s.id AND gg.guardian_id = ?)", a),
			[]any{p.Scope.ID()}
	}
	return "1=0", nil
}

// PupilFilter returns a SQL condition over pupils (alias `alias`, with its
// school joined as `s`) for the pupils whose personal data the principal may
// read: the pupils of schools in scope for staff holding ReadPupils, a
// guardian's own children, nothing otherwise.
func (p Principal) PupilFilter(alias string, today time.Time) (string, []any) {
	switch {
	case p.Role == RoleGuardian && p.Scope.Kind == ScopeGuardian:
		return fmt.Sprintf("EXISTS (SELECT 1 FROM pupil_guardians og WHERE og.pupil_id = %s.id AND og.guardian_id = ?)", alias), []any{p.Scope.ID()}
	case p.Can(ReadPupils):
		return p.SchoolFilter("s", today)
	}
	return "1=0", nil
}

// Almaty is the zone people in Kazakhstan read times in (UTC+5 since 2024).
var Almaty = time.FixedZone("Asia/Almaty", 5*60*60)

// Today is the calendar date in Kazakhstan at instant t.
func Today(t time.Time) time.Time { return t.In(Almaty) }
