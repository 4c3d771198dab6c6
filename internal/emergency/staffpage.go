package emergency

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"qorgan/internal/errs"
	"qorgan/internal/store"
)

// StaffView is what a staff member's emergency page shows, read with the
// code from their message: the emergency, their checklist, whether they
// have confirmed their room secured and, for a homeroom teacher, their
// class as the roll-call has it.
type StaffView struct {
	Emergency    Emergency
	SchoolNameKK string
	SchoolNameRU string
	Role         Role
	Homeroom     string // empty: no class to mark
	SecuredAt    *time.Time
	Checklist    Checklist
	Class        []Person // the homeroom's pupils, by name
}

// StaffView reads the page of the staff member whose code it is; lang, when
// one of Languages, words the checklist instead of the language kept for
// their messages (the page's reader chose it). An unknown code is
// Unauthorized, an emergency no longer live a Conflict, as the API has them.
func (s *Service) StaffView(ctx context.Context, token, lang string) (StaffView, error) {
	q := s.DB.Reader()
	m, err := s.byToken(ctx, q, token)
	if err != nil {
		return StaffView{}, err
	}
	if checkLang(lang) != nil {
		lang = m.lang
	}
	// The class is the one MarkClass takes marks for.
	v := StaffView{Emergency: m.e, Role: m.role, Homeroom: m.homeroom}
	var secured sql.NullInt64
	if err := q.QueryRowContext(ctx, `SELECT es.secured_at, s.name_kk, s.name_ru FROM emergency_staff es JOIN schools s ON s.id = ?
		WHERE es.emergency_id = ? AND es.staff_id = ?`, m.e.SchoolID, m.e.ID, m.staffID).Scan(&secured, &v.SchoolNameKK, &v.SchoolNameRU); err != nil {
		return v, errs.Wrap(err, "staff page")
	}
	v.SecuredAt = store.FromNullMicros(secured)
	if v.Checklist, err = checklist(ctx, q, m.e, fmt.Sprintf("staff:%d", m.staffID), m.role, lang); err != nil {
		return v, err
	}
	if v.Homeroom == "" {
		return v, nil
	}
	v.Class, err = store.Collect(ctx, q, func(rows *sql.Rows) (Person, error) {
		p := Person{Kind: "pupil"}
		var last, marked sql.NullInt64
		err := rows.Scan(&p.ID, &p.Name, &p.Class, &p.Inside, &last, &p.Mark, &p.MarkedBy, &marked)
		p.LastPassAt, p.MarkedAt = store.FromNullMicros(last), store.FromNullMicros(marked)
		return p, err
	}, `SELECT person_id, name, class, inside, last_pass_at, mark, marked_by, marked_at FROM emergency_rollcall
		WHERE emergency_id = ? AND person_kind = 'pupil' AND class = ?`, m.e.ID, v.Homeroom)
	// Sorted here, byte-wise, as the roll-call is: the same order on both engines.
	slices.SortFunc(v.Class, func(a, b Person) int { return cmp.Or(strings.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID)) })
	return v, errs.Wrap(err, "staff page")
}
