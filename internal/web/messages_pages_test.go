package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/demo"
	"qorgan/internal/notify"
	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
	"qorgan/internal/web"
)

// TestMessagesPage: the school's messages to parents on each store — the
// counts per state, the list newest first in pages of 50, a state filter,
// recipients masked, a failure's known reason in the reader's language
// with the raw text as a detail; the guard reads it too; another school's
// page is not found, a guardian finds no school, the ПЦН may not read it.
func TestMessagesPage(t *testing.T) {
	onDemoPages(t, func(t *testing.T, ctx context.Context, db *store.DB, live *httptest.Server) {
		// 60 messages sent, one waiting, one failed and one dead, about
		// school 1; one about school 2.
		now := time.Now()
		var msgs []notify.Message
		for i := range 60 {
			msgs = append(msgs, notify.Message{Key: fmt.Sprint("page/sent/", i), Channel: notify.ChannelSMS, Recipient: "+77019990001", Kind: "pupil.entered",
				Body: "Айгерім мектепке кірді", Language: "kk", SchoolID: 1, PupilID: 1, CreatedAt: now.Add(-time.Duration(60-i) * time.Minute)})
		}
		msgs = append(msgs,
			notify.Message{Key: "page/waiting", Channel: notify.ChannelEmail, Recipient: "saule@example.kz", Kind: "pupil.left", Body: "…", Language: "ru", SchoolID: 1, PupilID: 1},
			notify.Message{Key: "page/failed", Channel: notify.ChannelBot, Recipient: "777123", Kind: "pupil.not_arrived", Body: "…", Language: "ru", SchoolID: 1, PupilID: 1},
			notify.Message{Key: "page/dead", Channel: notify.ChannelSMS, Recipient: "+77019990002", Kind: "pupil.entered", Body: "…", Language: "ru", SchoolID: 1, PupilID: 1},
			notify.Message{Key: "page/other", Channel: notify.ChannelSMS, Recipient: "+77019990003", Kind: "pupil.entered", Body: "…", Language: "ru", SchoolID: 2, PupilID: 2})
		if err := db.InTx(ctx, func(tx *store.Tx) error { _, err := notify.Enqueue(ctx, tx, msgs); return err }); err != nil {
			t.Fatal(err)
		}
		// Their outcomes as the worker writes them.
		for _, u := range []string{
			"UPDATE outbox SET status = 'sent', attempts = 1, sent_at = created_at WHERE idempotency_key LIKE 'page/sent/%'",
			"UPDATE outbox SET attempts = 2, last_error = 'temporary: HTTP 503: busy' WHERE idempotency_key = 'page/failed'",
			"UPDATE outbox SET status = 'dead', attempts = 1, last_error = 'permanent: SMS recipient is not an international phone number' WHERE idempotency_key = 'page/dead'",
		} {
			if _, err := db.W.ExecContext(ctx, u); err != nil {
				t.Fatal(err)
			}
		}

		director, _ := signedIn(t, live.URL, "director", "pages-password-1")
		resp, page := director.get("/schools/1/messages")
		if resp.StatusCode != 200 {
			t.Fatalf("messages: %d\n%s", resp.StatusCode, page)
		}
		if !strings.Contains(page, `href="/schools/1/messages" aria-current="page"`) {
			t.Errorf("the director's menu does not show the messages page as current")
		}
		counts := map[string]string{}
		for _, m := range regexp.MustCompile(`id="count-(\w+)"[^>]*><span class="n[^"]*">(\d+)</span>`).FindAllStringSubmatch(page, -1) {
			counts[m[1]] = m[2]
		}
		if fmt.Sprint(counts) != "map[dead:1 failed:1 sent:60 waiting:1]" {
			t.Errorf("counts per state: %v", counts)
		}
		rows := regexp.MustCompile(`<tr data-id="(\d+)" class="st-(\w+)">`)
		first := rows.FindAllStringSubmatch(page, -1)
		if len(first) != 50 {
			t.Fatalf("the first page shows %d messages, want 50", len(first))
		}
		// The failures, newest, lead; each in words, the raw text as a detail.
		for _, want := range []string{"Сбой на стороне провайдера", "temporary: HTTP 503: busy", "Неверный контакт родителя", "Нет отметки о входе", "Бот в мессенджере",
			"&#43;7********02", "s***@example.kz", "Повтор в", "2 попытки"} {
			if !strings.Contains(page, want) {
				t.Errorf("the messages page does not show %q", want)
			}
		}
		for _, secret := range []string{"7019990001", "saule@example.kz", "777123", "Айгерім", "7019990003"} {
			if strings.Contains(page, secret) {
				t.Errorf("the messages page shows %q: a recipient unmasked, a text, or another school's message", secret)
			}
		}
		if title := regexp.MustCompile(`<title>([^<]*)</title>`).FindStringSubmatch(page); title == nil || title[1] != "Сообщения родителям — Qorgan" {
			t.Errorf("title %v", title)
		}
		next := regexp.MustCompile(`<a href="([^"]+)" rel="next"`).FindStringSubmatch(page)
		if next == nil {
			t.Fatalf("no next page after 50 of 63 messages")
		}
		_, page = director.get(strings.ReplaceAll(next[1], "&amp;", "&"))
		second := rows.FindAllStringSubmatch(page, -1)
		if len(second) != 13 || strings.Contains(page, `rel="next"`) {
			t.Errorf("the second page shows %d messages (want 13) and a next link: %v", len(second), strings.Contains(page, `rel="next"`))
		}
		seen := map[string]bool{}
		for _, m := range append(first, second...) {
			if seen[m[1]] {
				t.Errorf("message %s shown twice", m[1])
			}
			seen[m[1]] = true
		}
		_, page = director.get("/schools/1/messages?state=dead")
		if got := rows.FindAllStringSubmatch(page, -1); len(got) != 1 || got[0][2] != "dead" || !strings.Contains(page, `<option value="dead" selected>`) {
			t.Errorf("state=dead shows %v", got)
		}
		if resp, _ := director.get("/schools/1/messages?cursor=nonsense"); resp.StatusCode != 404 {
			t.Errorf("a cursor this server did not give: %d", resp.StatusCode)
		}

		// English: the same page in English words only.
		en, _ := signedIn(t, live.URL, "director", "pages-password-1")
		_, page = en.get("/schools/1/messages", "Accept-Language", "en")
		if !strings.Contains(page, "Messages to parents") {
			t.Errorf("the English page: %s", page)
		}

		for _, c := range []struct {
			who, path string
			want      int
		}{
			{"director", "/schools/2/messages", 404},
			{"guard", "/schools/1/messages", 200},
			{"guard", "/schools/2/messages", 404},
			{"parent", "/schools/1/messages", 404},
			{"pcn", "/schools/1/messages", 403},
			{"region", "/schools/1/messages", 403},
		} {
			b, _ := signedIn(t, live.URL, c.who, "pages-password-1")
			if resp, _ := b.get(c.path); resp.StatusCode != c.want {
				t.Errorf("%s GET %s: %d, want %d", c.who, c.path, resp.StatusCode, c.want)
			}
		}
	})
}

// TestNotArrivedRulePage: the director reads and sets the school's
// not-arrived rule through the form; a time out of range or outside the
// shift comes back beside its field in the reader's language with what was
// typed; the change is audited as the API's is; a form without its CSRF
// token is refused; the guard reads the rule and may not change it; another
// school's rule is not found, and a guardian finds none.
func TestNotArrivedRulePage(t *testing.T) {
	onDemoPages(t, func(t *testing.T, ctx context.Context, db *store.DB, live *httptest.Server) {
		// School 1 teaches in one shift here, whatever its size.
		if _, err := db.W.ExecContext(ctx, `UPDATE schools SET shifts = '[{"start":"08:00","end":"13:30"}]' WHERE id = 1`); err != nil {
			t.Fatal(err)
		}
		director, tok := signedIn(t, live.URL, "director", "pages-password-1")
		resp, page := director.get("/schools/1/not-arrived-rule")
		if resp.StatusCode != 200 || !strings.Contains(page, `id="rule-form"`) || !strings.Contains(page, "Выключено") || !strings.Contains(page, `<label for="at">`) {
			t.Fatalf("the rule's page: %d\n%s", resp.StatusCode, page)
		}
		if resp, _ := director.post("/schools/1/not-arrived-rule", url.Values{"on": {"on"}, "at": {"08:30"}}); resp.StatusCode != 403 {
			t.Errorf("a form without its CSRF token: %d", resp.StatusCode)
		}
		if resp, _ := director.post("/schools/1/not-arrived-rule", url.Values{"csrf_token": {"forged"}, "on": {"on"}, "at": {"08:30"}}); resp.StatusCode != 403 {
			t.Errorf("a form with a forged CSRF token: %d", resp.StatusCode)
		}
		for _, c := range []struct{ at, want string }{
			{"25:00", "«25:00» — не время"},
			{"", "Укажите время проверки"},
			{"07:15", "Время должно быть внутри смены (08:00–13:30)"},
		} {
			resp, page := director.post("/schools/1/not-arrived-rule", url.Values{"csrf_token": {tok}, "on": {"on"}, "at": {c.at}, "saturday": {"on"}})
			if resp.StatusCode != 422 || !strings.Contains(page, `<p class="field-error" id="at-error">`+c.want) || !strings.Contains(page, `value="`+c.at+`"`) ||
				!strings.Contains(page, `aria-invalid="true"`) || !strings.Contains(page, `id="saturday" name="saturday" checked`) {
				t.Errorf("at %q: %d, want 422 with %q beside the field and what was typed kept\n%s", c.at, resp.StatusCode, c.want, page)
			}
		}
		var audited int
		if err := db.Reader().QueryRowContext(ctx, "SELECT COUNT(*) FROM audit WHERE action = 'school.not_arrived_rule'").Scan(&audited); err != nil || audited != 0 {
			t.Fatalf("refused forms were audited: %d %v", audited, err)
		}
		resp, _ = director.post("/schools/1/not-arrived-rule", url.Values{"csrf_token": {tok}, "on": {"on"}, "at": {"8:45"}, "saturday": {"on"}})
		if resp.StatusCode != 303 || resp.Header.Get("Location") != "/schools/1/not-arrived-rule?done=1" {
			t.Fatalf("a good time: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		_, page = director.get("/schools/1/not-arrived-rule?done=1")
		if !strings.Contains(page, "Правило сохранено") || !strings.Contains(page, "Включено, проверка в 08:45") || !strings.Contains(page, `value="08:45"`) {
			t.Errorf("after saving:\n%s", page)
		}
		var detail string
		if err := db.Reader().QueryRowContext(ctx, "SELECT detail FROM audit WHERE action = 'school.not_arrived_rule' AND object = 'school/1'").Scan(&detail); err != nil ||
			!strings.Contains(detail, "08:45") {
			t.Errorf("the change is not audited: %q %v", detail, err)
		}
		// Off again: the checkbox unticked.
		if resp, _ := director.post("/schools/1/not-arrived-rule", url.Values{"csrf_token": {tok}, "at": {"08:45"}}); resp.StatusCode != 303 {
			t.Errorf("switching off: %d", resp.StatusCode)
		}
		if _, page = director.get("/schools/1/not-arrived-rule"); !strings.Contains(page, "Выключено") {
			t.Errorf("the rule is still on after switching it off")
		}

		guard, gtok := signedIn(t, live.URL, "guard", "pages-password-1")
		resp, page = guard.get("/schools/1/not-arrived-rule")
		if resp.StatusCode != 200 || strings.Contains(page, `id="rule-form"`) || !strings.Contains(page, `id="read-only"`) {
			t.Errorf("the guard's view of the rule: %d", resp.StatusCode)
		}
		if resp, _ := guard.post("/schools/1/not-arrived-rule", url.Values{"csrf_token": {gtok}, "on": {"on"}, "at": {"08:30"}}); resp.StatusCode != 403 {
			t.Errorf("the guard sets the rule: %d, want 403", resp.StatusCode)
		}
		if resp, _ := director.get("/schools/2/not-arrived-rule"); resp.StatusCode != 404 {
			t.Errorf("another school's rule: %d, want 404", resp.StatusCode)
		}
		if resp, _ := director.post("/schools/2/not-arrived-rule", url.Values{"csrf_token": {tok}, "on": {"on"}, "at": {"08:30"}}); resp.StatusCode != 404 {
			t.Errorf("setting another school's rule: %d, want 404", resp.StatusCode)
		}
		parent, _ := signedIn(t, live.URL, "parent", "pages-password-1")
		if resp, _ := parent.get("/schools/1/not-arrived-rule"); resp.StatusCode != 404 {
			t.Errorf("a guardian opens the rule: %d, want 404", resp.StatusCode)
		}
	})
}

// TestAlarmPageMap: with a tile server configured, the alarm page carries
// the map (Leaflet, the school's coordinates, the tile template) and its
// CSP allows images from that server only; without one, the page says the
// map is off, shows the coordinates, and its CSP names no other origin.
func TestAlarmPageMap(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the demo")
	}
	db := storetest.SQLite(t)
	a := auth.New(db)
	if _, err := demo.Load(context.Background(), db, a, demo.Options{Scale: 0.002, Password: "pages-password-1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.W.ExecContext(context.Background(), "UPDATE schools SET lat = 43.238949, lon = 76.889709 WHERE id = 1"); err != nil {
		t.Fatal(err)
	}
	serve := func(tiles string) string {
		return serveWired(t, db, a, func(d *web.Deps) { d.MapTilesURL = tiles }).URL
	}
	withMap, without := serve("https://{s}.tiles.example:8443/{z}/{x}/{y}.png"), serve("")

	guard, gtok := signedIn(t, withMap, "guard", "pages-password-1")
	req, _ := http.NewRequest("POST", withMap+"/api/v1/schools/1/panic", strings.NewReader(`{"request_id":"map-1","note":"map"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", gtok)
	if resp, body := guard.do(req); resp.StatusCode != 202 {
		t.Fatalf("panic: %d %s", resp.StatusCode, body)
	}
	_, page := guard.get("/schools/1/board")
	m := regexp.MustCompile(`href="/alarms/(\d+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no alarm on the board:\n%s", page)
	}
	resp, page := guard.get("/alarms/" + m[1])
	csp := resp.Header.Get("Content-Security-Policy")
	if resp.StatusCode != 200 || !strings.Contains(page, `id="school-map"`) || !strings.Contains(page, `data-tiles="https://{s}.tiles.example:8443/{z}/{x}/{y}.png"`) ||
		!strings.Contains(page, `data-lat="43.238949"`) || !regexp.MustCompile(`src="/static/leaflet\.[0-9a-f]{12}\.js"`).MatchString(page) ||
		strings.Contains(page, `id="map-off"`) {
		t.Errorf("the alarm page with a tile server: %d\n%s", resp.StatusCode, page)
	}
	if !strings.Contains(csp, "img-src 'self' data: https://*.tiles.example:8443;") || strings.Contains(csp, "unsafe-inline") ||
		!strings.Contains(csp, "script-src 'self';") || !strings.Contains(csp, "style-src 'self';") {
		t.Errorf("the alarm page's CSP with a tile server: %s", csp)
	}
	if resp, _ := guard.get("/schools/1/board"); strings.Contains(resp.Header.Get("Content-Security-Policy"), "tiles.example") {
		t.Errorf("a page without a map allows the tile server's images")
	}

	other, _ := signedIn(t, without, "guard", "pages-password-1")
	resp, page = other.get("/alarms/" + m[1])
	if resp.StatusCode != 200 || strings.Contains(page, `id="school-map"`) || !strings.Contains(page, `id="map-off"`) || !strings.Contains(page, "43.238949, 76.889709") ||
		strings.Contains(page, "leaflet") {
		t.Errorf("the alarm page without a tile server: %d\n%s", resp.StatusCode, page)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' data:;") {
		t.Errorf("the alarm page's CSP without a tile server: %s", csp)
	}
}
