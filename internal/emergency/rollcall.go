package emergency

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/kztime"
	"qorgan/internal/store"
	"qorgan/internal/text"
)

// snapshot writes the roll-call as presence has it at this instant: every
// pupil and staff member of the school with whether they are inside and
// their last pass. One INSERT … SELECT inside the declaration's transaction
// reads presence as of one instant on both engines, however many passes
// keep arriving.
func (s *Service) snapshot(ctx context.Context, tx *store.Tx, e Emergency, now time.Time) error {
	day := kztime.Today(now).Format(time.DateOnly)
	_, err := tx.ExecContext(ctx, `INSERT INTO emergency_rollcall (emergency_id, person_kind, person_id, name, class, inside, last_pass_at)
		SELECT CAST(? AS BIGINT), 'pupil', p.id, p.last_name || ' ' || p.first_name, p.class, COALESCE(pr.inside, FALSE), pr.last_at
		FROM pupils p LEFT JOIN presence pr ON pr.person_kind = 'pupil' AND pr.person_id = p.id AND pr.day = ?
		WHERE p.school_id = ?
		UNION ALL
		SELECT CAST(? AS BIGINT), 'staff', t.id, t.full_name, '', COALESCE(pr.inside, FALSE), pr.last_at
		FROM staff t LEFT JOIN presence pr ON pr.person_kind = 'staff' AND pr.person_id = t.id AND pr.day = ?
		WHERE t.school_id = ?`, e.ID, day, e.SchoolID, e.ID, day, e.SchoolID)
	return errs.Wrap(err, "roll-call snapshot")
}

// staffRole is the checklist a staff member's position calls for.
func staffRole(position string) Role {
	p := strings.ToLower(position)
	switch {
	case strings.Contains(p, "guard") || strings.Contains(p, "охран") || strings.Contains(p, "күзет"):
		return Guard
	case strings.Contains(p, "director") || strings.Contains(p, "safety") || strings.Contains(p, "deputy") ||
		strings.Contains(p, "директор") || strings.Contains(p, "завуч") || strings.Contains(p, "заместител"):
		return Administration
	}
	return Teacher
}

// Mark values a teacher gives.
const (
	Present = "present"
	Missing = "missing"
	Injured = "injured"
	Extra   = "extra" // a person with the class who was not on its list
)

// Mark is one mark of a roll-call.
type Mark struct {
	PupilID int64  `json:"pupil_id,omitempty"`
	Mark    string `json:"mark"`
	Name    string `json:"name,omitempty"` // an extra person's name
}

// MaxMarks is how many marks one call takes (a class, or a school's
// director marking for several).
const MaxMarks = 5000

// markToken is a staff member's key for one emergency: it comes in their
// message, so a teacher marks their class from their phone without a
// sign-in of their own.
func markToken() (string, string) {
	var b [15]byte
	rand.Read(b[:])
	tok := "qe_" + strings.ToLower(base32.StdEncoding.EncodeToString(b[:]))
	return tok, tokenHash(tok)
}

func tokenHash(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

// staffMember is a staff member of a live emergency, found by their token.
type staffMember struct {
	e        Emergency
	staffID  int64
	role     Role
	homeroom string
	lang     string
}

func (s *Service) byToken(ctx context.Context, q store.Querier, token string) (staffMember, error) {
	var m staffMember
	var id int64
	err := q.QueryRowContext(ctx, `SELECT es.emergency_id, es.staff_id, es.role, es.homeroom, t.language FROM emergency_staff es JOIN staff t ON t.id = es.staff_id
		WHERE es.token_hash = ?`, tokenHash(strings.TrimSpace(token))).Scan(&id, &m.staffID, &m.role, &m.homeroom, &m.lang)
	if errors.Is(err, sql.ErrNoRows) {
		return m, errs.E(errs.Unauthorized, "", "the code is no staff member's in an emergency")
	}
	if err != nil {
		return m, errs.Wrap(err, "token")
	}
	e, _, err := getEmergency(ctx, q, id)
	if err != nil {
		return m, err
	}
	if e.State != Live {
		return m, errs.E(errs.Conflict, "", "emergency %d is %s", e.ID, e.State)
	}
	m.e = e
	return m, nil
}

// MarkClass records a teacher's marks for their class (the token from their
// message). A mark for a pupil who is not in their class is refused, naming
// the pupil; nothing of a refused call is written.
func (s *Service) MarkClass(ctx context.Context, token string, marks []Mark) error {
	m, err := s.byToken(ctx, s.DB.Reader(), token)
	if err != nil {
		return err
	}
	if m.homeroom == "" {
		return errs.E(errs.Forbidden, "", "staff member %d leads no class", m.staffID)
	}
	return s.mark(ctx, m.e, fmt.Sprintf("staff:%d", m.staffID), m.homeroom, marks)
}

// Mark records marks by a signed-in director or guard, for any class.
func (s *Service) Mark(ctx context.Context, p auth.Principal, id int64, marks []Mark) error {
	e, err := s.at(ctx, s.DB.Reader(), p, id, auth.RespondEmergency)
	if err != nil {
		return err
	}
	if e.State != Live {
		return errs.E(errs.Conflict, "", "emergency %d is %s: marks are taken while it is live", id, e.State)
	}
	return s.mark(ctx, e, p.Actor(), "", marks)
}

// mark writes marks; class, when given, is the only class they may be for.
func (s *Service) mark(ctx context.Context, e Emergency, who, class string, marks []Mark) error {
	if len(marks) == 0 || len(marks) > MaxMarks {
		return errs.Invalidf("marks", "1–%d marks are required", MaxMarks)
	}
	now := s.Now()
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		// The pupils named, as the snapshot has them.
		type row struct{ name, class string }
		rows := map[int64]row{}
		var ids []int64
		for _, m := range marks {
			if m.PupilID > 0 {
				ids = append(ids, m.PupilID)
			}
		}
		err := store.InBatches(ids, store.InList, func(ph string, args []any) error {
			return store.Each(ctx, tx, func(r *sql.Rows) error {
				var id int64
				var x row
				err := r.Scan(&id, &x.name, &x.class)
				rows[id] = x
				return err
			}, "SELECT person_id, name, class FROM emergency_rollcall WHERE emergency_id = ? AND person_kind = 'pupil' AND person_id IN ("+ph+")", append([]any{e.ID}, args...)...)
		})
		if err != nil {
			return errs.Wrap(err, "marks")
		}
		var probs []*errs.Error
		for i, m := range marks {
			f := func(n string) string { return fmt.Sprintf("marks/%d/%s", i, n) }
			m.Name = strings.TrimSpace(m.Name)
			switch m.Mark {
			case Present, Missing, Injured:
				x, ok := rows[m.PupilID]
				switch {
				case !ok:
					probs = append(probs, errs.Invalidf(f("pupil_id"), "pupil %d is not on this school's roll-call", m.PupilID))
				case class != "" && x.class != class:
					probs = append(probs, errs.Invalidf(f("pupil_id"), "pupil %d (%s) is in class %s, not in your class %s", m.PupilID, x.name, x.class, class))
				}
			case Extra:
				if msg := text.Check(m.Name, text.Line); msg != "" {
					probs = append(probs, errs.Invalidf(f("name"), "name %s", msg))
				} else if m.Name == "" || utf8.RuneCountInString(m.Name) > 200 {
					probs = append(probs, errs.Invalidf(f("name"), "an extra person's name is required, at most 200 characters"))
				}
			default:
				probs = append(probs, errs.Invalidf(f("mark"), "mark must be present, missing, injured or extra, got %q", m.Mark))
			}
		}
		if err := errs.Of(probs); err != nil {
			return err
		}
		for _, m := range marks {
			if m.Mark == Extra {
				var next int64
				if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(person_id), 0) + 1 FROM emergency_rollcall WHERE emergency_id = ? AND person_kind = 'extra'", e.ID).Scan(&next); err != nil {
					return errs.Wrap(err, "marks")
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO emergency_rollcall (emergency_id, person_kind, person_id, name, class, inside, mark, marked_by, marked_at)
					VALUES (?, 'extra', ?, ?, ?, TRUE, 'extra', ?, ?)`, e.ID, next, strings.TrimSpace(m.Name), class, who, store.Micros(now)); err != nil {
					return errs.Wrap(err, "marks")
				}
				continue
			}
			if _, err := tx.ExecContext(ctx, "UPDATE emergency_rollcall SET mark = ?, marked_by = ?, marked_at = ? WHERE emergency_id = ? AND person_kind = 'pupil' AND person_id = ?",
				m.Mark, who, store.Micros(now), e.ID, m.PupilID); err != nil {
				return errs.Wrap(err, "marks")
			}
		}
		return nil
	})
}

// ConfirmSecured records that a staff member (by the token from their
// message) has their room locked down or their class out: the lockdown or
// evacuation is complete when every teacher with a class has.
func (s *Service) ConfirmSecured(ctx context.Context, token string) (time.Time, error) {
	m, err := s.byToken(ctx, s.DB.Reader(), token)
	if err != nil {
		return time.Time{}, err
	}
	now := s.Now()
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE emergency_staff SET secured_at = ? WHERE emergency_id = ? AND staff_id = ? AND secured_at IS NULL",
			store.Micros(now), m.e.ID, m.staffID)
		return errs.Wrap(err, "secured")
	})
	return now, err
}

// StaffChecklist returns the checklist of the staff member whose token it is,
// in their language.
func (s *Service) StaffChecklist(ctx context.Context, token string) (Checklist, error) {
	m, err := s.byToken(ctx, s.DB.Reader(), token)
	if err != nil {
		return Checklist{}, err
	}
	return checklist(ctx, s.DB.Reader(), m.e, fmt.Sprintf("staff:%d", m.staffID), m.role, m.lang)
}

// StaffTick records that the staff member whose token it is did step no.
func (s *Service) StaffTick(ctx context.Context, token string, no int) (time.Time, error) {
	m, err := s.byToken(ctx, s.DB.Reader(), token)
	if err != nil {
		return time.Time{}, err
	}
	return s.tick(ctx, m.e, fmt.Sprintf("staff:%d", m.staffID), m.role, no)
}

// Person is one line of a roll-call.
type Person struct {
	Kind       string     `json:"kind"` // pupil, staff, extra
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Class      string     `json:"class,omitempty"`
	Inside     bool       `json:"inside"` // at declaration, from presence
	LastPassAt *time.Time `json:"last_pass_at,omitempty"`
	Mark       string     `json:"mark,omitempty"`
	MarkedBy   string     `json:"marked_by,omitempty"`
	MarkedAt   *time.Time `json:"marked_at,omitempty"`
}

// accounted reports whether a person is known to be safe or found.
func (p Person) accounted() bool {
	return !p.Inside || p.Mark == Present || p.Mark == Injured || p.Mark == Extra
}

// Class is one class's unaccounted pupils.
type Class struct {
	Class       string   `json:"class"`
	Unaccounted []Person `json:"unaccounted"`
}

// RollCall is an emergency's roll-call as it stands.
type RollCall struct {
	EmergencyID int64      `json:"emergency_id"`
	Inside      int        `json:"inside"` // at declaration
	Accounted   int        `json:"accounted"`
	Unaccounted int        `json:"unaccounted"`
	Missing     int        `json:"missing"`
	Injured     int        `json:"injured"`
	Extra       int        `json:"extra"`
	AccountedAt *time.Time `json:"accounted_at,omitempty"` // when the last one inside was accounted for
	ByClass     []Class    `json:"by_class"`               // the unaccounted, by class (staff under "")
	People      []Person   `json:"people,omitempty"`       // everyone, with Snapshot
}

func readRollCall(ctx context.Context, q store.Querier, e Emergency) (RollCall, []Person, error) {
	rc := RollCall{EmergencyID: e.ID, ByClass: []Class{}}
	people, err := store.Collect(ctx, q, func(rows *sql.Rows) (Person, error) {
		var p Person
		var last, marked sql.NullInt64
		err := rows.Scan(&p.Kind, &p.ID, &p.Name, &p.Class, &p.Inside, &last, &p.Mark, &p.MarkedBy, &marked)
		p.LastPassAt, p.MarkedAt = store.FromNullMicros(last), store.FromNullMicros(marked)
		return p, err
	}, `SELECT person_kind, person_id, name, class, inside, last_pass_at, mark, marked_by, marked_at FROM emergency_rollcall
		WHERE emergency_id = ?`, e.ID)
	if err != nil {
		return rc, nil, errs.Wrap(err, "roll-call")
	}
	// Sorted here, byte-wise: a collating ORDER BY of a large school's
	// roll-call on PostgreSQL costs more than the rest of the read.
	slices.SortFunc(people, func(a, b Person) int {
		return cmp.Or(strings.Compare(a.Class, b.Class), strings.Compare(a.Kind, b.Kind), strings.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	byClass := map[string][]Person{}
	var lastMark time.Time
	for _, p := range people {
		if p.MarkedAt != nil && p.MarkedAt.After(lastMark) {
			lastMark = *p.MarkedAt
		}
		switch p.Mark {
		case Missing:
			rc.Missing++
		case Injured:
			rc.Injured++
		case Extra:
			rc.Extra++
		}
		if p.Kind == "extra" || !p.Inside {
			continue
		}
		rc.Inside++
		if p.accounted() {
			rc.Accounted++
			continue
		}
		rc.Unaccounted++
		byClass[p.Class] = append(byClass[p.Class], p)
	}
	classes := make([]string, 0, len(byClass))
	for c := range byClass {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	for _, c := range classes {
		rc.ByClass = append(rc.ByClass, Class{Class: c, Unaccounted: byClass[c]})
	}
	if rc.Unaccounted == 0 {
		at := e.DeclaredAt
		if e.ConfirmedAt != nil {
			at = *e.ConfirmedAt
		}
		if lastMark.After(at) {
			at = lastMark
		}
		rc.AccountedAt = &at
	}
	return rc, people, nil
}

// Unaccounted returns the live list of who is unaccounted for, by class,
// with their last pass, for the director, the guard, the ЦОУ and the ПЦН.
// Children's names: the read is access-logged.
func (s *Service) Unaccounted(ctx context.Context, p auth.Principal, id int64) (RollCall, error) {
	rc, err := s.Snapshot(ctx, p, id)
	rc.People = nil // the counts and the classes' lists, not everyone
	return rc, err
}

// Snapshot returns the whole roll-call, everyone on it, with the counts.
func (s *Service) Snapshot(ctx context.Context, p auth.Principal, id int64) (RollCall, error) {
	e, err := s.at(ctx, s.DB.Reader(), p, id, auth.ReadUnaccounted)
	if err != nil {
		return RollCall{}, err
	}
	rc, people, err := readRollCall(ctx, s.DB.Reader(), e)
	if err != nil {
		return rc, err
	}
	rc.People = people
	return rc, errs.Wrap(s.Auth.LogSchoolRead(ctx, p, "emergency.rollcall", e.SchoolID), "access log")
}

// AssignClass records the class a teacher leads (their roll-call at the
// assembly point) and the language they read messages in.
func (s *Service) AssignClass(ctx context.Context, p auth.Principal, staffID int64, class, lang string) error {
	if checkLang(lang) != nil {
		return errs.Invalidf("language", "language must be one of %v, got %q", Languages, lang)
	}
	class = strings.TrimSpace(class)
	if msg := text.Check(class, text.Line); msg != "" || utf8.RuneCountInString(class) > 20 {
		return errs.Invalidf("class", "class must be one line of at most 20 characters")
	}
	var school int64
	err := s.DB.Reader().QueryRowContext(ctx, "SELECT school_id FROM staff WHERE id = ?", staffID).Scan(&school)
	if errors.Is(err, sql.ErrNoRows) {
		return errs.NotFoundf("no staff member %d", staffID)
	}
	if err != nil {
		return errs.Wrap(err, "staff")
	}
	if err := s.inSchool(ctx, p, school, auth.WritePupils, fmt.Sprintf("staff member %d", staffID)); err != nil {
		return err
	}
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE staff SET homeroom = ?, language = ? WHERE id = ?", class, lang, staffID); err != nil {
			return errs.Wrap(err, "staff")
		}
		return auth.Append(ctx, tx, s.Now(), p, "staff.homeroom", fmt.Sprintf("staff/%d", staffID), map[string]any{"class": class, "language": lang})
	})
}
