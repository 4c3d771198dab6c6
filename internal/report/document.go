package report

import (
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"qorgan/internal/errs"
)

// Document is what the writers render: a title, key/value lines, paragraphs
// and tables, in that order. The ministry's reports are built as Documents
// here; other domains (a drill's after-action report) build their own.
type Document struct {
	Title string
	// Created is when the document was made; the PDF carries it as its
	// creation date. Zero leaves that to the PDF library (the moment of
	// writing).
	Created    time.Time
	Fields     []Field
	Paragraphs []string
	Tables     []Table
}

// Field is one "key: value" line under the title.
type Field struct {
	Key, Value string
}

// Table is a titled table; every row has one cell per column.
type Table struct {
	Title   string
	Columns []string
	Rows    [][]Cell
}

// Cell is text or a number. Numbers stay numbers in XLSX, so that a
// spreadsheet sums them; in text and PDF they are written as officials
// write them («2 357»).
type Cell struct {
	Text     string
	Number   float64
	IsNumber bool
}

// Text is a text cell.
func Text(s string) Cell { return Cell{Text: s} }

// Int is a whole-number cell.
func Int(n int) Cell { return Cell{Number: float64(n), IsNumber: true} }

// Num is a number cell; text shows it with one decimal at most.
func Num(x float64) Cell { return Cell{Number: x, IsNumber: true} }

// String is the cell as text and PDF show it.
func (c Cell) String() string {
	if !c.IsNumber {
		return c.Text
	}
	if c.Number == math.Trunc(c.Number) && math.Abs(c.Number) < 1e15 {
		return Group(int(c.Number))
	}
	return strings.Replace(strconv.FormatFloat(c.Number, 'f', 1, 64), ".", ",", 1)
}

// Check refuses a document a writer could not render faithfully.
func (d Document) Check() error {
	if strings.TrimSpace(d.Title) == "" {
		return errs.Invalidf("title", "is required")
	}
	for i, t := range d.Tables {
		if len(t.Columns) == 0 {
			return errs.Invalidf(fieldf("tables/%d/columns", i), "is empty")
		}
		for j, r := range t.Rows {
			if len(r) != len(t.Columns) {
				return errs.Invalidf(fieldf("tables/%d/rows/%d", i, j), "has %d cells for %d columns", len(r), len(t.Columns))
			}
			for k, c := range r {
				if c.IsNumber && (math.IsNaN(c.Number) || math.IsInf(c.Number, 0)) {
					return errs.Invalidf(fieldf("tables/%d/rows/%d/%d", i, j, k), "is not a finite number")
				}
			}
		}
	}
	return nil
}

// Write writes d in format: "pdf", "xlsx", "csv", or plain text for any
// other (the callers name it "text" or "txt").
func Write(w io.Writer, d Document, format string) error {
	switch format {
	case "pdf":
		return WritePDF(w, d)
	case "xlsx":
		return WriteXLSX(w, d)
	case "csv":
		return WriteCSV(w, d)
	}
	_, err := io.WriteString(w, d.PlainText())
	return err
}

// PlainText renders the document as plain text: the title underlined, the
// fields, the paragraphs, and each table with aligned columns (numbers to the
// right).
func (d Document) PlainText() string {
	var b strings.Builder
	b.WriteString(d.Title + "\n" + strings.Repeat("=", utf8.RuneCountInString(d.Title)) + "\n")
	if len(d.Fields) > 0 {
		b.WriteString("\n")
		for _, f := range d.Fields {
			b.WriteString(f.Key + ": " + f.Value + "\n")
		}
	}
	for _, p := range d.Paragraphs {
		b.WriteString("\n" + p + "\n")
	}
	for _, t := range d.Tables {
		b.WriteString("\n")
		if t.Title != "" {
			b.WriteString(t.Title + "\n")
		}
		width := make([]int, len(t.Columns))
		for i, c := range t.Columns {
			width[i] = utf8.RuneCountInString(c)
		}
		for _, r := range t.Rows {
			for i, c := range r {
				width[i] = max(width[i], utf8.RuneCountInString(c.String()))
			}
		}
		line := func(cells []Cell) {
			parts := make([]string, len(cells))
			for i, c := range cells {
				pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c.String()))
				if c.IsNumber {
					parts[i] = pad + c.String()
				} else {
					parts[i] = c.String() + pad
				}
			}
			b.WriteString(strings.TrimRight(strings.Join(parts, "  "), " ") + "\n")
		}
		head := make([]Cell, len(t.Columns))
		rule := make([]Cell, len(t.Columns))
		for i, c := range t.Columns {
			head[i] = Text(c)
			rule[i] = Text(strings.Repeat("-", width[i]))
		}
		line(head)
		line(rule)
		for _, r := range t.Rows {
			line(r)
		}
	}
	return b.String()
}
