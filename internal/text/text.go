// Package text says whether a string is text a person may give Qorgan: valid
// UTF-8 without control characters. Names, phones, codes and ids are one
// line and take no control character at all; free text a person writes (a
// note, a postal address) may also hold tabs and line breaks. The JSON
// decoder of the HTTP API, the spreadsheet import and the validation of what
// devices send (which also comes over MQTT) ask here, so that they refuse
// alike.
//
// PostgreSQL cannot store U+0000 in text (SQLSTATE 22021) and SQLite stores
// it silently; neither is what a person meant, so both are refused before a
// store sees them. What a device sends is not refused for it: Escape makes
// it into such text, to be stored and shown.
package text

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind is what a field holds.
type Kind int

const (
	// Line is one line: names, phones, codes, ids. No C0 control
	// character (U+0000–U+001F, tab and line breaks included), no DEL
	// (U+007F), no C1 control character (U+0080–U+009F).
	Line Kind = iota
	// Lines is free text a person writes, such as a note on an alarm or a
	// postal address: as a Line, but tab (U+0009), line feed (U+000A) and
	// carriage return (U+000D) are allowed.
	Lines
)

// allowed reports whether kind k takes the control character r.
func allowed(r rune, k Kind) bool {
	return k == Lines && (r == '\t' || r == '\n' || r == '\r')
}

// Check returns "" when s is good text of kind k, otherwise what is wrong as
// a phrase to follow the field's name ("holds the control character U+0000
// at character 4 …").
func Check(s string, k Kind) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8 text"
	}
	n := 0
	for _, r := range s {
		n++
		if !unicode.IsControl(r) || allowed(r, k) {
			continue
		}
		if k == Lines {
			return fmt.Sprintf("holds the control character %U at character %d; free text may hold tabs and line breaks but no other control character", r, n)
		}
		return fmt.Sprintf("holds the control character %U at character %d; names, phones, codes and ids take no control character (no tab or line break either)", r, n)
	}
	return ""
}

// Escape returns s as it is when it is good text of kind k, and otherwise
// with each byte that is not part of valid UTF-8, and each byte of a
// control character that k does not take, written as \xHH (lower-case
// hex). The rest stays as it was, so the result is readable text that
// either store keeps and a console may show. It is for what a device sent:
// the bytes named stay visible, where U+FFFD would hide which they were.
// It is not reversible (a backslash is left alone); keep the exact bytes
// apart when they matter.
func Escape(s string, k Kind) string {
	if Check(s, k) == "" {
		return s
	}
	const hex = "0123456789abcdef"
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || unicode.IsControl(r) && !allowed(r, k) {
			for _, c := range []byte(s[i : i+n]) {
				b.WriteString(`\x`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&0x0f])
			}
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// formulaStarts are the first characters that make a spreadsheet run a
// CSV cell as a formula.
const formulaStarts = "=+-@\t\r"

// GuardFormula is s as a CSV export writes it: a spreadsheet opening the
// file runs a cell that starts with = + - @ (or a tab or carriage return)
// as a formula, so such text gets an apostrophe before it; plain numbers
// such as phone numbers ("+7701…") are left alone.
func GuardFormula(s string) string {
	if s == "" || !strings.ContainsRune(formulaStarts, rune(s[0])) {
		return s
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return s
	}
	return "'" + s
}

// UnguardFormula takes off the apostrophe GuardFormula put, as an import
// reads the cell.
func UnguardFormula(s string) string {
	if len(s) >= 2 && s[0] == '\'' && strings.ContainsRune(formulaStarts, rune(s[1])) {
		return s[1:]
	}
	return s
}
