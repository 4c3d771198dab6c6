package web_test

import (
	"fmt"
	"qorgan/internal/kztime"
	"strings"
	"testing"
	"time"
)

// accessScenarios drive the turnstile intake, manual passes and the
// roll-call through the API, validated against the document like the rest.
func accessScenarios(t *testing.T, h *harness, k known) {
	var turnstile int64
	var pupils []map[string]any
	h.runIn(t, []scenario{
		{name: "devices of school 1", as: "director", method: "GET", path: "/api/v1/schools/1/devices", status: 200, check: func(t *testing.T, r result) {
			for _, d := range r.items(t) {
				if d["kind"] == "turnstile" && turnstile == 0 {
					turnstile = num(d["id"])
				}
			}
		}},
		{name: "pupils of school 1", as: "director", method: "GET", path: "/api/v1/schools/1/pupils?limit=3", status: 200, check: func(t *testing.T, r result) {
			pupils = r.items(t)
		}},
	})
	if turnstile == 0 || len(pupils) < 3 {
		t.Fatalf("school 1 needs a turnstile and three pupils (turnstile %d, %d pupils)", turnstile, len(pupils))
	}
	h.runIn(t, []scenario{
		{name: "turnstile credential", as: "director", method: "POST", path: fmt.Sprintf("/api/v1/devices/%d/credential", turnstile), status: 201,
			check: func(t *testing.T, r result) { h.tokens["turnstile"], _ = r.json(t)["credential"].(string) }},
	})
	// Ten minutes ago, but today in Almaty: just after midnight there, ten
	// minutes ago was yesterday's school day and the roll-call of today
	// would not count these passes.
	now := time.Now()
	y, mo, d := kztime.Today(now).Date()
	atT := now.Add(-10 * time.Minute)
	if start := time.Date(y, mo, d, 0, 0, 1, 0, kztime.Almaty); atT.Before(start) {
		atT = start
	}
	at := atT.UTC().Format(time.RFC3339)
	card := func(i int) string { return fmt.Sprint(pupils[i]["card_uid"]) }
	batch := map[string]any{"events": []map[string]any{
		{"event_id": "t1-0001", "at": at, "direction": "in", "card_uid": card(0)},
		{"event_id": "t1-0002", "at": at, "direction": "in", "card_uid": card(1)},
		{"event_id": "t1-0003", "at": at, "direction": "in", "card_uid": "0BADCAFE"},
	}}
	counts := func(stored, duplicate, unknown int) func(t *testing.T, r result) {
		return func(t *testing.T, r result) {
			m := r.json(t)
			if num(m["stored"]) != int64(stored) || num(m["duplicate"]) != int64(duplicate) || num(m["unknown"]) != int64(unknown) {
				t.Errorf("result %s, want stored %d, duplicate %d, unknown %d", r.body, stored, duplicate, unknown)
			}
		}
	}
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	h.runIn(t, []scenario{
		{name: "passes", bearer: "turnstile", method: "POST", path: "/api/v1/device/passes", body: batch, status: 200, check: counts(3, 0, 1)},
		{name: "passes resent", bearer: "turnstile", method: "POST", path: "/api/v1/device/passes", body: batch, status: 200, check: counts(0, 3, 0)},
		{name: "passes from a device that is no turnstile", bearer: "device1", method: "POST", path: "/api/v1/device/passes", body: batch, status: 403},
		{name: "passes with a bad event", bearer: "turnstile", method: "POST", path: "/api/v1/device/passes", status: 422, field: "events/1/at",
			body: map[string]any{"events": []map[string]any{
				{"event_id": "t1-0004", "at": at, "direction": "in", "card_uid": card(2)},
				{"event_id": "t1-0005", "at": future, "direction": "in", "card_uid": card(2)},
			}}},
		{name: "passes with two bad events", bearer: "turnstile", method: "POST", path: "/api/v1/device/passes", status: 422, field: "events/1/at",
			check: errorsAre("events/1/at", "events/2/event_id"),
			body: map[string]any{"events": []map[string]any{
				{"event_id": "t1-0004", "at": at, "direction": "in", "card_uid": card(2)},
				{"event_id": "t1-0005", "at": future, "direction": "in", "card_uid": card(2)},
				{"event_id": "t1-0004", "at": at, "direction": "out", "card_uid": card(2)},
			}}},
		{name: "passes, none", bearer: "turnstile", method: "POST", path: "/api/v1/device/passes", body: map[string]any{"events": []any{}}, status: 422, rejected: true, field: "events"},
		{name: "passes, too many", bearer: "turnstile", method: "POST", path: "/api/v1/device/passes", status: 413, rejected: true, field: "events",
			body: `{"events":[` + strings.TrimSuffix(strings.Repeat(`{"event_id":"x","at":"`+at+`","direction":"in","card_uid":"01020304"},`, 5001), ",") + `]}`},
		{name: "passes with a person's token", bearer: "admin", method: "POST", path: "/api/v1/device/passes", body: batch, status: 401, field: "Authorization"},
		{name: "manual pass", as: "guard", method: "POST", path: "/api/v1/schools/1/passes/manual", status: 200, check: counts(1, 0, 0),
			body: map[string]any{"pupil_id": num(pupils[2]["id"]), "direction": "in", "request_id": "guard-1"}},
		{name: "manual pass repeated", as: "guard", method: "POST", path: "/api/v1/schools/1/passes/manual", status: 200, check: counts(0, 1, 0),
			body: map[string]any{"pupil_id": num(pupils[2]["id"]), "direction": "in", "request_id": "guard-1"}},
		{name: "manual pass without request id", as: "guard", method: "POST", path: "/api/v1/schools/1/passes/manual", status: 422, rejected: true, field: "request_id",
			body: map[string]any{"pupil_id": num(pupils[2]["id"]), "direction": "in"}},
		{name: "manual pass, no such pupil", as: "guard", method: "POST", path: "/api/v1/schools/1/passes/manual", status: 404, field: "pupil_id",
			body: map[string]any{"pupil_id": 99999999, "direction": "in", "request_id": "guard-2"}},
		{name: "manual pass at another school", as: "guard2", method: "POST", path: "/api/v1/schools/1/passes/manual", status: 404,
			body: map[string]any{"pupil_id": num(pupils[2]["id"]), "direction": "in", "request_id": "guard-3"}},
		// A manual pass is the duty staff's act at the gate: the school is in
		// the administrator's and the ПЦН's scope, but not theirs to let
		// pupils through.
		{name: "manual pass as the administrator", as: "admin", method: "POST", path: "/api/v1/schools/1/passes/manual", status: 403,
			body: map[string]any{"pupil_id": num(pupils[2]["id"]), "direction": "in", "request_id": "admin-1"}},
		{name: "manual pass as the ПЦН", as: "pcn", method: "POST", path: "/api/v1/schools/1/passes/manual", status: 403,
			body: map[string]any{"pupil_id": num(pupils[2]["id"]), "direction": "in", "request_id": "pcn-1"}},
		{name: "manual pass as a parent", as: "parent", method: "POST", path: "/api/v1/schools/1/passes/manual", status: 404,
			body: map[string]any{"pupil_id": num(pupils[2]["id"]), "direction": "in", "request_id": "parent-1"}},
		{name: "manual pass without CSRF", as: "guard", csrf: "omit", method: "POST", path: "/api/v1/schools/1/passes/manual", status: 403, rejected: true, field: "X-CSRF-Token",
			body: map[string]any{"pupil_id": num(pupils[2]["id"]), "direction": "in", "request_id": "guard-4"}},
		{name: "roll-call", as: "guard", method: "GET", path: "/api/v1/schools/1/rollcall", status: 200, check: func(t *testing.T, r result) {
			m := r.json(t)
			if num(m["inside"]) < 3 || num(m["school_id"]) != 1 {
				t.Errorf("roll-call: inside %v", m["inside"])
			}
		}},
		{name: "roll-call of another school", as: "guard2", method: "GET", path: "/api/v1/schools/1/rollcall", status: 404},
		{name: "roll-call as the ПЦН", as: "pcn", method: "GET", path: "/api/v1/schools/1/rollcall", status: 403},
		{name: "roll-call as the analyst", as: "analyst", method: "GET", path: "/api/v1/schools/1/rollcall", status: 403},
		{name: "roll-call as a parent", as: "parent", method: "GET", path: "/api/v1/schools/1/rollcall", status: 404},
		{name: "message deliveries", as: "director", method: "GET", path: "/api/v1/schools/1/notifications", status: 200, check: func(t *testing.T, r result) {
			if _, ok := r.json(t)["counts"]; !ok {
				t.Errorf("no counts: %s", r.body)
			}
		}},
		{name: "message deliveries since", as: "guard", method: "GET", path: "/api/v1/schools/1/notifications?since=2026-01-01T00:00:00Z", status: 200},
		{name: "message deliveries, bad since", as: "guard", method: "GET", path: "/api/v1/schools/1/notifications?since=yesterday", status: 422, rejected: true, field: "since"},
		{name: "message deliveries as the region", as: "region", method: "GET", path: "/api/v1/schools/1/notifications", status: 403},
		{name: "message deliveries as a parent", as: "parent", method: "GET", path: "/api/v1/schools/1/notifications", status: 404},
		{name: "message deliveries of another school", as: "guard2", method: "GET", path: "/api/v1/schools/1/notifications", status: 404},
		{name: "my channels", as: "parent", method: "GET", path: "/api/v1/me/channels", status: 200},
		{name: "switch channels off", as: "parent", method: "PUT", path: "/api/v1/me/channels", body: map[string]any{"off": []string{"sms", "email"}}, status: 200,
			check: func(t *testing.T, r result) {
				if fmt.Sprint(r.json(t)["off"]) != "[email sms]" {
					t.Errorf("off: %s", r.body)
				}
			}},
		{name: "switch off an unknown channel", as: "parent", method: "PUT", path: "/api/v1/me/channels", body: map[string]any{"off": []string{"pigeon"}}, status: 422, rejected: true, field: "off/0"},
		{name: "channels of a director", as: "director", method: "GET", path: "/api/v1/me/channels", status: 403},
		{name: "set channels as a director", as: "director", method: "PUT", path: "/api/v1/me/channels", body: map[string]any{"off": []string{}}, status: 403},
	})

	// The not-arrived rule: off by default; the director sets it, within the
	// school's one shift.
	var shifts []any
	h.runIn(t, []scenario{
		{name: "school 1", as: "director", method: "GET", path: "/api/v1/schools/1", status: 200, check: func(t *testing.T, r result) {
			shifts, _ = r.json(t)["shifts"].([]any)
		}},
		{name: "not-arrived rule", as: "guard", method: "GET", path: "/api/v1/schools/1/not-arrived-rule", status: 200, check: func(t *testing.T, r result) {
			if m := r.json(t); m["at"] != "" || m["saturday"] != false {
				t.Errorf("the rule is not off by default: %s", r.body)
			}
		}},
		{name: "not-arrived rule as the region", as: "region", method: "GET", path: "/api/v1/schools/1/not-arrived-rule", status: 403},
		{name: "not-arrived rule of another school", as: "guard2", method: "GET", path: "/api/v1/schools/1/not-arrived-rule", status: 404},
		// A guardian's scope is their own children: their child's school is
		// not in it, so its pages answer as if it did not exist.
		{name: "not-arrived rule as a parent", as: "parent", method: "GET", path: "/api/v1/schools/1/not-arrived-rule", status: 404},
		{name: "set the not-arrived rule as a parent", as: "parent", method: "PUT", path: "/api/v1/schools/1/not-arrived-rule", body: map[string]any{"at": "08:30"}, status: 404},
		{name: "set the not-arrived rule off", as: "director", method: "PUT", path: "/api/v1/schools/1/not-arrived-rule", body: map[string]any{"at": "", "saturday": true}, status: 200,
			check: func(t *testing.T, r result) {
				if m := r.json(t); m["at"] != "" || m["saturday"] != true {
					t.Errorf("rule: %s", r.body)
				}
			}},
		{name: "set the not-arrived rule before lessons", as: "director", method: "PUT", path: "/api/v1/schools/1/not-arrived-rule", body: map[string]any{"at": "06:00"}, status: 422, field: "at"},
		{name: "set the not-arrived rule, not a time", as: "director", method: "PUT", path: "/api/v1/schools/1/not-arrived-rule", body: map[string]any{"at": "8:30"}, status: 422, rejected: true, field: "at"},
		{name: "set the not-arrived rule as the guard", as: "guard", method: "PUT", path: "/api/v1/schools/1/not-arrived-rule", body: map[string]any{"at": "08:30"}, status: 403},
		{name: "set the not-arrived rule of another school", as: "guard2", method: "PUT", path: "/api/v1/schools/1/not-arrived-rule", body: map[string]any{"at": "08:30"}, status: 404},
		{name: "set the not-arrived rule without CSRF", as: "director", csrf: "omit", method: "PUT", path: "/api/v1/schools/1/not-arrived-rule", body: map[string]any{"at": "08:30"},
			status: 403, rejected: true, field: "X-CSRF-Token"},
		{name: "set the not-arrived rule without credentials", method: "PUT", path: "/api/v1/schools/1/not-arrived-rule", body: map[string]any{"at": "08:30"}, status: 401, rejected: true},
	})
	// A time inside the shift: taken by a one-shift school, refused by one
	// with a second shift, whose pupils are not expected yet.
	status, field := 200, ""
	if len(shifts) > 1 {
		status, field = 422, "at"
	}
	h.runIn(t, []scenario{
		{name: "set the not-arrived rule", as: "director", method: "PUT", path: "/api/v1/schools/1/not-arrived-rule", body: map[string]any{"at": "08:40"}, status: status, field: field},
	})
	_ = k
}
