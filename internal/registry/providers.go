package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/store"
)

// Provider is a private security organisation with a monitoring console (ПЦН).
type Provider struct {
	ID             int64  `json:"id"`
	Name           string `json:"name"`
	BIN            string `json:"bin"`
	LicenceNo      string `json:"licence_no"`
	LicenceUTO     bool   `json:"licence_uto"` // the sub-type that covers УТО objects
	LicenceExpires string `json:"licence_expires"`
}

// MayGuardUTO reports whether the provider may guard an УТО school on a date:
// it needs the УТО licence sub-type, not expired.
func (p Provider) MayGuardUTO(on time.Time) bool {
	return p.LicenceUTO && p.LicenceExpires >= on.Format(time.DateOnly)
}

// ProviderInput registers a provider.
type ProviderInput struct {
	Name           string `json:"name"`
	BIN            string `json:"bin"`
	LicenceNo      string `json:"licence_no"`
	LicenceUTO     bool   `json:"licence_uto"`
	LicenceExpires string `json:"licence_expires"`
}

// Contract says that a provider guards a school for a period (ends_on empty:
// open-ended).
type Contract struct {
	ID         int64  `json:"id"`
	ProviderID int64  `json:"provider_id"`
	SchoolID   int64  `json:"school_id"`
	StartsOn   string `json:"starts_on"`
	EndsOn     string `json:"ends_on,omitempty"`
}

// PoliceUnit is a police Operations Control Centre (ЦОУ) and its jurisdiction:
// a region or city, or one district of it.
type PoliceUnit struct {
	ID           int64  `json:"id"`
	NameKK       string `json:"name_kk"`
	NameRU       string `json:"name_ru"`
	RegionCode   string `json:"region_code"`
	DistrictCode string `json:"district_code,omitempty"`
}

func (in *ProviderInput) validate() error {
	in.Name, in.BIN, in.LicenceNo = strings.TrimSpace(in.Name), strings.TrimSpace(in.BIN), strings.TrimSpace(in.LicenceNo)
	if in.Name == "" || utf8.RuneCountInString(in.Name) > 300 {
		return errs.Invalidf("name", "name is required, at most 300 characters")
	}
	if err := ValidateBIN("bin", in.BIN); err != nil {
		return err
	}
	if in.LicenceNo == "" || len(in.LicenceNo) > 64 {
		return errs.Invalidf("licence_no", "licence_no is required, at most 64 characters")
	}
	if !validDate(in.LicenceExpires) {
		return errs.Invalidf("licence_expires", "licence_expires must be a date YYYY-MM-DD, got %q", in.LicenceExpires)
	}
	return nil
}

// CreateProvider registers a security provider.
func (r *Registry) CreateProvider(ctx context.Context, p auth.Principal, in ProviderInput) (Provider, error) {
	if err := p.Require(auth.WriteProviders); err != nil {
		return Provider{}, err
	}
	if err := in.validate(); err != nil {
		return Provider{}, err
	}
	var out Provider
	err := r.DB.InTx(ctx, func(tx *store.Tx) error {
		var err error
		out, err = InsertProvider(ctx, tx, r.Now().UnixMicro(), in)
		if err != nil {
			return err
		}
		return auth.Append(ctx, tx, r.Now(), p, "provider.create", fmt.Sprintf("provider/%d", out.ID), in)
	})
	return out, err
}

// InsertProvider writes a validated provider in tx.
func InsertProvider(ctx context.Context, tx *store.Tx, now int64, in ProviderInput) (Provider, error) {
	out := Provider{Name: in.Name, BIN: in.BIN, LicenceNo: in.LicenceNo, LicenceUTO: in.LicenceUTO, LicenceExpires: in.LicenceExpires}
	err := tx.QueryRowContext(ctx, `INSERT INTO providers (name, bin, licence_no, licence_uto, licence_expires, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		in.Name, in.BIN, in.LicenceNo, in.LicenceUTO, in.LicenceExpires, now).Scan(&out.ID)
	if store.IsUniqueViolation(err) {
		return out, errs.E(errs.Conflict, "bin", "a provider with BIN %s exists already", in.BIN)
	}
	return out, err
}

// ListProviders lists providers: all of them for roles that read the whole
// registry, one's own for a ПЦН operator, those with a contract in scope for
// the others.
func (r *Registry) ListProviders(ctx context.Context, p auth.Principal) ([]Provider, error) {
	if err := p.Require(auth.ReadRegistry); err != nil {
		return nil, err
	}
	q := "SELECT v.id, v.name, v.bin, v.licence_no, v.licence_uto, v.licence_expires FROM providers v"
	var args []any
	switch p.Scope.Kind {
	case auth.ScopeInstallation, auth.ScopeNation:
	case auth.ScopeProvider:
		q += " WHERE v.id = ?"
		args = []any{p.Scope.ID()}
	default:
		scope, a := SchoolScope(p, "s", r.today())
		q += " WHERE EXISTS (SELECT 1 FROM contracts k JOIN schools s ON s.id = k.school_id WHERE k.provider_id = v.id AND " + scope + ")"
		args = a
	}
	out, err := store.Collect(ctx, r.DB.Reader(), func(rows *sql.Rows) (Provider, error) {
		var v Provider
		err := rows.Scan(&v.ID, &v.Name, &v.BIN, &v.LicenceNo, &v.LicenceUTO, &v.LicenceExpires)
		return v, err
	}, q+" ORDER BY v.id", args...)
	return out, errs.Wrap(err, "list providers")
}

// CreateContract records that a provider guards a school in scope.
func (r *Registry) CreateContract(ctx context.Context, p auth.Principal, c Contract) (Contract, error) {
	if err := p.Require(auth.WriteProviders); err != nil {
		return Contract{}, err
	}
	if _, err := r.School(ctx, p, c.SchoolID); err != nil {
		if errs.CodeOf(err) == errs.NotFound {
			return Contract{}, errs.E(errs.NotFound, "school_id", "no school %d", c.SchoolID)
		}
		return Contract{}, err
	}
	if !validDate(c.StartsOn) {
		return Contract{}, errs.Invalidf("starts_on", "starts_on must be a date YYYY-MM-DD")
	}
	if c.EndsOn != "" && (!validDate(c.EndsOn) || c.EndsOn < c.StartsOn) {
		return Contract{}, errs.Invalidf("ends_on", "ends_on must be a date YYYY-MM-DD on or after starts_on")
	}
	err := r.DB.InTx(ctx, func(tx *store.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM providers WHERE id = ?", c.ProviderID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return errs.E(errs.NotFound, "provider_id", "no provider %d", c.ProviderID)
		}
		var err error
		c, err = InsertContract(ctx, tx, r.Now().UnixMicro(), c)
		if err != nil {
			return err
		}
		return auth.Append(ctx, tx, r.Now(), p, "contract.create", fmt.Sprintf("contract/%d", c.ID), c)
	})
	return c, err
}

// InsertContract writes a validated contract in tx.
func InsertContract(ctx context.Context, tx *store.Tx, now int64, c Contract) (Contract, error) {
	err := tx.QueryRowContext(ctx, "INSERT INTO contracts (provider_id, school_id, starts_on, ends_on, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
		c.ProviderID, c.SchoolID, c.StartsOn, nullStr(c.EndsOn), now).Scan(&c.ID)
	return c, err
}

// ContractsOfSchool lists a school's contracts, newest first.
func (r *Registry) ContractsOfSchool(ctx context.Context, p auth.Principal, schoolID int64) ([]Contract, error) {
	if _, err := r.School(ctx, p, schoolID); err != nil {
		return nil, err
	}
	out, err := store.Collect(ctx, r.DB.Reader(), func(rows *sql.Rows) (Contract, error) {
		var c Contract
		err := rows.Scan(&c.ID, &c.ProviderID, &c.SchoolID, &c.StartsOn, &c.EndsOn)
		return c, err
	}, "SELECT id, provider_id, school_id, starts_on, COALESCE(ends_on, '') FROM contracts WHERE school_id = ? ORDER BY starts_on DESC, id DESC", schoolID)
	return out, errs.Wrap(err, "contracts")
}

// ProviderOnDuty returns the provider whose contract covers the school on the
// given day (the latest-starting one if contracts overlap); ok is false when
// none does. Alarm routing uses it.
func ProviderOnDuty(ctx context.Context, q store.Querier, schoolID int64, day time.Time) (Provider, bool, error) {
	d := day.Format(time.DateOnly)
	var v Provider
	err := q.QueryRowContext(ctx, `SELECT v.id, v.name, v.bin, v.licence_no, v.licence_uto, v.licence_expires FROM contracts c JOIN providers v ON v.id = c.provider_id
		WHERE c.school_id = ? AND c.starts_on <= ? AND (c.ends_on IS NULL OR c.ends_on >= ?) ORDER BY c.starts_on DESC, c.id DESC LIMIT 1`, schoolID, d, d).
		Scan(&v.ID, &v.Name, &v.BIN, &v.LicenceNo, &v.LicenceUTO, &v.LicenceExpires)
	if errors.Is(err, sql.ErrNoRows) {
		return Provider{}, false, nil
	}
	return v, err == nil, err
}

// PoliceUnitFor returns the ЦОУ whose jurisdiction covers the school: a unit
// of the school's district before one of the whole region.
func PoliceUnitFor(ctx context.Context, q store.Querier, schoolID int64) (PoliceUnit, bool, error) {
	var u PoliceUnit
	var dc sql.NullString
	err := q.QueryRowContext(ctx, `SELECT u.id, u.name_kk, u.name_ru, u.region_code, u.district_code FROM police_units u JOIN schools s ON s.region_code = u.region_code
		WHERE s.id = ? AND (u.district_code IS NULL OR u.district_code = s.district_code) ORDER BY CASE WHEN u.district_code IS NULL THEN 1 ELSE 0 END, u.id LIMIT 1`, schoolID).
		Scan(&u.ID, &u.NameKK, &u.NameRU, &u.RegionCode, &dc)
	if errors.Is(err, sql.ErrNoRows) {
		return PoliceUnit{}, false, nil
	}
	u.DistrictCode = dc.String
	return u, err == nil, err
}

// CreatePoliceUnit registers a ЦОУ.
func (r *Registry) CreatePoliceUnit(ctx context.Context, p auth.Principal, u PoliceUnit) (PoliceUnit, error) {
	if err := p.Require(auth.WriteProviders); err != nil {
		return PoliceUnit{}, err
	}
	u.NameKK, u.NameRU = strings.TrimSpace(u.NameKK), strings.TrimSpace(u.NameRU)
	if u.NameKK == "" {
		return PoliceUnit{}, errs.Invalidf("name_kk", "name_kk is required")
	}
	if u.NameRU == "" {
		return PoliceUnit{}, errs.Invalidf("name_ru", "name_ru is required")
	}
	pl, err := r.LoadPlaces(ctx)
	if err != nil {
		return PoliceUnit{}, errs.Wrap(err, "places")
	}
	if !pl.Regions[u.RegionCode] {
		return PoliceUnit{}, errs.Invalidf("region_code", "unknown region %q", u.RegionCode)
	}
	if u.DistrictCode != "" && pl.Districts[u.DistrictCode] != u.RegionCode {
		return PoliceUnit{}, errs.Invalidf("district_code", "district %q is not in region %s", u.DistrictCode, u.RegionCode)
	}
	// Units decide where alarms go: a department registers them only in its
	// own area.
	if !mayWriteSchool(p, SchoolInput{RegionCode: u.RegionCode, DistrictCode: u.DistrictCode}) {
		return PoliceUnit{}, errs.E(errs.Forbidden, "region_code", "this police unit's jurisdiction is outside your region or district")
	}
	err = r.DB.InTx(ctx, func(tx *store.Tx) error {
		var err error
		u, err = InsertPoliceUnit(ctx, tx, r.Now().UnixMicro(), u)
		if err != nil {
			return err
		}
		return auth.Append(ctx, tx, r.Now(), p, "police_unit.create", fmt.Sprintf("police_unit/%d", u.ID), u)
	})
	return u, err
}

// InsertPoliceUnit writes a validated unit in tx.
func InsertPoliceUnit(ctx context.Context, tx *store.Tx, now int64, u PoliceUnit) (PoliceUnit, error) {
	err := tx.QueryRowContext(ctx, "INSERT INTO police_units (name_kk, name_ru, region_code, district_code, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
		u.NameKK, u.NameRU, u.RegionCode, nullStr(u.DistrictCode), now).Scan(&u.ID)
	return u, err
}

// ListPoliceUnits lists the units whose jurisdiction meets the caller's scope.
func (r *Registry) ListPoliceUnits(ctx context.Context, p auth.Principal) ([]PoliceUnit, error) {
	if err := p.Require(auth.ReadRegistry); err != nil {
		return nil, err
	}
	q := "SELECT u.id, u.name_kk, u.name_ru, u.region_code, COALESCE(u.district_code, '') FROM police_units u"
	var args []any
	switch p.Scope.Kind {
	case auth.ScopeInstallation, auth.ScopeNation:
	case auth.ScopePoliceUnit:
		q += " WHERE u.id = ?"
		args = []any{p.Scope.ID()}
	case auth.ScopeRegion:
		q += " WHERE u.region_code = ?"
		args = []any{p.Scope.Ref}
	default:
		scope, a := SchoolScope(p, "s", r.today())
		q += " WHERE EXISTS (SELECT 1 FROM schools s WHERE s.region_code = u.region_code AND (u.district_code IS NULL OR u.district_code = s.district_code) AND " + scope + ")"
		args = a
	}
	out, err := store.Collect(ctx, r.DB.Reader(), func(rows *sql.Rows) (PoliceUnit, error) {
		var u PoliceUnit
		err := rows.Scan(&u.ID, &u.NameKK, &u.NameRU, &u.RegionCode, &u.DistrictCode)
		return u, err
	}, q+" ORDER BY u.id", args...)
	return out, errs.Wrap(err, "police units")
}
