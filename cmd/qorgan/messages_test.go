package main_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestMessagesAndRuleInBrowser drives the director's messages page and the
// not-arrived rule in headless Chromium against the real binary: a pass of
// a pupil reaches the guardian's SMS gateway and shows on the messages page
// as sent, in Russian; the rule's form, in Kazakh, refuses a time out of
// range beside its field with what was typed, then takes a good one.
func TestMessagesAndRuleInBrowser(t *testing.T) {
	browser := startBrowser(t)
	box, sinks := guardianSinks(t)
	s := startDemo(t, filepath.Join(t.TempDir(), "demo.db"), sinks...)

	api := apiAs(t, s.base, "director")
	p := addPupil(t, api, "MSG-1", "A5E5C0DE", map[string]any{"phone": "+77019990011", "full_name": "Сәуле", "language": "kk", "consent_given_on": "2025-09-01"})
	if st := api.do("POST", "/api/v1/schools/1/passes/manual", map[string]any{"pupil_id": p.ID, "direction": "in", "request_id": "messages-test-1"}, nil); st/100 != 2 {
		t.Fatalf("manual pass: %d", st)
	}
	box.waitFor(t, map[string]int{"sms": 1})

	director := signedInAs(t, browser, s.base, "director", "ru")
	director.do(chromedp.Click(chromedp.CSS(`nav a[href="/schools/1/messages"]`)))
	director.wait(`location.pathname === "/schools/1/messages" && document.querySelector("#message-list") !== null`, 10*time.Second)
	director.noInline("the messages page")
	row := `[...document.querySelectorAll("#message-list tbody tr.st-sent")].find(r => r.innerText.includes("SMS") && r.innerText.includes("+7********11"))`
	director.wait(row, 5*time.Second)
	if got := eval[string](director, row+`.innerText`); !strings.Contains(got, "отправлено") || !strings.Contains(got, "Учащийся вошёл в школу") {
		t.Errorf("the sent SMS reads %q", got)
	}
	if n := eval[string](director, `document.querySelector("#count-sent .n").innerText`); n == "0" {
		t.Errorf("the count of sent messages is 0")
	}
	if title := eval[string](director, "document.title"); strings.Contains(title, "Сәуле") || strings.Contains(title, "Айгерім") || strings.Contains(title, "7019990011") {
		t.Errorf("the title names a person: %q", title)
	}
	// The filter: failed messages only (none here).
	director.do(chromedp.SetValue(chromedp.CSS("#state"), "failed"), chromedp.Click(chromedp.CSS(`form.filters button[type=submit]`)))
	director.wait(`location.search === "?state=failed"`, 10*time.Second)
	if n := eval[int](director, `document.querySelectorAll("#message-list tbody tr.st-sent").length`); n != 0 {
		t.Errorf("the failed filter shows %d sent messages", n)
	}
	director.do(chromedp.Navigate(s.base + "/schools/1/messages"))
	director.screenshot("messages-ru")

	// The rule, in Kazakh, by the director of a school that teaches in one
	// shift (school 1 of the demo teaches in two, and may not have it): a
	// bad time, then a good one.
	admin := apiAs(t, s.base, "admin")
	var schools struct {
		Items []struct {
			ID     int64 `json:"id"`
			Shifts []struct {
				Start string `json:"start"`
			} `json:"shifts"`
		} `json:"items"`
	}
	if st := admin.do("GET", "/api/v1/schools?limit=200", nil, &schools); st != 200 {
		t.Fatalf("schools: %d", st)
	}
	var school int64
	var start string
	for _, sc := range schools.Items {
		if len(sc.Shifts) == 1 {
			school, start = sc.ID, sc.Shifts[0].Start
			break
		}
	}
	if school == 0 {
		t.Fatalf("the demo has no school in one shift")
	}
	if st := admin.do("POST", "/api/v1/users", map[string]any{"login": "director.one", "full_name": "Гүлнар Сейітова", "password": "qorgan-demo-2026",
		"role": "school_director", "scope": map[string]string{"kind": "school", "ref": fmt.Sprint(school)}}, nil); st != 201 {
		t.Fatalf("create the director's login: %d", st)
	}
	h, _ := strconv.Atoi(start[:2])
	good := fmt.Sprintf("%02d:%s", h+1, start[3:])
	rulePage := fmt.Sprintf("/schools/%d/not-arrived-rule", school)

	one := signedInAs(t, browser, s.base, "director.one", "kk")
	one.do(chromedp.Navigate(s.base + fmt.Sprintf("/schools/%d/messages", school)))
	one.do(chromedp.Click(chromedp.CSS(`a[href="` + rulePage + `"]`)))
	one.wait(`document.querySelector("#rule-form") !== null`, 10*time.Second)
	one.noInline("the not-arrived rule")
	one.do(chromedp.Click(chromedp.CSS("#on")), chromedp.SendKeys(chromedp.CSS("#at"), "25:70"),
		chromedp.Evaluate[chromedp.Void]("window.qorganOldPage = true"), chromedp.Click(chromedp.CSS(`#rule-form button[type=submit]`)))
	one.wait(`!window.qorganOldPage && document.querySelector("#at-error") !== null`, 10*time.Second)
	if got := eval[string](one, `document.querySelector("#at-error").innerText`); !strings.Contains(got, "уақыт емес") {
		t.Errorf("the bad time's message reads %q", got)
	}
	if got := eval[string](one, `document.querySelector("#at").value`); got != "25:70" {
		t.Errorf("the typed time was not kept: %q", got)
	}
	if !eval[bool](one, `document.querySelector("#on").checked && document.querySelector("#at").getAttribute("aria-invalid") === "true"`) {
		t.Errorf("the form lost its checkbox or does not mark the bad field")
	}
	one.screenshot("not-arrived-rule-kk")
	one.do(chromedp.SetValue(chromedp.CSS("#at"), good), chromedp.Evaluate[chromedp.Void]("window.qorganOldPage = true"),
		chromedp.Click(chromedp.CSS(`#rule-form button[type=submit]`)))
	one.wait(`!window.qorganOldPage && document.querySelector("#notice") !== null`, 10*time.Second)
	if got := eval[string](one, `document.querySelector("#rule-now").innerText`); !strings.Contains(got, good) {
		t.Errorf("after saving %s the rule reads %q", good, got)
	}
	var rule struct {
		At string `json:"at"`
	}
	if st := admin.do("GET", fmt.Sprintf("/api/v1/schools/%d/not-arrived-rule", school), nil, &rule); st != 200 || rule.At != good {
		t.Errorf("the API's rule after the form: %d %+v, want %s", st, rule, good)
	}
	one.screenshot("not-arrived-rule-kk-saved")
	if errs := director.consoleErrors(); len(errs) > 0 {
		t.Errorf("director: browser console errors: %v", errs)
	}
	// The refused forms' 422 answers are the only expected messages.
	for _, e := range one.consoleErrors() {
		if !strings.Contains(e, "422") {
			t.Errorf("browser console error: %s", e)
		}
	}
}

// TestAlarmMapInBrowser: with --map-tiles-url pointing at a local tile
// server, the alarm page draws the school on a map from its tiles with no
// CSP violation; without, the page says the map is off and still works.
func TestAlarmMapInBrowser(t *testing.T) {
	browser := startBrowser(t)
	var tiles atomic.Int64
	tile := tilePNG(t)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tiles.Add(1)
		w.Header().Set("Content-Type", "image/png")
		w.Write(tile)
	}))
	t.Cleanup(ts.Close)
	s := startDemo(t, filepath.Join(t.TempDir(), "demo.db"), "--map-tiles-url", ts.URL+"/{z}/{x}/{y}.png")

	guard := apiAs(t, s.base, "guard")
	at := panicAlarmPage(t, guard, "map-test-1", "map")

	pcn := signedInAs(t, browser, s.base, "pcn", "en")
	pcn.do(chromedp.Navigate(s.base + at))
	pcn.wait(`document.querySelector("#school-map.ready .leaflet-marker-icon") !== null`, 10*time.Second)
	pcn.wait(`[...document.querySelectorAll("#school-map img.leaflet-tile")].some(i => i.complete && i.naturalWidth > 0)`, 10*time.Second)
	if tiles.Load() == 0 {
		t.Errorf("the tile server had no request")
	}
	noInlineOutside(pcn, "the alarm page with its map", "#school-map")
	if got := eval[string](pcn, `document.querySelector("#school-map").getAttribute("aria-label")`); !strings.Contains(got, "location") {
		t.Errorf("the map's label reads %q", got)
	}
	pcn.screenshot("alarm-map-en")
	if errs := pcn.consoleErrors(); len(errs) > 0 {
		t.Errorf("browser console errors (a CSP violation?): %v", errs)
	}

	// Without a tile server: the map is off, the page works.
	s2 := startDemo(t, filepath.Join(t.TempDir(), "demo2.db"))
	guard2, _ := signIn(t, s2.base, "guard", "qorgan-demo-2026")
	at2 := panicAlarmPage(t, guard2, "map-test-2", "no map")
	off := newPerson(t, browser, "pcn-no-map")
	off.signIn(s2.base, "pcn")
	off.language("en")
	off.do(chromedp.Navigate(s2.base + at2))
	off.wait(`document.querySelector("#map-off") !== null`, 10*time.Second)
	if got := eval[string](off, `document.querySelector("#map-off").innerText`); !strings.Contains(got, "map is off") {
		t.Errorf("without a tile server the page says %q", got)
	}
	if eval[bool](off, `!!window.L || document.querySelector("#school-map") !== null`) {
		t.Errorf("without a tile server the page still loads Leaflet or a map")
	}
	off.do(chromedp.Click(chromedp.CSS("#ack button")))
	off.wait(`document.querySelector("#dispatch") !== null`, 10*time.Second)
	off.noInline("the alarm page without a map")
	if errs := off.consoleErrors(); len(errs) > 0 {
		t.Errorf("browser console errors without a map: %v", errs)
	}
}

// noInlineOutside is noInline for a page with a Leaflet map: Leaflet sets
// the styles of its own elements through the DOM (CSSOM, which the CSP
// allows), so only what is outside the map counts.
func noInlineOutside(p *person, page, inside string) {
	p.t.Helper()
	found := eval[[]string](p, `(() => {
		const out = [], skip = e => e.closest(`+"`"+inside+"`"+`) !== null;
		document.querySelectorAll("script:not([src]), style, [style]").forEach(e => { if (!skip(e)) out.push(e.outerHTML.slice(0, 80)); });
		document.querySelectorAll("*").forEach(e => { for (const a of e.attributes) if (a.name.startsWith("on")) out.push(e.tagName + " " + a.name); });
		return out;
	})()`)
	if len(found) > 0 {
		p.t.Errorf("%s: inline script or style on %s: %v", p.name, page, found)
	}
}

// tilePNG is a 256×256 map tile of one light colour.
func tilePNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 256, 256))
	for y := range 256 {
		for x := range 256 {
			c := color.RGBA{0xe8, 0xf0, 0xe0, 0xff}
			if x%64 == 0 || y%64 == 0 {
				c = color.RGBA{0xc0, 0xc8, 0xd0, 0xff}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
