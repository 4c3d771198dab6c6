package transfer_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/registry"
	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
	"qorgan/internal/transfer"
)

func TestSchoolsCSVSemicolonBOM(t *testing.T) {
	storetest.With(t, newWorld, func(t *testing.T, w *world) {
		// What Excel in a Russian locale writes: a BOM, ';' between values,
		// a decimal comma, да/нет; the header in its own case and order.
		file := "\ufeff" + strings.Join([]string{
			"Code;Name_RU;name_kk;region_code;district_code;BIN;parent_bin;address;lat;lon;urban;regional_centre;shifts;headcount",
			`TRK-010;Школа-гимназия №10;№10 мектеп-гимназия;610000000;611000000;;;"ул. Тауке хана, 5";43,297;68,2517;да;нет;"08:00-13:00;13:30-18:30";1 250`,
			";;;;;;;;;;;;;", // a blank row, as Excel writes one
			`TRK-011;Школа №11;№11 мектеп;610000000;611000000;;;;;;иә;жоқ;8:30-14:00;80`,
		}, "\r\n") + "\r\n"
		rep := w.importFile(t, w.admin, transfer.Schools, transfer.CSV, []byte(file))
		wantDone(t, rep, 2, 0, 0)
		if rep.Total != 2 {
			t.Fatalf("total %d, want 2 (the blank row is skipped)", rep.Total)
		}
		list, err := w.reg.ListSchools(context.Background(), w.admin, registry.SchoolFilter{District: turkCity}, registry.Page{})
		if err != nil {
			t.Fatal(err)
		}
		var s10, s11 registry.School
		for _, s := range list.Items {
			switch s.Code {
			case "TRK-010":
				s10 = s
			case "TRK-011":
				s11 = s
			}
		}
		if s10.Address != "ул. Тауке хана, 5" || s10.Lat == nil || *s10.Lat != 43.297 || *s10.Lon != 68.2517 || !s10.Urban || s10.RegionalCentre ||
			len(s10.Shifts) != 2 || s10.Shifts[1] != (registry.Shift{Start: "13:30", End: "18:30"}) || s10.Headcount != 1250 {
			t.Fatalf("TRK-010 stored as %+v", s10)
		}
		if !s11.Urban || len(s11.Shifts) != 1 || s11.Shifts[0].Start != "08:30" || s11.Headcount != 80 {
			t.Fatalf("TRK-011 stored as %+v", s11)
		}

		// Bad cells are named by the spreadsheet's row (the blank row counts).
		bad := strings.Replace(file, "иә;жоқ;8:30-14:00;80", "maybe;жоқ;8:30-14;80", 1)
		rep = w.importFile(t, w.admin, transfer.Schools, transfer.CSV, []byte(bad))
		wantProblems(t, rep, "4/urban", "4/shifts")
	})
}

func TestPupilsCSVSemicolon(t *testing.T) {
	storetest.With(t, newWorld, func(t *testing.T, w *world) {
		rows := [][]string{pupilHeader,
			pupilRow(map[string]string{"school_code": "TRK-001", "external_id": "000123", "last_name": "Серікова", "first_name": "Айгерім",
				"class": "5 а", "card_uid": "04:a1:b2:c3", "guardian1_phone": "8 (701) 123-45-67", "guardian1_full_name": "Серікова Гүлнар",
				"guardian1_consent_given_on": "01.09.2024", "guardian1_may_collect": "иә"}),
		}
		rep := w.importFile(t, w.dirA, transfer.Pupils, transfer.CSV, append([]byte("\ufeff"), csvFile(rows, ';')...))
		wantDone(t, rep, 1, 0, 0)
		list, err := w.reg.ListPupils(context.Background(), w.dirA, w.schoolA, registry.Page{})
		if err != nil {
			t.Fatal(err)
		}
		p := list.Items[0]
		if p.ExternalID != "000123" || p.Class != "5А" || p.CardUID != "04A1B2C3" || len(p.Guardians) != 1 ||
			p.Guardians[0].Phone != "+77011234567" || p.Guardians[0].ConsentGivenOn != "2024-09-01" || !p.Guardians[0].MayCollect {
			t.Fatalf("stored %+v", p)
		}
	})
}

func TestHeaderProblems(t *testing.T) {
	storetest.With(t, newWorld, func(t *testing.T, w *world) {
		row := pupilRow(map[string]string{"school_code": "TRK-001", "external_id": "1", "last_name": "Ким", "first_name": "Арман", "class": "1А"})

		t.Run("unknown column", func(t *testing.T) {
			rows := [][]string{append(append([]string{}, pupilHeader...), "Nickname"), append(row, "Армаша")}
			rep := w.importFile(t, w.dirA, transfer.Pupils, transfer.CSV, csvFile(rows, ','))
			wantProblems(t, rep, "1/nickname")
			if !strings.Contains(rep.Problems[0].Message, `"Nickname"`) {
				t.Fatalf("message %q does not name the column", rep.Problems[0].Message)
			}
			if p := rep.Problems[0]; p.Code != transfer.ProblemUnknownColumn || p.Value != "Nickname" {
				t.Fatalf("problem %+v: want kind %s about the cell Nickname", p, transfer.ProblemUnknownColumn)
			}
		})
		t.Run("missing column", func(t *testing.T) {
			var h, r []string
			for i, c := range pupilHeader {
				if c != "class" && c != "guardian2_email" {
					h, r = append(h, c), append(r, row[i])
				}
			}
			rep := w.importFile(t, w.dirA, transfer.Pupils, transfer.CSV, csvFile([][]string{h, r}, ','))
			wantProblems(t, rep, "1/class", "1/guardian2_email")
		})
		t.Run("optional guardian group left out", func(t *testing.T) {
			h := transfer.PupilColumns(1)
			rep := w.importFile(t, w.dirA, transfer.Pupils, transfer.CSV, csvFile([][]string{h, row[:len(h)]}, ','))
			wantDone(t, rep, 1, 0, 0)
		})
		t.Run("not a workbook", func(t *testing.T) {
			rep := w.importFile(t, w.dirA, transfer.Pupils, transfer.XLSX, []byte("school_code,external_id\n"))
			wantProblems(t, rep, "0/")
		})
		t.Run("not UTF-8", func(t *testing.T) {
			rep := w.importFile(t, w.dirA, transfer.Pupils, transfer.CSV, []byte("school_code\n\xc8\xe2\xe0\xed\xee\xe2\n"))
			wantProblems(t, rep, "0/")
		})
		if c := w.count(t, "pupils"); c != 1 {
			t.Fatalf("%d pupils written, want the one good file's", c)
		}
	})
}

func TestPupilRowChecks(t *testing.T) {
	storetest.With(t, newWorld, func(t *testing.T, w *world) {
		p := func(ext, card, phone1, name1, phone2, name2 string) []string {
			return pupilRow(map[string]string{"school_code": "TRK-001", "external_id": ext, "last_name": "Ахметов", "first_name": "Данияр",
				"class": "3Б", "card_uid": card, "guardian1_phone": phone1, "guardian1_full_name": name1, "guardian2_phone": phone2, "guardian2_full_name": name2})
		}
		rows := [][]string{pupilHeader,
			p("A1", "AAAA0001", "+77010000001", "Ахметова Сауле", "", ""),
			p("A2", "AAAA0002", "+77010000001", "Ахметова Сауле", "+77020000002", "Ахметов Ерлан"),
			{}, // blank rows count in the numbering
			p("A1", "AAAA0003", "+77010000003", "Ким Юлия", "", ""),                      // row 5: repeated external id
			p("A4", "AAAA0002", "+77010000004", "Ли Анна", "", ""),                       // row 6: repeated card
			p("A5", "", "+77010000005", "Ли Анна", "+7 701 000 00 01", "Ахметова Сәуле"), // row 7: same phone, other name
			p("A6", "", "", "", "", "Ким Олег"),                                          // row 8: a guardian without a phone
			p("A7", "", "+77010000007", "", "", ""),                                      // row 9: without a name
			append(p("A8", "", "+77010000008", "Пак Инна", "", ""), "", "", ""),          // trailing blanks are fine
		}
		rows[8][pupilIndex("guardian2_email")] = "x@example.kz" // guardian 2 of row 9: details but neither phone nor name
		rep := w.importFile(t, w.dirA, transfer.Pupils, transfer.CSV, csvFile(rows, ','))
		wantProblems(t, rep, "5/external_id", "6/card_uid", "7/guardian2_full_name", "8/guardian2_phone", "9/guardian1_full_name", "9/guardian2_phone")
		if msg := rep.Problems[2].Message; !strings.Contains(msg, "row 2") || !strings.Contains(msg, "Ахметова Сауле") {
			t.Fatalf("message %q should point at row 2 and its name", msg)
		}
		if c := w.count(t, "pupils"); c != 0 {
			t.Fatalf("%d pupils written", c)
		}
	})
}

func pupilIndex(col string) int {
	for i, c := range pupilHeader {
		if c == col {
			return i
		}
	}
	panic(col)
}

func TestPupilScope(t *testing.T) {
	storetest.With(t, newWorld, func(t *testing.T, w *world) {
		row := func(school, ext string) []string {
			return pupilRow(map[string]string{"school_code": school, "external_id": ext, "last_name": "Оспанов", "first_name": "Арман", "class": "7В"})
		}
		file := csvFile([][]string{pupilHeader, row("TRK-001", "1"), row("ARS-002", "2"), row("NO-SUCH", "3")}, ',')
		rep := w.importFile(t, w.dirA, transfer.Pupils, transfer.CSV, file)
		wantProblems(t, rep, "3/school_code", "4/school_code")
		// Another school in the region reads exactly like one that does not exist.
		if a, b := strings.ReplaceAll(rep.Problems[0].Message, "ARS-002", "X"), strings.ReplaceAll(rep.Problems[1].Message, "NO-SUCH", "X"); a != b {
			t.Fatalf("out of scope %q differs from unknown %q", rep.Problems[0].Message, rep.Problems[1].Message)
		}
		if c := w.count(t, "pupils"); c != 0 {
			t.Fatalf("%d pupils written", c)
		}
		// The administrator may write to both schools in one file.
		file = csvFile([][]string{pupilHeader, row("TRK-001", "1"), row("ARS-002", "2")}, ',')
		rep = w.importFile(t, w.admin, transfer.Pupils, transfer.CSV, file)
		wantDone(t, rep, 2, 0, 0)
		if len(rep.SchoolIDs) != 2 {
			t.Fatalf("school ids %v", rep.SchoolIDs)
		}
		// Roles without the permission are refused outright.
		for _, p := range []auth.Principal{w.eduCity, {UserID: 5, Role: auth.RoleGuard, Scope: w.dirA.Scope}} {
			_, err := transfer.ImportPupils(context.Background(), w.reg, p, transfer.File{Name: "f.csv", Format: transfer.CSV, Body: bytes.NewReader(file)}, nil)
			if errs.CodeOf(err) != errs.Forbidden {
				t.Fatalf("%s: got %v, want forbidden", p.Role, err)
			}
		}
	})
}

// TestPupilExportIsTheDirectors: a whole school's children with their
// guardians' contacts and card UIDs leave Qorgan only with the school's
// director (or the administrator). The guard, who reads the pupils at the
// gate, may not take them away as a file; the school's education
// department sees the school but not its children; another school's
// director does not see the school at all.
func TestPupilExportIsTheDirectors(t *testing.T) {
	storetest.With(t, newWorld, func(t *testing.T, w *world) {
		ctx := context.Background()
		guard := auth.Principal{UserID: 5, Login: "guard.a", Role: auth.RoleGuard, Scope: w.dirA.Scope}
		for _, c := range []struct {
			p    auth.Principal
			want errs.Code
		}{{guard, errs.Forbidden}, {w.eduRegio, errs.Forbidden}, {w.dirB, errs.NotFound}, {w.dirA, ""}, {w.admin, ""}} {
			var b bytes.Buffer
			err := transfer.ExportPupils(ctx, w.reg, c.p, w.schoolA, transfer.CSV, &b)
			if got := errs.CodeOf(err); err != nil && got != c.want || err == nil && c.want != "" {
				t.Errorf("%s exporting school A: %v, want %q", c.p.Login, err, c.want)
			}
			if err != nil && b.Len() > 0 {
				t.Errorf("%s: refused, yet %d bytes written", c.p.Login, b.Len())
			}
		}
	})
}

func TestSchoolScope(t *testing.T) {
	storetest.With(t, newWorld, func(t *testing.T, w *world) {
		h := transfer.SchoolColumns()
		school := func(code, region, district string) []string {
			v := map[string]string{"code": code, "name_kk": "Мектеп " + code, "name_ru": "Школа " + code, "region_code": region, "district_code": district,
				"urban": "1", "headcount": "120"}
			out := make([]string, len(h))
			for i, c := range h {
				out[i] = v[c]
			}
			return out
		}
		file := csvFile([][]string{h,
			school("TRK-100", turkestan, turkCity), // in the department's district
			school("ARS-100", turkestan, arys),     // another district
			school("ARS-002", turkestan, turkCity), // a stored school of Arys, moved into the district
			school("TRK-100", turkestan, turkCity), // repeated
			school("KNT-100", turkestan, abai),     // a district of another region (and so out of scope)
		}, ',')
		rep := w.importFile(t, w.eduCity, transfer.Schools, transfer.CSV, file)
		wantProblems(t, rep, "3/district_code", "4/code", "5/code", "6/district_code")
		if c := w.count(t, "schools"); c != 3 {
			t.Fatalf("%d schools, want the 3 seeded", c)
		}

		// The regional department may write anywhere in Turkestan region.
		file = csvFile([][]string{h, school("TRK-100", turkestan, turkCity), school("ARS-100", turkestan, arys), school("ABA-100", abai, "")}, ',')
		rep = w.importFile(t, w.eduRegio, transfer.Schools, transfer.CSV, file)
		wantProblems(t, rep, "4/region_code")
		file = csvFile([][]string{h, school("TRK-100", turkestan, turkCity), school("ARS-100", turkestan, arys)}, ',')
		wantDone(t, w.importFile(t, w.eduRegio, transfer.Schools, transfer.CSV, file), 2, 0, 0)

		_, err := transfer.ImportSchools(context.Background(), w.reg, w.dirA, transfer.File{Name: "s.csv", Format: transfer.CSV, Body: bytes.NewReader(file)}, nil)
		if errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("director importing schools: %v", err)
		}
	})
}

// An export imported again changes nothing, in both formats; a corrected
// file updates by key without duplicates.
func TestRoundTrip(t *testing.T) {
	storetest.With(t, newWorld, func(t *testing.T, w *world) {
		db := w.db
		ctx := context.Background()
		lat, lon := 43.2973456789, 68.251712345
		bin, _ := registry.MakeBIN("00074000130")
		err := db.InTx(ctx, func(tx *store.Tx) error {
			_, err := registry.UpsertSchools(ctx, tx, time.Now(), []registry.SchoolInput{{Code: "TRK-200", BIN: bin, NameKK: "Мектеп, \"Болашақ\"",
				NameRU: "=Школа «Болашақ»", RegionCode: turkestan, DistrictCode: kentau, Address: "ул. Абая, 1\nкорпус 2", Lat: &lat, Lon: &lon,
				Urban: true, Shifts: []registry.Shift{{Start: "08:00", End: "13:00"}, {Start: "13:30", End: "18:30"}}, Headcount: 1500}})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		yes, no := true, false
		pupils := []registry.PupilInput{
			{ExternalID: "000001", LastName: "-Ахметов", FirstName: "Данияр", MiddleName: "Ерланұлы", Class: "5А", CardUID: "0A0B0C0D",
				PhoneToken: "tok-1", Guardians: []registry.GuardianInput{
					{Phone: "+77010000001", FullName: "Ахметова Сауле", Email: "saule@example.kz", MessengerID: "@saule", Language: "ru",
						Relation: "mother", MayCollect: &yes, ConsentGivenOn: "2024-09-01", ConsentWithdrawnOn: "2025-01-10"},
					{Phone: "+77020000002", FullName: "Ахметов Ерлан", Language: "kk", Relation: "father", MayCollect: &no},
					{Phone: "+77030000003", FullName: "Ахметова Бибигүл", Language: "kk", Relation: "grandmother"},
				}},
			{ExternalID: "000002", LastName: "Ахметова", FirstName: "Айгерім", Class: "2Б", Guardians: []registry.GuardianInput{
				{Phone: "+77010000001", FullName: "Ахметова Сауле", Email: "saule@example.kz", MessengerID: "@saule", Language: "ru",
					Relation: "mother", ConsentGivenOn: "2024-09-01", ConsentWithdrawnOn: "2025-01-10"}}},
			{ExternalID: "000003", LastName: "Ким", FirstName: "Юлия", Class: "0"},
		}
		err = db.InTx(ctx, func(tx *store.Tx) error {
			for i := range pupils {
				pupils[i].Normalize()
			}
			_, err := registry.UpsertPupils(ctx, tx, time.Now(), w.schoolA, pupils)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		nSchools := w.count(t, "schools")
		for _, format := range []transfer.Format{transfer.CSV, transfer.XLSX} {
			var b bytes.Buffer
			if err := transfer.ExportSchools(ctx, w.reg, w.eduRegio, format, &b); err != nil {
				t.Fatal(err)
			}
			rep := w.importFile(t, w.eduRegio, transfer.Schools, format, b.Bytes())
			wantDone(t, rep, 0, 0, 3) // the Turkestan schools: TRK-001, ARS-002, TRK-200

			b.Reset()
			logged := w.count(t, "access_log")
			if err := transfer.ExportPupils(ctx, w.reg, w.dirA, w.schoolA, format, &b); err != nil {
				t.Fatal(err)
			}
			// One entry says the whole school was exported, and how many rows.
			if c := w.count(t, "access_log"); c != logged+1 {
				t.Fatalf("export wrote %d access-log entries, want 1", c-logged)
			}
			var action string
			var pupil, rows int
			if err := db.Reader().QueryRowContext(ctx, "SELECT action, pupil_id, row_count FROM access_log WHERE school_id = ? ORDER BY id DESC LIMIT 1", w.schoolA).
				Scan(&action, &pupil, &rows); err != nil || action != "pupils.export" || pupil != 0 || rows != 3 {
				t.Fatalf("the export is logged as %q, pupil %d, %d rows (%v); want pupils.export, 0, 3", action, pupil, rows, err)
			}
			rep = w.importFile(t, w.dirA, transfer.Pupils, format, b.Bytes())
			wantDone(t, rep, 0, 0, 3)
		}
		if c := w.count(t, "schools"); c != nSchools {
			t.Fatalf("%d schools after round trips, had %d", c, nSchools)
		}
		var token string
		if err := db.Reader().QueryRowContext(ctx, "SELECT COALESCE(phone_token, '') FROM pupils WHERE external_id = '000001'").Scan(&token); err != nil || token != "tok-1" {
			t.Fatalf("phone token %q (%v) lost by the import", token, err)
		}

		// A corrected file: a name fixed, cards swapped between two pupils,
		// a third pupil's card moved to a new pupil, a guardian dropped.
		var b bytes.Buffer
		if err := transfer.ExportPupils(ctx, w.reg, w.dirA, w.schoolA, transfer.CSV, &b); err != nil {
			t.Fatal(err)
		}
		rows := readCSV(t, b.Bytes())
		col := func(name string) int {
			for i, c := range rows[0] {
				if c == name {
					return i
				}
			}
			t.Fatalf("no column %s in %v", name, rows[0])
			return -1
		}
		if col("guardian3_phone") < 0 {
			t.Fatal("export has no third guardian")
		}
		rows[1][col("first_name")] = "Даниял"
		rows[2][col("card_uid")] = rows[1][col("card_uid")] // 000001's card goes to 000002
		rows[1][col("card_uid")] = "0F0F0F0F"               // and 000001 gets a new one
		for _, f := range []string{"phone", "full_name", "email", "messenger_id", "language", "relation", "may_collect"} {
			rows[1][col("guardian3_"+f)] = ""
		}
		newPupil := append([]string{}, rows[3]...)
		newPupil[col("external_id")], newPupil[col("card_uid")] = "000004", "0E0E0E0E"
		rows = append(rows, newPupil)
		rep := w.importFile(t, w.dirA, transfer.Pupils, transfer.CSV, csvFile(rows, ','))
		wantDone(t, rep, 1, 2, 1)
		if c := w.count(t, "pupils"); c != 4 {
			t.Fatalf("%d pupils, want 4", c)
		}
		rep = w.importFile(t, w.dirA, transfer.Pupils, transfer.CSV, csvFile(rows, ','))
		wantDone(t, rep, 0, 0, 4)
	})
}

// A card that moves to a pupil from one who is not in the file would take it
// from a child the file says nothing about.
func TestCardHeldOutsideFile(t *testing.T) {
	storetest.With(t, newWorld, func(t *testing.T, w *world) {
		row := func(ext, card string) []string {
			return pupilRow(map[string]string{"school_code": "TRK-001", "external_id": ext, "last_name": "Ли", "first_name": "Анна", "class": "4", "card_uid": card})
		}
		wantDone(t, w.importFile(t, w.dirA, transfer.Pupils, transfer.CSV, csvFile([][]string{pupilHeader, row("1", "ABCDEF01"), row("2", "ABCDEF02")}, ',')), 2, 0, 0)
		rep := w.importFile(t, w.dirA, transfer.Pupils, transfer.CSV, csvFile([][]string{pupilHeader, row("3", "ABCDEF01")}, ','))
		wantProblems(t, rep, "2/card_uid")
		// Swapping cards between two pupils in the file is fine.
		rep = w.importFile(t, w.dirA, transfer.Pupils, transfer.CSV, csvFile([][]string{pupilHeader, row("1", "ABCDEF02"), row("2", "ABCDEF01")}, ','))
		wantDone(t, rep, 0, 2, 0)
	})
}

// A guardian who is also a guardian at another school keeps their stored
// details when a director of this school imports a different spelling.
func TestGuardianSharedWithAnotherSchool(t *testing.T) {
	storetest.With(t, newWorld, func(t *testing.T, w *world) {
		db := w.db
		row := func(school, ext, name, email string) []string {
			return pupilRow(map[string]string{"school_code": school, "external_id": ext, "last_name": "Ли", "first_name": "Анна", "class": "4",
				"guardian1_phone": "+77011112233", "guardian1_full_name": name, "guardian1_email": email})
		}
		wantDone(t, w.importFile(t, w.dirB, transfer.Pupils, transfer.CSV, csvFile([][]string{pupilHeader, row("ARS-002", "1", "Ли Марина", "m@example.kz")}, ',')), 1, 0, 0)
		rep := w.importFile(t, w.dirA, transfer.Pupils, transfer.CSV, csvFile([][]string{pupilHeader, row("TRK-001", "9", "Ли М.", "attacker@example.kz")}, ','))
		wantDone(t, rep, 1, 0, 0)
		var name, email string
		if err := db.Reader().QueryRowContext(context.Background(), "SELECT full_name, email FROM guardians WHERE phone = '+77011112233'").Scan(&name, &email); err != nil {
			t.Fatal(err)
		}
		if name != "Ли Марина" || email != "m@example.kz" {
			t.Fatalf("another school's import rewrote the guardian to %q <%s>", name, email)
		}
		if c := w.count(t, "pupil_guardians"); c != 2 {
			t.Fatalf("%d links, want the guardian linked at both schools", c)
		}
	})
}

func TestJobs(t *testing.T) {
	storetest.With(t, newWorld, func(t *testing.T, w *world) {
		db := w.db
		ctx := context.Background()
		jobs := transfer.NewJobs(w.reg)
		defer jobs.Shutdown(ctx)
		file := xlsxFile(t, bigPupilFile("TRK-001", 1200, nil))

		job, err := jobs.Start(ctx, w.dirA, transfer.Pupils, transfer.XLSX, "pupils.xlsx", file)
		if err != nil {
			t.Fatal(err)
		}
		if job.Status != transfer.Running || job.ID == 0 {
			t.Fatalf("started job %+v", job)
		}
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := jobs.Wait(wctx, job.ID); err != nil {
			t.Fatal(err)
		}
		got, err := jobs.Get(ctx, w.dirA, job.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != transfer.Done || got.Total != 1200 || got.Processed != 1200 || got.Created != 1200 || got.File != "pupils.xlsx" ||
			got.SchoolID != w.schoolA || got.FinishedAt == nil || got.UserID != w.dirA.UserID {
			t.Fatalf("finished job %+v", got)
		}
		if _, err := jobs.Get(ctx, w.dirB, job.ID); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("another director: %v, want not found", err)
		}
		if _, err := jobs.Get(ctx, w.admin, job.ID); err != nil {
			t.Fatalf("administrator: %v", err)
		}
		var action, object string
		if err := db.Reader().QueryRowContext(ctx, "SELECT action, object FROM audit ORDER BY seq DESC LIMIT 1").Scan(&action, &object); err != nil {
			t.Fatal(err)
		}
		if action != "import.pupils" || !strings.HasPrefix(object, "import/") {
			t.Fatalf("audit %s %s", action, object)
		}

		// A rejected file keeps its problems in the job.
		bad := xlsxFile(t, bigPupilFile("TRK-001", 3, map[int]map[string]string{1: {"class": "Z"}}))
		job, err = jobs.Start(ctx, w.dirA, transfer.Pupils, transfer.XLSX, "bad.xlsx", bad)
		if err != nil {
			t.Fatal(err)
		}
		jobs.Wait(wctx, job.ID)
		if got, err = jobs.Get(ctx, w.dirA, job.ID); err != nil || got.Status != transfer.Rejected || len(got.Problems) != 1 || got.Problems[0].Row != 3 {
			t.Fatalf("rejected job %+v (%v)", got, err)
		}

		// What can be told at once is told at once.
		for _, c := range []struct {
			p      auth.Principal
			kind   transfer.Kind
			format transfer.Format
			data   []byte
			code   errs.Code
		}{
			{w.dirA, transfer.Pupils, "ods", file, errs.Invalid},
			{w.dirA, "staff", transfer.CSV, file, errs.Invalid},
			{w.dirA, transfer.Pupils, transfer.CSV, make([]byte, transfer.MaxFileSize+1), errs.TooLarge},
			{w.eduCity, transfer.Pupils, transfer.CSV, file, errs.Forbidden},
			{w.dirA, transfer.Schools, transfer.CSV, file, errs.Forbidden},
		} {
			if _, err := jobs.Start(ctx, c.p, c.kind, c.format, "f", c.data); errs.CodeOf(err) != c.code {
				t.Errorf("%s %s %s: %v, want %s", c.p.Role, c.kind, c.format, err, c.code)
			}
		}
		if _, err := jobs.Get(ctx, w.dirA, 999999); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("unknown job: %v", err)
		}

		// The record of finished imports, refused files' quoted cells with
		// them, goes after its retention; none is younger than a minute.
		if n, err := jobs.Prune(ctx, time.Now().Add(-time.Minute)); err != nil || n != 0 {
			t.Fatalf("prune of nothing old: %d %v", n, err)
		}
		if n, err := jobs.Prune(ctx, time.Now().Add(time.Second)); err != nil || n != 2 {
			t.Fatalf("prune: %d %v, want the 2 finished imports", n, err)
		}
		if _, err := jobs.Get(ctx, w.dirA, job.ID); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("a pruned import: %v", err)
		}
	})
}

func TestProblemCap(t *testing.T) {
	storetest.With(t, newWorld, func(t *testing.T, w *world) {
		rows := [][]string{pupilHeader}
		for i := 0; i < transfer.MaxProblems+500; i++ {
			rows = append(rows, pupilRow(map[string]string{"school_code": "TRK-001", "external_id": "x", "last_name": "Ли", "first_name": "Анна", "class": "99"}))
		}
		rep := w.importFile(t, w.dirA, transfer.Pupils, transfer.CSV, csvFile(rows, ','))
		// Each row has a bad class, every row after the first a repeated external id.
		if rep.Status != transfer.Rejected || len(rep.Problems) != transfer.MaxProblems || rep.MoreProblems != 2*(transfer.MaxProblems+500)-1-transfer.MaxProblems {
			t.Fatalf("%s with %d problems listed and %d more", rep.Status, len(rep.Problems), rep.MoreProblems)
		}
		if rep.Problems[0].Row != 2 || rep.Problems[1].Row != 3 {
			t.Fatalf("problems not in row order: %v", rep.Problems[:2])
		}
		if err := rep.Err(); errs.CodeOf(err) != errs.Invalid {
			t.Fatalf("Err() = %v", err)
		}
	})
}

func TestFormatOf(t *testing.T) {
	for name, want := range map[string]transfer.Format{"Pupils 5A.XLSX": transfer.XLSX, "schools.csv": transfer.CSV} {
		if got, err := transfer.FormatOf(name); err != nil || got != want {
			t.Errorf("FormatOf(%q) = %q, %v", name, got, err)
		}
	}
	if _, err := transfer.FormatOf("pupils.xls"); !errors.As(err, new(*errs.Error)) {
		t.Errorf("FormatOf(.xls) = %v", err)
	}
}
