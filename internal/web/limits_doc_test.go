package web_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"qorgan/internal/attendance"
	"qorgan/internal/transfer"
	"qorgan/internal/web"
)

// grouped writes n with its thousands separated by sep ("1,048,576").
func grouped(n int, sep string) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + sep + s[i:]
	}
	return s
}

func mib(n int) string { return fmt.Sprintf("%d MiB", n>>20) }

// TestLimitsDocumented: the README's table of limits and the OpenAPI
// document's Limits paragraph give the limits the code has, route by route.
func TestLimitsDocumented(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, readme, ok := strings.Cut(string(data), "\n## Requests and limits\n")
	if !ok {
		t.Fatal(`the README has no section "Requests and limits"`)
	}
	readme, _, _ = strings.Cut(readme, "\n## ")
	doc := loadDoc(t).Info.Description
	_, limits, ok := strings.Cut(doc, "**Limits.**")
	if !ok {
		t.Fatal("the OpenAPI description has no **Limits.** paragraph")
	}
	limits, _, _ = strings.Cut(limits, "\n\n")

	for _, l := range []struct {
		marker string   // what the README's table row is about
		has    []string // what it says, with the thousands separated by "#"
	}{
		{"a JSON body", []string{mib(web.MaxBody), grouped(web.MaxBody, "#") + " bytes", "413"}},
		{"`POST /api/v1/device/passes`", []string{mib(web.MaxPassBody), grouped(attendance.MaxBatch, "#") + " events", "413"}},
		{"`POST /api/v1/imports`", []string{mib(transfer.MaxFileSize), mib(transfer.MaxFileSize + 1<<20), grouped(transfer.MaxRows, "#") + " data rows", "413"}},
	} {
		row := ""
		for _, line := range strings.Split(readme, "\n") {
			if strings.HasPrefix(line, "|") && strings.Contains(line, l.marker) {
				row = line
			}
		}
		if row == "" {
			t.Errorf("the README's table of limits has no row for %s", l.marker)
		}
		for _, want := range l.has {
			if w := strings.ReplaceAll(want, "#", ","); !strings.Contains(row, w) {
				t.Errorf("README, %s: does not say %q: %s", l.marker, w, row)
			}
			if w := strings.ReplaceAll(want, "#", " "); want != "413" && !strings.Contains(limits, w) && !strings.Contains(limits, strings.ReplaceAll(want, "#", ",")) {
				t.Errorf("OpenAPI Limits: does not say %q: %s", w, limits)
			}
		}
		if l.marker != "a JSON body" && !strings.Contains(limits, l.marker) {
			t.Errorf("OpenAPI Limits: does not name %s", l.marker)
		}
	}
}
