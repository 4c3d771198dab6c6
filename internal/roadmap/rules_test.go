package roadmap_test

import (
	"context"
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"qorgan/internal/errs"
	"qorgan/internal/roadmap"
	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
)

func day(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

// validSet is a small rule set the refusal cases each break in one place.
func validSet() map[string]any {
	src := map[string]any{"act": "Act", "clause": "p. 1", "level": "official"}
	return map[string]any{
		"id": "t", "effective_from": "2030-01-01", "title": "test", "uto_from": 100,
		"requirements": map[string]any{"video": src, "panic": src, "guard": src},
		"bands": []any{
			map[string]any{"from": 0, "to": 99, "require": []string{}},
			map[string]any{"from": 100, "to": 500, "require": []string{"video"}},
			map[string]any{"from": 501, "require": []string{"video", "panic"}},
		},
		"regional_centre": []string{"video", "guard"},
	}
}

// A rule set with a gap or a contradiction is refused, naming the reason.
func TestRuleSetRefused(t *testing.T) {
	parse := func(m map[string]any) error {
		b, _ := json.Marshal(m)
		_, err := roadmap.ParseRuleSet(b)
		return err
	}
	if err := parse(validSet()); err != nil {
		t.Fatalf("the valid set: %v", err)
	}
	band := func(from int, to any, req ...string) map[string]any {
		b := map[string]any{"from": from, "require": req}
		if to != nil {
			b["to"] = to
		}
		return b
	}
	cases := []struct {
		name, want string
		change     func(m map[string]any)
	}{
		{"gap between bands", "headcounts 100 to 149 are in no band", func(m map[string]any) {
			m["bands"] = []any{band(0, 99), band(150, 500, "video"), band(501, nil, "video", "panic")}
		}},
		{"overlap", "headcount 400 is in two bands", func(m map[string]any) {
			m["bands"] = []any{band(0, 99), band(100, 500, "video"), band(400, nil, "video", "panic")}
		}},
		{"no open end", "headcounts from 501 are in no band", func(m map[string]any) {
			m["bands"] = []any{band(0, 99), band(100, 500, "video")}
		}},
		{"requirement below the threshold", "below the УТО threshold of 100 yet requires", func(m map[string]any) {
			m["bands"] = []any{band(0, 99, "video"), band(100, 500, "video"), band(501, nil, "video", "panic")}
		}},
		{"УТО band requiring nothing", "is УТО yet requires nothing", func(m map[string]any) {
			m["bands"] = []any{band(0, 99), band(100, 500), band(501, nil, "video", "panic")}
		}},
		{"larger school asked less", `drops "panic"`, func(m map[string]any) {
			m["bands"] = []any{band(0, 99), band(100, 500, "video", "panic"), band(501, nil, "video")}
		}},
		{"item without a source", `requires "turnstiles", which has no source`, func(m map[string]any) {
			m["bands"] = []any{band(0, 99), band(100, 500, "video"), band(501, nil, "video", "turnstiles")}
		}},
		{"threshold inside a band", "straddles the УТО threshold", func(m map[string]any) {
			m["bands"] = []any{band(0, 150), band(151, nil, "video")}
		}},
		{"bad date", "effective_from must be a date", func(m map[string]any) { m["effective_from"] = "2030-13-01" }},
		{"unknown item", `unknown item "moat"`, func(m map[string]any) {
			m["requirements"].(map[string]any)["moat"] = map[string]any{"act": "a", "clause": "c"}
		}},
	}
	for _, c := range cases {
		m := validSet()
		c.change(m)
		err := parse(m)
		if err == nil || !strings.Contains(err.Error(), c.want) || errs.CodeOf(err) != errs.Invalid {
			t.Errorf("%s: %v, want an invalid rule set saying %q", c.name, err, c.want)
		}
	}
}

// The shipped sets: the threshold is 200 before the 2021 change and 100
// after, and each band's items are what the MVD summary lists.
func TestShippedRequirements(t *testing.T) {
	sets, err := roadmap.ShippedRuleSets()
	if err != nil || len(sets) != 2 {
		t.Fatalf("shipped: %d sets, %v", len(sets), err)
	}
	on := func(d string) roadmap.RuleSet {
		for i := len(sets) - 1; i >= 0; i-- {
			if sets[i].EffectiveFrom <= d {
				return sets[i]
			}
		}
		t.Fatalf("no set on %s", d)
		return roadmap.RuleSet{}
	}
	const base = "video video_standard video_archive notification"
	cases := []struct {
		date      string
		headcount int
		centre    bool
		want      string
	}{
		{"2026-12-06", 99, false, ""},
		{"2026-12-06", 100, false, base},
		{"2026-12-06", 300, false, base},
		{"2026-12-06", 301, false, base + " cou panic pcn"},
		{"2026-12-06", 700, false, base + " cou panic pcn"},
		{"2026-12-06", 701, false, base + " cou panic pcn turnstiles guard"},
		{"2026-12-06", 150, true, base + " cou panic pcn turnstiles guard"},
		{"2026-12-06", 99, true, ""}, // not УТО: the regional centre's list is for УТО schools
		{"2021-05-05", 150, false, ""},
		{"2021-05-05", 199, true, ""},
		{"2021-05-05", 200, false, base},
		{"2021-05-06", 150, false, base},
		{"2020-09-01", 701, false, base + " cou panic pcn turnstiles guard"},
	}
	for _, c := range cases {
		q := on(c.date).Requirement(c.headcount, c.centre, day(c.date))
		var got []string
		for _, it := range q.Items {
			got = append(got, string(it.Key))
			if it.Source.Act == "" || it.Source.Clause == "" {
				t.Errorf("%s %d: item %s without its act and clause", c.date, c.headcount, it.Key)
			}
		}
		if !sameSet(got, strings.Fields(c.want)) || q.UTO != (c.want != "") {
			t.Errorf("%s, %d people, centre %v: %v (UTO %v), want %q", c.date, c.headcount, c.centre, got, q.UTO, c.want)
		}
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]bool{}
	for _, x := range a {
		m[x] = true
	}
	for _, x := range b {
		if !m[x] {
			return false
		}
	}
	return true
}

// Every title, act and clause of the shipped sets has its Russian and
// Kazakh text, as officials cite the act: no English word in it and the
// same numbers and dates as the English (№ 117, 30, 2022, p. 88 …).
func TestShippedRuleSetsTranslated(t *testing.T) {
	sets, err := roadmap.ShippedRuleSets()
	if err != nil {
		t.Fatal(err)
	}
	latin := regexp.MustCompile(`[A-Za-z]+`)
	numbers := func(s string) string {
		n := regexp.MustCompile(`\d+`).FindAllString(s, -1)
		slices.Sort(n)
		return strings.Join(slices.Compact(n), " ")
	}
	for _, s := range sets {
		if miss := s.Untranslated(); len(miss) > 0 {
			t.Errorf("rule set %s: no text for %v", s.ID, miss)
		}
		check := func(where, en string, tr map[string]string) {
			for lang, text := range tr {
				if text == "" {
					continue // reported above
				}
				if w := latin.FindString(text); w != "" {
					t.Errorf("rule set %s, %s in %s: the English word %q in %q", s.ID, where, lang, w, text)
				}
				if numbers(text) != numbers(en) {
					t.Errorf("rule set %s, %s in %s: numbers [%s], the English has [%s]: %q", s.ID, where, lang, numbers(text), numbers(en), text)
				}
			}
		}
		check("title", s.Title, map[string]string{"ru": s.TitleRU, "kk": s.TitleKK})
		for k, src := range s.Requirements {
			check(string(k)+" act", src.Act, map[string]string{"ru": src.ActRU, "kk": src.ActKK})
			check(string(k)+" clause", src.Clause, map[string]string{"ru": src.ClauseRU, "kk": src.ClauseKK})
		}
		// The reader's language, English where a text is missing.
		v := s.Requirements[roadmap.Video]
		if act, clause := v.In("ru"); act != v.ActRU || clause != v.ClauseRU {
			t.Errorf("%s video in ru: %q, %q", s.ID, act, clause)
		}
		if act, _ := v.In("en"); act != v.Act {
			t.Errorf("%s video in en: %q", s.ID, act)
		}
		v.ActKK = ""
		if act, clause := v.In("kk"); act != v.Act || clause != v.ClauseKK {
			t.Errorf("%s video in kk without its Kazakh act: %q, %q; want the English act beside the Kazakh clause", s.ID, act, clause)
		}
		if s.TitleIn("kk") != s.TitleKK || s.TitleIn("en") != s.Title {
			t.Errorf("%s title in kk %q, in en %q", s.ID, s.TitleIn("kk"), s.TitleIn("en"))
		}
	}
}

// A set stored by an earlier Qorgan without translations takes them at the
// next start (they are not the law); a later set without them keeps them;
// a change of an act or a clause is still refused.
func TestStoredRuleSetTakesTranslations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		sets, err := roadmap.ShippedRuleSets()
		if err != nil {
			t.Fatal(err)
		}
		english := func(s roadmap.RuleSet) []byte {
			s.TitleRU, s.TitleKK = "", ""
			req := map[roadmap.Key]roadmap.Source{}
			for k, src := range s.Requirements {
				req[k] = roadmap.Source{Act: src.Act, Clause: src.Clause, Level: src.Level}
			}
			s.Requirements = req
			b, _ := json.Marshal(s)
			return b
		}
		rm := roadmap.New(db)
		for _, s := range sets {
			if _, err := rm.AddRuleSet(ctx, english(s)); err != nil {
				t.Fatalf("the English-only %s: %v", s.ID, err)
			}
		}
		if got := rm.RuleSets()[1]; got.TitleRU != "" || got.Requirements[roadmap.Video].ActKK != "" {
			t.Fatalf("the English-only set came back translated: %+v", got)
		}
		if err := rm.Load(ctx); err != nil {
			t.Fatalf("loading the translated sets over the English-only ones: %v", err)
		}
		check := func(step string) {
			t.Helper()
			for i, got := range rm.RuleSets() {
				if len(got.Untranslated()) > 0 || got.Requirements[roadmap.Video] != sets[i].Requirements[roadmap.Video] {
					t.Errorf("%s: %s lacks %v", step, got.ID, got.Untranslated())
				}
			}
		}
		check("after the start")
		if _, err := rm.AddRuleSet(ctx, english(sets[1])); err != nil {
			t.Fatalf("the English-only set again: %v", err)
		}
		check("after the English-only set again")
		changed := sets[1]
		changed.Requirements = maps.Clone(changed.Requirements)
		v := changed.Requirements[roadmap.Video]
		v.Clause = "up to 400 people: video surveillance"
		changed.Requirements[roadmap.Video] = v
		b, _ := json.Marshal(changed)
		if _, err := rm.AddRuleSet(ctx, b); errs.CodeOf(err) != errs.Conflict {
			t.Errorf("a stored set with another clause: %v, want a conflict", err)
		}
	})
}
