package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"

	"qorgan/internal/auth"
	"qorgan/internal/registry"
	"qorgan/internal/store/storetest"
	"qorgan/internal/testkit"
)

// The demo logins, one column each in the table below: the administrator,
// the ministry analyst, the education departments of school 1's region and
// of a district elsewhere, school 1's director and guard, the guard of
// school 2, the ПЦН and the ЦОУ on duty at school 1, and a guardian of a
// child of school 1.
var roleColumns = []string{"admin", "analyst", "region", "district", "director", "guard", "guard2", "pcn", "cou", "parent"}

// A decision is what one login gets from one request:
//
//	ok   allowed: a read answers its 2xx; a change is not sent (other tests
//	     make them), so that this test changes nothing
//	403  inside the login's scope, not allowed to the role
//	404  outside the login's scope: it does not exist for them
//	401  not a credential this route takes (a person at a device's route)
//
// A refused change is sent: being refused, it changes nothing.
type decision = string

// roleRow is one request and the decision for every login, in the order of
// roleColumns.
type roleRow struct {
	method, path string // the operation, as the OpenAPI document names it
	at           string // the request: path and query, ids filled in
	body         any
	ctype        string
	want         string // one decision per login, space-separated
}

// roleTable is the role × endpoint table: every operation of the OpenAPI
// document has a row, every row a decision for every login. {school1} is
// school 1 (the scope of director, guard, pcn and cou, inside region's,
// outside district's and guard2's), {child} the parent's child at school 1,
// {other} another pupil there, {device} a device there, {alarm} an open,
// not silent alarm there, {token} an API token of admin's, {job} an import
// director started.
func roleTable() []roleRow {
	const s1 = "/api/v1/schools/{school1}"
	return []roleRow{
		//                                                                               admin analyst region district director guard guard2 pcn cou parent
		{method: "GET", path: "/healthz", want: "ok ok ok ok ok ok ok ok ok ok"},
		{method: "GET", path: "/readyz", want: "ok ok ok ok ok ok ok ok ok ok"},
		// The server has no metrics token: the metrics are read from its own
		// machine (as this test does), with or without a session, and 404
		// from anywhere else (TestMetricsAccess).
		{method: "GET", path: "/metrics", want: "ok ok ok ok ok ok ok ok ok ok"},
		{method: "GET", path: "/api/v1/openapi.json", want: "ok ok ok ok ok ok ok ok ok ok"},

		// Signing in and out, tokens, who am I.
		{method: "POST", path: "/api/v1/session", want: "ok ok ok ok ok ok ok ok ok ok"},
		{method: "DELETE", path: "/api/v1/session", want: "ok ok ok ok ok ok ok ok ok ok"},
		{method: "GET", path: "/api/v1/me", want: "ok ok ok ok ok ok ok ok ok ok"},
		{method: "POST", path: "/api/v1/tokens", body: map[string]any{"name": "roles"}, want: "ok ok ok ok ok ok ok ok ok 403"},
		{method: "GET", path: "/api/v1/tokens", want: "ok ok ok ok ok ok ok ok ok ok"},
		{method: "DELETE", path: "/api/v1/tokens/{id}", at: "/api/v1/tokens/{token}", want: "ok 404 404 404 404 404 404 404 404 404"},

		// People and the audit trail: the administrator's.
		{method: "GET", path: "/api/v1/users", want: "ok 403 403 403 403 403 403 403 403 403"},
		{method: "POST", path: "/api/v1/users", body: map[string]any{"login": "roles.x", "password": "long-enough-1", "role": "guardian", "scope": map[string]string{"kind": "guardian", "ref": "1"}},
			want: "ok 403 403 403 403 403 403 403 403 403"},
		{method: "POST", path: "/api/v1/users/{login}/disable", at: "/api/v1/users/guard2/disable", want: "ok 403 403 403 403 403 403 403 403 403"},
		{method: "POST", path: "/api/v1/users/{login}/enable", at: "/api/v1/users/guard2/enable", want: "ok 403 403 403 403 403 403 403 403 403"},
		{method: "GET", path: "/api/v1/audit/verify", want: "ok 403 403 403 403 403 403 403 403 403"},
		{method: "GET", path: "/api/v1/audit", want: "ok 403 403 403 403 403 403 403 403 403"},

		// Reference data.
		{method: "GET", path: "/api/v1/regions", want: "ok ok ok ok ok ok ok ok ok ok"},
		{method: "GET", path: "/api/v1/regions/{code}/districts", at: "/api/v1/regions/{region}/districts", want: "ok ok ok ok ok ok ok ok ok ok"},

		// The registry of schools: every role but the guardian, each in its scope.
		{method: "GET", path: "/api/v1/schools", want: "ok ok ok ok ok ok ok ok ok 403"},
		{method: "POST", path: "/api/v1/schools", body: map[string]any{}, want: "ok 403 ok ok 403 403 403 403 403 403"},
		{method: "GET", path: "/api/v1/schools/{id}", at: s1, want: "ok ok ok 404 ok ok 404 ok ok 404"},
		{method: "GET", path: "/api/v1/schools/{id}/compliance", at: s1 + "/compliance", want: "ok ok ok 404 ok ok 404 ok ok 404"},
		{method: "GET", path: "/api/v1/schools/{id}/devices", at: s1 + "/devices", want: "ok ok ok 404 ok ok 404 ok ok 404"},
		{method: "POST", path: "/api/v1/schools/{id}/devices", at: s1 + "/devices", body: map[string]any{}, want: "ok 403 403 404 ok 403 404 403 403 404"},
		{method: "POST", path: "/api/v1/devices/{id}/credential", at: "/api/v1/devices/{device}/credential", want: "ok 403 403 404 ok 403 404 403 403 404"},
		{method: "GET", path: "/api/v1/schools/{id}/contracts", at: s1 + "/contracts", want: "ok ok ok 404 ok ok 404 ok ok 404"},
		// Staff's names and contacts: not the ministry's statistics.
		{method: "GET", path: "/api/v1/schools/{id}/staff", at: s1 + "/staff", want: "ok 403 ok 404 ok ok 404 ok ok 404"},
		{method: "POST", path: "/api/v1/schools/{id}/staff", at: s1 + "/staff", body: map[string]any{}, want: "ok 403 403 404 ok 403 404 403 403 404"},
		{method: "GET", path: "/api/v1/providers", want: "ok ok ok ok ok ok ok ok ok 403"},
		{method: "POST", path: "/api/v1/providers", body: map[string]any{}, want: "ok 403 ok ok 403 403 403 403 403 403"},
		{method: "POST", path: "/api/v1/contracts", body: map[string]any{}, want: "ok 403 ok ok 403 403 403 403 403 403"},
		{method: "GET", path: "/api/v1/police-units", want: "ok ok ok ok ok ok ok ok ok 403"},
		{method: "POST", path: "/api/v1/police-units", body: map[string]any{}, want: "ok 403 ok ok 403 403 403 403 403 403"},

		// Children: the school's director and guard (and the administrator);
		// a guardian their own child; nobody else, though the school is in
		// their scope.
		{method: "GET", path: "/api/v1/schools/{id}/pupils", at: s1 + "/pupils", want: "ok 403 403 404 ok ok 404 403 403 404"},
		{method: "POST", path: "/api/v1/schools/{id}/pupils", at: s1 + "/pupils", body: map[string]any{}, want: "ok 403 403 404 ok 403 404 403 403 404"},
		{method: "GET", path: "/api/v1/pupils/{id}", at: "/api/v1/pupils/{child}", want: "ok 403 403 404 ok ok 404 403 403 ok"},
		{method: "GET", path: "/api/v1/pupils/{id}", at: "/api/v1/pupils/{other}", want: "ok 403 403 404 ok ok 404 403 403 404"},
		{method: "PUT", path: "/api/v1/pupils/{id}", at: "/api/v1/pupils/{child}", body: map[string]any{}, want: "ok 403 403 404 ok 403 404 403 403 403"},
		{method: "PUT", path: "/api/v1/pupils/{id}", at: "/api/v1/pupils/{other}", body: map[string]any{}, want: "ok 403 403 404 ok 403 404 403 403 404"},
		{method: "DELETE", path: "/api/v1/pupils/{id}", at: "/api/v1/pupils/{child}", want: "ok 403 403 404 ok 403 404 403 403 403"},
		{method: "GET", path: "/api/v1/pupils/{id}/export", at: "/api/v1/pupils/{child}/export", want: "ok 403 403 404 ok 403 404 403 403 403"},
		{method: "GET", path: "/api/v1/pupils/{id}/access-log", at: "/api/v1/pupils/{child}/access-log", want: "ok 403 403 404 ok 403 404 403 403 403"},
		{method: "GET", path: "/api/v1/children", want: "403 403 403 403 403 403 403 403 403 ok"},
		{method: "GET", path: "/api/v1/me/channels", want: "403 403 403 403 403 403 403 403 403 ok"},
		{method: "PUT", path: "/api/v1/me/channels", body: map[string]any{"off": []string{}}, want: "403 403 403 403 403 403 403 403 403 ok"},
		{method: "DELETE", path: "/api/v1/me/consent", want: "403 403 403 403 403 403 403 403 403 ok"},
		// Web Push: the key is public; only guardians subscribe.
		{method: "GET", path: "/api/v1/push/vapid-public-key", want: "ok ok ok ok ok ok ok ok ok ok"},
		{method: "GET", path: "/api/v1/me/push-subscriptions", want: "403 403 403 403 403 403 403 403 403 ok"},
		{method: "POST", path: "/api/v1/me/push-subscriptions", body: map[string]any{}, want: "403 403 403 403 403 403 403 403 403 ok"},
		{method: "DELETE", path: "/api/v1/me/push-subscriptions", body: map[string]any{"endpoint": "https://push.example.net/x"}, want: "403 403 403 403 403 403 403 403 403 ok"},

		// Files in and out. A school's children leave as a file with its
		// director (or the administrator) only.
		{method: "POST", path: "/api/v1/imports", at: "/api/v1/imports?kind=pupils&format=csv", body: "school_code\n", ctype: "text/csv", want: "ok 403 403 403 ok 403 403 403 403 403"},
		{method: "POST", path: "/api/v1/imports", at: "/api/v1/imports?kind=schools&format=csv", body: "code\n", ctype: "text/csv", want: "ok 403 ok ok 403 403 403 403 403 403"},
		{method: "GET", path: "/api/v1/imports/{id}", at: "/api/v1/imports/{job}", want: "ok 404 404 404 ok 404 404 404 404 404"},
		{method: "GET", path: "/api/v1/exports/schools", want: "ok ok ok ok ok ok ok ok ok 403"},
		{method: "GET", path: "/api/v1/schools/{id}/pupils/export", at: s1 + "/pupils/export", want: "ok 403 403 404 ok 403 404 403 403 404"},

		// Alarms: the consoles that respond or supervise. The ministry reads
		// the scorecards, not incidents.
		{method: "GET", path: "/api/v1/alarms", want: "ok 403 ok ok ok ok ok ok ok 403"},
		{method: "GET", path: "/api/v1/alarms/stats", want: "ok ok ok ok ok ok ok ok ok 403"},
		{method: "GET", path: "/api/v1/alarms/{id}", at: "/api/v1/alarms/{alarm}", want: "ok 403 ok 404 ok ok 404 ok ok 404"},
		{method: "POST", path: "/api/v1/alarms/{id}/{step}", at: "/api/v1/alarms/{alarm}/acknowledge", want: "403 403 403 404 ok ok 404 ok ok 404"},
		{method: "GET", path: "/api/v1/live", want: "ok 403 ok ok ok ok ok ok ok 403"},
		{method: "POST", path: "/api/v1/schools/{id}/panic", at: s1 + "/panic", body: map[string]any{"request_id": "roles"}, want: "ok 403 403 404 ok ok 404 403 403 404"},
		{method: "POST", path: "/api/v1/device/events", body: map[string]any{"event_id": "roles", "type": "panic"}, want: "401 401 401 401 401 401 401 401 401 401"},

		// Attendance and the messages to parents: the school's own staff.
		{method: "POST", path: "/api/v1/device/passes", body: map[string]any{"events": []any{}}, want: "401 401 401 401 401 401 401 401 401 401"},
		{method: "POST", path: "/api/v1/schools/{id}/passes/manual", at: s1 + "/passes/manual", body: map[string]any{"pupil_id": "{child}", "direction": "in", "request_id": "roles"},
			want: "403 403 403 404 ok ok 404 403 403 404"},
		{method: "GET", path: "/api/v1/schools/{id}/rollcall", at: s1 + "/rollcall", want: "ok 403 403 404 ok ok 404 403 403 404"},
		{method: "GET", path: "/api/v1/schools/{id}/notifications", at: s1 + "/notifications", want: "ok 403 403 404 ok ok 404 403 403 404"},
		{method: "GET", path: "/api/v1/schools/{id}/not-arrived-rule", at: s1 + "/not-arrived-rule", want: "ok 403 403 404 ok ok 404 403 403 404"},
		{method: "PUT", path: "/api/v1/schools/{id}/not-arrived-rule", at: s1 + "/not-arrived-rule", body: map[string]any{"at": ""}, want: "ok 403 403 404 ok 403 404 403 403 404"},

		// The roadmap: every role that reads the registry reads its figures,
		// each over its own scope; places with snapshots are the nation, a
		// region, a district (a school, a ПЦН, a ЦОУ hold none: 404); the
		// administrator and the departments write targets and money in
		// their area, the administrator alone takes the nation's snapshot.
		{method: "GET", path: "/api/v1/indicators", want: "ok ok ok ok ok ok ok ok ok 403"},
		{method: "GET", path: "/api/v1/schools/{id}/gaps", at: s1 + "/gaps", want: "ok ok ok 404 ok ok 404 ok ok 404"},
		{method: "PUT", path: "/api/v1/schools/{id}/declaration", at: s1 + "/declaration", body: map[string]any{}, want: "ok 403 403 404 ok 403 404 403 403 404"},
		{method: "GET", path: "/api/v1/roadmap/rule-sets", want: "ok ok ok ok ok ok ok ok ok 403"},
		{method: "GET", path: "/api/v1/roadmap/snapshots", want: "ok ok ok ok 404 404 404 404 404 403"},
		{method: "POST", path: "/api/v1/roadmap/snapshots", want: "ok 403 403 403 403 403 403 403 403 403"},
		{method: "GET", path: "/api/v1/roadmap/targets", want: "ok ok ok ok ok ok ok ok ok 403"},
		{method: "POST", path: "/api/v1/roadmap/targets", body: map[string]any{"key": "video", "level": "nation", "share": 1, "deadline": "2030-12-31"},
			want: "ok 403 404 404 403 403 403 403 403 403"},
		{method: "GET", path: "/api/v1/roadmap/funding", want: "ok ok ok ok ok ok ok ok ok 403"},
		{method: "GET", path: "/api/v1/roadmap/documents/{kind}", at: "/api/v1/roadmap/documents/letter?format=txt", want: "ok ok ok ok ok ok ok ok ok 403"},
		// Almaty city: the region login's is another region.
		{method: "POST", path: "/api/v1/roadmap/allocations", body: map[string]any{"region_code": "750000000", "year": 2026, "purpose": "guard", "amount_tiyn": 100},
			want: "ok 403 404 404 403 403 403 403 403 403"},
		{method: "POST", path: "/api/v1/roadmap/spending", body: map[string]any{"school_id": "{school1}", "year": 2026, "purpose": "guard", "amount_tiyn": 100},
			want: "ok 403 ok 404 403 403 404 403 403 404"},

		// Emergency mode: {emergency} is a live lockdown the ЦОУ declared at
		// school 1, {reunion} a refused check-in in it.
		//                                                                               admin analyst region district director guard guard2 pcn cou parent
		{method: "POST", path: "/api/v1/emergencies", body: map[string]any{"school_ids": []int{1}, "mode": "lockdown", "scenario": "armed_attack"}, want: "403 403 403 404 ok ok 404 403 ok 404"},
		{method: "GET", path: "/api/v1/emergencies/{id}", at: "/api/v1/emergencies/{emergency}", want: "ok 403 ok 404 ok ok 404 ok ok 404"},
		{method: "POST", path: "/api/v1/emergencies/{id}/{action}", at: "/api/v1/emergencies/{emergency}/end", body: map[string]any{"reason": "all_clear"}, want: "403 403 403 404 ok 403 404 403 ok 404"},
		{method: "GET", path: "/api/v1/emergencies/{id}/rollcall", at: "/api/v1/emergencies/{emergency}/rollcall", want: "403 403 403 404 ok ok 404 ok ok 404"},
		{method: "POST", path: "/api/v1/emergencies/{id}/marks", at: "/api/v1/emergencies/{emergency}/marks", body: map[string]any{"marks": []any{map[string]any{"pupil_id": 1, "mark": "present"}}}, want: "403 403 403 404 ok ok 404 403 403 404"},
		{method: "GET", path: "/api/v1/emergencies/{id}/report", at: "/api/v1/emergencies/{emergency}/report", want: "ok 403 ok 404 ok ok 404 ok ok 404"},
		{method: "GET", path: "/api/v1/emergencies/{id}/alerts", at: "/api/v1/emergencies/{emergency}/alerts", want: "ok 403 ok 404 ok ok 404 ok ok 404"},
		{method: "GET", path: "/api/v1/emergencies/{id}/reunions", at: "/api/v1/emergencies/{emergency}/reunions", want: "403 403 403 404 ok ok 404 403 403 404"},
		{method: "POST", path: "/api/v1/emergencies/{id}/reunions", at: "/api/v1/emergencies/{emergency}/reunions", body: map[string]any{"pupil_id": "{child}", "id_document": "X1", "full_name": "A"}, want: "403 403 403 404 ok ok 404 403 403 404"},
		{method: "POST", path: "/api/v1/emergencies/{id}/reunions/{reunion}/{action}", at: "/api/v1/emergencies/{emergency}/reunions/{reunion}/runner", body: map[string]any{"runner": "R"}, want: "403 403 403 404 ok ok 404 403 403 404"},
		{method: "GET", path: "/api/v1/emergency-proposals", want: "403 403 403 403 ok 403 403 ok ok 403"},
		{method: "POST", path: "/api/v1/emergency-proposals/{id}", at: "/api/v1/emergency-proposals/{alarm}", body: map[string]any{}, want: "403 403 403 404 ok 403 404 ok ok 404"},
		{method: "GET", path: "/api/v1/me/reunions", want: "403 403 403 403 403 403 403 403 403 ok"},
		{method: "GET", path: "/api/v1/schools/{id}/drills", at: s1 + "/drills", want: "ok 403 ok 404 ok ok 404 ok ok 404"},
		// A staff member's code from their message, and nothing else.
		{method: "GET", path: "/api/v1/emergency-staff/checklist", want: "401 401 401 401 401 401 401 401 401 401"},
		{method: "POST", path: "/api/v1/emergency-staff/checklist/{step}", at: "/api/v1/emergency-staff/checklist/1", want: "401 401 401 401 401 401 401 401 401 401"},
		{method: "POST", path: "/api/v1/emergency-staff/marks", body: map[string]any{"marks": []any{map[string]any{"pupil_id": 1, "mark": "present"}}}, want: "401 401 401 401 401 401 401 401 401 401"},
		{method: "POST", path: "/api/v1/emergency-staff/secured", want: "401 401 401 401 401 401 401 401 401 401"},
		{method: "PUT", path: "/api/v1/staff/{id}/homeroom", at: "/api/v1/staff/{staff}/homeroom", body: map[string]any{"class": "1А", "language": "kk"}, want: "ok 403 403 404 ok 403 404 403 403 404"},
		{method: "PUT", path: "/api/v1/guardians/{id}/id-document", at: "/api/v1/guardians/{guardian}/id-document", body: map[string]any{"id_document": "N1"}, want: "ok 403 403 404 ok 403 404 403 403 404"},
		{method: "POST", path: "/api/v1/pupils/{id}/court-orders", at: "/api/v1/pupils/{child}/court-orders", body: map[string]any{"id_document": "C1"}, want: "ok 403 403 404 ok 403 404 403 403 404"},
		{method: "PUT", path: "/api/v1/schools/{id}/drill-plan", at: s1 + "/drill-plan", body: map[string]any{"year": "2026-2027", "practical": 1, "briefings": 2}, want: "ok 403 ok 404 ok 403 404 403 403 404"},
		{method: "POST", path: "/api/v1/schools/{id}/briefings", at: s1 + "/briefings", body: map[string]any{"held_on": "2026-11-01", "topic": "t"}, want: "ok 403 ok 404 ok 403 404 403 403 404"},
	}
}

// TestWhoSeesWhat holds every operation of the OpenAPI document, for every
// demo login, to the decision in roleTable: an operation added without a
// decision, a decision for an operation that is gone, a login added to the
// demo without a column, and any answer other than the decision fail.
func TestWhoSeesWhat(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the demo")
	}
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	db := storetest.SQLite(t)
	a := auth.New(db)
	res := testkit.Demo(t, db, a, 0.002)
	srv := wired(t, db, a, registry.New(db, a), quiet)
	live := httptest.NewServer(srv.Handler())
	defer live.Close()

	// The document the server serves is the list of what must be decided.
	resp, err := live.Client().Get(live.URL + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	served, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	doc, err := openapi3.NewLoader().LoadFromData(served)
	if err != nil {
		t.Fatalf("the served document: %v", err)
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, router: router, live: live, sessions: map[string]*session{}, tokens: map[string]string{}, hit: map[string]bool{}}

	var logins []string
	for _, l := range res.Logins {
		logins = append(logins, l.Login)
		h.signIn(l.Login, l.Login)
	}
	slices.Sort(logins)
	cols := slices.Sorted(slices.Values(roleColumns))
	if !slices.Equal(logins, cols) {
		t.Fatalf("the demo's logins are %v, the table's columns %v: decide for every login", logins, cols)
	}

	// The ids the table's requests name, learnt through the API.
	ids := map[string]string{"{school1}": "1", "{region}": h.sessions["region"].who.Scope.Ref}
	h.run(t, scenario{name: "school 1", as: "admin", method: "GET", path: "/api/v1/schools/1", status: 200, check: func(t *testing.T, r result) {
		m := r.json(t)
		if m["region_code"] != ids["{region}"] || m["district_code"] == h.sessions["district"].who.Scope.Ref {
			t.Fatalf("the table takes school 1 to be in the region login's region and outside the district login's district: %s", r.body)
		}
	}})
	h.run(t, scenario{name: "the parent's child", as: "parent", method: "GET", path: "/api/v1/children", status: 200, check: func(t *testing.T, r result) {
		for _, c := range r.items(t) {
			if num(c["school_id"]) == 1 {
				ids["{child}"] = fmt.Sprint(num(c["id"]))
			}
		}
	}})
	h.run(t, scenario{name: "another pupil", as: "admin", method: "GET", path: "/api/v1/schools/1/pupils?limit=10", status: 200, check: func(t *testing.T, r result) {
		for _, p := range r.items(t) {
			if id := fmt.Sprint(num(p["id"])); id != ids["{child}"] {
				ids["{other}"] = id
			}
		}
	}})
	h.run(t, scenario{name: "a device", as: "admin", method: "GET", path: "/api/v1/schools/1/devices", status: 200, check: func(t *testing.T, r result) {
		ids["{device}"] = fmt.Sprint(num(r.items(t)[0]["id"]))
	}})
	h.run(t, scenario{name: "an alarm", as: "guard", method: "POST", path: "/api/v1/schools/1/panic", body: map[string]any{"request_id": "roles-alarm"}, status: 202})
	h.run(t, scenario{name: "the alarm", as: "admin", method: "GET", path: "/api/v1/alarms", status: 200, check: func(t *testing.T, r result) {
		for _, a := range r.items(t) {
			if num(a["school_id"]) == 1 && a["silent"] == false {
				ids["{alarm}"] = fmt.Sprint(num(a["id"]))
			}
		}
	}})
	h.run(t, scenario{name: "a token", as: "admin", method: "POST", path: "/api/v1/tokens", body: map[string]any{"name": "roles"}, status: 201, check: func(t *testing.T, r result) {
		ids["{token}"] = fmt.Sprint(num(r.json(t)["id"]))
	}})
	h.run(t, scenario{name: "a job", as: "director", method: "POST", path: "/api/v1/imports?kind=pupils&format=csv", body: "school_code\n", ctype: "text/csv", status: 202, check: func(t *testing.T, r result) {
		id := num(r.json(t)["id"])
		ids["{job}"] = fmt.Sprint(id)
		if err := srv.Jobs.Wait(ctx, id); err != nil {
			t.Fatal(err)
		}
	}})
	ids["{guardian}"] = h.sessions["parent"].who.Scope.Ref
	h.run(t, scenario{name: "a staff member", as: "admin", method: "GET", path: "/api/v1/schools/1/staff", status: 200, check: func(t *testing.T, r result) {
		ids["{staff}"] = fmt.Sprint(num(r.items(t)[0]["id"]))
	}})
	h.run(t, scenario{name: "an emergency", as: "cou", method: "POST", path: "/api/v1/emergencies", body: map[string]any{"school_ids": []int{1}, "mode": "lockdown", "scenario": "armed_attack"},
		status: 201, check: func(t *testing.T, r result) { ids["{emergency}"] = fmt.Sprint(num(r.items(t)[0]["id"])) }})
	h.run(t, scenario{name: "a refused check-in", as: "guard", method: "POST", path: "/api/v1/emergencies/" + ids["{emergency}"] + "/reunions",
		body: map[string]any{"pupil_id": childID(ids), "id_document": "X1", "full_name": "A"}, status: 409, field: "id_document"})
	h.run(t, scenario{name: "the reunion", as: "director", method: "GET", path: "/api/v1/emergencies/" + ids["{emergency}"] + "/reunions", status: 200, check: func(t *testing.T, r result) {
		ids["{reunion}"] = fmt.Sprint(num(r.items(t)[0]["id"]))
	}})
	for _, k := range []string{"{child}", "{other}", "{device}", "{alarm}", "{token}", "{job}", "{emergency}", "{reunion}", "{staff}", "{guardian}"} {
		if ids[k] == "" || ids[k] == "0" {
			t.Fatalf("the demo gave no %s (%v)", k, ids)
		}
	}
	fill := func(s string) string {
		for k, v := range ids {
			s = strings.ReplaceAll(s, k, v)
		}
		return s
	}

	// Every operation has a decision, and every decision an operation.
	decided := map[string]bool{}
	for _, row := range roleTable() {
		op := row.method + " " + row.path
		decided[op] = true
		if item := doc.Paths.Value(row.path); item == nil || item.GetOperation(row.method) == nil {
			t.Errorf("the table decides %s, which the document does not describe", op)
		}
		if n := len(strings.Fields(row.want)); n != len(roleColumns) {
			t.Errorf("%s %s: %d decisions for %d logins", op, row.at, n, len(roleColumns))
		}
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !decided[method+" "+path] {
				t.Errorf("%s %s has no row in the role × endpoint table: decide what each role gets", method, path)
			}
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	for _, row := range roleTable() {
		at := row.at
		if at == "" {
			at = row.path
		}
		at = fill(at)
		body := row.body
		if m, ok := body.(map[string]any); ok {
			body = fillBody(m, fill)
		}
		for i, want := range strings.Fields(row.want) {
			login := roleColumns[i]
			if want == "ok" && row.method != http.MethodGet {
				continue // allowed; the change is made by the scenario tests
			}
			t.Run(fmt.Sprintf("%s %s as %s", row.method, at, login), func(t *testing.T) {
				sc := scenario{name: login, as: login, method: row.method, path: at, body: body, ctype: row.ctype}
				if row.method == http.MethodGet && row.path == "/api/v1/live" && want == "ok" {
					h.stream(t, sc).close()
					return
				}
				got := answer(t, h, row.path, sc)
				switch {
				case want == "ok" && (got < 200 || got > 299):
					t.Errorf("%s %s as %s: %d, want it allowed", row.method, at, login, got)
				case want != "ok" && strconv.Itoa(got) != want:
					t.Errorf("%s %s as %s: %d, want %s", row.method, at, login, got, want)
				}
			})
		}
	}
}

// fillBody puts the ids into a request body's string values.
func fillBody(m map[string]any, fill func(string) string) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if s, ok := v.(string); ok && strings.HasPrefix(s, "{") {
			n, _ := strconv.ParseInt(fill(s), 10, 64)
			out[k] = n
			continue
		}
		out[k] = v
	}
	return out
}

// answer sends the scenario's request and returns the status, having
// checked the answer against the document: a refusal must be one the
// operation documents.
func answer(t *testing.T, h *harness, path string, sc scenario) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	vreq := h.request(t, sc)
	route, params, err := h.router.FindRoute(vreq)
	if err != nil || route.Path != path {
		t.Fatalf("%s %s is not %s in the document (%v)", sc.method, sc.path, path, err)
	}
	resp, err := h.live.Client().Do(h.request(t, sc).WithContext(ctx))
	if err != nil {
		t.Fatalf("%s %s: %v", sc.method, sc.path, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("%s %s: %d, and the body did not end: %v", sc.method, sc.path, resp.StatusCode, err)
	}
	reqIn := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: authenticate}}
	respIn := &openapi3filter.ResponseValidationInput{RequestValidationInput: reqIn, Status: resp.StatusCode, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(body)), Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
	if err := openapi3filter.ValidateResponse(ctx, respIn); err != nil {
		t.Errorf("the answer does not match the document: %v\nstatus %d, body: %s", err, resp.StatusCode, clip(body))
	}
	return resp.StatusCode
}

// childID is the parent's child's id, as a number.
func childID(ids map[string]string) int64 {
	n, _ := strconv.ParseInt(ids["{child}"], 10, 64)
	return n
}
