package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/kztime"
	"qorgan/internal/registry"
	"qorgan/internal/roadmap"
)

// The education department's and the ministry's pages: the schools in
// scope with search, filters and paging, a school's card, and the
// providers and police units. Each calls the registry functions behind the
// API's routes (schools.go, providers.go), in the same scope; a school
// outside it is not found.

// schoolsPage is how many schools one page of the list shows.
const schoolsPage = 50

// deviceKinds are the kinds of device a school's card counts, in the order
// it shows them.
var deviceKinds = []registry.DeviceKind{registry.PanicButton, registry.AlarmPanel, registry.Turnstile, registry.Camera, registry.MetalDetector, registry.PublicAddress}

type schoolsData struct {
	Schools   []registry.School
	Q         string // name or BIN: not personal data, so it may sit in the address
	Region    string
	District  string
	UTO       string
	Regions   []registry.Region   // for the nation: the region filter
	Districts []registry.District // of the region in scope or chosen
	Places    map[string]string   // region or district code → its name in the page's language
	Next      string              // the next page's address, empty at the end
	First     bool                // this is the first page
	Errors    map[string]string
	New       *newSchoolForm // nil when the role may not create schools
	Notice    string
}

// place names a region or district in lang.
func placeName(lang, kk, ru, en string) string {
	switch lang {
	case "kk":
		return kk
	case "en":
		return en
	}
	return ru
}

// regionSchools lists the schools in scope, 50 at a time.
func (s *Server) regionSchools(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view) error {
	return s.showSchools(w, r, sess, v, http.StatusOK, nil)
}

// showSchools renders the list; nf is the new-school form as it was sent
// (nil: an empty one, for a role that may create schools).
func (s *Server) showSchools(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view, status int, nf *newSchoolForm) error {
	p := sess.Principal
	if err := p.Require(auth.ReadRegistry); err != nil {
		return err
	}
	ctx := r.Context()
	q := r.URL.Query()
	d := schoolsData{Q: q.Get("q"), Region: q.Get("region"), District: q.Get("district"), UTO: q.Get("uto"), Errors: map[string]string{}, Places: map[string]string{},
		First: q.Get("cursor") == ""}
	f := registry.SchoolFilter{Search: d.Q, District: d.District}
	if utf8.RuneCountInString(d.Q) > 100 {
		d.Errors["q"] = "ui.region.err.q"
	}
	switch d.UTO {
	case "":
	case "true", "false":
		b := d.UTO == "true"
		f.UTO = &b
	default:
		d.Errors["uto"] = "ui.region.err.uto"
	}
	regions, err := s.Registry.ListRegions(ctx)
	if err != nil {
		return errs.Wrap(err, "regions")
	}
	for _, g := range regions {
		d.Places[g.Code] = placeName(v.Lang, g.NameKK, g.NameRU, g.NameEN)
	}
	// The region whose districts the filter offers: the person's own, or
	// the one they chose when their scope is wider.
	region := ""
	switch p.Scope.Kind {
	case auth.ScopeRegion:
		region = p.Scope.Ref
	case auth.ScopeNation, auth.ScopeInstallation:
		d.Regions = regions
		region, f.Region = d.Region, d.Region
	}
	if region != "" {
		ds, err := s.Registry.ListDistricts(ctx, region)
		if err != nil {
			return errs.Wrap(err, "districts")
		}
		d.Districts = ds
	}
	for _, x := range d.Districts {
		d.Places[x.Code] = placeName(v.Lang, x.NameKK, x.NameRU, x.NameEN)
	}
	if d.District != "" && d.Places[d.District] == "" {
		d.Errors["district"] = "ui.region.err.district"
	}
	if p.Can(auth.WriteSchools) {
		if nf == nil {
			nf = &newSchoolForm{Form: map[string]string{}, Errors: map[string]string{}}
		}
		if nf.Regions, err = s.schoolFormRegions(r, p, regions); err != nil {
			return err
		}
		d.New = nf
		if len(nf.Errors) > 0 {
			d.Notice = "ui.region.err.school_form"
		}
	}
	if len(d.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	}
	if len(d.Errors) == 0 {
		list, err := s.Registry.ListSchools(ctx, p, f, registry.Page{Cursor: q.Get("cursor"), Limit: schoolsPage})
		if errs.CodeOf(err) == errs.Invalid {
			return errs.NotFoundf("no such page of schools") // a cursor this server did not give
		}
		if err != nil {
			return err
		}
		d.Schools = list.Items
		if list.NextCursor != "" {
			nq := url.Values{}
			for k, x := range map[string]string{"q": d.Q, "region": d.Region, "district": d.District, "uto": d.UTO} {
				if x != "" {
					nq.Set(k, x)
				}
			}
			nq.Set("cursor", list.NextCursor)
			d.Next = "/schools?" + nq.Encode()
		}
	}
	return s.renderPage(w, status, "region_schools", v, "ui.region.schools.title", d)
}

type schoolCardData struct {
	School     registry.School
	Region     string
	District   string
	Devices    []registry.Device
	Kinds      []registry.DeviceKind
	Count      map[registry.DeviceKind]int
	Contracts  []contractRow
	Police     *registry.PoliceUnit
	Compliance roadmap.Compliance
	// The new-contract form, for a role that may write contracts.
	CanContract bool
	Providers   []registry.Provider
	formState   // the new-contract form
}

type contractRow struct {
	registry.Contract
	Provider *registry.Provider
	InForce  bool
}

// regionSchool is a school's card: where it is, its people and shifts, its
// devices, its guard contracts, its police unit and its compliance.
func (s *Server) regionSchool(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view) error {
	d := schoolCardData{formState: blankForm("")}
	switch r.URL.Query().Get("done") {
	case "contract":
		d.Notice = "ui.region.done.contract"
	case "school":
		d.Notice = "ui.region.done.school"
	}
	return s.showSchool(w, r, sess, v, http.StatusOK, d)
}

// contractFields are the new-contract form's fields.
var contractFields = []string{"provider_id", "starts_on", "ends_on"}

// regionCreateContract records a guard contract for the school from its
// card (the API's POST /api/v1/contracts).
func (s *Server) regionCreateContract(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f := r.PostForm
	d := schoolCardData{formState: typed(f, contractFields...)}
	pid, perr := strconv.ParseInt(strings.TrimSpace(f.Get("provider_id")), 10, 64)
	if perr != nil || pid <= 0 {
		d.Errors["provider_id"] = "ui.region.err.provider_id"
		return s.showSchool(w, r, sess, v, http.StatusUnprocessableEntity, d)
	}
	_, err = s.Registry.CreateContract(r.Context(), sess.Principal, registry.Contract{ProviderID: pid, SchoolID: id, StartsOn: f.Get("starts_on"), EndsOn: f.Get("ends_on")})
	if err == nil {
		http.Redirect(w, r, "/schools/"+strconv.FormatInt(id, 10)+"?done=contract", http.StatusSeeOther)
		return nil
	}
	status, ok := d.refused(err, contractFields...)
	if !ok {
		return err
	}
	return s.showSchool(w, r, sess, v, status, d)
}

func (s *Server) showSchool(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view, status int, d schoolCardData) error {
	p := sess.Principal
	id, sc, err := s.pathSchool(r, p)
	if err != nil {
		return err
	}
	ctx := r.Context()
	d.School, d.Kinds, d.Count = sc, deviceKinds, map[registry.DeviceKind]int{}
	if d.Devices, err = s.Registry.ListDevices(ctx, p, id); err != nil {
		return err
	}
	for _, x := range d.Devices {
		d.Count[x.Kind]++
	}
	if d.Compliance, err = s.Roadmap.Compliance(ctx, p, id); err != nil {
		return err
	}
	cs, err := s.Registry.ContractsOfSchool(ctx, p, id)
	if err != nil {
		return err
	}
	ps, err := s.Registry.ListProviders(ctx, p)
	if err != nil {
		return err
	}
	byID := map[int64]*registry.Provider{}
	for i := range ps {
		byID[ps[i].ID] = &ps[i]
	}
	d.CanContract, d.Providers = p.Can(auth.WriteProviders), ps
	today := kztime.Today(time.Now()).Format(time.DateOnly)
	for _, c := range cs {
		d.Contracts = append(d.Contracts, contractRow{Contract: c, Provider: byID[c.ProviderID], InForce: c.StartsOn <= today && (c.EndsOn == "" || c.EndsOn >= today)})
	}
	// The unit alarms of this school go to (the school is in scope, so
	// its unit may be shown).
	if u, ok, err := registry.PoliceUnitFor(ctx, s.Registry.DB.Reader(), id); err != nil {
		return errs.Wrap(err, "police unit")
	} else if ok {
		d.Police = &u
	}
	regions, err := s.Registry.ListRegions(ctx)
	if err != nil {
		return errs.Wrap(err, "regions")
	}
	for _, g := range regions {
		if g.Code == sc.RegionCode {
			d.Region = placeName(v.Lang, g.NameKK, g.NameRU, g.NameEN)
		}
	}
	if sc.DistrictCode != "" {
		ds, err := s.Registry.ListDistricts(ctx, sc.RegionCode)
		if err != nil {
			return errs.Wrap(err, "districts")
		}
		for _, x := range ds {
			if x.Code == sc.DistrictCode {
				d.District = placeName(v.Lang, x.NameKK, x.NameRU, x.NameEN)
			}
		}
	}
	// A school's name is not personal data: the title may carry it.
	v.Title, v.TitleArg, v.Data = "ui.region.school.title", sc.NameRU, d
	if v.Lang == "kk" && sc.NameKK != "" {
		v.TitleArg = sc.NameKK
	}
	s.render(w, status, "region_school", v)
	return nil
}

type providerRow struct {
	registry.Provider
	Valid, UTOValid bool
}

type providersData struct {
	Providers []providerRow
	Today     string
	CanCreate bool  // the role may register providers (auth.WriteProviders)
	formState       // the new-provider form
	NewID     int64 // the provider just registered: its number, for a contract
}

// regionProviders lists the security providers in scope with their
// licences and whether each is valid today.
func (s *Server) regionProviders(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view) error {
	d := providersData{formState: blankForm("")}
	if r.URL.Query().Get("done") == "created" {
		d.Notice = "ui.region.done.provider"
		if n, err := strconv.ParseInt(r.URL.Query().Get("id"), 10, 64); err == nil {
			d.NewID = n
		}
	}
	return s.showProviders(w, r, sess, v, http.StatusOK, d)
}

func (s *Server) showProviders(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view, status int, d providersData) error {
	ps, err := s.Registry.ListProviders(r.Context(), sess.Principal)
	if err != nil {
		return err
	}
	now := kztime.Today(time.Now())
	d.Today = now.Format(time.DateOnly)
	for _, x := range ps {
		d.Providers = append(d.Providers, providerRow{Provider: x, Valid: x.LicenceExpires >= d.Today, UTOValid: x.MayGuardUTO(now)})
	}
	d.CanCreate = sess.Principal.Can(auth.WriteProviders)
	return s.renderPage(w, status, "region_providers", v, "ui.region.providers.title", d)
}

// formProblem turns a domain error about one field of a form into the
// status and message id the form shows beside that field; ok is false for
// an error that is no form's to show (it goes to the error page).
func formProblem(err error, fields ...string) (status int, field, id string, ok bool) {
	e := errs.As(err)
	switch e.Code {
	case errs.Invalid:
		status = http.StatusUnprocessableEntity
	case errs.Conflict:
		status = http.StatusConflict
	case errs.NotFound:
		// A reference typed into the form (a provider's number) that
		// names nothing: the form's field is wrong.
		if e.Field == "" || e.Field == "school_id" {
			return 0, "", "", false
		}
		status = http.StatusUnprocessableEntity
	case errs.Forbidden:
		if e.Field == "" {
			return 0, "", "", false
		}
		status = http.StatusForbidden
	default:
		return 0, "", "", false
	}
	for _, f := range fields {
		if f == e.Field {
			id = "ui.region.err." + f
			if e.Code == errs.Conflict {
				id += "_taken"
			} else if e.Code == errs.Forbidden {
				id = "ui.region.err.outside"
			}
			return status, f, id, true
		}
	}
	return status, "", "ui.form.invalid", true
}

// providerFields are the new-provider form's fields.
var providerFields = []string{"name", "bin", "licence_no", "licence_expires"}

// regionCreateProvider registers a security provider from the form (the
// API's POST /api/v1/providers).
func (s *Server) regionCreateProvider(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view) error {
	f := r.PostForm
	in := registry.ProviderInput{Name: f.Get("name"), BIN: f.Get("bin"), LicenceNo: f.Get("licence_no"), LicenceUTO: f.Get("licence_uto") == "on",
		LicenceExpires: f.Get("licence_expires")}
	pv, err := s.Registry.CreateProvider(r.Context(), sess.Principal, in)
	if err == nil {
		http.Redirect(w, r, "/providers?done=created&id="+strconv.FormatInt(pv.ID, 10), http.StatusSeeOther)
		return nil
	}
	d := providersData{formState: typed(f, slices.Concat(providerFields, []string{"licence_uto"})...)}
	status, ok := d.refused(err, providerFields...)
	if !ok {
		return err
	}
	return s.showProviders(w, r, sess, v, status, d)
}

type policeData struct {
	Units     []registry.PoliceUnit
	Places    map[string]string
	CanCreate bool
	Regions   []registry.Region // where a new unit may be: the person's own region, or all
	formState                   // the new-unit form
}

// regionPolice lists the police units (ЦОУ) whose jurisdiction meets the
// person's scope.
func (s *Server) regionPolice(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view) error {
	d := policeData{formState: blankForm("")}
	if r.URL.Query().Get("done") == "created" {
		d.Notice = "ui.region.done.police"
	}
	return s.showPolice(w, r, sess, v, http.StatusOK, d)
}

// policeFields are the new-unit form's fields.
var policeFields = []string{"name_kk", "name_ru", "region_code", "district_code"}

// regionCreatePolice registers a police unit from the form (the API's
// POST /api/v1/police-units): a department only in its own area.
func (s *Server) regionCreatePolice(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view) error {
	f := r.PostForm
	_, err := s.Registry.CreatePoliceUnit(r.Context(), sess.Principal, registry.PoliceUnit{NameKK: f.Get("name_kk"), NameRU: f.Get("name_ru"),
		RegionCode: f.Get("region_code"), DistrictCode: f.Get("district_code")})
	if err == nil {
		http.Redirect(w, r, "/police-units?done=created", http.StatusSeeOther)
		return nil
	}
	d := policeData{formState: typed(f, policeFields...)}
	status, ok := d.refused(err, policeFields...)
	if !ok {
		return err
	}
	return s.showPolice(w, r, sess, v, status, d)
}

func (s *Server) showPolice(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view, status int, d policeData) error {
	ctx := r.Context()
	us, err := s.Registry.ListPoliceUnits(ctx, sess.Principal)
	if err != nil {
		return err
	}
	d.Units, d.Places = us, map[string]string{}
	regions, err := s.Registry.ListRegions(ctx)
	if err != nil {
		return errs.Wrap(err, "regions")
	}
	seen := map[string]bool{}
	p := sess.Principal
	for _, g := range regions {
		d.Places[g.Code] = placeName(v.Lang, g.NameKK, g.NameRU, g.NameEN)
		if p.Scope.Kind != auth.ScopeRegion || p.Scope.Ref == g.Code {
			d.Regions = append(d.Regions, g)
		}
	}
	d.CanCreate = p.Can(auth.WriteProviders) && p.Scope.Kind != auth.ScopeDistrict
	for _, u := range us {
		if u.DistrictCode != "" && !seen[u.RegionCode] {
			seen[u.RegionCode] = true
			ds, err := s.Registry.ListDistricts(ctx, u.RegionCode)
			if err != nil {
				return errs.Wrap(err, "districts")
			}
			for _, x := range ds {
				d.Places[x.Code] = placeName(v.Lang, x.NameKK, x.NameRU, x.NameEN)
			}
		}
	}
	return s.renderPage(w, status, "region_police", v, "ui.region.police.title", d)
}
