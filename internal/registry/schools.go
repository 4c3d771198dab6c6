package registry

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/store"
)

// Shift is one teaching shift of a school day, in local time "HH:MM".
type Shift struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// School is an education organisation and the object Qorgan protects.
type School struct {
	ID             int64    `json:"id"`
	Code           string   `json:"code"`
	BIN            string   `json:"bin,omitempty"`
	ParentBIN      string   `json:"parent_bin,omitempty"`
	NameKK         string   `json:"name_kk"`
	NameRU         string   `json:"name_ru"`
	RegionCode     string   `json:"region_code"`
	DistrictCode   string   `json:"district_code,omitempty"`
	Address        string   `json:"address"`
	Lat            *float64 `json:"lat,omitempty"`
	Lon            *float64 `json:"lon,omitempty"`
	Urban          bool     `json:"urban"`
	RegionalCentre bool     `json:"regional_centre"`
	Shifts         []Shift  `json:"shifts"`
	Headcount      int      `json:"headcount"`
	// UTO: an object vulnerable to terrorism (УТО), every education object
	// with 100 or more people (Decree 305 as amended in 2021).
	UTO bool `json:"uto"`
}

// UTOThreshold is the headcount from which a school is an УТО object.
const UTOThreshold = 100

// SchoolInput is what a person or a file gives to create or change a school.
type SchoolInput struct {
	Code           string   `json:"code"`
	BIN            string   `json:"bin,omitempty"`
	ParentBIN      string   `json:"parent_bin,omitempty"`
	NameKK         string   `json:"name_kk"`
	NameRU         string   `json:"name_ru"`
	RegionCode     string   `json:"region_code"`
	DistrictCode   string   `json:"district_code,omitempty"`
	Address        string   `json:"address,omitempty" text:"lines"` // may run over lines
	Lat            *float64 `json:"lat,omitempty"`
	Lon            *float64 `json:"lon,omitempty"`
	Urban          bool     `json:"urban"`
	RegionalCentre bool     `json:"regional_centre"`
	Shifts         []Shift  `json:"shifts,omitempty"`
	Headcount      int      `json:"headcount"`
}

var (
	codeRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$`)
	hhmmRE = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)
)

// Places is what school validation checks region and district codes against.
type Places struct {
	Regions   map[string]bool
	Districts map[string]string // district → region
}

// LoadPlaces reads the known regions and districts.
func (r *Registry) LoadPlaces(ctx context.Context) (Places, error) {
	pl := Places{Regions: map[string]bool{}, Districts: map[string]string{}}
	q := r.DB.Reader()
	err := store.Each(ctx, q, func(rows *sql.Rows) error {
		var c string
		err := rows.Scan(&c)
		pl.Regions[c] = true
		return err
	}, "SELECT code FROM regions")
	if err != nil {
		return pl, err
	}
	err = store.Each(ctx, q, func(rows *sql.Rows) error {
		var c, rc string
		err := rows.Scan(&c, &rc)
		pl.Districts[c] = rc
		return err
	}, "SELECT code, region_code FROM districts")
	return pl, err
}

// Normalize trims the input's text fields.
func (in *SchoolInput) Normalize() {
	for _, s := range []*string{&in.Code, &in.BIN, &in.ParentBIN, &in.NameKK, &in.NameRU, &in.RegionCode, &in.DistrictCode, &in.Address} {
		*s = strings.TrimSpace(*s)
	}
}

// Validate returns every problem with the input, each naming its field.
func (in SchoolInput) Validate(pl Places) []*errs.Error {
	var out []*errs.Error
	bad := func(field, f string, a ...any) { out = append(out, errs.Invalidf(field, f, a...)) }
	if !codeRE.MatchString(in.Code) {
		bad("code", "code must be 1–40 letters, digits, '.', '-' or '_', starting with a letter or digit; got %q", in.Code)
	}
	if in.BIN != "" {
		if err := ValidateBIN("bin", in.BIN); err != nil {
			out = append(out, errs.As(err))
		}
	}
	if in.ParentBIN != "" {
		if err := ValidateBIN("parent_bin", in.ParentBIN); err != nil {
			out = append(out, errs.As(err))
		}
		if in.ParentBIN == in.BIN {
			bad("parent_bin", "parent_bin repeats the school's own BIN")
		}
	}
	checkName := func(field, v string) {
		if v == "" {
			bad(field, "%s is required", field)
		} else if utf8.RuneCountInString(v) > 300 {
			bad(field, "%s must be at most 300 characters", field)
		}
	}
	checkName("name_kk", in.NameKK)
	checkName("name_ru", in.NameRU)
	if !pl.Regions[in.RegionCode] {
		bad("region_code", "unknown region %q (a 9-digit KATO code of a region, e.g. 610000000)", in.RegionCode)
	}
	if in.DistrictCode != "" {
		rc, ok := pl.Districts[in.DistrictCode]
		switch {
		case !ok:
			bad("district_code", "unknown district %q", in.DistrictCode)
		case rc != in.RegionCode:
			bad("district_code", "district %s is not in region %s", in.DistrictCode, in.RegionCode)
		}
	}
	if utf8.RuneCountInString(in.Address) > 500 {
		bad("address", "address must be at most 500 characters")
	}
	if (in.Lat == nil) != (in.Lon == nil) {
		bad("lat", "lat and lon go together")
	}
	// Kazakhstan lies within about 40.5–55.5°N, 46.5–87.5°E.
	if in.Lat != nil && (*in.Lat < 40.5 || *in.Lat > 55.5) {
		bad("lat", "lat %.5f is outside Kazakhstan (40.5–55.5)", *in.Lat)
	}
	if in.Lon != nil && (*in.Lon < 46.5 || *in.Lon > 87.5) {
		bad("lon", "lon %.5f is outside Kazakhstan (46.5–87.5)", *in.Lon)
	}
	for i, s := range in.Shifts {
		f := fmt.Sprintf("shifts/%d", i)
		if !hhmmRE.MatchString(s.Start) || !hhmmRE.MatchString(s.End) {
			bad(f, "shift times must be HH:MM, got %q–%q", s.Start, s.End)
		} else if s.Start >= s.End {
			bad(f, "shift must end after it starts, got %s–%s", s.Start, s.End)
		}
	}
	if in.Headcount < 0 || in.Headcount > 20000 {
		bad("headcount", "headcount must be between 0 and 20000, got %d", in.Headcount)
	}
	return out
}

const schoolCols = "s.id, s.code, COALESCE(s.bin, ''), COALESCE(s.parent_bin, ''), s.name_kk, s.name_ru, s.region_code, COALESCE(s.district_code, ''), s.address, s.lat, s.lon, s.urban, s.regional_centre, s.shifts, s.headcount"

func scanSchool(sc interface{ Scan(...any) error }) (School, error) {
	var s School
	var lat, lon sql.NullFloat64
	var shifts string
	err := sc.Scan(&s.ID, &s.Code, &s.BIN, &s.ParentBIN, &s.NameKK, &s.NameRU, &s.RegionCode, &s.DistrictCode, &s.Address, &lat, &lon, &s.Urban, &s.RegionalCentre, &shifts, &s.Headcount)
	if err != nil {
		return s, err
	}
	if lat.Valid {
		s.Lat, s.Lon = &lat.Float64, &lon.Float64
	}
	s.Shifts = []Shift{}
	json.Unmarshal([]byte(shifts), &s.Shifts)
	s.UTO = s.Headcount >= UTOThreshold
	return s, nil
}

func scanSchoolRow(rows *sql.Rows) (School, error) { return scanSchool(rows) }

// SchoolFilter narrows a school list.
type SchoolFilter struct {
	Region   string
	District string
	UTO      *bool
	// Search finds schools whose Kazakh or Russian name contains it (as
	// typed, or with its first letter a capital) or whose BIN starts with
	// it.
	Search string
}

// searchCond is the SQL condition, with its arguments, of f.Search over
// schools aliased s.
func (f SchoolFilter) searchCond() (string, []any) {
	t := strings.TrimSpace(f.Search)
	esc := strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`)
	like := "%" + esc.Replace(t) + "%"
	title := like
	if r, n := utf8.DecodeRuneInString(t); r != utf8.RuneError {
		title = "%" + esc.Replace(string(unicode.ToUpper(r))+t[n:]) + "%"
	}
	return `(s.name_ru LIKE ? ESCAPE '\' OR s.name_kk LIKE ? ESCAPE '\' OR s.name_ru LIKE ? ESCAPE '\' OR s.name_kk LIKE ? ESCAPE '\' OR s.bin LIKE ? ESCAPE '\')`,
		[]any{like, like, title, title, esc.Replace(t) + "%"}
}

// ListSchools lists the schools in the caller's scope, by id.
func (r *Registry) ListSchools(ctx context.Context, p auth.Principal, f SchoolFilter, pg Page) (List[School], error) {
	if err := p.Require(auth.ReadRegistry); err != nil {
		return List[School]{}, err
	}
	after, limit, err := pg.after()
	if err != nil {
		return List[School]{}, err
	}
	scope, args := SchoolScope(p, "s", r.today())
	q := "SELECT " + schoolCols + " FROM schools s WHERE " + scope + " AND s.id > ?"
	args = append(args, after)
	if f.Region != "" {
		q += " AND s.region_code = ?"
		args = append(args, f.Region)
	}
	if f.District != "" {
		q += " AND s.district_code = ?"
		args = append(args, f.District)
	}
	if f.UTO != nil {
		if *f.UTO {
			q += " AND s.headcount >= ?"
		} else {
			q += " AND s.headcount < ?"
		}
		args = append(args, UTOThreshold)
	}
	if strings.TrimSpace(f.Search) != "" {
		c, a := f.searchCond()
		q += " AND " + c
		args = append(args, a...)
	}
	q += " ORDER BY s.id LIMIT ?"
	args = append(args, limit+1)
	out, err := store.Collect(ctx, r.DB.Reader(), scanSchoolRow, q, args...)
	if err != nil {
		return List[School]{}, errs.Wrap(err, "list schools")
	}
	return page(out, limit, func(s School) int64 { return s.ID }), nil
}

// School returns one school in the caller's scope; outside it, NotFound.
func (r *Registry) School(ctx context.Context, p auth.Principal, id int64) (School, error) {
	return r.SchoolFor(ctx, p, id, auth.ReadRegistry)
}

// SchoolFor returns a school for something the caller does there (perm):
// NotFound outside the caller's scope, Forbidden inside it for a role
// without perm (auth.Principal.InScope).
func (r *Registry) SchoolFor(ctx context.Context, p auth.Principal, id int64, perm auth.Permission) (School, error) {
	if err := AtSchool(ctx, r.DB.Reader(), p, r.today(), id, perm); err != nil {
		return School{}, err
	}
	return r.schoolInScope(ctx, r.DB.Reader(), auth.System, id)
}

func (r *Registry) schoolInScope(ctx context.Context, q store.Querier, p auth.Principal, id int64) (School, error) {
	scope, args := SchoolScope(p, "s", r.today())
	s, err := scanSchool(q.QueryRowContext(ctx, "SELECT "+schoolCols+" FROM schools s WHERE s.id = ? AND "+scope, append([]any{id}, args...)...))
	if errors.Is(err, sql.ErrNoRows) {
		return School{}, errs.NotFoundf("no school %d", id)
	}
	if err != nil {
		return School{}, errs.Wrap(err, "read school")
	}
	return s, nil
}

// mayWriteSchool reports whether an education department (or admin) may
// write a school in this region/district.
func mayWriteSchool(p auth.Principal, in SchoolInput) bool {
	switch p.Scope.Kind {
	case auth.ScopeInstallation:
		return true
	case auth.ScopeRegion:
		return p.Scope.Ref == in.RegionCode
	case auth.ScopeDistrict:
		return p.Scope.Ref == in.DistrictCode
	}
	return false
}

// SchoolChange counts what a write did.
type SchoolChange struct {
	Created, Updated, Unchanged int
}

// CreateSchool adds one school; a code already in use is a Conflict.
func (r *Registry) CreateSchool(ctx context.Context, p auth.Principal, in SchoolInput) (School, error) {
	if err := p.Require(auth.WriteSchools); err != nil {
		return School{}, err
	}
	in.Normalize()
	pl, err := r.LoadPlaces(ctx)
	if err != nil {
		return School{}, errs.Wrap(err, "load places")
	}
	if err := errs.Of(in.Validate(pl)); err != nil {
		return School{}, err
	}
	if !mayWriteSchool(p, in) {
		return School{}, errs.E(errs.Forbidden, "region_code", "this school is outside your region or district")
	}
	var id int64
	err = r.DB.InTx(ctx, func(tx *store.Tx) error {
		var exists int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM schools WHERE code = ?", in.Code).Scan(&exists); err != nil {
			return err
		}
		if exists > 0 {
			return errs.E(errs.Conflict, "code", "a school with code %q exists already", in.Code)
		}
		var err error
		id, err = insertSchool(ctx, tx, r.Now(), in)
		if err != nil {
			return err
		}
		return auth.Append(ctx, tx, r.Now(), p, "school.create", fmt.Sprintf("school/%d", id), in)
	})
	if err != nil {
		return School{}, err
	}
	return r.schoolInScope(ctx, r.DB.Reader(), auth.System, id)
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func shiftsJSON(s []Shift) string {
	if s == nil {
		s = []Shift{}
	}
	b, _ := json.Marshal(s)
	return string(b)
}

func insertSchool(ctx context.Context, tx *store.Tx, now time.Time, in SchoolInput) (int64, error) {
	var id int64
	t := now.UnixMicro()
	err := tx.QueryRowContext(ctx, `INSERT INTO schools (code, bin, parent_bin, name_kk, name_ru, region_code, district_code, address, lat, lon, urban, regional_centre, shifts, headcount, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		in.Code, nullStr(in.BIN), nullStr(in.ParentBIN), in.NameKK, in.NameRU, in.RegionCode, nullStr(in.DistrictCode), in.Address, in.Lat, in.Lon,
		in.Urban, in.RegionalCentre, shiftsJSON(in.Shifts), in.Headcount, t, t).Scan(&id)
	if store.IsUniqueViolation(err) {
		if strings.Contains(err.Error(), "bin") {
			return 0, errs.E(errs.Conflict, "bin", "another school has BIN %s", in.BIN)
		}
		return 0, errs.E(errs.Conflict, "code", "a school with code %q exists already", in.Code)
	}
	return id, err
}

// sameSchool reports whether the stored school already equals the input.
func sameSchool(s School, in SchoolInput) bool {
	eqF := func(a, b *float64) bool { return (a == nil && b == nil) || (a != nil && b != nil && *a == *b) }
	if in.Shifts == nil {
		in.Shifts = []Shift{}
	}
	return s.BIN == in.BIN && s.ParentBIN == in.ParentBIN && s.NameKK == in.NameKK && s.NameRU == in.NameRU &&
		s.RegionCode == in.RegionCode && s.DistrictCode == in.DistrictCode && s.Address == in.Address &&
		eqF(s.Lat, in.Lat) && eqF(s.Lon, in.Lon) && s.Urban == in.Urban && s.RegionalCentre == in.RegionalCentre &&
		shiftsJSON(s.Shifts) == shiftsJSON(in.Shifts) && s.Headcount == in.Headcount
}

// UpsertSchools writes validated inputs in tx, keyed by code: new codes are
// inserted, changed schools updated, identical ones left alone.
func UpsertSchools(ctx context.Context, tx *store.Tx, now time.Time, ins []SchoolInput) (SchoolChange, error) {
	var ch SchoolChange
	codes := make([]string, len(ins))
	for i, in := range ins {
		codes[i] = in.Code
	}
	existing, err := byKey(ctx, tx, codes, scanSchoolRow, func(s School) string { return s.Code }, "SELECT "+schoolCols+" FROM schools s WHERE s.code IN ")
	if err != nil {
		return ch, err
	}
	for _, in := range ins {
		old, ok := existing[in.Code]
		switch {
		case !ok:
			if _, err := insertSchool(ctx, tx, now, in); err != nil {
				return ch, err
			}
			ch.Created++
		case sameSchool(old, in):
			ch.Unchanged++
		default:
			_, err := tx.ExecContext(ctx, `UPDATE schools SET bin = ?, parent_bin = ?, name_kk = ?, name_ru = ?, region_code = ?, district_code = ?, address = ?,
				lat = ?, lon = ?, urban = ?, regional_centre = ?, shifts = ?, headcount = ?, updated_at = ? WHERE id = ?`,
				nullStr(in.BIN), nullStr(in.ParentBIN), in.NameKK, in.NameRU, in.RegionCode, nullStr(in.DistrictCode), in.Address, in.Lat, in.Lon,
				in.Urban, in.RegionalCentre, shiftsJSON(in.Shifts), in.Headcount, now.UnixMicro(), old.ID)
			if store.IsUniqueViolation(err) {
				return ch, errs.E(errs.Conflict, "bin", "another school has BIN %s", in.BIN)
			}
			if err != nil {
				return ch, err
			}
			ch.Updated++
		}
	}
	return ch, nil
}
