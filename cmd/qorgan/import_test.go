package main_test

import (
	"bytes"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestImportInBrowser: the director sends the school's own pupils file
// with one bad phone from the import page and reads the report (the row,
// the column, nothing written), then the file as exported and watches the
// progress bar finish.
func TestImportInBrowser(t *testing.T) {
	browser, s := browserDemo(t)

	api := apiAs(t, s.base, "director")
	resp, err := api.http.Get(s.base + "/api/v1/schools/1/pupils/export?format=csv")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("export: %v %v", err, resp)
	}
	good, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(good, []byte("\ufeff")))).ReadAll()
	if err != nil || len(rows) < 3 {
		t.Fatalf("the export: %d rows, %v", len(rows), err)
	}
	phone := slices.Index(rows[0], "guardian1_phone")
	if phone < 0 {
		t.Fatalf("no guardian1_phone column in %v", rows[0])
	}
	rows[2][phone] = "12345"
	var bad bytes.Buffer
	w := csv.NewWriter(&bad)
	w.WriteAll(rows)
	dir := t.TempDir()
	goodPath, badPath := filepath.Join(dir, "pupils.csv"), filepath.Join(dir, "pupils-bad.csv")
	os.WriteFile(goodPath, good, 0o644)
	os.WriteFile(badPath, bad.Bytes(), 0o644)

	director := signedInAs(t, browser, s.base, "director", "ru")
	director.do(chromedp.Navigate(s.base + "/schools/1/import"))
	director.noInline("the import page")
	director.do(chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{badPath}), chromedp.Click(chromedp.CSS("#import-form button[type=submit]")))
	director.wait(`document.querySelector("#import-report") !== null`, 20*time.Second)
	director.noInline("the import's report")
	if st := eval[string](director, `document.querySelector("#import-status").className`); st != "import-rejected" {
		t.Errorf("the bad file's import is %q, want rejected", st)
	}
	problems := eval[string](director, `document.querySelector("#problems tbody").innerText`)
	if !strings.Contains(problems, "3") || !strings.Contains(problems, "guardian1_phone") {
		t.Errorf("the report does not name row 3 and guardian1_phone: %q", problems)
	}
	if n := eval[int](director, `document.querySelectorAll("#problems tbody tr").length`); n != 1 {
		t.Errorf("the report lists %d problems, want 1", n)
	}
	director.screenshot("import-report-ru")
	// The report in each language, its problems worded in it too.
	report := map[string]string{}
	for _, l := range []string{"kk", "ru", "en"} {
		director.language(l)
		director.wait(`document.querySelector("#problems tbody") !== null`, 10*time.Second)
		report[l] = eval[string](director, `document.querySelector("main").innerText`)
		director.screenshot("import-report-" + l)
	}
	differ(t, "import report", report)
	for l, want := range map[string]string{"kk": "Қазақстандағы телефон нөмірі", "ru": "Номер телефона в Казахстане", "en": "A Kazakhstan phone number"} {
		if !strings.Contains(report[l], want) {
			t.Errorf("the import report in %s does not word the phone problem in it (%q): %q", l, want, report[l])
		}
	}

	director.do(chromedp.Navigate(s.base + "/schools/1/import"))
	director.do(chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{goodPath}), chromedp.Click(chromedp.CSS("#import-form button[type=submit]")))
	director.wait(`document.querySelector("#import-report") !== null && document.querySelector("#progress").value === 100`, 20*time.Second)
	if st := eval[string](director, `document.querySelector("#import-status").className`); st != "import-done" {
		t.Errorf("the good file's import is %q, want done", st)
	}
	if n := eval[string](director, `document.querySelectorAll("#import-report dd")[0].innerText`); n != strconv.Itoa(len(rows)-1) {
		t.Errorf("the good import read %s rows", n)
	}
	director.screenshot("import-done-ru")
	if errs := director.consoleErrors(); len(errs) > 0 {
		t.Errorf("director: browser console errors: %v", errs)
	}
}
