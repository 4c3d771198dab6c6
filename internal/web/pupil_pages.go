package web

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"qorgan/internal/attendance"
	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/kztime"
	"qorgan/internal/notify"
	"qorgan/internal/registry"
)

// A pupil's pages for the school: the card (class, guardians with their
// channels and consent, today's passes, the messages sent about the child),
// the edit form, the export of everything held, and the erasure with a
// typed confirmation. Each calls the registry function behind the API's
// route (GET, PUT and DELETE /api/v1/pupils/{id}, GET …/export); a pupil of
// another school, or a guardian's own child, is not found here.

// messageDays is how far back the card shows messages about the pupil.
const messageDays = 7

// pupilSchool finds the school of a pupil the person may do perm to, as a
// school's page: NotFound unless the pupil's school is in the person's
// scope (a guardian's scope holds their children, never a school).
func (s *Server) pupilSchool(r *http.Request, p auth.Principal, perm auth.Permission) (int64, registry.School, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, registry.School{}, err
	}
	schoolID, err := registry.AtPupil(r.Context(), s.Registry.DB.Reader(), p, kztime.Today(time.Now()), id, auth.ReadPupils)
	if err != nil {
		return 0, registry.School{}, err
	}
	sc, err := s.Registry.School(r.Context(), p, schoolID)
	if err != nil {
		return 0, registry.School{}, err
	}
	return id, sc, p.Require(perm)
}

// pupilFor is the pupil a page's {id} names, read (and access-logged) for
// a person who may do perm to them, with the pupil's school.
func (s *Server) pupilFor(r *http.Request, p auth.Principal, perm auth.Permission) (registry.Pupil, registry.School, error) {
	id, sc, err := s.pupilSchool(r, p, perm)
	if err != nil {
		return registry.Pupil{}, sc, err
	}
	x, err := s.Registry.Pupil(r.Context(), p, id)
	return x, sc, err
}

type guardianRow struct {
	registry.GuardianLink
	HasConsent bool // today, in Kazakhstan
	Channels   []channelState
}

type channelState struct {
	Name string // sms, email, bot
	On   bool
}

type pupilCardData struct {
	Pupil       registry.Pupil
	School      registry.School
	Guardians   []guardianRow
	Passes      []attendance.RecentPass
	Messages    []notify.SentMessage
	CanMessages bool
	CanWrite    bool
	Notice      string
}

// cardMessageKinds are the kinds of message the card names in words; any
// other is shown as "another message".
var cardMessageKinds = []string{"pupil.entered", "pupil.left", "pupil.not_arrived", "emergency.court_order"}

// MessageKind is the message id naming a message's kind.
func (pupilCardData) MessageKind(kind string) string {
	if slices.Contains(cardMessageKinds, kind) {
		return "ui.people.kind." + kind
	}
	return "ui.people.kind.other"
}

func (s *Server) pupilCard(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view) error {
	p := sess.Principal
	x, sc, err := s.pupilFor(r, p, auth.ReadPupils)
	if err != nil {
		return err
	}
	ctx, id := r.Context(), x.ID
	off, err := s.Registry.GuardiansChannelsOff(ctx, p, id)
	if err != nil {
		return err
	}
	now := time.Now()
	d := pupilCardData{Pupil: x, School: sc, CanMessages: p.Can(auth.ReadMessages), CanWrite: p.Can(auth.WritePupils)}
	if r.URL.Query().Get("done") == "saved" {
		d.Notice = "ui.people.done.saved"
	}
	for _, g := range x.Guardians {
		row := guardianRow{GuardianLink: g, HasConsent: g.Consent(now)}
		for _, ch := range []struct {
			name string
			has  bool
		}{{"sms", true}, {"email", g.Email != ""}, {"bot", g.MessengerID != ""}} {
			if ch.has {
				row.Channels = append(row.Channels, channelState{Name: ch.name, On: !slices.Contains(off[g.ID], ch.name)})
			}
		}
		d.Guardians = append(d.Guardians, row)
	}
	if d.Passes, err = s.Access.PupilDay(ctx, p, id, attendance.Day(now)); err != nil {
		return err
	}
	if d.CanMessages {
		since := kztime.Today(now).AddDate(0, 0, -(messageDays - 1))
		if d.Messages, err = s.Outbox.PupilMessages(ctx, sc.ID, id, since, 50); err != nil {
			return err
		}
	}
	v.Title, v.Data = "ui.people.pupil.title", d
	s.render(w, http.StatusOK, "pupil", v)
	return nil
}

// pupilExportPage downloads everything held about the pupil, as the API's
// export does (the same domain call, access-logged there).
func (s *Server) pupilExportPage(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view) error {
	id, _, err := s.pupilSchool(r, sess.Principal, auth.WritePupils)
	if err != nil {
		return err
	}
	x, err := s.Registry.ExportPupil(r.Context(), sess.Principal, id)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="pupil-%d.json"`, id))
	writeJSON(w, http.StatusOK, x)
	return nil
}

// pupilFields are the edit form's fields of the pupil; guardianFields are
// each guardian's, named g<i>_<field> in the form.
var (
	pupilFields    = []string{"external_id", "last_name", "first_name", "middle_name", "class", "card_uid"}
	guardianFields = []string{"full_name", "phone", "relation", "email", "messenger_id", "language", "consent_given_on", "consent_withdrawn_on", "may_collect"}
)

type pupilFormData struct {
	Pupil  registry.Pupil // as stored: the heading and the way back
	School registry.School
	Form   map[string]string
	Slots  []int // the guardians' places in the form
	Errors map[string]string
	Notice string
}

// Field is the form's value of a guardian's field.
func (d pupilFormData) Field(slot int, name string) string {
	return d.Form[fmt.Sprintf("g%d_%s", slot, name)]
}

// FieldError is the message id beside a guardian's field, if any.
func (d pupilFormData) FieldError(slot int, name string) string {
	return d.Errors[fmt.Sprintf("g%d_%s", slot, name)]
}

// Nth numbers a guardian's place for people: from 1.
func (pupilFormData) Nth(slot int) int { return slot + 1 }

// slots are the guardians' places the form shows: those filled and one
// more, for a new guardian, up to registry.MaxGuardians.
func slots(filled int) []int {
	out := make([]int, min(filled+1, registry.MaxGuardians))
	for i := range out {
		out[i] = i
	}
	return out
}

// pupilEdit shows the form filled with the stored record.
func (s *Server) pupilEdit(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view) error {
	x, sc, err := s.pupilFor(r, sess.Principal, auth.WritePupils)
	if err != nil {
		return err
	}
	f := map[string]string{"external_id": x.ExternalID, "last_name": x.LastName, "first_name": x.FirstName, "middle_name": x.MiddleName, "class": x.Class, "card_uid": x.CardUID}
	for i, g := range x.Guardians {
		for k, val := range map[string]string{"full_name": g.FullName, "phone": g.Phone, "relation": g.Relation, "email": g.Email, "messenger_id": g.MessengerID,
			"language": g.Language, "consent_given_on": g.ConsentGivenOn, "consent_withdrawn_on": g.ConsentWithdrawnOn} {
			f[fmt.Sprintf("g%d_%s", i, k)] = val
		}
		if g.MayCollect {
			f[fmt.Sprintf("g%d_may_collect", i)] = "on"
		}
	}
	// A new guardian may collect the child unless the form says otherwise,
	// as the API's default.
	f[fmt.Sprintf("g%d_may_collect", len(x.Guardians))] = "on"
	v.Title, v.Data = "ui.people.edit.title", pupilFormData{Pupil: x, School: sc, Form: f, Slots: slots(len(x.Guardians)), Errors: map[string]string{}}
	s.render(w, http.StatusOK, "pupil_edit", v)
	return nil
}

// pupilSave changes the pupil as the API's PUT does: the whole record in
// one transaction, or nothing and the form again with each bad field's
// message beside it and what was typed kept.
func (s *Server) pupilSave(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view) error {
	p := sess.Principal
	id, sc, err := s.pupilSchool(r, p, auth.WritePupils)
	if err != nil {
		return err
	}
	pf := r.PostForm
	d := pupilFormData{School: sc, Form: map[string]string{}, Errors: map[string]string{}}
	for _, k := range pupilFields {
		d.Form[k] = pf.Get(k)
	}
	in := registry.PupilInput{ExternalID: pf.Get("external_id"), LastName: pf.Get("last_name"), FirstName: pf.Get("first_name"), MiddleName: pf.Get("middle_name"),
		Class: pf.Get("class"), CardUID: pf.Get("card_uid"), KeepPhoneToken: true}
	// A guardian's place left empty is no guardian; the places kept are
	// numbered as the domain numbers them, so each message finds its field.
	var place []int
	for i := range registry.MaxGuardians {
		for _, k := range guardianFields {
			d.Form[fmt.Sprintf("g%d_%s", i, k)] = pf.Get(fmt.Sprintf("g%d_%s", i, k))
		}
		g := registry.GuardianInput{}
		for k, dst := range map[string]*string{"full_name": &g.FullName, "phone": &g.Phone, "relation": &g.Relation, "email": &g.Email, "messenger_id": &g.MessengerID,
			"language": &g.Language, "consent_given_on": &g.ConsentGivenOn, "consent_withdrawn_on": &g.ConsentWithdrawnOn} {
			*dst = strings.TrimSpace(pf.Get(fmt.Sprintf("g%d_%s", i, k)))
		}
		if g.FullName == "" && g.Phone == "" && g.Email == "" && g.MessengerID == "" && g.Relation == "" {
			continue
		}
		collect := pf.Get(fmt.Sprintf("g%d_may_collect", i)) == "on"
		g.MayCollect = &collect
		in.Guardians = append(in.Guardians, g)
		place = append(place, i)
	}
	d.Slots = slots(0)
	if len(place) > 0 {
		d.Slots = slots(place[len(place)-1] + 1)
	}
	_, err = s.Registry.UpdatePupil(r.Context(), p, id, in)
	if err == nil {
		http.Redirect(w, r, "/pupils/"+strconv.FormatInt(id, 10)+"?done=saved", http.StatusSeeOther)
		return nil
	}
	status, ok := pupilFormErrors(err, place, d.Errors)
	if !ok {
		return err
	}
	if d.Pupil, err = s.Registry.Pupil(r.Context(), p, id); err != nil {
		return err
	}
	d.Notice = "ui.people.err.form"
	v.Title, v.Data = "ui.people.edit.title", d
	s.render(w, status, "pupil_edit", v)
	return nil
}

// pupilFormErrors puts each problem of err beside its field of the edit
// form (guardians/1/phone beside g<place[1]>_phone) and returns the status
// to answer; ok is false for an error that is not the form's to show.
func pupilFormErrors(err error, place []int, out map[string]string) (status int, ok bool) {
	var list errs.List
	if !errors.As(err, &list) {
		e := errs.As(err)
		if e.Code != errs.Invalid && e.Code != errs.Conflict {
			return 0, false
		}
		list = errs.List{e}
	}
	status = http.StatusUnprocessableEntity
	for _, e := range list {
		field, msg := e.Field, "ui.people.err."+e.Field
		if rest, found := strings.CutPrefix(e.Field, "guardians/"); found {
			n, name, _ := strings.Cut(rest, "/")
			i, err := strconv.Atoi(n)
			if err != nil || i < 0 || i >= len(place) || !slices.Contains(guardianFields, name) {
				field, msg = "guardians", "ui.people.err.guardians"
			} else {
				field, msg = fmt.Sprintf("g%d_%s", place[i], name), "ui.people.err.g_"+name
			}
		} else if !slices.Contains(pupilFields, field) && field != "guardians" {
			field, msg = "form", "ui.form.invalid"
		}
		if e.Code == errs.Conflict && field != "form" {
			status, msg = http.StatusConflict, msg+"_taken"
		}
		if _, dup := out[field]; !dup {
			out[field] = msg
		}
	}
	return status, true
}

type pupilEraseData struct {
	Pupil    registry.Pupil
	School   registry.School
	FullName string // what the person is asked to type
	Typed    string
	Error    string
}

func fullName(x registry.Pupil) string {
	return strings.Join(strings.Fields(x.LastName+" "+x.FirstName+" "+x.MiddleName), " ")
}

// sameName compares a typed name with the pupil's, ignoring case and
// spacing.
func sameName(typed, want string) bool {
	norm := func(s string) string { return strings.Join(strings.Fields(strings.ToLower(s)), " ") }
	return norm(typed) != "" && norm(typed) == norm(want)
}

// pupilErase asks for the confirmation (GET) and erases the pupil when the
// pupil's full name was typed (POST), as the API's DELETE does: everything
// held, in one transaction, audited there.
func (s *Server) pupilErase(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view) error {
	p := sess.Principal
	x, sc, err := s.pupilFor(r, p, auth.WritePupils)
	if err != nil {
		return err
	}
	id := x.ID
	d := pupilEraseData{Pupil: x, School: sc, FullName: fullName(x)}
	status := http.StatusOK
	if r.Method == http.MethodPost {
		d.Typed = r.PostForm.Get("confirm")
		if sameName(d.Typed, d.FullName) {
			if _, err := s.Registry.ErasePupil(r.Context(), p, id); err != nil {
				return err
			}
			http.Redirect(w, r, fmt.Sprintf("/schools/%d/pupils?done=erased", sc.ID), http.StatusSeeOther)
			return nil
		}
		d.Error, status = "ui.people.err.confirm", http.StatusUnprocessableEntity
	}
	v.Title, v.Data = "ui.people.erase.title", d
	s.render(w, status, "pupil_erase", v)
	return nil
}
