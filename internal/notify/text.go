package notify

import (
	"strings"
	"time"

	"qorgan/internal/errs"
	"qorgan/internal/kztime"
	"qorgan/internal/locale"
)

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

// Render writes the message key in lang with v: the gendered variant when
// v.Gender is known and the language has one, the plural form for
// v.Minutes by the language's CLDR rules.
func Render(lang, key string, v Vars) (string, error) {
	l, ok := locale.Language(lang)
	if !ok {
		return "", errs.Invalidf("language", "no messages in %q: use one of %s", lang, strings.Join(locale.Languages, ", "))
	}
	id := key
	switch v.Gender {
	case Female:
		id = variant(l, key, ".female")
	case Male:
		id = variant(l, key, ".male")
	}
	if has, err := locale.Has(l, id); err != nil {
		return "", err
	} else if !has {
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
	return locale.Text(l, id, data, v.Minutes)
}

// variant is key's gendered variant (suffix) where lang has one, else key.
func variant(lang, key, suffix string) string {
	if has, _ := locale.Has(lang, key+suffix); has {
		return key + suffix
	}
	return key
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
