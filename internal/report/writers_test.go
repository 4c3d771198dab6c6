package report

import (
	"bytes"
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"codeberg.org/go-pdf/fpdf"
	"github.com/xuri/excelize/v2"

	"qorgan/internal/errs"
)

// kazakhLetters are the letters of the Kazakh alphabet that Russian lacks:
// an embedded font must have them all.
const kazakhLetters = "әғқңөұүһі"

// lettersDoc is an after-action-style document (title, key/value lines, a
// table) that holds every Kazakh letter, upper and lower case.
func lettersDoc() Document {
	return Document{
		Title:      "Оқу-жаттығу қорытындысы: «Шаһар» мектебі",
		Created:    time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC),
		Fields:     []Field{{"Режим", "локдаун"}, {"Әріптер", "ә ғ қ ң ө ұ ү һ і Ә Ғ Қ Ң Ө Ұ Ү Һ І"}},
		Paragraphs: []string{"Барлық қызметкерлерге хабар жетті."},
		Tables: []Table{{Title: "Уақыттар", Columns: []string{"Кезең", "Секунд"}, Rows: [][]Cell{
			{Text("Жариялау → барлық қызметкер хабардар"), Int(42)},
			{Text("Толық есеп"), Num(311.5)},
		}}},
	}
}

func reportDocs(t *testing.T) map[string]Document {
	t.Helper()
	live := Snapshot{AsOf: day, Place: Kazakhstan, Figures: []Figure{Counted(Turnstiles, 681, 2357), NotMeasured(Drill)}}
	docs := map[string]Document{"letters": lettersDoc()}
	for _, l := range []Lang{RU, KK} {
		var err error
		if docs["letter-"+string(l)], err = LetterDocument(l, live); err != nil {
			t.Fatal(err)
		}
		if docs["regions-"+string(l)], err = RegionTable(l, day, Words{}, regionRows()); err != nil {
			t.Fatal(err)
		}
		if docs["gaps-"+string(l)], err = GapList(l, schoolGaps(2)); err != nil {
			t.Fatal(err)
		}
	}
	return docs
}

// cellTexts is every cell of the workbook's first sheet, as excelize reads
// it back.
func cellTexts(t *testing.T, data []byte) (string, *excelize.File) {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the XLSX does not open: %v", err)
	}
	rows, err := f.GetRows(f.GetSheetName(0))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(strings.Join(r, "\t") + "\n")
	}
	return b.String(), f
}

func TestXLSXReadsBack(t *testing.T) {
	docs := reportDocs(t)
	var buf bytes.Buffer
	if err := WriteXLSX(&buf, docs["regions-kk"]); err != nil {
		t.Fatal(err)
	}
	text, f := cellTexts(t, buf.Bytes())
	for _, s := range []string{"Жол картасының өңірлер бойынша көрсеткіштері", "Абай облысы\tТурникеттер\t681\t2357\t28.9", "өлшенбейді"} {
		if !strings.Contains(text, s) {
			t.Errorf("XLSX lacks %q:\n%s", s, text)
		}
	}
	// Numbers are numbers: a spreadsheet sums them.
	sheet := f.GetSheetName(0)
	rows, _ := f.GetRows(sheet)
	r := 0
	for i, row := range rows {
		if len(row) > 2 && row[2] == "681" {
			r = i + 1
		}
	}
	if typ, err := f.GetCellType(sheet, "C"+itoa(r)); err != nil || typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
		t.Errorf("the count's cell type = %v, %v; want a number", typ, err)
	}
	if err := f.SetCellFormula(sheet, "H1", "SUM(C"+itoa(r)+":D"+itoa(r)+")"); err != nil {
		t.Fatal(err)
	}
	if v, err := f.CalcCellValue(sheet, "H1"); err != nil || v != "3038" {
		t.Errorf("681 + 2357 in the sheet = %q, %v", v, err)
	}

	buf.Reset()
	if err := WriteXLSX(&buf, docs["letters"]); err != nil {
		t.Fatal(err)
	}
	text, _ = cellTexts(t, buf.Bytes())
	for _, r := range kazakhLetters {
		if !strings.ContainsRune(text, r) || !strings.ContainsRune(text, []rune(strings.ToUpper(string(r)))[0]) {
			t.Errorf("XLSX lacks the letter %c", r)
		}
	}
	if !strings.Contains(text, "311.5") || !strings.Contains(text, "Режим\tлокдаун") {
		t.Errorf("XLSX of the drill-style document:\n%s", text)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestCSVReadsBack(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteCSV(&buf, reportDocs(t)["gaps-kk"]); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("\ufeff")) {
		t.Error("CSV without a byte-order mark")
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(buf.Bytes(), []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"№", "Талап", "Себебі", "Акт", "Тармақ"},
		{"1", "Турникеттер", "тізілімде жоқ", "АТҚ талаптары (ҚР ҮҚ № 305)", "12-тармақ"},
		{"2", "Дабыл түймесі", "2026 жылғы 1 желтоқсаннан бері үнсіз", "АТҚ талаптары (ҚР ҮҚ № 305)", "9-тармақ"},
	}
	if strings.Join(flat(rows), "|") != strings.Join(flat(want), "|") {
		t.Errorf("CSV rows:\n%q\nwant\n%q", rows, want)
	}
	// A letter has no table: CSV refuses it rather than write an empty file.
	buf.Reset()
	if err := WriteCSV(&buf, reportDocs(t)["letter-ru"]); errs.As(err).Field != "tables" || buf.Len() != 0 {
		t.Errorf("CSV of a document without tables: err = %v, %d bytes", err, buf.Len())
	}
	// A cell a spreadsheet would run as a formula is written as text.
	buf.Reset()
	d := Document{Title: "x", Tables: []Table{{Columns: []string{"a"}, Rows: [][]Cell{{Text("=HYPERLINK(\"x\")")}, {Num(-3)}}}}}
	if err := WriteCSV(&buf, d); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); !strings.Contains(got, `'=HYPERLINK`) || !strings.Contains(got, "\n-3\n") {
		t.Errorf("guarded CSV: %q", got)
	}
}

func flat(rows [][]string) []string {
	var out []string
	for _, r := range rows {
		out = append(out, strings.Join(r, ";"))
	}
	return out
}

// requireTool returns the path of a command-line tool a test reads its
// output with. Without it the test skips, unless env is set (CI sets it), in
// which case it fails.
func requireTool(t *testing.T, name, env string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv(env) != "" {
			t.Fatalf("%s is required (%s is set) but not found: %v", name, env, err)
		}
		t.Skipf("%s not found; install it (Debian: poppler-utils) or set %s to make this a failure", name, env)
	}
	return p
}

// pdfText is the text pdftotext reads from the PDF, its no-break spaces made
// plain.
func pdfText(t *testing.T, tool string, d Document) string {
	t.Helper()
	var buf bytes.Buffer
	if err := WritePDF(&buf, d); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", buf.Bytes()[:min(20, buf.Len())])
	}
	path := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "-enc", "UTF-8", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	return strings.Join(strings.Fields(strings.ReplaceAll(string(out), NBSP, " ")), " ")
}

func TestPDFReadsBack(t *testing.T) {
	tool := requireTool(t, "pdftotext", "QORGAN_TEST_REQUIRE_PDFTOTEXT")
	docs := reportDocs(t)

	text := pdfText(t, tool, docs["letters"])
	for _, r := range kazakhLetters + strings.ToUpper(kazakhLetters) {
		if !strings.ContainsRune(text, r) {
			t.Errorf("the PDF's text lacks the letter %c:\n%s", r, text)
		}
	}
	for _, s := range []string{"Оқу-жаттығу қорытындысы", "Жариялау → барлық қызметкер хабардар", "311,5", "42"} {
		if !strings.Contains(text, s) {
			t.Errorf("the PDF's text lacks %q:\n%s", s, text)
		}
	}

	text = pdfText(t, tool, docs["letter-kk"])
	if want := "Міндетті 2 357 мектептің 681-і (29%) турникеттермен жабдықталған."; !strings.Contains(text, want) {
		t.Errorf("the Kazakh letter's PDF lacks %q:\n%s", want, text)
	}
	text = pdfText(t, tool, docs["letter-ru"])
	if want := "681 школа из 2 357 подлежащих оснащена турникетами (29%)."; !strings.Contains(text, want) {
		t.Errorf("the Russian letter's PDF lacks %q:\n%s", want, text)
	}
	text = pdfText(t, tool, docs["regions-ru"])
	for _, s := range []string{"Абайская область", "2 357", "681", "28,9", "не измеряется"} {
		if !strings.Contains(text, s) {
			t.Errorf("the region table's PDF lacks %q:\n%s", s, text)
		}
	}

	// A table longer than a page runs on, with its header on each page.
	long := Document{Title: "Өңірлер", Tables: []Table{{Columns: []string{"№", "Өңір"}}}}
	for i := 1; i <= 120; i++ {
		long.Tables[0].Rows = append(long.Tables[0].Rows, []Cell{Int(i), Text("Ұлытау облысы")})
	}
	text = pdfText(t, tool, long)
	if !strings.Contains(text, "120 Ұлытау облысы") || strings.Count(text, "№ Өңір") < 2 {
		t.Errorf("a long table's PDF:\n%s", text)
	}
}

func TestWritersRefuseABrokenDocument(t *testing.T) {
	d := Document{Title: "x", Tables: []Table{{Columns: []string{"a", "b"}, Rows: [][]Cell{{Text("only one")}}}}}
	for name, write := range map[string]func(*bytes.Buffer, Document) error{
		"xlsx": func(b *bytes.Buffer, d Document) error { return WriteXLSX(b, d) },
		"csv":  func(b *bytes.Buffer, d Document) error { return WriteCSV(b, d) },
		"pdf":  func(b *bytes.Buffer, d Document) error { return WritePDF(b, d) },
	} {
		var buf bytes.Buffer
		err := write(&buf, d)
		if err == nil || !strings.Contains(err.Error(), "tables/0/rows/0") {
			t.Errorf("%s: err = %v, want one naming tables/0/rows/0", name, err)
		}
		if buf.Len() != 0 {
			t.Errorf("%s: wrote %d bytes of a refused document", name, buf.Len())
		}
		if err := write(&buf, Document{}); err == nil || !strings.Contains(err.Error(), "title") {
			t.Errorf("%s without a title: err = %v", name, err)
		}
	}
}

// A table cell wraps at plain spaces only: «2 357» stays on one line.
func TestPDFCellWrapKeepsNumbersWhole(t *testing.T) {
	p := fpdf.New("P", "mm", "A4", "")
	p.AddUTF8FontFromBytes(pdfFont, "", dejaVuSans)
	p.SetFont(pdfFont, "", 8.5)
	s := sentenceRU(Counted(Turnstiles, 681, 2357)) + " Қызылорда облысының мектептері"
	for _, w := range []float64{14, 18, 25, 40} {
		lines := wrap(p, s, w)
		if len(lines) < 2 {
			t.Errorf("width %g: %q did not wrap", w, lines)
		}
		joined := strings.Join(lines, "|")
		if strings.Contains(joined, "2|357") || strings.Contains(joined, "2"+NBSP+"|357") || strings.Contains(joined, "2|"+NBSP+"357") {
			t.Errorf("width %g: a number broke across lines: %q", w, lines)
		}
		if strings.ReplaceAll(strings.Join(lines, ""), " ", "") != strings.ReplaceAll(s, " ", "") {
			t.Errorf("width %g: the words changed: %q", w, joined)
		}
		for _, l := range lines {
			if p.GetStringWidth(l) > w-2*p.GetCellMargin()+0.01 {
				t.Errorf("width %g: %q is %g wide", w, l, p.GetStringWidth(l))
			}
		}
	}
}
