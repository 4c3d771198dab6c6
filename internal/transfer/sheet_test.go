package transfer

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"qorgan/internal/text"
)

func TestDelimiter(t *testing.T) {
	for in, want := range map[string]rune{
		"code,name_kk;x\n":            ',',
		"code;name_kk;name_ru\n1,2,3": ';',
		`"a,b,c";d;e` + "\n":          ';',
		"a\tb\tc\n":                   '\t',
		"code\n":                      ',',
	} {
		if got := delimiter([]byte(in)); got != want {
			t.Errorf("delimiter(%q) = %q, want %q", in, got, want)
		}
	}
}

// Row numbers are what a spreadsheet shows: blank lines are rows, a quoted
// value over two lines is one.
func TestCSVRowNumbers(t *testing.T) {
	data := "\ufeffcode;address\r\nA;\"line 1\nline 2\"\r\n\r\nB;x\r\n;\r\nC;y\r\n"
	var got []string
	ps := &problems{}
	err := readCSV([]byte(data), ps, func(n int, cells []string) error {
		got = append(got, fmt.Sprintf("%d:%s", n, strings.Join(cells, "|")))
		return nil
	})
	if err != nil || !ps.empty() {
		t.Fatal(err, ps.kept)
	}
	want := "1:code|address 2:A|line 1\nline 2 4:B|x 5:| 6:C|y"
	if strings.Join(got, " ") != want {
		t.Fatalf("rows %q, want %q", strings.Join(got, " "), want)
	}
}

func TestCSVSyntaxError(t *testing.T) {
	ps := &problems{}
	readCSV([]byte("code,name\nA,\"open\nB,x\n"), ps, func(int, []string) error { return nil })
	if len(ps.kept) != 1 || ps.kept[0].Row != 2 {
		t.Fatalf("problems %v, want one at row 2", ps.kept)
	}
}

func TestParseDate(t *testing.T) {
	xlsx, xlsx1904, csv := &source{xlsx: true}, &source{xlsx: true, date1904: true}, &source{}
	for _, c := range []struct {
		in   string
		src  *source
		want string
		ok   bool
	}{
		{"2024-09-01", csv, "2024-09-01", true},
		{"01.09.2024", csv, "2024-09-01", true},
		{"1.9.2024", csv, "2024-09-01", true},
		{"", csv, "", true},
		{"31.02.2024", csv, "31.02.2024", false},
		{"45536", xlsx, "2024-09-01", true},
		{"44074", xlsx1904, "2024-09-01", true},
		{"45536", csv, "45536", false},
		{"2024-09-01T00:00:00Z", xlsx, "2024-09-01", true},
		{"09/01/2024", csv, "09/01/2024", false},
	} {
		got, ok := parseDate(c.in, c.src)
		if got != c.want || ok != c.ok {
			t.Errorf("parseDate(%q, xlsx=%v) = %q, %v; want %q, %v", c.in, c.src.xlsx, got, ok, c.want, c.ok)
		}
	}
}

func TestParseCells(t *testing.T) {
	for _, s := range []string{"true", "TRUE", "1", "yes", "Да", "иә", "ИӘ"} {
		if v, ok := parseBool(s, false); !v || !ok {
			t.Errorf("parseBool(%q) = %v, %v", s, v, ok)
		}
	}
	for _, s := range []string{"false", "0", "No", "нет", "жоқ"} {
		if v, ok := parseBool(s, true); v || !ok {
			t.Errorf("parseBool(%q) = %v, %v", s, v, ok)
		}
	}
	if _, ok := parseBool("maybe", false); ok {
		t.Error("parseBool(maybe) ok")
	}
	if v, ok := parseFloat("43,2517"); !ok || *v != 43.2517 {
		t.Errorf("decimal comma: %v %v", v, ok)
	}
	if n, ok := parseInt("1\u00a0250"); !ok || n != 1250 {
		t.Errorf("parseInt with a no-break space: %d %v", n, ok)
	}
	if _, ok := parseInt("12.5"); ok {
		t.Error("parseInt(12.5) ok")
	}
	ss, ok := parseShifts("8:00-13:00; 13.30 – 18.30")
	if !ok || formatShifts(ss) != "08:00-13:00;13:30-18:30" {
		t.Errorf("shifts %v %v", ss, ok)
	}
	if _, ok := parseShifts("morning"); ok {
		t.Error("parseShifts(morning) ok")
	}
	for _, s := range []string{"=HYPERLINK(\"x\")", "+7 701", "-Ахметов", "@x", "plain", "+77011234567", "-5"} {
		g := text.GuardFormula(s)
		if text.UnguardFormula(g) != s {
			t.Errorf("guard round trip of %q: %q", s, g)
		}
		if g != s && g[0] != '\'' {
			t.Errorf("text.GuardFormula(%q) = %q", s, g)
		}
	}
	if text.GuardFormula("+77011234567") != "+77011234567" || text.GuardFormula("=1+1") != "'=1+1" {
		t.Error("guardFormula guards numbers or misses formulas")
	}
}

// Cells written as numbers, dates and booleans read back as their values.
func TestXLSXTypedCells(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	date := time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC)
	f.SetSheetRow("Sheet1", "A1", &[]any{"a", "b", "c", "d", "e"})
	f.SetSheetRow("Sheet1", "A2", &[]any{77011234567, date, true, 43.123456789012, "  text "})
	style, _ := f.NewStyle(&excelize.Style{NumFmt: 2}) // shows 0.00
	f.SetCellStyle("Sheet1", "D2", "D2", style)
	var b bytes.Buffer
	f.Write(&b)
	var got []string
	ps := &problems{}
	if err := readXLSX(b.Bytes(), &source{}, ps, func(n int, cells []string) error {
		if n == 2 {
			got = cells
		}
		return nil
	}); err != nil || !ps.empty() {
		t.Fatal(err, ps.kept)
	}
	d, ok := parseDate(got[1], &source{xlsx: true})
	if got[0] != "77011234567" || !ok || d != "2024-09-01" || got[2] != "1" || got[3] != "43.123456789012" {
		t.Fatalf("cells %q (date %q)", got, d)
	}
}
