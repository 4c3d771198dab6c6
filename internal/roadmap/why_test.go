package roadmap_test

import (
	"testing"
	"time"

	"qorgan/internal/registry"
	"qorgan/internal/roadmap"
)

// TestWhyIn: a gap's reason reads as a person writes it in each
// language — Russian numbers agreeing with their nouns, the device that
// does not work and the reason under a reason in sentences of their own,
// times and days in Almaty's usual form.
func TestWhyIn(t *testing.T) {
	since := time.Date(2026, 12, 6, 9, 5, 0, 0, time.UTC) // 14:05 in Almaty
	cases := []struct {
		why  roadmap.Why
		lang string
		want string
	}{
		{roadmap.Why{Code: roadmap.WhyNoDevice, Kind: registry.Turnstile}, "ru", "Не зарегистрировано ни одного турникета."},
		{roadmap.Why{Code: roadmap.WhyNoDevice, Kind: registry.Turnstile}, "kk", "Бірде-бір турникет тіркелмеген."},
		{roadmap.Why{Code: roadmap.WhyNoneWorks, Kind: registry.Camera, Count: 21}, "ru", "Не работает ни одна из 21 камеры."},
		{roadmap.Why{Code: roadmap.WhyNoneWorks, Kind: registry.Camera, Count: 3}, "ru", "Не работает ни одна из 3 камер."},
		{roadmap.Why{Code: roadmap.WhyNoneWorks, Kind: registry.Camera, Count: 5}, "ru", "Не работает ни одна из 5 камер."},
		{roadmap.Why{Code: roadmap.WhyNoneWorks, Kind: registry.Camera, Count: 1}, "en", "The one camera registered does not work."},
		{roadmap.Why{Code: roadmap.WhyNoneWorks, Kind: registry.PanicButton, Count: 2,
			Device: &roadmap.DeviceWhy{Name: "Кнопка 1", IntervalS: 300, Since: &since}, More: 1}, "ru",
			"Не работает ни одна из 2 тревожных кнопок. «Кнопка 1» молчит с 06.12.2026 14:05 — дольше своего интервала контроля связи 300 с. И ещё 1 такое устройство."},
		{roadmap.Why{Code: roadmap.WhyNoneWorks, Kind: registry.PanicButton, Count: 2,
			Device: &roadmap.DeviceWhy{Name: "Кнопка 1", IntervalS: 300}}, "kk",
			"2 дабыл түймесінің ешқайсысы жұмыс істемейді. «Кнопка 1» бірде-бір рет байланысқа шықпаған (байланыс бақылауы, аралығы 300 с)."},
		{roadmap.Why{Code: roadmap.WhyArchiveShort, Days: 14}, "ru", "Заявлен видеоархив на 14 дней, нужно не меньше 30."},
		{roadmap.Why{Code: roadmap.WhyArchiveShort, Days: 22}, "ru", "Заявлен видеоархив на 22 дня, нужно не меньше 30."},
		{roadmap.Why{Code: roadmap.WhyNoPCN, Cause: &roadmap.Why{Code: roadmap.WhyLicenceExpired, Date: "2026-12-05"}}, "ru",
			"Сигналы тревоги не доходят до лицензированного ПЦН. Лицензия охранной организации по договору истекла 05.12.2026."},
		{roadmap.Why{Code: roadmap.WhyNoContract}, "kk", "Күзетке қолданыстағы шарт жоқ."},
		{roadmap.Why{Code: roadmap.WhyNoUTOLicence}, "en", "The provider under contract has no licence covering УТО objects."},
	}
	for _, c := range cases {
		if got := c.why.In(c.lang); got != c.want {
			t.Errorf("%s %+v:\n got %q\nwant %q", c.lang, c.why, got, c.want)
		}
	}
	if (*roadmap.Why)(nil).In("ru") != "" {
		t.Errorf("a met item has a reason")
	}
}
