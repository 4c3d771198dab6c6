package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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
	// KeepPhoneToken keeps the stored phone token on an update: a form that
	// never shows the credential must not erase it.
	KeepPhoneToken bool `json:"-"`
}

var (
	classRE   = regexp.MustCompile(`^(0|[1-9]|1[0-2])\s?-?\s?[A-Za-zА-Яа-яЁёӘәҒғҚқҢңӨөҰұҮүҺһІі]?$`)
	hexRE     = regexp.MustCompile(`^[0-9A-F]{8,20}$`)
	extIDRE   = regexp.MustCompile(`^[\pL\pN][\pL\pN_./-]{0,39}$`)
	phoneJunk = strings.NewReplacer(" ", "", "-", "", "(", "", ")", "", "\u00a0", "")
)

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
		var old, token string
		if err := tx.QueryRowContext(ctx, "SELECT external_id, COALESCE(phone_token, '') FROM pupils WHERE id = ?", id).Scan(&old, &token); err != nil {
			return err
		}
		if in.KeepPhoneToken {
			in.PhoneToken = token
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
	x, err := r.pupilWithGuardians(ctx, id, "read pupil")
	if err != nil {
		return Pupil{}, err
	}
	ps := []Pupil{x}
	guardianSees(p, ps)
	return ps[0], r.logReads(ctx, p, "pupil.read", ps)
}

// pupilWithGuardians reads one pupil with their guardians, whoever asks:
// the caller has checked the scope. what names the read in an error.
func (r *Registry) pupilWithGuardians(ctx context.Context, id int64, what string) (Pupil, error) {
	x, err := scanPupil(r.DB.Reader().QueryRowContext(ctx, "SELECT "+pupilCols+" FROM pupils p WHERE p.id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Pupil{}, errs.NotFoundf("no pupil %d", id)
	}
	if err != nil {
		return Pupil{}, errs.Wrap(err, what)
	}
	ps := []Pupil{x}
	if err := r.attachGuardians(ctx, ps); err != nil {
		return Pupil{}, errs.Wrap(err, what)
	}
	return ps[0], nil
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
