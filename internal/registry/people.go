package registry

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/store"
)

// Pupil is a child at a school. Reading one is logged (auth.LogPupilReads).
type Pupil struct {
	ID         int64          `json:"id"`
	SchoolID   int64          `json:"school_id"`
	ExternalID string         `json:"external_id"`
	LastName   string         `json:"last_name"`
	FirstName  string         `json:"first_name"`
	MiddleName string         `json:"middle_name,omitempty"`
	Class      string         `json:"class"`
	CardUID    string         `json:"card_uid,omitempty"`
	Guardians  []GuardianLink `json:"guardians"`
}

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
	d := on.Format(time.DateOnly)
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

// PupilInput creates or changes a pupil with their guardians.
type PupilInput struct {
	ExternalID string          `json:"external_id"`
	LastName   string          `json:"last_name"`
	FirstName  string          `json:"first_name"`
	MiddleName string          `json:"middle_name,omitempty"`
	Class      string          `json:"class"`
	CardUID    string          `json:"card_uid,omitempty"`
	PhoneToken string          `json:"phone_token,omitempty"`
	Guardians  []GuardianInput `json:"guardians,omitempty"`
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

var (
	classRE   = regexp.MustCompile(`^(0|[1-9]|1[0-2])\s?-?\s?[A-Za-zА-Яа-яЁёӘәҒғҚқҢңӨөҰұҮүҺһІі]?$`)
	hexRE     = regexp.MustCompile(`^[0-9A-F]{8,20}$`)
	extIDRE   = regexp.MustCompile(`^[\pL\pN][\pL\pN_./-]{0,39}$`)
	phoneJunk = strings.NewReplacer(" ", "", "-", "", "(", "", ")", "", "\u00a0", "")
)

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

func validDate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

// Normalize trims and canonicalises the input (phones to E.164, card UIDs
// upper-case hex, e-mail lower-case).
func (in *PupilInput) Normalize() {
	for _, s := range []*string{&in.ExternalID, &in.LastName, &in.FirstName, &in.MiddleName, &in.Class, &in.PhoneToken} {
		*s = strings.TrimSpace(*s)
	}
	in.CardUID = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(in.CardUID), ":", ""))
	in.Class = strings.ToUpper(strings.ReplaceAll(strings.ReplaceAll(in.Class, " ", ""), "-", ""))
	for i := range in.Guardians {
		g := &in.Guardians[i]
		for _, s := range []*string{&g.FullName, &g.MessengerID, &g.Relation, &g.ConsentGivenOn, &g.ConsentWithdrawnOn} {
			*s = strings.TrimSpace(*s)
		}
		if p, ok := NormalizePhone(g.Phone); ok {
			g.Phone = p
		} else {
			g.Phone = strings.TrimSpace(g.Phone)
		}
		g.Email = strings.ToLower(strings.TrimSpace(g.Email))
		g.Language = strings.ToLower(strings.TrimSpace(g.Language))
		if g.Language == "" {
			g.Language = "kk"
		}
	}
}

// MaxGuardians is how many guardians one pupil record carries.
const MaxGuardians = 4

// Validate returns every problem with a normalized input, each naming its field.
func (in PupilInput) Validate() []*errs.Error {
	var out []*errs.Error
	bad := func(field, f string, a ...any) { out = append(out, errs.Invalidf(field, f, a...)) }
	if !extIDRE.MatchString(in.ExternalID) {
		bad("external_id", "external_id must be 1–40 letters, digits, '_', '.', '/' or '-'; got %q", in.ExternalID)
	}
	name := func(field, v string, required bool) {
		if required && v == "" {
			bad(field, "%s is required", field)
		} else if utf8.RuneCountInString(v) > 100 {
			bad(field, "%s must be at most 100 characters", field)
		}
	}
	name("last_name", in.LastName, true)
	name("first_name", in.FirstName, true)
	name("middle_name", in.MiddleName, false)
	if !classRE.MatchString(in.Class) {
		bad("class", "class must be a grade 0–12 with an optional letter (e.g. 5А), got %q", in.Class)
	}
	if in.CardUID != "" && !hexRE.MatchString(in.CardUID) {
		bad("card_uid", "card_uid must be 8–20 hex digits, got %q", in.CardUID)
	}
	if len(in.PhoneToken) > 128 {
		bad("phone_token", "phone_token must be at most 128 characters")
	}
	if len(in.Guardians) > MaxGuardians {
		bad("guardians", "at most %d guardians per pupil", MaxGuardians)
	}
	seen := map[string]bool{}
	for i, g := range in.Guardians {
		f := func(name string) string { return fmt.Sprintf("guardians/%d/%s", i, name) }
		if !strings.HasPrefix(g.Phone, "+7") || len(g.Phone) != 12 {
			bad(f("phone"), "phone must be a Kazakhstan number like +7 701 123 45 67, got %q", g.Phone)
		} else if seen[g.Phone] {
			bad(f("phone"), "guardian %s is listed twice", g.Phone)
		}
		seen[g.Phone] = true
		if g.FullName == "" {
			bad(f("full_name"), "guardian's full_name is required")
		} else if utf8.RuneCountInString(g.FullName) > 200 {
			bad(f("full_name"), "full_name must be at most 200 characters")
		}
		if g.Email != "" {
			if a, err := mail.ParseAddress(g.Email); err != nil || a.Address != g.Email {
				bad(f("email"), "not an e-mail address: %q", g.Email)
			}
		}
		if len(g.MessengerID) > 64 {
			bad(f("messenger_id"), "messenger_id must be at most 64 characters")
		}
		if g.Language != "kk" && g.Language != "ru" && g.Language != "en" {
			bad(f("language"), "language must be kk, ru or en, got %q", g.Language)
		}
		if g.ConsentGivenOn != "" && !validDate(g.ConsentGivenOn) {
			bad(f("consent_given_on"), "date must be YYYY-MM-DD, got %q", g.ConsentGivenOn)
		}
		if g.ConsentWithdrawnOn != "" {
			if !validDate(g.ConsentWithdrawnOn) {
				bad(f("consent_withdrawn_on"), "date must be YYYY-MM-DD, got %q", g.ConsentWithdrawnOn)
			} else if g.ConsentGivenOn == "" || g.ConsentWithdrawnOn < g.ConsentGivenOn {
				bad(f("consent_withdrawn_on"), "consent cannot be withdrawn before it was given")
			}
		}
	}
	return out
}

func (g GuardianInput) mayCollect() bool { return g.MayCollect == nil || *g.MayCollect }

// PeopleChange counts what a pupil write did.
type PeopleChange struct {
	Created, Updated, Unchanged int
}

type storedPupil struct {
	Pupil
	phoneToken string
}

// UpsertPupils writes validated, normalized inputs for one school in tx,
// keyed by the school's external id for pupils and by phone for guardians.
// Writing the same inputs twice changes nothing the second time.
func UpsertPupils(ctx context.Context, tx *store.Tx, now time.Time, schoolID int64, ins []PupilInput) (PeopleChange, error) {
	var ch PeopleChange
	t := now.UnixMicro()
	existing, err := pupilsOfSchool(ctx, tx, schoolID)
	if err != nil {
		return ch, err
	}
	guardians, err := guardiansByPhone(ctx, tx, ins)
	if err != nil {
		return ch, err
	}
	// Guardians first: create or update each once.
	var unlinked, relinked []int64 // guardians taken off a pupil's list; stored ones put on one
	known := maps.Clone(guardians)
	done := map[string]bool{}
	for _, in := range ins {
		for _, g := range in.Guardians {
			if done[g.Phone] {
				continue
			}
			done[g.Phone] = true
			old, ok := guardians[g.Phone]
			want := Guardian{ID: old.ID, Phone: g.Phone, FullName: g.FullName, Email: g.Email, MessengerID: g.MessengerID, Language: g.Language,
				ConsentGivenOn: g.ConsentGivenOn, ConsentWithdrawnOn: g.ConsentWithdrawnOn}
			// A withdrawal on record (the guardian's own, or the school's)
			// stands against a file or a form that does not mention it; only
			// consent given anew after it lifts it.
			if ok && old.ConsentWithdrawnOn != "" && want.ConsentWithdrawnOn == "" && want.ConsentGivenOn <= old.ConsentWithdrawnOn {
				want.ConsentWithdrawnOn = old.ConsentWithdrawnOn
				if want.ConsentGivenOn == "" {
					want.ConsentGivenOn = old.ConsentGivenOn
				}
			}
			switch {
			case !ok:
				if err := tx.QueryRowContext(ctx, `INSERT INTO guardians (phone, full_name, email, messenger_id, language, consent_given_on, consent_withdrawn_on, created_at, updated_at)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, g.Phone, g.FullName, g.Email, g.MessengerID, g.Language,
					nullStr(g.ConsentGivenOn), nullStr(g.ConsentWithdrawnOn), t, t).Scan(&want.ID); err != nil {
					return ch, err
				}
			case old != want:
				if _, err := tx.ExecContext(ctx, `UPDATE guardians SET full_name = ?, email = ?, messenger_id = ?, language = ?, consent_given_on = ?, consent_withdrawn_on = ?, updated_at = ? WHERE id = ?`,
					want.FullName, want.Email, want.MessengerID, want.Language, nullStr(want.ConsentGivenOn), nullStr(want.ConsentWithdrawnOn), t, old.ID); err != nil {
					return ch, err
				}
			}
			guardians[g.Phone] = want
		}
	}
	for _, in := range ins {
		old, ok := existing[in.ExternalID]
		if !ok {
			old = &storedPupil{}
		}
		changed := false
		pid := old.ID
		if !ok {
			err := tx.QueryRowContext(ctx, `INSERT INTO pupils (school_id, external_id, last_name, first_name, middle_name, class, card_uid, phone_token, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, schoolID, in.ExternalID, in.LastName, in.FirstName, in.MiddleName, in.Class,
				nullStr(in.CardUID), nullStr(in.PhoneToken), t, t).Scan(&pid)
			if store.IsUniqueViolation(err) {
				return ch, errs.E(errs.Conflict, "card_uid", "card %s or phone token belongs to another pupil", in.CardUID)
			}
			if err != nil {
				return ch, err
			}
			ch.Created++
		} else if old.LastName != in.LastName || old.FirstName != in.FirstName || old.MiddleName != in.MiddleName || old.Class != in.Class ||
			old.CardUID != in.CardUID || old.phoneToken != in.PhoneToken {
			_, err := tx.ExecContext(ctx, `UPDATE pupils SET last_name = ?, first_name = ?, middle_name = ?, class = ?, card_uid = ?, phone_token = ?, updated_at = ? WHERE id = ?`,
				in.LastName, in.FirstName, in.MiddleName, in.Class, nullStr(in.CardUID), nullStr(in.PhoneToken), t, pid)
			if store.IsUniqueViolation(err) {
				return ch, errs.E(errs.Conflict, "card_uid", "card %s or phone token belongs to another pupil", in.CardUID)
			}
			if err != nil {
				return ch, err
			}
			changed = true
		}
		// Links: the input's guardian list replaces the stored one.
		have := map[int64]GuardianLink{}
		for _, l := range old.Guardians {
			have[l.ID] = l
		}
		want := map[int64]bool{}
		for _, g := range in.Guardians {
			gid := guardians[g.Phone].ID
			want[gid] = true
			l, ok := have[gid]
			switch {
			case !ok:
				if _, err := tx.ExecContext(ctx, "INSERT INTO pupil_guardians (pupil_id, guardian_id, relation, may_collect) VALUES (?, ?, ?, ?)",
					pid, gid, g.Relation, g.mayCollect()); err != nil {
					return ch, err
				}
				if _, existed := known[g.Phone]; existed {
					relinked = append(relinked, gid)
				}
				changed = true
			case l.Relation != g.Relation || l.MayCollect != g.mayCollect():
				if _, err := tx.ExecContext(ctx, "UPDATE pupil_guardians SET relation = ?, may_collect = ? WHERE pupil_id = ? AND guardian_id = ?",
					g.Relation, g.mayCollect(), pid, gid); err != nil {
					return ch, err
				}
				changed = true
			}
			if ok && l.Guardian != guardians[g.Phone] {
				changed = true // the guardian's own details changed
			}
		}
		for gid := range have {
			if !want[gid] {
				if _, err := tx.ExecContext(ctx, "DELETE FROM pupil_guardians WHERE pupil_id = ? AND guardian_id = ?", pid, gid); err != nil {
					return ch, err
				}
				unlinked = append(unlinked, gid)
				changed = true
			}
		}
		if ok {
			if changed {
				ch.Updated++
			} else {
				ch.Unchanged++
			}
		}
	}
	// A guardian taken off the list of their last child is kept until
	// DropUnlinkedGuardians (a corrected file links them again); one
	// linked again is no longer waiting to go.
	if err := markUnlinked(ctx, tx, t, unlinked, relinked); err != nil {
		return ch, err
	}
	return ch, nil
}

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
	out := map[string]Guardian{}
	err := store.InBatches(phones, store.InList, func(ph string, args []any) error {
		return store.Each(ctx, q, func(rows *sql.Rows) error {
			g, err := scanGuardian(rows)
			out[g.Phone] = g
			return err
		}, "SELECT "+guardianCols+" FROM guardians g WHERE g.phone IN ("+ph+")", args...)
	})
	return out, err
}

// pupilsOfSchool loads a school's pupils with their guardian links, by external id.
func pupilsOfSchool(ctx context.Context, q store.Querier, schoolID int64) (map[string]*storedPupil, error) {
	byID := map[int64]*storedPupil{}
	out := map[string]*storedPupil{}
	err := store.Each(ctx, q, func(rows *sql.Rows) error {
		p := &storedPupil{}
		p.SchoolID = schoolID
		if err := rows.Scan(&p.ID, &p.ExternalID, &p.LastName, &p.FirstName, &p.MiddleName, &p.Class, &p.CardUID, &p.phoneToken); err != nil {
			return err
		}
		byID[p.ID] = p
		out[p.ExternalID] = p
		return nil
	}, `SELECT id, external_id, last_name, first_name, middle_name, class, COALESCE(card_uid, ''), COALESCE(phone_token, '')
		FROM pupils WHERE school_id = ?`, schoolID)
	if err != nil {
		return nil, err
	}
	err = eachGuardianLink(ctx, q, func(pid int64, l GuardianLink) {
		if p := byID[pid]; p != nil {
			p.Guardians = append(p.Guardians, l)
		}
	}, "JOIN pupils p ON p.id = pg.pupil_id WHERE p.school_id = ?", schoolID)
	return out, err
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

// CreatePupil adds one pupil with guardians to a school in the caller's scope.
// An external id already used at the school is a Conflict.
func (r *Registry) CreatePupil(ctx context.Context, p auth.Principal, schoolID int64, in PupilInput) (Pupil, error) {
	if _, err := r.SchoolFor(ctx, p, schoolID, auth.WritePupils); err != nil {
		return Pupil{}, err
	}
	in.Normalize()
	if err := errs.Of(in.Validate()); err != nil {
		return Pupil{}, err
	}
	var id int64
	err := r.DB.InTx(ctx, func(tx *store.Tx) error {
		err := tx.QueryRowContext(ctx, "SELECT id FROM pupils WHERE school_id = ? AND external_id = ?", schoolID, in.ExternalID).Scan(&id)
		if err == nil {
			return errs.E(errs.Conflict, "external_id", "pupil %q exists already at this school", in.ExternalID)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if id, err = r.writePupil(ctx, tx, p, schoolID, in); err != nil {
			return err
		}
		return auth.Append(ctx, tx, r.Now(), p, "pupil.create", fmt.Sprintf("pupil/%d", id), map[string]any{"school_id": schoolID, "external_id": in.ExternalID})
	})
	if err != nil {
		return Pupil{}, err
	}
	return r.Pupil(ctx, p, id)
}

// UpdatePupil replaces a pupil's record in the caller's scope: names, class,
// pass credentials and the list of guardians, as CreatePupil takes them. An
// empty external id keeps the stored one; another one renames the pupil
// unless a classmate has it (Conflict).
func (r *Registry) UpdatePupil(ctx context.Context, p auth.Principal, id int64, in PupilInput) (Pupil, error) {
	schoolID, err := r.managedPupil(ctx, p, id)
	if err != nil {
		return Pupil{}, err
	}
	in.Normalize()
	err = r.DB.InTx(ctx, func(tx *store.Tx) error {
		if err := lockPupil(ctx, tx, r.Now(), id); err != nil {
			return err
		}
		var old string
		if err := tx.QueryRowContext(ctx, "SELECT external_id FROM pupils WHERE id = ?", id).Scan(&old); err != nil {
			return err
		}
		if in.ExternalID == "" {
			in.ExternalID = old
		}
		if err := errs.Of(in.Validate()); err != nil {
			return err
		}
		if in.ExternalID != old {
			_, err := tx.ExecContext(ctx, "UPDATE pupils SET external_id = ?, updated_at = ? WHERE id = ?", in.ExternalID, store.Micros(r.Now()), id)
			if store.IsUniqueViolation(err) {
				return errs.E(errs.Conflict, "external_id", "another pupil at this school has external id %q", in.ExternalID)
			}
			if err != nil {
				return err
			}
		}
		if _, err := r.writePupil(ctx, tx, p, schoolID, in); err != nil {
			return err
		}
		return auth.Append(ctx, tx, r.Now(), p, "pupil.update", fmt.Sprintf("pupil/%d", id), map[string]any{"school_id": schoolID, "external_id": in.ExternalID})
	})
	if err != nil {
		return Pupil{}, err
	}
	return r.Pupil(ctx, p, id)
}

// writePupil creates or updates one validated pupil of a school by its
// external id and returns its id. A guardian who also has children outside
// the caller's scope keeps the details on record: one school must not
// redirect where another school's messages go.
func (r *Registry) writePupil(ctx context.Context, tx *store.Tx, p auth.Principal, schoolID int64, in PupilInput) (int64, error) {
	var phones []string
	for _, g := range in.Guardians {
		phones = append(phones, g.Phone)
	}
	elsewhere, err := GuardiansElsewhere(ctx, tx, p, r.today(), phones)
	if err != nil {
		return 0, err
	}
	for i, g := range in.Guardians {
		if old, ok := elsewhere[g.Phone]; ok {
			in.Guardians[i] = GuardianInput{Phone: old.Phone, FullName: old.FullName, Email: old.Email, MessengerID: old.MessengerID, Language: old.Language,
				Relation: g.Relation, MayCollect: g.MayCollect, ConsentGivenOn: old.ConsentGivenOn, ConsentWithdrawnOn: old.ConsentWithdrawnOn}
		}
	}
	if _, err := UpsertPupils(ctx, tx, r.Now(), schoolID, []PupilInput{in}); err != nil {
		return 0, err
	}
	var id int64
	err = tx.QueryRowContext(ctx, "SELECT id FROM pupils WHERE school_id = ? AND external_id = ?", schoolID, in.ExternalID).Scan(&id)
	return id, err
}

const pupilCols = "p.id, p.school_id, p.external_id, p.last_name, p.first_name, p.middle_name, p.class, COALESCE(p.card_uid, '')"

func scanPupil(sc interface{ Scan(...any) error }) (Pupil, error) {
	var x Pupil
	err := sc.Scan(&x.ID, &x.SchoolID, &x.ExternalID, &x.LastName, &x.FirstName, &x.MiddleName, &x.Class, &x.CardUID)
	x.Guardians = []GuardianLink{}
	return x, err
}

func scanPupilRow(rows *sql.Rows) (Pupil, error) { return scanPupil(rows) }

// attachGuardians fills in the guardians of the given pupils.
func (r *Registry) attachGuardians(ctx context.Context, ps []Pupil) error {
	if len(ps) == 0 {
		return nil
	}
	idx := map[int64]int{}
	ids := make([]int64, len(ps))
	for i, p := range ps {
		idx[p.ID] = i
		ids[i] = p.ID
	}
	return store.InBatches(ids, store.InList, func(ph string, args []any) error {
		return eachGuardianLink(ctx, r.DB.Reader(), func(pid int64, l GuardianLink) {
			ps[idx[pid]].Guardians = append(ps[idx[pid]].Guardians, l)
		}, "WHERE pg.pupil_id IN ("+ph+") ORDER BY g.id", args...)
	})
}

// ListPupils lists a school's pupils for staff who may read them. Outside the
// caller's scope the school does not exist for them (NotFound); inside it, a
// role without the right to see children's data is Forbidden. Every pupil
// returned is access-logged.
func (r *Registry) ListPupils(ctx context.Context, p auth.Principal, schoolID int64, pg Page) (List[Pupil], error) {
	// The school may be visible to the caller while their role may not see
	// children's personal data (analysts, departments, ПЦН, ЦОУ): Forbidden.
	if _, err := r.SchoolFor(ctx, p, schoolID, auth.ReadPupils); err != nil {
		return List[Pupil]{}, err
	}
	after, limit, err := pg.after()
	if err != nil {
		return List[Pupil]{}, err
	}
	res, err := r.pupilsPage(ctx, p, schoolID, after, limit)
	if err != nil {
		return res, errs.Wrap(err, "list pupils")
	}
	return res, r.logReads(ctx, p, "pupil.list", res.Items)
}

// pupilsPage reads a page of a school's pupils, with their guardians, that
// p may read; it logs nothing.
func (r *Registry) pupilsPage(ctx context.Context, p auth.Principal, schoolID, after int64, limit int) (List[Pupil], error) {
	scope, args := pupilFilter(p, "p", r.today())
	out, err := store.Collect(ctx, r.DB.Reader(), scanPupilRow, "SELECT "+pupilCols+" FROM pupils p JOIN schools s ON s.id = p.school_id WHERE p.school_id = ? AND p.id > ? AND "+scope+" ORDER BY p.id LIMIT ?",
		append(append([]any{schoolID, after}, args...), limit+1)...)
	if err != nil {
		return List[Pupil]{}, err
	}
	res := page(out, limit, func(x Pupil) int64 { return x.ID })
	return res, r.attachGuardians(ctx, res.Items)
}

// ExportablePupils returns a school and every one of its pupils with their
// guardians, for a file that leaves Qorgan: only for roles that may export
// a school's children (auth.ExportPupils), NotFound outside the caller's
// scope. The export is access-logged as one school-wide entry with its
// number of rows, before anything is returned.
func (r *Registry) ExportablePupils(ctx context.Context, p auth.Principal, schoolID int64) (School, []Pupil, error) {
	school, err := r.SchoolFor(ctx, p, schoolID, auth.ExportPupils)
	if err != nil {
		return School{}, nil, err
	}
	var all []Pupil
	var after int64
	for {
		res, err := r.pupilsPage(ctx, p, schoolID, after, MaxLimit)
		if err != nil {
			return School{}, nil, errs.Wrap(err, "export pupils")
		}
		all = append(all, res.Items...)
		if res.NextCursor == "" {
			break
		}
		after = res.Items[len(res.Items)-1].ID
	}
	if err := r.Auth.LogSchoolExport(ctx, p, "pupils.export", schoolID, len(all)); err != nil {
		return School{}, nil, errs.Wrap(err, "access log")
	}
	return school, all, nil
}

func (r *Registry) logReads(ctx context.Context, p auth.Principal, action string, ps []Pupil) error {
	reads := make([]auth.PupilRead, len(ps))
	for i, x := range ps {
		reads[i] = auth.PupilRead{PupilID: x.ID, SchoolID: x.SchoolID}
	}
	if err := r.Auth.LogPupilReads(ctx, p, action, reads); err != nil {
		// Not logged means not shown.
		return errs.Wrap(err, "access log")
	}
	return nil
}

// Pupil returns one pupil the caller may read: NotFound outside the caller's
// scope, Forbidden inside it for a role that may not read children.
func (r *Registry) Pupil(ctx context.Context, p auth.Principal, id int64) (Pupil, error) {
	if _, err := atPupil(ctx, r.DB.Reader(), p, r.today(), id, auth.ReadPupils); err != nil {
		return Pupil{}, err
	}
	x, err := scanPupil(r.DB.Reader().QueryRowContext(ctx, "SELECT "+pupilCols+" FROM pupils p WHERE p.id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Pupil{}, errs.NotFoundf("no pupil %d", id)
	}
	if err != nil {
		return Pupil{}, errs.Wrap(err, "read pupil")
	}
	ps := []Pupil{x}
	if err := r.attachGuardians(ctx, ps); err != nil {
		return Pupil{}, errs.Wrap(err, "read pupil")
	}
	guardianSees(p, ps)
	return ps[0], r.logReads(ctx, p, "pupil.read", ps)
}

// guardianSees trims pupils to what a guardian of theirs is shown: not the
// card UID (a credential that opens the school's gates), and each other
// guardian by name only, without their phone, e-mail, messenger or consent.
// Staff see pupils whole.
func guardianSees(p auth.Principal, ps []Pupil) {
	if p.Scope.Kind != auth.ScopeGuardian {
		return
	}
	for i := range ps {
		ps[i].CardUID = ""
		for j := range ps[i].Guardians {
			if g := &ps[i].Guardians[j]; g.ID != p.Scope.ID() {
				g.NameOnly = true
			}
		}
	}
}

// Children lists a guardian's own children, as guardianSees shows them.
func (r *Registry) Children(ctx context.Context, p auth.Principal) ([]Pupil, error) {
	if err := p.Require(auth.ReadOwnChildren); err != nil {
		return nil, err
	}
	scope, args := pupilFilter(p, "p", r.today())
	out, err := store.Collect(ctx, r.DB.Reader(), scanPupilRow, "SELECT "+pupilCols+" FROM pupils p JOIN schools s ON s.id = p.school_id WHERE "+scope+" ORDER BY p.id LIMIT 50", args...)
	if err != nil {
		return nil, errs.Wrap(err, "children")
	}
	if err := r.attachGuardians(ctx, out); err != nil {
		return nil, errs.Wrap(err, "children")
	}
	guardianSees(p, out)
	return out, r.logReads(ctx, p, "pupil.read_own", out)
}

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
