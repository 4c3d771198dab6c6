package report

import "strings"

// Kazakh adds case endings to a word by vowel harmony (the last vowel: back
// а о ұ ы, front ә ө ү і е) and by the word's final sound. A number written
// in digits takes the ending of its last word as read aloud, after a hyphen:
// 681 is «алты жүз сексен бір», so «681-і», «681-ден»; 2 357 ends in «жеті»,
// so «2 357-сі», «2 357-нің». After a numeral the noun stays singular
// («681 мектеп»).

var (
	kkOnes = [...]string{"", "бір", "екі", "үш", "төрт", "бес", "алты", "жеті", "сегіз", "тоғыз"}
	kkTens = [...]string{"", "он", "жиырма", "отыз", "қырық", "елу", "алпыс", "жетпіс", "сексен", "тоқсан"}
)

// kkLastWord is the last word of n read aloud in Kazakh.
func kkLastWord(n int) string {
	if n < 0 {
		n = -n
	}
	switch {
	case n == 0:
		return "нөл"
	case n%10 != 0:
		return kkOnes[n%10]
	case n%100 != 0:
		return kkTens[n%100/10]
	case n%1000 != 0:
		return "жүз"
	case n/1000%1000 != 0:
		return "мың"
	case n/1000000%1000 != 0:
		return "миллион"
	}
	return "миллиард"
}

// kkSound is the class of a word's final sound that picks its endings.
type kkSound int

const (
	kkVowel     kkSound = iota // а ә е о ө ұ ү ы і э ю я
	kkNasal                    // м н ң
	kkVoiced                   // р л й у и з ж: sonorants, glides, voiced fricatives
	kkVoiceless                // п т к қ с ш ф х ц ч щ һ, and б в г ғ д
)

// kkWord is what the endings of a word depend on.
type kkWord struct {
	front bool
	sound kkSound
	last  rune
}

func kkAnalyse(w string) kkWord {
	r := []rune(strings.ToLower(w))
	k := kkWord{}
	if len(r) == 0 {
		return k
	}
	k.last = r[len(r)-1]
	switch {
	case strings.ContainsRune("аәеоөұүыіэюяё", k.last):
		k.sound = kkVowel
	case strings.ContainsRune("мнң", k.last):
		k.sound = kkNasal
	case strings.ContainsRune("рлйуизж", k.last):
		k.sound = kkVoiced
	default:
		k.sound = kkVoiceless
	}
	for i := len(r) - 1; i >= 0; i-- {
		if strings.ContainsRune("әөүіеэ", r[i]) {
			k.front = true
			break
		}
		if strings.ContainsRune("аоұыяё", r[i]) {
			break
		}
	}
	return k
}

func (k kkWord) pick(back, front string) string {
	if k.front {
		return front
	}
	return back
}

// Genitive: «мектептің», «бірдің», «екінің».
func (k kkWord) genitive() string {
	switch k.sound {
	case kkVowel, kkNasal:
		return k.pick("ның", "нің")
	case kkVoiced:
		return k.pick("дың", "дің")
	}
	return k.pick("тың", "тің")
}

// Ablative: «мектептен», «бірден», «оннан».
func (k kkWord) ablative() string {
	switch k.sound {
	case kkNasal:
		return k.pick("нан", "нен")
	case kkVowel, kkVoiced:
		return k.pick("дан", "ден")
	}
	return k.pick("тан", "тен")
}

// Locative: «мектепте», «желтоқсанда».
func (k kkWord) locative() string {
	if k.sound == kkVoiceless {
		return k.pick("та", "те")
	}
	return k.pick("да", "де")
}

// Dative: «мектепке», «бірге», «қырыққа».
func (k kkWord) dative() string {
	if k.sound == kkVoiceless {
		if k.last == 'к' {
			return "ке"
		}
		if k.last == 'қ' {
			return "қа"
		}
		return k.pick("қа", "ке")
	}
	return k.pick("ға", "ге")
}

// Possessive of the third person: «681-і» (one of them), «2 357-сі».
func (k kkWord) possessive() string {
	if k.sound == kkVowel {
		return k.pick("сы", "сі")
	}
	return k.pick("ы", "і")
}

// kkCase is a Kazakh case (or the possessive) a number can take.
type kkCase int

const (
	kkGenitive kkCase = iota
	kkAblative
	kkLocative
	kkDative
	kkPossessive
)

func (k kkWord) ending(c kkCase) string {
	switch c {
	case kkGenitive:
		return k.genitive()
	case kkAblative:
		return k.ablative()
	case kkLocative:
		return k.locative()
	case kkDative:
		return k.dative()
	}
	return k.possessive()
}

// kkNum is n in digits with the ending of case c: kkNum(681, kkPossessive)
// is «681-і».
func kkNum(n int, c kkCase) string {
	return Group(n) + "-" + kkAnalyse(kkLastWord(n)).ending(c)
}

// kkWordCase is word w with the ending of case c: «мектеп» → «мектептің».
func kkWordCase(w string, c kkCase) string { return w + kkAnalyse(w).ending(c) }

// kkPercent is a share with the possessive: «29%-ы» (пайыз → пайызы).
func kkPercent(p float64) string { return percent(p) + "-" + kkAnalyse("пайыз").possessive() }

var kkMonths = [...]string{"қаңтар", "ақпан", "наурыз", "сәуір", "мамыр", "маусым", "шілде", "тамыз", "қыркүйек", "қазан", "қараша", "желтоқсан"}
