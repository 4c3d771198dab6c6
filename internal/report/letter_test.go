package report

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"qorgan/internal/errs"
)

// nb puts the no-break space officials use between a number's thousands in
// a test's expected text: "2 357" → "2\u00a0357".
func nb(s string) string {
	for {
		t := thousands.ReplaceAllString(s, "${1}"+NBSP+"${2}")
		if t == s {
			return s
		}
		s = t
	}
}

var thousands = regexp.MustCompile(`(\d) (\d{3}\b)`)

// sentencesAre fails t unless f's sentences are ru and kk (with nb);
// name says which case it is.
func sentencesAre(t *testing.T, name string, f Figure, ru, kk string) {
	t.Helper()
	if got, want := sentenceRU(f), nb(ru); got != want {
		t.Errorf("ru %s:\n got %q\nwant %q", name, got, want)
	}
	if got, want := sentenceKK(f), nb(kk); got != want {
		t.Errorf("kk %s:\n got %q\nwant %q", name, got, want)
	}
}

// The sentences at 1, 2, 5, 11, 21, 681 and 2 357, each number both as the
// count and as the denominator, written out as the ministry writes them.
func TestSentencesAgreeWithTheNumber(t *testing.T) {
	cases := []struct {
		count, required int
		ru, kk          string
	}{
		{1, 2, "1 школа из 2 подлежащих оснащена турникетами (50%).",
			"Міндетті 2 мектептің 1-і (50%) турникеттермен жабдықталған."},
		{2, 5, "2 школы из 5 подлежащих оснащены турникетами (40%).",
			"Міндетті 5 мектептің 2-сі (40%) турникеттермен жабдықталған."},
		{5, 11, "5 школ из 11 подлежащих оснащены турникетами (45%).",
			"Міндетті 11 мектептің 5-і (45%) турникеттермен жабдықталған."},
		{11, 21, "11 школ из 21 подлежащей оснащены турникетами (52%).",
			"Міндетті 21 мектептің 11-і (52%) турникеттермен жабдықталған."},
		{21, 681, "21 школа из 681 подлежащей оснащена турникетами (3%).",
			"Міндетті 681 мектептің 21-і (3%) турникеттермен жабдықталған."},
		{681, 2357, "681 школа из 2 357 подлежащих оснащена турникетами (29%).",
			"Міндетті 2 357 мектептің 681-і (29%) турникеттермен жабдықталған."},
		{2357, 2357, "2 357 школ из 2 357 подлежащих оснащены турникетами (100%).",
			"Міндетті 2 357 мектептің 2 357-сі (100%) турникеттермен жабдықталған."},
		{1, 1, "1 школа из 1 подлежащей оснащена турникетами (100%).",
			"Міндетті 1 мектептің 1-і (100%) турникеттермен жабдықталған."},
	}
	for _, c := range cases {
		f := Counted(Turnstiles, c.count, c.required)
		sentencesAre(t, fmt.Sprintf("%d/%d", c.count, c.required), f, c.ru, c.kk)
	}

	// A count with no denominator: the noun after the numeral.
	counts := []struct {
		n      int
		ru, kk string
	}{
		{1, "1 школа оснащена тревожными кнопками.", "1 мектеп дабыл түймелерімен жабдықталған."},
		{2, "2 школы оснащены тревожными кнопками.", "2 мектеп дабыл түймелерімен жабдықталған."},
		{5, "5 школ оснащены тревожными кнопками.", "5 мектеп дабыл түймелерімен жабдықталған."},
		{11, "11 школ оснащены тревожными кнопками.", "11 мектеп дабыл түймелерімен жабдықталған."},
		{21, "21 школа оснащена тревожными кнопками.", "21 мектеп дабыл түймелерімен жабдықталған."},
		{681, "681 школа оснащена тревожными кнопками.", "681 мектеп дабыл түймелерімен жабдықталған."},
		{2357, "2 357 школ оснащены тревожными кнопками.", "2 357 мектеп дабыл түймелерімен жабдықталған."},
	}
	for _, c := range counts {
		f := Figure{Indicator: Panic, Measured: true, Count: c.n, HasCount: true}
		sentencesAre(t, fmt.Sprint(c.n), f, c.ru, c.kk)
	}

	// None, and none required.
	zero := []struct {
		f      Figure
		ru, kk string
	}{
		{Counted(Guard, 0, 21), "Ни одна школа из 21 подлежащей не охраняется лицензированной охранной организацией (0%).",
			"Міндетті 21 мектептің бірде-біреуі (0%) лицензиясы бар күзет ұйымымен күзетілмейді."},
		{Counted(Drill, 0, 2357), "Ни одна школа из 2 357 подлежащих не провела учения в текущем году (0%).",
			"Міндетті 2 357 мектептің бірде-біреуі (0%) биыл оқу-жаттығу өткізбеген."},
		{Figure{Indicator: COU, Measured: true, HasCount: true}, "Ни одна школа не подключена к ЦОУ органов внутренних дел.",
			"Бірде-бір мектеп ішкі істер органдарының ЖБО-ына қосылмаған."},
		{Counted(Turnstiles, 0, 0), "Показатель «Турникеты»: подлежащих школ нет.", "«Турникеттер» көрсеткіші: міндетті мектеп жоқ."},
	}
	for _, c := range zero {
		sentencesAre(t, fmt.Sprintf("%+v", c.f), c.f, c.ru, c.kk)
	}

	// «более N» takes the genitive; Kazakh «N-ден астам» the ablative of the
	// numeral as read aloud.
	over := []struct {
		n      int
		ru, kk string
	}{
		{21, "Более 21 школы имеют вывод тревожной сигнализации на ПЦН.", "21-ден астам мектеп дабыл сигнализациясын орталықтандырылған бақылау пультіне шығарған."},
		{1700, "Более 1 700 школ имеют вывод тревожной сигнализации на ПЦН.", "1 700-ден астам мектеп дабыл сигнализациясын орталықтандырылған бақылау пультіне шығарған."},
		{10, "Более 10 школ имеют вывод тревожной сигнализации на ПЦН.", "10-нан астам мектеп дабыл сигнализациясын орталықтандырылған бақылау пультіне шығарған."},
		{40, "Более 40 школ имеют вывод тревожной сигнализации на ПЦН.", "40-тан астам мектеп дабыл сигнализациясын орталықтандырылған бақылау пультіне шығарған."},
	}
	for _, c := range over {
		f := Figure{Indicator: PCN, Measured: true, Count: c.n, HasCount: true, AtLeast: true}
		sentencesAre(t, fmt.Sprintf("over %d", c.n), f, c.ru, c.kk)
	}
}

func TestKazakhNumeralEndings(t *testing.T) {
	cases := []struct {
		n                        int
		gen, abl, loc, dat, poss string
	}{
		{1, "1-дің", "1-ден", "1-де", "1-ге", "1-і"},
		{2, "2-нің", "2-ден", "2-де", "2-ге", "2-сі"},
		{5, "5-тің", "5-тен", "5-те", "5-ке", "5-і"},
		{6, "6-ның", "6-дан", "6-да", "6-ға", "6-сы"},
		{10, "10-ның", "10-нан", "10-да", "10-ға", "10-ы"},
		{11, "11-дің", "11-ден", "11-де", "11-ге", "11-і"},
		{20, "20-ның", "20-дан", "20-да", "20-ға", "20-сы"},
		{21, "21-дің", "21-ден", "21-де", "21-ге", "21-і"},
		{40, "40-тың", "40-тан", "40-та", "40-қа", "40-ы"},
		{100, "100-дің", "100-ден", "100-де", "100-ге", "100-і"},
		{681, "681-дің", "681-ден", "681-де", "681-ге", "681-і"},
		{1000, "1 000-ның", "1 000-нан", "1 000-да", "1 000-ға", "1 000-ы"},
		{2357, "2 357-нің", "2 357-ден", "2 357-де", "2 357-ге", "2 357-сі"},
		{1000000, "1 000 000-ның", "1 000 000-нан", "1 000 000-да", "1 000 000-ға", "1 000 000-ы"},
	}
	for _, c := range cases {
		got := []string{kkNum(c.n, kkGenitive), kkNum(c.n, kkAblative), kkNum(c.n, kkLocative), kkNum(c.n, kkDative), kkNum(c.n, kkPossessive)}
		want := []string{nb(c.gen), nb(c.abl), nb(c.loc), nb(c.dat), nb(c.poss)}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%d case %d: got %q, want %q", c.n, i, got[i], want[i])
			}
		}
	}
	if got := kkWordCase("мектеп", kkGenitive); got != "мектептің" {
		t.Errorf("мектеп genitive = %q", got)
	}
	if got := kkWordCase("мектеп", kkDative); got != "мектепке" {
		t.Errorf("мектеп dative = %q", got)
	}
}

func TestDates(t *testing.T) {
	// 20:00 UTC on 2 December is already 3 December in Almaty.
	at := time.Date(2025, 12, 2, 20, 0, 0, 0, time.UTC)
	if got := Date(RU, at); got != "3 декабря 2025 г." {
		t.Errorf("ru date = %q", got)
	}
	if got := Date(KK, at); got != "2025 жылғы 3 желтоқсандағы" {
		t.Errorf("kk date = %q", got)
	}
	if got := Date(KK, time.Date(2021, 9, 1, 0, 0, 0, 0, time.UTC)); got != "2021 жылғы 1 қыркүйектегі" {
		t.Errorf("kk date = %q", got)
	}
	if got := Date(KK, time.Date(2021, 4, 1, 0, 0, 0, 0, time.UTC)); got != "2021 жылғы 1 сәуірдегі" {
		t.Errorf("kk date = %q", got)
	}
}

// History and live figures stand side by side, each with its date and
// source, history first, never in one sentence.
func TestReferenceHistoryThenLive(t *testing.T) {
	live := Snapshot{AsOf: time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC), Place: Kazakhstan, Figures: []Figure{
		Counted(Turnstiles, 2100, 2357), Counted(Panic, 7000, 7850), NotMeasured(Drill)}}
	y2025 := Snapshot{AsOf: time.Date(2025, 12, 3, 0, 0, 0, 0, time.UTC), Source: Words{"официальные данные МП РК", "ҚР ОМ ресми деректері"}, Place: Kazakhstan,
		Figures: []Figure{Shared(Panic, 87), Shared(Turnstiles, 62)}}
	y2021 := Snapshot{AsOf: time.Date(2021, 4, 1, 0, 0, 0, 0, time.UTC), Source: dz237, Place: Kazakhstan,
		Figures: []Figure{Shared(Video, 100), Counted(Turnstiles, 681, 2357), {Indicator: PCN, Measured: true, Count: 1700, HasCount: true, AtLeast: true}}}

	ru, err := Reference(RU, live, y2025, y2021)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"Справочно:",
		nb("По состоянию на 1 апреля 2021 г. (Республика Казахстан; источник: ответ на депутатский запрос ДЗ-237): 100% школ оснащены системами видеонаблюдения. 681 школа из 2 357 подлежащих оснащена турникетами (29%). Более 1 700 школ имеют вывод тревожной сигнализации на ПЦН."),
		nb("По состоянию на 3 декабря 2025 г. (Республика Казахстан; источник: официальные данные МП РК): 87% школ оснащены тревожными кнопками. 62% школ оснащены турникетами."),
		nb("По текущим данным Qorgan на 6 декабря 2026 г. (Республика Казахстан): 2 100 школ из 2 357 подлежащих оснащены турникетами (89%). 7 000 школ из 7 850 подлежащих оснащены тревожными кнопками (89%). Показатель «Учения в текущем году» пока не измеряется."),
	}
	if strings.Join(ru, "\n") != strings.Join(want, "\n") {
		t.Errorf("ru:\n%s\nwant:\n%s", strings.Join(ru, "\n"), strings.Join(want, "\n"))
	}

	kk, err := Reference(KK, live, y2021)
	if err != nil {
		t.Fatal(err)
	}
	wantKK := []string{
		"Анықтама:",
		nb("2021 жылғы 1 сәуірдегі жағдай бойынша (Қазақстан Республикасы; дереккөз: ДЗ-237 депутаттық сауалға жауап): Мектептердің 100%-ы бейнебақылау жүйелерімен жабдықталған. Міндетті 2 357 мектептің 681-і (29%) турникеттермен жабдықталған. 1 700-ден астам мектеп дабыл сигнализациясын орталықтандырылған бақылау пультіне шығарған."),
		nb("Qorgan ағымдағы деректері бойынша 2026 жылғы 6 желтоқсандағы жағдай (Қазақстан Республикасы): Міндетті 2 357 мектептің 2 100-і (89%) турникеттермен жабдықталған. Міндетті 7 850 мектептің 7 000-ы (89%) дабыл түймелерімен жабдықталған. «Биылғы оқу-жаттығу» көрсеткіші әлі өлшенбейді."),
	}
	if strings.Join(kk, "\n") != strings.Join(wantKK, "\n") {
		t.Errorf("kk:\n%s\nwant:\n%s", strings.Join(kk, "\n"), strings.Join(wantKK, "\n"))
	}
}

var dz237 = Words{"ответ на депутатский запрос ДЗ-237", "ДЗ-237 депутаттық сауалға жауап"}

func TestReferenceRefusesBadFigures(t *testing.T) {
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name  string
		snap  Snapshot
		field string
	}{
		{"count over required", Snapshot{AsOf: day, Place: Kazakhstan, Figures: []Figure{Counted(Panic, 5, 2)}}, "snapshots/0/figures/0/count"},
		{"negative", Snapshot{AsOf: day, Place: Kazakhstan, Figures: []Figure{Counted(Panic, -1, 2)}}, "snapshots/0/figures/0/count"},
		{"share over 100", Snapshot{AsOf: day, Place: Kazakhstan, Figures: []Figure{Shared(Panic, 120)}}, "snapshots/0/figures/0/share"},
		{"unknown indicator", Snapshot{AsOf: day, Place: Kazakhstan, Figures: []Figure{Counted("radar", 1, 2)}}, "snapshots/0/figures/0/indicator"},
		{"twice", Snapshot{AsOf: day, Place: Kazakhstan, Figures: []Figure{Shared(Panic, 1), Shared(Panic, 2)}}, "snapshots/0/figures/1/indicator"},
		{"measured without a number", Snapshot{AsOf: day, Place: Kazakhstan, Figures: []Figure{{Indicator: Panic, Measured: true}}}, "snapshots/0/figures/0"},
		{"no date", Snapshot{Place: Kazakhstan, Figures: []Figure{Shared(Panic, 1)}}, "snapshots/0/as_of"},
		{"a source in Russian only", Snapshot{AsOf: day, Source: Words{RU: "ДЗ-237"}, Place: Kazakhstan, Figures: []Figure{Shared(Panic, 1)}}, "snapshots/0/source/kk"},
		{"no Kazakh place", Snapshot{AsOf: day, Place: Words{RU: "Область Абай"}, Figures: []Figure{Shared(Panic, 1)}}, "snapshots/0/place/kk"},
	}
	for _, c := range cases {
		_, err := Reference(RU, c.snap)
		e := errs.As(err)
		if err == nil || e.Code != errs.Invalid || e.Field != c.field {
			t.Errorf("%s: err = %v, want invalid %s", c.name, err, c.field)
		}
	}
	if _, err := Reference("en", Snapshot{AsOf: day, Place: Kazakhstan, Figures: []Figure{Shared(Panic, 1)}}); errs.As(err).Field != "lang" {
		t.Errorf("lang en: err = %v", err)
	}
}

// Any count gets its digits back from Group and a Kazakh ending from the
// word it ends on.
func FuzzNumbers(f *testing.F) {
	for _, n := range []int{0, 1, 2, 5, 11, 21, 100, 681, 1000, 2357, 1_000_000, 2_000_000_000} {
		f.Add(n)
	}
	f.Fuzz(func(t *testing.T, n int) {
		if n < 0 || n > 999_999_999_999 {
			return
		}
		if got := strings.ReplaceAll(Group(n), NBSP, ""); got != strconv.Itoa(n) {
			t.Fatalf("Group(%d) = %q", n, Group(n))
		}
		for c := kkGenitive; c <= kkPossessive; c++ {
			num, ending, ok := strings.Cut(kkNum(n, c), "-")
			if !ok || ending == "" || num != Group(n) {
				t.Fatalf("kkNum(%d, %d) = %q", n, c, kkNum(n, c))
			}
		}
		_ = ruSchool.nom(n)
	})
}
