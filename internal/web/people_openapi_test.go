package web_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"qorgan/internal/demo"
	"qorgan/internal/kztime"
	"qorgan/internal/web"
)

// peopleScenarios drive the personal-data rights through the API — a
// pupil changed, exported whole and erased, a guardian's consent withdrawn
// — and the listing and revoking of API tokens.
func peopleScenarios(t *testing.T, h *harness, k known) {
	pupil := map[string]any{"external_id": "ERASE-1", "last_name": "Жанова", "first_name": "Әлия", "class": "3 Б", "card_uid": "E1A5E001",
		"guardians": []any{map[string]any{"phone": "+77015559901", "full_name": "Жанова Гүлнар", "language": "kk", "consent_given_on": "2025-09-01"}}}
	var id int64
	h.runIn(t, []scenario{
		{name: "pupil to erase", as: "director", method: "POST", path: "/api/v1/schools/1/pupils", body: pupil, status: 201,
			check: func(t *testing.T, r result) { id = num(r.json(t)["id"]) }},
		{name: "a classmate", as: "director", method: "POST", path: "/api/v1/schools/1/pupils", status: 201,
			body: map[string]any{"external_id": "ERASE-2", "last_name": "Жанов", "first_name": "Нұр", "class": "3 Б"}},
	})
	if id == 0 {
		t.Fatal("no pupil to erase")
	}
	at := fmt.Sprintf("/api/v1/pupils/%d", id)
	changed := map[string]any{"last_name": "Жанова", "first_name": "Әлия", "class": "4 Б", "card_uid": "E1A5E001",
		"guardians": []any{map[string]any{"phone": "+77015559901", "full_name": "Жанова Гүлнар", "language": "ru", "consent_given_on": "2025-09-01"}}}
	h.runIn(t, []scenario{
		{name: "change a pupil", as: "director", method: "PUT", path: at, body: changed, status: 200, check: func(t *testing.T, r result) {
			m := r.json(t)
			gs, _ := m["guardians"].([]any)
			if m["class"] != "4Б" || m["external_id"] != "ERASE-1" || len(gs) != 1 || gs[0].(map[string]any)["language"] != "ru" {
				t.Errorf("changed: %s", r.body)
			}
		}},
		{name: "change a pupil, bad class", as: "director", method: "PUT", path: at, body: map[string]any{"last_name": "Жанова", "first_name": "Әлия", "class": "13Z"}, status: 422, field: "class"},
		{name: "change a pupil, several bad fields", as: "director", method: "PUT", path: at, body: map[string]any{"last_name": "Жанова", "first_name": "Әлия", "class": "13Z",
			"guardians": []map[string]any{{"phone": "12345", "full_name": "Жанова Гүлнар"}}},
			status: 422, field: "class", check: errorsAre("class", "guardians/0/phone")},
		{name: "change a pupil to a classmate's external id", as: "director", method: "PUT", path: at, status: 409, field: "external_id",
			body: map[string]any{"external_id": "ERASE-2", "last_name": "Жанова", "first_name": "Әлия", "class": "4 Б"}},
		{name: "change a pupil as the guard", as: "guard", method: "PUT", path: at, body: changed, status: 403},
		{name: "change a pupil of another school", as: "guard2", method: "PUT", path: at, body: changed, status: 404},
		{name: "change a pupil as the analyst", as: "analyst", method: "PUT", path: at, body: changed, status: 403},
		{name: "change a pupil without CSRF", as: "director", csrf: "omit", method: "PUT", path: at, body: changed, status: 403, rejected: true, field: "X-CSRF-Token"},
		{name: "change a pupil without credentials", method: "PUT", path: at, body: changed, status: 401, rejected: true},
		{name: "change a pupil, unknown field", as: "director", method: "PUT", path: at, body: map[string]any{"nickname": "Әлі"}, status: 422, rejected: true, field: "nickname"},
		{name: "change a pupil over 1 MiB", as: "admin", method: "PUT", path: at, body: `{"class":"` + strings.Repeat("x", web.MaxBody) + `"}`, status: 413, rejected: true},
		{name: "the pupil arrives", as: "guard", method: "POST", path: "/api/v1/schools/1/passes/manual", status: 200,
			body: map[string]any{"pupil_id": id, "direction": "in", "request_id": "erase-1-in"}},
		{name: "export a pupil", as: "director", method: "GET", path: at + "/export", status: 200, check: func(t *testing.T, r result) {
			m := r.json(t)
			p, _ := m["pupil"].(map[string]any)
			recs, _ := m["records"].(map[string]any)
			att, _ := recs["attendance"].(map[string]any)
			passes, _ := att["passes"].([]any)
			days, _ := att["days"].([]any)
			if p["external_id"] != "ERASE-1" || len(passes) != 1 || len(days) != 1 || recs["messages"] == nil {
				t.Errorf("export: %s", r.body)
			}
			if cd := r.header.Get("Content-Disposition"); cd != fmt.Sprintf(`attachment; filename="pupil-%d.json"`, id) {
				t.Errorf("Content-Disposition %q", cd)
			}
		}},
		{name: "who read a pupil's data", as: "director", method: "GET", path: at + "/access-log", status: 200, check: func(t *testing.T, r result) {
			// The director's export above is the newest read.
			items := r.items(t)
			if len(items) == 0 || items[0]["action"] != "pupil.export" || items[0]["login"] != "director" {
				t.Errorf("access log: %s", clip(r.body))
			}
		}},
		{name: "who read a pupil's data, as the guard", as: "guard", method: "GET", path: at + "/access-log", status: 403},
		{name: "who read a pupil's data, another school", as: "guard2", method: "GET", path: at + "/access-log", status: 404},
		{name: "who read a pupil's data, as the region", as: "region", method: "GET", path: at + "/access-log", status: 403},
		{name: "erase a pupil as the ПЦН", as: "pcn", method: "DELETE", path: at, status: 403},
		{name: "export a pupil as the guard", as: "guard", method: "GET", path: at + "/export", status: 403},
		{name: "export a pupil of another school", as: "guard2", method: "GET", path: at + "/export", status: 404},
		{name: "export a pupil as a parent", as: "parent", method: "GET", path: at + "/export", status: 404},
		{name: "erase a pupil as the guard", as: "guard", method: "DELETE", path: at, status: 403},
		{name: "erase a pupil of another school", as: "guard2", method: "DELETE", path: at, status: 404},
		{name: "erase a pupil without CSRF", as: "director", csrf: "omit", method: "DELETE", path: at, status: 403, rejected: true, field: "X-CSRF-Token"},
		{name: "erase a pupil", as: "director", method: "DELETE", path: at, status: 200, check: func(t *testing.T, r result) {
			m := r.json(t)
			recs, _ := m["records"].(map[string]any)
			// One pass and one school day; the guardian had no other child,
			// so the guardian goes too.
			if num(m["pupil_id"]) != id || num(recs["attendance"]) != 2 || num(recs["messages"]) != 0 || num(m["guardians"]) != 1 {
				t.Errorf("erasure: %s", r.body)
			}
		}},
		{name: "the erased pupil", as: "director", method: "GET", path: at, status: 404},
		{name: "erase the erased pupil", as: "director", method: "DELETE", path: at, status: 404},
		{name: "export the erased pupil", as: "director", method: "GET", path: at + "/export", status: 404},
		{name: "the erased pupil's card", as: "guard", method: "POST", path: "/api/v1/schools/1/passes/manual", status: 404, field: "pupil_id",
			body: map[string]any{"pupil_id": id, "direction": "out", "request_id": "erase-1-out"}},
		{name: "the audit trail after the erasure", as: "admin", method: "GET", path: "/api/v1/audit/verify", status: 200, check: fieldIs("ok", true)},
		{name: "what was done to the erased pupil", as: "admin", method: "GET", path: "/api/v1/audit?object=" + fmt.Sprintf("pupil/%d", id), status: 200, check: func(t *testing.T, r result) {
			var actions []any
			for _, it := range r.items(t) {
				actions = append(actions, it["action"])
			}
			if fmt.Sprint(actions) != "[pupil.erase pupil.update pupil.create]" {
				t.Errorf("audit of the pupil: %v", actions)
			}
		}},
		{name: "erasures, one a page", as: "admin", method: "GET", path: "/api/v1/audit?action=pupil.erase&limit=1", status: 200, check: func(t *testing.T, r result) {
			if items := r.items(t); len(items) != 1 || r.json(t)["next_cursor"] == nil {
				t.Errorf("a page of one: %s", clip(r.body))
			}
		}},
		{name: "the audit trail as the director", as: "director", method: "GET", path: "/api/v1/audit", status: 403},
		{name: "the audit trail, bad limit", as: "admin", method: "GET", path: "/api/v1/audit?limit=0", status: 422, rejected: true, field: "limit"},
		{name: "the audit trail, bad cursor", as: "admin", method: "GET", path: "/api/v1/audit?cursor=x", status: 422, field: "cursor"},
	})

	// A guardian withdraws consent; once is enough.
	today := kztime.Today(time.Now()).Format(time.DateOnly)
	withdrawn := func(t *testing.T, r result) {
		if m := r.json(t); m["consent_withdrawn_on"] != today || m["consent_given_on"] == nil {
			t.Errorf("consent: %s (today %s)", r.body, today)
		}
	}
	h.runIn(t, []scenario{
		{name: "withdraw consent without CSRF", as: "parent", csrf: "omit", method: "DELETE", path: "/api/v1/me/consent", status: 403, rejected: true, field: "X-CSRF-Token"},
		{name: "withdraw consent", as: "parent", method: "DELETE", path: "/api/v1/me/consent", status: 200, check: withdrawn},
		{name: "withdraw consent again", as: "parent", method: "DELETE", path: "/api/v1/me/consent", status: 200, check: withdrawn},
		{name: "withdraw consent as a director", as: "director", method: "DELETE", path: "/api/v1/me/consent", status: 403},
		{name: "the child's guardians after the withdrawal", as: "parent", method: "GET", path: "/api/v1/children", status: 200, check: func(t *testing.T, r result) {
			for _, c := range r.items(t) {
				for _, g := range c["guardians"].([]any) {
					if g.(map[string]any)["consent_withdrawn_on"] == today {
						return
					}
				}
			}
			t.Errorf("no guardian shows the withdrawal: %s", clip(r.body))
		}},
	})

	// API tokens: listed without their secrets, revoked by their owner.
	var revoke int64
	h.runIn(t, []scenario{
		{name: "token to revoke", as: "director", method: "POST", path: "/api/v1/tokens", body: map[string]any{"name": "old laptop"}, status: 201,
			check: func(t *testing.T, r result) {
				m := r.json(t)
				revoke = num(m["id"])
				h.tokens["old laptop"], _ = m["token"].(string)
			}},
	})
	if revoke == 0 {
		t.Fatal("no token to revoke")
	}
	h.runIn(t, []scenario{
		{name: "works before revoking", bearer: "old laptop", method: "GET", path: "/api/v1/me", status: 200},
		{name: "my tokens", as: "director", method: "GET", path: "/api/v1/tokens", status: 200, check: hasItems(2, func(t *testing.T, it map[string]any) {
			if it["token"] != nil || it["login"] != "director" {
				t.Errorf("token listed: %v", it)
			}
		})},
		{name: "revoke someone else's token", as: "guard", method: "DELETE", path: fmt.Sprintf("/api/v1/tokens/%d", revoke), status: 404},
		{name: "revoke a token without CSRF", as: "director", csrf: "omit", method: "DELETE", path: fmt.Sprintf("/api/v1/tokens/%d", revoke), status: 403, rejected: true, field: "X-CSRF-Token"},
		{name: "revoke a token", as: "director", method: "DELETE", path: fmt.Sprintf("/api/v1/tokens/%d", revoke), status: 204},
		{name: "revoke it again", as: "director", method: "DELETE", path: fmt.Sprintf("/api/v1/tokens/%d", revoke), status: 204},
		{name: "revoke no such token", as: "admin", method: "DELETE", path: "/api/v1/tokens/99999999", status: 404},
		{name: "a revoked token", bearer: "old laptop", method: "GET", path: "/api/v1/me", status: 401},
		{name: "every token, as the administrator", as: "admin", method: "GET", path: "/api/v1/tokens", status: 200, check: func(t *testing.T, r result) {
			logins, revoked := map[any]bool{}, false
			for _, it := range r.items(t) {
				logins[it["login"]] = true
				if num(it["id"]) == revoke && it["revoked_at"] != nil {
					revoked = true
				}
			}
			if !logins["director"] || !logins["admin"] || !revoked {
				t.Errorf("administrator's list: %s", clip(r.body))
			}
		}},
		{name: "a parent's tokens", as: "parent", method: "GET", path: "/api/v1/tokens", status: 200, check: func(t *testing.T, r result) {
			if n := len(r.items(t)); n != 0 {
				t.Errorf("a parent has %d tokens", n)
			}
		}},
	})

	// An account disabled: the session and the token stop working at once;
	// enabled again, the person signs in anew.
	h.runIn(t, []scenario{
		{name: "a duty guard's account", as: "admin", method: "POST", path: "/api/v1/users", status: 201, body: map[string]any{"login": "duty.9", "full_name": "Кезекші",
			"password": demo.DefaultPassword, "role": "school_guard", "scope": map[string]string{"kind": "school", "ref": "1"}}},
	})
	h.signIn("duty9", "duty.9")
	h.runIn(t, []scenario{
		{name: "the duty guard's token", as: "duty9", method: "POST", path: "/api/v1/tokens", body: map[string]any{"name": "tablet"}, status: 201,
			check: func(t *testing.T, r result) { h.tokens["duty9"], _ = r.json(t)["token"].(string) }},
		{name: "disable an account as the director", as: "director", method: "POST", path: "/api/v1/users/duty.9/disable", status: 403},
		{name: "disable an account without CSRF", as: "admin", csrf: "omit", method: "POST", path: "/api/v1/users/duty.9/disable", status: 403, rejected: true, field: "X-CSRF-Token"},
		{name: "disable no such account", as: "admin", method: "POST", path: "/api/v1/users/nobody.here/disable", status: 404},
		{name: "disable my own account", as: "admin", method: "POST", path: "/api/v1/users/admin/disable", status: 409, field: "login"},
		{name: "disable an account", as: "admin", method: "POST", path: "/api/v1/users/duty.9/disable", status: 200, check: fieldIs("disabled", true)},
		{name: "the disabled guard's session", as: "duty9", method: "GET", path: "/api/v1/me", status: 401},
		{name: "the disabled guard's token", bearer: "duty9", method: "GET", path: "/api/v1/me", status: 401},
		{name: "the disabled guard signs in", method: "POST", path: "/api/v1/session", body: map[string]string{"login": "duty.9", "password": demo.DefaultPassword}, status: 401},
		{name: "enable an account", as: "admin", method: "POST", path: "/api/v1/users/duty.9/enable", status: 200, check: fieldIs("disabled", false)},
		{name: "enable as the director", as: "director", method: "POST", path: "/api/v1/users/duty.9/enable", status: 403},
		{name: "enable no such account", as: "admin", method: "POST", path: "/api/v1/users/nobody.here/enable", status: 404},
		{name: "the revoked token stays revoked", bearer: "duty9", method: "GET", path: "/api/v1/me", status: 401},
	})
	h.signIn("duty9", "duty.9")
	h.runIn(t, []scenario{
		{name: "the enabled guard", as: "duty9", method: "GET", path: "/api/v1/me", status: 200, check: fieldIs("login", "duty.9")},
	})
	_ = k
}
