package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"qorgan/internal/store"
)

// TestStaffPage: on each store, the director declares and confirms a
// lockdown through the emergency page; a teacher with a class opens /staff
// with the code from their SMS (typed with spaces and a capital, as a phone
// may) after a wrong one is refused beside the field; the code is kept in
// an HttpOnly, SameSite=Strict cookie of /staff and never in the address;
// every form without its token is refused; a tick, "secured" and the marks
// land in the state the API reads (the checklist by code, the director's
// roll-call); a pupil of another class is refused as the API refuses it,
// with what was chosen kept; once the emergency ends, the code is refused
// on the page and in the form.
func TestStaffPage(t *testing.T) {
	onDemoPages(t, func(t *testing.T, ctx context.Context, db *store.DB, live *httptest.Server) {
		q := db.Reader()
		var teacher, other int64
		var class string
		if err := q.QueryRowContext(ctx, "SELECT MIN(id) FROM staff WHERE school_id = 1 AND position = 'teacher' AND phone <> ''").Scan(&teacher); err != nil {
			t.Fatal(err)
		}
		if err := q.QueryRowContext(ctx, "SELECT MIN(class) FROM pupils WHERE school_id = 1").Scan(&class); err != nil {
			t.Fatal(err)
		}
		if err := q.QueryRowContext(ctx, "SELECT MIN(id) FROM pupils WHERE school_id = 1 AND class <> ?", class).Scan(&other); err != nil {
			t.Fatal(err)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, "UPDATE staff SET homeroom = ?, language = 'kk' WHERE id = ?", class, teacher)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		var mine []int64
		rows, err := q.QueryContext(ctx, "SELECT id FROM pupils WHERE school_id = 1 AND class = ? ORDER BY id", class)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id int64
			rows.Scan(&id)
			mine = append(mine, id)
		}
		rows.Close()
		if len(mine) == 0 {
			t.Fatal("the class has no pupils")
		}

		// The class is inside (the director's manual passes, today in Almaty).
		director, dtok := signedIn(t, live.URL, "director", "pages-password-1")
		for _, id := range append(mine, other) {
			body := fmt.Sprintf(`{"pupil_id": %d, "direction": "in", "request_id": "staff-page-%d"}`, id, id)
			req, _ := http.NewRequest("POST", live.URL+"/api/v1/schools/1/passes/manual", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-CSRF-Token", dtok)
			if resp, page := director.do(req); resp.StatusCode != 200 && resp.StatusCode != 201 {
				t.Fatalf("manual pass: %d %s", resp.StatusCode, page)
			}
		}
		// A lockdown, declared and confirmed on the school's emergency page.
		if resp, page := director.post("/schools/1/emergency/declare", url.Values{"csrf_token": {dtok}, "mode": {"lockdown"}, "scenario": {"armed_attack"}}); resp.StatusCode != 303 {
			t.Fatalf("declare: %d\n%s", resp.StatusCode, page)
		}
		_, page := director.get("/schools/1/emergency")
		m := regexp.MustCompile(`data-emergency="(\d+)"`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no open emergency on the page:\n%s", page)
		}
		eid := m[1]
		if resp, _ := director.post("/schools/1/emergency/confirm", url.Values{"csrf_token": {dtok}, "emergency_id": {eid}}); resp.StatusCode != 303 {
			t.Fatalf("confirm: %d", resp.StatusCode)
		}
		var sms string
		if err := q.QueryRowContext(ctx, "SELECT body FROM outbox WHERE idempotency_key LIKE ?", fmt.Sprintf("emergency/%s/step/%%/staff/%d/sms", eid, teacher)).Scan(&sms); err != nil {
			t.Fatal(err)
		}
		code := regexp.MustCompile(`qe_[a-z2-7]+`).FindString(sms)
		if code == "" || strings.Contains(sms, "/staff") {
			t.Fatalf("the teacher's SMS (no --public-url, so no link): %q", sms)
		}

		// The code form: a label, a one-time code, no code in the address.
		teacherB := newBrowser(t, live.URL)
		resp, page := teacherB.get("/staff")
		if resp.StatusCode != 200 || !strings.Contains(page, `<label for="code">Код из вашего сообщения</label>`) ||
			!strings.Contains(page, `autocomplete="one-time-code"`) || !strings.Contains(page, `action="/staff"`) {
			t.Fatalf("the code form: %d\n%s", resp.StatusCode, page)
		}
		tok := formCSRF(t, page)
		if resp, _ := teacherB.post("/staff", url.Values{"code": {code}}); resp.StatusCode != 403 {
			t.Errorf("a code without the form's token: %d, want 403", resp.StatusCode)
		}
		resp, page = teacherB.post("/staff", url.Values{"csrf_token": {tok}, "code": {"qe_notacode"}})
		if resp.StatusCode != 200 || !strings.Contains(page, `id="code-error" role="alert">Такого кода нет.`) ||
			!strings.Contains(page, `value="qe_notacode"`) || !strings.Contains(page, `aria-invalid="true"`) {
			t.Errorf("a wrong code: %d\n%s", resp.StatusCode, page)
		}
		_, page = teacherB.get("/staff", "Accept-Language", "kk")
		if !strings.Contains(page, "Хабарламаңыздағы код") {
			t.Errorf("the Kazakh code form:\n%s", page)
		}
		typedCode := "  Qe_" + code[3:9] + " " + code[9:] + " "
		resp, _ = teacherB.post("/staff", url.Values{"csrf_token": {tok}, "code": {typedCode}})
		if resp.StatusCode != 303 || resp.Header.Get("Location") != "/staff" {
			t.Fatalf("the good code: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		var kept *http.Cookie
		for _, c := range resp.Cookies() {
			if c.Name == "qorgan_staff" {
				kept = c
			}
		}
		if kept == nil || kept.Value != code || kept.Path != "/staff" || !kept.HttpOnly || kept.SameSite != http.SameSiteStrictMode || kept.MaxAge <= 0 || kept.MaxAge > 12*3600 {
			t.Errorf("the code's cookie: %+v", kept)
		}

		// The page: the mode and scenario in words, the steps, the class.
		resp, page = teacherB.get("/staff")
		for _, want := range []string{"Блокировка (угроза внутри)", "Вооружённое нападение", `id="secured-button"`, "Ваши действия", `id="step-1"`,
			"Перекличка вашего класса", "Класс <strong>" + class + "</strong>", fmt.Sprintf(`name="mark-%d" value="present"`, mine[0])} {
			if !strings.Contains(page, want) {
				t.Errorf("the staff page does not show %q", want)
			}
		}
		if resp.StatusCode != 200 || strings.Contains(page, code) || strings.Contains(page, fmt.Sprintf(`name="mark-%d"`, other)) {
			t.Fatalf("the staff page (%d) shows the code or another class's pupil:\n%s", resp.StatusCode, page)
		}
		tok = formCSRF(t, page)

		// Forms without the token change nothing.
		for _, p := range []string{"/staff/tick", "/staff/secured", "/staff/marks"} {
			if resp, _ := teacherB.post(p, url.Values{"step": {"1"}, fmt.Sprintf("mark-%d", mine[0]): {"present"}}); resp.StatusCode != 403 {
				t.Errorf("%s without the token: %d, want 403", p, resp.StatusCode)
			}
		}
		if resp, _ := teacherB.post("/staff/tick", url.Values{"csrf_token": {"forged"}, "step": {"1"}}); resp.StatusCode != 403 {
			t.Errorf("a tick with a forged token: %d", resp.StatusCode)
		}
		api := func(method, path string, out any) int {
			req, _ := http.NewRequest(method, live.URL+path, nil)
			req.Header.Set("Authorization", "Bearer "+code)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if out != nil {
				json.NewDecoder(resp.Body).Decode(out)
			}
			return resp.StatusCode
		}
		var cl struct {
			Steps []struct {
				No       int     `json:"no"`
				TickedAt *string `json:"ticked_at"`
			} `json:"steps"`
		}
		if api("GET", "/api/v1/emergency-staff/checklist", &cl); len(cl.Steps) < 2 || cl.Steps[0].TickedAt != nil {
			t.Fatalf("before the tick, the API's checklist: %+v", cl)
		}

		// A tick, kept, as the API reads it.
		resp, _ = teacherB.post("/staff/tick", url.Values{"csrf_token": {tok}, "step": {"1"}})
		if resp.StatusCode != 303 || !strings.HasSuffix(resp.Header.Get("Location"), "#step-1") {
			t.Fatalf("tick: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		if api("GET", "/api/v1/emergency-staff/checklist", &cl); cl.Steps[0].TickedAt == nil || cl.Steps[1].TickedAt != nil {
			t.Errorf("after the page's tick, the API's checklist: %+v", cl)
		}
		_, page = teacherB.get(resp.Header.Get("Location"))
		if !strings.Contains(page, "Шаг отмечен.") || !regexp.MustCompile(`(?s)<li id="step-1" class="ticked">.*?Сделано в`).MatchString(page) {
			t.Errorf("the ticked step on the page:\n%s", page)
		}
		if resp, page := teacherB.post("/staff/tick", url.Values{"csrf_token": {tok}, "step": {"99"}}); resp.StatusCode != 422 || !strings.Contains(page, "Такого шага нет") {
			t.Errorf("step 99: %d", resp.StatusCode)
		}

		// Secured.
		if resp, _ := teacherB.post("/staff/secured", url.Values{"csrf_token": {tok}}); resp.StatusCode != 303 {
			t.Fatalf("secured: %d", resp.StatusCode)
		}
		var secured *int64
		if err := q.QueryRowContext(ctx, "SELECT secured_at FROM emergency_staff WHERE emergency_id = ? AND staff_id = ?", eid, teacher).Scan(&secured); err != nil || secured == nil {
			t.Errorf("secured_at after the page's button: %v %v", secured, err)
		}
		if _, page = teacherB.get("/staff"); !strings.Contains(page, `id="secured-at"`) || strings.Contains(page, `id="secured-button"`) {
			t.Errorf("the page after secured still offers the button")
		}

		// Another class's pupil is refused, and what was chosen comes back.
		resp, page = teacherB.post("/staff/marks", url.Values{"csrf_token": {tok}, fmt.Sprintf("mark-%d", mine[0]): {"missing"}, fmt.Sprintf("mark-%d", other): {"present"}})
		if resp.StatusCode != 422 || !strings.Contains(page, "Этот ученик не из вашего класса") ||
			!strings.Contains(page, fmt.Sprintf(`name="mark-%d" value="missing" checked`, mine[0])) {
			t.Errorf("another class's pupil: %d\n%s", resp.StatusCode, page)
		}
		if resp, page := teacherB.post("/staff/marks", url.Values{"csrf_token": {tok}}); resp.StatusCode != 422 || !strings.Contains(page, "Отметьте хотя бы одного ученика.") {
			t.Errorf("no marks: %d", resp.StatusCode)
		}
		rollcall := func() (unaccounted int, classes []string) {
			_, body := director.get("/api/v1/emergencies/" + eid + "/rollcall")
			var rc struct {
				Unaccounted int `json:"unaccounted"`
				ByClass     []struct {
					Class string `json:"class"`
				} `json:"by_class"`
			}
			if err := json.Unmarshal([]byte(body), &rc); err != nil {
				t.Fatalf("roll-call: %v %s", err, body)
			}
			for _, c := range rc.ByClass {
				classes = append(classes, c.Class)
			}
			return rc.Unaccounted, classes
		}
		before, classes := rollcall()
		if !strings.Contains(fmt.Sprint(classes), class) {
			t.Fatalf("class %s is not unaccounted before its marks: %v", class, classes)
		}
		form := url.Values{"csrf_token": {tok}}
		for _, id := range mine {
			form.Set(fmt.Sprintf("mark-%d", id), "present")
		}
		if resp, _ := teacherB.post("/staff/marks", form); resp.StatusCode != 303 {
			t.Fatalf("the class's marks: %d", resp.StatusCode)
		}
		after, classes := rollcall()
		if after != before-len(mine) || strings.Contains(" "+strings.Join(classes, " ")+" ", " "+class+" ") {
			t.Errorf("after the marks, unaccounted %d (was %d, class of %d) in %v", after, before, len(mine), classes)
		}
		if _, page = teacherB.get("/staff"); !strings.Contains(page, fmt.Sprintf(`name="mark-%d" value="present" checked`, mine[0])) {
			t.Errorf("the page does not keep the marks")
		}
		if _, page = director.get("/schools/1/emergency"); strings.Contains(page, "<h3>"+class+"</h3>") {
			t.Errorf("the director's emergency page still lists class %s as unaccounted", class)
		}

		// Ended: the kept code and the typed one are refused.
		if resp, _ := director.post("/schools/1/emergency/end", url.Values{"csrf_token": {dtok}, "emergency_id": {eid}, "reason": {"all_clear"}}); resp.StatusCode != 303 {
			t.Fatalf("end: %d", resp.StatusCode)
		}
		resp, page = teacherB.get("/staff")
		if resp.StatusCode != 200 || !strings.Contains(page, "завершён: код больше не действует") || strings.Contains(page, "Ваши действия") {
			t.Errorf("the page after the end: %d\n%s", resp.StatusCode, page)
		}
		if resp, page := teacherB.post("/staff/secured", url.Values{"csrf_token": {tok}}); resp.StatusCode != 200 || !strings.Contains(page, "Введите код ещё раз.") {
			t.Errorf("secured with the forgotten code: %d", resp.StatusCode)
		}
		if resp, page := teacherB.post("/staff", url.Values{"csrf_token": {tok}, "code": {code}}); resp.StatusCode != 200 || !strings.Contains(page, "код больше не действует") {
			t.Errorf("the ended emergency's code typed: %d", resp.StatusCode)
		}
		if st := api("GET", "/api/v1/emergency-staff/checklist", nil); st != 409 {
			t.Errorf("the API with the ended code: %d", st)
		}
	})
}
