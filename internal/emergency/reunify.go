package emergency

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
	"qorgan/internal/kztime"
	"qorgan/internal/notify"
	"qorgan/internal/registry"
	"qorgan/internal/store"
	"qorgan/internal/text"
)

// Reunion states (the Standard Reunification Method's path: check-in, a
// runner fetches the child, release).
const (
	Waiting  = "waiting"
	Fetching = "fetching"
	Released = "released"
	Refused  = "refused"
)

// Refusal reasons.
const (
	NotOnRecord   = "not_on_record"   // the document is no guardian's of this child
	MayNotCollect = "may_not_collect" // a guardian without the "may collect" flag
	CourtOrder    = "court_order"     // a court order bars this adult
)

// Reunion is one adult's request for one child.
type Reunion struct {
	ID          int64      `json:"id"`
	EmergencyID int64      `json:"emergency_id"`
	PupilID     int64      `json:"pupil_id"`
	PupilName   string     `json:"pupil_name"`
	Class       string     `json:"class,omitempty"`
	GuardianID  int64      `json:"guardian_id,omitempty"`
	AdultName   string     `json:"adult_name"`
	State       string     `json:"state"`
	Reason      string     `json:"reason,omitempty"`
	CheckedInAt time.Time  `json:"checked_in_at"`
	CheckedInBy string     `json:"checked_in_by"`
	Runner      string     `json:"runner,omitempty"`
	RunnerAt    *time.Time `json:"runner_at,omitempty"`
	ReleasedAt  *time.Time `json:"released_at,omitempty"`
	ReleasedBy  string     `json:"released_by,omitempty"`
}

// CheckIn is an adult at the reunification point asking for a child.
type CheckIn struct {
	PupilID    int64  `json:"pupil_id"`
	IDDocument string `json:"id_document"` // the identity document's number, as shown
	FullName   string `json:"full_name"`
}

// NormalizeDocument is an identity document number as compared: upper
// case, without spaces and dashes.
func NormalizeDocument(s string) string {
	return strings.NewReplacer(" ", "", "-", "").Replace(strings.ToUpper(strings.TrimSpace(s)))
}

func checkDocument(doc string) error {
	if msg := text.Check(doc, text.Line); msg != "" {
		return errs.Invalidf("id_document", "id_document %s", msg)
	}
	if doc == "" || len(doc) > 32 {
		return errs.Invalidf("id_document", "id_document (the identity document's number) is required, at most 32 characters")
	}
	return nil
}

const reunionCols = `r.id, r.emergency_id, r.pupil_id, rc.name, rc.class, r.guardian_id, r.adult_name, r.state, r.reason, r.checked_in_at, r.checked_in_by,
	r.runner, r.runner_at, r.released_at, r.released_by`

const reunionFrom = ` FROM emergency_reunions r JOIN emergency_rollcall rc ON rc.emergency_id = r.emergency_id AND rc.person_kind = 'pupil' AND rc.person_id = r.pupil_id`

func scanReunion(sc interface{ Scan(...any) error }) (Reunion, error) {
	var r Reunion
	var g, runnerAt, released sql.NullInt64
	var in int64
	err := sc.Scan(&r.ID, &r.EmergencyID, &r.PupilID, &r.PupilName, &r.Class, &g, &r.AdultName, &r.State, &r.Reason, &in, &r.CheckedInBy,
		&r.Runner, &runnerAt, &released, &r.ReleasedBy)
	r.GuardianID, r.CheckedInAt = g.Int64, store.FromMicros(in)
	r.RunnerAt, r.ReleasedAt = store.FromNullMicros(runnerAt), store.FromNullMicros(released)
	return r, err
}

// authorise decides whether the adult with doc may take the pupil: a court
// order on the pupil against the document first, then a guardian with the
// document and the "may collect" flag.
func authorise(ctx context.Context, q store.Querier, pupil int64, doc string) (guardian int64, reason string, err error) {
	var n int
	if err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM court_orders WHERE pupil_id = ? AND id_document = ?", pupil, doc).Scan(&n); err != nil {
		return 0, "", errs.Wrap(err, "court orders")
	}
	if n > 0 {
		return 0, CourtOrder, nil
	}
	var may bool
	err = q.QueryRowContext(ctx, `SELECT g.id, pg.may_collect FROM guardians g JOIN pupil_guardians pg ON pg.guardian_id = g.id
		WHERE pg.pupil_id = ? AND g.id_document = ? ORDER BY g.id LIMIT 1`, pupil, doc).Scan(&guardian, &may)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, NotOnRecord, nil
	case err != nil:
		return 0, "", errs.Wrap(err, "guardians")
	case !may:
		return guardian, MayNotCollect, nil
	}
	return guardian, "", nil
}

// refusal is the error a refused check-in or release answers with; the
// refusal itself is recorded.
func refusal(pupil int64, reason string) error {
	msg := map[string]string{
		CourtOrder:    "a court order bars this adult from pupil %d; the director has been alerted",
		NotOnRecord:   "this identity document is no guardian's of pupil %d on record",
		MayNotCollect: "this guardian of pupil %d may not collect the child",
	}[reason]
	return errs.E(errs.Conflict, "id_document", msg, pupil)
}

// CheckIn records an adult asking for a child at the reunification point,
// checked against the record: the guardian's identity document and "may
// collect" flag, and court orders on the pupil. A refusal is recorded, and
// a court-order bar alerts the school's administration at once; it answers
// Conflict naming id_document.
func (s *Service) CheckIn(ctx context.Context, p auth.Principal, id int64, in CheckIn) (Reunion, error) {
	in.IDDocument = NormalizeDocument(in.IDDocument)
	in.FullName = strings.TrimSpace(in.FullName)
	var probs []*errs.Error
	if err := checkDocument(in.IDDocument); err != nil {
		probs = append(probs, errs.As(err))
	}
	if msg := text.Check(in.FullName, text.Line); msg != "" || in.FullName == "" || utf8.RuneCountInString(in.FullName) > 200 {
		probs = append(probs, errs.Invalidf("full_name", "full_name is required: one line, at most 200 characters"))
	}
	if err := errs.Of(probs); err != nil {
		return Reunion{}, err
	}
	e, err := s.at(ctx, s.DB.Reader(), p, id, auth.RespondEmergency)
	if err != nil {
		return Reunion{}, err
	}
	if e.State == Pending {
		return Reunion{}, errs.E(errs.Conflict, "", "emergency %d is not confirmed yet", id)
	}
	var r Reunion
	now := s.Now()
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM emergency_rollcall WHERE emergency_id = ? AND person_kind = 'pupil' AND person_id = ?", id, in.PupilID).Scan(&n); err != nil {
			return errs.Wrap(err, "check-in")
		}
		if n == 0 {
			return errs.E(errs.NotFound, "pupil_id", "pupil %d is not on this emergency's roll-call", in.PupilID)
		}
		guardian, reason, err := authorise(ctx, tx, in.PupilID, in.IDDocument)
		if err != nil {
			return err
		}
		state := Waiting
		if reason != "" {
			state = Refused
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO emergency_reunions (emergency_id, pupil_id, guardian_id, adult_name, state, reason, checked_in_at, checked_in_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, id, in.PupilID, nullID(guardian), in.FullName, state, reason, store.Micros(now), p.Actor()).Scan(&r.ID); err != nil {
			return errs.Wrap(err, "check-in")
		}
		if err := auth.Append(ctx, tx, now, p, "emergency.checkin", fmt.Sprintf("emergency/%d/reunion/%d", id, r.ID),
			map[string]any{"pupil_id": in.PupilID, "guardian_id": guardian, "state": state, "reason": reason}); err != nil {
			return err
		}
		if reason == CourtOrder {
			if err := s.alertAdministration(ctx, tx, e, r.ID, in.PupilID, now); err != nil {
				return err
			}
		}
		r, err = getReunion(ctx, tx, r.ID)
		return err
	})
	if err != nil {
		return Reunion{}, err
	}
	if r.Reason != "" {
		if r.Reason == CourtOrder {
			s.after(true)
		}
		return r, refusal(r.PupilID, r.Reason)
	}
	return r, nil
}

// alertAdministration tells the school's administration (the director, the
// safety officer) that a barred adult asked for a child: an SMS each and
// an event on the live feed.
func (s *Service) alertAdministration(ctx context.Context, tx *store.Tx, e Emergency, reunion, pupil int64, now time.Time) error {
	alert := Text{KK: "НАЗАР: сот шешімімен тыйым салынған ересек адам %d-оқушыны сұрады (отбасымен қауышу №%d).",
		RU: "ВНИМАНИЕ: взрослый, которому запрещено решением суда, запросил ученика %d (воссоединение №%d).",
		EN: "ALERT: an adult barred by a court order asked for pupil %d (reunification %d)."}
	var msgs []notify.Message
	err := store.Each(ctx, tx, func(rows *sql.Rows) error {
		var id int64
		var position, phone, lang string
		if err := rows.Scan(&id, &position, &phone, &lang); err != nil {
			return err
		}
		if staffRole(position) != Administration || phone == "" {
			return nil
		}
		body := fmt.Sprintf(alert.In(lang), pupil, reunion)
		if e.Drill {
			body = drillMark.In(lang) + body
		}
		msgs = append(msgs, notify.Message{Key: fmt.Sprintf("emergency/%d/reunion/%d/staff/%d/sms", e.ID, reunion, id), Channel: notify.ChannelSMS,
			Recipient: phone, Kind: "emergency.court_order", Body: body, Language: lang, SchoolID: e.SchoolID, PupilID: pupil, CreatedAt: now})
		return nil
	}, "SELECT id, position, phone, language FROM staff WHERE school_id = ? ORDER BY id", e.SchoolID)
	if err != nil {
		return errs.Wrap(err, "alert")
	}
	if _, err := notify.Enqueue(ctx, tx, msgs); err != nil {
		return errs.Wrap(err, "alert")
	}
	return s.feed(ctx, tx, e, "emergency.court_order", now)
}

func getReunion(ctx context.Context, q store.Querier, id int64) (Reunion, error) {
	r, err := scanReunion(q.QueryRowContext(ctx, "SELECT "+reunionCols+reunionFrom+" WHERE r.id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, errs.NotFoundf("no reunification %d", id)
	}
	return r, errs.Wrap(err, "reunification")
}

// reunionAt finds a reunification of an emergency the person may act in.
func (s *Service) reunionAt(ctx context.Context, q store.Querier, p auth.Principal, id, reunion int64) (Emergency, Reunion, error) {
	e, err := s.at(ctx, q, p, id, auth.RespondEmergency)
	if err != nil {
		return e, Reunion{}, err
	}
	r, err := getReunion(ctx, q, reunion)
	if err == nil && r.EmergencyID != id {
		err = errs.NotFoundf("no reunification %d", reunion)
	}
	return e, r, err
}

// SendRunner records the staff member sent to bring the child.
func (s *Service) SendRunner(ctx context.Context, p auth.Principal, id, reunion int64, runner string) (Reunion, error) {
	runner = strings.TrimSpace(runner)
	if msg := text.Check(runner, text.Line); msg != "" || runner == "" || utf8.RuneCountInString(runner) > 200 {
		return Reunion{}, errs.Invalidf("runner", "runner (who fetches the child) is required: one line, at most 200 characters")
	}
	var r Reunion
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		_, cur, err := s.reunionAt(ctx, tx, p, id, reunion)
		if err != nil {
			return err
		}
		if cur.State != Waiting {
			return errs.E(errs.Conflict, "", "reunification %d is %s", reunion, cur.State)
		}
		now := s.Now()
		if _, err := tx.ExecContext(ctx, "UPDATE emergency_reunions SET state = 'fetching', runner = ?, runner_at = ? WHERE id = ?", runner, store.Micros(now), reunion); err != nil {
			return errs.Wrap(err, "runner")
		}
		if err := auth.Append(ctx, tx, now, p, "emergency.runner", fmt.Sprintf("emergency/%d/reunion/%d", id, reunion), map[string]any{"runner": runner}); err != nil {
			return err
		}
		r, err = getReunion(ctx, tx, reunion)
		return err
	})
	return r, err
}

// Release records the child handed to the adult, by whom and when. The
// adult is checked against the record again (a court order recorded since
// the check-in refuses); a refusal is recorded and answers Conflict.
func (s *Service) Release(ctx context.Context, p auth.Principal, id, reunion int64) (Reunion, error) {
	var r Reunion
	var reason string
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		e, cur, err := s.reunionAt(ctx, tx, p, id, reunion)
		if err != nil {
			return err
		}
		if cur.State != Waiting && cur.State != Fetching {
			return errs.E(errs.Conflict, "", "reunification %d is %s", reunion, cur.State)
		}
		now := s.Now()
		var doc string
		if cur.GuardianID != 0 {
			if err := tx.QueryRowContext(ctx, "SELECT id_document FROM guardians WHERE id = ?", cur.GuardianID).Scan(&doc); err != nil {
				return errs.Wrap(err, "release")
			}
		}
		_, reason, err = authorise(ctx, tx, cur.PupilID, doc)
		if err != nil {
			return err
		}
		if reason != "" {
			if _, err := tx.ExecContext(ctx, "UPDATE emergency_reunions SET state = 'refused', reason = ? WHERE id = ?", reason, reunion); err != nil {
				return errs.Wrap(err, "release")
			}
			if reason == CourtOrder {
				if err := s.alertAdministration(ctx, tx, e, reunion, cur.PupilID, now); err != nil {
					return err
				}
			}
		} else if _, err := tx.ExecContext(ctx, "UPDATE emergency_reunions SET state = 'released', released_at = ?, released_by = ? WHERE id = ?",
			store.Micros(now), p.Actor(), reunion); err != nil {
			return errs.Wrap(err, "release")
		}
		if err := auth.Append(ctx, tx, now, p, "emergency.release", fmt.Sprintf("emergency/%d/reunion/%d", id, reunion),
			map[string]any{"pupil_id": cur.PupilID, "refused": reason}); err != nil {
			return err
		}
		r, err = getReunion(ctx, tx, reunion)
		return err
	})
	if err != nil {
		return r, err
	}
	if reason != "" {
		s.after(reason == CourtOrder)
		return r, refusal(r.PupilID, reason)
	}
	return r, nil
}

// Reunions lists an emergency's reunifications, those still waiting first:
// the director sees who waits for whom.
func (s *Service) Reunions(ctx context.Context, p auth.Principal, id int64) ([]Reunion, error) {
	if _, err := s.at(ctx, s.DB.Reader(), p, id, auth.RespondEmergency); err != nil {
		return nil, err
	}
	out, err := store.Collect(ctx, s.DB.Reader(), func(rows *sql.Rows) (Reunion, error) { return scanReunion(rows) },
		"SELECT "+reunionCols+reunionFrom+` WHERE r.emergency_id = ?
		ORDER BY CASE r.state WHEN 'waiting' THEN 0 WHEN 'fetching' THEN 1 ELSE 2 END, r.checked_in_at, r.id`, id)
	if out == nil {
		out = []Reunion{}
	}
	return out, errs.Wrap(err, "reunifications")
}

// MyReunions is a guardian's view: their requests and where each stands.
func (s *Service) MyReunions(ctx context.Context, p auth.Principal) ([]Reunion, error) {
	if p.Role != auth.RoleGuardian {
		return nil, errs.E(errs.Forbidden, "", "only a guardian has reunifications of their own")
	}
	out, err := store.Collect(ctx, s.DB.Reader(), func(rows *sql.Rows) (Reunion, error) { return scanReunion(rows) },
		"SELECT "+reunionCols+reunionFrom+" WHERE r.guardian_id = ? ORDER BY r.id DESC LIMIT 50", p.Scope.ID())
	if out == nil {
		out = []Reunion{}
	}
	return out, errs.Wrap(err, "reunifications")
}

// SetIDDocument records a guardian's identity document number, checked at
// reunification. The director of a school of one of their children does.
func (s *Service) SetIDDocument(ctx context.Context, p auth.Principal, guardianID int64, doc string) error {
	doc = NormalizeDocument(doc)
	if err := checkDocument(doc); err != nil {
		return err
	}
	var school int64
	err := s.DB.Reader().QueryRowContext(ctx, `SELECT MIN(p.school_id) FROM pupil_guardians pg JOIN pupils p ON p.id = pg.pupil_id WHERE pg.guardian_id = ?`, guardianID).Scan(&school)
	if err != nil || school == 0 {
		return errs.NotFoundf("no guardian %d", guardianID)
	}
	if err := s.inSchool(ctx, p, school, auth.WritePupils, fmt.Sprintf("guardian %d", guardianID)); err != nil {
		return err
	}
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE guardians SET id_document = ? WHERE id = ?", doc, guardianID); err != nil {
			return errs.Wrap(err, "guardian")
		}
		return auth.Append(ctx, tx, s.Now(), p, "guardian.id_document", fmt.Sprintf("guardian/%d", guardianID), map[string]any{})
	})
}

// CourtOrderInput is a court order barring an adult from a pupil.
type CourtOrderInput struct {
	IDDocument string `json:"id_document"`
	FullName   string `json:"full_name"`
	Note       string `json:"note,omitempty" text:"lines"`
}

// AddCourtOrder records a court order on a pupil against an adult's
// identity document.
func (s *Service) AddCourtOrder(ctx context.Context, p auth.Principal, pupilID int64, in CourtOrderInput) (int64, error) {
	in.IDDocument = NormalizeDocument(in.IDDocument)
	if err := checkDocument(in.IDDocument); err != nil {
		return 0, err
	}
	in.FullName, in.Note = strings.TrimSpace(in.FullName), strings.TrimSpace(in.Note)
	if msg := text.Check(in.FullName, text.Line); msg != "" || utf8.RuneCountInString(in.FullName) > 200 {
		return 0, errs.Invalidf("full_name", "full_name is one line of at most 200 characters")
	}
	if msg := text.Check(in.Note, text.Lines); msg != "" || utf8.RuneCountInString(in.Note) > 1000 {
		return 0, errs.Invalidf("note", "note is at most 1000 characters of text")
	}
	var school int64
	err := s.DB.Reader().QueryRowContext(ctx, "SELECT school_id FROM pupils WHERE id = ?", pupilID).Scan(&school)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, errs.NotFoundf("no pupil %d", pupilID)
	}
	if err != nil {
		return 0, errs.Wrap(err, "pupil")
	}
	if err := s.inSchool(ctx, p, school, auth.WritePupils, fmt.Sprintf("pupil %d", pupilID)); err != nil {
		return 0, err
	}
	var id int64
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		now := s.Now()
		if err := tx.QueryRowContext(ctx, "INSERT INTO court_orders (pupil_id, id_document, full_name, note, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
			pupilID, in.IDDocument, in.FullName, in.Note, store.Micros(now)).Scan(&id); err != nil {
			return errs.Wrap(err, "court order")
		}
		return auth.Append(ctx, tx, now, p, "pupil.court_order", fmt.Sprintf("pupil/%d", pupilID), map[string]any{"court_order": id})
	})
	return id, err
}

// inSchool is registry.AtSchool naming the object asked for, not its school.
func (s *Service) inSchool(ctx context.Context, p auth.Principal, school int64, perm auth.Permission, what string) error {
	err := registry.AtSchool(ctx, s.DB.Reader(), p, kztime.Today(s.Now()), school, perm)
	if errs.CodeOf(err) == errs.NotFound {
		return errs.NotFoundf("no %s", what)
	}
	return err
}
