package transfer_test

import (
	"archive/zip"
	"bytes"
	"io"
	"strings"
	"testing"

	"qorgan/internal/store/storetest"
	"qorgan/internal/transfer"
)

// TestControlCharactersRefused: a control character in a cell is a problem
// of its row and column, in CSV and in XLSX (where Excel writes it as
// _x0000_), on both stores, and nothing is written. Only a school's address
// and shifts may run over lines (Alt+Enter in a cell).
func TestControlCharactersRefused(t *testing.T) {
	storetest.With(t, newWorld, func(t *testing.T, w *world) {
		good := map[string]string{"school_code": "TRK-001", "external_id": "1", "last_name": "Ким", "first_name": "Арман", "class": "1А",
			"guardian1_phone": "+77011234567", "guardian1_full_name": "Ким Гүлнар"}
		with := func(ch map[string]string) []string {
			m := map[string]string{}
			for k, v := range good {
				m[k] = v
			}
			for k, v := range ch {
				m[k] = v
			}
			return pupilRow(m)
		}
		rows := [][]string{pupilHeader,
			with(nil),
			with(map[string]string{"external_id": "2", "last_name": "Ким\x00"}),
			with(map[string]string{"external_id": "3", "guardian1_phone": "+77021234567", "guardian1_full_name": "Ким\nГүлнар", "card_uid": "04A1\x7f"}),
			with(map[string]string{"external_id": "4", "guardian1_phone": "+7703\t1234567"}),
		}
		want := []string{"3/last_name", "4/card_uid", "4/guardian1_full_name", "5/guardian1_phone"}
		for _, f := range []struct {
			format transfer.Format
			data   []byte
		}{{transfer.CSV, csvFile(rows, ',')}, {transfer.XLSX, excelEscaped(t, xlsxFile(t, anyRows(nulAsEscape(rows))))}} {
			t.Run(string(f.format), func(t *testing.T) {
				rep := w.importFile(t, w.dirA, transfer.Pupils, f.format, f.data)
				wantProblems(t, rep, want...)
				for _, p := range rep.Problems {
					if !strings.Contains(p.Message, "control character U+") {
						t.Errorf("%v: the message does not name the character", p)
					}
				}
				if n := w.count(t, "pupils"); n != 0 {
					t.Fatalf("%d pupils written", n)
				}
			})
		}

		// A school's address and shifts may run over lines; its name may not.
		school := func(name string) [][]string {
			row := make([]string, len(transfer.SchoolColumns()))
			for i, c := range transfer.SchoolColumns() {
				row[i] = map[string]string{"code": "TRK-050", "name_kk": name, "name_ru": "Школа №50", "region_code": "610000000",
					"district_code": "611000000", "address": "ул. Абая, 1\nкорпус 2", "shifts": "08:00-13:00\n13:30-18:30", "headcount": "500"}[c]
			}
			return [][]string{transfer.SchoolColumns(), row}
		}
		rep := w.importFile(t, w.admin, transfer.Schools, transfer.XLSX, xlsxFile(t, anyRows(school("№50\u0085мектеп"))))
		wantProblems(t, rep, "2/name_kk")
		rep = w.importFile(t, w.admin, transfer.Schools, transfer.XLSX, xlsxFile(t, anyRows(school("№50 мектеп"))))
		wantDone(t, rep, 1, 0, 0)
	})
}

// nulAsEscape writes U+0000 as Excel does in a cell's XML, _x0000_ (XML
// cannot hold it).
func nulAsEscape(rows [][]string) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = make([]string, len(r))
		for j, c := range r {
			out[i][j] = strings.ReplaceAll(c, "\x00", "_x0000_")
		}
	}
	return out
}

// excelEscaped undoes excelize's escaping of text that looks like an escape
// (_x005F_x0000_ is the text "_x0000_"), so that _x0000_ in a cell is
// U+0000 when read, as in a file Excel wrote.
func excelEscaped(t *testing.T, data []byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		w, err := zw.Create(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(bytes.ReplaceAll(b, []byte("_x005F_x"), []byte("_x")))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
