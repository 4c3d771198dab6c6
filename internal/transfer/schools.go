package transfer

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/registry"
	"qorgan/internal/store"
)

type schoolRow struct {
	n   int
	in  registry.SchoolInput
	bad []string // columns that already have a problem
}

// parseSchool reads a row into a school, noting cells that cannot be read.
func parseSchool(r *row) registry.SchoolInput {
	in := registry.SchoolInput{
		Code: r.get("code"), BIN: r.get("bin"), ParentBIN: r.get("parent_bin"), NameKK: r.get("name_kk"), NameRU: r.get("name_ru"),
		RegionCode: r.get("region_code"), DistrictCode: r.get("district_code"), Address: r.get("address"),
	}
	var ok bool
	if in.Lat, ok = parseFloat(r.get("lat")); !ok {
		r.fail("lat", ProblemNotNumber, r.get("lat"), "lat must be a number of degrees, got %q", r.get("lat"))
	}
	if in.Lon, ok = parseFloat(r.get("lon")); !ok {
		r.fail("lon", ProblemNotNumber, r.get("lon"), "lon must be a number of degrees, got %q", r.get("lon"))
	}
	for _, c := range []struct {
		name string
		to   *bool
	}{{"urban", &in.Urban}, {"regional_centre", &in.RegionalCentre}} {
		if *c.to, ok = parseBool(r.get(c.name), false); !ok {
			r.fail(c.name, ProblemNotBool, r.get(c.name), "%s must be true or false (also 1/0, yes/no, да/нет, иә/жоқ), got %q", c.name, r.get(c.name))
		}
	}
	if in.Shifts, ok = parseShifts(r.get("shifts")); !ok {
		r.fail("shifts", ProblemNotShifts, r.get("shifts"), "shifts must look like 08:00-13:00;13:30-18:30, got %q", r.get("shifts"))
	}
	if in.Headcount, ok = parseInt(r.get("headcount")); !ok {
		r.fail("headcount", ProblemNotNumber, r.get("headcount"), "headcount must be a whole number, got %q", r.get("headcount"))
	}
	in.Normalize()
	return in
}

// schoolColumn names the column of a registry.SchoolInput field ("shifts/0").
func schoolColumn(field string) string {
	f, _, _ := strings.Cut(field, "/")
	if _, ok := schoolLayout.index[f]; ok {
		return f
	}
	return ""
}

// inScope reports whether the principal may write a school placed here.
func inScope(p auth.Principal, region, district string) bool {
	switch p.Scope.Kind {
	case auth.ScopeInstallation:
		return true
	case auth.ScopeRegion:
		return region == p.Scope.Ref
	case auth.ScopeDistrict:
		return district != "" && district == p.Scope.Ref
	}
	return false
}

func (im *importer) schools(ctx context.Context, data []byte) error {
	im.probs.order = schoolLayout.index
	places, err := im.reg.LoadPlaces(ctx)
	if err != nil {
		return errs.Wrap(err, "load regions and districts")
	}
	var rows []schoolRow
	im.total, err = readSheet(im.file.Format, data, schoolLayout, &im.probs, func(r *row) error {
		in := parseSchool(r)
		for _, e := range in.Validate(places) {
			r.fail(schoolColumn(e.Field), ProblemInvalid, "", "%s", e.Message)
		}
		rows = append(rows, schoolRow{n: r.n, in: in, bad: im.badCells(r)})
		return nil
	})
	if err != nil {
		return errs.Wrap(err, "read the file")
	}
	if im.total > len(rows) { // the header was bad; its problems say why
		return nil
	}

	// Whole-file checks: repeated keys, scope, keys held by stored schools.
	var codes, bins []string
	fileBIN := map[string]string{} // code → BIN the file gives it
	for _, sr := range rows {
		codes = append(codes, sr.in.Code)
		fileBIN[sr.in.Code] = sr.in.BIN
		if sr.in.BIN != "" {
			bins = append(bins, sr.in.BIN)
		}
	}
	keys, err := registry.SchoolKeys(ctx, im.reg.DB.Reader(), codes, bins)
	if err != nil {
		return errs.Wrap(err, "read schools")
	}
	byCode, byBIN := map[string]registry.SchoolKey{}, map[string]registry.SchoolKey{}
	for _, k := range keys {
		byCode[k.Code] = k
		if k.BIN != "" {
			byBIN[k.BIN] = k
		}
	}
	codeRow, binRow := map[string]int{}, map[string]int{}
	for _, sr := range rows {
		in := sr.in
		bad := func(col string, code ProblemCode, value, format string, args ...any) {
			if !slices.Contains(sr.bad, col) {
				sr.bad = append(sr.bad, col)
				im.probs.add(sr.n, col, code, value, format, args...)
			}
		}
		if prev, ok := codeRow[in.Code]; ok {
			bad("code", ProblemRepeats, strconv.Itoa(prev), "code %s repeats row %d", in.Code, prev)
		} else {
			codeRow[in.Code] = sr.n
		}
		if in.BIN != "" {
			if prev, ok := binRow[in.BIN]; ok {
				bad("bin", ProblemRepeats, strconv.Itoa(prev), "BIN %s repeats row %d", in.BIN, prev)
			} else {
				binRow[in.BIN] = sr.n
			}
			if k, ok := byBIN[in.BIN]; ok && k.Code != in.Code {
				if _, moving := fileBIN[k.Code]; !moving {
					bad("bin", ProblemTaken, in.BIN, "BIN %s belongs to school %s", in.BIN, k.Code)
				}
			}
		}
		if old, ok := byCode[in.Code]; ok && !inScope(im.p, old.RegionCode, old.DistrictCode) {
			bad("code", ProblemOutsideScope, in.Code, "school %s is registered outside your %s", in.Code, im.p.Scope.Kind)
		} else if !inScope(im.p, in.RegionCode, in.DistrictCode) {
			col := "region_code"
			if im.p.Scope.Kind == auth.ScopeDistrict {
				col = "district_code"
			}
			bad(col, ProblemOutsideScope, in.Code, "this school is outside your %s %s", im.p.Scope.Kind, im.p.Scope.Ref)
		}
		im.checked++
		im.tick(false)
	}
	im.tick(true)
	if !im.probs.empty() {
		return nil
	}

	ins := make([]registry.SchoolInput, len(rows))
	for i, sr := range rows {
		ins[i] = sr.in
	}
	now := im.reg.Now()
	var ch registry.SchoolChange
	err = im.inTx(ctx, func(tx *store.Tx) error {
		ch = registry.SchoolChange{}
		for start := 0; start < len(ins); start += 500 {
			end := min(start+500, len(ins))
			c, err := registry.UpsertSchools(ctx, tx, now, ins[start:end])
			if err != nil {
				return err
			}
			ch.Created, ch.Updated, ch.Unchanged = ch.Created+c.Created, ch.Updated+c.Updated, ch.Unchanged+c.Unchanged
			im.written += end - start
			im.tick(false)
		}
		return auth.Append(ctx, tx, now, im.p, "import.schools", im.auditObject(), map[string]any{
			"file": im.file.Name, "format": im.file.Format, "rows": len(ins),
			"created": ch.Created, "updated": ch.Updated, "unchanged": ch.Unchanged,
		})
	})
	if err != nil {
		return errs.Wrap(err, "write schools")
	}
	im.created, im.updated, im.unchanged = ch.Created, ch.Updated, ch.Unchanged
	im.tick(true)
	return nil
}

// ExportSchools writes the schools in the principal's scope, in the layout
// ImportSchools reads: importing the export changes nothing.
func ExportSchools(ctx context.Context, reg *registry.Registry, p auth.Principal, format Format, w io.Writer) error {
	if _, err := ParseFormat(string(format)); err != nil {
		return err
	}
	sw, err := newSheetWriter(format, w, string(Schools), schoolColumns)
	if err != nil {
		return err
	}
	pg := registry.Page{Limit: registry.MaxLimit}
	for {
		list, err := reg.ListSchools(ctx, p, registry.SchoolFilter{}, pg)
		if err != nil {
			sw.abort()
			return err
		}
		for _, s := range list.Items {
			var lat, lon any
			if s.Lat != nil && s.Lon != nil {
				lat, lon = *s.Lat, *s.Lon
			}
			if err := sw.row(s.Code, s.BIN, s.ParentBIN, s.NameKK, s.NameRU, s.RegionCode, s.DistrictCode, s.Address,
				lat, lon, formatBool(s.Urban), formatBool(s.RegionalCentre), formatShifts(s.Shifts), s.Headcount); err != nil {
				sw.abort()
				return fmt.Errorf("export schools: %w", err)
			}
		}
		if list.NextCursor == "" {
			break
		}
		pg.Cursor = list.NextCursor
	}
	return sw.close()
}
