package transfer

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"qorgan/internal/registry"
)

// Cell values: how people write them in spreadsheets, and how an export
// writes them back so that importing it changes nothing.

var (
	yes = map[string]bool{"true": true, "1": true, "yes": true, "да": true, "иә": true, "ия": true}
	no  = map[string]bool{"false": true, "0": true, "no": true, "нет": true, "жоқ": true, "жок": true}
)

// parseBool reads a yes/no cell; blank is def.
func parseBool(s string, def bool) (bool, bool) {
	s = strings.ToLower(s)
	switch {
	case s == "":
		return def, true
	case yes[s]:
		return true, true
	case no[s]:
		return false, true
	}
	return false, false
}

func formatBool(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// spaces people put inside numbers: "1 200", "1 200" (no-break), "1 200".
var numberSpaces = strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "")

// parseFloat reads a number, accepting a decimal comma ("43,2389").
func parseFloat(s string) (*float64, bool) {
	if s == "" {
		return nil, true
	}
	s = numberSpaces.Replace(s)
	if !strings.Contains(s, ".") {
		s = strings.Replace(s, ",", ".", 1)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, false
	}
	return &v, true
}

// parseInt reads a whole number ("1200", "1 200", "1200.0"); blank is 0.
func parseInt(s string) (int, bool) {
	if s == "" {
		return 0, true
	}
	f, ok := parseFloat(s)
	if !ok || *f != float64(int(*f)) {
		return 0, false
	}
	return int(*f), true
}

var shiftRE = regexp.MustCompile(`^(\d{1,2})[:.](\d{2})\s*[-–—]\s*(\d{1,2})[:.](\d{2})$`)

// parseShifts reads "08:00-13:00;13:30-18:30" (also with "," or a new line
// between shifts, "8.00", or a dash). Times are checked by registry.
func parseShifts(s string) ([]registry.Shift, bool) {
	var out []registry.Shift
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ',' || r == '\n' }) {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		m := shiftRE.FindStringSubmatch(part)
		if m == nil {
			return nil, false
		}
		pad := func(h string) string {
			if len(h) == 1 {
				return "0" + h
			}
			return h
		}
		out = append(out, registry.Shift{Start: pad(m[1]) + ":" + m[2], End: pad(m[3]) + ":" + m[4]})
	}
	return out, true
}

func formatShifts(ss []registry.Shift) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = s.Start + "-" + s.End
	}
	return strings.Join(parts, ";")
}

// parseDate reads a calendar date as YYYY-MM-DD, DD.MM.YYYY or, in an XLSX
// file, the serial number of a cell formatted as a date. It returns YYYY-MM-DD.
func parseDate(s string, src *source) (string, bool) {
	if s == "" {
		return "", true
	}
	for _, layout := range []string{time.DateOnly, "02.01.2006", "2.1.2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Format(time.DateOnly), true
		}
	}
	// An XLSX date-typed cell ("2024-09-01T00:00:00Z").
	if len(s) > 10 && s[10] == 'T' {
		if t, err := time.Parse(time.DateOnly, s[:10]); err == nil {
			return t.Format(time.DateOnly), true
		}
	}
	if src.xlsx {
		if v, err := strconv.ParseFloat(s, 64); err == nil && v >= 1 && v < 2958466 {
			if t, err := excelize.ExcelDateToTime(v, src.date1904); err == nil {
				return t.Format(time.DateOnly), true
			}
		}
	}
	return s, false
}
