package report

import (
	"io"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// WriteXLSX writes the document as a one-sheet workbook: the title in bold,
// the fields as key and value, the paragraphs, then each table with a bold
// header row. Numbers are stored as numbers, so that the ministry's staff
// can sum and chart them.
func WriteXLSX(w io.Writer, d Document) error {
	if err := d.Check(); err != nil {
		return err
	}
	f := excelize.NewFile()
	defer f.Close()
	sheet := sheetName(d.Title)
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	title, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}})
	if err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	row := 1
	put := func(col int, v any, style int) error {
		cell, err := excelize.CoordinatesToCellName(col, row)
		if err != nil {
			return err
		}
		if err := f.SetCellValue(sheet, cell, v); err != nil {
			return err
		}
		if style != 0 {
			return f.SetCellStyle(sheet, cell, cell, style)
		}
		return nil
	}
	width := map[int]int{}
	fit := func(col int, s string) {
		width[col] = max(width[col], min(utf8.RuneCountInString(s)+2, 60))
	}
	if err := put(1, d.Title, title); err != nil {
		return err
	}
	row += 2
	for _, fl := range d.Fields {
		if err := put(1, fl.Key, bold); err != nil {
			return err
		}
		if err := put(2, fl.Value, 0); err != nil {
			return err
		}
		fit(1, fl.Key)
		row++
	}
	if len(d.Fields) > 0 {
		row++
	}
	for _, p := range d.Paragraphs {
		if err := put(1, p, 0); err != nil {
			return err
		}
		row++
	}
	for _, t := range d.Tables {
		row++
		if t.Title != "" {
			if err := put(1, t.Title, bold); err != nil {
				return err
			}
			row++
		}
		for j, c := range t.Columns {
			if err := put(j+1, c, bold); err != nil {
				return err
			}
			fit(j+1, c)
		}
		row++
		for _, r := range t.Rows {
			for j, c := range r {
				var v any = c.Text
				if c.IsNumber {
					v = c.Number
				}
				if err := put(j+1, v, 0); err != nil {
					return err
				}
				fit(j+1, c.String())
			}
			row++
		}
	}
	for col, wd := range width {
		name, err := excelize.ColumnNumberToName(col)
		if err != nil {
			return err
		}
		if err := f.SetColWidth(sheet, name, name, float64(wd)); err != nil {
			return err
		}
	}
	_, err = f.WriteTo(w)
	return err
}

// sheetName is a title made a valid sheet name: no : \ / ? * [ ], at most
// 31 characters.
func sheetName(title string) string {
	s := strings.Map(func(r rune) rune {
		if strings.ContainsRune(`:\/?*[]`, r) {
			return ' '
		}
		return r
	}, title)
	s = strings.Trim(strings.Join(strings.Fields(s), " "), "'")
	if r := []rune(s); len(r) > 31 {
		s = strings.TrimSpace(string(r[:31]))
	}
	if s == "" {
		s = "Report"
	}
	return s
}
