package registry

import (
	"bytes"
	"context"
	"database/sql"
	_ "embed"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"

	"qorgan/internal/store"
)

// The 17 regions and 3 cities of republican significance, with their school
// and pupil counts (and the source of each number), and the districts of
// Turkestan region. Kept in the binary: the registry and the demo start from
// them.
var (
	//go:embed data/regions.csv
	regionsCSV []byte
	//go:embed data/districts-turkestan.csv
	districtsCSV []byte
)

// Region is a first-level unit (облыс / область) or a city of republican
// significance, identified by its KATO code.
type Region struct {
	Code    string `json:"code"`
	NameKK  string `json:"name_kk"`
	NameRU  string `json:"name_ru"`
	NameEN  string `json:"name_en"`
	Schools int    `json:"-"` // official or estimated count, for the demo
	Pupils  int    `json:"-"`
}

// District is a second-level unit inside a region.
type District struct {
	Code       string `json:"code"`
	RegionCode string `json:"region_code"`
	NameKK     string `json:"name_kk"`
	NameRU     string `json:"name_ru"`
	NameEN     string `json:"name_en"`
}

// Regions returns the embedded region list, in KATO order.
func Regions() []Region {
	return embeddedRows("regions.csv", regionsCSV, func(r []string) Region {
		schools, _ := strconv.Atoi(r[4])
		pupils, _ := strconv.Atoi(r[5])
		return Region{Code: r[0], NameKK: r[1], NameRU: r[2], NameEN: r[3], Schools: schools, Pupils: pupils}
	})
}

// Districts returns the embedded district list. Only Name RU is published in
// the source; the Kazakh name repeats it and the English one is a
// transliteration, until the official names are loaded.
func Districts() []District {
	return embeddedRows("districts csv", districtsCSV, func(r []string) District {
		return District{Code: r[0], RegionCode: r[1], NameKK: r[2], NameRU: r[2], NameEN: Transliterate(r[2])}
	})
}

// embeddedRows reads an embedded CSV file, name in a panic's message, into
// one value a data row (the header row passed over). The file is part of
// the binary: one that does not parse is a broken build, hence the panic.
func embeddedRows[T any](name string, data []byte, row func(r []string) T) []T {
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		panic(fmt.Sprintf("embedded %s: %v", name, err))
	}
	var out []T
	for _, r := range rows[1:] {
		out = append(out, row(r))
	}
	return out
}

// SeedRegions writes the embedded regions and districts (idempotently).
func SeedRegions(ctx context.Context, db *store.DB) error {
	return db.InTx(ctx, func(tx *store.Tx) error {
		for _, r := range Regions() {
			if _, err := tx.ExecContext(ctx, `INSERT INTO regions (code, name_kk, name_ru, name_en) VALUES (?, ?, ?, ?)
				ON CONFLICT (code) DO UPDATE SET name_kk = excluded.name_kk, name_ru = excluded.name_ru, name_en = excluded.name_en`,
				r.Code, r.NameKK, r.NameRU, r.NameEN); err != nil {
				return err
			}
		}
		for _, d := range Districts() {
			if _, err := tx.ExecContext(ctx, `INSERT INTO districts (code, region_code, name_kk, name_ru, name_en) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (code) DO UPDATE SET name_kk = excluded.name_kk, name_ru = excluded.name_ru, name_en = excluded.name_en`,
				d.Code, d.RegionCode, d.NameKK, d.NameRU, d.NameEN); err != nil {
				return err
			}
		}
		return nil
	})
}

// ListRegions reads the regions from the store.
func (r *Registry) ListRegions(ctx context.Context) ([]Region, error) {
	return store.Collect(ctx, r.DB.Reader(), func(rows *sql.Rows) (Region, error) {
		var g Region
		err := rows.Scan(&g.Code, &g.NameKK, &g.NameRU, &g.NameEN)
		return g, err
	}, "SELECT code, name_kk, name_ru, name_en FROM regions ORDER BY code")
}

// ListDistricts reads the districts of one region.
func (r *Registry) ListDistricts(ctx context.Context, region string) ([]District, error) {
	return store.Collect(ctx, r.DB.Reader(), scanDistrict, "SELECT "+districtCols+" FROM districts WHERE region_code = ? ORDER BY code", region)
}

// DistrictsByCode reads the districts of the codes given, by code; codes
// that name no district are left out.
func (r *Registry) DistrictsByCode(ctx context.Context, codes []string) (map[string]District, error) {
	return byKey(ctx, r.DB.Reader(), codes, scanDistrict, func(d District) string { return d.Code }, "SELECT "+districtCols+" FROM districts WHERE code IN ")
}

const districtCols = "code, region_code, name_kk, name_ru, name_en"

func scanDistrict(rows *sql.Rows) (District, error) {
	var d District
	err := rows.Scan(&d.Code, &d.RegionCode, &d.NameKK, &d.NameRU, &d.NameEN)
	return d, err
}

// SchoolNames reads the Kazakh and Russian names of the schools given, by
// id; ids that name no school are left out. Callers have already decided
// the reader may see those schools.
func (r *Registry) SchoolNames(ctx context.Context, ids []int64) (map[int64][2]string, error) {
	out := make(map[int64][2]string, len(ids))
	err := store.InBatches(ids, store.InList, func(ph string, args []any) error {
		return store.Each(ctx, r.DB.Reader(), func(rows *sql.Rows) error {
			var id int64
			var kk, ru string
			err := rows.Scan(&id, &kk, &ru)
			out[id] = [2]string{kk, ru}
			return err
		}, "SELECT id, name_kk, name_ru FROM schools WHERE id IN ("+ph+")", args...)
	})
	return out, err
}

var translit = map[rune]string{
	'а': "a", 'б': "b", 'в': "v", 'г': "g", 'д': "d", 'е': "e", 'ё': "yo", 'ж': "zh", 'з': "z", 'и': "i", 'й': "y",
	'к': "k", 'л': "l", 'м': "m", 'н': "n", 'о': "o", 'п': "p", 'р': "r", 'с': "s", 'т': "t", 'у': "u", 'ф': "f",
	'х': "kh", 'ц': "ts", 'ч': "ch", 'ш': "sh", 'щ': "shch", 'ъ': "", 'ы': "y", 'ь': "", 'э': "e", 'ю': "yu", 'я': "ya",
	'ә': "a", 'ғ': "g", 'қ': "q", 'ң': "n", 'ө': "o", 'ұ': "u", 'ү': "u", 'һ': "h", 'і': "i",
}

// Transliterate writes Kazakh or Russian Cyrillic in Latin letters (a plain
// reading aid for English text, not an official romanisation).
func Transliterate(s string) string {
	var b strings.Builder
	for _, c := range s {
		lc := []rune(strings.ToLower(string(c)))[0]
		t, ok := translit[lc]
		if !ok {
			b.WriteRune(c)
			continue
		}
		if lc != c && t != "" {
			t = strings.ToUpper(t[:1]) + t[1:]
		}
		b.WriteString(t)
	}
	return b.String()
}
