package transfer

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/xuri/excelize/v2"

	"qorgan/internal/text"
)

// sheetWriter writes an export row by row: a header, then one row per record.
// Cells are strings, ints, float64s or nil (blank).
type sheetWriter interface {
	row(cells ...any) error
	close() error
	abort()
}

func newSheetWriter(format Format, w io.Writer, sheet string, columns []string) (sheetWriter, error) {
	var sw sheetWriter
	if format == XLSX {
		x, err := newXLSXWriter(w, sheet, len(columns))
		if err != nil {
			return nil, err
		}
		sw = x
	} else {
		// The byte-order mark makes Excel read the file as UTF-8 (Cyrillic
		// otherwise comes out garbled); imports skip it.
		if _, err := w.Write(bom); err != nil {
			return nil, err
		}
		sw = &csvWriter{w: csv.NewWriter(w)}
	}
	header := make([]any, len(columns))
	for i, c := range columns {
		header[i] = c
	}
	if err := sw.row(header...); err != nil {
		sw.abort()
		return nil, err
	}
	return sw, nil
}

type csvWriter struct {
	w   *csv.Writer
	buf []string
}

func (c *csvWriter) row(cells ...any) error {
	c.buf = c.buf[:0]
	for _, v := range cells {
		var s string
		switch v := v.(type) {
		case nil:
		case string:
			s = text.GuardFormula(v)
		case int:
			s = strconv.Itoa(v)
		case float64:
			s = strconv.FormatFloat(v, 'f', -1, 64)
		default:
			s = fmt.Sprint(v)
		}
		c.buf = append(c.buf, s)
	}
	return c.w.Write(c.buf)
}

func (c *csvWriter) close() error {
	c.w.Flush()
	return c.w.Error()
}

func (c *csvWriter) abort() {}

// xlsxWriter streams rows into a one-sheet workbook. Text goes in as text
// (a phone number or an external id like 000123 stays as written), numbers
// as numbers.
type xlsxWriter struct {
	out  io.Writer
	f    *excelize.File
	sw   *excelize.StreamWriter
	n    int
	bold int
}

func newXLSXWriter(w io.Writer, sheet string, columns int) (*xlsxWriter, error) {
	f := excelize.NewFile()
	x := &xlsxWriter{out: w, f: f}
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		f.Close()
		return nil, err
	}
	var err error
	if x.bold, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}}); err != nil {
		f.Close()
		return nil, err
	}
	if x.sw, err = f.NewStreamWriter(sheet); err != nil {
		f.Close()
		return nil, err
	}
	if err := x.sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		f.Close()
		return nil, err
	}
	if err := x.sw.SetColWidth(1, columns, 18); err != nil {
		f.Close()
		return nil, err
	}
	return x, nil
}

func (x *xlsxWriter) row(cells ...any) error {
	x.n++
	cell, err := excelize.CoordinatesToCellName(1, x.n)
	if err != nil {
		return err
	}
	var opts []excelize.RowOpts
	if x.n == 1 {
		opts = append(opts, excelize.RowOpts{StyleID: x.bold})
	}
	return x.sw.SetRow(cell, cells, opts...)
}

func (x *xlsxWriter) close() error {
	defer x.f.Close()
	if err := x.sw.Flush(); err != nil {
		return err
	}
	return x.f.Write(x.out)
}

func (x *xlsxWriter) abort() { x.f.Close() }
