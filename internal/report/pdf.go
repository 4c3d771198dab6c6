package report

import (
	_ "embed"
	"fmt"
	"io"
	"strings"

	"codeberg.org/go-pdf/fpdf"
)

// DejaVu Sans (Bitstream Vera licence, font/LICENSE) is embedded because a
// PDF must carry its font: the PDF core fonts have no Cyrillic, and Kazakh
// needs ә ғ қ ң ө ұ ү һ і, which DejaVu Sans covers.
//
//go:embed font/DejaVuSans.ttf
var dejaVuSans []byte

const (
	pdfFont   = "DejaVuSans"
	pdfMargin = 15.0 // mm
)

// WritePDF writes the document as an A4 PDF with the font embedded: the
// title, the fields, the paragraphs, and each table with borders, its header
// repeated on every page it runs onto, numbers to the right; every page
// numbered.
func WritePDF(w io.Writer, d Document) error {
	if err := d.Check(); err != nil {
		return err
	}
	p := fpdf.New("P", "mm", "A4", "")
	p.AddUTF8FontFromBytes(pdfFont, "", dejaVuSans)
	p.SetTitle(d.Title, true)
	p.SetCreator("Qorgan", true)
	if !d.Created.IsZero() {
		p.SetCreationDate(d.Created)
		p.SetModificationDate(d.Created)
	}
	p.SetMargins(pdfMargin, pdfMargin, pdfMargin)
	p.SetAutoPageBreak(true, pdfMargin)
	p.AliasNbPages("{nb}")
	p.SetFooterFunc(func() {
		p.SetY(-10)
		p.SetFont(pdfFont, "", 8)
		p.CellFormat(0, 5, fmt.Sprintf("%d / {nb}", p.PageNo()), "", 0, "C", false, 0, "")
	})
	p.AddPage()

	p.SetFont(pdfFont, "", 14)
	p.MultiCell(0, 7, d.Title, "", "L", false)
	p.Ln(3)
	p.SetFont(pdfFont, "", 10)
	for _, f := range d.Fields {
		p.MultiCell(0, 5, f.Key+": "+f.Value, "", "L", false)
	}
	if len(d.Fields) > 0 {
		p.Ln(3)
	}
	for _, para := range d.Paragraphs {
		p.MultiCell(0, 5, para, "", "J", false)
		p.Ln(2)
	}
	for _, t := range d.Tables {
		p.Ln(2)
		if t.Title != "" {
			p.SetFont(pdfFont, "", 11)
			p.MultiCell(0, 6, t.Title, "", "L", false)
		}
		pdfTable(p, t)
	}
	if err := p.Error(); err != nil {
		return err
	}
	return p.Output(w)
}

// pdfTable draws t at the current position, wrapping each cell's text
// within its column and breaking pages between rows.
func pdfTable(p *fpdf.Fpdf, t Table) {
	const size, lineH, pad = 8.5, 4.0, 1.0
	p.SetFont(pdfFont, "", size)
	pageW, pageH := p.GetPageSize()
	avail := pageW - 2*pdfMargin
	widths := columnWidths(p, t, avail)

	head := make([]Cell, len(t.Columns))
	for i, c := range t.Columns {
		head[i] = Text(c)
	}
	row := func(cells []Cell, header bool) {
		lines := make([][]string, len(cells))
		n := 1
		for i, c := range cells {
			lines[i] = wrap(p, c.String(), widths[i])
			n = max(n, len(lines[i]))
		}
		h := float64(n)*lineH + 2*pad
		if p.GetY()+h > pageH-pdfMargin {
			p.AddPage()
			if !header {
				pdfRow(p, head, widths, splitAll(p, head, widths), true, lineH, pad, tableHeight(p, head, widths, lineH, pad))
			}
		}
		pdfRow(p, cells, widths, lines, header, lineH, pad, h)
	}
	row(head, true)
	for _, r := range t.Rows {
		row(r, false)
	}
}

// wrap splits s into lines that fit width w (less the cell's padding),
// breaking at plain spaces and line breaks only, so that a number's no-break
// spaces («2 357») hold; a word wider than the column is cut where it must.
func wrap(p *fpdf.Fpdf, s string, w float64) []string {
	w -= 2 * p.GetCellMargin()
	var lines []string
	for _, para := range strings.Split(s, "\n") {
		line := ""
		for _, word := range strings.Split(para, " ") {
			try := word
			if line != "" {
				try = line + " " + word
			}
			if p.GetStringWidth(try) <= w || line == "" && p.GetStringWidth(word) <= w {
				line = try
				continue
			}
			if line != "" {
				lines = append(lines, line)
			}
			line = ""
			for _, r := range word {
				if line != "" && p.GetStringWidth(line+string(r)) > w {
					lines = append(lines, line)
					line = ""
				}
				line += string(r)
			}
		}
		lines = append(lines, line)
	}
	return lines
}

func splitAll(p *fpdf.Fpdf, cells []Cell, widths []float64) [][]string {
	out := make([][]string, len(cells))
	for i, c := range cells {
		out[i] = wrap(p, c.String(), widths[i])
	}
	return out
}

func tableHeight(p *fpdf.Fpdf, cells []Cell, widths []float64, lineH, pad float64) float64 {
	n := 1
	for _, l := range splitAll(p, cells, widths) {
		n = max(n, len(l))
	}
	return float64(n)*lineH + 2*pad
}

// pdfRow draws one row of height h: a bordered box per cell (grey for the
// header) and its lines of text.
func pdfRow(p *fpdf.Fpdf, cells []Cell, widths []float64, lines [][]string, header bool, lineH, pad, h float64) {
	x0, y0 := p.GetX(), p.GetY()
	x := x0
	for i, c := range cells {
		style := "D"
		if header {
			p.SetFillColor(230, 230, 230)
			style = "FD"
		}
		p.Rect(x, y0, widths[i], h, style)
		align := "L"
		if c.IsNumber {
			align = "R"
		}
		for j, line := range lines[i] {
			p.SetXY(x, y0+pad+float64(j)*lineH)
			p.CellFormat(widths[i], lineH, line, "", 0, align, false, 0, "")
		}
		x += widths[i]
	}
	p.SetXY(x0, y0+h)
}

// columnWidths gives each column the width of its widest text (at most half
// the page), shrunk in proportion when the table is wider than the page.
func columnWidths(p *fpdf.Fpdf, t Table, avail float64) []float64 {
	const pad = 3.0
	w := make([]float64, len(t.Columns))
	for i, c := range t.Columns {
		w[i] = min(p.GetStringWidth(c)+pad, avail/2)
	}
	for _, r := range t.Rows {
		for i, c := range r {
			w[i] = max(w[i], min(p.GetStringWidth(c.String())+pad, avail/2))
		}
	}
	sum := 0.0
	for _, x := range w {
		sum += x
	}
	if sum > avail {
		for i := range w {
			w[i] *= avail / sum
		}
	}
	return w
}
