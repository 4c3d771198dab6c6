package main_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestMainPagesInEveryLanguage shows the school's board, its roll-call, its
// compliance (with the acts as officials cite them) and the guardian's
// phone page in Kazakh, Russian and English, leaves a
// screenshot of each, and fails when two languages show the same words or
// when a page's title is not the one its language gives it; on a 360 px
// phone the school's pages and the roadmap's indicators must fit the
// screen, their tables read as cards. (The operator's
// queue, the alarm's page and the import report are shown in every
// language by their own tests.)
func TestMainPagesInEveryLanguage(t *testing.T) {
	browser, s := browserDemo(t)

	guard := signedInAs(t, browser, s.base, "guard", "")
	director := signedInAs(t, browser, s.base, "director", "")
	parent := newPerson(t, browser, "parent")
	parent.do(chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile, chromedp.EmulateTouch))
	parent.signIn(s.base, "parent")

	pages := []struct {
		who    *person
		name   string
		path   string
		ready  string
		titles map[string]string
	}{
		{guard, "board", "/schools/1/board", `document.querySelector("#pupils-inside") !== null`,
			map[string]string{"kk": "Мектеп тақтасы", "ru": "Школа сейчас", "en": "School board"}},
		{guard, "rollcall", "/schools/1/rollcall?class=1А", `document.querySelector("#people tbody") !== null`,
			map[string]string{"kk": "Түгендеу", "ru": "Перекличка", "en": "Roll-call"}},
		{director, "compliance", "/schools/1/compliance", `document.querySelector("#items tbody") !== null`,
			map[string]string{"kk": "Талаптарға сәйкестік", "ru": "Соответствие требованиям", "en": "Compliance"}},
		{parent, "guardian", "/family", `document.querySelector("main .child, main [data-pupil]") !== null`,
			map[string]string{"kk": "Балаларым", "ru": "Мои дети", "en": "My children"}},
	}
	for _, pg := range pages {
		text := map[string]string{}
		for _, l := range []string{"kk", "ru", "en"} {
			pg.who.do(chromedp.Navigate(s.base + pg.path))
			pg.who.language(l)
			pg.who.wait(pg.ready, 10*time.Second)
			if at := eval[string](pg.who, "decodeURIComponent(location.pathname + location.search)"); at != pg.path {
				t.Errorf("%s: the language switch to %s led to %s, want the same page with its filters, %s", pg.name, l, at, pg.path)
			}
			pg.who.noInline(pg.name + " in " + l)
			text[l] = eval[string](pg.who, "document.querySelector('main').innerText")
			if pg.name == "compliance" && l != "en" {
				// The reasons are worded in the page's language: no English
				// word outside a device's «name».
				reasons := eval[string](pg.who, `[...document.querySelectorAll("#items tbody td:nth-child(3)")].map(td => td.innerText.replace(/«[^»]*»/g, "")).join(" ")`)
				if w := regexp.MustCompile(`[A-Za-z]{3,}`).FindString(reasons); w != "" {
					t.Errorf("the compliance page in %s has the English word %q among its reasons: %s", l, w, reasons)
				}
				// So is the act and clause behind each item, as officials cite it.
				acts := eval[string](pg.who, `[...document.querySelectorAll("#items tbody td:nth-child(4)")].map(td => td.innerText.replace(/\u00a0/g, " ")).join("\n")`)
				if w := regexp.MustCompile(`[A-Za-z]{2,}`).FindString(acts); w != "" || !strings.Contains(acts, map[string]string{"kk": "№ 117 бұйрығы", "ru": "от 30 марта 2022 года № 117"}[l]) {
					t.Errorf("the compliance page in %s cites its acts with the English word %q, or without instruction No. 117 in %s: %s", l, w, l, acts)
				}
				// The act fits its cell: no cell wider than the page.
				if w := eval[int](pg.who, `Math.ceil(Math.max(...[...document.querySelectorAll("#items tbody td:nth-child(4)")].map(td => td.getBoundingClientRect().right)))`); w > eval[int](pg.who, "document.documentElement.clientWidth") {
					t.Errorf("the compliance page in %s: an act's cell ends at %d px, past the page", l, w)
				}
			}
			if title := eval[string](pg.who, "document.title"); !strings.HasPrefix(title, pg.titles[l]) {
				t.Errorf("%s in %s: the title is %q, want it to begin %q", pg.name, l, title, pg.titles[l])
			}
			pg.who.screenshot(pg.name + "-" + l)
		}
		differ(t, pg.name, text)
	}
	// On a phone the school's pages fit the screen: the menu wraps, and the
	// compliance table reads item by item in every language.
	// So do the alarm queue, each alarm a card, and the alarm's card (other
	// tables may scroll within their own box).
	alarmPage := panicAlarmPage(t, apiAs(t, s.base, "guard"), "phone-1", "at the gate")
	guard.do(chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile, chromedp.EmulateTouch))
	for _, page := range []string{"/schools/1/board", "/schools/1/emergency", "/console", alarmPage} {
		guard.do(chromedp.Navigate(s.base + page))
		if page == "/console" {
			guard.wait(`document.querySelector(".queue tr.alarm") !== null`, 10*time.Second)
		}
		reach := eval[int](guard, `Math.ceil(Math.max(document.documentElement.scrollWidth, ...[...document.querySelectorAll("main .queue td, main .card dd")].map(c => c.getBoundingClientRect().right)))`)
		guard.screenshot("360" + strings.ReplaceAll(page, "/", "-"))
		if reach > 360 {
			t.Errorf("the guard's %s reaches %d px on a 360 px screen", page, reach)
		}
	}
	director.do(chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile, chromedp.EmulateTouch), chromedp.Navigate(s.base+"/schools/1/compliance"))
	for _, l := range []string{"kk", "ru", "en"} {
		director.language(l)
		director.screenshot("compliance-" + l + "-360")
		if w := eval[int](director, "document.documentElement.scrollWidth"); w > 360 {
			t.Errorf("the compliance page in %s is %d px wide on a 360 px screen", l, w)
		}
		// Every item reads on the screen as it is: no cell past its edge,
		// none to scroll the table sideways to, and each reason and act
		// beside its label.
		if w := director.tableReach("#items"); w > 360 {
			t.Errorf("the compliance table in %s reaches %d px on a 360 px screen: a phone must scroll sideways to read it", l, w)
		}
		label := map[string]string{"kk": "Талап ететін акт", "ru": "Требование акта", "en": "The rule"}[l]
		if c := eval[string](director, `getComputedStyle(document.querySelector("#items tbody td.rule"), "::before").content`); !strings.Contains(c, label) {
			t.Errorf("the compliance table in %s on a 360 px screen shows an act without its label %q (%s)", l, label, c)
		}
	}
	// So do the roadmap's indicators, which a director or an akimat's
	// official opens on a phone: the nation's, a region's and a district's,
	// each table read row by row as cards.
	analyst := signedInAs(t, browser, s.base, "analyst", "")
	analyst.do(chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile, chromedp.EmulateTouch), chromedp.Navigate(s.base+"/indicators?region=610000000"))
	district := eval[string](analyst, `document.querySelector('#parts a[href^="/indicators?district="]').getAttribute("href")`)
	// A district where some item is required of no school: its chart
	// says so in words too.
	spare := eval[string](analyst, `(() => { const tr = [...document.querySelectorAll("#parts tbody tr")].find(tr => /не требуется|міндетті емес|not required/.test(tr.innerText)); return tr ? tr.querySelector("a").getAttribute("href") : ""; })()`)
	if spare == "" {
		t.Fatal("no district of the region has an item required of no school: the chart's words for it go unchecked")
	}
	for _, pg := range []struct{ name, path string }{{"nation", "/indicators"}, {"region", "/indicators?region=610000000"}, {"district", district}, {"district-none-required", spare}} {
		page := pg.path
		analyst.do(chromedp.Navigate(s.base + page))
		for _, l := range []string{"kk", "ru", "en"} {
			analyst.language(l)
			analyst.screenshot("indicators-" + pg.name + "-" + l + "-360")
			if w := eval[int](analyst, "document.documentElement.scrollWidth"); w > 360 {
				t.Errorf("%s in %s is %d px wide on a 360 px screen", page, l, w)
			}
			for _, table := range []string{"#figures", "#parts"} {
				if w := analyst.tableReach(table); w > 360 {
					t.Errorf("%s in %s: the table %s reaches %d px on a 360 px screen: a phone must scroll sideways to read it", page, l, table, w)
				}
			}
			// Each figure under its label: the share now, beside «Now (Qorgan)».
			label := map[string]string{"kk": "Қазір (Qorgan)", "ru": "Сейчас (Qorgan)", "en": "Now (Qorgan)"}[l]
			if c := eval[string](analyst, `(td => td ? getComputedStyle(td, "::before").content : "")(document.querySelector("#figures tbody td.now"))`); !strings.Contains(c, label) {
				t.Errorf("%s in %s on a 360 px screen shows the live share without its label %q (%s)", page, l, label, c)
			}
			// The chart's labels and values are inside its picture, none cut
			// off at its edges, and no label runs into its bar.
			if cut := eval[[]string](analyst, `(svg => [...svg.querySelectorAll("text")].filter(t => {
				const b = t.getBBox(), bar = t.classList.contains("chart-label") ? 250 : svg.viewBox.baseVal.width;
				return b.x < 0 || b.x + b.width > bar;
			}).map(t => t.textContent))(document.querySelector("#chart"))`); len(cut) > 0 {
				t.Errorf("%s in %s: the chart cuts off %q", page, l, cut)
			}
			// Every figure is a share or words: no bare mark a reader has to
			// guess at where no school is required to have the thing.
			if bare := eval[[]string](analyst, `[...document.querySelectorAll("#parts td, #figures td.now")].map(td => td.innerText.trim()).filter(x => x === "" || x === "·" || x === "—")`); len(bare) > 0 {
				t.Errorf("%s in %s: figures shown only as %q", page, l, bare)
			}
			if none := map[string]string{"kk": "міндетті емес", "ru": "не требуется", "en": "not required"}[l]; pg.name == "region" && !strings.Contains(eval[string](analyst, `document.querySelector("#parts").innerText`), none) {
				t.Errorf("%s in %s: no district says %q, though one has no school required to have a figure", page, l, none)
			}
		}
	}
	for _, p := range []*person{guard, director, parent, analyst} {
		if errs := p.consoleErrors(); len(errs) > 0 {
			t.Errorf("%s: browser console errors: %v", p.name, errs)
		}
	}
}

// tableReach is how far right, in px, the table sel reaches: its own
// scroll width or its farthest cell's edge, whichever is greater.
func (p *person) tableReach(sel string) int {
	p.t.Helper()
	return eval[int](p, `((table) => Math.ceil(Math.max(table.scrollWidth, ...[...table.querySelectorAll("th, td")].map(c => c.getBoundingClientRect().right))))(document.querySelector(`+strconv.Quote(sel)+`))`)
}
