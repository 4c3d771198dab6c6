package web

import (
	"io/fs"
	"regexp"
	"slices"
	"testing"

	"qorgan/internal/alarm"
	"qorgan/internal/attendance"
	"qorgan/internal/auth"
	"qorgan/internal/locale"
	"qorgan/internal/notify"
	"qorgan/internal/registry"
	"qorgan/internal/roadmap"
	"qorgan/internal/transfer"
)

// templateKey finds the message ids the templates name: {{T "id"}} and
// {{TN "id" n}}.
var templateKey = regexp.MustCompile(`\b(?:T|TN) "([^"]+)"`)

// TestPagesUseOnlyKnownKeys: a template that names a message no language
// has, or an id the handlers build (a role, an alarm's type, state, step or
// party), fails here rather than showing its readers the id.
func TestPagesUseOnlyKnownKeys(t *testing.T) {
	names, err := fs.Glob(ui, "ui/templates/*.html")
	if err != nil || len(names) == 0 {
		t.Fatalf("templates: %v %v", names, err)
	}
	want := map[string]string{}
	for _, n := range names {
		src, _ := ui.ReadFile(n)
		for _, m := range templateKey.FindAllStringSubmatch(string(src), -1) {
			want[m[1]] = n
		}
	}
	if len(want) < 40 {
		t.Fatalf("found only %d message ids in the templates; has the call style changed?", len(want))
	}
	built := func(id string) { want[id] = "the handlers" }
	for _, r := range auth.Roles {
		built("role." + string(r))
	}
	for _, x := range alarmTypes {
		built("type." + x)
	}
	for _, x := range alarmStates {
		built("state." + string(x))
	}
	for _, x := range append(parties, alarm.PartySystem) {
		built("party." + string(x))
	}
	for _, x := range alarmSteps {
		built("step." + x)
	}
	for _, x := range locale.Languages {
		built("lang." + x)
	}
	for _, x := range relationKinds {
		built("ui.relation." + x)
	}
	for _, x := range transfer.ProblemCodes {
		built("ui.import.problem." + string(x))
	}
	for _, x := range roadmap.WhyCodes {
		switch x {
		case roadmap.WhyNoDevice, roadmap.WhyNoneWorks:
			for _, k := range []registry.DeviceKind{registry.Camera, registry.PublicAddress, registry.PanicButton, registry.Turnstile, registry.AlarmPanel} {
				built("ui.why." + string(x) + "." + string(k))
			}
		default:
			built("ui.why." + string(x))
		}
	}
	for _, x := range []string{"never_heard", "silent", "more"} {
		built("ui.why." + x)
	}
	for _, x := range []string{"priority.1", "priority.2", "ui.menu.console", "ui.menu.home", "ui.signin.title", "ui.signin.wrong", "ui.signin.required",
		"ui.signin.too_many", "ui.signin.busy", "ui.timeline.console_panic", "ui.home.title", "ui.console.title", "ui.alarm.title", "ui.timeline.after"} {
		built(x)
	}
	// The messages page's and the not-arrived rule's words (messages_pages.go).
	for _, x := range notify.States {
		built("ui.messages.state." + string(x))
	}
	for _, x := range notify.Channels {
		built("ui.messages.channel." + string(x))
	}
	for _, x := range messageKinds {
		built("ui.messages.kind." + x)
	}
	for _, x := range []string{notify.ReasonStale, notify.ReasonNotConfigured, notify.ReasonBadRecipient, notify.ReasonSubscription, notify.ReasonRejected,
		notify.ReasonProviderFailed, notify.ReasonUnreachable, notify.ReasonInterrupted} {
		built("ui.messages.reason." + x)
	}
	for _, x := range []string{attendance.OutcomeSent, attendance.OutcomeTooFewArrived, attendance.OutcomeSeveralShifts, attendance.OutcomeQuietHours} {
		built("ui.rule.outcome." + x)
	}
	for _, x := range []string{"ui.menu.messages", "ui.messages.title", "ui.rule.title", "ui.rule.err.at_missing", "ui.rule.err.at_format", "ui.rule.err.at_shift", "ui.rule.err.shifts"} {
		built(x)
	}
	// The school's people: titles, message kinds, channels and states,
	// the edit form's fields and each field's message.
	for _, x := range []string{listPupils, listStaff, listGuardians} {
		built("ui.people." + x + ".title")
	}
	for _, x := range append(slices.Clone(cardMessageKinds), "other") {
		built("ui.people.kind." + x)
	}
	for _, x := range notify.Channels {
		built("ui.people.via." + string(x))
	}
	for _, x := range notify.Statuses {
		built("ui.people.status." + string(x))
	}
	for _, x := range pupilFields {
		built("ui.people.field." + x)
		built("ui.people.hint." + x)
		built("ui.people.err." + x)
	}
	for _, x := range guardianFields {
		if x != "may_collect" {
			built("ui.people.g." + x)
		}
		if x != "may_collect" && x != "relation" {
			built("ui.people.err.g_" + x)
		}
	}
	for _, x := range []string{"ui.people.pupil.title", "ui.people.err.guardians", "ui.people.err.external_id_taken", "ui.people.err.card_uid_taken",
		"ui.people.err.form", "ui.people.err.class_filter", "ui.people.err.q", "ui.people.err.confirm", "ui.people.done.erased", "ui.people.done.saved"} {
		built(x)
	}
	for _, x := range []string{"ui.notfound", "ui.forbidden", "ui.error", "ui.stale"} {
		built(x + ".title")
		built(x + ".text")
	}
	for id, where := range want {
		if !locale.ForConsole(id) {
			t.Errorf("%s uses message %q, outside the console's namespaces (locale.ForConsole)", where, id)
		}
		for _, l := range locale.Languages {
			if ok, err := locale.Has(l, id); err != nil || !ok {
				t.Errorf("%s uses message %q, which %s does not have (%v)", where, id, l, err)
			}
		}
	}
}

// TestTemplatesParse: every page parses with the layout, and every static
// file has a hashed URL.
func TestTemplatesParse(t *testing.T) {
	a, err := loadUI()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"signin", "console", "alarm", "home", "error"} {
		if a.pages[p] == nil {
			t.Errorf("no page %s", p)
		}
	}
	for _, f := range []string{"console.css", "console.js"} {
		if a.urlOf[f] == "" {
			t.Errorf("no hashed URL for %s", f)
		}
	}
}
