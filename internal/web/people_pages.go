package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"qorgan/internal/auth"
	"qorgan/internal/registry"
)

// The school's people for its director and guard: pupils, staff and
// guardians, each list searched, filtered by class and paged, over the
// registry's FindPupils, FindStaff and FindGuardians in the person's scope.
//
// A name is personal data, and no personal data goes into an address: a
// search by name is sent by POST and its pages are turned by POST too (the
// words ride in the form, never in the URL); a class and a page number are
// no one's personal data and may sit in the address.

// peoplePageSize is how many people one page of a list shows.
const peoplePageSize = 50

// The kinds of list.
const (
	listPupils    = "pupils"
	listStaff     = "staff"
	listGuardians = "guardians"
)

type schoolPeopleData struct {
	Kind      string
	Action    string // the list's own address
	School    registry.School
	Q         string // the search, from the form only
	Class     string
	Classes   []string // nil for staff
	Page      int      // from 1
	Pages     int
	Total     int
	Pupils    []registry.Pupil
	Staff     []registry.Staff
	Guardians []registry.SchoolGuardian
	Errors    map[string]string
	Notice    string
	CanWrite  bool
}

// PrevPage and NextPage are the neighbouring pages' numbers, 0 for none.
func (d schoolPeopleData) PrevPage() int {
	if d.Page > 1 {
		return d.Page - 1
	}
	return 0
}

func (d schoolPeopleData) NextPage() int {
	if d.Page < d.Pages {
		return d.Page + 1
	}
	return 0
}

// peopleList is the page of one kind of list, for GET (a class and a page
// in the address) and POST (a search in the form).
func (s *Server) peopleList(kind string) pageFunc {
	return s.ofSchool(func(w http.ResponseWriter, r *http.Request, p auth.Principal, v *view, sc registry.School) error {
		ctx, id := r.Context(), sc.ID
		src := r.URL.Query()
		d := schoolPeopleData{Kind: kind, Action: "/schools/" + strconv.FormatInt(id, 10) + "/" + kind, School: sc, Errors: map[string]string{},
			CanWrite: p.Can(auth.WritePupils)}
		if r.Method == http.MethodPost {
			src = r.PostForm
			d.Q = strings.TrimSpace(src.Get("q"))
		}
		d.Class = strings.TrimSpace(src.Get("class"))
		d.Page, _ = strconv.Atoi(src.Get("page"))
		d.Page = max(d.Page, 1)
		if src.Get("done") == "erased" {
			d.Notice = "ui.people.done.erased"
		}
		if utf8.RuneCountInString(d.Q) > registry.MaxSearch {
			d.Errors["q"] = "ui.people.err.q"
		}
		if kind != listStaff {
			var err error
			if d.Classes, err = s.Registry.Classes(ctx, p, id); err != nil {
				return err
			}
			if d.Class != "" && !slices.Contains(d.Classes, d.Class) {
				d.Errors["class"] = "ui.people.err.class_filter"
			}
		} else {
			d.Class = ""
		}
		status := http.StatusOK
		if len(d.Errors) > 0 {
			status = http.StatusUnprocessableEntity
		} else if err := s.findPeople(r, p, id, &d); err != nil {
			return err
		}
		v.Title, v.Data = "ui.people."+kind+".title", d
		s.render(w, status, "people", v)
		return nil
	})
}

// findPeople reads d's page of its list; a page past the end shows the
// last one.
func (s *Server) findPeople(r *http.Request, p auth.Principal, school int64, d *schoolPeopleData) error {
	for {
		q := registry.PeopleQuery{Search: d.Q, Class: d.Class, Offset: (d.Page - 1) * peoplePageSize, Limit: peoplePageSize}
		var n int
		var err error
		switch d.Kind {
		case listPupils:
			var res registry.PeoplePage[registry.Pupil]
			res, err = s.Registry.FindPupils(r.Context(), p, school, q)
			d.Pupils, d.Total, n = res.Items, res.Total, len(res.Items)
		case listStaff:
			var res registry.PeoplePage[registry.Staff]
			res, err = s.Registry.FindStaff(r.Context(), p, school, q)
			d.Staff, d.Total, n = res.Items, res.Total, len(res.Items)
		default:
			var res registry.PeoplePage[registry.SchoolGuardian]
			res, err = s.Registry.FindGuardians(r.Context(), p, school, q)
			d.Guardians, d.Total, n = res.Items, res.Total, len(res.Items)
		}
		if err != nil {
			return err
		}
		d.Pages = (d.Total + peoplePageSize - 1) / peoplePageSize
		if n > 0 || d.Page <= 1 || d.Pages == 0 {
			return nil
		}
		d.Page = d.Pages
	}
}
