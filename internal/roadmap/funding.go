package roadmap

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/kztime"
	"qorgan/internal/registry"
	"qorgan/internal/store"
)

// Purpose is what money is for.
type Purpose string

// Purposes money is allocated and spent for. General is an amount not
// broken down by item, as the 2021 letter gives each region's total.
var Purposes = []Purpose{"video_standard", "cou", "turnstiles", "panic", "guard", "general"}

func validPurpose(p Purpose) bool {
	return slices.Contains(Purposes, p)
}

// Allocation is money a region allocated in a year for a purpose, in tiyn
// (1 ₸ = 100 tiyn): money is never a float.
type Allocation struct {
	ID         int64   `json:"id"`
	RegionCode string  `json:"region_code"`
	Year       int     `json:"year"`
	Purpose    Purpose `json:"purpose"`
	AmountTiyn int64   `json:"amount_tiyn"`
	Source     string  `json:"source,omitempty"`
}

// Spending is money spent at a school in a year for a purpose, in tiyn.
type Spending struct {
	ID         int64   `json:"id"`
	SchoolID   int64   `json:"school_id"`
	Year       int     `json:"year"`
	Purpose    Purpose `json:"purpose"`
	AmountTiyn int64   `json:"amount_tiyn"`
	Note       string  `json:"note,omitempty"`
}

// allocations2021 are the regions' 2021 allocations from the letter
// (ДЗ-237), million tenge written out in tiyn.
var allocations2021 = []struct {
	region string
	tiyn   int64
}{
	{"590000000", 6_590_000_000},  // North Kazakhstan 65.9
	{"430000000", 25_200_000_000}, // Kyzylorda 252
	{"470000000", 8_500_000_000},  // Mangystau 85
	{"550000000", 6_588_000_000},  // Pavlodar 65.88
	{"310000000", 17_000_000_000}, // Zhambyl 170
	{"190000000", 61_832_800_000}, // Almaty region 618.328 (before Zhetysu was split off in 2022)
	{"230000000", 8_800_000_000},  // Atyrau 88
	{"110000000", 33_300_000_000}, // Akmola 333
	{"350000000", 51_870_000_000}, // Karaganda 518.7
	{"790000000", 54_560_000_000}, // Shymkent 545.6
	{"710000000", 60_950_000_000}, // Nur-Sultan (Astana) 609.5
}

// Allocations2021Source is the source of the seeded 2021 allocations.
const Allocations2021Source = "Minister's answer to deputies' inquiry ДЗ-237 (2021)"

func seedAllocations(ctx context.Context, tx *store.Tx, now int64) error {
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM roadmap_allocations WHERE source = ?", Allocations2021Source).Scan(&n); err != nil || n > 0 {
		return err
	}
	var regions int
	if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM regions").Scan(&regions); err != nil || regions == 0 {
		return err // the regions are seeded first; a store without them gets the allocations at the next start
	}
	for _, a := range allocations2021 {
		if _, err := tx.ExecContext(ctx, "INSERT INTO roadmap_allocations (region_code, year, purpose, amount_tiyn, source, created_at) VALUES (?, 2021, 'general', ?, ?, ?)",
			a.region, a.tiyn, Allocations2021Source, now); err != nil {
			return err
		}
	}
	return nil
}

func (r *Roadmap) validYear(y int) error {
	next := kztime.Today(r.Now()).Year() + 1
	if y < 2000 || y > next {
		return errs.Invalidf("year", "year must be 2000 to %d, got %d", next, y)
	}
	return nil
}

func validAmount(a int64) error {
	if a <= 0 {
		return errs.Invalidf("amount_tiyn", "amount_tiyn must be a positive whole number of tiyn, got %d", a)
	}
	return nil
}

func checkPurpose(p Purpose) error {
	if !validPurpose(p) {
		return errs.Invalidf("purpose", "unknown purpose %q (one of %v)", p, Purposes)
	}
	return nil
}

// Allocate records money a region allocated; a department records its
// own region's only.
func (r *Roadmap) Allocate(ctx context.Context, p auth.Principal, a Allocation) (Allocation, error) {
	if err := p.Require(auth.WriteRoadmap); err != nil {
		return a, err
	}
	a.Source = strings.TrimSpace(a.Source)
	known := false
	for _, rg := range registry.Regions() {
		known = known || rg.Code == a.RegionCode
	}
	if !known {
		return a, errs.Invalidf("region_code", "unknown region %q", a.RegionCode)
	}
	if err := r.checkMoney(a.Year, a.Purpose, a.AmountTiyn); err != nil {
		return a, err
	}
	if utf8.RuneCountInString(a.Source) > 500 {
		return a, errs.Invalidf("source", "source must be at most 500 characters")
	}
	if !covers(p, Place{Level: LevelRegion, Code: a.RegionCode}, "") {
		return a, errs.NotFoundf("no region %s", a.RegionCode)
	}
	err := r.insertAudited(ctx, p, "roadmap.allocate", "allocation", &a, &a.ID,
		"INSERT INTO roadmap_allocations (region_code, year, purpose, amount_tiyn, source, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
		a.RegionCode, a.Year, a.Purpose, a.AmountTiyn, a.Source)
	return a, err
}

// Spend records money spent at a school in the caller's scope.
func (r *Roadmap) Spend(ctx context.Context, p auth.Principal, s Spending) (Spending, error) {
	if err := registry.AtSchool(ctx, r.DB.Reader(), p, r.today(), s.SchoolID, auth.WriteRoadmap); err != nil {
		if errs.CodeOf(err) == errs.NotFound {
			return s, errs.E(errs.NotFound, "school_id", "no school %d", s.SchoolID)
		}
		return s, err
	}
	s.Note = strings.TrimSpace(s.Note)
	if err := r.checkMoney(s.Year, s.Purpose, s.AmountTiyn); err != nil {
		return s, err
	}
	if utf8.RuneCountInString(s.Note) > 500 {
		return s, errs.Invalidf("note", "note must be at most 500 characters")
	}
	err := r.insertAudited(ctx, p, "roadmap.spend", "spending", &s, &s.ID,
		"INSERT INTO roadmap_spending (school_id, year, purpose, amount_tiyn, note, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
		s.SchoolID, s.Year, s.Purpose, s.AmountTiyn, s.Note)
	return s, err
}

// checkMoney checks what an allocation and a spending both carry: the
// year, the purpose and the amount, in that order.
func (r *Roadmap) checkMoney(year int, purpose Purpose, amount int64) error {
	if err := r.validYear(year); err != nil {
		return err
	}
	if err := checkPurpose(purpose); err != nil {
		return err
	}
	return validAmount(amount)
}

// insertAudited writes one row of money and its audit entry in one
// transaction: insert runs with args and then the time now (its
// created_at) and returns the new id, which goes to *id before row is
// written to the audit trail as action on object/<id>.
func (r *Roadmap) insertAudited(ctx context.Context, p auth.Principal, action, object string, row any, id *int64, insert string, args ...any) error {
	now := r.Now()
	return r.DB.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.QueryRowContext(ctx, insert, append(args, store.Micros(now))...).Scan(id); err != nil {
			return err
		}
		return auth.Append(ctx, tx, now, p, action, fmt.Sprintf("%s/%d", object, *id), row)
	})
}

// RegionFunding is one region's money: allocated and spent by purpose, and
// what bringing a school to compliance cost.
type RegionFunding struct {
	RegionCode     string            `json:"region_code"`
	Name           string            `json:"name"`
	Allocated      map[Purpose]int64 `json:"allocated_tiyn"`
	AllocatedTotal int64             `json:"allocated_total_tiyn"`
	Spent          map[Purpose]int64 `json:"spent_tiyn"`
	SpentTotal     int64             `json:"spent_total_tiyn"`
	// SchoolsFunded had money spent on them; Compliant of them meet every
	// requirement today, at CostPerCompliant tiyn each on average (spent
	// on them ÷ their number; 0 when none).
	SchoolsFunded    int   `json:"schools_funded"`
	Compliant        int   `json:"compliant"`
	SpentOnCompliant int64 `json:"spent_on_compliant_tiyn"`
	CostPerCompliant int64 `json:"cost_per_compliant_school_tiyn"`
}

// Funding is the money of a year (0: every year) in the caller's scope.
type Funding struct {
	Year    int             `json:"year,omitempty"`
	Regions []RegionFunding `json:"regions"`
	Sources []string        `json:"sources"`
}

// Funding reports allocations of the regions the caller's scope covers and
// spending at the schools in it, with the cost per school brought to
// compliance.
func (r *Roadmap) Funding(ctx context.Context, p auth.Principal, year int) (Funding, error) {
	out := Funding{Year: year, Regions: []RegionFunding{}, Sources: []string{}}
	if err := p.Require(auth.ReadRegistry); err != nil {
		return out, err
	}
	if year != 0 {
		if err := r.validYear(year); err != nil {
			return out, err
		}
	}
	now := r.Now()
	byRegion := map[string]*RegionFunding{}
	get := func(code string) *RegionFunding {
		f := byRegion[code]
		if f == nil {
			f = &RegionFunding{RegionCode: code, Allocated: map[Purpose]int64{}, Spent: map[Purpose]int64{}}
			byRegion[code] = f
		}
		return f
	}
	yq := func(col string) (string, []any) {
		if year == 0 {
			return "1=1", nil
		}
		return col + " = ?", []any{year}
	}
	cond, args := yq("a.year")
	sources := map[string]bool{}
	err := store.Each(ctx, r.DB.Reader(), func(rows *sql.Rows) error {
		var code, src string
		var pur Purpose
		var amt int64
		if err := rows.Scan(&code, &pur, &amt, &src); err != nil {
			return err
		}
		if !covers(p, Place{Level: LevelRegion, Code: code}, "") {
			return nil
		}
		f := get(code)
		f.Allocated[pur] += amt
		f.AllocatedTotal += amt
		if src != "" {
			sources[src] = true
		}
		return nil
	}, "SELECT a.region_code, a.purpose, a.amount_tiyn, a.source FROM roadmap_allocations a WHERE "+cond, args...)
	if err != nil {
		return out, errs.Wrap(err, "allocations")
	}
	scope, sargs := registry.SchoolScope(p, "s", r.today())
	cond, args = yq("x.year")
	perSchool := map[int64]int64{}
	regionOf := map[int64]string{}
	err = store.Each(ctx, r.DB.Reader(), func(rows *sql.Rows) error {
		var id int64
		var code string
		var pur Purpose
		var amt int64
		if err := rows.Scan(&id, &code, &pur, &amt); err != nil {
			return err
		}
		f := get(code)
		f.Spent[pur] += amt
		f.SpentTotal += amt
		perSchool[id] += amt
		regionOf[id] = code
		return nil
	}, "SELECT s.id, s.region_code, x.purpose, x.amount_tiyn FROM roadmap_spending x JOIN schools s ON s.id = x.school_id WHERE "+scope+" AND "+cond,
		append(sargs, args...)...)
	if err != nil {
		return out, errs.Wrap(err, "spending")
	}
	if len(perSchool) > 0 {
		ok, err := r.compliant(ctx, "EXISTS (SELECT 1 FROM roadmap_spending x WHERE x.school_id = s.id) AND "+scope, sargs, now)
		if err != nil {
			return out, err
		}
		for id, amt := range perSchool {
			f := get(regionOf[id])
			f.SchoolsFunded++
			if ok[id] {
				f.Compliant++
				f.SpentOnCompliant += amt
			}
		}
	}
	names := map[string]string{}
	for _, rg := range registry.Regions() {
		names[rg.Code] = rg.NameRU
	}
	for _, f := range byRegion {
		f.Name = names[f.RegionCode]
		if f.Compliant > 0 {
			f.CostPerCompliant = f.SpentOnCompliant / int64(f.Compliant)
		}
		out.Regions = append(out.Regions, *f)
	}
	sort.Slice(out.Regions, func(i, j int) bool { return out.Regions[i].RegionCode < out.Regions[j].RegionCode })
	for s := range sources {
		out.Sources = append(out.Sources, s)
	}
	sort.Strings(out.Sources)
	return out, nil
}

// compliant says, for each school matching cond, whether it meets every
// requirement in force at now.
func (r *Roadmap) compliant(ctx context.Context, cond string, args []any, now time.Time) (map[int64]bool, error) {
	set, err := r.RuleSetOn(kztime.Today(now))
	if err != nil {
		return nil, err
	}
	type row struct {
		id        int64
		headcount int
		centre    bool
	}
	rows, err := store.Collect(ctx, r.DB.Reader(), func(rs *sql.Rows) (row, error) {
		var x row
		return x, rs.Scan(&x.id, &x.headcount, &x.centre)
	}, "SELECT s.id, s.headcount, s.regional_centre FROM schools s WHERE "+cond, args...)
	if err != nil {
		return nil, errs.Wrap(err, "schools")
	}
	fs, err := readFacts(ctx, r.DB.Reader(), cond, args, now)
	if err != nil {
		return nil, err
	}
	out := map[int64]bool{}
	for _, x := range rows {
		f := fs[x.id]
		if f == nil {
			f = &facts{kinds: map[registry.DeviceKind]*kindCount{}}
		}
		ok := true
		for _, it := range evaluate(set.Requirement(x.headcount, x.centre, kztime.Today(now)), f) {
			ok = ok && it.Met
		}
		out[x.id] = ok
	}
	return out, nil
}
