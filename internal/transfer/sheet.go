package transfer

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"qorgan/internal/text"
)

// row is one non-blank data row of a file, read against its header.
type row struct {
	n     int      // the spreadsheet's row number
	cells []string // as in the file
	h     *header
	src   *source
	bad   []Problem // this row's problems, at most one per column
}

// get returns the trimmed value of a layout column ("" when blank or absent).
func (r *row) get(name string) string {
	j, ok := r.h.l.index[name]
	if !ok {
		panic("transfer: no column " + name)
	}
	i := r.h.at[j]
	if i < 0 || i >= len(r.cells) {
		return ""
	}
	v := strings.TrimSpace(r.cells[i])
	if !r.src.xlsx {
		v = text.UnguardFormula(v)
	}
	kind := text.Line
	if linesColumns[name] {
		kind = text.Lines
	}
	if bad := text.Check(v, kind); bad != "" {
		r.fail(name, ProblemBadText, "", "%s %s", name, bad)
	}
	return v
}

// linesColumns are the columns whose cells may run over several lines
// (Alt+Enter in Excel) and hold tabs: a school's address, and its shifts,
// one shift a line. Every other cell is one line and takes no control
// character (text.Line); spaces, tabs and line breaks around a value are
// trimmed first.
var linesColumns = map[string]bool{"address": true, "shifts": true}

// fail records a problem with a column of the row; only the first problem
// of each column is kept.
func (r *row) fail(column string, code ProblemCode, value, format string, args ...any) {
	if r.failed(column) {
		return
	}
	r.bad = append(r.bad, Problem{Row: r.n, Column: column, Code: code, Value: value, Message: fmt.Sprintf(format, args...)})
}

func (r *row) failed(column string) bool {
	for _, p := range r.bad {
		if p.Column == column {
			return true
		}
	}
	return false
}

// source is what reading needs to know about the file itself.
type source struct {
	xlsx     bool
	date1904 bool // the workbook counts dates from 1904 (old Mac Excel)
}

// errStop ends reading early without being a failure.
var errStop = errors.New("stop")

// readSheet reads the header and then calls fn with each non-blank row, in
// order. Problems with the file as a whole and with its header go to ps;
// after a bad header no row is passed on (each would repeat the header's
// problem), but rows are still counted. It returns the number of data rows.
func readSheet(format Format, data []byte, l *layout, ps *problems, fn func(*row) error) (int, error) {
	var h *header
	headerOK := false
	rows := 0
	reported := map[int]bool{} // file columns without a name, already reported
	src := &source{xlsx: format == XLSX}
	each := func(n int, cells []string) error {
		if h == nil {
			if n != 1 || blank(cells) {
				ps.add(1, "", ProblemNoHeader, "", "row 1 must be the header, naming the columns")
				return errStop
			}
			h, headerOK = readHeader(l, cells, ps)
			return nil
		}
		if blank(cells) {
			return nil
		}
		rows++
		if rows > MaxRows {
			ps.add(0, "", ProblemTooManyRows, strconv.Itoa(MaxRows), "the file has more than %d rows; split it (for example by school)", MaxRows)
			return errStop
		}
		if !headerOK {
			return nil
		}
		for i, c := range cells {
			if (i >= len(h.named) || !h.named[i]) && strings.TrimSpace(c) != "" && !reported[i] {
				reported[i] = true
				ps.add(n, "", ProblemUnnamedColumn, excelColumn(i), "column %s holds data but has no name in the header", excelColumn(i))
			}
		}
		return fn(&row{n: n, cells: cells, h: h, src: src})
	}
	var err error
	if format == XLSX {
		err = readXLSX(data, src, ps, each)
	} else {
		err = readCSV(data, ps, each)
	}
	if errors.Is(err, errStop) {
		err = nil
	}
	if err == nil && h == nil && ps.empty() {
		ps.add(0, "", ProblemEmpty, "", "the file is empty")
	}
	return rows, err
}

func blank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

func excelColumn(i int) string {
	name, err := excelize.ColumnNumberToName(i + 1)
	if err != nil {
		return fmt.Sprint(i + 1)
	}
	return name
}

var bom = []byte("\ufeff")

// readCSV reads a CSV file whose delimiter, ',' or ';' (what Excel writes in
// Russian and Kazakh locales) or a tab, is the one its header line uses.
// Row numbers are the ones a spreadsheet shows: blank lines count, a quoted
// value spanning lines does not.
func readCSV(data []byte, ps *problems, each func(int, []string) error) error {
	data = bytes.TrimPrefix(data, bom)
	if !utf8.Valid(data) {
		ps.add(0, "", ProblemNotUTF8, "", "the file is not UTF-8 text; in Excel save it as \"CSV UTF-8\", or as XLSX")
		return nil
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = delimiter(data)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	n, endLine := 0, 0
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				ps.add(n+1+max(0, pe.StartLine-endLine-1), "", ProblemUnreadable, "", "the CSV cannot be read here: %v", pe.Err)
				return nil
			}
			return err
		}
		line, _ := cr.FieldPos(0)
		n += 1 + max(0, line-endLine-1) // blank lines before the record are rows too
		endLine = line
		for _, f := range rec {
			endLine += strings.Count(f, "\n")
		}
		if err := each(n, rec); err != nil {
			return err
		}
	}
}

// delimiter picks the commonest of ',', ';' and tab in the first line
// (outside quotes); ',' when there are none.
func delimiter(data []byte) rune {
	counts := map[byte]int{}
	quoted := false
	for _, c := range data {
		if c == '"' {
			quoted = !quoted
		}
		if quoted {
			continue
		}
		if c == '\n' || c == '\r' {
			break
		}
		counts[c]++
	}
	best := byte(',')
	for _, c := range []byte{';', '\t'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return rune(best)
}

// readXLSX streams the first sheet of a workbook.
func readXLSX(data []byte, src *source, ps *problems, each func(int, []string) error) error {
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: 20 * MaxFileSize})
	if err != nil {
		ps.add(0, "", ProblemUnreadable, "", "the file is not a readable XLSX workbook (%v)", err)
		return nil
	}
	defer f.Close()
	if props, err := f.GetWorkbookProps(); err == nil && props.Date1904 != nil {
		src.date1904 = *props.Date1904
	}
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		ps.add(0, "", ProblemNoSheet, "", "the workbook has no sheet")
		return nil
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		ps.add(0, "", ProblemUnreadable, "", "the first sheet cannot be read (%v)", err)
		return nil
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
		// Raw values: the number a cell holds, not how it is displayed
		// (a coordinate shown with two decimals keeps all of them; a date
		// comes as its serial number and is converted in its column).
		cells, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			ps.add(n, "", ProblemUnreadable, "", "the row cannot be read (%v)", err)
			return nil
		}
		if err := each(n, cells); err != nil {
			return err
		}
	}
	if err := rows.Error(); err != nil {
		ps.add(n+1, "", ProblemUnreadable, "", "the sheet cannot be read further (%v)", err)
	}
	return nil
}
