package transfer_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"qorgan/internal/auth"
	"qorgan/internal/registry"
	"qorgan/internal/store"
	"qorgan/internal/testkit"
	"qorgan/internal/transfer"
)

// Turkestan region and three of its districts, and Abai region.
const (
	turkestan = "610000000"
	turkCity  = "611000000"
	arys      = "611600000"
	kentau    = "612000000"
	abai      = "100000000"
)

// world is a seeded registry with a few schools and the people who act on them.
type world struct {
	db                *store.DB
	reg               *registry.Registry
	schoolA, schoolB  int64 // Turkestan city, Arys
	schoolC           int64 // Abai region
	dirA, dirB        auth.Principal
	eduCity, eduRegio auth.Principal
	admin             auth.Principal
}

func newWorld(t testing.TB, db *store.DB) *world {
	t.Helper()
	ids := testkit.Schools(t, db,
		registry.SchoolInput{Code: "TRK-001", NameKK: "№1 мектеп", NameRU: "Школа №1", RegionCode: turkestan, DistrictCode: turkCity, Headcount: 900},
		registry.SchoolInput{Code: "ARS-002", NameKK: "№2 мектеп", NameRU: "Школа №2", RegionCode: turkestan, DistrictCode: arys, Headcount: 400},
		registry.SchoolInput{Code: "ABA-003", NameKK: "№3 мектеп", NameRU: "Школа №3", RegionCode: abai, Headcount: 300},
	)
	w := &world{db: db, reg: registry.New(db, auth.New(db)), admin: auth.System, schoolA: ids["TRK-001"], schoolB: ids["ARS-002"], schoolC: ids["ABA-003"]}
	w.dirA = auth.Principal{UserID: 11, Login: "dir.a", Role: auth.RoleDirector, Scope: auth.Scope{Kind: auth.ScopeSchool, Ref: fmt.Sprint(w.schoolA)}}
	w.dirB = auth.Principal{UserID: 12, Login: "dir.b", Role: auth.RoleDirector, Scope: auth.Scope{Kind: auth.ScopeSchool, Ref: fmt.Sprint(w.schoolB)}}
	w.eduCity = auth.Principal{UserID: 21, Login: "edu.city", Role: auth.RoleEducation, Scope: auth.Scope{Kind: auth.ScopeDistrict, Ref: turkCity}}
	w.eduRegio = auth.Principal{UserID: 22, Login: "edu.region", Role: auth.RoleEducation, Scope: auth.Scope{Kind: auth.ScopeRegion, Ref: turkestan}}
	return w
}

func (w *world) count(t *testing.T, table string) int {
	t.Helper()
	var n int
	if err := w.db.Reader().QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (w *world) importFile(t *testing.T, p auth.Principal, kind transfer.Kind, format transfer.Format, data []byte) transfer.Report {
	t.Helper()
	rep, err := transfer.Import(context.Background(), w.reg, p, kind, transfer.File{Name: "test." + string(format), Format: format, Body: bytes.NewReader(data)}, nil)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return rep
}

func wantDone(t *testing.T, rep transfer.Report, created, updated, unchanged int) {
	t.Helper()
	if rep.Status != transfer.Done || rep.Created != created || rep.Updated != updated || rep.Unchanged != unchanged {
		t.Fatalf("report %s: created %d, updated %d, unchanged %d, problems %v; want done %d/%d/%d",
			rep.Status, rep.Created, rep.Updated, rep.Unchanged, rep.Problems, created, updated, unchanged)
	}
}

// wantProblems checks that the report is a rejection naming exactly these
// "row/column" pairs.
func wantProblems(t *testing.T, rep transfer.Report, want ...string) {
	t.Helper()
	var got []string
	for _, p := range rep.Problems {
		got = append(got, fmt.Sprintf("%d/%s", p.Row, p.Column))
	}
	if rep.Status != transfer.Rejected || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("report %s with problems %v; want rejected with %v", rep.Status, rep.Problems, want)
	}
	// Every problem has a kind a page can word (the console's message
	// files hold one text for each of transfer.ProblemCodes).
	for _, p := range rep.Problems {
		if !slices.Contains(transfer.ProblemCodes, p.Code) {
			t.Errorf("problem %+v has no known kind", p)
		}
	}
}

func csvFile(rows [][]string, comma rune) []byte {
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	cw.Comma = comma
	cw.WriteAll(rows)
	return b.Bytes()
}

func xlsxFile(t testing.TB, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := sw.SetRow(cell, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func anyRows(rows [][]string) [][]any {
	out := make([][]any, len(rows))
	for i, r := range rows {
		out[i] = make([]any, len(r))
		for j, c := range r {
			out[i][j] = c
		}
	}
	return out
}

// pupilHeader is the two-guardian layout.
var pupilHeader = transfer.PupilColumns(2)

// pupilRow builds a row of the two-guardian layout from column values.
func pupilRow(vals map[string]string) []string {
	out := make([]string, len(pupilHeader))
	for i, c := range pupilHeader {
		out[i] = vals[c]
	}
	return out
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

func readCSV(t *testing.T, data []byte) [][]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}
