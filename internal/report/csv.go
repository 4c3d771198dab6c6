package report

import (
	"encoding/csv"
	"io"
	"strconv"

	"qorgan/internal/errs"
	"qorgan/internal/text"
)

// WriteCSV writes the document's tables as CSV: a byte-order mark (so that
// Excel reads the file as UTF-8), the header row, then the rows; numbers in
// plain decimal notation. A document with several tables writes them one
// after another, each after an empty line and a line with its title. Title,
// fields and paragraphs are not written: CSV holds tables.
func WriteCSV(w io.Writer, d Document) error {
	if err := d.Check(); err != nil {
		return err
	}
	if len(d.Tables) == 0 {
		return errs.Invalidf("tables", "is empty; CSV holds tables, and this document has none (write it as text, XLSX or PDF)")
	}
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	for i, t := range d.Tables {
		if len(d.Tables) > 1 {
			if i > 0 {
				if err := cw.Write([]string{""}); err != nil {
					return err
				}
			}
			if err := cw.Write([]string{text.GuardFormula(t.Title)}); err != nil {
				return err
			}
		}
		head := make([]string, len(t.Columns))
		for j, c := range t.Columns {
			head[j] = text.GuardFormula(c)
		}
		if err := cw.Write(head); err != nil {
			return err
		}
		rec := make([]string, len(t.Columns))
		for _, r := range t.Rows {
			for j, c := range r {
				if c.IsNumber {
					rec[j] = strconv.FormatFloat(c.Number, 'f', -1, 64)
				} else {
					rec[j] = text.GuardFormula(c.Text)
				}
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}
