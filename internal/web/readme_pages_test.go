package web_test

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"qorgan/internal/auth"
	"qorgan/internal/registry"
	"qorgan/internal/store/storetest"
)

// TestREADMESaysWhetherThereArePages: the top of the README says that
// Qorgan has no pages for people yet exactly as long as the server serves
// none (no HTML at /), so that the web console, when it lands, takes the
// sentence away with it.
func TestREADMESaysWhetherThereArePages(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	top, _, _ := strings.Cut(string(data), "\n## ")
	says := strings.Contains(strings.ToLower(top), "no pages for people yet")

	db := storetest.SQLite(t)
	a := auth.New(db)
	srv := wired(t, db, a, registry.New(db, a), slog.New(slog.NewTextHandler(io.Discard, nil)))
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	pages := rec.Code == 200 && strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html")

	switch {
	case !pages && !says:
		t.Errorf("GET / serves no page (%d %s), but the top of the README does not say that there are no pages for people yet", rec.Code, rec.Header().Get("Content-Type"))
	case pages && says:
		t.Errorf("GET / serves a page, but the top of the README still says there are no pages for people yet")
	}
}
