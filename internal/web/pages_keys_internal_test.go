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
// {{TN "id" n}}; listHead, the ones a list's table names for its caption
// and columns, {{template "list-head" (list "id" …)}}.
var (
	templateKey = regexp.MustCompile(`\b(?:T|TN) "([^"]+)"`)
	listHead    = regexp.MustCompile(`\{\{template "list-head" \(list ([^)]*)\)\}\}`)
	quoted      = regexp.MustCompile(`"([^"]+)"`)
)

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
		for _, h := range listHead.FindAllStringSubmatch(string(src), -1) {
			for _, m := range quoted.FindAllStringSubmatch(h[1], -1) {
				want[m[1]] = n
			}
		}
	}
	if len(want) < 40 {
		t.Fatalf("found only %d message ids in the templates; has the call style changed?", len(want))
	}
	built := func(id string) { want[id] = "the handlers" }
	builtAll(want, "role.", auth.Roles...)
	builtAll(want, "type.", alarmTypes...)
	builtAll(want, "state.", alarmStates...)
	builtAll(want, "party.", append(parties, alarm.PartySystem)...)
	builtAll(want, "step.", alarmSteps...)
	builtAll(want, "lang.", locale.Languages...)
	builtAll(want, "ui.relation.", relationKinds...)
	builtAll(want, "ui.emergency.done.", emergencyDone...)
	for _, id := range roadmap.SourceIDs {
		built("ui.roadmap.source." + id)
	}
	for _, k := range positions {
		built("ui.position." + k)
	}
	// An alarm's system steps (stepDetail).
	built("ui.alarm.detail.escalated")
	built("ui.alarm.detail.communication_restored")
	for _, k := range escalatedTo {
		built(k)
	}
	builtAll(want, "ui.import.problem.", transfer.ProblemCodes...)
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
	builtAll(want, "ui.why.", "never_heard", "silent", "more")
	for _, x := range []string{"priority.1", "priority.2", "ui.menu.console", "ui.menu.home", "ui.signin.title", "ui.signin.wrong", "ui.signin.required",
		"ui.signin.too_many", "ui.signin.busy", "ui.timeline.console_panic", "ui.home.title", "ui.console.title", "ui.alarm.title", "ui.timeline.after"} {
		built(x)
	}
	// The messages page's and the not-arrived rule's words (messages_pages.go).
	builtAll(want, "ui.messages.state.", notify.States...)
	builtAll(want, "ui.messages.channel.", notify.Channels...)
	builtAll(want, "ui.messages.kind.", messageKinds...)
	builtAll(want, "ui.messages.reason.", notify.ReasonStale, notify.ReasonNotConfigured, notify.ReasonBadRecipient, notify.ReasonSubscription, notify.ReasonRejected,
		notify.ReasonProviderFailed, notify.ReasonUnreachable, notify.ReasonInterrupted)
	builtAll(want, "ui.rule.outcome.", attendance.OutcomeSent, attendance.OutcomeTooFewArrived, attendance.OutcomeSeveralShifts, attendance.OutcomeQuietHours)
	for _, x := range []string{"ui.menu.messages", "ui.messages.title", "ui.rule.title", "ui.rule.err.at_missing", "ui.rule.err.at_format", "ui.rule.err.at_shift", "ui.rule.err.shifts"} {
		built(x)
	}
	// The school's people: titles, message kinds, channels and states,
	// the edit form's fields and each field's message.
	for _, x := range []string{listPupils, listStaff, listGuardians} {
		built("ui.people." + x + ".title")
	}
	builtAll(want, "ui.people.kind.", append(slices.Clone(cardMessageKinds), "other")...)
	builtAll(want, "ui.people.via.", notify.Channels...)
	builtAll(want, "ui.people.status.", notify.Statuses...)
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

// builtAll marks in want the message ids a handler builds: prefix and
// each of xs.
func builtAll[T ~string](want map[string]string, prefix string, xs ...T) {
	for _, x := range xs {
		want[prefix+string(x)] = "the handlers"
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
