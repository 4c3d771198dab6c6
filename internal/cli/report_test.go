package cli_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"qorgan/internal/auth"
	"qorgan/internal/cli"
	"qorgan/internal/registry"
	"qorgan/internal/store"
	"qorgan/internal/testkit"
)

// TestReportCommands: qorgan report prints a place's indicators as text and
// CSV, a school's gap list with its rules, and the snapshots seeded and
// live, each with its source; a place outside --as's scope is not found.
func TestReportCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the demo")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "report.db")
	db, err := store.Open(ctx, store.Config{Path: path, Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	if err := registry.SeedRegions(ctx, db); err != nil {
		t.Fatal(err)
	}
	testkit.Demo(t, db, auth.New(db), 0.002)
	db.Close()
	run := func(args ...string) (string, error) {
		var out, errOut strings.Builder
		err := cli.Run(ctx, append(args, "--db", path, "--sqlite-sync", "NORMAL"), &out, &errOut, cli.Wiring{})
		return out.String() + errOut.String(), err
	}
	out, err := run("report", "indicators")
	if err != nil || !strings.Contains(out, "(nation ), ") || !regexp.MustCompile(`(?m)^\s+drill\s+0\s+21\s+0\.0%$`).MatchString(out) ||
		!strings.Contains(out, "Туркестанская область") {
		t.Errorf("indicators: %v\n%s", err, out)
	}
	out, err = run("report", "indicators", "--format", "csv", "--as", "region")
	if err != nil || !strings.HasPrefix(out, "level,code,name,as_of,origin,indicator,having,required,share,measured\nregion,") ||
		!strings.Contains(out, ",drill,0,1,0.0000,true") { // the demo has held no drill yet
		t.Errorf("indicators as region, CSV: %v\n%s", err, out)
	}
	if out, err = run("report", "indicators", "--as", "district", "--region", "100000000"); err == nil || !strings.Contains(err.Error(), "no region") {
		t.Errorf("the district asking for a region: %v\n%s", err, out)
	}
	// The gap list in the language asked for, Russian by default, as the
	// console words it: the school's name, the rule set's title, each
	// item's reason and act in that language (no English word but the rule
	// set's id and a device's «name»).
	for _, c := range []struct{ lang, head, set, rule string }{
		{"", "Соответствие требованиям: Средняя школа №1", "свод требований «УТО — от 100 человек", "Требование акта: Разъяснение МВД"},
		{"ru", "Соответствие требованиям: Средняя школа №1", "свод требований «УТО — от 100 человек", "Требование акта: Разъяснение МВД"},
		{"kk", "Талаптарға сәйкестік: №1 жалпы білім беретін мектеп", "талаптар жиыны «ТТО — 100 адамнан бастап", "Талап ететін акт: Қазақстан Республикасы ІІМ-нің"},
		{"en", "Compliance: Средняя школа №1", "rule set «УТО from 100 people", "The rule: MVD summary"},
	} {
		args := []string{"report", "gaps", "--school", "1"}
		if c.lang != "" {
			args = append(args, "--lang", c.lang)
		}
		out, err = run(args...)
		if err != nil || !strings.HasPrefix(out, c.head) || !strings.Contains(out, c.set) || !strings.Contains(out, "(uto-2021)") || !strings.Contains(out, c.rule) {
			t.Errorf("gaps in %q: %v\n%s", c.lang, err, out)
		}
		if c.lang != "en" {
			if w := regexp.MustCompile(`[A-Za-z]{3,}`).FindString(regexp.MustCompile(`«[^»]*»|\(uto-2021\)`).ReplaceAllString(out, "")); w != "" {
				t.Errorf("gaps in %q has the English word %q:\n%s", c.lang, w, out)
			}
		}
	}
	if out, err = run("report", "gaps", "--school", "1", "--lang", "de"); err == nil || !strings.Contains(err.Error(), "--lang") {
		t.Errorf("gaps in German: %v\n%s", err, out)
	}
	out, err = run("report", "snapshot", "--take")
	if err != nil || !strings.Contains(out, "2021-01-01  seeded") || !strings.Contains(out, "turnstiles: 681 of 2357 29.0%") ||
		!strings.Contains(out, "2025-12-03  seeded") || !strings.Contains(out, "  live — computed by Qorgan") {
		t.Errorf("snapshots: %v\n%s", err, out)
	}

	// The letter and the table by region, as text and as files.
	out, err = run("report", "letter", "--lang", "kk")
	if err != nil || !strings.Contains(out, "ДЗ-237") || !strings.Contains(out, "Qorgan ағымдағы деректері бойынша") {
		t.Errorf("letter in Kazakh: %v\n%s", err, out)
	}
	if out, err = run("report", "letter", "--format", "pdf"); err == nil || !strings.Contains(err.Error(), "--out") {
		t.Errorf("a PDF to standard output: %v\n%s", err, out)
	}
	pdf := filepath.Join(t.TempDir(), "letter.pdf")
	if out, err = run("report", "letter", "--lang", "ru", "--format", "pdf", "--out", pdf); err != nil {
		t.Fatalf("letter as PDF: %v\n%s", err, out)
	}
	if text, err := exec.Command("pdftotext", pdf, "-").Output(); err != nil {
		if os.Getenv("QORGAN_TEST_REQUIRE_PDFTOTEXT") == "1" {
			t.Errorf("pdftotext: %v", err)
		}
	} else if !strings.Contains(strings.Join(strings.Fields(string(text)), " "), "По текущим данным Qorgan") {
		t.Errorf("the PDF letter reads:\n%s", text)
	}
	xlsx := filepath.Join(t.TempDir(), "regions.xlsx")
	if out, err = run("report", "regions", "--format", "xlsx", "--out", xlsx, "--as", "analyst"); err != nil {
		t.Fatalf("regions as XLSX: %v\n%s", err, out)
	}
	if fi, err := os.Stat(xlsx); err != nil || fi.Size() == 0 {
		t.Errorf("regions.xlsx: %v", err)
	}
	if _, err := os.Stat(xlsx + ".part"); err == nil {
		t.Errorf("the partial file was left behind")
	}
}
