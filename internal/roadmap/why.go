package roadmap

import (
	"time"

	"qorgan/internal/kztime"
	"qorgan/internal/locale"
)

// In words why a required item is not met in lang (kk, ru or en), as the
// console and the reports show it: a sentence for the reason, then one for
// what lies under it (the device that does not work, why alarms reach no
// ПЦН). A met item (nil) has no reason.
func (w *Why) In(lang string) string {
	if w == nil {
		return ""
	}
	say := locale.Words
	var s string
	switch w.Code {
	case WhyNoDevice:
		s = say(lang, "ui.why.no_device."+string(w.Kind), nil, 0)
	case WhyNoneWorks:
		s = say(lang, "ui.why.none_works."+string(w.Kind), map[string]any{"Count": w.Count}, w.Count)
		if d := w.Device; d != nil {
			data := map[string]any{"Name": d.Name, "Interval": d.IntervalS}
			if d.Since == nil {
				s += " " + say(lang, "ui.why.never_heard", data, 0)
			} else {
				data["Since"] = d.Since.In(kztime.Almaty).Format("02.01.2006 15:04")
				s += " " + say(lang, "ui.why.silent", data, 0)
			}
			if w.More > 0 {
				s += " " + say(lang, "ui.why.more", map[string]any{"Count": w.More}, w.More)
			}
		}
	case WhyArchiveShort:
		s = say(lang, "ui.why.archive_short", map[string]any{"Count": w.Days}, w.Days)
	case WhyLicenceExpired:
		day := w.Date
		if t, err := time.Parse(time.DateOnly, w.Date); err == nil {
			day = t.Format("02.01.2006")
		}
		s = say(lang, "ui.why.licence_expired", map[string]any{"Date": day}, 0)
	default:
		s = say(lang, "ui.why."+string(w.Code), nil, 0)
	}
	if w.Cause != nil {
		s += " " + w.Cause.In(lang)
	}
	return s
}
