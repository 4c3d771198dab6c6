package report

// ruPlural is the Russian plural class of a count: 1, 21, 681 take the
// singular; 2–4, 22–24 the "few" form; 0, 5–20, 25–30, 2 357 the "many".
type ruPlural int

const (
	ruOne ruPlural = iota
	ruFew
	ruMany
)

func ruClass(n int) ruPlural {
	if n < 0 {
		n = -n
	}
	n10, n100 := n%10, n%100
	switch {
	case n10 == 1 && n100 != 11:
		return ruOne
	case n10 >= 2 && n10 <= 4 && (n100 < 12 || n100 > 14):
		return ruFew
	}
	return ruMany
}

// ruNoun is a Russian noun's forms after a numeral.
type ruNoun struct {
	one, few, many  string // nominative: 1 школа, 2 школы, 5 школ
	genOne, genMany string // genitive, after «из», «более»: из 21 школы, из 2 школ
}

var (
	ruSchool   = ruNoun{"школа", "школы", "школ", "школы", "школ"}
	ruRequired = ruNoun{"подлежащая", "подлежащие", "подлежащих", "подлежащей", "подлежащих"}
	ruItem     = ruNoun{"пункт", "пункта", "пунктов", "пункта", "пунктов"}
)

// nom is n with the noun in the nominative: «1 школа», «2 школы», «5 школ».
func (w ruNoun) nom(n int) string {
	switch ruClass(n) {
	case ruOne:
		return Group(n) + " " + w.one
	case ruFew:
		return Group(n) + " " + w.few
	}
	return Group(n) + " " + w.many
}

// gen is n with the noun in the genitive: «21 школы», «2 357 школ».
func (w ruNoun) gen(n int) string {
	if ruClass(n) == ruOne {
		return Group(n) + " " + w.genOne
	}
	return Group(n) + " " + w.genMany
}

var ruMonths = [...]string{"января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября", "ноября", "декабря"}
