package emergency_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"qorgan/internal/emergency"
	"qorgan/internal/errs"
	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
)

// TestStaffView: with the installation's public address set, each staff
// member's code line names the page the code opens, in their language; the
// page's view by code is the emergency, the checklist in the language asked
// for (else the staff member's), the secured time once confirmed and, for a
// teacher, exactly their class from the roll-call; an unknown code is
// Unauthorized and an ended emergency's a Conflict, as the API has them.
func TestStaffView(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		f.svc.PublicURL = "https://qorgan.example.kz/"
		ctx := context.Background()
		langs := f.staffLangs(t)
		e := f.live(t, "director", declaration(emergency.Lockdown))
		where := map[string]string{"kk": ", мұнда енгізіңіз: https://qorgan.example.kz/staff", "ru": ", ввести здесь: https://qorgan.example.kz/staff",
			"en": ", enter it at https://qorgan.example.kz/staff"}
		toks := f.tokens(t, e.ID)
		for _, m := range f.messages(t, e.ID) {
			if m.kind == "emergency.staff" && !strings.HasSuffix(m.body, tokenRE.FindString(m.body)+where[m.lang]) {
				t.Errorf("a %s staff message does not end its code line with the page: %q", m.lang, m.body)
			}
		}
		classes := f.classOf(t)
		var teacher int64
		for id := range classes {
			if teacher == 0 || id < teacher {
				teacher = id
			}
		}
		v, err := f.svc.StaffView(ctx, toks[teacher], "")
		if err != nil {
			t.Fatal(err)
		}
		if v.Emergency.ID != e.ID || v.Emergency.Mode != emergency.Lockdown || v.Role != emergency.Teacher || v.Homeroom != classes[teacher] ||
			v.SchoolNameRU == "" || v.SecuredAt != nil || v.Checklist.Language != langs[teacher] || len(v.Checklist.Steps) == 0 {
			t.Fatalf("the teacher's view: %+v", v)
		}
		var ids []int64
		for _, p := range v.Class {
			if p.Class != classes[teacher] {
				t.Errorf("pupil %d of class %s on class %s's page", p.ID, p.Class, classes[teacher])
			}
			ids = append(ids, p.ID)
		}
		slices.Sort(ids)
		if want := f.pupilsOf(t, classes[teacher]); !slices.Equal(ids, want) {
			t.Errorf("the class on the page: %v, want %v", ids, want)
		}
		if _, err := f.svc.ConfirmSecured(ctx, toks[teacher]); err != nil {
			t.Fatal(err)
		}
		other := "en"
		if langs[teacher] == "en" {
			other = "ru"
		}
		if v, err = f.svc.StaffView(ctx, toks[teacher], other); err != nil || v.SecuredAt == nil || v.Checklist.Language != other {
			t.Errorf("after secured, in %s: %v %+v", other, err, v)
		}
		// A staff member without a class gets no class list.
		for id, tok := range toks {
			if classes[id] == "" {
				if v, err := f.svc.StaffView(ctx, tok, ""); err != nil || v.Homeroom != "" || v.Class != nil {
					t.Errorf("staff %d without a class: %v %+v", id, err, v)
				}
				break
			}
		}
		_, err = f.svc.StaffView(ctx, "qe_nothing", "")
		wantCode(t, err, errs.Unauthorized, "an unknown code")
		if _, err := f.svc.End(ctx, f.p["director"], e.ID, emergency.AllClear); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.StaffView(ctx, toks[teacher], "")
		wantCode(t, err, errs.Conflict, "an ended emergency's code")
	})
}
