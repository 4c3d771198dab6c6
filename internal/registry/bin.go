package registry

import "qorgan/internal/errs"

// ValidateBIN checks a 12-digit business identification number (БИН) or, as
// the algorithm is the same, an individual one (ИИН): the twelfth digit is
// Σ dᵢ·i mod 11 over the first eleven; when that is 10 it is recomputed with
// weights 3…11,1,2, and a second 10 makes the number invalid.
func ValidateBIN(field, s string) error {
	if len(s) != 12 {
		return errs.Invalidf(field, "BIN must have 12 digits, got %d characters", len(s))
	}
	var d [12]int
	for i := 0; i < 12; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return errs.Invalidf(field, "BIN must have only digits, got %q", s)
		}
		d[i] = int(c - '0')
	}
	if binControl(d) != d[11] {
		return errs.Invalidf(field, "BIN %s fails its control digit", s)
	}
	return nil
}

func binControl(d [12]int) int {
	sum := 0
	for i := 0; i < 11; i++ {
		sum += d[i] * (i + 1)
	}
	c := sum % 11
	if c != 10 {
		return c
	}
	w := [11]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2}
	sum = 0
	for i := 0; i < 11; i++ {
		sum += d[i] * w[i]
	}
	c = sum % 11
	if c == 10 {
		return -1
	}
	return c
}

// MakeBIN completes eleven digits with their control digit; ok is false when
// no control digit exists for them (the demo then tries another serial).
func MakeBIN(first11 string) (string, bool) {
	var d [12]int
	for i := 0; i < 11; i++ {
		d[i] = int(first11[i] - '0')
	}
	c := binControl(d)
	if c < 0 {
		return "", false
	}
	return first11 + string(rune('0'+c)), true
}
