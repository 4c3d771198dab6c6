package main_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestStaffOnAPhone drives a teacher's emergency page in headless Chromium
// on a 360×740 screen against the real binary: the director declares and
// confirms a lockdown on the school's emergency page; the teacher's SMS
// names the page (--public-url) and carries the code; on the phone the
// teacher enters it, ticks a step, confirms the room locked and marks the
// class present, and the director's emergency page no longer lists the
// class as unaccounted.
func TestStaffOnAPhone(t *testing.T) {
	browser := startBrowser(t)
	box, sinks := guardianSinks(t)
	s := startDemo(t, filepath.Join(t.TempDir(), "demo.db"), append(sinks, "--public-url", "https://qorgan.example.kz/")...)

	// The pupils of school 1 are inside.
	api := apiAs(t, s.base, "director")
	pupilsInside(t, api, 500, "staff-page-")

	// The director declares a lockdown on the emergency page and confirms it.
	director := signedInAs(t, browser, s.base, "director", "ru")
	director.do(chromedp.Navigate(s.base + "/schools/1/emergency"))
	director.do(chromedp.SetValue(chromedp.CSS("#mode"), "lockdown"), chromedp.SetValue(chromedp.CSS("#scenario"), "armed_attack"),
		chromedp.Click(chromedp.CSS("#declare-form button[type=submit]")))
	director.wait(`document.querySelector("#confirm-form") !== null`, 10*time.Second)
	director.do(chromedp.Click(chromedp.CSS("#confirm-form button[type=submit]")))
	director.wait(`document.querySelector("#emergency-rollcall") !== null`, 10*time.Second)

	// The pupils inside, by class, as the director's roll-call has them.
	eid := eval[string](director, `document.querySelector("#emergency").dataset.emergency`)
	var rc struct {
		ByClass []struct {
			Class       string     `json:"class"`
			Unaccounted []struct{} `json:"unaccounted"`
		} `json:"by_class"`
	}
	if st := api.do("GET", "/api/v1/emergencies/"+eid+"/rollcall", nil, &rc); st != 200 {
		t.Fatalf("roll-call: %d", st)
	}
	insideOf := map[string]int{}
	for _, c := range rc.ByClass {
		insideOf[c.Class] = len(c.Unaccounted)
	}

	// A teacher's SMS, of a class with pupils inside: the class, the code
	// and where to enter it.
	var class, code string
	for deadline := time.Now().Add(30 * time.Second); code == ""; time.Sleep(50 * time.Millisecond) {
		for _, text := range box.texts("sms") {
			if m := staffCode.FindStringSubmatch(text); m != nil && insideOf[m[1]] > 0 {
				if !strings.Contains(text, m[2]+", мұнда енгізіңіз: https://qorgan.example.kz/staff") {
					t.Errorf("the teacher's SMS does not say where to enter the code: %q", text)
				}
				class, code = m[1], m[2]
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no teacher's SMS with a class code among %d SMS", len(box.texts("sms")))
		}
	}
	inside := insideOf[class]
	classShown := fmt.Sprintf(`[...document.querySelectorAll("#emergency-rollcall h3")].some(h => h.textContent === %q)`, class)
	if !eval[bool](director, classShown) {
		t.Fatalf("class %s is not unaccounted on the director's page before the marks", class)
	}

	// The teacher, on a phone, in Russian: the code form.
	teacher := newPerson(t, browser, "teacher")
	teacher.do(chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile, chromedp.EmulateTouch))
	teacher.do(chromedp.Navigate(s.base + "/staff"))
	teacher.language("ru")
	teacher.noInline("the staff code form")
	if got := eval[string](teacher, `document.querySelector('label[for="code"]').textContent`); got != "Код из вашего сообщения" {
		t.Errorf("the code's label: %q", got)
	}
	teacher.do(chromedp.SendKeys(chromedp.CSS("#code"), "qe_wrong"), chromedp.Click(chromedp.CSS("#code-form button[type=submit]")))
	teacher.wait(`document.querySelector("#code-error") !== null`, 10*time.Second)
	teacher.screenshot("staff-code-ru")
	teacher.do(chromedp.Evaluate[chromedp.Void](`document.querySelector("#code").value = ""`),
		chromedp.SendKeys(chromedp.CSS("#code"), code), chromedp.Click(chromedp.CSS("#code-form button[type=submit]")))
	teacher.wait(`document.querySelector("#staff") !== null`, 10*time.Second)
	if u := eval[string](teacher, "location.href"); strings.Contains(u, code) {
		t.Errorf("the code is in the address: %s", u)
	}
	if eval[bool](teacher, fmt.Sprintf("document.body.innerHTML.includes(%q)", code)) {
		t.Errorf("the code is in the page")
	}
	if !strings.Contains(eval[string](teacher, "document.querySelector('.staff-mode h1').textContent"), "Блокировка") {
		t.Errorf("the page does not word the lockdown")
	}

	// The page audited in each language; then, in Kazakh, a step ticked
	// and the room locked.
	text := map[string]string{}
	for _, lang := range []string{"en", "ru", "kk"} {
		teacher.language(lang)
		text[lang] = auditPage(t, teacher, "the staff page in "+lang, lang)
	}
	differ(t, "the staff page", text)
	if w := eval[int](teacher, "document.documentElement.scrollWidth"); w > 360 {
		t.Errorf("the staff page is %d px wide on a 360 px screen", w)
	}
	teacher.do(chromedp.Click(chromedp.CSS("#step-1 button.tick")))
	teacher.wait(`document.querySelector("#step-1.ticked") !== null`, 10*time.Second)
	teacher.do(chromedp.Click(chromedp.CSS("#secured-button")))
	teacher.wait(`document.querySelector("#secured-at") !== null`, 10*time.Second)
	teacher.do(chromedp.Navigate(s.base + "/staff"))
	teacher.screenshot("staff-checklist-kk-360")
	firstScreen(teacher, "staff-checklist-kk-360-first-screen")

	// In Russian: every pupil of the class present.
	teacher.language("ru")
	n := eval[int](teacher, `document.querySelectorAll("#marks-form fieldset").length`)
	if n < inside || inside == 0 {
		t.Errorf("the class list shows %d pupils; %d of the class are inside", n, inside)
	}
	teacher.do(chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('#marks-form input[value="present"]').forEach(r => r.click())`))
	teacher.screenshot("staff-marks-ru-360")
	teacher.do(chromedp.Click(chromedp.CSS("#marks-button")))
	teacher.wait(`document.querySelector("#notice") !== null && location.hash === "#marks"`, 10*time.Second)
	if got := eval[int](teacher, `document.querySelectorAll('#marks-form input[value="present"]:checked').length`); got != n {
		t.Errorf("after saving, %d of %d pupils show present", got, n)
	}
	if errs := teacher.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors on the staff page: %v", errs)
	}

	// The director's page: the class is accounted for.
	director.do(chromedp.Navigate(s.base + "/schools/1/emergency"))
	director.wait(`document.querySelector("#emergency-rollcall") !== null`, 10*time.Second)
	if eval[bool](director, classShown) {
		t.Errorf("class %s is still unaccounted on the director's emergency page after the teacher's marks", class)
	}
}

// firstScreen saves what the phone's screen shows without scrolling.
func firstScreen(p *person, name string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Fatalf("%s: screenshot: %v", p.name, err)
	}
	if err := os.WriteFile(filepath.Join(screenshots, name+".png"), png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}
