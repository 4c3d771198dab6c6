package web

import "qorgan/internal/alarm"

// stepDetail is an alarm step's detail as the page shows it. What Qorgan
// itself writes (an escalation, a lost device heard again) is kept in
// English for the record and the API, and said here in the page's
// language; what a person wrote is shown as written.
func stepDetail(lang string, party alarm.Party, step, detail string) string {
	if party != alarm.PartySystem {
		return detail
	}
	switch step {
	case "resolved":
		if detail == alarm.CommunicationRestored {
			return tr(lang, "ui.alarm.detail.communication_restored", nil, 0)
		}
	case "escalated":
		if level, to, ok := alarm.ParseEscalation(detail); ok {
			return tr(lang, "ui.alarm.detail.escalated", map[string]any{"Level": level, "To": tr(lang, escalatedTo[to], nil, 0)}, 0)
		}
	}
	return detail
}

// escalatedTo names each escalation's recipients by message id.
var escalatedTo = map[string]string{
	alarm.ToSupervisorAndDirector: "ui.alarm.detail.to_supervisor_director",
	alarm.ToSupervisor:            "ui.alarm.detail.to_supervisor",
	alarm.ToRegion:                "ui.alarm.detail.to_region",
}
