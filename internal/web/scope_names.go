package web

import (
	"context"
	"strconv"

	"qorgan/internal/auth"
	"qorgan/internal/registry"
)

// scopeNames names the places and organisations the users' scopes point
// at — a region, a district, a school, a ПЦН, a ЦОУ — in the page's
// language, keyed by scopeKey. A scope it cannot name (a guardian, or one
// whose place is gone) is left out, and the page shows its kind and number.
func (s *Server) scopeNames(ctx context.Context, p auth.Principal, lang string, users []auth.User) (map[string]string, error) {
	var schools []int64
	var districts []string
	want := map[auth.ScopeKind]bool{}
	for _, u := range users {
		want[u.Scope.Kind] = true
		switch u.Scope.Kind {
		case auth.ScopeSchool:
			if id, err := strconv.ParseInt(u.Scope.Ref, 10, 64); err == nil {
				schools = append(schools, id)
			}
		case auth.ScopeDistrict:
			districts = append(districts, u.Scope.Ref)
		}
	}
	names := map[string]string{}
	if want[auth.ScopeRegion] {
		for _, r := range registry.Regions() {
			names[scopeKey(auth.ScopeRegion, r.Code)] = placeName(lang, r.NameKK, r.NameRU, r.NameEN)
		}
	}
	if len(districts) > 0 {
		ds, err := s.Registry.DistrictsByCode(ctx, districts)
		if err != nil {
			return nil, err
		}
		for code, d := range ds {
			names[scopeKey(auth.ScopeDistrict, code)] = placeName(lang, d.NameKK, d.NameRU, d.NameEN)
		}
	}
	if len(schools) > 0 {
		ss, err := s.Registry.SchoolNames(ctx, schools)
		if err != nil {
			return nil, err
		}
		for id, n := range ss {
			names[scopeKey(auth.ScopeSchool, strconv.FormatInt(id, 10))] = placeName(lang, n[0], n[1], n[1])
		}
	}
	if want[auth.ScopeProvider] {
		ps, err := s.Registry.ListProviders(ctx, p)
		if err != nil {
			return nil, err
		}
		for _, x := range ps {
			names[scopeKey(auth.ScopeProvider, strconv.FormatInt(x.ID, 10))] = x.Name
		}
	}
	if want[auth.ScopePoliceUnit] {
		us, err := s.Registry.ListPoliceUnits(ctx, p)
		if err != nil {
			return nil, err
		}
		for _, x := range us {
			names[scopeKey(auth.ScopePoliceUnit, strconv.FormatInt(x.ID, 10))] = placeName(lang, x.NameKK, x.NameRU, x.NameRU)
		}
	}
	return names, nil
}

// scopeKey is a scope's key in scopeNames' map.
func scopeKey(kind auth.ScopeKind, ref string) string { return string(kind) + "/" + ref }
