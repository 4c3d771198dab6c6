package notify_test

import (
	"strings"
	"testing"
	"time"

	"qorgan/internal/locale"
	"qorgan/internal/notify"
)

// TestEveryKeyRenders: every message of every language renders for every
// gender and count (package locale holds the files to the same keys and the
// plural forms each language needs).
func TestEveryKeyRenders(t *testing.T) {
	at := time.Date(2025, 9, 3, 3, 5, 0, 0, time.UTC)
	for _, l := range locale.Languages {
		keys, err := locale.IDs(l)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if locale.ForConsole(k) {
				continue // the console's strings, rendered by package web
			}
			base, g := k, notify.GenderUnknown
			if b, ok := strings.CutSuffix(k, ".female"); ok {
				base, g = b, notify.Female
			} else if b, ok := strings.CutSuffix(k, ".male"); ok {
				base, g = b, notify.Male
			}
			// Every CLDR plural form the language needs exists: go-i18n
			// fails on a missing one.
			for _, n := range []int{0, 1, 2, 3, 5, 11, 21, 22, 25, 101, 111} {
				s, err := notify.Render(l, base, notify.Vars{Name: "Айгерім", Gender: g, At: at, Minutes: n, School: "№ 5", Text: "эвакуация"})
				if err != nil {
					t.Errorf("%s %s (%d): %v", l, k, n, err)
					break
				}
				if strings.Contains(s, "<no value>") || strings.Contains(s, "{{") || !strings.Contains(s, "Айгерім") && strings.HasPrefix(k, "pupil.") {
					t.Errorf("%s %s: %q", l, k, s)
				}
			}
		}
	}
}

func TestRender(t *testing.T) {
	at := func(hh, mm int) time.Time { return time.Date(2025, 9, 3, hh-5, mm, 0, 0, time.UTC) } // Almaty is UTC+5
	aigerim := func(hh, mm int, g notify.Gender) notify.Vars {
		return notify.Vars{Name: "Айгерім", Gender: g, At: at(hh, mm)}
	}
	cases := []struct {
		lang, key string
		v         notify.Vars
		want      string
	}{
		{"kk", "pupil.entered", aigerim(7, 52, notify.Female), "Айгерім мектепке 07:52-де кірді"},
		{"ru", "pupil.entered", aigerim(7, 52, notify.Female), "Айгерім вошла в школу в 07:52"},
		{"ru", "pupil.entered", notify.Vars{Name: "Ерлан", Gender: notify.Male, At: at(7, 52)}, "Ерлан вошёл в школу в 07:52"},
		{"ru", "pupil.entered", aigerim(7, 52, notify.GenderUnknown), "Айгерім: вход в школу в 07:52"},
		{"en", "pupil.entered", notify.Vars{Name: "Aigerim", Gender: notify.Female, At: at(7, 52)}, "Aigerim entered school at 07:52"},
		{"ru-RU", "pupil.left", aigerim(13, 40, notify.Female), "Айгерім вышла из школы в 13:40"},
		{"kk", "pupil.left", aigerim(13, 40, notify.Female), "Айгерім мектептен 13:40-та шықты"},
		{"en", "pupil.left", notify.Vars{Name: "Aigerim", At: at(13, 40)}, "Aigerim left school at 13:40"},
		{"ru", "pupil.not_arrived", aigerim(8, 30, notify.GenderUnknown), "Айгерім: нет отметки о входе в школу к 08:30"},
		{"kk", "pupil.not_arrived", aigerim(8, 30, notify.Female), "Айгерім сағат 08:30 бойынша мектепке кіргені тіркелмеген"},
		// The Kazakh locative follows the last numeral read aloud.
		{"kk", "pupil.entered", aigerim(8, 30, 0), "Айгерім мектепке 08:30-да кірді"}, // отыз
		{"kk", "pupil.entered", aigerim(8, 40, 0), "Айгерім мектепке 08:40-та кірді"}, // қырық
		{"kk", "pupil.entered", aigerim(8, 5, 0), "Айгерім мектепке 08:05-те кірді"},  // бес
		{"kk", "pupil.entered", aigerim(8, 0, 0), "Айгерім мектепке 08:00-де кірді"},  // сегіз
		{"kk", "pupil.entered", aigerim(10, 0, 0), "Айгерім мектепке 10:00-да кірді"}, // он
		{"kk", "pupil.entered", aigerim(13, 0, 0), "Айгерім мектепке 13:00-те кірді"}, // он үш
		{"kk", "pupil.entered", aigerim(7, 59, 0), "Айгерім мектепке 07:59-да кірді"}, // тоғыз
		{"kk", "pupil.entered", aigerim(7, 50, 0), "Айгерім мектепке 07:50-де кірді"}, // елу
		{"kk", "pupil.entered", aigerim(7, 46, 0), "Айгерім мектепке 07:46-да кірді"}, // алты
		{"kk", "pupil.entered", aigerim(7, 20, 0), "Айгерім мектепке 07:20-да кірді"}, // жиырма
		{"kk", "pupil.entered", aigerim(7, 14, 0), "Айгерім мектепке 07:14-те кірді"}, // төрт
		{"kk", "pupil.entered", aigerim(7, 1, 0), "Айгерім мектепке 07:01-де кірді"},  // бір
		{"kk", "pupil.entered", aigerim(7, 17, 0), "Айгерім мектепке 07:17-де кірді"}, // жеті
		{"kk", "pupil.entered", aigerim(7, 13, 0), "Айгерім мектепке 07:13-те кірді"}, // үш
		// Russian CLDR plurals: one, few, many.
		{"ru", "pupil.entered_late", notify.Vars{Name: "Айгерім", Gender: notify.Female, At: at(8, 21), Minutes: 21}, "Айгерім вошла в школу в 08:21 с опозданием на 21 минуту"},
		{"ru", "pupil.entered_late", notify.Vars{Name: "Айгерім", Gender: notify.Female, At: at(8, 3), Minutes: 3}, "Айгерім вошла в школу в 08:03 с опозданием на 3 минуты"},
		{"ru", "pupil.entered_late", notify.Vars{Name: "Айгерім", Gender: notify.Female, At: at(8, 11), Minutes: 11}, "Айгерім вошла в школу в 08:11 с опозданием на 11 минут"},
		{"ru", "pupil.entered_late", notify.Vars{Name: "Айгерім", At: at(8, 5), Minutes: 5}, "Айгерім: вход в школу в 08:05, опоздание на 5 минут"},
		{"en", "pupil.entered_late", notify.Vars{Name: "Aigerim", At: at(8, 1), Minutes: 1}, "Aigerim entered school at 08:01, 1 minute late"},
		{"en", "pupil.entered_late", notify.Vars{Name: "Aigerim", At: at(8, 2), Minutes: 2}, "Aigerim entered school at 08:02, 2 minutes late"},
		{"kk", "pupil.entered_late", notify.Vars{Name: "Айгерім", At: at(8, 12), Minutes: 12}, "Айгерім мектепке 08:12-де кірді, 12 минутқа кешікті"},
		{"ru", "emergency", notify.Vars{School: "школа-гимназия № 5", Text: "эвакуация, встречаем детей у стадиона"}, "Экстренное сообщение, школа-гимназия № 5: эвакуация, встречаем детей у стадиона"},
		{"kk", "emergency", notify.Vars{School: "№ 5 мектеп-гимназия", Text: "эвакуация"}, "Шұғыл хабарлама, № 5 мектеп-гимназия: эвакуация"},
		{"en", "emergency", notify.Vars{School: "School-gymnasium No. 5", Text: "evacuation"}, "Emergency message from School-gymnasium No. 5: evacuation"},
	}
	for _, c := range cases {
		got, err := notify.Render(c.lang, c.key, c.v)
		if err != nil {
			t.Errorf("%s %s: %v", c.lang, c.key, err)
			continue
		}
		if got != c.want {
			t.Errorf("%s %s:\n got %q\nwant %q", c.lang, c.key, got, c.want)
		}
	}
	if _, err := notify.Render("de", "pupil.entered", notify.Vars{}); err == nil {
		t.Error("an unsupported language rendered")
	}
	if _, err := notify.Render("ru", "pupil.flew_away", notify.Vars{}); err == nil {
		t.Error("an unknown key rendered")
	}
	if _, err := notify.Render("KK-kz", "pupil.entered", notify.Vars{Name: "Айгерім"}); err != nil {
		t.Errorf("a tag for a language Qorgan speaks: %v", err)
	}
}
