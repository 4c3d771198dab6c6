package web_test

import (
	"fmt"
	"strings"
	"testing"
)

// roadmapScenarios: the roadmap's routes answer as documented, each over
// the caller's scope, and refuse bad input naming the field.
func roadmapScenarios(t *testing.T, h *harness, k known) {
	indicator := func(key string, check func(t *testing.T, in map[string]any)) func(t *testing.T, r result) {
		return func(t *testing.T, r result) {
			t.Helper()
			ins, _ := r.json(t)["indicators"].([]any)
			for _, x := range ins {
				if in := x.(map[string]any); in["key"] == key {
					check(t, in)
					return
				}
			}
			t.Errorf("no indicator %s: %s", key, r.body)
		}
	}
	h.runIn(t, []scenario{
		{name: "indicators of the nation", as: "analyst", method: "GET", path: "/api/v1/indicators", status: 200, check: func(t *testing.T, r result) {
			m := r.json(t)
			if m["level"] != "nation" || len(m["parts"].([]any)) < 2 {
				t.Errorf("the nation: %s", r.body)
			}
			indicator("drill", func(t *testing.T, in map[string]any) {
				if in["measured"] != false || in["share"] != nil {
					t.Errorf("drill: %v", in)
				}
			})(t, r)
		}},
		{name: "indicators of the region's own", as: "region", method: "GET", path: "/api/v1/indicators", status: 200, check: fieldIs("code", k.region)},
		{name: "indicators of another region", as: "region", method: "GET", path: "/api/v1/indicators?region=" + k.otherRegion, status: 404},
		{name: "indicators of two places", as: "analyst", method: "GET", path: "/api/v1/indicators?region=" + k.region + "&school=1", status: 422, field: "school"},
		{name: "indicators of a school", as: "director", method: "GET", path: "/api/v1/indicators?school=1", status: 200, check: fieldIs("level", "school")},
		{name: "indicators as a parent", as: "parent", method: "GET", path: "/api/v1/indicators", status: 403},
		{name: "gaps of school 1", as: "director", method: "GET", path: "/api/v1/schools/1/gaps", status: 200, check: func(t *testing.T, r result) {
			m := r.json(t)
			if m["school_id"] != float64(1) || len(m["items"].([]any)) != 9 {
				t.Errorf("school 1: %s", r.body)
			}
		}},
		{name: "gaps of another school", as: "guard", method: "GET", path: "/api/v1/schools/2/gaps", status: 404},
		{name: "declare", as: "director", method: "PUT", path: "/api/v1/schools/1/declaration", body: map[string]any{"cou_connected": true, "video_standard": true, "archive_days": 30}, status: 200,
			check: fieldIs("archive_days", 30)},
		{name: "declare a negative archive", as: "director", method: "PUT", path: "/api/v1/schools/1/declaration", body: map[string]any{"archive_days": -1}, status: 422, rejected: true, field: "archive_days"},
		{name: "rule sets", as: "guard", method: "GET", path: "/api/v1/roadmap/rule-sets", status: 200, check: hasItems(2, nil)},
		{name: "take a snapshot", as: "admin", method: "POST", path: "/api/v1/roadmap/snapshots", status: 201, check: fieldIs("origin", "live")},
		{name: "take a snapshot as a department", as: "region", method: "POST", path: "/api/v1/roadmap/snapshots", status: 403},
		{name: "snapshots of the nation", as: "analyst", method: "GET", path: "/api/v1/roadmap/snapshots", status: 200, check: hasItems(3, nil)},
		{name: "snapshots of the nation as a department", as: "region", method: "GET", path: "/api/v1/roadmap/snapshots?nation=1", status: 404},
		{name: "set a target", as: "region", method: "POST", path: "/api/v1/roadmap/targets", body: map[string]any{"key": "turnstiles", "level": "region", "code": k.region, "share": 1, "deadline": "2027-12-31"},
			status: 201, check: fieldIs("key", "turnstiles")},
		{name: "set it again", as: "region", method: "POST", path: "/api/v1/roadmap/targets", body: map[string]any{"key": "turnstiles", "level": "region", "code": k.region, "share": 1, "deadline": "2027-12-31"},
			status: 409, field: "deadline"},
		{name: "set a target above 100%", as: "admin", method: "POST", path: "/api/v1/roadmap/targets", body: map[string]any{"key": "video", "level": "nation", "share": 1.2, "deadline": "2027-12-31"},
			status: 422, field: "share"},
		{name: "targets", as: "region", method: "GET", path: "/api/v1/roadmap/targets", status: 200, check: hasItems(1, func(t *testing.T, it map[string]any) {
			if it["verdict"] != "not enough history" && it["verdict"] != "reached" {
				t.Errorf("one snapshot: %v", it)
			}
		})},
		{name: "allocate", as: "region", method: "POST", path: "/api/v1/roadmap/allocations", body: map[string]any{"region_code": k.region, "year": 2026, "purpose": "turnstiles", "amount_tiyn": 150_000_000_00},
			status: 201, check: fieldIs("amount_tiyn", 1.5e10)},
		{name: "allocate a negative amount", as: "region", method: "POST", path: "/api/v1/roadmap/allocations", body: map[string]any{"region_code": k.region, "year": 2026, "purpose": "turnstiles", "amount_tiyn": -1},
			status: 422, field: "amount_tiyn"},
		{name: "allocate to an unknown region", as: "admin", method: "POST", path: "/api/v1/roadmap/allocations", body: map[string]any{"region_code": "990000000", "year": 2026, "purpose": "turnstiles", "amount_tiyn": 1},
			status: 422, field: "region_code"},
		{name: "allocate in 1999", as: "admin", method: "POST", path: "/api/v1/roadmap/allocations", body: map[string]any{"region_code": k.region, "year": 1999, "purpose": "turnstiles", "amount_tiyn": 1},
			status: 422, field: "year"},
		{name: "allocate another region's", as: "region", method: "POST", path: "/api/v1/roadmap/allocations", body: map[string]any{"region_code": k.otherRegion, "year": 2026, "purpose": "turnstiles", "amount_tiyn": 1},
			status: 404},
		{name: "spend", as: "region", method: "POST", path: "/api/v1/roadmap/spending", body: map[string]any{"school_id": 1, "year": 2026, "purpose": "turnstiles", "amount_tiyn": 120_000_000_00},
			status: 201, check: fieldIs("school_id", 1)},
		{name: "spend at a school out of scope", as: "district", method: "POST", path: "/api/v1/roadmap/spending", body: map[string]any{"school_id": 1, "year": 2026, "purpose": "turnstiles", "amount_tiyn": 1},
			status: 404, field: "school_id"},
		{name: "funding", as: "region", method: "GET", path: "/api/v1/roadmap/funding?year=2026", status: 200, check: func(t *testing.T, r result) {
			regions, _ := r.json(t)["regions"].([]any)
			if len(regions) != 1 || fmt.Sprint(regions[0].(map[string]any)["allocated_total_tiyn"]) != "1.5e+10" {
				t.Errorf("funding: %s", r.body)
			}
		}},
		{name: "funding of 1999", as: "analyst", method: "GET", path: "/api/v1/roadmap/funding?year=1999", status: 422, field: "year"},
		{name: "the letter in Kazakh", as: "analyst", method: "GET", path: "/api/v1/roadmap/documents/letter?lang=kk&format=txt", status: 200, check: func(t *testing.T, r result) {
			if !strings.Contains(string(r.body), "ДЗ-237") || !strings.Contains(string(r.body), "Qorgan ағымдағы деректері бойынша") {
				t.Errorf("the letter: %s", r.body)
			}
		}},
		{name: "the regions as PDF", as: "region", method: "GET", path: "/api/v1/roadmap/documents/regions", status: 200, check: func(t *testing.T, r result) {
			if !strings.HasPrefix(string(r.body), "%PDF") {
				t.Errorf("not a PDF: %.40q", r.body)
			}
		}},
		{name: "a document in German", as: "analyst", method: "GET", path: "/api/v1/roadmap/documents/letter?lang=de", status: 422, field: "lang"},
		{name: "a document as Word", as: "analyst", method: "GET", path: "/api/v1/roadmap/documents/letter?format=docx", status: 422, field: "format"},
		{name: "no such document", as: "analyst", method: "GET", path: "/api/v1/roadmap/documents/poem", status: 404},
		{name: "a document for a guardian", as: "parent", method: "GET", path: "/api/v1/roadmap/documents/letter", status: 403},
	})
}
