package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
)

// TestPeoplePages: the school's people pages over HTTP on each store. The
// director lists the pupils (the total, 50 to a page, the next page),
// searches one by name in a posted form (never in the address), filters a
// class; opens the card with the guardians, today's pass and a message
// that was not delivered with its reason; edits the class with a bad value
// (the message beside the field, what was typed kept, nothing written) and
// a good one (the phone token kept); downloads the export; erases with a
// wrong name (refused) and the right one (gone, audited). School 2's
// pupil is not found; the guard reads but may not change; a guardian and
// the ПЦН get no school's people; a forged form is refused.
func TestPeoplePages(t *testing.T) {
	onDemoPages(t, func(t *testing.T, ctx context.Context, db *store.DB, live *httptest.Server) {
		q := db.Reader()
		count := func(query string, args ...any) int {
			t.Helper()
			var n int
			if err := q.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		rows := func(page string) []string {
			var ids []string
			for _, m := range regexp.MustCompile(`<tr data-id="(\d+)">`).FindAllStringSubmatch(page, -1) {
				ids = append(ids, m[1])
			}
			return ids
		}

		dir, tok := signedIn(t, live.URL, "director", pagesPassword)
		resp, page := dir.get("/schools/1/pupils")
		total := count("SELECT COUNT(*) FROM pupils WHERE school_id = 1")
		if resp.StatusCode != 200 || !strings.Contains(page, fmt.Sprintf("%d учени", total)) || len(rows(page)) != min(total, 50) {
			t.Fatalf("pupils: %d, %d rows of %d\n%s", resp.StatusCode, len(rows(page)), total, page)
		}
		if total > 50 && !strings.Contains(page, `href="/schools/1/pupils?class=&amp;page=2"`) {
			t.Errorf("no next page among %d pupils", total)
		}
		for _, m := range []string{`href="/schools/1/pupils"`, `href="/schools/1/staff"`, `href="/schools/1/guardians"`} {
			if !strings.Contains(page, m) {
				t.Errorf("the director's menu lacks %s", m)
			}
		}
		if !strings.Contains(page, `<form method="post" action="/schools/1/pupils"`) {
			t.Errorf("the search is not a posted form")
		}

		// A pupil of school 1 with a guardian, and one of school 2.
		var id int64
		var last, first, class string
		if err := q.QueryRowContext(ctx, `SELECT p.id, p.last_name, p.first_name, p.class FROM pupils p
			WHERE p.school_id = 1 AND EXISTS (SELECT 1 FROM pupil_guardians pg WHERE pg.pupil_id = p.id) ORDER BY p.id LIMIT 1`).Scan(&id, &last, &first, &class); err != nil {
			t.Fatal(err)
		}
		pid := strconv.FormatInt(id, 10)
		other := storetest.Strings(t, q, "SELECT CAST(MIN(id) AS TEXT) FROM pupils WHERE school_id = 2")[0]

		resp, page = dir.post("/schools/1/pupils", url.Values{"csrf_token": {tok}, "q": {strings.ToLower(last) + " " + first}})
		if resp.StatusCode != 200 || !strings.Contains(strings.Join(rows(page), ","), pid) {
			t.Errorf("searching %q %q: %d, rows %v", last, first, resp.StatusCode, rows(page))
		}
		for _, r := range rows(page) {
			var l string
			q.QueryRowContext(ctx, "SELECT last_name FROM pupils WHERE id = ?", r).Scan(&l)
			if !strings.EqualFold(l, last) {
				t.Errorf("searching %q shows %s", last, l)
			}
		}
		// A search's pages are turned by the form too, the words never in
		// a link; a page past the end shows the last.
		resp, page = dir.post("/schools/1/pupils", url.Values{"csrf_token": {tok}, "q": {"а"}})
		many := count("SELECT COUNT(*) FROM pupils WHERE school_id = 1 AND (last_name || ' ' || first_name || ' ' || middle_name) LIKE '%а%'")
		if many > 50 {
			first := rows(page)
			if resp.StatusCode != 200 || !strings.Contains(page, `<button type="submit" name="page" value="2" id="next">`) || strings.Contains(page, "page=2") {
				t.Errorf("a search of %d pupils: %d, no posted next page", many, resp.StatusCode)
			}
			_, page = dir.post("/schools/1/pupils", url.Values{"csrf_token": {tok}, "q": {"а"}, "page": {"2"}})
			if second := rows(page); len(second) == 0 || slices.Contains(first, second[0]) || !strings.Contains(page, `value="1" id="prev"`) {
				t.Errorf("the search's second page: %v after %v", second, first)
			}
		}
		lastPage := (total + 49) / 50
		if _, page = dir.get("/schools/1/pupils?page=999"); len(rows(page)) != total-(lastPage-1)*50 || !strings.Contains(page, fmt.Sprintf("%d / %d", lastPage, lastPage)) {
			t.Errorf("a page past the end: %d rows", len(rows(page)))
		}
		if resp, page = dir.post("/schools/1/pupils", url.Values{"csrf_token": {tok}, "q": {strings.Repeat("я", 101)}}); resp.StatusCode != 422 || !strings.Contains(page, `id="q-error"`) {
			t.Errorf("a search of 101 characters: %d", resp.StatusCode)
		}
		resp, page = dir.get("/schools/1/pupils?class=" + urlq(class))
		inClass := count("SELECT COUNT(*) FROM pupils WHERE school_id = 1 AND class = ?", class)
		if resp.StatusCode != 200 || len(rows(page)) != min(inClass, 50) || !strings.Contains(page, `selected>`+class+`<`) {
			t.Errorf("class %s: %d, %d rows, want %d", class, resp.StatusCode, len(rows(page)), inClass)
		}
		if resp, page = dir.get("/schools/1/pupils?class=13Z"); resp.StatusCode != 422 || !strings.Contains(page, `id="class-error"`) || !strings.Contains(page, "В школе нет такого класса") {
			t.Errorf("an unknown class: %d", resp.StatusCode)
		}

		// The staff and the guardians, each with its total.
		resp, page = dir.get("/schools/1/staff")
		if n := count("SELECT COUNT(*) FROM staff WHERE school_id = 1"); resp.StatusCode != 200 || len(rows(page)) != min(n, 50) {
			t.Errorf("staff: %d, %d rows, want %d", resp.StatusCode, len(rows(page)), n)
		}
		resp, page = dir.get("/schools/1/guardians")
		n := count("SELECT COUNT(DISTINCT pg.guardian_id) FROM pupil_guardians pg JOIN pupils p ON p.id = pg.pupil_id WHERE p.school_id = 1")
		if resp.StatusCode != 200 || len(rows(page)) != min(n, 50) || !strings.Contains(page, fmt.Sprintf("%d родител", n)) {
			t.Errorf("guardians: %d, %d rows, want %d", resp.StatusCode, len(rows(page)), n)
		}

		// The card: a pass today and a message that did not go out.
		req, _ := http.NewRequest("POST", live.URL+"/api/v1/schools/1/passes/manual", strings.NewReader(`{"pupil_id":`+pid+`,"direction":"in","request_id":"people-1"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", tok)
		if resp, body := dir.do(req); resp.StatusCode != 200 {
			t.Fatalf("manual pass: %d %s", resp.StatusCode, body)
		}
		now := time.Now().UnixMicro()
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO outbox (idempotency_key, channel, recipient, kind, body, language, school_id, pupil_id, status, attempts, next_attempt_at, last_error, created_at)
				VALUES ('people-test', 'sms', '+77011234567', 'pupil.entered', 'вошёл', 'ru', 1, ?, 'dead', 3, ?, 'the gateway refused the number', ?)`, id, now, now)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		resp, page = dir.get("/pupils/" + pid)
		if resp.StatusCode != 200 || !strings.Contains(page, `id="pupil-class">`+class+`<`) || !strings.Contains(page, "пришёл в школу") ||
			!strings.Contains(page, "не доставлено") || !strings.Contains(page, "the gateway refused the number") || !strings.Contains(page, "&#43;7********67") {
			t.Errorf("the card: %d\n%s", resp.StatusCode, page)
		}
		if !strings.Contains(page, `<table class="list" id="passes">`) || !strings.Contains(page, "отмечен охранником") {
			t.Errorf("the card lacks today's pass")
		}
		if m := regexp.MustCompile(`<title>([^<]*)</title>`).FindStringSubmatch(page); m == nil || strings.Contains(m[1], last) {
			t.Errorf("the card's title names the pupil: %v", m)
		}
		for _, l := range []string{`href="/pupils/` + pid + `/edit"`, `href="/pupils/` + pid + `/export"`, `href="/pupils/` + pid + `/erase"`} {
			if !strings.Contains(page, l) {
				t.Errorf("the director's card lacks %s", l)
			}
		}

		// Scope: school 2's pupil does not exist for school 1's director.
		for _, path := range []string{"/pupils/" + other, "/pupils/" + other + "/edit", "/pupils/" + other + "/erase", "/pupils/" + other + "/export", "/schools/2/pupils", "/schools/2/staff", "/schools/2/guardians"} {
			if resp, _ := dir.get(path); resp.StatusCode != 404 {
				t.Errorf("director of school 1, %s: %d, want 404", path, resp.StatusCode)
			}
		}
		if resp, _ := dir.post("/pupils/"+other+"/erase", url.Values{"csrf_token": {tok}, "confirm": {"x"}}); resp.StatusCode != 404 {
			t.Errorf("erasing school 2's pupil: %d", resp.StatusCode)
		}

		// The edit form: filled with the record; a forged token, a bad
		// class and a bad phone change nothing.
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, "UPDATE pupils SET phone_token = 'token-of-people-test' WHERE id = ?", id)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		_, page = dir.get("/pupils/" + pid + "/edit")
		form := url.Values{"csrf_token": {tok}}
		for _, m := range regexp.MustCompile(`<input id="([a-z0-9_]+)" name="([a-z0-9_]+)"[^>]*value="([^"]*)"`).FindAllStringSubmatch(page, -1) {
			form.Set(m[2], html.UnescapeString(m[3]))
		}
		for _, m := range regexp.MustCompile(`name="(g\d_may_collect)" checked`).FindAllStringSubmatch(page, -1) {
			form.Set(m[1], "on")
		}
		for _, m := range regexp.MustCompile(`<select id="(g\d_language)"[\s\S]*?<option value="(\w+)" selected>`).FindAllStringSubmatch(page, -1) {
			form.Set(m[1], m[2])
		}
		if form.Get("class") != class || form.Get("g0_phone") == "" {
			t.Fatalf("the form is not filled: %v", form)
		}
		before := storetest.Strings(t, q, "SELECT class || '|' || COALESCE(phone_token, '') FROM pupils WHERE id = ?", id)[0]
		forged := cloneValues(form)
		forged.Set("csrf_token", "forged")
		forged.Set("class", "7Б")
		if resp, _ := dir.post("/pupils/"+pid+"/edit", forged); resp.StatusCode != 403 {
			t.Errorf("a forged edit: %d", resp.StatusCode)
		}
		bad := cloneValues(form)
		bad.Set("class", "13Z")
		bad.Set("g0_phone", "12345")
		resp, page = dir.post("/pupils/"+pid+"/edit", bad)
		if resp.StatusCode != 422 || !strings.Contains(page, `id="class-error"`) || !strings.Contains(page, "Класс — число от 0 до 12") ||
			!strings.Contains(page, `value="13Z"`) || !strings.Contains(page, `id="g0_phone-error"`) || !strings.Contains(page, `value="12345"`) {
			t.Errorf("a bad class and phone: %d\n%s", resp.StatusCode, page)
		}
		if after := storetest.Strings(t, q, "SELECT class || '|' || COALESCE(phone_token, '') FROM pupils WHERE id = ?", id)[0]; after != before {
			t.Errorf("a refused form changed the pupil: %s → %s", before, after)
		}
		good := cloneValues(form)
		good.Set("class", "7 б")
		resp, _ = dir.post("/pupils/"+pid+"/edit", good)
		if resp.StatusCode != 303 || resp.Header.Get("Location") != "/pupils/"+pid+"?done=saved" {
			t.Fatalf("a good edit: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		if after := storetest.Strings(t, q, "SELECT class || '|' || COALESCE(phone_token, '') FROM pupils WHERE id = ?", id)[0]; after != "7Б|token-of-people-test" {
			t.Errorf("after the edit the pupil is %s", after)
		}
		if g := count("SELECT COUNT(*) FROM pupil_guardians WHERE pupil_id = ?", id); g != len(keysWith(form, "_phone")) {
			t.Errorf("the edit changed the number of guardians to %d", g)
		}
		if _, page = dir.get("/pupils/" + pid + "?done=saved"); !strings.Contains(page, "Изменения сохранены") || !strings.Contains(page, `id="pupil-class">7Б<`) {
			t.Errorf("the card after saving")
		}

		// The export, as the API's.
		resp, body := dir.get("/pupils/" + pid + "/export")
		var x struct {
			Pupil struct {
				ID int64 `json:"id"`
			} `json:"pupil"`
			Records map[string]json.RawMessage `json:"records"`
		}
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") || json.Unmarshal([]byte(body), &x) != nil || x.Pupil.ID != id ||
			x.Records["messages"] == nil {
			t.Errorf("export: %d %q %s", resp.StatusCode, resp.Header.Get("Content-Disposition"), body)
		}

		// The guard reads but does not change; a guardian and the ПЦН get
		// no school's people.
		guard, _ := signedIn(t, live.URL, "guard", pagesPassword)
		if resp, page = guard.get("/pupils/" + pid); resp.StatusCode != 200 || strings.Contains(page, "/edit") || strings.Contains(page, "/erase") {
			t.Errorf("the guard's card: %d (no edit, no erase)", resp.StatusCode)
		}
		for _, path := range []string{"/schools/1/pupils", "/schools/1/staff", "/schools/1/guardians"} {
			if resp, _ := guard.get(path); resp.StatusCode != 200 {
				t.Errorf("guard, %s: %d", path, resp.StatusCode)
			}
		}
		for _, path := range []string{"/pupils/" + pid + "/edit", "/pupils/" + pid + "/erase", "/pupils/" + pid + "/export"} {
			if resp, _ := guard.get(path); resp.StatusCode != 403 {
				t.Errorf("guard, %s: %d, want 403", path, resp.StatusCode)
			}
		}
		if resp, _ := guard.post("/pupils/"+pid+"/edit", good); resp.StatusCode != 403 {
			t.Errorf("the guard's edit: %d", resp.StatusCode)
		}
		parent, _ := signedIn(t, live.URL, "parent", pagesPassword)
		child := storetest.Strings(t, q, "SELECT CAST(pg.pupil_id AS TEXT) FROM pupil_guardians pg JOIN users u ON u.scope_ref = CAST(pg.guardian_id AS TEXT) WHERE u.login = 'parent'")[0]
		for _, path := range []string{"/schools/1/pupils", "/schools/1/guardians", "/schools/1/staff", "/pupils/" + child, "/pupils/" + child + "/edit"} {
			if resp, _ := parent.get(path); resp.StatusCode != 404 {
				t.Errorf("a guardian, %s: %d, want 404", path, resp.StatusCode)
			}
		}
		pcn, _ := signedIn(t, live.URL, "pcn", pagesPassword)
		for _, path := range []string{"/schools/1/pupils", "/schools/1/guardians", "/pupils/" + pid} {
			if resp, _ := pcn.get(path); resp.StatusCode != 403 && resp.StatusCode != 404 {
				t.Errorf("the ПЦН, %s: %d, want 403 or 404", path, resp.StatusCode)
			}
		}

		// Erase: the wrong name refuses, the right one (in any case) erases.
		_, page = dir.get("/pupils/" + pid + "/erase")
		full := regexp.MustCompile(`<strong id="erase-name">([^<]+)</strong>`).FindStringSubmatch(page)
		if full == nil || !strings.HasPrefix(html.UnescapeString(full[1]), last+" "+first) {
			t.Fatalf("the erase page does not show the name to type:\n%s", page)
		}
		resp, page = dir.post("/pupils/"+pid+"/erase", url.Values{"csrf_token": {tok}, "confirm": {last}})
		if resp.StatusCode != 422 || !strings.Contains(page, `id="confirm-error"`) || !strings.Contains(page, "ничего не удалено") || count("SELECT COUNT(*) FROM pupils WHERE id = ?", id) != 1 {
			t.Errorf("erase with the last name only: %d", resp.StatusCode)
		}
		if resp, _ := dir.post("/pupils/"+pid+"/erase", url.Values{"csrf_token": {"forged"}, "confirm": {html.UnescapeString(full[1])}}); resp.StatusCode != 403 {
			t.Errorf("a forged erase: %d", resp.StatusCode)
		}
		resp, _ = dir.post("/pupils/"+pid+"/erase", url.Values{"csrf_token": {tok}, "confirm": {"  " + strings.ToUpper(html.UnescapeString(full[1])) + " "}})
		if resp.StatusCode != 303 || resp.Header.Get("Location") != "/schools/1/pupils?done=erased" {
			t.Fatalf("erase: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		if count("SELECT COUNT(*) FROM pupils WHERE id = ?", id) != 0 || count("SELECT COUNT(*) FROM outbox WHERE pupil_id = ?", id) != 0 {
			t.Errorf("the pupil or their messages are still there")
		}
		if count("SELECT COUNT(*) FROM audit WHERE action = 'pupil.erase' AND object = ?", "pupil/"+pid) != 1 {
			t.Errorf("the erasure is not in the audit trail")
		}
		if _, page = dir.get("/schools/1/pupils?done=erased"); !strings.Contains(page, "Данные ученика удалены") {
			t.Errorf("no notice after the erasure")
		}
		if resp, _ := dir.get("/pupils/" + pid); resp.StatusCode != 404 {
			t.Errorf("the erased pupil's card: %d", resp.StatusCode)
		}
	})
}

// pagesPassword is every account's password in pagesServer's demo.
const pagesPassword = "pages-password-1"

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, x := range v {
		out[k] = append([]string(nil), x...)
	}
	return out
}

// keysWith lists the form's filled fields whose names end in suffix.
func keysWith(v url.Values, suffix string) []string {
	var out []string
	for k := range v {
		if strings.HasSuffix(k, suffix) && v.Get(k) != "" {
			out = append(out, k)
		}
	}
	return out
}
