package main_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// demoPassword is the password of every person the demo creates.
const demoPassword = "qorgan-demo-2026"

// browserDemo starts Chromium and the demo on a fresh database: the opening
// of the browser tests.
func browserDemo(t *testing.T) (context.Context, *server) {
	t.Helper()
	browser := startBrowser(t)
	return browser, startDemo(t, filepath.Join(t.TempDir(), "demo.db"))
}

// signedInAs opens a browser tab for the demo's person login, signs it in
// through the sign-in page and, unless lang is "", switches the page to
// lang.
func signedInAs(t *testing.T, browser context.Context, base, login, lang string) *person {
	t.Helper()
	p := newPerson(t, browser, login)
	p.signIn(base, login)
	if lang != "" {
		p.language(lang)
	}
	return p
}

// apiAs signs the demo's person login in over the API; any answer but 200
// fails the test.
func apiAs(t *testing.T, base, login string) *client {
	t.Helper()
	c, st := signIn(t, base, login, demoPassword)
	if st != 200 {
		t.Fatalf("%s sign-in: %d", login, st)
	}
	return c
}

// panicAlarmPage presses school 1's panic button as guard over the API and
// returns the page of the alarm it raised (the newest guard sees).
func panicAlarmPage(t *testing.T, guard *client, requestID, note string) string {
	t.Helper()
	if st := guard.do("POST", "/api/v1/schools/1/panic", map[string]any{"request_id": requestID, "note": note}, nil); st != 202 {
		t.Fatalf("panic: %d", st)
	}
	var alarms struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
	}
	if st := guard.do("GET", "/api/v1/alarms", nil, &alarms); st != 200 || len(alarms.Items) == 0 {
		t.Fatalf("alarms: %d %+v", st, alarms)
	}
	return fmt.Sprint("/alarms/", alarms.Items[0].ID)
}

// pupilsInside brings up to limit pupils of school 1 inside, a manual pass
// each by the director (request ids tagged with tag), and returns their ids.
func pupilsInside(t *testing.T, director *client, limit int, tag string) []int64 {
	t.Helper()
	var pupils struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
	}
	if st := director.do("GET", fmt.Sprintf("/api/v1/schools/1/pupils?limit=%d", limit), nil, &pupils); st != 200 || len(pupils.Items) == 0 {
		t.Fatalf("pupils of school 1: %d", st)
	}
	var ids []int64
	for _, p := range pupils.Items {
		if st := director.do("POST", "/api/v1/schools/1/passes/manual", map[string]any{"pupil_id": p.ID, "direction": "in", "request_id": fmt.Sprint(tag, p.ID)}, nil); st/100 != 2 {
			t.Fatalf("manual pass: %d", st)
		}
		ids = append(ids, p.ID)
	}
	return ids
}
