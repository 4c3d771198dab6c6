package main_test

import (
	"context"
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
