package notify

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"

	"qorgan/internal/errs"
	"qorgan/internal/kztime"
)

// Message texts, one file per language, all with the same keys (a test
// holds them to it). A key may have ".female" and ".male" variants for
// languages whose verbs agree with the child's gender (Russian); the plain
// key is the neutral wording used when the gender is unknown.
//
//go:embed locales/*.json
var localeFiles embed.FS

// Languages are the languages a guardian may read messages in.
var Languages = []string{"kk", "ru", "en"}

// Gender chooses the wording where grammar needs it.
type Gender int

const (
	GenderUnknown Gender = iota
	Female
	Male
)

// Vars fill a message text. A message carries no more about the child than
// the guardian needs: the first name only, no surname, no class.
type Vars struct {
	Name    string    // the pupil's first name
	Gender  Gender    // GenderUnknown gives a neutral wording
	At      time.Time // shown as HH:MM in Zone
	Zone    *time.Location
	Minutes int    // a count of minutes (lateness); chooses the plural form
	School  string // the school's name in the message's language
	Text    string // free text of an emergency message
}

// tplData is what the templates see.
type tplData struct {
	Name, Time, TimeAt string
	Minutes            int
	School, Text       string
}

type texts struct {
	bundle     *i18n.Bundle
	localizers map[string]*i18n.Localizer
	ids        map[string]map[string]bool // language → message ids
	plural     map[string]bool            // ids whose text depends on a count
}

var loadTexts = sync.OnceValues(func() (*texts, error) {
	t := &texts{bundle: i18n.NewBundle(language.Kazakh), localizers: map[string]*i18n.Localizer{},
		ids: map[string]map[string]bool{}, plural: map[string]bool{}}
	files, err := fs.Glob(localeFiles, "locales/*.json")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		buf, err := localeFiles.ReadFile(f)
		if err != nil {
			return nil, err
		}
		mf, err := t.bundle.ParseMessageFileBytes(buf, f)
		if err != nil {
			return nil, fmt.Errorf("locale %s: %w", f, err)
		}
		lang := strings.TrimSuffix(path.Base(f), ".json")
		t.ids[lang] = map[string]bool{}
		for _, m := range mf.Messages {
			t.ids[lang][m.ID] = true
			if m.Zero != "" || m.One != "" || m.Two != "" || m.Few != "" || m.Many != "" {
				t.plural[m.ID] = true
			}
		}
	}
	for _, l := range Languages {
		if t.ids[l] == nil {
			return nil, fmt.Errorf("no messages for language %s", l)
		}
		t.localizers[l] = i18n.NewLocalizer(t.bundle, l)
	}
	return t, nil
})

// Language returns the supported language a tag such as "ru-RU" or "KK"
// means, and false when there is none.
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

// Render writes the message key in lang with v: the gendered variant when
// v.Gender is known and the language has one, the plural form for
// v.Minutes by the language's CLDR rules.
func Render(lang, key string, v Vars) (string, error) {
	t, err := loadTexts()
	if err != nil {
		return "", err
	}
	l, ok := Language(lang)
	if !ok {
		return "", errs.Invalidf("language", "no messages in %q: use one of %s", lang, strings.Join(Languages, ", "))
	}
	id := key
	switch v.Gender {
	case Female:
		if t.ids[l][key+".female"] {
			id = key + ".female"
		}
	case Male:
		if t.ids[l][key+".male"] {
			id = key + ".male"
		}
	}
	if !t.ids[l][id] {
		return "", errs.Invalidf("key", "no message %q", key)
	}
	zone := v.Zone
	if zone == nil {
		zone = kztime.Almaty
	}
	at := v.At.In(zone)
	data := tplData{Name: v.Name, Minutes: v.Minutes, School: v.School, Text: v.Text}
	if !v.At.IsZero() {
		data.Time = at.Format("15:04")
		data.TimeAt = data.Time + "-" + kkLocative(at.Hour(), at.Minute())
	}
	cfg := &i18n.LocalizeConfig{MessageID: id, TemplateData: data}
	if t.plural[id] {
		cfg.PluralCount = v.Minutes
	}
	s, err := t.localizers[l].Localize(cfg)
	if err != nil {
		return "", fmt.Errorf("render %s/%s: %w", l, id, err)
	}
	return s, nil
}

// kkLocative is the Kazakh locative ending of a time of day, which follows
// the last numeral as it is read aloud: 07:52 is «жеті елу екі», so
// «07:52-де»; 08:30 «отызда»; 08:40 «қырықта»; 13:00 «он үште». Front
// vowels take -де/-те, back vowels -да/-та; a voiceless final consonant
// takes the -т form.
func kkLocative(hour, minute int) string {
	n := minute
	if n == 0 {
		n = hour // 08:00 is read «сегіз»
	}
	if n == 0 {
		return "де" // нөл
	}
	units := [10]string{"", "де", "де", "те", "те", "те", "да", "де", "де", "да"} // бір екі үш төрт бес алты жеті сегіз тоғыз
	tens := [6]string{"", "да", "да", "да", "та", "де"}                           // он жиырма отыз қырық елу
	if n%10 != 0 {
		return units[n%10]
	}
	return tens[n/10]
}
