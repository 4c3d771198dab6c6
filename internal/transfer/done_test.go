package transfer_test

import (
	"fmt"
	"testing"
	"time"

	"qorgan/internal/store/storetest"
	"qorgan/internal/transfer"
)

var (
	lastNames  = []string{"Ахметов", "Серікова", "Иванов", "Жұмабаев", "Ким", "Нұрланова", "Петрова", "Оспанов"}
	firstNames = []string{"Айгерім", "Данияр", "Әлихан", "Мария", "Нұрсұлтан", "Томирис", "Арман", "Жансая"}
)

// bigPupilFile is n pupils of one school: siblings (pairs) share their first
// guardian, everyone has a second guardian of their own.
func bigPupilFile(school string, n int, bad map[int]map[string]string) [][]any {
	rows := [][]any{anyRows([][]string{pupilHeader})[0]}
	for i := 0; i < n; i++ {
		fam := i / 2
		v := map[string]string{
			"school_code": school, "external_id": fmt.Sprintf("P%05d", i),
			"last_name": lastNames[fam%len(lastNames)], "first_name": firstNames[i%len(firstNames)], "middle_name": "",
			"class": fmt.Sprintf("%d%s", 1+i%11, []string{"А", "Б", "В"}[i%3]), "card_uid": fmt.Sprintf("%08X", 0x10000000+i),
			"guardian1_phone": fmt.Sprintf("+7 701 %07d", fam), "guardian1_full_name": fmt.Sprintf("Ана %d", fam),
			"guardian1_language": []string{"kk", "ru"}[fam%2], "guardian1_relation": "mother", "guardian1_may_collect": "да",
			"guardian1_consent_given_on": "01.09.2024",
			"guardian2_phone":            fmt.Sprintf("8 (702) %07d", i), "guardian2_full_name": fmt.Sprintf("Әке %d", i),
			"guardian2_email": fmt.Sprintf("father%d@example.kz", i), "guardian2_relation": "father", "guardian2_may_collect": "no",
			"guardian2_consent_given_on": "2024-09-02",
		}
		for k, val := range bad[i] {
			v[k] = val
		}
		rows = append(rows, anyRows([][]string{pupilRow(v)})[0])
	}
	return rows
}

// The acceptance test: an XLSX of 10,000 pupils with 3 bad rows
// writes nothing and names the 3 rows and columns; the corrected file imports
// all; importing it again creates nothing new.
func TestTenThousandPupils(t *testing.T) {
	const n = 10000
	data := xlsxFile(t, bigPupilFile("TRK-001", n, map[int]map[string]string{
		100:  {"class": "13Б"},
		5000: {"guardian1_phone": "12345"},
		9997: {"guardian2_consent_given_on": "31.02.2024"},
	}))
	good := xlsxFile(t, bigPupilFile("TRK-001", n, nil))
	storetest.With(t, newWorld, func(t *testing.T, w *world) {

		start := time.Now()
		rep := w.importFile(t, w.dirA, transfer.Pupils, transfer.XLSX, data)
		t.Logf("rejected file: %v", time.Since(start))
		// Data row i is spreadsheet row i+2 (the header is row 1).
		wantProblems(t, rep, "102/class", "5002/guardian1_phone", "9999/guardian2_consent_given_on")
		if rep.Total != n {
			t.Fatalf("total %d, want %d", rep.Total, n)
		}
		for _, table := range []string{"pupils", "guardians", "pupil_guardians"} {
			if c := w.count(t, table); c != 0 {
				t.Fatalf("rejected file wrote %d rows to %s", c, table)
			}
		}
		if c := w.count(t, "audit"); c != 0 {
			t.Fatalf("rejected file wrote %d audit entries", c)
		}

		var calls, last int
		start = time.Now()
		rep, err := transfer.ImportPupils(t.Context(), w.reg, w.dirA, transfer.File{Name: "pupils.xlsx", Format: transfer.XLSX, Body: bytesReader(good)},
			func(done, total int) {
				if done < last || total != n {
					t.Errorf("progress went %d → %d of %d", last, done, total)
				}
				calls, last = calls+1, done
			})
		t.Logf("corrected file, first import: %v", time.Since(start))
		if err != nil {
			t.Fatal(err)
		}
		wantDone(t, rep, n, 0, 0)
		if last != n || calls < 10 {
			t.Fatalf("progress ended at %d after %d calls", last, calls)
		}
		if p, g, l := w.count(t, "pupils"), w.count(t, "guardians"), w.count(t, "pupil_guardians"); p != n || g != n/2+n || l != 2*n {
			t.Fatalf("wrote %d pupils, %d guardians, %d links", p, g, l)
		}

		start = time.Now()
		rep = w.importFile(t, w.dirA, transfer.Pupils, transfer.XLSX, good)
		t.Logf("corrected file, again: %v", time.Since(start))
		wantDone(t, rep, 0, 0, n)
		if p, g := w.count(t, "pupils"), w.count(t, "guardians"); p != n || g != n/2+n {
			t.Fatalf("re-import left %d pupils, %d guardians", p, g)
		}
		if c := w.count(t, "audit"); c != 2 {
			t.Fatalf("%d audit entries, want one per import (2)", c)
		}
	})
}
