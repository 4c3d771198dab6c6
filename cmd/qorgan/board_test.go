package main_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestSchoolBoardInBrowser drives the school's pages in headless Chromium
// against the real binary: the guard's board shows a pass arriving and the
// inside count changing without a reload; the roll-call, filtered to those
// inside, lists the pupil; a click on the panic button asks for
// confirmation and raises nothing by itself; a confirmed silent panic
// reaches the ПЦН's and the ЦОУ's consoles and never the guard's own board.
func TestSchoolBoardInBrowser(t *testing.T) {
	browser, s := browserDemo(t)

	guard := signedInAs(t, browser, s.base, "guard", "ru")
	if got := eval[string](guard, "location.pathname"); got != "/schools/1/board" {
		t.Errorf("the guard lands on %s, want the school's board", got)
	}
	guard.wait(`document.querySelector("#pupils-inside") !== null`, 10*time.Second)
	guard.noInline("the school's board")
	insideBefore := eval[string](guard, `document.querySelector("#pupils-inside").innerText`)

	// A pupil who is not inside, from the roll-call, comes in through the
	// director's manual pass.
	director := apiAs(t, s.base, "director")
	var rc struct {
		People []struct {
			Kind, Name, Presence string
			ID                   int64
		} `json:"people"`
	}
	if st := director.do("GET", "/api/v1/schools/1/rollcall", nil, &rc); st != 200 {
		t.Fatalf("roll-call: %d", st)
	}
	var pupilID int64
	var name string
	for _, p := range rc.People {
		if p.Kind == "pupil" && p.Presence != "inside" {
			pupilID, name = p.ID, p.Name
			break
		}
	}
	if pupilID == 0 {
		t.Fatalf("every pupil of school 1 is inside already")
	}
	sent := time.Now()
	if st := director.do("POST", "/api/v1/schools/1/passes/manual", map[string]any{"pupil_id": pupilID, "direction": "in", "request_id": "board-test-1"}, nil); st != 201 && st != 200 && st != 202 {
		t.Fatalf("manual pass: %d", st)
	}
	guard.wait(fmt.Sprintf(`document.querySelector("#passes") && document.querySelector("#passes").innerText.includes(%q)`, name), 8*time.Second)
	t.Logf("the pass reached the guard's board after %v without a reload", time.Since(sent).Round(time.Millisecond))
	if after := eval[string](guard, `document.querySelector("#pupils-inside").innerText`); after == insideBefore {
		t.Errorf("the inside count still reads %q after the pass", after)
	}
	if eval[string](guard, "performance.getEntriesByType('navigation')[0].type") == "reload" {
		t.Errorf("the board reloaded")
	}
	guard.screenshot("board-ru")

	guard.do(chromedp.Navigate(s.base + "/schools/1/rollcall?presence=inside"))
	guard.noInline("the roll-call")
	if list := eval[string](guard, `document.querySelector("#people tbody").innerText`); !strings.Contains(list, name) {
		t.Errorf("the roll-call of those inside does not list %s", name)
	}
	if notInside := eval[int](guard, `document.querySelectorAll("#people tbody tr:not(.presence-inside)").length`); notInside != 0 {
		t.Errorf("the filter 'inside' shows %d rows of people not inside", notInside)
	}
	guard.screenshot("rollcall-ru")

	// The panic: a click is not enough.
	pcn := signedInAs(t, browser, s.base, "pcn", "")
	pcn.do(chromedp.Navigate(s.base + "/console"))
	pcn.wait(`document.querySelector("#status.live") !== null`, 10*time.Second)
	queued := eval[int](pcn, `document.querySelectorAll("#alarms tbody tr.alarm").length`)
	cou := newPerson(t, browser, "cou")
	cou.signIn(s.base, "cou")
	cou.do(chromedp.Navigate(s.base + "/console"))
	cou.wait(`document.querySelector("#status.live") !== null`, 10*time.Second)
	couQueued := eval[int](cou, `document.querySelectorAll("#alarms tbody tr.alarm").length`)

	guard.do(chromedp.Navigate(s.base + "/schools/1/board"))
	boardAlarms := eval[int](guard, `document.querySelectorAll(".school-alarms li").length`)
	guard.do(chromedp.Click(chromedp.CSS("#panic-button")))
	guard.wait(`document.querySelector("#confirm-panic") !== null`, 10*time.Second)
	guard.noInline("the panic confirmation")
	guard.screenshot("panic-confirm-ru")
	// Switching the language on the confirmation keeps it (and raises nothing).
	guard.language("kk")
	guard.wait(`document.querySelector("#confirm-panic") !== null`, 10*time.Second)
	guard.noInline("the panic confirmation in Kazakh")
	time.Sleep(500 * time.Millisecond)
	if n := eval[int](pcn, `document.querySelectorAll("#alarms tbody tr.alarm").length`); n != queued {
		t.Fatalf("a single click on the panic button raised an alarm (the ПЦН's queue went from %d to %d)", queued, n)
	}
	guard.do(chromedp.Click(chromedp.CSS("#silent")), chromedp.Click(chromedp.CSS("#confirm-panic button[type=submit]")))
	guard.wait(`document.querySelector("#raised") !== null`, 10*time.Second)
	pcn.wait(fmt.Sprintf(`document.querySelectorAll("#alarms tbody tr.alarm").length > %d`, queued), 5*time.Second)
	if got := eval[string](pcn, `document.querySelector("#alarms tbody tr.alarm .type").innerText`); got != "Silent panic" && got != "Тихая тревога" && got != "Үнсіз дабыл" {
		t.Errorf("the ПЦН's newest alarm reads %q, want the silent panic", got)
	}
	cou.wait(fmt.Sprintf(`document.querySelectorAll("#alarms tbody tr.alarm").length > %d`, couQueued), 5*time.Second)
	if got := eval[string](cou, `document.querySelector("#alarms tbody tr.alarm .type").innerText`); got != "Silent panic" && got != "Тихая тревога" && got != "Үнсіз дабыл" {
		t.Errorf("the ЦОУ's newest alarm reads %q, want the silent panic", got)
	}
	if n := eval[int](guard, `document.querySelectorAll(".school-alarms li").length`); n != boardAlarms {
		t.Errorf("the silent panic shows on the guard's own board (%d alarms, was %d)", n, boardAlarms)
	}
	for _, p := range []*person{guard, pcn, cou} {
		if errs := p.consoleErrors(); len(errs) > 0 {
			t.Errorf("%s: browser console errors: %v", p.name, errs)
		}
	}
}
