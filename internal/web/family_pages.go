package web

import (
	"net/http"
	"slices"
	"time"

	"qorgan/internal/attendance"
	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/kztime"
	"qorgan/internal/registry"
)

// The guardian's pages, laid out for a phone first: their children with
// today's arrivals and departures (kept current), a child's history day by
// day, the message channels, and consent with its withdrawal.

type childDay struct {
	Pupil    registry.Pupil
	Presence string // inside, left, not_arrived
	Passes   []attendance.RecentPass
}

type familyData struct {
	Children []childDay
	Channels []channelBox
	Consent  registry.GuardianConsent
	Saved    string // a message id after a change
}

type channelBox struct {
	Name string
	On   bool
}

// presenceOf is where a child is after the day's passes.
func presenceOf(ps []attendance.RecentPass) string {
	if len(ps) == 0 {
		return "not_arrived"
	}
	if ps[len(ps)-1].Direction == attendance.In {
		return "inside"
	}
	return "left"
}

func (s *Server) family(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view) error {
	p := sess.Principal
	ctx := r.Context()
	kids, err := s.Registry.Children(ctx, p)
	if err != nil {
		return err
	}
	today := kztime.Today(time.Now()).Format(time.DateOnly)
	d := familyData{Saved: map[string]string{"channels": "ui.family.saved", "consent": "ui.family.withdrawn"}[r.URL.Query().Get("saved")]}
	for _, k := range kids {
		ps, err := s.Access.PupilDay(ctx, p, k.ID, today)
		if err != nil {
			return err
		}
		d.Children = append(d.Children, childDay{Pupil: k, Presence: presenceOf(ps), Passes: ps})
	}
	ch, err := s.Registry.MyChannels(ctx, p)
	if err != nil {
		return err
	}
	for _, c := range registry.MessageChannels {
		d.Channels = append(d.Channels, channelBox{Name: c, On: !slices.Contains(ch.Off, c)})
	}
	if d.Consent, err = s.Registry.MyConsent(ctx, p); err != nil {
		return err
	}
	return s.renderPage(w, http.StatusOK, "family", v, "ui.family.title", d)
}

type childHistory struct {
	Pupil            registry.Pupil
	Day              string
	Prev, Next       string // neighbouring days; Next empty from today
	Passes           []attendance.RecentPass
	Presence         string
	DayShown, Future bool
}

func (s *Server) childPage(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view) error {
	p := sess.Principal
	id, kid, err := getByID(r, p, s.Registry.Pupil)
	if err != nil {
		return err
	}
	ctx := r.Context()
	today := kztime.Today(time.Now())
	day := r.URL.Query().Get("day")
	if day == "" {
		day = today.Format(time.DateOnly)
	}
	t, err := time.ParseInLocation(time.DateOnly, day, kztime.Almaty)
	if err != nil {
		return errs.NotFoundf("no day %q", day)
	}
	ps, err := s.Access.PupilDay(ctx, p, id, day)
	if err != nil {
		return err
	}
	d := childHistory{Pupil: kid, Day: day, Passes: ps, Presence: presenceOf(ps), Prev: t.AddDate(0, 0, -1).Format(time.DateOnly)}
	if next := t.AddDate(0, 0, 1); !next.After(today) {
		d.Next = next.Format(time.DateOnly)
	}
	return s.renderPage(w, http.StatusOK, "child", v, "ui.family.history", d)
}

// familyChannels switches the guardian's channels from the form's boxes.
func (s *Server) familyChannels(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view) error {
	off := []string{}
	for _, c := range registry.MessageChannels {
		if r.PostForm.Get("on_"+c) != "on" {
			off = append(off, c)
		}
	}
	if _, err := s.Registry.SetMyChannels(r.Context(), sess.Principal, registry.GuardianChannels{Off: off}); err != nil {
		return err
	}
	http.Redirect(w, r, "/family?saved=channels", http.StatusSeeOther)
	return nil
}

// familyConsent withdraws the guardian's consent; the form must say so in
// its own box, so that no stray press withdraws it.
func (s *Server) familyConsent(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view) error {
	if r.PostForm.Get("understood") != "on" {
		return errs.Invalidf("understood", "tick the box to withdraw consent")
	}
	if _, err := s.Registry.WithdrawMyConsent(r.Context(), sess.Principal); err != nil {
		return err
	}
	http.Redirect(w, r, "/family?saved=consent", http.StatusSeeOther)
	return nil
}
