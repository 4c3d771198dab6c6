package report

import (
	"math"
	"strconv"
	"strings"
)

// NBSP separates thousands as officials write them («2 357»): a no-break
// space, so that a number never breaks across lines.
const NBSP = "\u00a0"

// Group writes n with its thousands separated by NBSP: 2357 → «2 357».
func Group(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(NBSP)
		}
		b.WriteRune(c)
	}
	return b.String()
}

// percent is a share in per cent as a letter writes it: a whole number.
func percent(p float64) string {
	return strconv.Itoa(int(math.Round(p))) + "%"
}

// share is count out of required in per cent.
func share(count, required int) float64 {
	if required == 0 {
		return 0
	}
	return float64(count) * 100 / float64(required)
}
