package web

import (
	"testing"

	"qorgan/internal/alarm"
)

// TestStepDetail: what Qorgan writes in an alarm's steps reads in the
// page's language, every escalation's recipients included; what a person
// wrote, or a system text not known here, is shown as written.
func TestStepDetail(t *testing.T) {
	escalated := alarm.EscalationDetail
	for _, tc := range []struct {
		lang        string
		party       alarm.Party
		step, given string
		want        string
	}{
		{"ru", alarm.PartySystem, "escalated", escalated(1, alarm.ToSupervisorAndDirector), "уровень 1: ПЦН не принял тревогу; передано: старшему дежурному ЦОУ и директору школы"},
		{"kk", alarm.PartySystem, "escalated", escalated(1, alarm.ToSupervisor), "1-деңгей: бақылау пульті дабылды қабылдамады; жіберілді: ЖБО аға кезекшісіне"},
		{"en", alarm.PartySystem, "escalated", escalated(2, alarm.ToRegion), "level 2: the ПЦН did not acknowledge; passed to the region's education department and police"},
		{"kk", alarm.PartySystem, "resolved", alarm.CommunicationRestored, "байланыс қалпына келді"},
		{"ru", alarm.PartySystem, "resolved", alarm.CommunicationRestored, "связь восстановлена"},
		{"ru", alarm.PartyCOU, "resolved", alarm.CommunicationRestored, alarm.CommunicationRestored},
		{"ru", alarm.PartyPCN, "dispatched", "экипаж 12, 5 минут", "экипаж 12, 5 минут"},
		{"kk", alarm.PartySystem, "escalated", "level x: something else", "level x: something else"},
		{"kk", alarm.PartySystem, "escalated", escalated(1, "someone else"), escalated(1, "someone else")},
	} {
		if got := stepDetail(tc.lang, tc.party, tc.step, tc.given); got != tc.want {
			t.Errorf("%s %s %s %q: %q, want %q", tc.lang, tc.party, tc.step, tc.given, got, tc.want)
		}
	}
}
