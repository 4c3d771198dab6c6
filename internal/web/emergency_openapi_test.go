package web_test

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	"qorgan/internal/emergency"
	"qorgan/internal/store"
)

// emergencyScenarios: a panic proposes an emergency that the ПЦН confirms
// as a drill; it is changed to an evacuation, marked, a child reunified
// with their guardian (an unknown adult refused), reported and ended; a
// director's declaration waits for its confirmation; the school year's
// drills show it.
func emergencyScenarios(t *testing.T, h *harness, db *store.DB) {
	var child int64
	h.run(t, scenario{name: "the parent's child", as: "parent", method: "GET", path: "/api/v1/children", status: 200, check: func(t *testing.T, r result) {
		for _, c := range r.items(t) {
			if num(c["school_id"]) == 1 {
				child = num(c["id"])
			}
		}
	}})
	guardian := h.sessions["parent"].who.Scope.ID()
	// A teacher of the child's class, whose code comes in their message.
	var teacher int64
	var other int64 // a pupil of another class
	var class string
	q := db.Reader()
	ctx := context.Background()
	if err := q.QueryRowContext(ctx, "SELECT MIN(id) FROM staff WHERE school_id = 1 AND position = 'teacher'").Scan(&teacher); err != nil {
		t.Fatal(err)
	}
	if err := q.QueryRowContext(ctx, "SELECT class FROM pupils WHERE id = ?", child).Scan(&class); err != nil {
		t.Fatal(err)
	}
	if err := q.QueryRowContext(ctx, "SELECT MIN(id) FROM pupils WHERE school_id = 1 AND class <> ?", class).Scan(&other); err != nil {
		t.Fatal(err)
	}
	year := emergency.SchoolYear(time.Now())
	h.runIn(t, []scenario{
		{name: "a teacher's class", as: "director", method: "PUT", path: fmt.Sprintf("/api/v1/staff/%d/homeroom", teacher), body: map[string]any{"class": class, "language": "kk"}, status: 200, check: fieldIs("class", class)},
		{name: "a teacher's class as guard", as: "guard", method: "PUT", path: fmt.Sprintf("/api/v1/staff/%d/homeroom", teacher), body: map[string]any{"class": class, "language": "kk"}, status: 403},
		{name: "a class in no language", as: "director", method: "PUT", path: fmt.Sprintf("/api/v1/staff/%d/homeroom", teacher), body: map[string]any{"class": class, "language": "de"}, status: 422, field: "language", rejected: true},
		{name: "the guardian's document", as: "director", method: "PUT", path: fmt.Sprintf("/api/v1/guardians/%d/id-document", guardian), body: map[string]any{"id_document": "N0123"}, status: 200},
		{name: "the guardian's document as guard", as: "guard", method: "PUT", path: fmt.Sprintf("/api/v1/guardians/%d/id-document", guardian), body: map[string]any{"id_document": "N0123"}, status: 403},
		{name: "a court order", as: "director", method: "POST", path: fmt.Sprintf("/api/v1/pupils/%d/court-orders", child), body: map[string]any{"id_document": "C999", "full_name": "Бөгде", "note": "решение суда\nот 1 марта"}, status: 201},
		{name: "a court order as guard2", as: "guard2", method: "POST", path: fmt.Sprintf("/api/v1/pupils/%d/court-orders", child), body: map[string]any{"id_document": "C999"}, status: 404},
		{name: "a drill plan", as: "region", method: "PUT", path: "/api/v1/schools/1/drill-plan", body: map[string]any{"year": year, "practical": 1, "briefings": 0}, status: 200},
		{name: "a drill plan as guard", as: "guard", method: "PUT", path: "/api/v1/schools/1/drill-plan", body: map[string]any{"year": year, "practical": 1, "briefings": 0}, status: 403},
		{name: "a drill plan of no year", as: "director", method: "PUT", path: "/api/v1/schools/1/drill-plan", body: map[string]any{"year": "2026", "practical": 1, "briefings": 0}, status: 422, field: "year", rejected: true},
		{name: "a briefing", as: "director", method: "POST", path: "/api/v1/schools/1/briefings", body: map[string]any{"held_on": time.Now().UTC().Format(time.DateOnly), "topic": "Инструктаж"}, status: 201},
		{name: "a briefing tomorrow", as: "director", method: "POST", path: "/api/v1/schools/1/briefings", body: map[string]any{"held_on": time.Now().AddDate(0, 0, 2).Format(time.DateOnly), "topic": "x"}, status: 422, field: "held_on"},
	})
	h.run(t, scenario{name: "a panic", as: "guard", method: "POST", path: "/api/v1/schools/1/panic", body: map[string]any{"request_id": "emergency-1"}, status: 202})
	var alarm int64
	h.run(t, scenario{name: "proposals", as: "pcn", method: "GET", path: "/api/v1/emergency-proposals", status: 200, check: hasItems(1, func(t *testing.T, p map[string]any) {
		a := p["alarm"].(map[string]any)
		if num(a["school_id"]) == 1 && num(a["id"]) > alarm {
			alarm = num(a["id"])
		}
	})})
	prop := fmt.Sprintf("/api/v1/emergency-proposals/%d", alarm)
	var id int64
	h.runIn(t, []scenario{
		{name: "proposals as guard", as: "guard", method: "GET", path: "/api/v1/emergency-proposals", status: 403},
		{name: "confirm as guard", as: "guard", method: "POST", path: prop, body: map[string]any{}, status: 403},
		{name: "confirm as guard2", as: "guard2", method: "POST", path: prop, body: map[string]any{}, status: 404},
		{name: "confirm with a bad mode", as: "pcn", method: "POST", path: prop, body: map[string]any{"mode": "panic"}, status: 422, field: "mode", rejected: true},
	})
	h.run(t, scenario{name: "confirm as pcn", as: "pcn", method: "POST", path: prop, body: map[string]any{"drill": true}, status: 201, check: func(t *testing.T, r result) {
		m := r.json(t)
		if m["state"] != "live" || m["drill"] != true || num(m["alarm_id"]) != alarm {
			t.Fatalf("confirmed: %s", r.body)
		}
		id = num(m["id"])
	}})
	at := func(s string) string { return fmt.Sprintf("/api/v1/emergencies/%d%s", id, s) }
	var body string
	if err := db.Reader().QueryRowContext(context.Background(), "SELECT body FROM outbox WHERE idempotency_key LIKE ?", fmt.Sprintf("emergency/%d/step/%%/staff/%d/sms", id, teacher)).Scan(&body); err != nil {
		t.Fatal(err)
	}
	code := map[string]string{"Authorization": "Bearer " + regexp.MustCompile(`qe_[a-z2-7]+`).FindString(body)}
	h.runIn(t, []scenario{
		{name: "the teacher's checklist", header: code, method: "GET", path: "/api/v1/emergency-staff/checklist", status: 200, check: fieldIs("role", "teacher")},
		{name: "a wrong code", header: map[string]string{"Authorization": "Bearer qe_nope"}, method: "GET", path: "/api/v1/emergency-staff/checklist", status: 401},
		{name: "tick", header: code, method: "POST", path: "/api/v1/emergency-staff/checklist/1", status: 200},
		{name: "tick step 99", header: code, method: "POST", path: "/api/v1/emergency-staff/checklist/99", status: 422, field: "step"},
		{name: "mark my class", header: code, method: "POST", path: "/api/v1/emergency-staff/marks", body: map[string]any{"marks": []any{map[string]any{"pupil_id": child, "mark": "present"}}}, status: 200, check: fieldIs("marked", 1)},
		{name: "mark another class", header: code, method: "POST", path: "/api/v1/emergency-staff/marks", body: map[string]any{"marks": []any{map[string]any{"pupil_id": other, "mark": "present"}}}, status: 422, field: "marks/0/pupil_id"},
		{name: "secured", header: code, method: "POST", path: "/api/v1/emergency-staff/secured", status: 200},
	})
	var reunion int64
	h.runIn(t, []scenario{
		{name: "get", as: "director", method: "GET", path: at(""), status: 200, check: fieldIs("mode", "lockdown")},
		{name: "get as analyst", as: "analyst", method: "GET", path: at(""), status: 403},
		{name: "get as guard2", as: "guard2", method: "GET", path: at(""), status: 404},
		{name: "confirm a live one", as: "guard", method: "POST", path: at("/confirm"), status: 409},
		{name: "evacuate without a place", as: "guard", method: "POST", path: at("/change"), body: map[string]any{"mode": "evacuate"}, status: 422, field: "place"},
		{name: "evacuate", as: "guard", method: "POST", path: at("/change"), body: map[string]any{"mode": "evacuate", "place": "Стадион"}, status: 200, check: fieldIs("place", "Стадион")},
		{name: "change as pcn", as: "pcn", method: "POST", path: at("/change"), body: map[string]any{"mode": "hold"}, status: 403},
		{name: "an unknown action", as: "guard", method: "POST", path: at("/bogus"), status: 404},
		{name: "rollcall", as: "cou", method: "GET", path: at("/rollcall"), status: 200},
		{name: "rollcall as region", as: "region", method: "GET", path: at("/rollcall"), status: 403},
		{name: "mark", as: "guard", method: "POST", path: at("/marks"), body: map[string]any{"marks": []any{map[string]any{"pupil_id": child, "mark": "present"}}}, status: 200},
		{name: "mark a bad mark", as: "guard", method: "POST", path: at("/marks"), body: map[string]any{"marks": []any{map[string]any{"pupil_id": child, "mark": "gone"}}}, status: 422, field: "marks/0/mark", rejected: true},
		{name: "mark as cou", as: "cou", method: "POST", path: at("/marks"), body: map[string]any{"marks": []any{map[string]any{"pupil_id": child, "mark": "present"}}}, status: 403},
		{name: "an unknown adult", as: "guard", method: "POST", path: at("/reunions"), body: map[string]any{"pupil_id": child, "id_document": "X999", "full_name": "Бөгде"}, status: 409, field: "id_document"},
		{name: "no document", as: "guard", method: "POST", path: at("/reunions"), body: map[string]any{"pupil_id": child, "id_document": "", "full_name": "Parent"}, status: 422, field: "id_document"},
		{name: "a pupil not on the roll-call", as: "guard", method: "POST", path: at("/reunions"), body: map[string]any{"pupil_id": 999999, "id_document": "N0123", "full_name": "Parent"}, status: 404, field: "pupil_id"},
		{name: "check in as pcn", as: "pcn", method: "POST", path: at("/reunions"), body: map[string]any{"pupil_id": child, "id_document": "N0123", "full_name": "Parent"}, status: 403},
	})
	h.run(t, scenario{name: "the guardian checks in", as: "guard", method: "POST", path: at("/reunions"), body: map[string]any{"pupil_id": child, "id_document": "n 0123", "full_name": "Parent"},
		status: 201, check: func(t *testing.T, r result) {
			m := r.json(t)
			if m["state"] != "waiting" || num(m["guardian_id"]) != guardian {
				t.Fatalf("checked in: %s", r.body)
			}
			reunion = num(m["id"])
		}})
	ra := func(action string) string { return at(fmt.Sprintf("/reunions/%d/%s", reunion, action)) }
	h.runIn(t, []scenario{
		{name: "who waits", as: "director", method: "GET", path: at("/reunions"), status: 200, check: hasItems(2, nil)},
		{name: "who waits as cou", as: "cou", method: "GET", path: at("/reunions"), status: 403},
		{name: "the guardian's view", as: "parent", method: "GET", path: "/api/v1/me/reunions", status: 200, check: hasItems(1, func(t *testing.T, it map[string]any) {
			if it["state"] != "waiting" {
				t.Fatalf("the guardian sees %v", it)
			}
		})},
		{name: "my reunions as guard", as: "guard", method: "GET", path: "/api/v1/me/reunions", status: 403},
		{name: "runner without a name", as: "guard", method: "POST", path: ra("runner"), body: map[string]any{}, status: 422, field: "runner"},
		{name: "runner", as: "guard", method: "POST", path: ra("runner"), body: map[string]any{"runner": "Иванова А."}, status: 200, check: fieldIs("state", "fetching")},
		{name: "release", as: "director", method: "POST", path: ra("release"), status: 200, check: fieldIs("state", "released")},
		{name: "release again", as: "director", method: "POST", path: ra("release"), status: 409},
		{name: "release as guard2", as: "guard2", method: "POST", path: ra("release"), status: 404},
		{name: "report", as: "region", method: "GET", path: at("/report"), status: 200, check: func(t *testing.T, r result) {
			m := r.json(t)
			if num(m["released"]) != 1 || num(m["refused"]) != 1 || len(m["steps"].([]any)) != 2 {
				t.Fatalf("report: %s", clip(r.body))
			}
		}},
		{name: "end as guard", as: "guard", method: "POST", path: at("/end"), body: map[string]any{"reason": "all_clear"}, status: 403},
		{name: "end without a reason", as: "director", method: "POST", path: at("/end"), body: map[string]any{}, status: 422, field: "reason"},
		{name: "end", as: "director", method: "POST", path: at("/end"), body: map[string]any{"reason": "all_clear"}, status: 200, check: fieldIs("state", "ended")},
		{name: "a code after the end", header: code, method: "POST", path: "/api/v1/emergency-staff/secured", status: 409},
		{name: "change an ended one", as: "cou", method: "POST", path: at("/change"), body: map[string]any{"mode": "hold"}, status: 409},
		{name: "drills", as: "region", method: "GET", path: "/api/v1/schools/1/drills", status: 200, check: func(t *testing.T, r result) {
			m := r.json(t)
			if num(m["practical_done"]) != 1 || len(m["drills"].([]any)) != 1 {
				t.Fatalf("drills: %s", clip(r.body))
			}
		}},
		{name: "drills of a bad year", as: "region", method: "GET", path: "/api/v1/schools/1/drills?year=2026", status: 422, field: "year", rejected: true},
		{name: "drills as analyst", as: "analyst", method: "GET", path: "/api/v1/schools/1/drills", status: 403},
		{name: "drills of another school", as: "guard2", method: "GET", path: "/api/v1/schools/1/drills", status: 404},
		{name: "declare as analyst", as: "analyst", method: "POST", path: "/api/v1/emergencies", body: map[string]any{"school_ids": []int{1}, "mode": "hold", "scenario": "other"}, status: 403},
		{name: "declare elsewhere", as: "guard2", method: "POST", path: "/api/v1/emergencies", body: map[string]any{"school_ids": []int{1}, "mode": "hold", "scenario": "other"}, status: 404},
		{name: "declare a bad mode", as: "director", method: "POST", path: "/api/v1/emergencies", body: map[string]any{"school_ids": []int{1}, "mode": "panic", "scenario": "other"}, status: 422, field: "mode", rejected: true},
	})
	var second int64
	h.run(t, scenario{name: "declare as director", as: "director", method: "POST", path: "/api/v1/emergencies", body: map[string]any{"school_ids": []int{1}, "mode": "hold", "scenario": "other"},
		status: 201, check: hasItems(1, func(t *testing.T, e map[string]any) {
			if e["state"] != "pending" {
				t.Fatalf("from the school: %v", e)
			}
			second = num(e["id"])
		})})
	h.runIn(t, []scenario{
		{name: "confirm", as: "director", method: "POST", path: fmt.Sprintf("/api/v1/emergencies/%d/confirm", second), status: 200, check: fieldIs("state", "live")},
		{name: "a false alarm", as: "cou", method: "POST", path: fmt.Sprintf("/api/v1/emergencies/%d/end", second), body: map[string]any{"reason": "false_alarm"}, status: 200, check: fieldIs("end_reason", "false_alarm")},
	})
}
