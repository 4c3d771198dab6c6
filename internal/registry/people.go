package registry

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/store"
)

// A school's people for its console pages: pupils, staff and guardians,
// found by name (or a class) and read a page at a time, with the total.
// Each query reads one school's rows by its index; none reads the country.

// PeopleQuery narrows and pages a school's list of people.
type PeopleQuery struct {
	// Search holds words each of which must be found in a person's name
	// (as typed, in lower case, or with only its first letter a capital:
	// LIKE ignores case in neither store beyond ASCII); a word that is a
	// class (5А) matches the pupils of that class.
	Search string
	Class  string // only pupils of this class (guardians: of this class's pupils)
	Offset int
	Limit  int // 1–MaxLimit
}

// MaxSearch is how long a search may be, in characters.
const MaxSearch = 100

// PeoplePage is one page of a school's people and how many there are in all.
type PeoplePage[T any] struct {
	Items []T
	Total int
}

// SchoolGuardian is a guardian as the school's list shows them: their
// details and the school's children they are linked to.
type SchoolGuardian struct {
	Guardian
	ChannelsOff []string
	Children    []GuardianChild
}

// GuardianChild is one of a guardian's children at the school.
type GuardianChild struct {
	PupilID    int64
	Name       string
	Class      string
	Relation   string
	MayCollect bool
}

func (q PeopleQuery) check() error {
	if utf8.RuneCountInString(q.Search) > MaxSearch {
		return errs.Invalidf("q", "a search is at most %d characters", MaxSearch)
	}
	if q.Limit <= 0 || q.Limit > MaxLimit || q.Offset < 0 {
		return errs.Invalidf("limit", "limit must be 1–%d", MaxLimit)
	}
	return nil
}

var likeEscape = strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`)

// nameCond is the SQL condition, with its arguments, that every word of
// search is in the name expression (or, with class, is the class).
func nameCond(search, name, class string) (string, []any) {
	var conds []string
	var args []any
	for _, w := range strings.Fields(search) {
		like := "%" + likeEscape.Replace(w) + "%"
		lower := strings.ToLower(w)
		title := lower
		if r, n := utf8.DecodeRuneInString(lower); r != utf8.RuneError {
			title = string(unicode.ToUpper(r)) + lower[n:]
		}
		c := "(" + name + " LIKE ? ESCAPE '\\' OR " + name + " LIKE ? ESCAPE '\\' OR " + name + " LIKE ? ESCAPE '\\'"
		args = append(args, like, "%"+likeEscape.Replace(lower)+"%", "%"+likeEscape.Replace(title)+"%")
		if class != "" {
			c += " OR " + class + " = ?"
			args = append(args, strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(w)))
		}
		conds = append(conds, c+")")
	}
	if len(conds) == 0 {
		return "1=1", nil
	}
	return strings.Join(conds, " AND "), args
}

// classOf checks that p may read the school's pupils and q is sound, and
// returns the SQL condition, with its arguments, over pupils p (their
// school joined as s) for the school's pupils p may read, of q's class.
func (r *Registry) classOf(ctx context.Context, p auth.Principal, schoolID int64, q PeopleQuery) (string, []any, error) {
	if _, err := r.SchoolFor(ctx, p, schoolID, auth.ReadPupils); err != nil {
		return "", nil, err
	}
	if err := q.check(); err != nil {
		return "", nil, err
	}
	scope, sargs := pupilFilter(p, "p", r.today())
	cond, args := "p.school_id = ? AND "+scope, append([]any{schoolID}, sargs...)
	if q.Class != "" {
		cond += " AND p.class = ?"
		args = append(args, q.Class)
	}
	return cond, args, nil
}

// byName reads the ids and names that query selects (one school's list: a
// few thousand at most), orders them as people read names here — CLDR's
// Kazakh collation, Ә after А and І after Ы, which neither store's ORDER BY
// gives — and returns q's page of the ids and how many there are in all.
func (r *Registry) byName(ctx context.Context, q PeopleQuery, query string, args ...any) ([]int64, int, error) {
	type named struct {
		id  int64
		key []byte
	}
	col := collate.New(language.Kazakh)
	var buf collate.Buffer
	var all []named
	err := store.Each(ctx, r.DB.Reader(), func(rows *sql.Rows) error {
		var n named
		var name string
		if err := rows.Scan(&n.id, &name); err != nil {
			return err
		}
		n.key = bytes.Clone(col.KeyFromString(&buf, name))
		buf.Reset()
		all = append(all, n)
		return nil
	}, query, args...)
	if err != nil {
		return nil, 0, err
	}
	slices.SortFunc(all, func(a, b named) int {
		if c := bytes.Compare(a.key, b.key); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	lo := min(q.Offset, len(all))
	var ids []int64
	for _, n := range all[lo:min(lo+q.Limit, len(all))] {
		ids = append(ids, n.id)
	}
	return ids, len(all), nil
}

// byKey reads the rows of keys with query (which ends in "IN "), in
// batches, into a map by each row's key.
func byKey[K comparable, T any](ctx context.Context, q store.Querier, keys []K, scan func(*sql.Rows) (T, error), key func(T) K, query string) (map[K]T, error) {
	out := make(map[K]T, len(keys))
	err := store.InBatches(keys, store.InList, func(ph string, args []any) error {
		return store.Each(ctx, q, func(rows *sql.Rows) error {
			x, err := scan(rows)
			out[key(x)] = x
			return err
		}, query+"("+ph+")", args...)
	})
	return out, err
}

// inOrder reads the rows of ids with query (which ends in "IN "), in the
// order of ids.
func inOrder[T any](ctx context.Context, q store.Querier, ids []int64, scan func(*sql.Rows) (T, error), id func(T) int64, query string) ([]T, error) {
	byID, err := byKey(ctx, q, ids, scan, id, query)
	out := make([]T, 0, len(ids))
	for _, i := range ids {
		if x, ok := byID[i]; ok {
			out = append(out, x)
		}
	}
	return out, err
}

// FindPupils reads a page of a school's pupils, by name, for staff who may
// read them (NotFound outside the caller's scope, Forbidden for a role
// that may not read children). Every pupil shown is access-logged.
func (r *Registry) FindPupils(ctx context.Context, p auth.Principal, schoolID int64, q PeopleQuery) (PeoplePage[Pupil], error) {
	cond, args, err := r.classOf(ctx, p, schoolID, q)
	if err != nil {
		return PeoplePage[Pupil]{}, err
	}
	where := " FROM pupils p JOIN schools s ON s.id = p.school_id WHERE " + cond
	c, cargs := nameCond(q.Search, "(p.last_name || ' ' || p.first_name || ' ' || p.middle_name)", "p.class")
	where += " AND " + c
	args = append(args, cargs...)
	var out PeoplePage[Pupil]
	ids, total, err := r.byName(ctx, q, "SELECT p.id, p.last_name || ' ' || p.first_name || ' ' || p.middle_name"+where, args...)
	if err != nil {
		return out, errs.Wrap(err, "find pupils")
	}
	out.Total = total
	items, err := inOrder(ctx, r.DB.Reader(), ids, scanPupilRow, func(x Pupil) int64 { return x.ID }, "SELECT "+pupilCols+" FROM pupils p WHERE p.id IN ")
	if err != nil {
		return out, errs.Wrap(err, "find pupils")
	}
	if err := r.attachGuardians(ctx, items); err != nil {
		return out, errs.Wrap(err, "find pupils")
	}
	out.Items = items
	return out, r.logReads(ctx, p, "pupil.list", items)
}

// Classes lists the classes of a school's pupils, 1А before 10Б.
func (r *Registry) Classes(ctx context.Context, p auth.Principal, schoolID int64) ([]string, error) {
	if _, err := r.SchoolFor(ctx, p, schoolID, auth.ReadPupils); err != nil {
		return nil, err
	}
	out, err := store.Collect(ctx, r.DB.Reader(), func(rows *sql.Rows) (string, error) {
		var c string
		return c, rows.Scan(&c)
	}, "SELECT DISTINCT class FROM pupils WHERE school_id = ?", schoolID)
	if err != nil {
		return nil, errs.Wrap(err, "classes")
	}
	slices.SortFunc(out, ClassOrder)
	return out, nil
}

// ClassOrder sorts "2А" before "10Б": by the grade, then the letter; an
// empty class last.
func ClassOrder(a, b string) int {
	if a == "" || b == "" {
		switch {
		case a == b:
			return 0
		case a == "":
			return 1
		}
		return -1
	}
	na, ra := leadingNumber(a)
	nb, rb := leadingNumber(b)
	if na != nb {
		return na - nb
	}
	return strings.Compare(ra, rb)
}

func leadingNumber(s string) (int, string) {
	i, n := 0, 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		n = n*10 + int(s[i]-'0')
		i++
	}
	return n, s[i:]
}

// FindStaff reads a page of a school's staff, by name or position, for the
// roles that may read them.
func (r *Registry) FindStaff(ctx context.Context, p auth.Principal, schoolID int64, q PeopleQuery) (PeoplePage[Staff], error) {
	if _, err := r.SchoolFor(ctx, p, schoolID, auth.ReadStaff); err != nil {
		return PeoplePage[Staff]{}, err
	}
	if err := q.check(); err != nil {
		return PeoplePage[Staff]{}, err
	}
	c, cargs := nameCond(q.Search, "(full_name || ' ' || position)", "")
	where := " FROM staff WHERE school_id = ? AND " + c
	args := append([]any{schoolID}, cargs...)
	var out PeoplePage[Staff]
	ids, total, err := r.byName(ctx, q, "SELECT id, full_name"+where, args...)
	if err != nil {
		return out, errs.Wrap(err, "find staff")
	}
	out.Total = total
	items, err := inOrder(ctx, r.DB.Reader(), ids, func(rows *sql.Rows) (Staff, error) {
		var s Staff
		err := rows.Scan(&s.ID, &s.SchoolID, &s.ExternalID, &s.FullName, &s.Position, &s.Phone, &s.CardUID)
		return s, err
	}, func(x Staff) int64 { return x.ID }, "SELECT id, school_id, external_id, full_name, position, phone, COALESCE(card_uid, '') FROM staff WHERE id IN ")
	out.Items = items
	return out, errs.Wrap(err, "find staff")
}

// FindGuardians reads a page of the guardians of a school's pupils (of one
// class, with q.Class), by name or phone digits, with the children they are
// linked to here, for staff who may read pupils. The read is access-logged
// as one school-wide entry, as the roll-call's is.
func (r *Registry) FindGuardians(ctx context.Context, p auth.Principal, schoolID int64, q PeopleQuery) (PeoplePage[SchoolGuardian], error) {
	cond, args, err := r.classOf(ctx, p, schoolID, q)
	if err != nil {
		return PeoplePage[SchoolGuardian]{}, err
	}
	linked := "SELECT pg.guardian_id FROM pupil_guardians pg JOIN pupils p ON p.id = pg.pupil_id JOIN schools s ON s.id = p.school_id WHERE " + cond
	c, cargs := nameCond(q.Search, "(g.full_name || ' ' || g.phone)", "")
	where := " FROM guardians g WHERE g.id IN (" + linked + ") AND " + c
	args = append(args, cargs...)
	var out PeoplePage[SchoolGuardian]
	rd := r.DB.Reader()
	ids, total, err := r.byName(ctx, q, "SELECT g.id, g.full_name"+where, args...)
	if err != nil {
		return out, errs.Wrap(err, "find guardians")
	}
	out.Total = total
	items, err := inOrder(ctx, rd, ids, func(rows *sql.Rows) (SchoolGuardian, error) {
		var off string
		g, err := scanGuardian(rows, &off)
		return SchoolGuardian{Guardian: g, ChannelsOff: splitChannels(off), Children: []GuardianChild{}}, err
	}, func(x SchoolGuardian) int64 { return x.ID }, "SELECT "+guardianCols+", g.channels_off FROM guardians g WHERE g.id IN ")
	if err != nil {
		return out, errs.Wrap(err, "find guardians")
	}
	idx := map[int64]int{}
	ids = make([]int64, len(items)) // those still there
	for i, g := range items {
		idx[g.ID], ids[i] = i, g.ID
	}
	// From the guardians' links to their pupils (CROSS JOIN keeps SQLite
	// to that order): from the school's pupils it took 0.14 s at national
	// size, probing every pupil for 50 guardians.
	err = store.InBatches(ids, store.InList, func(ph string, bargs []any) error {
		return store.Each(ctx, rd, func(rows *sql.Rows) error {
			var gid int64
			var k GuardianChild
			var last, first string
			if err := rows.Scan(&gid, &k.PupilID, &last, &first, &k.Class, &k.Relation, &k.MayCollect); err != nil {
				return err
			}
			k.Name = last + " " + first
			items[idx[gid]].Children = append(items[idx[gid]].Children, k)
			return nil
		}, `SELECT pg.guardian_id, p.id, p.last_name, p.first_name, p.class, pg.relation, pg.may_collect
			FROM pupil_guardians pg CROSS JOIN pupils p
			WHERE p.id = pg.pupil_id AND p.school_id = ? AND pg.guardian_id IN (`+ph+`) ORDER BY p.last_name, p.first_name, p.id`, append([]any{schoolID}, bargs...)...)
	})
	if err != nil {
		return out, errs.Wrap(err, "find guardians")
	}
	out.Items = items
	if len(items) > 0 {
		if err := r.Auth.LogSchoolRead(ctx, p, "guardian.list", schoolID); err != nil {
			return out, errs.Wrap(err, "access log")
		}
	}
	return out, nil
}

// GuardiansChannelsOff returns, for each guardian of a pupil the caller may
// read, the channels that guardian has switched off.
func (r *Registry) GuardiansChannelsOff(ctx context.Context, p auth.Principal, pupilID int64) (map[int64][]string, error) {
	if _, err := atPupil(ctx, r.DB.Reader(), p, r.today(), pupilID, auth.ReadPupils); err != nil {
		return nil, err
	}
	out := map[int64][]string{}
	err := store.Each(ctx, r.DB.Reader(), func(rows *sql.Rows) error {
		var id int64
		var off string
		if err := rows.Scan(&id, &off); err != nil {
			return err
		}
		out[id] = splitChannels(off)
		return nil
	}, "SELECT g.id, g.channels_off FROM pupil_guardians pg JOIN guardians g ON g.id = pg.guardian_id WHERE pg.pupil_id = ?", pupilID)
	return out, errs.Wrap(err, "guardians' channels")
}
