package main_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestGuardianOnAPhone drives the guardian's pages in headless Chromium on
// a 360×740 screen against the real binary: the child's arrival appears on
// the open page without a reload, the day's history lists it, the page is
// an installable web app whose service worker registers, and a channel
// switched off stays off.
func TestGuardianOnAPhone(t *testing.T) {
	browser, s := browserDemo(t)

	parent := newPerson(t, browser, "parent")
	parent.do(chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile, chromedp.EmulateTouch))
	parent.signIn(s.base, "parent")
	parent.language("kk")
	if got := eval[string](parent, "location.pathname"); got != "/family" {
		t.Fatalf("the guardian lands on %s, want /family", got)
	}
	parent.noInline("the guardian's page")
	if w := eval[int](parent, "document.documentElement.scrollWidth"); w > 360 {
		t.Errorf("the page is %d px wide on a 360 px screen", w)
	}

	// Their child, as the API tells it to the same guardian.
	api := apiAs(t, s.base, "parent")
	var kids struct {
		Items []struct {
			ID        int64  `json:"id"`
			FirstName string `json:"first_name"`
		} `json:"items"`
	}
	if st := api.do("GET", "/api/v1/children", nil, &kids); st != 200 || len(kids.Items) == 0 {
		t.Fatalf("children: %d %+v", st, kids)
	}
	kid := kids.Items[0]
	if !strings.Contains(eval[string](parent, "document.querySelector('main').innerText"), kid.FirstName) {
		t.Errorf("the page does not name the child %s", kid.FirstName)
	}
	passes := fmt.Sprintf(`document.querySelectorAll('[data-pupil="%d"] .passes li').length`, kid.ID)
	before := eval[int](parent, passes)

	director := apiAs(t, s.base, "director")
	dir := "in"
	if before%2 == 1 {
		dir = "out" // the child is inside: the next pass is a departure
	}
	sent := time.Now()
	if st := director.do("POST", "/api/v1/schools/1/passes/manual", map[string]any{"pupil_id": kid.ID, "direction": dir, "request_id": "family-test-1"}, nil); st/100 != 2 {
		t.Fatalf("manual pass: %d", st)
	}
	parent.wait(fmt.Sprintf("%s > %d", passes, before), 15*time.Second)
	t.Logf("the pass reached the guardian's open page after %v", time.Since(sent).Round(time.Millisecond))
	if eval[string](parent, "performance.getEntriesByType('navigation')[0].type") == "reload" {
		t.Errorf("the guardian's page reloaded")
	}
	parent.screenshot("guardian-kk-360")

	// The installable app: its manifest, and the service worker registered.
	if m := eval[string](parent, `document.querySelector('link[rel="manifest"]').href`); !strings.HasSuffix(m, "/manifest.webmanifest") {
		t.Errorf("manifest link: %q", m)
	}
	parent.do(chromedp.Evaluate[chromedp.Void](`navigator.serviceWorker.getRegistration("/").then(r => { window.qorganSW = !!(r && (r.active || r.installing || r.waiting)); })`))
	parent.wait(`window.qorganSW === true`, 10*time.Second)
	if eval[bool](parent, `document.querySelector("#push").classList.contains("hidden")`) {
		t.Errorf("the push offer is hidden in a browser that has Web Push")
	}

	// A channel off stays off.
	parent.do(chromedp.Click(chromedp.CSS("#on_sms")), chromedp.Click(chromedp.CSS("#channels-form button[type=submit]")))
	parent.wait(`document.querySelector("#saved") !== null`, 10*time.Second)
	if eval[bool](parent, `document.querySelector("#on_sms").checked`) {
		t.Errorf("SMS is still on after switching it off")
	}
	var ch struct {
		Off []string `json:"off"`
	}
	if api.do("GET", "/api/v1/me/channels", nil, &ch); !strings.Contains(strings.Join(ch.Off, ","), "sms") {
		t.Errorf("the API says the channels off are %v", ch.Off)
	}

	// The day's history.
	parent.do(chromedp.Navigate(fmt.Sprintf("%s/family/children/%d", s.base, kid.ID)))
	parent.noInline("a child's history")
	if n := eval[int](parent, `document.querySelectorAll("#day-passes li").length`); n < 1 {
		t.Errorf("the day's history lists %d passes", n)
	}
	parent.screenshot("guardian-history-kk-360")

	// A child not theirs: not found.
	other := kid.ID + 1
	for mine := true; mine; {
		mine = false
		for _, k := range kids.Items {
			if k.ID == other {
				other, mine = other+1, true
			}
		}
	}
	parent.do(chromedp.Navigate(fmt.Sprintf("%s/family/children/%d", s.base, other)))
	if h := eval[string](parent, "document.querySelector('main h1').innerText"); h != "Бет табылмады" {
		t.Errorf("the guardian opening pupil %d sees %q, want the not-found page", other, h)
	}
	for _, e := range parent.consoleErrors() {
		if !strings.Contains(e, "404") {
			t.Errorf("parent: browser console error: %s", e)
		}
	}
}
