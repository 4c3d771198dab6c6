package roadmap_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"qorgan/internal/registry"
	"qorgan/internal/report"
	"qorgan/internal/store/storetest"
)

// TestLetterFromLiveData: the «Справочно» part of a letter, in Russian and in
// Kazakh, says the seeded 2021 and 2025 records with their sources and then
// the live figures of today with Qorgan as their source, apart; the live
// count of turnstiles changes when a school gets one; the table by region
// has the live rows; both write to PDF and XLSX.
func TestLetterFromLiveData(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		text := func(l report.Lang) string {
			t.Helper()
			d, err := f.rm.Letter(ctx, f.nation, l)
			if err != nil {
				t.Fatal(err)
			}
			return d.PlainText()
		}
		ru := text(report.RU)
		for _, want := range []string{"ДЗ-237", "681 школа из 2\u00a0357 подлежащих", "3 декабря 2025", "По текущим данным Qorgan на 6 декабря 2026",
			"Ни одна школа из 2 подлежащих не оснащена турникетами"} {
			if !strings.Contains(ru, want) {
				t.Errorf("the Russian letter has no %q:\n%s", want, ru)
			}
		}
		kk := text(report.KK)
		for _, want := range []string{"ДЗ-237", "Міндетті 2\u00a0357 мектептің 681-і", "2026 жылғы 6 желтоқсан"} {
			if !strings.Contains(kk, want) {
				t.Errorf("the Kazakh letter has no %q:\n%s", want, kk)
			}
		}
		// A turnstile at the school of 701 (one of the 2 required to have
		// them) changes the live sentence, and only it.
		f.device(t, "T701", registry.Turnstile, 0)
		f.rm.Rebuild()
		if ru2 := text(report.RU); !strings.Contains(ru2, "1 школа из 2 подлежащих оснащена турникетами") || !strings.Contains(ru2, "681 школа из 2\u00a0357") {
			t.Errorf("after a turnstile the Russian letter reads:\n%s", ru2)
		}

		regions, err := f.rm.RegionReport(ctx, f.nation, report.RU)
		if err != nil {
			t.Fatal(err)
		}
		table := regions.PlainText()
		if !strings.Contains(table, "Туркестанская") && !strings.Contains(table, "Түркістан") {
			t.Errorf("the table by region has no Turkestan row:\n%s", table)
		}
		var pdf, xlsx bytes.Buffer
		if err := report.WritePDF(&pdf, regions); err != nil || !bytes.HasPrefix(pdf.Bytes(), []byte("%PDF")) {
			t.Errorf("PDF: %v", err)
		}
		if err := report.WriteXLSX(&xlsx, regions); err != nil || xlsx.Len() == 0 {
			t.Errorf("XLSX: %v", err)
		}
		if _, err := f.rm.Letter(ctx, f.region, report.RU); err != nil {
			t.Errorf("a region's department asking for its own letter: %v", err)
		}
	})
}
