// Package auth knows who is acting: people and their roles and scopes,
// passwords, sessions, API tokens, the access log of reads of children's data
// and the hash-chained audit trail of every change.
package auth

import (
	"fmt"
	"strconv"

	"qorgan/internal/errs"
)

// Role is what a person does in Qorgan (DESIGN.md, "Users and what each may see").
type Role string

const (
	RoleAdmin       Role = "sysadmin"             // the installation
	RoleAnalyst     Role = "ministry_analyst"     // the nation, read-only
	RoleEducation   Role = "education_department" // a region or a district
	RoleDirector    Role = "school_director"      // one school (also the safety officer)
	RoleGuard       Role = "school_guard"         // one school, duty staff
	RolePCNOperator Role = "pcn_operator"         // a security provider's monitoring console
	RoleCOUOperator Role = "cou_operator"         // a police Operations Control Centre
	RoleGuardian    Role = "guardian"             // a parent: own children
)

// Roles lists every role, in the order the documentation shows them.
var Roles = []Role{RoleAdmin, RoleAnalyst, RoleEducation, RoleDirector, RoleGuard, RolePCNOperator, RoleCOUOperator, RoleGuardian}

// ScopeKind says what part of the country a person acts in.
type ScopeKind string

const (
	ScopeInstallation ScopeKind = "installation"
	ScopeNation       ScopeKind = "nation"
	ScopeRegion       ScopeKind = "region"
	ScopeDistrict     ScopeKind = "district"
	ScopeSchool       ScopeKind = "school"
	ScopeProvider     ScopeKind = "provider"
	ScopePoliceUnit   ScopeKind = "police_unit"
	ScopeGuardian     ScopeKind = "guardian"
)

// scopesOf says which scope kinds each role may hold.
var scopesOf = map[Role][]ScopeKind{
	RoleAdmin:       {ScopeInstallation},
	RoleAnalyst:     {ScopeNation},
	RoleEducation:   {ScopeRegion, ScopeDistrict},
	RoleDirector:    {ScopeSchool},
	RoleGuard:       {ScopeSchool},
	RolePCNOperator: {ScopeProvider},
	RoleCOUOperator: {ScopePoliceUnit},
	RoleGuardian:    {ScopeGuardian},
}

// Scope is where a person's role applies. Ref is a KATO code for region and
// district scopes and a numeric id for school, provider, police unit and
// guardian scopes.
type Scope struct {
	Kind ScopeKind `json:"kind"`
	Ref  string    `json:"ref,omitempty"`
}

// ID returns Ref as a numeric id (school, provider, police unit, guardian).
func (s Scope) ID() int64 {
	n, _ := strconv.ParseInt(s.Ref, 10, 64)
	return n
}

// Principal is the person (or integration) behind a request.
type Principal struct {
	UserID int64  `json:"user_id"`
	Login  string `json:"login"`
	Name   string `json:"full_name"`
	Role   Role   `json:"role"`
	Scope  Scope  `json:"scope"`
}

// Actor is how the principal appears in the audit trail.
func (p Principal) Actor() string { return fmt.Sprintf("user:%d:%s", p.UserID, p.Login) }

// System is the principal for work Qorgan does on its own (demo load, CLI).
var System = Principal{Login: "system", Role: RoleAdmin, Scope: Scope{Kind: ScopeInstallation}}

// ValidateGrant checks that a role and scope fit together.
func ValidateGrant(role Role, scope Scope) error {
	kinds, ok := scopesOf[role]
	if !ok {
		return errs.Invalidf("role", "unknown role %q (one of %v)", role, Roles)
	}
	for _, k := range kinds {
		if k == scope.Kind {
			switch k {
			case ScopeInstallation, ScopeNation:
				if scope.Ref != "" {
					return errs.Invalidf("scope", "scope %s takes no reference", k)
				}
			case ScopeRegion, ScopeDistrict:
				if !validKATO(scope.Ref) {
					return errs.Invalidf("scope", "scope %s needs a 9-digit KATO code, got %q", k, scope.Ref)
				}
			default:
				// One spelling per id ("42", not "042" or "+42"): a scope is
				// looked up by its text (erasing a guardian ends the logins
				// whose scope is that guardian).
				if scope.ID() <= 0 || strconv.FormatInt(scope.ID(), 10) != scope.Ref {
					return errs.Invalidf("scope", "scope %s needs a numeric id written plainly, got %q", k, scope.Ref)
				}
			}
			return nil
		}
	}
	return errs.Invalidf("scope", "role %s cannot hold a %s scope (allowed: %v)", role, scope.Kind, kinds)
}

func validKATO(s string) bool {
	if len(s) != 9 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Permission is something a role may do within its scope.
type Permission string

const (
	ReadRegistry      Permission = "registry.read"       // schools, devices, contracts, providers, police units in scope
	ReadStaff         Permission = "staff.read"          // a school's staff: names, positions, phones, cards
	WriteSchools      Permission = "schools.write"       // create and change schools
	ReadPupils        Permission = "pupils.read"         // children's personal data (a guardian: their own children)
	ExportPupils      Permission = "pupils.export"       // a whole school's children as a file
	WritePupils       Permission = "pupils.write"        // pupils, guardians, staff; a pupil's export, erasure and access log
	WriteDevices      Permission = "devices.write"       // devices and their credentials
	WriteProviders    Permission = "providers.write"     // providers, contracts, police units
	ManageUsers       Permission = "users.manage"        // people, roles, tokens
	VerifyAudit       Permission = "audit.verify"        // read and verify the audit trail
	ImportSchools     Permission = "schools.import"      // bulk school files
	ImportPupils      Permission = "pupils.import"       // bulk pupil files
	ReadOwnChildren   Permission = "children.read_own"   // the list of a guardian's own children
	OwnSettings       Permission = "guardian.settings"   // a guardian's message channels and consent
	CreateTokens      Permission = "tokens.create"       // API tokens for integrations
	ReadMessages      Permission = "messages.read"       // a school's deliveries to parents and its not-arrived rule
	WriteMessageRules Permission = "messages.rules"      // set a school's not-arrived rule
	RecordPasses      Permission = "passes.manual"       // let a pupil through by hand at the gate
	ReadAlarms        Permission = "alarms.read"         // alarms one by one, their list, the live feed
	AlarmStats        Permission = "alarms.stats"        // response-time scorecards (counts, no incidents)
	RespondAlarms     Permission = "alarms.respond"      // acknowledge, dispatch, arrive, resolve
	WriteRoadmap      Permission = "roadmap.write"       // roadmap targets, funding allocated and spent, snapshots on demand
	RaisePanic        Permission = "alarms.panic"        // press a school's panic button in the console
	DeclareEmergency  Permission = "emergency.declare"   // declare, confirm and change an emergency (lockdown, evacuation, …)
	EndEmergency      Permission = "emergency.end"       // end an emergency: all clear, or a false alarm
	ConfirmProposal   Permission = "emergency.confirm"   // turn a panic alarm's proposal into a live emergency in one action
	ReadEmergency     Permission = "emergency.read"      // emergencies, their checklists, timings and drill reports
	ReadUnaccounted   Permission = "emergency.rollcall"  // the live list of the unaccounted, by name (children's data)
	RespondEmergency  Permission = "emergency.respond"   // mark classes, check guardians in, release children
	PlanDrills        Permission = "drills.plan"         // a school's yearly drill plan and its briefings
	EditAlgorithm     Permission = "emergency.algorithm" // a new version of the action algorithm
)

// permissions is the one table of who may do what, within the role's scope.
// README's "Who sees what" says the same in words, and the web package's
// role × endpoint test holds every route to it.
var permissions = map[Role][]Permission{
	// The administrator runs the installation. Reads of children's data are
	// allowed for support but always land in the access log: no silent access.
	RoleAdmin: {ReadRegistry, ReadStaff, WriteSchools, ReadPupils, ExportPupils, WritePupils, WriteDevices, WriteProviders, ManageUsers, VerifyAudit,
		ImportSchools, ImportPupils, CreateTokens, ReadMessages, WriteMessageRules, ReadAlarms, AlarmStats, RaisePanic, WriteRoadmap, ReadEmergency, PlanDrills, EditAlgorithm},
	// The ministry reads the registry and statistics: counts and
	// scorecards, not incidents (no alarm, alarm list or live feed) and no
	// one's personal data (children's or staff's).
	RoleAnalyst:   {ReadRegistry, CreateTokens, AlarmStats},
	RoleEducation: {ReadRegistry, ReadStaff, WriteSchools, ImportSchools, WriteProviders, CreateTokens, ReadAlarms, AlarmStats, WriteRoadmap, ReadEmergency, PlanDrills},
	RoleDirector: {ReadRegistry, ReadStaff, ReadPupils, ExportPupils, WritePupils, WriteDevices, ImportPupils, CreateTokens, ReadMessages, WriteMessageRules, RecordPasses, ReadAlarms, AlarmStats, RespondAlarms, RaisePanic,
		DeclareEmergency, EndEmergency, ConfirmProposal, ReadEmergency, ReadUnaccounted, RespondEmergency, PlanDrills},
	// The guard declares (and confirms) an emergency but does not end it:
	// "all clear" is the director's or the police's word.
	RoleGuard: {ReadRegistry, ReadStaff, ReadPupils, CreateTokens, ReadMessages, RecordPasses, ReadAlarms, AlarmStats, RespondAlarms, RaisePanic,
		DeclareEmergency, ReadEmergency, ReadUnaccounted, RespondEmergency},
	// The ПЦН confirms the emergency its alarm proposes and sees who is
	// unaccounted (its group goes in); the ЦОУ also declares and ends.
	RolePCNOperator: {ReadRegistry, ReadStaff, CreateTokens, ReadAlarms, AlarmStats, RespondAlarms, ConfirmProposal, ReadEmergency, ReadUnaccounted},
	RoleCOUOperator: {ReadRegistry, ReadStaff, CreateTokens, ReadAlarms, AlarmStats, RespondAlarms, DeclareEmergency, EndEmergency, ConfirmProposal, ReadEmergency, ReadUnaccounted},
	// A guardian's scope is their own children: ReadPupils reaches them and
	// nothing else, and no school is in it.
	RoleGuardian: {ReadPupils, ReadOwnChildren, OwnSettings},
}

// Can reports whether the principal's role grants perm (within its scope).
func (p Principal) Can(perm Permission) bool {
	for _, q := range permissions[p.Role] {
		if q == perm {
			return true
		}
	}
	return false
}

// Require returns Forbidden when the role lacks perm. Use it alone for a
// list or an action that is not about one object; for one object, InScope.
func (p Principal) Require(perm Permission) error {
	if p.Can(perm) {
		return nil
	}
	return errs.E(errs.Forbidden, "", "role %s may not %s", p.Role, perm)
}

// InScope is Qorgan's one rule for refusing a request about one object
// (README, "Who sees what"): an object outside the caller's scope does not
// exist for them, so they learn nothing (NotFound, "no <what>"); inside it, a
// role that may not do perm there is Forbidden.
func (p Principal) InScope(found bool, perm Permission, what string) error {
	if !found {
		return errs.NotFoundf("no %s", what)
	}
	return p.Require(perm)
}
