package report

import (
	"strings"
	"testing"
	"time"

	"qorgan/internal/errs"
)

var (
	abai   = Words{RU: "Абайская область", KK: "Абай облысы"}
	astana = Words{RU: "город Астана", KK: "Астана қаласы"}
	day    = time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
)

func regionRows() []RegionRow {
	return []RegionRow{
		{Region: abai, Figures: []Figure{Counted(Turnstiles, 681, 2357), Counted(Panic, 21, 21), NotMeasured(Drill)}},
		{Region: astana, Figures: []Figure{Counted(Turnstiles, 2, 5), Shared(Guard, 72)}},
	}
}

func TestRegionTableText(t *testing.T) {
	d, err := RegionTable(RU, day, Words{}, regionRows())
	if err != nil {
		t.Fatal(err)
	}
	want := nb(`Показатели Дорожной карты по регионам
=====================================

По состоянию на: 6 декабря 2026 г.
Источник: текущие данные Qorgan

Регион            Показатель              Имеют          Подлежат  Доля, %
----------------  ----------------------  -------------  --------  -------
Абайская область  Турникеты                         681     2 357     28,9
Абайская область  Тревожные кнопки                   21        21      100
Абайская область  Учения в текущем году   не измеряется
город Астана      Турникеты                           2         5       40
город Астана      Лицензированная охрана                                72
`)
	if got := d.PlainText(); got != want {
		t.Errorf("region table:\n%s\nwant:\n%s", got, want)
	}

	kk, err := RegionTable(KK, day, dz237, regionRows())
	if err != nil {
		t.Fatal(err)
	}
	text := kk.PlainText()
	for _, s := range []string{"Жол картасының өңірлер бойынша көрсеткіштері", "Дереккөз: ДЗ-237 депутаттық сауалға жауап", "Жағдай бойынша: 2026 жылғы 6 желтоқсандағы", "Абай облысы", "өлшенбейді", "Үлесі, %"} {
		if !strings.Contains(text, s) {
			t.Errorf("kk region table lacks %q:\n%s", s, text)
		}
	}

	bad := regionRows()
	bad[1].Region.KK = ""
	if _, err := RegionTable(KK, day, Words{}, bad); errs.As(err).Field != "rows/1/region/kk" {
		t.Errorf("a region without its Kazakh name: err = %v", err)
	}
}

func schoolGaps(n int) SchoolGaps {
	g := SchoolGaps{School: Words{RU: "Школа-гимназия № 5, г. Семей", KK: "№ 5 мектеп-гимназия, Семей қ."}, AsOf: day}
	items := []Gap{
		{Item: Words{"Турникеты", "Турникеттер"}, Reason: Words{"нет в реестре", "тізілімде жоқ"}, Act: Words{"Требования к АТЗ (ППРК № 305)", "АТҚ талаптары (ҚР ҮҚ № 305)"}, Clause: Words{"п. 12", "12-тармақ"}},
		{Item: Words{"Тревожная кнопка", "Дабыл түймесі"}, Reason: Words{"молчит с 1 декабря 2026 г.", "2026 жылғы 1 желтоқсаннан бері үнсіз"}, Act: Words{"Требования к АТЗ (ППРК № 305)", "АТҚ талаптары (ҚР ҮҚ № 305)"}, Clause: Words{"п. 9", "9-тармақ"}},
	}
	for i := 0; i < n; i++ {
		g.Gaps = append(g.Gaps, items[i%len(items)])
	}
	return g
}

func TestGapList(t *testing.T) {
	d, err := GapList(RU, schoolGaps(2))
	if err != nil {
		t.Fatal(err)
	}
	want := `Перечень недостающего: Школа-гимназия № 5, г. Семей
===================================================

По состоянию на: 6 декабря 2026 г.

Не выполнены 2 пункта требований.

№  Требование        Причина                     Акт                            Пункт
-  ----------------  --------------------------  -----------------------------  -----
1  Турникеты         нет в реестре               Требования к АТЗ (ППРК № 305)  п. 12
2  Тревожная кнопка  молчит с 1 декабря 2026 г.  Требования к АТЗ (ППРК № 305)  п. 9
`
	if got := d.PlainText(); got != want {
		t.Errorf("gap list:\n%s\nwant:\n%s", got, want)
	}
	for n, want := range map[int]string{0: "Все требования выполнены.", 1: "Не выполнен 1 пункт требований.", 5: "Не выполнено 5 пунктов требований.", 21: "Не выполнен 21 пункт требований."} {
		d, err := GapList(RU, schoolGaps(n))
		if err != nil {
			t.Fatal(err)
		}
		if d.Paragraphs[0] != want {
			t.Errorf("%d gaps: %q, want %q", n, d.Paragraphs[0], want)
		}
	}
	kk, err := GapList(KK, schoolGaps(5))
	if err != nil {
		t.Fatal(err)
	}
	if kk.Title != "№ 5 мектеп-гимназия, Семей қ.: жетіспейтіндер тізбесі" || kk.Paragraphs[0] != "Талаптардың 5 тармағы орындалмаған." {
		t.Errorf("kk gap list: %q / %q", kk.Title, kk.Paragraphs[0])
	}
	bad := schoolGaps(2)
	bad.Gaps[1].Act = Words{}
	if _, err := GapList(RU, bad); errs.As(err).Field != "gaps/1/act/ru" {
		t.Errorf("a gap without its act: err = %v", err)
	}
	// A Kazakh list cites the act in Kazakh: one without it is refused.
	bad.Gaps[1].Act = Words{RU: "Требования к АТЗ (ППРК № 305)"}
	if _, err := GapList(KK, bad); errs.As(err).Field != "gaps/1/act/kk" {
		t.Errorf("a gap without its Kazakh act: err = %v", err)
	}
}

// Seeded history and live figures side by side, each column with its date
// and source.
func TestIndicatorTable(t *testing.T) {
	live := Snapshot{AsOf: day, Place: Kazakhstan, Figures: []Figure{Counted(Turnstiles, 2100, 2357), Counted(Panic, 7000, 7850), NotMeasured(Drill)}}
	y2025 := Snapshot{AsOf: time.Date(2025, 12, 3, 0, 0, 0, 0, time.UTC), Source: Words{"официальные данные МП РК", "ҚР ОМ ресми деректері"},
		Place: Kazakhstan, Figures: []Figure{Shared(Panic, 87), Shared(Turnstiles, 62)}}
	y2021 := Snapshot{AsOf: time.Date(2021, 4, 1, 0, 0, 0, 0, time.UTC), Source: dz237, Place: Kazakhstan,
		Figures: []Figure{Counted(Turnstiles, 681, 2357), {Indicator: PCN, Measured: true, Count: 1700, HasCount: true, AtLeast: true}}}
	d, err := IndicatorTable(RU, live, y2025, y2021)
	if err != nil {
		t.Fatal(err)
	}
	want := nb(`Показатели Дорожной карты: история и текущие данные — Республика Казахстан
==========================================================================

1 апреля 2021 г.: ответ на депутатский запрос ДЗ-237
3 декабря 2025 г.: официальные данные МП РК
6 декабря 2026 г. (Qorgan): текущие данные Qorgan

Показатель             1 апреля 2021 г.   3 декабря 2025 г.  6 декабря 2026 г. (Qorgan)
---------------------  -----------------  -----------------  --------------------------
Тревожные кнопки       —                  87%                7 000 / 7 850 (89%)
Вывод на ПЦН           более 1 700        —                  —
Турникеты              681 / 2 357 (29%)  62%                2 100 / 2 357 (89%)
Учения в текущем году  —                  —                  не измеряется
`)
	if got := d.PlainText(); got != want {
		t.Errorf("indicator table:\n%s\nwant:\n%s", got, want)
	}
	kk, err := IndicatorTable(KK, y2021, live)
	if err != nil {
		t.Fatal(err)
	}
	if text := kk.PlainText(); !strings.Contains(text, nb("1 700-ден астам")) || !strings.Contains(text, "2021 жылғы 1 сәуірдегі: ДЗ-237 депутаттық сауалға жауап") {
		t.Errorf("kk indicator table:\n%s", text)
	}
	other := live
	other.Place = abai
	if _, err := IndicatorTable(RU, live, other); errs.As(err).Field != "snapshots/1/place" {
		t.Errorf("two places in one table: err = %v", err)
	}
}
