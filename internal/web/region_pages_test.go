package web_test

import (
	"context"
	"html"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"qorgan/internal/auth"
	"qorgan/internal/demo"
	"qorgan/internal/registry"
	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
)

// TestRegionPages: the education department's and the ministry's pages
// over HTTP on each store: the schools of the region only, found by name
// and by BIN, filtered by district and УТО, each bad filter beside its
// field; a school's card with its address, contracts, police unit and
// compliance; another region's or district's school not found; providers
// and police units; a guardian refused.
func TestRegionPages(t *testing.T) {
	demoOnEachStore(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, res, live := demoServed(t, db)
		q := db.Reader()
		var region, district, nameRU, bin string
		if err := q.QueryRowContext(ctx, "SELECT region_code, name_ru, COALESCE(bin, '') FROM schools WHERE id = 1").Scan(&region, &nameRU, &bin); err != nil {
			t.Fatal(err)
		}
		inRegion := storetest.Strings(t, q, "SELECT CAST(id AS TEXT) FROM schools WHERE region_code = ? ORDER BY id", region)
		outside := storetest.Strings(t, q, "SELECT CAST(id AS TEXT) FROM schools WHERE region_code <> ? ORDER BY id LIMIT 1", region)
		if len(outside) == 0 {
			t.Fatalf("the demo should have schools outside school 1's region")
		}
		// Only Turkestan region has its districts in the registry: its
		// department shows the district filter.
		const turkestan = "610000000"
		district = storetest.Strings(t, q, "SELECT MIN(district_code) FROM schools WHERE region_code = ?", turkestan)[0]
		if _, err := a.CreateUser(ctx, auth.System, auth.NewUser{Login: "turkestan", FullName: "Түркістан облысының білім басқармасы", Password: "turkestan-password",
			Role: auth.RoleEducation, Scope: auth.Scope{Kind: auth.ScopeRegion, Ref: turkestan}}); err != nil {
			t.Fatal(err)
		}
		shown := func(page string) []string {
			var ids []string
			for _, m := range regexp.MustCompile(`<tr data-id="(\d+)">`).FindAllStringSubmatch(page, -1) {
				ids = append(ids, m[1])
			}
			return ids
		}

		b, _ := signedIn(t, live.URL, "region", demo.DefaultPassword)
		resp, page := b.get("/schools")
		if resp.StatusCode != 200 || !strings.Contains(page, "Организации образования") || !strings.Contains(page, `href="/schools/1"`) {
			t.Fatalf("schools: %d\n%s", resp.StatusCode, page)
		}
		ids := shown(page)
		want := inRegion
		if len(want) > 50 {
			want = want[:50]
		}
		if !slices.Equal(ids, want) {
			t.Errorf("the region's schools: shown %v, want %v", ids, want)
		}
		if !strings.Contains(page, `href="/schools"`) || !strings.Contains(page, `href="/providers"`) || !strings.Contains(page, `href="/police-units"`) {
			t.Errorf("the region's menu lacks its pages")
		}

		// Search by a part of the name as typed in lower case, and by the
		// start of the BIN.
		part := strings.ToLower(strings.Fields(nameRU)[0]) // "средняя" for "Средняя школа №1 …"
		if _, page = b.get("/schools?q=" + urlq(part)); !slices.Contains(shown(page), "1") {
			t.Errorf("search %q does not find school 1 (%s)", part, nameRU)
		}
		if bin != "" {
			if _, page = b.get("/schools?q=" + bin[:6]); !slices.Contains(shown(page), "1") {
				t.Errorf("search by BIN %s does not find school 1", bin[:6])
			}
		}
		if _, page = b.get("/schools?q=" + urlq("нет такой школы")); len(shown(page)) != 0 || !strings.Contains(page, "Школы не найдены") {
			t.Errorf("a search that finds nothing")
		}

		// The district filter: only its schools.
		tk, _ := signedIn(t, live.URL, "turkestan", "turkestan-password")
		_, page = tk.get("/schools")
		if !strings.Contains(page, `id="district"`) || strings.Contains(page, `id="region"`) {
			t.Errorf("Turkestan's department: want a district filter and no region filter")
		}
		_, page = tk.get("/schools?district=" + district)
		inDistrict := storetest.Strings(t, q, "SELECT CAST(id AS TEXT) FROM schools WHERE district_code = ? ORDER BY id LIMIT 50", district)
		if got := shown(page); len(got) == 0 || !slices.Equal(got, inDistrict) || !strings.Contains(page, `<option value="`+district+`" selected>`) {
			t.Errorf("district %s: shown %v, want %v", district, got, inDistrict)
		}
		if resp, _ = tk.get("/schools/1"); resp.StatusCode != 404 {
			t.Errorf("Turkestan's department, school 1 of another region: %d", resp.StatusCode)
		}
		_, page = b.get("/schools?uto=true")
		for _, id := range shown(page) {
			var n int
			q.QueryRowContext(ctx, "SELECT headcount FROM schools WHERE id = ?", id).Scan(&n)
			if n < registry.UTOThreshold {
				t.Errorf("uto=true shows school %s of %d people", id, n)
			}
		}

		// Bad filters: 422, each beside its field, what was typed kept.
		resp, page = b.get("/schools?uto=maybe&q=" + strings.Repeat("я", 101))
		if resp.StatusCode != 422 || !strings.Contains(page, `id="uto-error"`) || !strings.Contains(page, `id="q-error"`) || !strings.Contains(page, strings.Repeat("я", 101)) {
			t.Errorf("bad filters: %d", resp.StatusCode)
		}
		if resp, page = b.get("/schools?district=999999999"); resp.StatusCode != 422 || !strings.Contains(page, `id="district-error"`) {
			t.Errorf("a district outside the region: %d", resp.StatusCode)
		}
		if resp, _ = b.get("/schools?cursor=!!"); resp.StatusCode != 404 {
			t.Errorf("a made-up page: %d", resp.StatusCode)
		}

		// The card.
		resp, page = b.get("/schools/1")
		if resp.StatusCode != 200 || !strings.Contains(page, `id="compliance"`) || !strings.Contains(page, `id="coords"`) || !strings.Contains(page, "Центр оперативного управления") ||
			strings.Contains(page, "broken error") != strings.Contains(page, `id="see-gaps"`) {
			t.Fatalf("school 1's card: %d\n%s", resp.StatusCode, page)
		}
		var unit, provider string
		q.QueryRowContext(ctx, `SELECT u.name_ru FROM police_units u JOIN schools s ON s.region_code = u.region_code WHERE s.id = 1
			AND (u.district_code IS NULL OR u.district_code = s.district_code) ORDER BY CASE WHEN u.district_code IS NULL THEN 1 ELSE 0 END, u.id LIMIT 1`).Scan(&unit)
		q.QueryRowContext(ctx, "SELECT v.name FROM contracts c JOIN providers v ON v.id = c.provider_id WHERE c.school_id = 1 ORDER BY c.id LIMIT 1").Scan(&provider)
		if unit == "" || !strings.Contains(page, `<p id="police">`+htmlText(unit)+`</p>`) {
			t.Errorf("the card does not name the police unit %q", unit)
		}
		if provider == "" || !strings.Contains(page, htmlText(provider)) || !strings.Contains(page, "действует") {
			t.Errorf("the card does not show the contract with %q", provider)
		}
		if !strings.Contains(page, "<title>Карточка школы "+htmlText(nameRU)+" — Qorgan</title>") {
			t.Errorf("the card's title should name the school")
		}
		if resp, _ = b.get("/schools/" + outside[0]); resp.StatusCode != 404 {
			t.Errorf("another region's school: %d, want 404", resp.StatusCode)
		}
		if resp, _ = b.get("/schools/abc"); resp.StatusCode != 404 {
			t.Errorf("/schools/abc: %d", resp.StatusCode)
		}

		resp, page = b.get("/providers")
		if resp.StatusCode != 200 || !strings.Contains(page, htmlText(provider)) || !regexp.MustCompile(`✓ действует|✕ истекла`).MatchString(page) {
			t.Errorf("providers: %d", resp.StatusCode)
		}
		resp, page = b.get("/police-units")
		if resp.StatusCode != 200 || !strings.Contains(page, htmlText(unit)) {
			t.Errorf("police units: %d", resp.StatusCode)
		}

		// Turkestan's department registers a provider and a police unit;
		// a bad field comes back beside itself with what was typed.
		_, page = tk.get("/providers")
		tkTok := formCSRF(t, page)
		if !strings.Contains(page, `id="new-provider"`) {
			t.Fatalf("the department is not offered the new-provider form")
		}
		binOK, _ := registry.MakeBIN("26014000123")
		prov := url.Values{"csrf_token": {tkTok}, "name": {"«Қорған-Күзет» ЖШС"}, "bin": {"260140001230"}, "licence_no": {"KZ-17-0042"},
			"licence_uto": {"on"}, "licence_expires": {"2030-01-31"}}
		if binOK == prov.Get("bin") {
			t.Fatalf("the bad BIN is a good one")
		}
		resp, page = tk.post("/providers", prov)
		if resp.StatusCode != 422 || !strings.Contains(page, `id="bin-error"`) || !strings.Contains(page, "контрольной цифрой") ||
			!strings.Contains(page, `value="«Қорған-Күзет» ЖШС"`) || !strings.Contains(page, `value="2030-01-31"`) || !strings.Contains(page, `name="licence_uto" checked`) {
			t.Errorf("a bad BIN: %d", resp.StatusCode)
		}
		if n := storetest.Strings(t, q, "SELECT name FROM providers WHERE licence_no = 'KZ-17-0042'"); len(n) != 0 {
			t.Errorf("a bad form wrote %v", n)
		}
		prov.Set("bin", binOK)
		if resp, _ = tk.post("/providers", prov); resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/providers?done=created&id=") {
			t.Fatalf("new provider: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		if n := storetest.Strings(t, q, "SELECT bin FROM providers WHERE licence_no = 'KZ-17-0042' AND licence_uto"); len(n) != 1 || n[0] != binOK {
			t.Errorf("the provider written: %v", n)
		}
		newID := storetest.Strings(t, q, "SELECT CAST(id AS TEXT) FROM providers WHERE licence_no = 'KZ-17-0042'")[0]
		if _, page = tk.get("/providers?done=created&id=" + newID); !strings.Contains(page, `<strong id="new-id">`+newID+`</strong>`) {
			t.Errorf("after registering, the page does not give the provider's number")
		}

		// A contract from a school's card, with the new provider's number.
		tkSchool := "/schools/" + inDistrict[0]
		contract := url.Values{"csrf_token": {tkTok}, "provider_id": {"999999"}, "starts_on": {"2026-09-01"}, "ends_on": {"2027-05-31"}}
		if resp, page = tk.post(tkSchool+"/contracts", contract); resp.StatusCode != 422 || !strings.Contains(page, `id="provider_id-error"`) || !strings.Contains(page, `value="2027-05-31"`) {
			t.Errorf("a contract with no such provider: %d", resp.StatusCode)
		}
		contract.Set("provider_id", newID)
		contract.Set("ends_on", "2026-08-01")
		if resp, page = tk.post(tkSchool+"/contracts", contract); resp.StatusCode != 422 || !strings.Contains(page, `id="ends_on-error"`) {
			t.Errorf("a contract that ends before it starts: %d", resp.StatusCode)
		}
		contract.Set("ends_on", "")
		if resp, _ = tk.post("/schools/1/contracts", contract); resp.StatusCode != 404 {
			t.Errorf("a contract for another region's school: %d", resp.StatusCode)
		}
		if resp, _ = tk.post(tkSchool+"/contracts", contract); resp.StatusCode != 303 || resp.Header.Get("Location") != tkSchool+"?done=contract" {
			t.Fatalf("new contract: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		if _, page = tk.get(tkSchool + "?done=contract"); !strings.Contains(page, "«Қорған-Күзет» ЖШС") || !strings.Contains(page, "Договор охраны зарегистрирован") {
			t.Errorf("the card does not show the new contract")
		}
		if resp, page = tk.post("/providers", prov); resp.StatusCode != 409 || !strings.Contains(page, "БИН уже зарегистрирована") {
			t.Errorf("the same BIN again: %d", resp.StatusCode)
		}
		_, page = tk.get("/police-units")
		if !strings.Contains(page, `id="new-unit"`) || strings.Count(page, `<option value="`) != 1 {
			t.Errorf("the department's police unit form should offer its own region only")
		}
		nu := url.Values{"csrf_token": {tkTok}, "name_kk": {" "}, "name_ru": {"ЦОУ ДП Туркестанской области"}, "region_code": {turkestan}}
		if resp, page = tk.post("/police-units", nu); resp.StatusCode != 422 || !strings.Contains(page, `id="name_kk-error"`) || !strings.Contains(page, `value="ЦОУ ДП Туркестанской области"`) {
			t.Errorf("a unit with no Kazakh name: %d", resp.StatusCode)
		}
		nu.Set("name_kk", "Түркістан облысы ПД ЖБО")
		nu.Set("region_code", region)
		if resp, page = tk.post("/police-units", nu); resp.StatusCode != 403 || !strings.Contains(page, `id="region_code-error"`) {
			t.Errorf("a unit in another region: %d", resp.StatusCode)
		}
		nu.Set("region_code", turkestan)
		if resp, _ = tk.post("/police-units", nu); resp.StatusCode != 303 {
			t.Fatalf("new unit: %d", resp.StatusCode)
		}
		if _, page = tk.get("/police-units?done=created"); !strings.Contains(page, "ЦОУ ДП Туркестанской области") || !strings.Contains(page, "ЦОУ зарегистрирован") {
			t.Errorf("the new unit is not listed")
		}

		// A new school: every bad field beside itself at once, then the
		// school created and its card shown.
		_, page = tk.get("/schools")
		if !strings.Contains(page, `id="new-school"`) {
			t.Fatalf("the department is not offered the new-school form")
		}
		ns := url.Values{"csrf_token": {tkTok}, "code": {""}, "bin": {"123"}, "name_kk": {""}, "name_ru": {"Школа-лицей «Болашақ»"}, "region_code": {turkestan},
			"lat": {"abc"}, "lon": {"68.25"}, "headcount": {"-5"}, "shifts": {"8-13"}}
		resp, page = tk.post("/schools", ns)
		if resp.StatusCode != 422 {
			t.Fatalf("a bad new school: %d", resp.StatusCode)
		}
		for _, f := range []string{"code", "bin", "name_kk", "lat", "headcount", "shifts"} {
			if !strings.Contains(page, `id="ns_`+f+`-error"`) {
				t.Errorf("a bad new school: no message beside %s", f)
			}
		}
		if !strings.Contains(page, `value="Школа-лицей «Болашақ»"`) || !strings.Contains(page, `value="8-13"`) || strings.Contains(page, `id="ns_name_ru-error"`) {
			t.Errorf("a bad new school: what was typed is not kept, or a good field is marked")
		}
		if n := storetest.Strings(t, q, "SELECT code FROM schools WHERE name_ru = 'Школа-лицей «Болашақ»'"); len(n) != 0 {
			t.Errorf("a bad form wrote %v", n)
		}
		ns = url.Values{"csrf_token": {tkTok}, "code": {"TRK-NEW-1"}, "name_kk": {"«Болашақ» мектеп-лицейі"}, "name_ru": {"Школа-лицей «Болашақ»"},
			"region_code": {turkestan}, "address": {"Түркістан қ., Тәуке хан д-лы, 5"}, "lat": {"43,29"}, "lon": {"68.25"}, "headcount": {"640"},
			"shifts": {"08:00–13:30; 14:00-19:00"}, "urban": {"on"}}
		resp, _ = tk.post("/schools", ns)
		if resp.StatusCode != 303 || !strings.HasSuffix(resp.Header.Get("Location"), "?done=school") {
			t.Fatalf("new school: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		_, page = tk.get(resp.Header.Get("Location"))
		if !strings.Contains(page, "Школа добавлена") || !strings.Contains(page, "08:00–13:30; 14:00–19:00") || !strings.Contains(page, "43.29000, 68.25000") {
			t.Errorf("the new school's card:\n%s", page)
		}
		if resp, page = tk.post("/schools", ns); resp.StatusCode != 409 || !strings.Contains(page, `id="ns_code-error"`) {
			t.Errorf("the same code again: %d", resp.StatusCode)
		}

		// The district's department: only its district; school 1 outside.
		var login, dc string
		for _, l := range res.Logins {
			if l.Role == auth.RoleEducation && l.Scope.Kind == auth.ScopeDistrict {
				login, dc = l.Login, l.Scope.Ref
			}
		}
		dd, _ := signedIn(t, live.URL, login, demo.DefaultPassword)
		_, page = dd.get("/schools")
		if got, want := shown(page), storetest.Strings(t, q, "SELECT CAST(id AS TEXT) FROM schools WHERE district_code = ? ORDER BY id LIMIT 50", dc); len(got) == 0 || !slices.Equal(got, want) {
			t.Errorf("the district's schools: %v, want %v", got, want)
		}
		if resp, _ = dd.get("/schools/1"); resp.StatusCode != 404 {
			t.Errorf("the district's department, school 1 of another region: %d", resp.StatusCode)
		}

		// The ministry: the nation, with a region filter.
		m, _ := signedIn(t, live.URL, "analyst", demo.DefaultPassword)
		resp, page = m.get("/schools?region=" + region)
		if resp.StatusCode != 200 || !strings.Contains(page, `id="region"`) || !slices.Equal(shown(page), want) {
			t.Errorf("the analyst, schools of region %s: %d %v", region, resp.StatusCode, shown(page))
		}
		if _, page = m.get("/schools?region=" + turkestan + "&district=" + district); !slices.Equal(shown(page), inDistrict) {
			t.Errorf("the analyst, district %s: %v", district, shown(page))
		}
		if resp, _ = m.get("/schools/" + outside[0]); resp.StatusCode != 200 {
			t.Errorf("the analyst, a school of any region: %d", resp.StatusCode)
		}
		if _, page = m.get("/schools"); strings.Contains(page, `id="new-school"`) {
			t.Errorf("the analyst, who may not write schools, is offered the form")
		}
		_, page = m.get("/providers")
		if strings.Contains(page, `id="new-provider"`) {
			t.Errorf("the analyst, who may not register providers, is offered the form")
		}
		if resp, _ = m.post("/providers", url.Values{"csrf_token": {formCSRF(t, page)}, "name": {"x"}}); resp.StatusCode != 403 {
			t.Errorf("the analyst registering a provider: %d", resp.StatusCode)
		}

		// A guardian: no school exists for them.
		g, _ := signedIn(t, live.URL, "parent", demo.DefaultPassword)
		if resp, _ = g.get("/schools/1"); resp.StatusCode != 404 {
			t.Errorf("the guardian, school 1: %d", resp.StatusCode)
		}
		if resp, _ = g.get("/schools"); resp.StatusCode != 403 {
			t.Errorf("the guardian, the schools: %d", resp.StatusCode)
		}
	})
}

func urlq(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

func htmlText(s string) string { return html.EscapeString(s) }
