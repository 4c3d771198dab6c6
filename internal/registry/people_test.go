package registry_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/registry"
	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
)

// TestFindPeople: a school's pupils, staff and guardians found by words of
// the name in any letter case, by a class, paged with the total; the
// pupils shown written in the access log; another school's people not
// found, a role without children's data refused, a search too long named.
func TestFindPeople(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := setup(t, db)
		sid := strconv.FormatInt(w.s1.ID, 10)
		director := principal(auth.RoleDirector, auth.ScopeSchool, sid)
		// 12 more pupils of 7Б, two of them Ивановы, each with a guardian.
		for i := range 12 {
			last := fmt.Sprintf("Сидоров%c", 'а'+rune(i))
			if i < 2 {
				last = "Иванова"
			}
			if _, err := w.reg.CreatePupil(ctx, auth.System, w.s1.ID, registry.PupilInput{ExternalID: fmt.Sprintf("F%d", i), LastName: last, FirstName: fmt.Sprintf("Имя%d", i),
				Class: "7Б", Guardians: []registry.GuardianInput{{Phone: fmt.Sprintf("+7701555%04d", i), FullName: "Родитель " + last, Language: "ru"}}}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.reg.CreateStaff(ctx, auth.System, w.s1.ID, registry.StaffInput{ExternalID: "S1", FullName: "Нұрлан Сейітов", Position: "күзетші"}); err != nil {
			t.Fatal(err)
		}
		names := func(ps []registry.Pupil) []string {
			var out []string
			for _, p := range ps {
				out = append(out, p.LastName+" "+p.FirstName)
			}
			return out
		}
		find := func(q registry.PeopleQuery) registry.PeoplePage[registry.Pupil] {
			t.Helper()
			if q.Limit == 0 {
				q.Limit = 50
			}
			res, err := w.reg.FindPupils(ctx, director, w.s1.ID, q)
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		for _, search := range []string{"иванова", "ИВАНОВА", "Иванова", "иван"} {
			if res := find(registry.PeopleQuery{Search: search}); res.Total != 2 || len(res.Items) != 2 {
				t.Errorf("search %q: %d of %d %v", search, len(res.Items), res.Total, names(res.Items))
			}
		}
		if res := find(registry.PeopleQuery{Search: "иванова имя1"}); res.Total != 1 || res.Items[0].FirstName != "Имя1" {
			t.Errorf("two words: %v", names(res.Items))
		}
		if res := find(registry.PeopleQuery{Search: "7б"}); res.Total != 12 {
			t.Errorf("a class as the search: %d", res.Total)
		}
		if res := find(registry.PeopleQuery{Search: "100%"}); res.Total != 0 {
			t.Errorf("a %% in the search is a wildcard: %d", res.Total)
		}
		// Paging by the name, with the total.
		all := find(registry.PeopleQuery{Class: "7Б"})
		p1, p2 := find(registry.PeopleQuery{Class: "7Б", Limit: 5}), find(registry.PeopleQuery{Class: "7Б", Limit: 5, Offset: 10})
		if all.Total != 12 || len(all.Items) != 12 || p1.Total != 12 || len(p1.Items) != 5 || len(p2.Items) != 2 ||
			!slices.Equal(names(p1.Items), names(all.Items[:5])) || !slices.Equal(names(p2.Items), names(all.Items[10:])) {
			t.Errorf("paging: %v / %v / %v", names(all.Items), names(p1.Items), names(p2.Items))
		}
		if len(all.Items[0].Guardians) != 1 {
			t.Errorf("a pupil found without their guardian")
		}
		// Names in the order of the Kazakh alphabet, not of the code points
		// (where Ә and І come after Я).
		for i, last := range []string{"Ілиясов", "Бекова", "Әбенов", "Абаев", "Ыбырай", "Қасымов", "Карин"} {
			if _, err := w.reg.CreatePupil(ctx, auth.System, w.s1.ID, registry.PupilInput{ExternalID: fmt.Sprintf("K%d", i), LastName: last, FirstName: "Ата", Class: "9А"}); err != nil {
				t.Fatal(err)
			}
		}
		if got := names(find(registry.PeopleQuery{Class: "9А"}).Items); !slices.Equal(got, []string{"Абаев Ата", "Әбенов Ата", "Бекова Ата", "Карин Ата", "Қасымов Ата", "Ыбырай Ата", "Ілиясов Ата"}) {
			t.Errorf("not in the Kazakh alphabet's order: %v", got)
		}
		var logged int
		db.Reader().QueryRowContext(ctx, "SELECT COUNT(*) FROM access_log WHERE user_id = 99 AND action = 'pupil.list'").Scan(&logged)
		if logged == 0 {
			t.Errorf("the pupils shown are not in the access log")
		}
		classes, err := w.reg.Classes(ctx, director, w.s1.ID)
		if err != nil || !slices.Equal(classes, []string{"5А", "7Б", "9А"}) {
			t.Errorf("classes: %v %v", classes, err)
		}

		st, err := w.reg.FindStaff(ctx, director, w.s1.ID, registry.PeopleQuery{Search: "КҮЗЕТШІ", Limit: 50})
		if err != nil || st.Total != 1 {
			t.Errorf("staff by a position typed in capitals: %+v %v", st, err)
		}
		st, err = w.reg.FindStaff(ctx, director, w.s1.ID, registry.PeopleQuery{Search: "сейітов", Limit: 50})
		if err != nil || st.Total != 1 || st.Items[0].FullName != "Нұрлан Сейітов" {
			t.Errorf("staff by name: %+v %v", st, err)
		}
		gs, err := w.reg.FindGuardians(ctx, director, w.s1.ID, registry.PeopleQuery{Class: "7Б", Search: "иванова", Limit: 50})
		if err != nil || gs.Total != 2 || len(gs.Items) != 2 || len(gs.Items[0].Children) != 1 || gs.Items[0].Children[0].Class != "7Б" {
			t.Errorf("guardians of 7Б named Иванова: %+v %v", gs, err)
		}
		gs, err = w.reg.FindGuardians(ctx, director, w.s1.ID, registry.PeopleQuery{Search: "7011112233", Limit: 50})
		if err != nil || gs.Total != 1 || gs.Items[0].FullName != "Сәуле Ахметова" {
			t.Errorf("a guardian by the phone's digits: %+v %v", gs, err)
		}

		// The walls.
		if _, err := w.reg.FindPupils(ctx, director, w.s2.ID, registry.PeopleQuery{Limit: 50}); errs.CodeOf(err) != errs.NotFound {
			t.Errorf("another school's pupils: %v", err)
		}
		if _, err := w.reg.FindGuardians(ctx, director, w.s2.ID, registry.PeopleQuery{Limit: 50}); errs.CodeOf(err) != errs.NotFound {
			t.Errorf("another school's guardians: %v", err)
		}
		pcn := principal(auth.RolePCNOperator, auth.ScopeProvider, strconv.FormatInt(w.provider.ID, 10))
		if _, err := w.reg.FindPupils(ctx, pcn, w.s1.ID, registry.PeopleQuery{Limit: 50}); errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("the ПЦН, pupils of a school under contract: %v", err)
		}
		if res, err := w.reg.FindStaff(ctx, pcn, w.s1.ID, registry.PeopleQuery{Limit: 50}); err != nil || res.Total != 1 {
			t.Errorf("the ПЦН, staff of a school under contract: %+v %v", res, err)
		}
		long := strings.Repeat("я", 101)
		if _, err := w.reg.FindPupils(ctx, director, w.s1.ID, registry.PeopleQuery{Search: long, Limit: 50}); errs.As(err).Field != "q" {
			t.Errorf("a search of 101 characters: %v", err)
		}
	})
}

// TestClassOrder: grades by number, then letter; no class last.
func TestClassOrder(t *testing.T) {
	got := []string{"10Б", "", "2А", "1Б", "10А", "0", "1А"}
	slices.SortFunc(got, registry.ClassOrder)
	if want := []string{"0", "1А", "1Б", "2А", "10А", "10Б", ""}; !slices.Equal(got, want) {
		t.Errorf("sorted %v, want %v", got, want)
	}
}
