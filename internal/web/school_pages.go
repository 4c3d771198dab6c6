package web

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"qorgan/internal/alarm"
	"qorgan/internal/attendance"
	"qorgan/internal/auth"
	"qorgan/internal/emergency"
	"qorgan/internal/errs"
	"qorgan/internal/registry"
)

// The school's pages for its director and guard: the live board (who is
// inside, the newest passes, the school's open alarms, its devices), the
// roll-call, and the panic action with its confirmation step.

// boardReads remembers when a person's board read a school's names into
// the access log last: the board refreshes itself every few seconds, and
// one entry per person, school and ten minutes says what was read without
// thousands of rows per day per open screen.
type boardReads struct {
	mu   sync.Mutex
	last map[[2]int64]time.Time
}

const boardLogEvery = 10 * time.Minute

// due reports whether (user, school) should be logged at now, and notes it.
func (b *boardReads) due(user, school int64, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.last == nil {
		b.last = map[[2]int64]time.Time{}
	}
	k := [2]int64{user, school}
	if t, ok := b.last[k]; ok && now.Sub(t) < boardLogEvery {
		return false
	}
	if len(b.last) > 100_000 { // a bound: forgetting only logs again
		clear(b.last)
	}
	b.last[k] = now
	return true
}

type boardData struct {
	School  registry.School
	Board   attendance.Board
	Alarms  []alarm.Alarm
	Devices []alarm.DeviceState
	CanPanic,
	CanRollCall bool
	RequestID string // makes a repeated press of the panic form one alarm
	Raised    bool   // the panic was just raised from this board
	// Emergency is the school's emergency in force (not a silent one for
	// the school's own staff), shown above all else.
	Emergency *emergency.Emergency
}

// pathSchool reads the path's school id and the school, in p's scope:
// another's school is not found.
func (s *Server) pathSchool(r *http.Request, p auth.Principal) (int64, registry.School, error) {
	return getByID(r, p, s.Registry.School)
}

// schoolPageFunc is a page of one school, the path's, as the person
// signed in may see it.
type schoolPageFunc func(w http.ResponseWriter, r *http.Request, p auth.Principal, v *view, sc registry.School) error

// ofSchool reads the path's school in the signed-in person's scope
// (another's school is not found) and shows h of it.
func (s *Server) ofSchool(h schoolPageFunc) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view) error {
		_, sc, err := s.pathSchool(r, sess.Principal)
		if err != nil {
			return err
		}
		return h(w, r, sess.Principal, v, sc)
	}
}

// newRequestID is a random id for one showing of the panic form.
func newRequestID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (s *Server) schoolBoard(w http.ResponseWriter, r *http.Request, p auth.Principal, v *view, sc registry.School) error {
	ctx, id := r.Context(), sc.ID
	var err error
	d := boardData{School: sc, CanPanic: p.Can(auth.RaisePanic), CanRollCall: p.Can(auth.ReadPupils), RequestID: newRequestID(),
		Raised: r.URL.Query().Get("raised") == "1"}
	if d.CanRollCall {
		if d.Board, err = s.Access.Board(ctx, p, id, 15); err != nil {
			return err
		}
		if s.boardReads.due(p.UserID, id, time.Now()) {
			if err := s.Auth.LogSchoolRead(ctx, p, "board", id); err != nil {
				return errs.Wrap(err, "access log")
			}
		}
	}
	if p.Can(auth.ReadAlarms) {
		all, err := s.Alarms.List(ctx, p, false, 50)
		if err != nil {
			return err
		}
		for _, a := range all {
			if a.SchoolID == id {
				d.Alarms = append(d.Alarms, a)
			}
		}
	}
	if d.Devices, err = s.Alarms.DeviceStates(ctx, p, id); err != nil {
		return err
	}
	if p.Can(auth.ReadEmergency) {
		list, err := s.Emergency.List(ctx, p, id, 1)
		if err != nil {
			return err
		}
		if len(list) > 0 && list[0].State != emergency.Ended {
			d.Emergency = &list[0]
		}
	}
	return s.renderPage(w, http.StatusOK, "board", v, "ui.board.title", d)
}

type rollCallData struct {
	School   registry.School
	RC       attendance.RollCall
	People   []attendance.Attendee // after the filters
	Classes  []string
	Presence string // the filter: "", inside, left, not_arrived
	Class    string
}

func (s *Server) rollCallPage(w http.ResponseWriter, r *http.Request, p auth.Principal, v *view, sc registry.School) error {
	ctx, id := r.Context(), sc.ID
	rc, err := s.Access.RollCall(ctx, s.Auth, p, id)
	if err != nil {
		return err
	}
	d := rollCallData{School: sc, RC: rc, Presence: r.URL.Query().Get("presence"), Class: r.URL.Query().Get("class")}
	switch d.Presence {
	case "", "inside", "left", "not_arrived":
	default:
		d.Presence = ""
	}
	for _, a := range rc.People {
		if a.Class != "" && !slices.Contains(d.Classes, a.Class) {
			d.Classes = append(d.Classes, a.Class)
		}
		if (d.Presence == "" || a.Presence == d.Presence) && (d.Class == "" || a.Class == d.Class) {
			d.People = append(d.People, a)
		}
	}
	slices.SortFunc(d.Classes, registry.ClassOrder)
	slices.SortStableFunc(d.People, func(a, b attendance.Attendee) int {
		if c := registry.ClassOrder(a.Class, b.Class); c != 0 {
			return c
		}
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return s.renderPage(w, http.StatusOK, "rollcall", v, "ui.rollcall.title", d)
}

type panicData struct {
	School    registry.School
	RequestID string
	Silent    bool
	Note      string
}

// panicPage is the staff panic action. The board's button brings this
// confirmation page; only its own button (confirmed=yes) raises the alarm,
// so that one accidental press cannot. (With the script, holding the
// board's button for 1.5 s is the confirmation.)
func (s *Server) panicPage(w http.ResponseWriter, r *http.Request, p auth.Principal, v *view, sc registry.School) error {
	ctx, id := r.Context(), sc.ID
	if err := p.Require(auth.RaisePanic); err != nil {
		return err
	}
	f := r.PostForm
	silent := f.Get("silent") == "on"
	if r.Method != http.MethodPost || f.Get("confirmed") != "yes" {
		// The first press, or the confirmation shown again by a GET (the
		// language switch returns to the page it was on): nothing raised.
		req := f.Get("request_id")
		if req == "" {
			req = newRequestID()
		}
		return s.renderPage(w, http.StatusOK, "panic", v, "ui.panic.title", panicData{School: sc, RequestID: req, Silent: silent, Note: f.Get("note")})
	}
	if err := s.Alarms.StaffPanic(ctx, p, id, silent, f.Get("request_id"), f.Get("note")); err != nil {
		return err
	}
	http.Redirect(w, r, "/schools/"+strconv.FormatInt(id, 10)+"/board?raised=1", http.StatusSeeOther)
	return nil
}
