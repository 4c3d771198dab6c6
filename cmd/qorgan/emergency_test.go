package main_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// staffCode is a teacher's class and code in their drill message.
var staffCode = regexp.MustCompile(`(\S+) сыныбын белгілеу коды: (qe_[a-z2-7]+)`)

// TestDrillEndToEnd: with the real binary, a panic frame from the simulator
// proposes an emergency; the director confirms a drill lockdown in one
// action; every staff member's SMS reaches the gateway, marked as a drill;
// the teachers confirm their rooms and mark their classes with the codes
// from their messages; the ПЦН's group arrives; the drill's report shows
// every timing, and the school year counts the drill.
func TestDrillEndToEnd(t *testing.T) {
	box, sinks := guardianSinks(t)
	s := startDemo(t, filepath.Join(t.TempDir(), "demo.db"), sinks...)
	director, st := signIn(t, s.base, "director", "qorgan-demo-2026")
	pcn, st2 := signIn(t, s.base, "pcn", "qorgan-demo-2026")
	if st != 200 || st2 != 200 {
		t.Fatalf("sign-in: %d %d", st, st2)
	}
	// Twenty pupils are inside.
	inPupils := pupilsInside(t, director, 20, "drill-")
	out, err := qorgan(t, "", "simulate", "panel", "--dc09-addr", s.dc09, "--accounts", "1234", "--codes", "PA", "--count", "1")
	if err != nil || !strings.Contains(out, "1 ACK") {
		t.Fatalf("panel: %v\n%s", err, out)
	}
	var alarm int64
	for deadline := time.Now().Add(15 * time.Second); alarm == 0; time.Sleep(50 * time.Millisecond) {
		var props struct {
			Items []struct {
				Alarm struct {
					ID       int64 `json:"id"`
					SchoolID int64 `json:"school_id"`
				} `json:"alarm"`
			} `json:"items"`
		}
		if st := director.do("GET", "/api/v1/emergency-proposals", nil, &props); st != 200 {
			t.Fatalf("proposals: %d", st)
		}
		for _, p := range props.Items {
			if p.Alarm.SchoolID == 1 {
				alarm = p.Alarm.ID
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the panic proposed nothing")
		}
	}
	var e struct {
		ID    int64  `json:"id"`
		State string `json:"state"`
		Drill bool   `json:"drill"`
	}
	if st := director.do("POST", fmt.Sprintf("/api/v1/emergency-proposals/%d", alarm), map[string]any{"drill": true}, &e); st != 201 || e.State != "live" || !e.Drill {
		t.Fatalf("confirm: %d %+v", st, e)
	}
	var staff struct {
		Items []struct {
			Phone string `json:"phone"`
		} `json:"items"`
	}
	director.do("GET", "/api/v1/schools/1/staff", nil, &staff)
	phones := 0
	for _, m := range staff.Items {
		if m.Phone != "" {
			phones++
		}
	}
	drillSMS := func() []string {
		var out []string
		for _, text := range box.texts("sms") {
			if strings.HasPrefix(text, "[ОҚУ-ЖАТТЫҒУ]") && strings.Contains(text, "qe_") {
				out = append(out, text)
			}
		}
		return out
	}
	for deadline := time.Now().Add(30 * time.Second); len(drillSMS()) < phones; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d staff SMS reached the gateway", len(drillSMS()), phones)
		}
	}
	// The pupils inside, by class, as the director sees them.
	var rc struct {
		Unaccounted int `json:"unaccounted"`
		ByClass     []struct {
			Class       string `json:"class"`
			Unaccounted []struct {
				ID int64 `json:"id"`
			} `json:"unaccounted"`
		} `json:"by_class"`
	}
	at := fmt.Sprintf("/api/v1/emergencies/%d", e.ID)
	director.do("GET", at+"/rollcall", nil, &rc)
	if rc.Unaccounted != len(inPupils) {
		t.Fatalf("unaccounted at declaration: %d, want %d", rc.Unaccounted, len(inPupils))
	}
	inside := map[string][]int64{}
	for _, c := range rc.ByClass {
		for _, p := range c.Unaccounted {
			inside[c.Class] = append(inside[c.Class], p.ID)
		}
	}
	// Each teacher: the room is secured, the class marked with their code.
	code := func(tok string) *client {
		return &client{t: t, base: s.base, http: &http.Client{Transport: bearer(tok), Timeout: 30 * time.Second}}
	}
	teachers := 0
	for _, text := range drillSMS() {
		m := staffCode.FindStringSubmatch(text)
		if m == nil {
			continue
		}
		teachers++
		c := code(m[2])
		if st := c.do("POST", "/api/v1/emergency-staff/secured", nil, nil); st != 200 {
			t.Fatalf("secured: %d", st)
		}
		var marks []map[string]any
		for _, id := range inside[m[1]] {
			marks = append(marks, map[string]any{"pupil_id": id, "mark": "present"})
		}
		delete(inside, m[1])
		if len(marks) > 0 {
			if st := c.do("POST", "/api/v1/emergency-staff/marks", map[string]any{"marks": marks}, nil); st != 200 {
				t.Fatalf("marks of class %s: %d", m[1], st)
			}
		}
	}
	if teachers == 0 {
		t.Fatal("no teacher got a code for a class")
	}
	// Classes with no teacher of their own: the director marks them.
	for _, ids := range inside {
		var marks []map[string]any
		for _, id := range ids {
			marks = append(marks, map[string]any{"pupil_id": id, "mark": "present"})
		}
		if st := director.do("POST", at+"/marks", map[string]any{"marks": marks}, nil); st != 200 {
			t.Fatalf("director's marks: %d", st)
		}
	}
	// The ПЦН's group.
	for _, step := range []string{"acknowledge", "dispatch", "on-site"} {
		if st := pcn.do("POST", fmt.Sprintf("/api/v1/alarms/%d/%s", alarm, step), map[string]any{"responder": "ГБР-1"}, nil); st != 200 {
			t.Fatalf("alarm %s: %d", step, st)
		}
	}
	type timing struct {
		Seconds *float64 `json:"seconds"`
	}
	var rep struct {
		Timings struct {
			StaffReached   timing `json:"staff_reached"`
			Secured        timing `json:"secured"`
			Accounted      timing `json:"accounted"`
			ProviderOnSite timing `json:"provider_on_site"`
		} `json:"timings"`
		StaffMessages int `json:"staff_messages"`
		StaffReached  int `json:"staff_reached"`
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if st := director.do("GET", at+"/report", nil, &rep); st != 200 {
			t.Fatalf("report: %d", st)
		}
		if rep.Timings.StaffReached.Seconds != nil || time.Now().After(deadline) {
			break
		}
	}
	tm := rep.Timings
	if tm.StaffReached.Seconds == nil || tm.Secured.Seconds == nil || tm.Accounted.Seconds == nil || tm.ProviderOnSite.Seconds == nil {
		t.Fatalf("the drill's timings: %+v (staff %d/%d)", tm, rep.StaffReached, rep.StaffMessages)
	}
	t.Logf("drill: staff reached %.2f s, secured %.2f s, accounted %.2f s, group on site %.2f s after confirmation",
		*tm.StaffReached.Seconds, *tm.Secured.Seconds, *tm.Accounted.Seconds, *tm.ProviderOnSite.Seconds)
	if st := director.do("POST", at+"/end", map[string]any{"reason": "all_clear"}, nil); st != 200 {
		t.Fatalf("all clear: %d", st)
	}
	var year struct {
		PracticalDone int `json:"practical_done"`
	}
	if st := director.do("GET", "/api/v1/schools/1/drills", nil, &year); st != 200 || year.PracticalDone != 1 {
		t.Fatalf("the school year: %d %+v", st, year)
	}
}

// bearer sends a staff member's code with every request.
type bearer string

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+string(b))
	return http.DefaultTransport.RoundTrip(r)
}

// TestProposalInBrowser: the guard's panic, pressed on the board, proposes
// a lockdown; the ПЦН's open console (without a reload), the alarm's page
// and the director's emergency page show it with its one-action
// confirmation, the guard's emergency page does not; the director's one
// press declares it, the page shows the lockdown in force with a notice
// that it was declared, and the ПЦН's open alarm page no longer offers it.
func TestProposalInBrowser(t *testing.T) {
	browser, s := browserDemo(t)
	pcn := signedInAs(t, browser, s.base, "pcn", "ru")
	pcn.do(chromedp.Navigate(s.base + "/console"))
	pcn.wait(`document.querySelector("#status.live") !== null`, 10*time.Second)
	if eval[bool](pcn, `document.querySelector("#proposals") !== null`) {
		t.Fatal("the ПЦН's console proposes an emergency before any panic")
	}
	guard := signedInAs(t, browser, s.base, "guard", "ru")
	guard.do(chromedp.Navigate(s.base+"/schools/1/board"), chromedp.Click(chromedp.CSS("#panic-button")))
	guard.wait(`document.querySelector("#confirm-panic") !== null`, 10*time.Second)
	guard.do(chromedp.Click(chromedp.CSS("#confirm-panic button[type=submit]")))
	guard.wait(`document.querySelector("#raised") !== null`, 10*time.Second)

	// The open console shows the proposal without a reload.
	pcn.wait(`document.querySelector("#proposals form.proposal") !== null`, 10*time.Second)
	pcn.do(chromedp.Click(chromedp.CSS("#proposals a")))
	pcn.wait(`document.querySelector("#alarm-page #proposals button[type=submit]") !== null`, 10*time.Second)

	director := signedInAs(t, browser, s.base, "director", "ru")
	director.do(chromedp.Navigate(s.base + "/schools/1/emergency"))
	director.wait(`document.querySelector("#proposals button[type=submit]") !== null`, 10*time.Second)
	if got := eval[string](director, `document.querySelector("#proposals strong").innerText`); got != "Блокировка (угроза внутри) · Вооружённое нападение" {
		t.Errorf("the proposal reads %q, want the lockdown for an armed attack", got)
	}
	director.noInline("the emergency page with a proposal")
	director.screenshot("emergency-proposal-ru")

	guard.do(chromedp.Navigate(s.base + "/schools/1/emergency"))
	guard.wait(`document.querySelector("#emergency") !== null`, 10*time.Second)
	if eval[bool](guard, `document.querySelector("#proposals") !== null`) {
		t.Errorf("the guard, who may not confirm, is offered the proposal")
	}

	// The ЦОУ's console, open before the declaration, shows nothing in force.
	cou := signedInAs(t, browser, s.base, "cou", "ru")
	cou.do(chromedp.Navigate(s.base + "/console"))
	cou.wait(`document.querySelector("#status.live") !== null`, 10*time.Second)
	if eval[bool](cou, `document.querySelector("#emergencies-live .inforce") !== null`) {
		t.Fatal("the ЦОУ's console shows an emergency in force before any is declared")
	}

	director.do(chromedp.Click(chromedp.CSS("#proposals button[type=submit]")))
	director.wait(`document.querySelector("#emergency[data-state=live] #done-declared") !== null`, 10*time.Second)
	// The ЦОУ is told at once, without a reload.
	cou.wait(`document.querySelector("#emergencies-live .inforce li") !== null`, 10*time.Second)
	cou.screenshot("console-inforce-ru")
	if eval[bool](director, `document.querySelector("#proposals") !== null`) {
		t.Errorf("the declared emergency is still proposed")
	}
	// The ПЦН's open alarm page no longer offers it.
	pcn.wait(`document.querySelector("#proposals") === null`, 10*time.Second)
	for _, p := range []*person{guard, pcn, director, cou} {
		if errs := p.consoleErrors(); len(errs) > 0 {
			t.Errorf("%s: browser console errors: %v", p.name, errs)
		}
	}
}
