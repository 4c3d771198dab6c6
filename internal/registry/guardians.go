package registry

import (
	"context"
	"database/sql"
	"encoding/json"
	"qorgan/internal/kztime"
	"strings"
	"time"

	"qorgan/internal/store"
)

// Guardian is a parent or other legal representative.
type Guardian struct {
	ID                 int64  `json:"id"`
	Phone              string `json:"phone"`
	FullName           string `json:"full_name"`
	Email              string `json:"email,omitempty"`
	MessengerID        string `json:"messenger_id,omitempty"`
	Language           string `json:"language"`
	ConsentGivenOn     string `json:"consent_given_on,omitempty"`
	ConsentWithdrawnOn string `json:"consent_withdrawn_on,omitempty"`
}

// Consent reports whether the guardian's consent is on record and not
// withdrawn on the given date.
func (g Guardian) Consent(on time.Time) bool {
	// The dates are days in Kazakhstan: from 19:00 UTC it is already the
	// next day there, and a consent withdrawn "today" must hold at once.
	d := kztime.Today(on).Format(time.DateOnly)
	return g.ConsentGivenOn != "" && g.ConsentGivenOn <= d && (g.ConsentWithdrawnOn == "" || g.ConsentWithdrawnOn > d)
}

// GuardianLink is a guardian as seen from one pupil.
type GuardianLink struct {
	Guardian
	Relation   string `json:"relation,omitempty"`
	MayCollect bool   `json:"may_collect"`
	// NameOnly shows the guardian by full name and nothing else: how a
	// child's other guardian sees them (guardianSees).
	NameOnly bool `json:"-"`
}

// MarshalJSON writes the link, or only the name when NameOnly is set.
func (l GuardianLink) MarshalJSON() ([]byte, error) {
	if l.NameOnly {
		return json.Marshal(struct {
			FullName string `json:"full_name"`
		}{l.FullName})
	}
	type link GuardianLink // without this method
	return json.Marshal(link(l))
}

// GuardianInput is a guardian given with a pupil. Phone is the key.
type GuardianInput struct {
	Phone              string `json:"phone"`
	FullName           string `json:"full_name"`
	Email              string `json:"email,omitempty"`
	MessengerID        string `json:"messenger_id,omitempty"`
	Language           string `json:"language,omitempty"`
	Relation           string `json:"relation,omitempty"`
	MayCollect         *bool  `json:"may_collect,omitempty"`
	ConsentGivenOn     string `json:"consent_given_on,omitempty"`
	ConsentWithdrawnOn string `json:"consent_withdrawn_on,omitempty"`
}

// NormalizePhone returns a Kazakhstan mobile number in E.164 (+7XXXXXXXXXX),
// accepting the forms people write: +7 701 123 45 67, 8 (701) 123-45-67, 77011234567.
func NormalizePhone(s string) (string, bool) {
	s = phoneJunk.Replace(strings.TrimSpace(s))
	switch {
	case strings.HasPrefix(s, "+7") && len(s) == 12:
		s = s[2:]
	case (strings.HasPrefix(s, "8") || strings.HasPrefix(s, "7")) && len(s) == 11:
		s = s[1:]
	default:
		return "", false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	return "+7" + s, true
}

func (g GuardianInput) mayCollect() bool { return g.MayCollect == nil || *g.MayCollect }

const guardianCols = "g.id, g.phone, g.full_name, g.email, g.messenger_id, g.language, COALESCE(g.consent_given_on, ''), COALESCE(g.consent_withdrawn_on, '')"

func scanGuardian(sc interface{ Scan(...any) error }, extra ...any) (Guardian, error) {
	var g Guardian
	err := sc.Scan(append([]any{&g.ID, &g.Phone, &g.FullName, &g.Email, &g.MessengerID, &g.Language, &g.ConsentGivenOn, &g.ConsentWithdrawnOn}, extra...)...)
	return g, err
}

func guardiansByPhone(ctx context.Context, q store.Querier, ins []PupilInput) (map[string]Guardian, error) {
	var phones []string
	seen := map[string]bool{}
	for _, in := range ins {
		for _, g := range in.Guardians {
			if !seen[g.Phone] {
				seen[g.Phone] = true
				phones = append(phones, g.Phone)
			}
		}
	}
	return byKey(ctx, q, phones, func(rows *sql.Rows) (Guardian, error) { return scanGuardian(rows) },
		func(g Guardian) string { return g.Phone }, "SELECT "+guardianCols+" FROM guardians g WHERE g.phone IN ")
}

// eachGuardianLink hands fn each pupil's link to a guardian that the
// clause after `FROM pupil_guardians pg JOIN guardians g` selects.
func eachGuardianLink(ctx context.Context, q store.Querier, fn func(pupilID int64, l GuardianLink), where string, args ...any) error {
	return store.Each(ctx, q, func(rows *sql.Rows) error {
		var pid int64
		var l GuardianLink
		if err := rows.Scan(&pid, &l.Relation, &l.MayCollect, &l.ID, &l.Phone, &l.FullName, &l.Email, &l.MessengerID, &l.Language, &l.ConsentGivenOn, &l.ConsentWithdrawnOn); err != nil {
			return err
		}
		fn(pid, l)
		return nil
	}, `SELECT pg.pupil_id, pg.relation, pg.may_collect, `+guardianCols+`
		FROM pupil_guardians pg JOIN guardians g ON g.id = pg.guardian_id `+where, args...)
}
