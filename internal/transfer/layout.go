package transfer

import (
	"fmt"
	"strings"

	"qorgan/internal/registry"
)

// layout is the set of columns a kind of file has. Every column must be in
// the header (a blank cell means "no value", a missing column would leave
// the meaning open), except the optional groups, which may be left out whole.
type layout struct {
	kind    Kind
	columns []string       // in export order
	index   map[string]int // name → place in columns
	group   map[string]int // name → optional group (0: required)
}

func newLayout(kind Kind, required []string, optional ...[]string) *layout {
	l := &layout{kind: kind, index: map[string]int{}, group: map[string]int{}}
	add := func(g int, names []string) {
		for _, n := range names {
			l.index[n] = len(l.columns)
			l.group[n] = g
			l.columns = append(l.columns, n)
		}
	}
	add(0, required)
	for i, g := range optional {
		add(i+1, g)
	}
	return l
}

var schoolColumns = []string{"code", "bin", "parent_bin", "name_kk", "name_ru", "region_code", "district_code",
	"address", "lat", "lon", "urban", "regional_centre", "shifts", "headcount"}

var pupilColumns = []string{"school_code", "external_id", "last_name", "first_name", "middle_name", "class", "card_uid"}

// guardianFields are the columns of one guardian, after the "guardianN_" prefix.
var guardianFields = []string{"phone", "full_name", "email", "messenger_id", "language", "relation", "may_collect",
	"consent_given_on", "consent_withdrawn_on"}

func guardianColumn(n int, field string) string { return fmt.Sprintf("guardian%d_%s", n, field) }

func guardianGroup(n int) []string {
	out := make([]string, len(guardianFields))
	for i, f := range guardianFields {
		out[i] = guardianColumn(n, f)
	}
	return out
}

var (
	schoolLayout = newLayout(Schools, schoolColumns)
	// A pupil row carries up to registry.MaxGuardians guardians; the first
	// group of columns is always there, the others may be left out.
	pupilLayout = func() *layout {
		req := append(append([]string{}, pupilColumns...), guardianGroup(1)...)
		var opt [][]string
		for n := 2; n <= registry.MaxGuardians; n++ {
			opt = append(opt, guardianGroup(n))
		}
		return newLayout(Pupils, req, opt...)
	}()
)

// SchoolColumns lists the columns of a schools file, in the order an export
// writes them. Every column must be in an imported file's header, in any
// order, case ignored. shifts holds "HH:MM-HH:MM" pairs separated by ";";
// urban and regional_centre take true/false, 1/0, yes/no, да/нет, иә/жоқ.
func SchoolColumns() []string { return append([]string{}, schoolColumns...) }

// PupilColumns lists the columns of a pupils file with the given number of
// guardian groups (guardian1_… to guardianN_), in export order. An imported
// file must have the pupil columns and the guardian1_ group; guardian2_ to
// guardian4_ groups may each be left out whole. A guardian whose phone and
// full name are both blank is absent. Dates are YYYY-MM-DD or DD.MM.YYYY.
func PupilColumns(guardians int) []string {
	guardians = max(1, min(guardians, registry.MaxGuardians))
	out := append([]string{}, pupilColumns...)
	for n := 1; n <= guardians; n++ {
		out = append(out, guardianGroup(n)...)
	}
	return out
}

// header is a file's header row resolved against a layout.
type header struct {
	l      *layout
	at     []int  // layout column → index in the file's rows, -1 if absent
	named  []bool // file column → has a name in the layout
	groups []bool // optional group → present
}

// readHeader resolves the header cells, adding a problem for each unknown,
// repeated or missing column; ok is false when there was any.
func readHeader(l *layout, cells []string, ps *problems) (h *header, ok bool) {
	h = &header{l: l, at: make([]int, len(l.columns)), named: make([]bool, len(cells))}
	for i := range h.at {
		h.at[i] = -1
	}
	ok = true
	ngroups := 0
	for _, g := range l.group {
		ngroups = max(ngroups, g)
	}
	h.groups = make([]bool, ngroups+1)
	h.groups[0] = true
	for i, c := range cells {
		name := strings.ToLower(strings.TrimSpace(c))
		if name == "" {
			continue
		}
		j, known := l.index[name]
		switch {
		case !known:
			ps.add(1, name, ProblemUnknownColumn, strings.TrimSpace(c), "unknown column %q (a %s file has: %s)", strings.TrimSpace(c), l.kind, strings.Join(columnsHint(l), ", "))
			ok = false
		case h.at[j] >= 0:
			ps.add(1, name, ProblemColumnTwice, "", "column %s appears twice", name)
			ok = false
		default:
			h.at[j] = i
			h.named[i] = true
			h.groups[l.group[name]] = true
		}
	}
	for j, name := range l.columns {
		if h.at[j] < 0 && h.groups[l.group[name]] {
			ps.add(1, name, ProblemColumnMissing, "", "column %s is missing", name)
			ok = false
		}
	}
	return h, ok
}

// columnsHint names a layout's columns for messages: the pupil
// layout shows its first two guardian groups and says how many there may be.
func columnsHint(l *layout) []string {
	if l.kind == Pupils {
		return append(PupilColumns(2), fmt.Sprintf("… up to guardian%d_", registry.MaxGuardians))
	}
	return SchoolColumns()
}

// hasGroup reports whether optional group g is in the file.
func (h *header) hasGroup(g int) bool { return g < len(h.groups) && h.groups[g] }
