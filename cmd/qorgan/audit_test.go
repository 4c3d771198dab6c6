package main_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestPageAudit visits every page of the menu of every role, and the
// public staff code form (/staff), in each language, in headless Chromium against the real binary, and fails on an
// input without a label, an inline script or style, a browser console
// error, a page that reads the same in two languages, or a string of the
// other languages' alphabet left where it does not belong (Kazakh letters on
// a Russian page). It also checks the walls between roles: another school's
// page is not found for a guard, and no school page opens for a guardian.
func TestPageAudit(t *testing.T) {
	browser, s := browserDemo(t)

	// An alarm, so that the operators' pages have rows and a page of their own.
	alarmPage := panicAlarmPage(t, apiAs(t, s.base, "guard"), "audit-1", "audit")

	roles := []struct {
		login string
		extra []string // pages not in the menu
	}{
		{"admin", nil},
		{"analyst", nil},
		{"region", nil},
		{"director", []string{alarmPage}},
		{"guard", []string{alarmPage}},
		{"pcn", []string{alarmPage}},
		{"cou", []string{alarmPage}},
		{"parent", nil},
	}
	people := map[string]*person{}
	for _, r := range roles {
		began := time.Now()
		p := newPerson(t, browser, r.login)
		p.signIn(s.base, r.login)
		people[r.login] = p
		menu := eval[[]string](p, `[...document.querySelectorAll("nav a")].map(a => a.getAttribute("href"))`)
		if len(menu) == 0 {
			t.Errorf("%s: no menu", r.login)
		}
		pages := append(menu, r.extra...)
		text := map[string]map[string]string{}
		for _, lang := range []string{"kk", "ru", "en"} {
			p.language(lang) // remembered: every page after it is in lang
			for _, page := range pages {
				p.do(chromedp.Navigate(s.base + page))
				where := fmt.Sprintf("%s's %s in %s", r.login, page, lang)
				if text[page] == nil {
					text[page] = map[string]string{}
				}
				text[page][lang] = auditPage(t, p, where, lang)
			}
		}
		for _, page := range pages {
			differ(t, r.login+"'s "+page, text[page])
		}
		for _, e := range p.consoleErrors() {
			t.Errorf("%s: browser console error: %s", r.login, e)
		}
		t.Logf("%s: %d pages in 3 languages in %v", r.login, len(pages), time.Since(began).Round(time.Millisecond))
	}

	// The public staff code form, before anyone has a code or a session.
	visitor := newPerson(t, browser, "visitor")
	visitor.do(chromedp.Navigate(s.base + "/staff"))
	form := map[string]string{}
	for _, lang := range []string{"kk", "ru", "en"} {
		visitor.language(lang)
		form[lang] = auditPage(t, visitor, "the staff code form in "+lang, lang)
	}
	differ(t, "the staff code form", form)
	for _, e := range visitor.consoleErrors() {
		t.Errorf("the staff code form: browser console error: %s", e)
	}

	// The walls: another school's pages, any school's page for a guardian.
	for _, c := range []struct{ login, page string }{
		{"guard", "/schools/2/board"}, {"guard", "/schools/2/rollcall"}, {"director", "/schools/2/import"},
		{"parent", "/schools/1/board"}, {"parent", "/schools/1/rollcall"}, {"parent", alarmPage},
	} {
		p := people[c.login]
		p.do(chromedp.Navigate(s.base + c.page))
		if h := eval[string](p, "document.querySelector('main h1').innerText"); h != "Not found" { // the last language was en
			t.Errorf("%s opening %s sees %q, want the not-found page", c.login, c.page, h)
		}
	}
}

// auditPage checks the page p shows, named where, in lang: its language, a
// heading, no inline script or style, a label on every input and a name on
// every control, contrast and visible focus (checked once, in Russian), and
// no Kazakh letters among an English page's words. It returns the text of
// the page's main, for differ.
func auditPage(t *testing.T, p *person, where, lang string) string {
	t.Helper()
	if got := eval[string](p, "document.documentElement.lang"); got != lang {
		t.Errorf("%s is in %q", where, got)
	}
	if h := eval[string](p, "document.querySelector('main h1') ? document.querySelector('main h1').innerText : ''"); h == "" {
		t.Errorf("%s has no heading", where)
	}
	p.noInline(where)
	if unlabelled := eval[[]string](p, `[...document.querySelectorAll("input:not([type=hidden]), select, textarea")]
			.filter(e => !(e.labels && e.labels.length) && !e.getAttribute("aria-label") && !e.getAttribute("aria-labelledby"))
			.map(e => e.outerHTML.slice(0, 80))`); len(unlabelled) > 0 {
		t.Errorf("%s: inputs without a label: %v", where, unlabelled)
	}
	if unnamed := eval[[]string](p, `[...document.querySelectorAll("button, a[href]")].filter(e => !e.innerText.trim() && !e.getAttribute("aria-label")).map(e => e.outerHTML.slice(0, 80))`); len(unnamed) > 0 {
		t.Errorf("%s: buttons or links without a name: %v", where, unnamed)
	}
	if lang == "ru" { // colours and focus do not change with the language
		if low := eval[[]string](p, contrastJS); len(low) > 0 {
			t.Errorf("%s: text below WCAG AA contrast (4.5:1, large text 3:1): %v", where, low)
		}
		if unseen := focusUnseen(p); len(unseen) > 0 {
			t.Errorf("%s: controls without a visible focus when reached by Tab: %v", where, unseen)
		}
	}
	// Kazakh-only letters among an English page's own words
	// are a string left untranslated (the demo's names of
	// people and places are not the page's words).
	if lang == "en" {
		words := eval[string](p, `[...document.querySelectorAll("main h1, main h2, main th, main label, main button, main dt, nav a")].map(e => e.innerText).join(" | ")`)
		if strings.ContainsAny(words, "әғқңөұүһіӘҒҚҢӨҰҮҺІ") {
			t.Errorf("%s: Kazakh letters among the English page's words: %s", where, words)
		}
	}
	return eval[string](p, "document.querySelector('main').innerText")
}

// contrastJS lists (at most ten) elements whose own text is below WCAG
// 2.1 AA contrast against the background it is drawn on: 4.5:1, or 3:1
// for large text (24 px, or 18.66 px bold). Disabled controls are exempt,
// as WCAG exempts inactive components.
const contrastJS = `(() => {
  const rgba = c => { const m = c.match(/rgba?\(([^)]+)\)/); return m ? m[1].split(",").map(Number) : null; };
  const lin = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  const lum = c => 0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2]);
  const under = el => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c && (c.length < 4 || c[3] > 0.5)) return c;
    }
    return [255, 255, 255];
  };
  const low = [];
  for (const el of document.querySelectorAll("body *")) {
    if (!el.getClientRects().length || el.closest(":disabled, [aria-disabled=true], .hidden")) continue;
    if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
    const cs = getComputedStyle(el);
    if (cs.visibility === "hidden" || Number(cs.opacity) === 0) continue;
    let fg = rgba(cs.color);
    if (!fg) continue;
    const bg = under(el);
    if (fg.length === 4 && fg[3] < 1) fg = [0, 1, 2].map(i => fg[i] * fg[3] + bg[i] * (1 - fg[3]));
    const a = lum(fg), b = lum(bg), ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const px = parseFloat(cs.fontSize), large = px >= 24 || (Number(cs.fontWeight) >= 700 && px >= 18.66);
    if (ratio < (large ? 3 : 4.5)) low.push(el.tagName.toLowerCase() + " " + JSON.stringify(el.textContent.trim().slice(0, 40)) + " " + ratio.toFixed(2) + ":1");
  }
  return low.slice(0, 10);
})()`

// focusUnseen presses Tab through the page's first controls and lists
// those that, reached by the keyboard, show no focus: no outline and no
// box shadow.
func focusUnseen(p *person) []string {
	p.t.Helper()
	p.do(chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)`))
	var unseen []string
	seen := map[string]bool{}
	for i := 0; i < 12; i++ {
		p.do(chromedp.KeyEvent(kb.Tab))
		desc := eval[string](p, `(() => {
			const e = document.activeElement;
			if (!e || e === document.body) return "";
			const cs = getComputedStyle(e);
			const shown = (cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) > 0) || cs.boxShadow !== "none";
			return (shown ? "ok " : "no ") + e.outerHTML.slice(0, 70);
		})()`)
		if desc == "" || seen[desc] {
			break
		}
		seen[desc] = true
		if strings.HasPrefix(desc, "no ") {
			unseen = append(unseen, desc[3:])
		}
	}
	return unseen
}
