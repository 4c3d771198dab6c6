package web_test

import (
	"context"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"qorgan/internal/demo"
	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
)

// TestAdminPages: the administrator's people, tokens and audit pages over
// HTTP on each store: the list searched by login; a new account whose bad
// fields all come back beside themselves with what was typed (never the
// password) and nothing written; the fixed form creates it and its person
// signs in; disabling ends that person's session at once; a token is
// revoked from the list; the audit trail filters, pages and shows its
// verification, broken when an entry is changed; other roles are refused.
func TestAdminPages(t *testing.T) {
	demoOnEachStore(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, _, live := demoServed(t, db)

		admin, tok := signedIn(t, live.URL, "admin", demo.DefaultPassword)
		resp, page := admin.get("/admin/people")
		if resp.StatusCode != 200 || !strings.Contains(page, "Пользователи и роли") || !strings.Contains(page, `data-login="director"`) {
			t.Fatalf("people: %d\n%s", resp.StatusCode, page)
		}
		if !strings.Contains(page, `href="/admin/audit"`) || !strings.Contains(page, `href="/admin/tokens"`) {
			t.Errorf("the administrator's menu lacks the audit trail or the tokens")
		}
		// Scopes are named for what they are, not by number.
		school1 := storetest.Strings(t, db.Reader(), "SELECT name_ru FROM schools WHERE id = 1")[0]
		pcnUnit := storetest.Strings(t, db.Reader(), "SELECT p.name FROM providers p JOIN users u ON u.scope_ref = CAST(p.id AS TEXT) WHERE u.login = 'pcn'")
		for _, want := range []string{"«" + school1 + "»", "«" + pcnUnit[0] + "»"} {
			if !strings.Contains(page, want) {
				t.Errorf("the people page does not name the scope %s", want)
			}
		}
		_, page = admin.get("/admin/people?login=guard")
		if !strings.Contains(page, `data-login="guard"`) || !strings.Contains(page, `data-login="guard2"`) || strings.Contains(page, `data-login="director"`) {
			t.Errorf("search by login guard:\n%s", page)
		}

		// Every bad field at once, each beside itself, the typed values kept.
		bad := url.Values{"csrf_token": {tok}, "login": {"Bad Login!"}, "full_name": {""}, "role": {"school_guard"}, "scope_kind": {"region"},
			"scope_ref": {"610000000"}, "password": {"short-pw"}}
		resp, page = admin.post("/admin/people", bad)
		if resp.StatusCode != 422 {
			t.Fatalf("bad new account: %d\n%s", resp.StatusCode, page)
		}
		for _, want := range []string{`id="login-error"`, "только a–z", `id="full_name-error"`, `id="scope_kind-error"`, "не может иметь такую область",
			`id="password-error"`, `value="Bad Login!"`, `value="610000000"`, `<option value="school_guard" selected>`, `<option value="region" selected>`} {
			if !strings.Contains(page, want) {
				t.Errorf("bad new account: the page lacks %s", want)
			}
		}
		if strings.Contains(page, "short-pw") {
			t.Errorf("the password came back in the page")
		}
		if n := storetest.Strings(t, db.Reader(), "SELECT login FROM users WHERE login LIKE 'bad%' OR full_name = ''"); len(n) > 0 {
			t.Errorf("a bad form wrote %v", n)
		}
		// A reference that does not fit its kind is shown beside the reference.
		resp, page = admin.post("/admin/people", url.Values{"csrf_token": {tok}, "login": {"guard.7"}, "full_name": {"Серік Ахметов"}, "role": {"school_guard"},
			"scope_kind": {"school"}, "scope_ref": {"07"}, "password": {"a long enough one"}})
		if resp.StatusCode != 422 || !strings.Contains(page, `id="scope_ref-error"`) || strings.Contains(page, `id="login-error"`) {
			t.Errorf("school 07: %d", resp.StatusCode)
		}
		if resp, _ = admin.post("/admin/people", url.Values{"csrf_token": {"forged"}, "login": {"guard.7"}}); resp.StatusCode != 403 {
			t.Errorf("a forged form: %d", resp.StatusCode)
		}

		good := url.Values{"csrf_token": {tok}, "login": {"guard.7"}, "full_name": {"Серік Ахметов"}, "role": {"school_guard"}, "scope_kind": {"school"},
			"scope_ref": {"1"}, "password": {"a long enough one"}}
		resp, _ = admin.post("/admin/people", good)
		if resp.StatusCode != 303 || resp.Header.Get("Location") != "/admin/people?done=created&login=guard.7" {
			t.Fatalf("new account: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		_, page = admin.get(resp.Header.Get("Location"))
		if !strings.Contains(page, "Пользователь создан") || !strings.Contains(page, "Серік Ахметов") {
			t.Errorf("after creating, the list does not show the new person")
		}
		resp, page = admin.post("/admin/people", good)
		if resp.StatusCode != 422 || !strings.Contains(page, "логин уже занят") {
			t.Errorf("the same login again: %d", resp.StatusCode)
		}

		guard, _ := signedIn(t, live.URL, "guard.7", "a long enough one")
		if resp, _ = guard.get("/schools/1/board"); resp.StatusCode != 200 {
			t.Fatalf("the new guard's board: %d", resp.StatusCode)
		}
		resp, _ = admin.post("/admin/people/disable", url.Values{"csrf_token": {tok}, "login": {"guard.7"}})
		if resp.StatusCode != 303 || resp.Header.Get("Location") != "/admin/people?done=disabled" {
			t.Fatalf("disable: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		if resp, _ = guard.get("/schools/1/board"); resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/?next=") {
			t.Errorf("a disabled person's next request: %d → %q, want sign-in", resp.StatusCode, resp.Header.Get("Location"))
		}
		_, page = admin.get("/admin/people?login=guard.7")
		if !strings.Contains(page, `class="off"`) || !strings.Contains(page, `action="/admin/people/enable"`) {
			t.Errorf("the disabled account is not shown as disabled")
		}
		if resp, _ = admin.post("/admin/people/enable", url.Values{"csrf_token": {tok}, "login": {"guard.7"}}); resp.StatusCode != 303 {
			t.Errorf("enable: %d", resp.StatusCode)
		}
		if _, err := a.Authenticate(ctx, "", "guard.7", "a long enough one"); err != nil {
			t.Errorf("after enabling, sign-in: %v", err)
		}
		// A new role: bad fields beside themselves, then the grant, which
		// ends the person's session.
		signInPage(t, guard, "guard.7", "a long enough one")
		grant := url.Values{"csrf_token": {tok}, "login": {"nobody.here"}, "role": {"school_guard"}, "scope_kind": {"school"}, "scope_ref": {"2"}}
		if resp, page = admin.post("/admin/people/grant", grant); resp.StatusCode != 422 || !strings.Contains(page, `id="g_login-error"`) || !strings.Contains(page, `value="nobody.here"`) {
			t.Errorf("granting to no one: %d", resp.StatusCode)
		}
		grant.Set("login", "guard.7")
		grant.Set("scope_kind", "nation")
		if resp, page = admin.post("/admin/people/grant", grant); resp.StatusCode != 422 || !strings.Contains(page, `id="g_scope_kind-error"`) {
			t.Errorf("a guard of the nation: %d", resp.StatusCode)
		}
		grant.Set("scope_kind", "school")
		if resp, _ = admin.post("/admin/people/grant", grant); resp.StatusCode != 303 || resp.Header.Get("Location") != "/admin/people?done=granted&login=guard.7" {
			t.Fatalf("grant: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		if resp, _ = guard.get("/schools/1/board"); resp.StatusCode != 303 {
			t.Errorf("after a new role, the old session still works: %d", resp.StatusCode)
		}
		school2 := storetest.Strings(t, db.Reader(), "SELECT name_ru FROM schools WHERE id = 2")[0]
		if _, page = admin.get("/admin/people?done=granted&login=guard.7"); !strings.Contains(page, "школа «"+school2+"»") || !strings.Contains(page, "Роль назначена") {
			t.Errorf("the list does not show the new scope")
		}
		resp, page = admin.post("/admin/people/disable", url.Values{"csrf_token": {tok}, "login": {"admin"}})
		if resp.StatusCode != 409 || !strings.Contains(page, "Нельзя заблокировать собственную") {
			t.Errorf("disabling oneself: %d", resp.StatusCode)
		}
		if resp, _ = admin.post("/admin/people/disable", url.Values{"csrf_token": {tok}, "login": {"nobody.here"}}); resp.StatusCode != 404 {
			t.Errorf("disabling no one: %d", resp.StatusCode)
		}

		// Tokens: everyone's, revoked from the list.
		dir, err := a.Authenticate(ctx, "", "director", demo.DefaultPassword)
		if err != nil {
			t.Fatal(err)
		}
		dt, err := a.CreateAPIToken(ctx, dir, "журнал посещений", 0)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 55 { // more audit entries than one page shows
			if _, err := a.CreateAPIToken(ctx, dir, "integration "+strconv.Itoa(i), 0); err != nil {
				t.Fatal(err)
			}
		}
		_, page = admin.get("/admin/tokens")
		if !strings.Contains(page, "журнал посещений") || !strings.Contains(page, `action="/admin/tokens/`) || strings.Contains(page, dt.Token) {
			t.Fatalf("tokens page:\n%s", page)
		}
		resp, _ = admin.post("/admin/tokens/"+strconv.FormatInt(dt.ID, 10)+"/revoke", url.Values{"csrf_token": {tok}})
		if resp.StatusCode != 303 {
			t.Fatalf("revoke: %d", resp.StatusCode)
		}
		if _, err := a.TokenPrincipal(ctx, dt.Token); err == nil {
			t.Errorf("a revoked token still works")
		}
		if _, page = admin.get("/admin/tokens?done=revoked"); !strings.Contains(page, "Токен отозван") || !strings.Contains(page, "✕ отозван") {
			t.Errorf("after revoking, the list does not say so")
		}
		if resp, _ = admin.post("/admin/tokens/999999/revoke", url.Values{"csrf_token": {tok}}); resp.StatusCode != 404 {
			t.Errorf("revoking no token: %d", resp.StatusCode)
		}

		// The audit trail: verified, filtered, paged.
		resp, page = admin.get("/admin/audit")
		if resp.StatusCode != 200 || !strings.Contains(page, `class="verify ok"`) || !regexp.MustCompile(`Цепочка цела: проверен[оы]? \d+ запис`).MatchString(page) {
			t.Fatalf("audit: %d\n%s", resp.StatusCode, page)
		}
		_, page = admin.get("/admin/audit?action=user.disable")
		rows := regexp.MustCompile(`<tr data-action="([a-z_.]+)">`).FindAllStringSubmatch(page, -1)
		if len(rows) != 1 || rows[0][1] != "user.disable" || !strings.Contains(page, "title=\"user.disable\">Блокировка учётной записи</td>") {
			t.Errorf("filtered by user.disable: %v", rows)
		}
		if !strings.Contains(page, `<option value="user.disable" selected>Блокировка учётной записи</option>`) {
			t.Errorf("the filter does not show the action it holds, by name")
		}
		// The entry names who did it, to what, and the details' fields; the
		// actor and the object link to their own histories.
		row := regexp.MustCompile(`(?s)<tr data-action="user.disable">.*?</tr>`).FindString(page)
		object := regexp.MustCompile(`<a href="(/admin/audit\?object=user%2f\d+)"[^>]*>Учётная запись №&nbsp;\d+</a>`).FindStringSubmatch(row)
		if !strings.Contains(row, `<a href="/admin/audit?actor=user%3a1%3aadmin" title="Показать только записи этого исполнителя">admin</a>`) ||
			object == nil || !regexp.MustCompile(`<span class="k">Логин:</span> \S+</span>`).MatchString(row) {
			t.Errorf("the entry of a blocked account reads:\n%s", row)
		} else {
			_, hist := admin.get(object[1])
			acts := regexp.MustCompile(`<tr data-action="([a-z_.]+)">`).FindAllStringSubmatch(hist, -1)
			kinds := map[string]bool{}
			for _, a := range acts {
				kinds[a[1]] = true
			}
			if !kinds["user.create"] || !kinds["user.disable"] || strings.Count(hist, `>Учётная запись №&nbsp;`) != len(acts) {
				t.Errorf("the account's history (%s) shows %v", object[1], kinds)
			}
		}
		// An action Qorgan does not write (an older one, or a typo in a
		// link) is kept in the filter as it was given, and matches nothing.
		if _, page = admin.get("/admin/audit?action=user.renamed"); !strings.Contains(page, `<option value="user.renamed" selected>user.renamed</option>`) || !strings.Contains(page, "Записей нет") {
			t.Errorf("a filter by an unknown action")
		}
		if _, page = admin.get("/admin/audit?object=nothing/1"); !strings.Contains(page, "Записей нет") {
			t.Errorf("a filter that matches nothing")
		}
		_, page = admin.get("/admin/audit")
		next := regexp.MustCompile(`href="(/admin/audit\?before=\d+[^"]*)" rel="next"`).FindStringSubmatch(page)
		if next == nil {
			t.Fatalf("the trail has more than 50 entries but no next page")
		}
		seqs := regexp.MustCompile(`<tr data-action="[a-z_.]+"><th scope="row">№ (\d+)</th>`)
		first := seqs.FindAllStringSubmatch(page, -1)
		_, page2 := admin.get(strings.ReplaceAll(next[1], "&amp;", "&"))
		second := seqs.FindAllStringSubmatch(page2, -1)
		if len(first) != 50 || len(second) == 0 || atoi(second[0][1]) != atoi(first[49][1])-1 {
			t.Errorf("paging: first page %d rows, second starts at %v", len(first), second)
		}
		resp, page = admin.get("/admin/audit?before=abc")
		if resp.StatusCode != 422 || !strings.Contains(page, `id="before-error"`) {
			t.Errorf("a bad page link: %d", resp.StatusCode)
		}

		// Other roles: forbidden; the menu does not offer the pages.
		region, _ := signedIn(t, live.URL, "region", demo.DefaultPassword)
		for _, p := range []string{"/admin/people", "/admin/tokens", "/admin/audit"} {
			if resp, page = region.get(p); resp.StatusCode != 403 {
				t.Errorf("region, %s: %d", p, resp.StatusCode)
			}
		}
		if strings.Contains(page, `href="/admin/people"`) {
			t.Errorf("the region's menu offers the people page")
		}

		// An entry changed behind the trail's back: the page says where.
		// (Behind the triggers' back, as someone with the database's keys.)
		drop := "DROP TRIGGER audit_no_update"
		if db.Dialect == store.Postgres {
			drop += " ON audit"
		}
		if _, err := db.W.ExecContext(ctx, drop); err != nil {
			t.Fatal(err)
		}
		if _, err := db.W.ExecContext(ctx, "UPDATE audit SET detail = '{}' WHERE seq = 2"); err != nil {
			t.Fatal(err)
		}
		// The page shows the last walk of the chain (a minute old at most)
		// until someone asks for a new one.
		if _, page = admin.get("/admin/audit"); !strings.Contains(page, `class="verify ok"`) || !strings.Contains(page, `id="verify-now"`) {
			t.Errorf("within the minute, the page should show the last check and offer a new one")
		}
		if resp, _ = admin.post("/admin/audit/verify", url.Values{"csrf_token": {"forged"}}); resp.StatusCode != 403 {
			t.Errorf("verify now with a forged form: %d", resp.StatusCode)
		}
		if resp, _ = admin.post("/admin/audit/verify", url.Values{"csrf_token": {tok}}); resp.StatusCode != 303 || resp.Header.Get("Location") != "/admin/audit" {
			t.Fatalf("verify now: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		_, page = admin.get("/admin/audit")
		if !strings.Contains(page, `class="verify broken error"`) || !strings.Contains(page, "Цепочка нарушена! Первая нарушенная запись: 2.") {
			t.Errorf("a changed entry is not reported:\n%s", page)
		}
	})
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
