package main_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"qorgan/internal/sim/panel"
)

// chromium is Debian's Chromium: the browser the console is tested in.
const chromium = "/usr/bin/chromium"

// screenshots is where the browser test leaves its pictures (not committed).
const screenshots = "testdata/screenshots"

// person is one signed-in browser context: its own cookies, its console
// messages collected.
type person struct {
	t       *testing.T
	name    string
	ctx     context.Context
	mu      sync.Mutex
	errors  []string
	dialogs context.CancelFunc // stops the last answerDialogs
}

func newPerson(t *testing.T, browser context.Context, name string) *person {
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	p := &person{t: t, name: name, ctx: ctx}
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("%s: open a tab: %v", name, err)
	}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				p.mu.Lock()
				p.errors = append(p.errors, m.String())
				p.mu.Unlock()
			}
		}
	}()
	return p
}

func (p *person) do(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.t.Fatalf("%s: %v", p.name, err)
	}
}

func eval[T any](p *person, js string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		p.t.Fatalf("%s: %s: %v", p.name, js, err)
	}
	return v
}

// wait evaluates js in the page every 10 ms until it is true, for at most
// d; an evaluation that fails while a page is loading is tried again.
func (p *person) wait(js string, d time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(d)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+js+")"))
		cancel()
		if err == nil && ok {
			return
		}
		last = err
		time.Sleep(10 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
	defer cancel()
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string]("document.body ? document.body.innerText : ''"))
	p.t.Fatalf("%s: waited %v for %s (%v)\npage: %s", p.name, d, js, last, text)
}

func (p *person) screenshot(name string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Fatalf("%s: screenshot: %v", p.name, err)
	}
	if err := os.WriteFile(filepath.Join(screenshots, name+".png"), png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// noInline fails when the page has an inline script, a style element or
// attribute, or an event handler attribute: the CSP forbids them, so they
// would be dead code or a hole.
func (p *person) noInline(page string) {
	p.t.Helper()
	found := eval[[]string](p, `(() => {
		const out = [];
		document.querySelectorAll("script:not([src]), style, [style]").forEach(e => out.push(e.outerHTML.slice(0, 80)));
		document.querySelectorAll("*").forEach(e => { for (const a of e.attributes) if (a.name.startsWith("on")) out.push(e.tagName + " " + a.name); });
		return out;
	})()`)
	if len(found) > 0 {
		p.t.Errorf("%s: inline script or style on %s: %v", p.name, page, found)
	}
}

func (p *person) consoleErrors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.errors...)
}

func (p *person) signIn(base, login string) {
	p.t.Helper()
	p.do(chromedp.Navigate(base+"/"),
		chromedp.SendKeys(chromedp.CSS("#login"), login),
		chromedp.SendKeys(chromedp.CSS("#password"), "qorgan-demo-2026"),
		chromedp.Click(chromedp.CSS("form.stack button[type=submit]")))
	p.wait(`document.querySelector(".who .name") !== null`, 10*time.Second)
}

func (p *person) language(lang string) {
	p.t.Helper()
	p.do(chromedp.Evaluate[chromedp.Void]("window.qorganOldPage = true"), chromedp.Click(chromedp.CSS(`form.lang button[value="`+lang+`"]`)))
	p.wait(`!window.qorganOldPage && document.documentElement.lang === "`+lang+`" && document.readyState === "complete"`, 10*time.Second)
}

// TestConsoleInBrowser drives the operator console in headless Chromium
// against the real binary: a ПЦН operator signs in, a panic frame from the
// panel simulator appears in the open queue without a reload, is
// acknowledged with the keyboard, and the ЦОУ's open console shows that
// the ПЦН acknowledged it; another school's guard gets the not-found page
// for the alarm; the language switch changes the page's words.
func TestConsoleInBrowser(t *testing.T) {
	browser, s := browserDemo(t)

	// The sign-in page in each language, before anyone signs in.
	visitor := newPerson(t, browser, "visitor")
	visitor.do(chromedp.Navigate(s.base + "/"))
	visitor.noInline("the sign-in page")
	signinText := map[string]string{}
	for _, l := range []string{"kk", "ru", "en"} {
		visitor.language(l)
		signinText[l] = eval[string](visitor, "document.querySelector('main').innerText")
		visitor.screenshot("signin-" + l)
	}
	differ(t, "sign-in page", signinText)
	visitor.do(chromedp.Navigate(s.base + "/"))
	visitor.do(chromedp.SendKeys(chromedp.CSS("#login"), "pcn"), chromedp.SendKeys(chromedp.CSS("#password"), "wrong-password"),
		chromedp.Click(chromedp.CSS("form.stack button[type=submit]")))
	visitor.wait(`document.querySelector("#signin-error") !== null`, 10*time.Second)
	if msg := eval[string](visitor, "document.querySelector('#signin-error').innerText"); !strings.Contains(msg, "Wrong login or password") {
		t.Errorf("wrong password says %q", msg)
	}

	pcn := signedInAs(t, browser, s.base, "pcn", "ru")
	pcn.do(chromedp.Navigate(s.base + "/console"))
	pcn.wait(`document.querySelector("#status.live") !== null`, 10*time.Second)
	pcn.noInline("the console")
	cou := signedInAs(t, browser, s.base, "cou", "")
	cou.do(chromedp.Navigate(s.base + "/console"))
	cou.wait(`document.querySelector("#status.live") !== null`, 10*time.Second)

	before := eval[int](pcn, `document.querySelectorAll("#alarms tbody tr.alarm").length`)
	sent := time.Now()
	rep, err := panel.Run(context.Background(), panel.Config{Addr: s.dc09, Accounts: []string{"1234"}, Codes: []string{"PA"}, Count: 1}, io.Discard)
	if err != nil {
		t.Fatalf("panel simulator: %v (%v)", err, rep)
	}
	acked := time.Since(sent)
	pcn.wait(fmt.Sprintf(`document.querySelectorAll("#alarms tbody tr.alarm").length > %d`, before), 5*time.Second)
	shown := time.Since(sent)
	t.Logf("queue latency: the panic frame was ACKed after %v and in the ПЦН's open queue, without a reload, after %v", acked.Round(time.Millisecond), shown.Round(time.Millisecond))
	if shown > time.Second {
		t.Errorf("the alarm took %v to appear in the queue; want within 1 s", shown)
	}
	id := eval[string](pcn, `document.querySelector("#alarms tbody tr.alarm").dataset.id`)
	row := `#alarms tbody tr.alarm[data-id="` + id + `"]`
	if got := eval[string](pcn, `document.querySelector('`+row+` .prio-word').innerText + " | " + document.querySelector('`+row+` .type').innerText`); got != "Тревога | Тревожная кнопка" {
		t.Errorf("the new row says %q", got)
	}
	if eval[int](pcn, "performance.getEntriesByType('navigation').length") != 1 || eval[string](pcn, "performance.getEntriesByType('navigation')[0].type") == "reload" {
		t.Errorf("the page reloaded")
	}
	pcn.wait(`document.title.includes("▲")`, 3*time.Second) // the title flashes
	pcn.screenshot("console-ru-new-alarm")

	// Acknowledge with the keyboard: j selects the newest alarm, a acknowledges it.
	statsBefore := eval[string](pcn, `document.querySelector(".stats").innerText`)
	pcn.do(chromedp.KeyEvent("j"), chromedp.KeyEvent("a"))
	pcn.wait(`document.querySelector('`+row+` .ack[data-party="pcn"].done') !== null && document.querySelector('`+row+` .ack-form').classList.contains("hidden")`, 5*time.Second)
	cou.wait(`document.querySelector('`+row+` .ack[data-party="pcn"].done') !== null`, 5*time.Second)
	if got := eval[string](cou, `document.querySelector('`+row+` .ack[data-party="pcn"]').innerText`); !strings.Contains(got, "✓") {
		t.Errorf("the ЦОУ's console says of the ПЦН: %q", got)
	}
	cou.screenshot("console-cou-after-pcn-ack")
	// The acknowledgement statistics follow without a reload.
	pcn.wait(fmt.Sprintf(`document.querySelector(".stats").innerText !== %q`, statsBefore), 5*time.Second)

	// Dispatch, on site and close, each by its key on the alarm's page;
	// the ЦОУ's open page of the same alarm follows without a reload.
	cou.do(chromedp.Navigate(s.base + "/alarms/" + id))
	cou.wait(`document.querySelector(".timeline tbody tr.step-acknowledged") !== null`, 10*time.Second)
	pcn.do(chromedp.Navigate(s.base + "/console"))
	pcn.wait(`document.querySelector("#status.live") !== null`, 10*time.Second)
	pcn.do(chromedp.KeyEvent("j"), chromedp.KeyEvent("d"))
	pcn.wait(`location.pathname === "/alarms/`+id+`" && document.activeElement && document.activeElement.id === "responder"`, 10*time.Second)
	pcn.noInline("the alarm's page with its response forms")
	pcn.screenshot("alarm-ru-dispatch")
	// Each step's form posts and the page comes back: wait for the new
	// page, not for the old one's live refresh.
	pcn.do(chromedp.Evaluate[chromedp.Void]("window.qorganOldPage = true"), chromedp.SendKeys(chromedp.CSS("#responder"), "ГБР-7\r"))
	pcn.wait(`!window.qorganOldPage && document.readyState === "complete" && document.querySelector(".timeline tbody tr.step-dispatched") !== null && document.querySelector("#on-site") !== null`, 10*time.Second)
	if got := eval[string](pcn, `document.querySelector(".timeline tbody tr.step-dispatched").innerText`); !strings.Contains(got, "ГБР-7") {
		t.Errorf("the dispatch step reads %q, want the group's name", got)
	}
	cou.wait(`document.querySelector(".timeline tbody tr.step-dispatched") !== null`, 5*time.Second)
	if eval[string](cou, "performance.getEntriesByType('navigation')[0].type") == "reload" {
		t.Errorf("the ЦОУ's alarm page reloaded")
	}
	pcn.do(chromedp.Evaluate[chromedp.Void]("window.qorganOldPage = true"), chromedp.KeyEvent("o"))
	pcn.wait(`!window.qorganOldPage && document.readyState === "complete" && document.querySelector(".timeline tbody tr.step-on_site") !== null`, 10*time.Second)
	pcn.do(chromedp.KeyEvent("r"))
	pcn.wait(`document.activeElement && document.activeElement.id === "resolution"`, 10*time.Second)
	pcn.do(chromedp.SetValue(chromedp.CSS("#resolution"), "false"), chromedp.SendKeys(chromedp.CSS("#notes"), "кнопку нажал ученик"),
		chromedp.Click(chromedp.CSS("#resolve button[type=submit]")))
	pcn.wait(`location.pathname === "/console" && document.querySelector("#status.live") !== null`, 10*time.Second)
	if n := eval[int](pcn, `document.querySelectorAll('`+row+`').length`); n != 0 {
		t.Errorf("the closed alarm is still in the ПЦН's queue")
	}
	cou.wait(`document.querySelector(".timeline tbody tr.step-resolved") !== null`, 5*time.Second)
	cou.screenshot("alarm-cou-followed")

	// The alarm's page, and the words in each language.
	consoleText, alarmText := map[string]string{}, map[string]string{}
	for _, l := range []string{"kk", "ru", "en"} {
		pcn.do(chromedp.Navigate(s.base + "/console"))
		pcn.language(l)
		pcn.wait(`document.querySelector("#status.live") !== null`, 10*time.Second)
		consoleText[l] = eval[string](pcn, "document.querySelector('main').innerText")
		pcn.screenshot("console-" + l)
		pcn.do(chromedp.Navigate(s.base + "/alarms/" + id))
		pcn.wait(`document.querySelector(".timeline tbody tr.step-acknowledged") !== null`, 10*time.Second)
		pcn.noInline("the alarm's page")
		alarmText[l] = eval[string](pcn, "document.querySelector('main').innerText")
		pcn.screenshot("alarm-" + l)
	}
	differ(t, "console", consoleText)
	differ(t, "alarm page", alarmText)
	for l, want := range map[string]string{"kk": "Дабылдар пульті", "ru": "Пульт тревог", "en": "Alarm console"} {
		if !strings.HasPrefix(consoleText[l], want) {
			t.Errorf("console in %s begins %q, want %q", l, firstLine(consoleText[l]), want)
		}
	}
	for l, want := range map[string]string{"kk": "Мектеп картасы", "ru": "Карточка школы", "en": "School card"} {
		if !strings.Contains(alarmText[l], want) {
			t.Errorf("alarm page in %s has no %q", l, want)
		}
	}

	// A burst of panics: the ЦОУ's open console takes every one into its
	// queue as it comes, and reads the page again (for the proposals they
	// make) at most once a second, not once an alarm.
	cou.do(chromedp.Navigate(s.base + "/console"))
	cou.wait(`document.querySelector("#status.live") !== null`, 10*time.Second)
	fetches := `performance.getEntriesByType("resource").filter(e => new URL(e.name).pathname === "/console").length`
	fetchedBefore := eval[int](cou, fetches)
	rowsBefore := eval[int](cou, `document.querySelectorAll("#alarms tbody tr.alarm").length`)
	burst := time.Now()
	// Numbers 0002–0030 are new; 0001 is the first panic sent again.
	if rep, err := panel.Run(context.Background(), panel.Config{Addr: s.dc09, Accounts: []string{"1234"}, Codes: []string{"PA"}, Count: 30}, io.Discard); err != nil {
		t.Fatalf("panel simulator: %v (%v)", err, rep)
	}
	cou.wait(fmt.Sprintf(`document.querySelectorAll("#alarms tbody tr.alarm").length >= %d`, rowsBefore+29), 10*time.Second)
	time.Sleep(1500 * time.Millisecond) // the last read, at the end of its second
	allowed := 2 + int(time.Since(burst)/time.Second)
	if got := eval[int](cou, fetches) - fetchedBefore; got < 1 || got > allowed {
		t.Errorf("29 new alarms in %v made the console read its page %d times; want at least once and at most %d", time.Since(burst).Round(time.Millisecond), got, allowed)
	}

	// Another school's guard: the alarm does not exist for them.
	guard2 := signedInAs(t, browser, s.base, "guard2", "en")
	guard2.do(chromedp.Navigate(s.base + "/alarms/" + id))
	if h := eval[string](guard2, "document.querySelector('main h1').innerText"); h != "Not found" {
		t.Errorf("guard2 opening school 1's alarm sees %q, want the not-found page", h)
	}
	if strings.Contains(eval[string](guard2, "document.body.innerText"), "Тревожная") {
		t.Errorf("the not-found page shows something of the alarm")
	}

	for _, p := range []*person{visitor, pcn, cou} {
		if errs := p.consoleErrors(); len(errs) > 0 {
			t.Errorf("%s: browser console errors: %v", p.name, errs)
		}
	}
	// guard2's one expected message is the 404 of the page itself.
	for _, e := range guard2.consoleErrors() {
		if !strings.Contains(e, "404") {
			t.Errorf("guard2: browser console error: %s", e)
		}
	}
}

// startBrowser starts Debian's headless Chromium for one test (skipped when
// it is missing, unless QORGAN_TEST_REQUIRE_BROWSER=1) and makes the
// screenshots folder.
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv("QORGAN_TEST_REQUIRE_BROWSER") == "1" {
			t.Fatalf("QORGAN_TEST_REQUIRE_BROWSER=1 but %s is missing (apt-get install -y chromium)", chromium)
		}
		t.Skipf("%s is missing: the console's browser tests need Debian's Chromium (apt-get install -y chromium)", chromium)
	}
	if err := os.MkdirAll(screenshots, 0o755); err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browser, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return browser
}

// differ fails when two languages show the same text on a page.
func differ(t *testing.T, page string, text map[string]string) {
	t.Helper()
	for _, a := range []string{"kk", "ru", "en"} {
		for _, b := range []string{"kk", "ru", "en"} {
			if a < b && text[a] == text[b] {
				t.Errorf("the %s reads the same in %s and %s", page, a, b)
			}
		}
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
