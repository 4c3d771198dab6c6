package locale_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"

	"qorgan/internal/locale"
)

// message is one entry of a go-i18n message file: a plain string, or the
// plural forms of a text that depends on a count.
type message map[string]string

// readFile reads every message file of lang: lang.json and area.lang.json.
// A key in two files of one language fails the test.
func readFile(t *testing.T, lang string) map[string]message {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("translations", "*"+lang+".json"))
	if err != nil {
		t.Fatal(err)
	}
	raw := map[string]json.RawMessage{}
	for _, f := range files {
		if base := filepath.Base(f); base != lang+".json" && !strings.HasSuffix(base, "."+lang+".json") {
			continue
		}
		buf, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var part map[string]json.RawMessage
		if err := json.Unmarshal(buf, &part); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for k, v := range part {
			if _, dup := raw[k]; dup {
				t.Errorf("%s: %q is in another %s file too", f, k, lang)
			}
			raw[k] = v
		}
	}
	out := map[string]message{}
	for k, v := range raw {
		var s string
		if json.Unmarshal(v, &s) == nil {
			out[k] = message{"": s}
			continue
		}
		var forms map[string]string
		if err := json.Unmarshal(v, &forms); err != nil {
			t.Fatalf("%s.json %q is neither a text nor plural forms: %v", lang, k, err)
		}
		out[k] = forms
	}
	return out
}

// cldrForms are the plural forms CLDR gives lang's cardinal numbers, whole
// (0 to 1000) and with one decimal (0.0 to 10.9): Russian, for one, keeps
// "other" for fractions.
func cldrForms(lang string) []string {
	names := map[plural.Form]string{plural.Zero: "zero", plural.One: "one", plural.Two: "two", plural.Few: "few", plural.Many: "many", plural.Other: "other"}
	tag := language.MustParse(lang)
	var out []string
	add := func(f plural.Form) {
		if !slices.Contains(out, names[f]) {
			out = append(out, names[f])
		}
	}
	for n := range 1001 {
		add(plural.Cardinal.MatchPlural(tag, n, 0, 0, 0, 0))
	}
	for i := range 11 {
		for f := range 10 {
			add(plural.Cardinal.MatchPlural(tag, i, 1, 1, f, f))
		}
	}
	slices.Sort(out)
	return out
}

// TestEveryLanguageHasEveryKey: a key missing or empty in one language would
// show its readers nothing (or another language); a plural form missing
// would fail for the counts that need it.
func TestEveryLanguageHasEveryKey(t *testing.T) {
	// Every file belongs to a language Qorgan speaks, and every area
	// ("school" in school.kk.json) has a file in each language.
	files, _ := filepath.Glob("translations/*.json")
	areas := map[string][]string{}
	for _, f := range files {
		parts := strings.Split(strings.TrimSuffix(filepath.Base(f), ".json"), ".")
		lang := parts[len(parts)-1]
		if !slices.Contains(locale.Languages, lang) {
			t.Errorf("%s: %q is not one of the languages %v", f, lang, locale.Languages)
		}
		area := strings.Join(parts[:len(parts)-1], ".")
		areas[area] = append(areas[area], lang)
	}
	for area, langs := range areas {
		if len(langs) != len(locale.Languages) {
			t.Errorf("the message files of area %q are for %v, want one for each of %v", area, langs, locale.Languages)
		}
	}
	msgs := map[string]map[string]message{}
	all := map[string]bool{}
	for _, l := range locale.Languages {
		msgs[l] = readFile(t, l)
		for k := range msgs[l] {
			all[k] = true
		}
	}
	for _, l := range locale.Languages {
		need := cldrForms(l)
		ids, err := locale.IDs(l)
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) != len(msgs[l]) {
			t.Errorf("%s: %d ids loaded, %d in the file", l, len(ids), len(msgs[l]))
		}
		for k := range all {
			m, ok := msgs[l][k]
			if !ok {
				t.Errorf("%s has no %q", l, k)
				continue
			}
			if _, plain := m[""]; plain {
				if strings.TrimSpace(m[""]) == "" {
					t.Errorf("%s %q is empty", l, k)
				}
				continue
			}
			for _, f := range need {
				if strings.TrimSpace(m[f]) == "" {
					t.Errorf("%s %q has no %q form (CLDR gives %s the forms %v)", l, k, f, l, need)
				}
			}
			for f := range m {
				if !slices.Contains(need, f) {
					t.Errorf("%s %q has a %q form, which %s does not use", l, k, f, l)
				}
			}
		}
	}
}

func TestCLDRForms(t *testing.T) {
	// The rule the test above holds the files to, spelled out.
	for lang, want := range map[string][]string{"kk": {"one", "other"}, "ru": {"few", "many", "one", "other"}, "en": {"one", "other"}} {
		if got := cldrForms(lang); !slices.Equal(got, want) {
			t.Errorf("CLDR forms of %s = %v, want %v", lang, got, want)
		}
	}
}

func TestText(t *testing.T) {
	got, err := locale.Text("ru", "pupil.entered_late.female", map[string]any{"Name": "Айгерім", "Time": "08:05", "Minutes": 5}, 5)
	if err != nil || got != "Айгерім вошла в школу в 08:05 с опозданием на 5 минут" {
		t.Errorf("Text = %q, %v", got, err)
	}
	if _, err := locale.Text("de", "pupil.entered", nil, 0); err == nil {
		t.Error("a language Qorgan does not speak rendered")
	}
	if has, err := locale.Has("kk", "pupil.flew_away"); has || err != nil {
		t.Errorf("Has(kk, pupil.flew_away) = %v, %v", has, err)
	}
}

func TestLanguage(t *testing.T) {
	if l, ok := locale.Language("KK-kz"); !ok || l != "kk" {
		t.Errorf("Language(KK-kz) = %q, %v", l, ok)
	}
	if l, ok := locale.Language("de"); ok {
		t.Errorf("Language(de) = %q, true", l)
	}
}
