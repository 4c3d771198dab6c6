// Package report writes the ministry's figures as words and files: the
// «Справочно» paragraph of a ministry letter in Russian and in Kazakh, a
// table by region and a school's gap list, and a small Document model (a
// title, key/value lines, paragraphs, tables) rendered as plain text, XLSX,
// CSV and PDF. It is pure: values in, text and bytes out; no store, no
// clock. The roadmap and emergency domains gather the figures and call it.
package report

import (
	"fmt"

	"qorgan/internal/errs"
)

// Lang is the language a report is written in.
type Lang string

// The languages a ministry report is written in.
const (
	RU Lang = "ru"
	KK Lang = "kk"
)

func (l Lang) check() error {
	if l != RU && l != KK {
		return errs.Invalidf("lang", "must be ru or kk, not %q", string(l))
	}
	return nil
}

// Words is one text in both languages of a report: a place, a gap's item or
// its reason. A report in one language never borrows the other's words, so
// both are required.
type Words struct {
	RU string `json:"ru"`
	KK string `json:"kk"`
}

// In returns the text in language l.
func (w Words) In(l Lang) string {
	if l == KK {
		return w.KK
	}
	return w.RU
}

func (w Words) check(field string) error {
	if w.RU == "" {
		return errs.Invalidf(field+"/ru", "is required: the Russian text")
	}
	if w.KK == "" {
		return errs.Invalidf(field+"/kk", "is required: the Kazakh text")
	}
	return nil
}

// Kazakhstan is the nation as a report names it.
var Kazakhstan = Words{RU: "Республика Казахстан", KK: "Қазақстан Республикасы"}

func fieldf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
