package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"qorgan/internal/auth"
	"qorgan/internal/registry"
	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
	"qorgan/internal/testkit"
	"qorgan/internal/web"
)

// TestBadTextRefusedOnEveryStore: a control character, invalid UTF-8 or a
// repeated key in a JSON body is refused with a 422 naming the member, the
// same on SQLite (which would store a NUL) and on PostgreSQL (which would
// fail on it with a 500), and nothing is written.
func TestBadTextRefusedOnEveryStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		school := testkit.Schools(t, db, registry.SchoolInput{Code: "TRK-001", NameKK: "№1 мектеп", NameRU: "Школа №1",
			RegionCode: "610000000", DistrictCode: "611000000", Headcount: 900})["TRK-001"]
		a := auth.New(db)
		tok := testkit.AdminToken(t, a, "root", "a long password")
		live := serveWired(t, db, a)

		post := func(body string) (int, web.Problem) {
			t.Helper()
			req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/schools/%d/pupils", live.URL, school), strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+tok.Token)
			resp, err := live.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var pr web.Problem
			json.NewDecoder(resp.Body).Decode(&pr)
			return resp.StatusCode, pr
		}
		n := 0 // each body a pupil of its own, so that one let through does not make the next a conflict
		pupil := func(lastName, guardian2Name string) string {
			n++
			return `{"external_id":"` + fmt.Sprint(n) + `","last_name":"` + lastName + `","first_name":"Арман","class":"1А","guardians":[` +
				`{"phone":"+77011234567","full_name":"Ким Гүлнар"},{"phone":"+77021234567","full_name":"` + guardian2Name + `"}]}`
		}
		for _, c := range []struct{ name, body, field, detail string }{
			{"NUL in a name", pupil(`Ким\u0000`, "Ким Серік"), "last_name", "U+0000"},
			{"NUL in a guardian", pupil("Ким", `Ким\u0000Серік`), "guardians/1/full_name", "U+0000"},
			{"newline in a name", pupil(`Ким\nКим`, "Ким Серік"), "last_name", "U+000A"},
			{"DEL in a name", pupil("Ким\u007f", "Ким Серік"), "last_name", "U+007F"},
			{"invalid UTF-8", pupil("Ким\xff", "Ким Серік"), "last_name", "UTF-8"},
			{"a lone surrogate", pupil(`Ким\ud800`, "Ким Серік"), "last_name", "UTF-8"},
			{"a repeated key", strings.Replace(pupil("Ким", "Ким Серік"), `"first_name"`, `"last_name":"Пак","first_name"`, 1), "last_name", "twice"},
			{"a repeated key deeper", strings.Replace(pupil("Ким", "Ким Серік"), `"full_name":"Ким Серік"`, `"full_name":"Ким Серік","phone":"+77031234567"`, 1), "guardians/1/phone", "twice"},
			{"a repeated key in another case", strings.Replace(pupil("Ким", "Ким Серік"), `"first_name"`, `"Last_Name":"Пак","first_name"`, 1), "Last_Name", "last_name"},
		} {
			t.Run(c.name, func(t *testing.T) {
				status, pr := post(c.body)
				if status != http.StatusUnprocessableEntity || pr.Field != c.field || !strings.Contains(pr.Detail, c.detail) {
					t.Fatalf("%d %q %q; want 422 naming %q with %q", status, pr.Field, pr.Detail, c.field, c.detail)
				}
			})
		}
		var stored int
		if err := db.Reader().QueryRowContext(ctx, "SELECT COUNT(*) FROM pupils").Scan(&stored); err != nil || stored != 0 {
			t.Fatalf("%d pupils stored (%v); want none", stored, err)
		}
		if status, pr := post(pupil("Ким", "Ким Серік")); status != http.StatusCreated {
			t.Fatalf("a good pupil: %d %+v", status, pr)
		}
	})
}
