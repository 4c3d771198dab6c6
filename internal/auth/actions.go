package auth

// Actions lists every action the audit trail records, grouped as the audit
// page's filter offers them: accounts, alarms, the registry, people,
// imports, emergencies and drills, the roadmap. Each has a name in every
// language under "ui.audit.action.<action>". TestEveryAuditedActionIsListed
// reads the source and fails when a call of Append writes an action not
// listed here, or when one listed here is written nowhere.
var Actions = []string{
	"session.login", "token.create", "token.revoke",
	"user.create", "user.set_password", "user.grant", "user.disable", "user.enable",

	"alarm.raise", "alarm.escalated", "alarm.acknowledged", "alarm.dispatched", "alarm.on_site", "alarm.resolved",

	"school.create", "school.not_arrived_rule", "device.create", "device.credential",
	"provider.create", "contract.create", "police_unit.create",

	"staff.create", "staff.homeroom", "pupil.create", "pupil.update", "pupil.erase", "pupil.court_order",
	"guardian.channels", "guardian.consent_withdrawn", "guardian.id_document",
	"guardian.push_subscribed", "guardian.push_unsubscribed",

	"import.schools", "import.pupils",

	"emergency.declare", "emergency.confirm", "emergency.change", "emergency.end", "emergency.algorithm",
	"emergency.checkin", "emergency.runner", "emergency.release", "drills.plan", "drills.briefing",

	"roadmap.declare", "roadmap.target", "roadmap.allocate", "roadmap.spend",

	"demo.load",
}
