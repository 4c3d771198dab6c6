// Package locale holds Qorgan's strings in every language people read it in
// (kk, ru, en), one go-i18n message file per language with the same keys (a
// test holds them to it), and renders them: guardians' messages (package
// notify) and the console's pages (package web; see ForConsole). It imports
// nothing of Qorgan's.
//
// A key may have ".female" and ".male" variants for languages whose verbs
// agree with a child's gender (Russian); the plain key is the neutral
// wording. A message with plural forms has every form CLDR asks of its
// language.
package locale

import (
	"embed"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed translations/*.json
var files embed.FS

// Languages are the languages Qorgan speaks, Kazakh first.
var Languages = []string{"kk", "ru", "en"}

type catalog struct {
	localizers map[string]*i18n.Localizer
	ids        map[string]map[string]bool // language → message ids
	plural     map[string]bool            // ids whose text depends on a count
}

var load = sync.OnceValues(func() (*catalog, error) {
	bundle := i18n.NewBundle(language.Kazakh)
	c := &catalog{localizers: map[string]*i18n.Localizer{}, ids: map[string]map[string]bool{}, plural: map[string]bool{}}
	names, err := fs.Glob(files, "translations/*.json")
	if err != nil {
		return nil, err
	}
	for _, f := range names {
		buf, err := files.ReadFile(f)
		if err != nil {
			return nil, err
		}
		mf, err := bundle.ParseMessageFileBytes(buf, f)
		if err != nil {
			return nil, fmt.Errorf("locale %s: %w", f, err)
		}
		lang := langOfFile(f)
		if c.ids[lang] == nil {
			c.ids[lang] = map[string]bool{}
		}
		for _, m := range mf.Messages {
			c.ids[lang][m.ID] = true
			if m.Zero != "" || m.One != "" || m.Two != "" || m.Few != "" || m.Many != "" {
				c.plural[m.ID] = true
			}
		}
	}
	for _, l := range Languages {
		if c.ids[l] == nil {
			return nil, fmt.Errorf("no messages for language %s", l)
		}
		c.localizers[l] = i18n.NewLocalizer(bundle, l)
	}
	return c, nil
})

// langOfFile is the language of a message file: "kk.json" holds Kazakh, and
// so does "console.kk.json" (a part of the console with strings of its own:
// the name before the language is only for the people editing them).
func langOfFile(name string) string {
	parts := strings.Split(strings.TrimSuffix(path.Base(name), ".json"), ".")
	return parts[len(parts)-1]
}

// Language returns the language a tag such as "ru-RU" or "KK" means, and
// false when Qorgan does not speak it.
func Language(tag string) (string, bool) {
	l := strings.ToLower(strings.TrimSpace(tag))
	if i := strings.IndexAny(l, "-_"); i >= 0 {
		l = l[:i]
	}
	for _, x := range Languages {
		if l == x {
			return x, true
		}
	}
	return "", false
}

// Has reports whether lang (one of Languages) has a message id.
func Has(lang, id string) (bool, error) {
	c, err := load()
	if err != nil {
		return false, err
	}
	return c.ids[lang][id], nil
}

// IDs lists the message ids of lang (one of Languages), sorted.
func IDs(lang string) ([]string, error) {
	c, err := load()
	if err != nil {
		return nil, err
	}
	return slices.Sorted(maps.Keys(c.ids[lang])), nil
}

// Text renders message id in lang (one of Languages) with data, a Go
// template's data; count chooses the plural form, by the language's CLDR
// rules, of a message that has them.
func Text(lang, id string, data any, count int) (string, error) {
	c, err := load()
	if err != nil {
		return "", err
	}
	lc := c.localizers[lang]
	if lc == nil {
		return "", fmt.Errorf("no messages in %q", lang)
	}
	cfg := &i18n.LocalizeConfig{MessageID: id, TemplateData: data}
	if c.plural[id] {
		cfg.PluralCount = count
	}
	s, err := lc.Localize(cfg)
	if err != nil {
		return "", fmt.Errorf("render %s/%s: %w", lang, id, err)
	}
	return s, nil
}

// consoleSpaces are the namespaces of the console's strings (package web);
// every other message is one to guardians (package notify), rendered with
// its own data.
var consoleSpaces = []string{"ui.", "lang.", "role.", "priority.", "type.", "state.", "step.", "party."}

// ForConsole reports whether message id is one of the console's strings
// rather than a message to guardians.
func ForConsole(id string) bool {
	for _, p := range consoleSpaces {
		if strings.HasPrefix(id, p) {
			return true
		}
	}
	return false
}

// Words renders message id like Text, and shows the id itself where it
// cannot (the locale test keeps that from reaching anyone).
func Words(lang, id string, data any, count int) string {
	s, err := Text(lang, id, data, count)
	if err != nil {
		return id
	}
	return s
}
