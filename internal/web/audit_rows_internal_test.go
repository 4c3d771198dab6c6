package web

import (
	"encoding/json"
	"reflect"
	"testing"

	"qorgan/internal/auth"
)

// TestAuditRows: the audit page names what it knows (actions, Qorgan's own
// actors, object kinds, roles and scopes) and shows the stored text of what
// it does not, keeping the details in the order they were written.
func TestAuditRows(t *testing.T) {
	rows := auditRows([]auth.AuditRecord{
		{Actor: "user:4:director", Action: "user.grant", Object: "user/11",
			Detail: json.RawMessage(`{"login":"turkestan.edu","role":"education_department","scope":{"kind":"region","ref":"610000000"},"note":null}`)},
		{Actor: "user:0:escalation", Action: "alarm.escalated", Object: "alarm/7", Detail: json.RawMessage(`{"level":2,"drill":true}`)},
		{Actor: "user:0:robot", Action: "alarm.renamed", Object: "emergency/3/reunion/5/lane", Detail: json.RawMessage(`["a","b"]`)},
		{Actor: "someone", Action: "x", Object: "", Detail: json.RawMessage(`{}`)},
		// A person whose login is "system" is a person, not Qorgan; a
		// number after an unknown kind is kept; a trailing "/" is nothing.
		{Actor: "user:12:system", Action: "session.login", Object: "widget/4/", Detail: json.RawMessage(`{"ids":[1,[2,3]],"at":{"b":2,"a":"x"}}`)},
		{Actor: "user:3:director", Action: "pupil.erase", Object: "pupil/9", Detail: json.RawMessage(`42`)},
	})
	if len(rows) != 6 {
		t.Fatalf("%d rows for 6 entries", len(rows))
	}
	want := []auditRow{
		{ActionKey: "ui.audit.action.user.grant", Login: "director",
			Parts: []objectPart{{Key: "ui.audit.object.user", Raw: "user", ID: "11"}},
			Pairs: []detailPair{
				{Key: "login", KeyName: "ui.admin.login", Value: "turkestan.edu"},
				{Key: "role", KeyName: "ui.admin.role", ValueKey: "role.education_department"},
				{Key: "scope", KeyName: "ui.admin.scope", ValueKey: "ui.admin.kind.region", Value: "610000000"},
				{Key: "note", Value: "—"},
			}},
		{ActionKey: "ui.audit.action.alarm.escalated", ActorKey: "ui.audit.actor.escalation", Login: "escalation",
			Parts: []objectPart{{Key: "ui.audit.object.alarm", Raw: "alarm", ID: "7"}},
			Pairs: []detailPair{{Key: "level", Value: "2"}, {Key: "drill", Value: "true"}}},
		{Login: "robot",
			Parts: []objectPart{{Key: "ui.audit.object.emergency", Raw: "emergency", ID: "3"}, {Key: "ui.audit.object.reunion", Raw: "reunion", ID: "5"}, {Raw: "lane"}},
			Pairs: []detailPair{{Value: `["a","b"]`}}},
		{Login: "someone"},
		{ActionKey: "ui.audit.action.session.login", Login: "system",
			Parts: []objectPart{{Raw: "widget", ID: "4"}},
			Pairs: []detailPair{{Key: "ids", Value: "1, 2, 3"}, {Key: "at", Value: "a=x, b=2"}}},
		{ActionKey: "ui.audit.action.pupil.erase", Login: "director",
			Parts: []objectPart{{Key: "ui.audit.object.pupil", Raw: "pupil", ID: "9"}},
			Pairs: []detailPair{{Value: "42"}}},
	}
	for i := range want {
		got := rows[i]
		got.AuditRecord = auth.AuditRecord{}
		if !reflect.DeepEqual(got, want[i]) {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, got, want[i])
		}
	}

}
