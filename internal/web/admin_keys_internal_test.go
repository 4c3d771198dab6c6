package web

import (
	"testing"

	"qorgan/internal/auth"
	"qorgan/internal/locale"
)

// TestAdminAndRegionBuiltKeys: the message ids the administrator's and the
// education department's handlers and templates build from values (scope
// kinds, device kinds, field errors, notices, menu items, the audit trail's
// actions, actors, objects and roles) exist in every
// language; TestPagesUseOnlyKnownKeys sees only the literal ones.
func TestAdminAndRegionBuiltKeys(t *testing.T) {
	var ids []string
	for _, k := range scopeKinds {
		ids = append(ids, "ui.admin.kind."+string(k))
	}
	for _, k := range deviceKinds {
		ids = append(ids, "ui.region.kind."+string(k))
	}
	for _, f := range newUserFields {
		ids = append(ids, "ui.admin.err."+f)
	}
	for _, x := range []string{"login_taken", "self", "filter", "before", "no_login"} {
		ids = append(ids, "ui.admin.err."+x)
	}
	for _, x := range []string{"created", "disabled", "enabled", "revoked", "granted"} {
		ids = append(ids, "ui.admin.done."+x)
	}
	for _, x := range append([]string{"q", "uto", "district", "bin_taken", "outside"}, append(append(providerFields, policeFields...), contractFields...)...) {
		ids = append(ids, "ui.region.err."+x)
	}
	for _, f := range append(schoolFormFields, "code_taken", "form") {
		ids = append(ids, "ui.region.err.school_"+f)
	}
	for _, a := range auth.Actions { // the audit page names every action, actor and object kind it knows
		ids = append(ids, "ui.audit.action."+a)
	}
	for _, a := range qorganActors {
		ids = append(ids, "ui.audit.actor."+a)
	}
	for _, k := range objectKinds {
		ids = append(ids, "ui.audit.object."+k)
	}
	for _, r := range auth.Roles {
		ids = append(ids, "role."+string(r))
	}
	ids = append(ids, "ui.region.done.school", "ui.menu.people", "ui.menu.tokens", "ui.menu.audit", "ui.menu.schools", "ui.menu.providers", "ui.menu.police",
		"ui.admin.people.title", "ui.admin.tokens.title", "ui.admin.audit.title", "ui.region.schools.title", "ui.region.school.title",
		"ui.region.providers.title", "ui.region.police.title", "ui.form.invalid", "ui.region.done.provider", "ui.region.done.police", "ui.region.done.contract")
	for _, id := range ids {
		for _, l := range locale.Languages {
			if ok, err := locale.Has(l, id); err != nil || !ok {
				t.Errorf("message %q is missing in %s (%v)", id, l, err)
			}
		}
	}
}
