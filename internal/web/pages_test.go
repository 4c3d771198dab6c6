package web_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"qorgan/internal/auth"
	"qorgan/internal/demo"
	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
)

// browser is a cookie-keeping client that does not follow redirects, so
// that a test sees where each answer sends it.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) get(path string, header ...string) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.base+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest("POST", b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func (b *browser) do(req *http.Request) (*http.Response, string) {
	if req.Header.Get("Accept-Language") == "" {
		req.Header.Set("Accept-Language", "ru-RU,ru;q=0.9,en;q=0.5")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func formCSRF(t *testing.T, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF field in the page:\n%s", page)
	}
	return m[1]
}

// TestConsolePages: sign-in with its messages, the redirect there and back,
// the security headers, the language, the console and an alarm outside
// the person's scope, over HTTP (the browser test drives the same in
// Chromium).
func TestConsolePages(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the demo")
	}
	live := pagesServer(t, storetest.SQLite(t))

	b := newBrowser(t, live.URL)
	resp, _ := b.get("/console")
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/?next=%2Fconsole" {
		t.Fatalf("signed out, /console: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, page := b.get("/?next=%2Fconsole", "Accept-Language", "ru-RU,ru;q=0.9,en;q=0.5")
	csp := resp.Header.Get("Content-Security-Policy")
	if resp.StatusCode != 200 || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("sign-in page: %d, CSP %q, XFO %q", resp.StatusCode, csp, resp.Header.Get("X-Frame-Options"))
	}
	if !strings.Contains(page, `lang="ru"`) || !strings.Contains(page, "Пароль") {
		t.Errorf("Accept-Language ru did not give a Russian page:\n%s", page)
	}
	if regexp.MustCompile(`<script>|<style|style="|\son[a-z]+="`).MatchString(page) {
		t.Errorf("inline script or style in the sign-in page")
	}
	tok := formCSRF(t, page)

	resp, page = b.post("/", url.Values{"csrf_token": {tok}, "login": {"pcn"}, "password": {"wrong"}, "next": {"/console"}})
	if resp.StatusCode != 200 || !strings.Contains(page, "Неверный логин или пароль") || !strings.Contains(page, `value="pcn"`) {
		t.Errorf("wrong password: %d\n%s", resp.StatusCode, page)
	}
	resp, page = b.post("/", url.Values{"csrf_token": {"forged"}, "login": {"pcn"}, "password": {"pages-password-1"}})
	if resp.StatusCode != 200 || !strings.Contains(page, "Страница устарела") || len(resp.Cookies()) > 0 && resp.Cookies()[0].Name == "qorgan_session" {
		t.Errorf("sign-in with a forged CSRF token: %d", resp.StatusCode)
	}
	resp, _ = b.post("/", url.Values{"csrf_token": {tok}, "login": {"pcn"}, "password": {"pages-password-1"}, "next": {"/console"}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/console" {
		t.Fatalf("sign-in: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, page = b.get("/console")
	if resp.StatusCode != 200 || !strings.Contains(page, "Оператор ПЦН") || !strings.Contains(page, `id="alarms"`) {
		t.Fatalf("console: %d\n%s", resp.StatusCode, page)
	}
	tok = formCSRF(t, page)
	resp, _ = b.post("/language", url.Values{"csrf_token": {tok}, "lang": {"kk"}, "back": {"/console"}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/console" {
		t.Fatalf("language: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, page = b.get("/console"); !strings.Contains(page, `lang="kk"`) || !strings.Contains(page, "Дабылдар пульті") {
		t.Errorf("after choosing kk, the console is not in Kazakh")
	}
	resp, _ = b.post("/alarms/1/acknowledge", url.Values{"csrf_token": {"forged"}})
	if resp.StatusCode != 403 {
		t.Errorf("a page form with a forged token: %d", resp.StatusCode)
	}
	if resp, _ = b.get("/alarms/999999"); resp.StatusCode != 404 {
		t.Errorf("an alarm that is not there: %d", resp.StatusCode)
	}

	resp, page = b.get("/static/console.css")
	if resp.StatusCode != 404 {
		t.Errorf("an asset by its plain name: %d", resp.StatusCode)
	}
	_, page = b.get("/console")
	css := regexp.MustCompile(`href="(/static/console\.[0-9a-f]{12}\.css)"`).FindStringSubmatch(page)
	if css == nil {
		t.Fatalf("no hashed style sheet URL in the console")
	}
	resp, _ = b.get(css[1])
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") {
		t.Errorf("style sheet: %d %q %q", resp.StatusCode, resp.Header.Get("Cache-Control"), resp.Header.Get("Content-Type"))
	}

	resp, _ = b.post("/signout", url.Values{"csrf_token": {tok}})
	if resp.StatusCode != 303 {
		t.Errorf("sign-out: %d", resp.StatusCode)
	}
	if resp, _ = b.get("/console"); resp.StatusCode != 303 {
		t.Errorf("after sign-out, /console: %d", resp.StatusCode)
	}
}

// demoPages is the console over a fresh SQLite file loaded with the demo
// (see pagesServer); a short test run skips the test.
func demoPages(t *testing.T) (*store.DB, *httptest.Server) {
	t.Helper()
	if testing.Short() {
		t.Skip("loads the demo")
	}
	db := storetest.SQLite(t)
	return db, pagesServer(t, db)
}

// pagesServer serves the console over db loaded with the demo (every
// password "pages-password-1") until the test ends.
func pagesServer(t *testing.T, db *store.DB) *httptest.Server {
	t.Helper()
	a := auth.New(db)
	if _, err := demo.Load(context.Background(), db, a, demo.Options{Scale: 0.002, Password: "pages-password-1"}); err != nil {
		t.Fatal(err)
	}
	return serveWired(t, db, a)
}

// signInPage signs b in through the sign-in form as login and returns the
// page's CSRF token.
func signInPage(t *testing.T, b *browser, login, password string) string {
	t.Helper()
	_, page := b.get("/")
	resp, _ := b.post("/", url.Values{"csrf_token": {formCSRF(t, page)}, "login": {login}, "password": {password}})
	if resp.StatusCode != 303 {
		t.Fatalf("sign in as %s: %d", login, resp.StatusCode)
	}
	_, page = b.get("/home")
	return formCSRF(t, page)
}

// signedIn opens a browser on base signed in through the sign-in form as
// login, and returns it with its CSRF token.
func signedIn(t *testing.T, base, login, password string) (*browser, string) {
	t.Helper()
	b := newBrowser(t, base)
	return b, signInPage(t, b, login, password)
}

// TestAlarmResponsePages: the alarm's page takes the ПЦН through dispatch,
// on site and close by plain forms; a bad field comes back next to the
// field with what was typed; a step another operator took meanwhile comes
// back as a notice; the school's guard may not dispatch or close.
func TestAlarmResponsePages(t *testing.T) {
	db, live := demoPages(t)

	guard, gtok := signedIn(t, live.URL, "guard", "pages-password-1")
	pressPanic(t, guard, gtok, "press-1")

	pcn, tok := signedIn(t, live.URL, "pcn", "pages-password-1")
	_, page := pcn.get("/console")
	m := regexp.MustCompile(`data-id="(\d+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no alarm in the ПЦН's queue:\n%s", page)
	}
	id := m[1]
	at := "/alarms/" + id
	// The queue names the school in the page's language.
	names := storetest.Strings(t, db.Reader(), "SELECT name_ru FROM schools WHERE id = 1 UNION ALL SELECT name_kk FROM schools WHERE id = 1")
	if !strings.Contains(page, `href="/alarms/`+id+`">`+names[0]+`<`) {
		t.Errorf("the Russian queue does not name the school %q", names[0])
	}
	if names[0] == names[1] {
		t.Fatalf("the demo's school 1 has one name in both languages: %q", names[0])
	}
	for _, l := range []string{"kk", "ru"} {
		if resp, _ := pcn.post("/language", url.Values{"csrf_token": {tok}, "lang": {l}, "back": {"/console"}}); resp.StatusCode != 303 {
			t.Fatalf("language %s: %d", l, resp.StatusCode)
		}
		if _, kk := pcn.get("/console"); l == "kk" && !strings.Contains(kk, `href="/alarms/`+id+`">`+names[1]+`<`) {
			t.Errorf("the Kazakh queue does not name the school %q", names[1])
		}
	}
	_, page = pcn.get(at)
	if !strings.Contains(page, `id="ack"`) || strings.Contains(page, `id="dispatch"`) {
		t.Errorf("before acknowledging, the page should offer acknowledge and not dispatch")
	}
	// The operator sees who pressed the panic in the console, by name.
	guardName := storetest.Strings(t, db.Reader(), "SELECT full_name FROM users WHERE login = 'guard'")[0]
	if m := regexp.MustCompile(`id="pressed-by">([^<]+)<`).FindStringSubmatch(page); m == nil || !strings.Contains(m[1], guardName) {
		t.Errorf("the alarm page does not say who pressed the panic: %v", m)
	}
	if strings.Contains(page, "<td>staff</td>") {
		t.Errorf("the timeline shows the raw code of a console panic")
	}
	if resp, _ := pcn.post(at+"/acknowledge", url.Values{"csrf_token": {tok}, "back": {at}}); resp.StatusCode != 303 || resp.Header.Get("Location") != at {
		t.Fatalf("acknowledge: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page = pcn.get(at)
	if !strings.Contains(page, `id="dispatch"`) || !strings.Contains(page, `id="resolve"`) || strings.Contains(page, `id="on-site"`) {
		t.Errorf("after acknowledging: want dispatch and close, no on-site yet")
	}

	// A blank responder: 422, the message beside the field, the note kept.
	resp, page := pcn.post(at+"/dispatch", url.Values{"csrf_token": {tok}, "responder": {"  "}})
	if resp.StatusCode != 422 || !strings.Contains(page, `id="responder-error"`) || !strings.Contains(page, "Укажите группу реагирования") ||
		!strings.Contains(page, `aria-invalid="true"`) {
		t.Errorf("blank responder: %d\n%s", resp.StatusCode, page)
	}
	if resp, _ := pcn.post(at+"/dispatch", url.Values{"csrf_token": {tok}, "responder": {"ГБР-7"}}); resp.StatusCode != 303 {
		t.Fatalf("dispatch: %d", resp.StatusCode)
	}
	_, page = pcn.get(at)
	if !strings.Contains(page, "ГБР-7") || !strings.Contains(page, `class="step-dispatched"`) || !strings.Contains(page, `id="on-site"`) {
		t.Errorf("after dispatch the timeline should name ГБР-7 and on-site be offered")
	}

	// The guard: no dispatch, no close on the page, and the domain refuses
	// the form all the same.
	_, page = guard.get(at)
	if strings.Contains(page, `id="dispatch"`) || strings.Contains(page, `id="resolve"`) {
		t.Errorf("the guard is offered dispatch or close")
	}
	if resp, _ := guard.post(at+"/resolve", url.Values{"csrf_token": {gtok}, "resolution": {"false"}}); resp.StatusCode != 403 {
		t.Errorf("the guard closing the alarm: %d, want 403", resp.StatusCode)
	}

	if resp, _ := pcn.post(at+"/on-site", url.Values{"csrf_token": {tok}, "note": {"the group is at the gate"}}); resp.StatusCode != 303 {
		t.Fatalf("on site: %d", resp.StatusCode)
	}
	// No outcome: 422, the notes kept as typed.
	resp, page = pcn.post(at+"/resolve", url.Values{"csrf_token": {tok}, "resolution": {""}, "notes": {"ложное срабатывание <кнопки>"}})
	if resp.StatusCode != 422 || !strings.Contains(page, `id="resolution-error"`) || !strings.Contains(page, "ложное срабатывание &lt;кнопки&gt;") {
		t.Errorf("resolve with no outcome: %d\n%s", resp.StatusCode, page)
	}
	resp, _ = pcn.post(at+"/resolve", url.Values{"csrf_token": {tok}, "resolution": {"false"}, "notes": {"ложное срабатывание"}, "back": {"/console"}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/console" {
		t.Fatalf("resolve: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page = pcn.get(at)
	if !strings.Contains(page, "Ложная тревога — ложное срабатывание") || strings.Contains(page, `class="step-form"`) {
		t.Errorf("a closed alarm: want its outcome and the notes in the timeline and no step offered")
	}
	// Closing it again: the conflict comes back as a notice on the page.
	resp, page = pcn.post(at+"/resolve", url.Values{"csrf_token": {tok}, "resolution": {"real"}})
	if resp.StatusCode != 409 || !strings.Contains(page, `id="notice"`) {
		t.Errorf("closing a closed alarm: %d", resp.StatusCode)
	}
	if _, page = pcn.get("/console"); strings.Contains(page, `data-id="`+id+`"`) {
		t.Errorf("the closed alarm is still in the queue")
	}
	if !strings.Contains(page, "Подтверждения за сегодня") || !strings.Contains(page, "100% подтверждено за 30 с") {
		t.Errorf("the console's statistics do not show today's acknowledgement:\n%s", page)
	}
}

// pressPanic raises a panic at school 1 as b, pressed in the console.
func pressPanic(t *testing.T, b *browser, tok, requestID string) {
	t.Helper()
	req, _ := http.NewRequest("POST", b.base+"/api/v1/schools/1/panic", strings.NewReader(`{"request_id":"`+requestID+`","note":"a stranger at the gate"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", tok)
	if resp, body := b.do(req); resp.StatusCode != 202 {
		t.Fatalf("panic: %d %s", resp.StatusCode, body)
	}
}

// TestLanguageOnThePerson: the language a person chooses follows them to
// another browser, over that browser's Accept-Language.
func TestLanguageOnThePerson(t *testing.T) {
	onDemoPages(t, func(t *testing.T, _ context.Context, db *store.DB, live *httptest.Server) {

		first, tok := signedIn(t, live.URL, "pcn", "pages-password-1")
		if resp, _ := first.post("/language", url.Values{"csrf_token": {tok}, "lang": {"kk"}, "back": {"/console"}}); resp.StatusCode != 303 {
			t.Fatalf("language: %d", resp.StatusCode)
		}
		other, _ := signedIn(t, live.URL, "pcn", "pages-password-1") // another browser, Russian by its Accept-Language
		if _, page := other.get("/console"); !strings.Contains(page, `lang="kk"`) {
			t.Errorf("the language chosen in one browser did not follow the person to another")
		}
		if _, page := newBrowser(t, live.URL).get("/"); !strings.Contains(page, `lang="ru"`) {
			t.Errorf("before sign-in a browser's own Accept-Language decides")
		}
	})
}

// TestRoadmapPages: the ministry's indicators with the chart and the
// published record beside the live figures, the drill-down to a region and
// a district, a school's compliance, and the walls of scope.
func TestRoadmapPages(t *testing.T) {
	db, live := demoPages(t)

	analyst, _ := signedIn(t, live.URL, "analyst", "pages-password-1")
	resp, page := analyst.get("/indicators")
	if resp.StatusCode != 200 || !strings.Contains(page, `<svg class="chart"`) || !strings.Contains(page, "Показатели дорожной карты") ||
		!strings.Contains(page, "01.01.2021") || !strings.Contains(page, "03.12.2025") || !strings.Contains(page, "ДЗ-237") || !strings.Contains(page, "пока не измеряется") {
		t.Fatalf("the nation's indicators: %d\n%s", resp.StatusCode, page)
	}
	if !strings.Contains(page, `href="/indicators?region=610000000"`) {
		t.Fatalf("no link to drill down into Turkestan region")
	}
	if !strings.Contains(page, "ответ министра на депутатский запрос ДЗ-237") || strings.Contains(page, "Minister's answer") {
		t.Errorf("the published record's source is not said in Russian")
	}
	resp, page = analyst.get("/indicators?region=610000000")
	district := regexp.MustCompile(`href="(/indicators\?district=\d+)"`).FindStringSubmatch(page)
	if resp.StatusCode != 200 || district == nil || !strings.Contains(page, `href="/indicators"`) {
		t.Fatalf("a region: %d, a district link %v", resp.StatusCode, district)
	}
	resp, page = analyst.get(district[1])
	school := regexp.MustCompile(`href="(/schools/\d+/compliance)"`).FindStringSubmatch(page)
	if resp.StatusCode != 200 || school == nil {
		t.Fatalf("a district: %d, a school link %v", resp.StatusCode, school)
	}
	if !strings.Contains(page, `href="/indicators?region=610000000"`) {
		t.Errorf("a district's page has no link up to its region")
	}
	// A district and a school are named in the page's language, as the
	// registry holds their names: a district in kk, ru and en (the demo's
	// Kazakh names are its Russian ones, the English ones transliterated),
	// a school in kk and ru (Russian on an English page).
	districtCode := strings.TrimPrefix(district[1], "/indicators?district=")
	var districtKK, districtRU, districtEN, schoolKK, schoolRU string
	if err := db.Reader().QueryRowContext(t.Context(), "SELECT name_kk, name_ru, name_en FROM districts WHERE code = ?", districtCode).
		Scan(&districtKK, &districtRU, &districtEN); err != nil {
		t.Fatal(err)
	}
	schoolID := strings.TrimSuffix(strings.TrimPrefix(school[1], "/schools/"), "/compliance")
	if err := db.Reader().QueryRowContext(t.Context(), "SELECT name_kk, name_ru FROM schools WHERE id = ?", schoolID).Scan(&schoolKK, &schoolRU); err != nil {
		t.Fatal(err)
	}
	if districtEN == districtRU || schoolKK == schoolRU {
		t.Fatalf("the demo names the district (%q, %q) or the school (%q, %q) alike in two languages: nothing to tell apart", districtRU, districtEN, schoolKK, schoolRU)
	}
	for _, c := range []struct{ lang, district, school string }{{"kk", districtKK, schoolKK}, {"ru", districtRU, schoolRU}, {"en", districtEN, schoolRU}} {
		_, regionPage := analyst.get("/indicators?region=610000000", "Accept-Language", c.lang)
		if !strings.Contains(regionPage, `href="`+district[1]+`">`+html.EscapeString(c.district)+"</a>") {
			t.Errorf("the region's page in %s does not list the district as %q", c.lang, c.district)
		}
		_, districtPage := analyst.get(district[1], "Accept-Language", c.lang)
		if !strings.Contains(districtPage, html.EscapeString(c.district)+"</h1>") {
			t.Errorf("the district's page in %s is not headed %q", c.lang, c.district)
		}
		if !strings.Contains(districtPage, `href="`+school[1]+`">`+html.EscapeString(c.school)+"</a>") {
			t.Errorf("the district's page in %s does not list the school as %q", c.lang, c.school)
		}
	}

	if resp, page = analyst.get(school[1]); resp.StatusCode != 200 || !strings.Contains(page, `id="items"`) {
		t.Errorf("a school's compliance: %d", resp.StatusCode)
	}

	director, _ := signedIn(t, live.URL, "director", "pages-password-1")
	if resp, page = director.get("/schools/1/compliance"); resp.StatusCode != 200 || !strings.Contains(page, "Соответствие требованиям") {
		t.Errorf("the director's compliance view: %d", resp.StatusCode)
	}
	// Each item's act and clause in the reader's language, as officials
	// cite the act: no English word of it on a Russian or Kazakh page.
	rules := regexp.MustCompile(`<td class="rule"[^>]*><span class="act">([^<]*)</span><br><span class="clause">([^<]*)</span></td>`)
	for _, c := range []struct{ lang, want, clause string }{
		{"ru", "приказ Министра образования и науки Республики Казахстан от 30 марта 2022 года № 117", "п. 88: видеоархив хранится не менее 30 дней"},
		{"kk", "Қазақстан Республикасы Білім және ғылым министрінің 2022 жылғы 30 наурыздағы № 117 бұйрығы", "88-тармақ: бейнемұрағат кемінде 30 күн сақталады"},
	} {
		_, page = director.get("/schools/1/compliance", "Accept-Language", c.lang)
		found := rules.FindAllStringSubmatch(page, -1)
		if !strings.Contains(page, `lang="`+c.lang+`"`) || len(found) == 0 {
			t.Fatalf("the compliance page in %s: %d acts\n%s", c.lang, len(found), page)
		}
		var all []string
		for _, m := range found {
			all = append(all, html.UnescapeString(m[1]+" / "+m[2]))
		}
		text := strings.ReplaceAll(strings.Join(all, "\n"), "\u00a0", " ") // «№ 117» kept on one line
		if w := regexp.MustCompile(`[A-Za-z]{2,}`).FindString(text); w != "" {
			t.Errorf("the compliance page in %s has the English word %q among its acts:\n%s", c.lang, w, text)
		}
		if !strings.Contains(text, c.want) || !strings.Contains(text, c.clause) {
			t.Errorf("the compliance page in %s does not cite %q with %q:\n%s", c.lang, c.want, c.clause, text)
		}
	}
	if _, page = director.get("/schools/1/compliance", "Accept-Language", "en"); !strings.Contains(page, "MES Order No.\u00a0117 of 30 March 2022</span><br><span class=\"clause\">p. 88: video archive kept at least 30 days") {
		t.Errorf("the compliance page in English does not cite the act in English")
	}
	// The rule set in force by its title in the page's language (its id
	// only as the title attribute), and the school by its name in the
	// page's language.
	names := storetest.Strings(t, db.Reader(), "SELECT name_kk || '|' || name_ru FROM schools WHERE id = 1")
	kk, ru, _ := strings.Cut(names[0], "|")
	for _, c := range []struct {
		who                     *browser
		path, lang, set, school string
	}{
		{analyst, "/indicators", "ru", "«УТО — от 100 человек (постановление Правительства", ""},
		{analyst, "/indicators", "kk", "«ТТО — 100 адамнан бастап (", ""},
		{director, "/schools/1/compliance", "ru", "«УТО — от 100 человек (постановление Правительства", ru},
		{director, "/schools/1/compliance", "kk", "«ТТО — 100 адамнан бастап (", kk},
	} {
		_, page = c.who.get(c.path, "Accept-Language", c.lang)
		if !strings.Contains(page, `<span class="rule-set" title="uto-2021">`+htmlText(c.set)) {
			t.Errorf("%s in %s does not name the rule set in force by its title %q:\n%s", c.path, c.lang, c.set, page)
		}
		if c.school != "" && !strings.Contains(page, "<h1>"+htmlText(map[string]string{"ru": "Соответствие требованиям", "kk": "Талаптарға сәйкестік"}[c.lang]+": "+c.school)+"</h1>") {
			t.Errorf("%s in %s does not head the page with the school's name %q:\n%s", c.path, c.lang, c.school, page)
		}
	}
	if resp, _ = director.get("/schools/2/compliance"); resp.StatusCode != 404 {
		t.Errorf("another school's compliance for the director: %d", resp.StatusCode)
	}
	regionDept, _ := signedIn(t, live.URL, "region", "pages-password-1")
	if resp, _ = regionDept.get("/indicators?region=750000000"); resp.StatusCode != 404 {
		t.Errorf("another region's indicators for a region's department: %d", resp.StatusCode)
	}
	parent, _ := signedIn(t, live.URL, "parent", "pages-password-1")
	if resp, _ = parent.get("/indicators"); resp.StatusCode != 403 && resp.StatusCode != 404 {
		t.Errorf("the indicators for a guardian: %d", resp.StatusCode)
	}
}

// TestEmergencyPage: from the school's page the director declares a
// lockdown, which waits for its confirmation, confirms it and sees the
// roll-call; an evacuation without its assembly point comes back beside
// the field; the guard may not end it; the director ends it all clear.
func TestEmergencyPage(t *testing.T) {
	db, live := demoPages(t)
	director, tok := signedIn(t, live.URL, "director", "pages-password-1")
	at := "/schools/1/emergency"
	if resp, page := director.get(at); resp.StatusCode != 200 || !strings.Contains(page, `id="no-emergency"`) || !strings.Contains(page, `id="declare-form"`) {
		t.Fatalf("the emergency page: %d", resp.StatusCode)
	}
	resp, _ := director.post(at+"/declare", url.Values{"csrf_token": {tok}, "mode": {"lockdown"}, "scenario": {"armed_attack"}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != at+"?done=pending" {
		t.Fatalf("declare: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page := director.get(resp.Header.Get("Location"))
	if !strings.Contains(page, `id="done-pending"`) || !strings.Contains(page, "ждёт подтверждения") {
		t.Errorf("after declaring: no notice that it waits for its confirmation")
	}
	m := regexp.MustCompile(`data-emergency="(\d+)" data-state="pending"`).FindStringSubmatch(page)
	if m == nil || !strings.Contains(page, `id="confirm-form"`) {
		t.Fatalf("a lockdown declared from the school should wait for its confirmation:\n%s", page)
	}
	if resp, _ = director.post(at+"/confirm", url.Values{"csrf_token": {tok}, "emergency_id": {m[1]}}); resp.StatusCode != 303 {
		t.Fatalf("confirm: %d", resp.StatusCode)
	}
	if _, page = director.get(at); !strings.Contains(page, `data-state="live"`) || !strings.Contains(page, `id="emergency-rollcall"`) {
		t.Errorf("a confirmed lockdown: want it live with its roll-call")
	}
	// The ПЦН on duty sees it in force above its queue, named for its school.
	pcn, _ := signedIn(t, live.URL, "pcn", "pages-password-1")
	school1 := storetest.Strings(t, db.Reader(), "SELECT name_ru FROM schools WHERE id = 1")[0]
	if _, cp := pcn.get("/console"); !strings.Contains(cp, `id="inforce-`+m[1]+`"`) || !strings.Contains(cp, "Действует режим ЧС") || !strings.Contains(cp, school1) {
		t.Errorf("the ПЦН's console does not show the lockdown in force")
	}
	// The change form starts from what is in force (submitted as it is, it
	// changes nothing; a silent one stays silent).
	if !strings.Contains(page, `<option value="lockdown" selected>`) || !strings.Contains(page, `<option value="armed_attack" selected>`) {
		t.Errorf("the change form does not start from the lockdown in force")
	}
	resp, page = director.post(at+"/declare", url.Values{"csrf_token": {tok}, "mode": {"evacuate"}, "scenario": {"fire"}, "place": {""}, "drill": {"on"}})
	if resp.StatusCode != 422 || !strings.Contains(page, `id="place-error"`) || !strings.Contains(page, `id="drill" name="drill" checked`) {
		t.Errorf("an evacuation without its assembly point: %d\n%s", resp.StatusCode, page)
	}
	// The change form says it changes; the page then says it changed.
	if !strings.Contains(page, `name="changing" value="`+m[1]+`"`) {
		t.Errorf("the change form does not say which emergency it changes")
	}
	resp, _ = director.post(at+"/declare", url.Values{"csrf_token": {tok}, "changing": {m[1]}, "mode": {"lockdown"}, "scenario": {"hostage_taking"}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != at+"?done=changed" {
		t.Fatalf("change: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, page = director.get(resp.Header.Get("Location")); !strings.Contains(page, `id="done-changed"`) || !strings.Contains(page, "Режим ЧС изменён") {
		t.Errorf("after the change: no notice that the mode changed")
	}
	guard, gtok := signedIn(t, live.URL, "guard", "pages-password-1")
	// The guard's board shows the emergency in force above all else.
	if _, page = guard.get("/schools/1/board"); !strings.Contains(page, `id="board-emergency"`) || !strings.Contains(page, `href="/schools/1/emergency"`) {
		t.Errorf("the guard's board does not show the lockdown in force")
	}
	if _, page = guard.get(at); strings.Contains(page, `id="end-form"`) {
		t.Errorf("the guard is offered to end the emergency")
	}
	if resp, _ = guard.post(at+"/end", url.Values{"csrf_token": {gtok}, "emergency_id": {m[1]}, "reason": {"all_clear"}}); resp.StatusCode != 403 {
		t.Errorf("the guard ending it: %d, want 403", resp.StatusCode)
	}
	if resp, _ = director.post(at+"/end", url.Values{"csrf_token": {tok}, "emergency_id": {m[1]}, "reason": {"all_clear"}}); resp.StatusCode != 303 || resp.Header.Get("Location") != at+"?done=ended" {
		t.Fatalf("end: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, page = director.get(at + "?done=ended"); !strings.Contains(page, `id="no-emergency"`) || !strings.Contains(page, `id="done-ended"`) {
		t.Errorf("after the all-clear the page still shows an emergency, or does not say it ended")
	}
	if _, cp := pcn.get("/console"); strings.Contains(cp, `id="inforce-`+m[1]+`"`) {
		t.Errorf("after the all-clear the ПЦН's console still shows the emergency in force")
	}
	if _, page = guard.get("/schools/1/board"); strings.Contains(page, `id="board-emergency"`) {
		t.Errorf("after the all-clear the board still shows an emergency")
	}
	if resp, _ = guard.get("/schools/2/emergency"); resp.StatusCode != 404 {
		t.Errorf("another school's emergency page: %d", resp.StatusCode)
	}

	// The guard's panic proposes a lockdown: the director's page, the
	// alarm's page and the ПЦН's console offer to confirm it; the guard,
	// who may not, is offered nothing and refused.
	pressPanic(t, guard, gtok, "press-proposal")
	_, page = director.get(at)
	pm := regexp.MustCompile(`id="proposal-(\d+)"`).FindStringSubmatch(page)
	if pm == nil || !strings.Contains(page, `action="/schools/1/emergency/confirm-proposal"`) || strings.Contains(page, `id="no-emergency"`) || !strings.Contains(page, "Блокировка (угроза внутри) · Вооружённое нападение") {
		t.Fatalf("the director's emergency page does not show the proposed lockdown:\n%s", page)
	}
	alarmAt := "/alarms/" + pm[1]
	// The ПЦН (signed in above) is offered it on every page.
	for _, path := range []string{alarmAt, "/console", at} {
		if _, page = pcn.get(path); !strings.Contains(page, `id="proposal-`+pm[1]+`"`) {
			t.Errorf("%s does not offer the ПЦН the proposal", path)
		}
	}
	for _, path := range []string{at, alarmAt} {
		if _, page = guard.get(path); strings.Contains(page, `id="proposals"`) {
			t.Errorf("%s offers the guard to confirm the proposal", path)
		}
	}
	proposal := url.Values{"csrf_token": {gtok}, "alarm_id": {pm[1]}}
	if resp, _ = guard.post(at+"/confirm-proposal", proposal); resp.StatusCode != 403 {
		t.Errorf("the guard confirming the proposal: %d, want 403", resp.StatusCode)
	}
	proposal.Set("csrf_token", "")
	if resp, _ = director.post(at+"/confirm-proposal", proposal); resp.StatusCode != 403 {
		t.Errorf("confirming the proposal without the form token: %d, want 403", resp.StatusCode)
	}
	proposal.Set("csrf_token", tok)
	if resp, _ = director.post(at+"/confirm-proposal", proposal); resp.StatusCode != 303 || resp.Header.Get("Location") != at+"?done=declared" {
		t.Fatalf("confirm the proposal: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page = director.get(at + "?done=declared")
	if !strings.Contains(page, `data-state="live"`) || !strings.Contains(page, `id="done-declared"`) || !strings.Contains(page, "Режим ЧС объявлен") || strings.Contains(page, `id="proposals"`) {
		t.Errorf("after the confirmation: want the lockdown live, declared, and no proposal:\n%s", page)
	}
	if _, page = pcn.get(alarmAt); strings.Contains(page, `id="proposals"`) {
		t.Errorf("the alarm's page still proposes the emergency it declared")
	}
}

// TestNotArrivedRuleMultiShift: a school teaching in two shifts cannot
// switch the not-arrived rule on, so its page says why and offers no form
// to try; a school in one shift gets the form.
func TestNotArrivedRuleMultiShift(t *testing.T) {
	db, live := demoPages(t)
	director, _ := signedIn(t, live.URL, "director", "pages-password-1")
	resp, page := director.get("/schools/1/not-arrived-rule")
	if resp.StatusCode != 200 || !strings.Contains(page, `id="multi-shift"`) || strings.Contains(page, `id="rule-form"`) {
		t.Fatalf("school 1 (two shifts): %d, want the reason and no form:\n%s", resp.StatusCode, page)
	}
	if _, err := db.W.ExecContext(context.Background(), "UPDATE schools SET shifts = ? WHERE id = 1", `[{"start":"08:00","end":"13:30"}]`); err != nil {
		t.Fatal(err)
	}
	if _, page = director.get("/schools/1/not-arrived-rule"); strings.Contains(page, `id="multi-shift"`) || !strings.Contains(page, `id="rule-form"`) {
		t.Fatalf("school 1 in one shift: want the form and no reason:\n%s", page)
	}
}
