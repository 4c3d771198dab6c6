package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/registry"
)

// The new-school form of the schools page, for the roles that may write
// schools (auth.WriteSchools): the same registry.CreateSchool as the API's
// POST /api/v1/schools, every bad field beside itself at once.

// schoolFormFields are the new-school form's fields (the form's ids are
// these with "ns_" before them: the filter form above has its own).
var schoolFormFields = []string{"code", "bin", "name_kk", "name_ru", "region_code", "district_code", "address", "lat", "lon", "headcount", "shifts"}

// newSchoolForm is the form's state on the schools page.
type newSchoolForm struct {
	Form    map[string]string
	Errors  map[string]string
	Regions []registry.Region // where this person may create a school
}

var shiftRE = regexp.MustCompile(`^\s*(\d{1,2}:\d{2})\s*[-–—]\s*(\d{1,2}:\d{2})\s*$`)

// parseShifts reads "08:00–13:30; 14:00–19:00".
func parseShifts(s string) ([]registry.Shift, bool) {
	var out []registry.Shift
	for _, part := range strings.Split(s, ";") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		m := shiftRE.FindStringSubmatch(part)
		if m == nil {
			return nil, false
		}
		pad := func(t string) string {
			if len(t) == 4 {
				return "0" + t
			}
			return t
		}
		out = append(out, registry.Shift{Start: pad(m[1]), End: pad(m[2])})
	}
	return out, true
}

// regionCreateSchool creates a school from the form.
func (s *Server) regionCreateSchool(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view) error {
	if err := sess.Principal.Require(auth.WriteSchools); err != nil {
		return err
	}
	f := r.PostForm
	nf := &newSchoolForm{Form: map[string]string{}, Errors: map[string]string{}}
	for _, k := range append(schoolFormFields, "urban", "regional_centre") {
		nf.Form[k] = f.Get(k)
	}
	in := registry.SchoolInput{Code: f.Get("code"), BIN: f.Get("bin"), NameKK: f.Get("name_kk"), NameRU: f.Get("name_ru"), RegionCode: f.Get("region_code"),
		DistrictCode: f.Get("district_code"), Address: f.Get("address"), Urban: f.Get("urban") == "on", RegionalCentre: f.Get("regional_centre") == "on"}
	for _, c := range []struct {
		field string
		to    **float64
	}{{"lat", &in.Lat}, {"lon", &in.Lon}} {
		if t := strings.TrimSpace(strings.ReplaceAll(f.Get(c.field), ",", ".")); t != "" {
			x, err := strconv.ParseFloat(t, 64)
			if err != nil {
				nf.Errors[c.field] = "ui.region.err.school_" + c.field
				continue
			}
			*c.to = &x
		}
	}
	if t := strings.TrimSpace(f.Get("headcount")); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil {
			nf.Errors["headcount"] = "ui.region.err.school_headcount"
		}
		in.Headcount = n
	}
	if sh, ok := parseShifts(f.Get("shifts")); ok {
		in.Shifts = sh
	} else {
		nf.Errors["shifts"] = "ui.region.err.school_shifts"
	}
	// The domain's own checks, all at once, beside those of the form.
	in.Normalize()
	pl, err := s.Registry.LoadPlaces(r.Context())
	if err != nil {
		return errs.Wrap(err, "places")
	}
	for _, e := range in.Validate(pl) {
		field := e.Field
		if strings.HasPrefix(field, "shifts/") {
			field = "shifts"
		}
		if _, seen := nf.Errors[field]; !seen {
			nf.Errors[field] = "ui.region.err.school_" + field
		}
	}
	status := http.StatusUnprocessableEntity
	if len(nf.Errors) == 0 {
		sc, err := s.Registry.CreateSchool(r.Context(), sess.Principal, in)
		if err == nil {
			http.Redirect(w, r, "/schools/"+strconv.FormatInt(sc.ID, 10)+"?done=school", http.StatusSeeOther)
			return nil
		}
		e := errs.As(err)
		switch {
		case e.Code == errs.Conflict && e.Field == "code":
			status, nf.Errors["code"] = http.StatusConflict, "ui.region.err.school_code_taken"
		case e.Code == errs.Forbidden && e.Field != "":
			status, nf.Errors["region_code"] = http.StatusForbidden, "ui.region.err.outside"
		default:
			return err
		}
	}
	r.URL.RawQuery = url.Values{}.Encode()
	return s.showSchools(w, r, sess, v, status, nf)
}

// schoolFormRegions are the regions a person may create a school in.
func (s *Server) schoolFormRegions(r *http.Request, p auth.Principal, regions []registry.Region) ([]registry.Region, error) {
	switch p.Scope.Kind {
	case auth.ScopeInstallation, auth.ScopeNation:
		return regions, nil
	case auth.ScopeRegion, auth.ScopeDistrict:
		want := p.Scope.Ref
		if p.Scope.Kind == auth.ScopeDistrict {
			pl, err := s.Registry.LoadPlaces(r.Context())
			if err != nil {
				return nil, errs.Wrap(err, "places")
			}
			want = pl.Districts[p.Scope.Ref]
		}
		for _, g := range regions {
			if g.Code == want {
				return []registry.Region{g}, nil
			}
		}
	}
	return nil, nil
}
