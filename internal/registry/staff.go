package registry

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"unicode/utf8"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/store"
)

// Staff is a person working at a school.
type Staff struct {
	ID         int64  `json:"id"`
	SchoolID   int64  `json:"school_id"`
	ExternalID string `json:"external_id"`
	FullName   string `json:"full_name"`
	Position   string `json:"position"`
	Phone      string `json:"phone,omitempty"`
	CardUID    string `json:"card_uid,omitempty"`
}

// StaffInput creates a staff member.
type StaffInput struct {
	ExternalID string `json:"external_id"`
	FullName   string `json:"full_name"`
	Position   string `json:"position"`
	Phone      string `json:"phone,omitempty"`
	CardUID    string `json:"card_uid,omitempty"`
}

// CreateStaff adds a staff member to a school in scope.
func (r *Registry) CreateStaff(ctx context.Context, p auth.Principal, schoolID int64, in StaffInput) (Staff, error) {
	if _, err := r.SchoolFor(ctx, p, schoolID, auth.WritePupils); err != nil {
		return Staff{}, err
	}
	in.ExternalID, in.FullName, in.Position = strings.TrimSpace(in.ExternalID), strings.TrimSpace(in.FullName), strings.TrimSpace(in.Position)
	in.CardUID = strings.ToUpper(strings.TrimSpace(in.CardUID))
	switch {
	case !extIDRE.MatchString(in.ExternalID):
		return Staff{}, errs.Invalidf("external_id", "external_id must be 1–40 letters, digits, '_', '.', '/' or '-'")
	case in.FullName == "" || utf8.RuneCountInString(in.FullName) > 200:
		return Staff{}, errs.Invalidf("full_name", "full_name is required, at most 200 characters")
	case in.Position == "" || utf8.RuneCountInString(in.Position) > 100:
		return Staff{}, errs.Invalidf("position", "position is required, at most 100 characters")
	case in.CardUID != "" && !hexRE.MatchString(in.CardUID):
		return Staff{}, errs.Invalidf("card_uid", "card_uid must be 8–20 hex digits")
	}
	if in.Phone != "" {
		ph, ok := NormalizePhone(in.Phone)
		if !ok {
			return Staff{}, errs.Invalidf("phone", "phone must be a Kazakhstan number like +7 701 123 45 67")
		}
		in.Phone = ph
	}
	s := Staff{SchoolID: schoolID, ExternalID: in.ExternalID, FullName: in.FullName, Position: in.Position, Phone: in.Phone, CardUID: in.CardUID}
	t := store.Micros(r.Now())
	err := r.DB.InTx(ctx, func(tx *store.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO staff (school_id, external_id, full_name, position, phone, card_uid, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, schoolID, in.ExternalID, in.FullName, in.Position, in.Phone, nullStr(in.CardUID), t, t).Scan(&s.ID)
		if store.IsUniqueViolation(err) {
			return errs.E(errs.Conflict, "external_id", "staff member %q exists already at this school", in.ExternalID)
		}
		if err != nil {
			return err
		}
		return auth.Append(ctx, tx, r.Now(), p, "staff.create", fmt.Sprintf("staff/%d", s.ID), in)
	})
	return s, err
}

// ListStaff lists a school's staff, for the roles that work with the school
// (not the ministry: people's contacts are not its statistics).
func (r *Registry) ListStaff(ctx context.Context, p auth.Principal, schoolID int64) ([]Staff, error) {
	if _, err := r.SchoolFor(ctx, p, schoolID, auth.ReadStaff); err != nil {
		return nil, err
	}
	out, err := store.Collect(ctx, r.DB.Reader(), func(rows *sql.Rows) (Staff, error) {
		var s Staff
		err := rows.Scan(&s.ID, &s.SchoolID, &s.ExternalID, &s.FullName, &s.Position, &s.Phone, &s.CardUID)
		return s, err
	}, "SELECT id, school_id, external_id, full_name, position, phone, COALESCE(card_uid, '') FROM staff WHERE school_id = ? ORDER BY id", schoolID)
	return out, errs.Wrap(err, "list staff")
}
