package main_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// TestAdminInBrowser drives the administrator's and the education
// department's pages in headless Chromium against the real binary: the
// administrator creates a person with bad fields (each message beside its
// field, what was typed kept), fixes them, and the new person — Turkestan
// region's education department — signs in, searches the schools, filters
// them by district and opens a card, and gets the not-found page for
// another region's school; the administrator disables them (asked to
// confirm first; cancelled, nothing happens), and their
// open page goes back to sign-in on its next request; the audit page shows
// the chain verified. Each page reads differently in kk, ru and en, has no
// inline script or style, an input without a label, or a console error.
func TestAdminInBrowser(t *testing.T) {
	browser, s := browserDemo(t)

	admin := signedInAs(t, browser, s.base, "admin", "ru")
	admin.do(chromedp.Navigate(s.base + "/admin/people"))
	admin.wait(`document.querySelector("#new-person") !== null`, 10*time.Second)
	admin.noInline("the people page")
	admin.labelled("the people page")
	admin.reaches("the people page", "#search-login", "#people form button", "#login", "#role", "#password", "#new-person button[type=submit]", "#g_login")

	// Two bad fields: an 8-digit KATO code and a short password.
	admin.do(
		chromedp.SendKeys(chromedp.CSS("#login"), "turkestan.edu"),
		chromedp.SendKeys(chromedp.CSS("#full_name"), "Түркістан облысының білім басқармасы"),
		chromedp.SetValue(chromedp.CSS("#role"), "education_department"),
		chromedp.SetValue(chromedp.CSS("#scope_kind"), "region"),
		chromedp.SendKeys(chromedp.CSS("#scope_ref"), "61000000"),
		chromedp.SendKeys(chromedp.CSS("#password"), "short"),
		chromedp.Evaluate[chromedp.Void]("window.qorganOldPage = true"),
		chromedp.Click(chromedp.CSS("#new-person button[type=submit]")))
	admin.wait(`!window.qorganOldPage && document.querySelector("#scope_ref-error") !== null`, 10*time.Second)
	kept := eval[string](admin, `[
		document.querySelector("#login").value, document.querySelector("#full_name").value, document.querySelector("#role").value,
		document.querySelector("#scope_kind").value, document.querySelector("#scope_ref").value, document.querySelector("#password").value].join("|")`)
	if kept != "turkestan.edu|Түркістан облысының білім басқармасы|education_department|region|61000000|" {
		t.Errorf("after the bad form, the fields hold %q (want what was typed, and no password)", kept)
	}
	for _, f := range []string{"scope_ref", "password"} {
		beside := eval[bool](admin, fmt.Sprintf(`(() => {
			const i = document.querySelector("#%[1]s"), e = document.querySelector("#%[1]s-error");
			return !!e && e.parentElement === i.parentElement && i.getAttribute("aria-invalid") === "true" && i.getAttribute("aria-describedby").includes("%[1]s-error");
		})()`, f))
		if !beside {
			t.Errorf("the message for %s is not beside its field", f)
		}
	}
	if n := eval[int](admin, `document.querySelectorAll(".field-error").length`); n != 2 {
		t.Errorf("%d field messages, want 2 (the KATO code and the password)", n)
	}
	admin.do(chromedp.Clear(chromedp.CSS("#scope_ref")), chromedp.SendKeys(chromedp.CSS("#scope_ref"), "610000000"),
		chromedp.SendKeys(chromedp.CSS("#password"), "turkestan-password-1"),
		chromedp.Click(chromedp.CSS("#new-person button[type=submit]")))
	admin.wait(`location.search.includes("done=created") && document.readyState === "complete" && document.querySelector('#people tr[data-login="turkestan.edu"]') !== null`, 10*time.Second)
	admin.screenshot("admin-people-ru")

	// The new person signs in and works.
	edu := newPerson(t, browser, "turkestan.edu")
	edu.do(chromedp.Navigate(s.base+"/"),
		chromedp.SendKeys(chromedp.CSS("#login"), "turkestan.edu"),
		chromedp.SendKeys(chromedp.CSS("#password"), "turkestan-password-1"),
		chromedp.Click(chromedp.CSS("form.stack button[type=submit]")))
	edu.wait(`document.querySelector(".who .name") !== null`, 10*time.Second)
	edu.language("ru")
	edu.do(chromedp.Navigate(s.base + "/schools"))
	edu.wait(`document.querySelector("#schools") !== null`, 10*time.Second)
	edu.noInline("the schools")
	edu.labelled("the schools")
	edu.reaches("the schools", "#q", "#district", "#uto", "#region-schools form button[type=submit]", "#schools tbody a")
	total := eval[int](edu, `document.querySelectorAll("#schools tbody tr[data-id]").length`)
	if total < 2 {
		t.Fatalf("Turkestan's department sees %d schools", total)
	}
	name := eval[string](edu, `document.querySelectorAll("#schools tbody tr[data-id] a")[1].innerText`)
	edu.do(chromedp.SendKeys(chromedp.CSS("#q"), name), chromedp.Click(chromedp.CSS("#region-schools form button[type=submit]")))
	edu.wait(`location.search.includes("q=") && document.readyState === "complete"`, 10*time.Second)
	if got := eval[[]string](edu, `[...document.querySelectorAll("#schools tbody tr[data-id] a")].map(a => a.innerText)`); len(got) == 0 || got[0] != name {
		t.Errorf("searching %q shows %v", name, got)
	}

	edu.do(chromedp.Navigate(s.base + "/schools"))
	district := eval[string](edu, `document.querySelectorAll("#district option")[1].value`)
	districtName := eval[string](edu, `document.querySelectorAll("#district option")[1].innerText`)
	edu.do(chromedp.SetValue(chromedp.CSS("#district"), district), chromedp.Click(chromedp.CSS("#region-schools form button[type=submit]")))
	edu.wait(`location.search.includes("district=`+district+`") && document.readyState === "complete"`, 10*time.Second)
	cells := eval[[]string](edu, `[...document.querySelectorAll("#schools tbody tr[data-id] td:nth-child(3)")].map(td => td.innerText)`)
	if len(cells) == 0 {
		t.Fatalf("district %s (%s) shows no school", district, districtName)
	}
	for _, c := range cells {
		if c != districtName {
			t.Errorf("the district filter %q shows a school of %q", districtName, c)
		}
	}
	edu.screenshot("region-schools-ru")

	edu.do(chromedp.Click(chromedp.CSS("#schools tbody tr[data-id] a")))
	edu.wait(`document.querySelector("#region-school #compliance") !== null`, 10*time.Second)
	edu.noInline("the school's card")
	card := eval[string](edu, `document.querySelector("main").innerText`)
	for _, want := range []string{"Адрес", "Координаты", "Численность", "Смены", "Договоры охраны", "Центр оперативного управления (ЦОУ)", "Соответствие стандартам"} {
		if !strings.Contains(card, want) {
			t.Errorf("the school's card lacks %q", want)
		}
	}
	cardPath := eval[string](edu, "location.pathname")
	edu.screenshot("region-school-card-ru")
	// The contracts fit their card, each language's headings and states
	// read whole, on the 1280 px screen: nothing cut off at its edge.
	for _, l := range []string{"kk", "ru", "en"} {
		edu.language(l)
		card := eval[int](edu, `Math.floor(document.querySelector("#contracts").closest(".card").getBoundingClientRect().right)`)
		if reach := edu.tableReach("#contracts"); reach > card+1 {
			t.Errorf("in %s the contracts table reaches %d px, past its card's edge at %d px: its last column is cut off", l, reach, card)
		}
	}
	edu.language("ru")

	// Another region's school does not exist for them.
	edu.do(chromedp.Navigate(s.base + "/schools/1"))
	if title := eval[string](edu, "document.title"); !strings.Contains(title, "Страница не найдена") {
		t.Errorf("another region's school: the page is %q, want not found", title)
	}

	// Each page in the three languages.
	for _, pg := range []struct {
		who        *person
		name, path string
	}{{edu, "schools", "/schools"}, {edu, "school card", cardPath}, {edu, "providers", "/providers"}, {edu, "police units", "/police-units"},
		{admin, "people", "/admin/people"}, {admin, "tokens", "/admin/tokens"}, {admin, "audit trail", "/admin/audit"}} {
		pg.who.do(chromedp.Navigate(s.base + pg.path))
		pg.who.noInline(pg.name)
		pg.who.labelled(pg.name)
		text := map[string]string{}
		for _, l := range []string{"kk", "ru", "en"} {
			pg.who.language(l)
			text[l] = eval[string](pg.who, "document.querySelector('main').innerText")
		}
		differ(t, pg.name, text)
		pg.who.language("ru")
	}

	admin.do(chromedp.Navigate(s.base + "/admin/audit"))
	admin.wait(`document.querySelector("#verify") !== null`, 10*time.Second)
	if v := eval[string](admin, `document.querySelector("#verify").innerText`); !strings.Contains(v, "Цепочка цела") {
		t.Errorf("the audit page says %q", v)
	}
	// Each entry's action is named in the page's language, the stored code
	// only in its title; the account just created is there, by its login.
	named := map[string]string{"kk": "Есептік жазба құру", "ru": "Создание учётной записи", "en": "Account created"}
	for _, l := range []string{"kk", "ru", "en"} {
		admin.language(l)
		row := `document.querySelector('#audit tr[data-action="user.create"]')`
		if got := eval[string](admin, row+` ? `+row+`.innerText : ""`); !strings.Contains(got, named[l]) || !strings.Contains(got, "turkestan.edu") {
			t.Errorf("%s: the audit trail shows the account just created as %q, want %q and its login", l, got, named[l])
		}
		if raw := eval[[]string](admin, `[...document.querySelectorAll("#audit tbody tr[data-action] td:nth-child(4)")].map(c => c.innerText).filter(x => /^[a-z_]+\.[a-z_]+$/.test(x))`); len(raw) > 0 {
			t.Errorf("%s: the audit trail shows actions by their codes: %v", l, raw)
		}
		if w := admin.tableReach("#audit"); w > 1280 {
			t.Errorf("%s: the audit trail reaches %d px, past the 1280 px page", l, w)
		}
		admin.screenshot("admin-audit-" + l)
	}
	// On a phone each entry, account and token is a card: nothing runs
	// past the screen. (A token to show first: the list is empty so far.)
	if st := apiAs(t, s.base, "director").do("POST", "/api/v1/tokens", map[string]any{"name": "school 1 turnstile integration"}, nil); st != 201 {
		t.Fatalf("a director's token: %d", st)
	}
	admin.do(chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile, chromedp.EmulateTouch))
	for _, pg := range []struct{ path, table string }{{"/admin/audit", "#audit"}, {"/admin/people", "#people"}, {"/admin/tokens", "#tokens"}} {
		admin.do(chromedp.Navigate(s.base + pg.path))
		admin.wait(`document.querySelector("`+pg.table+` tbody tr[data-action], `+pg.table+` tbody tr[data-login], `+pg.table+` tbody tr[data-token]") !== null`, 10*time.Second)
		if w, reach := eval[int](admin, "document.documentElement.scrollWidth"), admin.tableReach(pg.table); w > 360 || reach > 360 {
			t.Errorf("en: on a 360 px screen %s is %d px wide and its table reaches %d px", pg.path, w, reach)
		}
		admin.screenshot("admin" + strings.ReplaceAll(pg.path[6:], "/", "-") + "-en-360")
	}
	admin.do(chromedp.EmulateViewport(1280, 900), chromedp.Navigate(s.base+"/admin/audit"))
	admin.wait(`document.querySelector("#audit") !== null`, 10*time.Second)
	admin.language("ru")
	// The filter offers the actions by name; choosing one shows only it.
	admin.do(chromedp.SetValue(chromedp.CSS("#action"), "user.create"), chromedp.Evaluate[chromedp.Void]("window.qorganOldPage = true"),
		chromedp.Click(chromedp.CSS("#admin-audit form.adm-filters button[type=submit]")))
	admin.wait(`!window.qorganOldPage && document.querySelector("#audit") !== null`, 10*time.Second)
	if got := eval[[]string](admin, `[...new Set([...document.querySelectorAll("#audit tbody tr")].map(r => r.dataset.action))]`); len(got) != 1 || got[0] != "user.create" {
		t.Errorf("the trail filtered by «%s» shows the actions %v", named["ru"], got)
	}

	// Disabled: the open page goes back to sign-in on its next request.
	edu.do(chromedp.Navigate(s.base + cardPath))
	edu.wait(`document.querySelector("#region-school") !== null`, 10*time.Second)
	// Blocking asks first: cancelled, nothing is sent; confirmed, the
	// person is blocked.
	admin.do(chromedp.Navigate(s.base + "/admin/people?login=turkestan.edu"))
	asked := admin.answerDialogs(false)
	admin.do(chromedp.Click(chromedp.CSS(`#people tr[data-login="turkestan.edu"] form button`)))
	if got, want := asked(), "Заблокировать эту учётную запись? Все её сеансы и токены сразу завершатся, и войти будет нельзя, пока её не разблокируют."; got != want {
		t.Fatalf("blocking asked %q, want %q", got, want)
	}
	if eval[string](admin, "location.search") != "?login=turkestan.edu" || !strings.Contains(eval[string](admin, `document.querySelector('#people tr[data-login="turkestan.edu"]').innerText`), "активен") {
		t.Fatal("blocking went ahead when the administrator cancelled it")
	}
	admin.answerDialogs(true)
	admin.do(chromedp.Click(chromedp.CSS(`#people tr[data-login="turkestan.edu"] form button`)))
	admin.wait(`location.search.includes("done=disabled") && document.readyState === "complete"`, 10*time.Second)
	if row := eval[string](admin, `document.querySelector('#people tr[data-login="turkestan.edu"]').innerText`); !strings.Contains(row, "заблокирован") {
		t.Errorf("the disabled person's row reads %q", row)
	}
	edu.do(chromedp.Click(chromedp.CSS(`#region-school a[href="/schools"]`)))
	edu.wait(`location.pathname === "/" && document.querySelector("#login") !== null`, 10*time.Second)
	if q := eval[string](edu, "location.search"); q != "?next=%2Fschools" {
		t.Errorf("back at sign-in with %q, want the place kept (?next=%%2Fschools)", q)
	}

	for _, p := range []*person{admin, edu} {
		for _, e := range p.consoleErrors() {
			// The not-found page and the refused form answer 404 and
			// 422 on purpose; the browser notes each.
			if !strings.Contains(e, "404") && !strings.Contains(e, "422") {
				t.Errorf("%s: browser console error: %s", p.name, e)
			}
		}
	}
}

// labelled fails when an input, select or text area that a person sees
// has no label.
func (p *person) labelled(page string) {
	p.t.Helper()
	bare := eval[[]string](p, `[...document.querySelectorAll("input:not([type=hidden]), select, textarea")]
		.filter(e => !(e.id && document.querySelector('label[for="' + e.id + '"]')) && !e.getAttribute("aria-label") && !e.closest("label"))
		.map(e => e.outerHTML.slice(0, 80))`)
	if len(bare) > 0 {
		p.t.Errorf("%s: inputs without a label on %s: %v", p.name, page, bare)
	}
}

// reaches fails unless the Tab key, from the top of the page, brings the
// focus to each of the elements (CSS selectors), each with a visible focus
// outline.
func (p *person) reaches(page string, sels ...string) {
	p.t.Helper()
	p.do(chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur(); window.qorganFocused = [];
		document.addEventListener("focusin", e => { const s = getComputedStyle(e.target); window.qorganFocused.push({el: e.target, seen: s.outlineStyle !== "none" && s.outlineWidth !== "0px"}); })`))
	for range 80 {
		p.do(chromedp.KeyEvent("\t"))
	}
	for _, sel := range sels {
		got := eval[string](p, fmt.Sprintf(`(() => {
			const f = window.qorganFocused.find(x => x.el.matches(%q));
			return !f ? "never" : f.seen ? "ok" : "no visible focus";
		})()`, sel))
		if got != "ok" {
			p.t.Errorf("%s: Tab on %s: %s: %s", p.name, page, sel, got)
		}
	}
}

// answerDialogs has the person answer every JavaScript dialog of their tab
// from now on — confirm when accept, cancel otherwise — until the next
// call. The function returned waits (up to 10 s) for the next dialog and
// returns its message.
func (p *person) answerDialogs(accept bool) func() string {
	p.t.Helper()
	if p.dialogs != nil {
		p.dialogs()
	}
	ctx, cancel := context.WithCancel(p.ctx)
	p.dialogs = cancel
	messages := make(chan string, 8)
	opening := chromedp.Events(ctx, page.JavascriptDialogOpening)
	var wg sync.WaitGroup
	wg.Go(func() {
		for e, err := range opening {
			if err != nil {
				return
			}
			select {
			case messages <- e.Message:
			default:
			}
			// Answered from another goroutine than the one that receives
			// the events.
			go chromedp.Do(p.ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
				_, err := cdp.Call(ctx, t, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: accept})
				return err
			}))
		}
	})
	p.t.Cleanup(func() { cancel(); wg.Wait() })
	return func() string {
		select {
		case m := <-messages:
			return m
		case <-time.After(10 * time.Second):
			return "(no dialog)"
		}
	}
}
