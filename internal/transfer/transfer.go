// Package transfer moves schools, and pupils with their guardians, in and out
// of the registry as CSV and XLSX files. An import checks the whole file
// first and then writes it in one transaction, or writes nothing and names
// every bad row and column. Files are keyed by the schools' codes and the
// pupils' external ids, so importing the same file twice changes nothing.
package transfer

import (
	"context"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/registry"
	"qorgan/internal/store"
)

// Kind is what a file holds.
type Kind string

const (
	Schools Kind = "schools"
	Pupils  Kind = "pupils"
)

// Format is a file format.
type Format string

const (
	CSV  Format = "csv"
	XLSX Format = "xlsx"
)

// ParseKind checks a kind given by a person.
func ParseKind(s string) (Kind, error) {
	switch k := Kind(strings.ToLower(strings.TrimSpace(s))); k {
	case Schools, Pupils:
		return k, nil
	}
	return "", errs.Invalidf("kind", "kind must be %s or %s, got %q", Schools, Pupils, s)
}

// ParseFormat checks a format given by a person ("csv", "xlsx").
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimPrefix(strings.TrimSpace(s), "."))); f {
	case CSV, XLSX:
		return f, nil
	}
	return "", errs.Invalidf("format", "format must be %s or %s, got %q", CSV, XLSX, s)
}

// FormatOf tells the format from a file name's extension.
func FormatOf(filename string) (Format, error) {
	f, err := ParseFormat(path.Ext(strings.ToLower(filename)))
	if err != nil {
		return "", errs.Invalidf("file", "the file must be .csv or .xlsx, got %q", filename)
	}
	return f, nil
}

// ContentType is the media type of a format, for downloads.
func (f Format) ContentType() string {
	if f == XLSX {
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	return "text/csv; charset=utf-8"
}

// Limits on what one import takes.
const (
	MaxFileSize = 50 << 20 // bytes
	MaxRows     = 200_000  // data rows; a bigger file is split by school
	MaxProblems = 1000     // problems listed in a report; the rest are counted
)

// Status is where an import stands.
type Status string

const (
	Running  Status = "running"  // a job still at work
	Done     Status = "done"     // written
	Rejected Status = "rejected" // the file has problems; nothing was written
	Failed   Status = "failed"   // Qorgan could not finish; nothing was written
)

// Problem is one thing wrong with a file. Row is the spreadsheet's row number
// (the header is row 1; 0 for the file as a whole); Column is the column's
// name in the layout ("guardian2_phone").
type Problem struct {
	Row    int    `json:"row"`
	Column string `json:"column,omitempty"`
	// Code names the kind of problem, so that a page can say it in its
	// reader's language; Value is the cell (or the number) it is about.
	// Message says it all in English, for the API and the command line.
	Code    ProblemCode `json:"code"`
	Value   string      `json:"value,omitempty"`
	Message string      `json:"message"`
}

// ProblemCode is the kind of a problem with a file.
type ProblemCode string

// The kinds of problem an import reports. A page words each in its
// reader's language ("ui.import.problem.<code>", with the column and the
// value); Invalid is a value the registry refused, worded by what its
// column expects.
const (
	ProblemEmpty         ProblemCode = "empty_file"
	ProblemNotUTF8       ProblemCode = "not_utf8"
	ProblemTooManyRows   ProblemCode = "too_many_rows"
	ProblemUnreadable    ProblemCode = "unreadable"
	ProblemNoSheet       ProblemCode = "no_sheet"
	ProblemNoHeader      ProblemCode = "no_header"
	ProblemUnknownColumn ProblemCode = "unknown_column"
	ProblemColumnTwice   ProblemCode = "column_twice"
	ProblemColumnMissing ProblemCode = "column_missing"
	ProblemUnnamedColumn ProblemCode = "unnamed_column"
	ProblemBadText       ProblemCode = "bad_text"
	ProblemRequired      ProblemCode = "required"
	ProblemNotBool       ProblemCode = "not_bool"
	ProblemNotDate       ProblemCode = "not_date"
	ProblemNotNumber     ProblemCode = "not_number"
	ProblemNotShifts     ProblemCode = "not_shifts"
	ProblemGuardianPart  ProblemCode = "guardian_incomplete"
	ProblemGuardianOther ProblemCode = "guardian_differs"
	ProblemInvalid       ProblemCode = "invalid"
	ProblemRepeats       ProblemCode = "repeats"
	ProblemUnknownSchool ProblemCode = "unknown_school"
	ProblemTaken         ProblemCode = "taken"
	ProblemOutsideScope  ProblemCode = "outside_scope"
)

// ProblemCodes are every kind, for the pages' message files.
var ProblemCodes = []ProblemCode{ProblemEmpty, ProblemNotUTF8, ProblemTooManyRows, ProblemUnreadable, ProblemNoSheet,
	ProblemNoHeader, ProblemUnknownColumn, ProblemColumnTwice, ProblemColumnMissing, ProblemUnnamedColumn, ProblemBadText,
	ProblemRequired, ProblemNotBool, ProblemNotDate, ProblemNotNumber, ProblemNotShifts, ProblemGuardianPart,
	ProblemGuardianOther, ProblemInvalid, ProblemRepeats, ProblemUnknownSchool, ProblemTaken, ProblemOutsideScope}

func (p Problem) String() string {
	switch {
	case p.Row == 0:
		return p.Message
	case p.Column == "":
		return fmt.Sprintf("row %d: %s", p.Row, p.Message)
	}
	return fmt.Sprintf("row %d, %s: %s", p.Row, p.Column, p.Message)
}

// Report is the outcome of an import.
type Report struct {
	Kind      Kind   `json:"kind"`
	File      string `json:"file"`
	Status    Status `json:"status"`
	Total     int    `json:"total"` // data rows (blank rows are not counted)
	Created   int    `json:"created"`
	Updated   int    `json:"updated"`
	Unchanged int    `json:"unchanged"`
	// Problems lists the first MaxProblems problems by row; MoreProblems
	// counts the rest.
	Problems     []Problem `json:"problems"`
	MoreProblems int       `json:"more_problems,omitempty"`
	// SchoolIDs are the schools a pupil file wrote to.
	SchoolIDs []int64 `json:"school_ids,omitempty"`
}

// Err is nil for a written file and an Invalid error, saying how many
// problems were found, for a rejected one.
func (r Report) Err() error {
	if r.Status != Rejected {
		return nil
	}
	n := len(r.Problems) + r.MoreProblems
	return errs.Invalidf("file", "%s has %d problem(s); nothing was written", r.File, n)
}

// Progress is told how many of a file's rows are through, during checking and
// writing: a row counts half when checked and whole when written, so done
// grows steadily from 0 to total (and stops halfway for a rejected file).
type Progress func(done, total int)

// File is a spreadsheet to import.
type File struct {
	Name   string
	Format Format
	Body   io.Reader
}

// Import imports a file of the given kind.
func Import(ctx context.Context, reg *registry.Registry, p auth.Principal, kind Kind, f File, progress Progress) (Report, error) {
	return importFile(ctx, reg, p, kind, f, progress, nil)
}

// ImportSchools imports a file of schools (see SchoolColumns). The principal
// needs auth.ImportSchools, and every school must lie inside their region or
// district.
func ImportSchools(ctx context.Context, reg *registry.Registry, p auth.Principal, f File, progress Progress) (Report, error) {
	return importFile(ctx, reg, p, Schools, f, progress, nil)
}

// ImportPupils imports a file of pupils with their guardians (see
// PupilColumns). The principal needs auth.ImportPupils, and every row must
// name a school in their scope.
func ImportPupils(ctx context.Context, reg *registry.Registry, p auth.Principal, f File, progress Progress) (Report, error) {
	return importFile(ctx, reg, p, Pupils, f, progress, nil)
}

// importFile runs one import; job is set when it runs as a Job.
func importFile(ctx context.Context, reg *registry.Registry, p auth.Principal, kind Kind, f File, progress Progress, job *run) (Report, error) {
	rep := Report{Kind: kind, File: f.Name, Status: Failed, Problems: []Problem{}}
	var perm auth.Permission
	switch kind {
	case Schools:
		perm = auth.ImportSchools
	case Pupils:
		perm = auth.ImportPupils
	default:
		_, err := ParseKind(string(kind))
		return rep, err
	}
	if err := p.Require(perm); err != nil {
		return rep, err
	}
	if _, err := ParseFormat(string(f.Format)); err != nil {
		return rep, err
	}
	data, err := io.ReadAll(io.LimitReader(f.Body, MaxFileSize+1))
	if err != nil {
		return rep, errs.Wrap(err, "read the file")
	}
	if len(data) > MaxFileSize {
		return rep, tooLarge()
	}
	im := &importer{reg: reg, p: p, kind: kind, file: f, job: job, progress: progress}
	if kind == Schools {
		err = im.schools(ctx, data)
	} else {
		err = im.pupils(ctx, data)
	}
	rep.Total = im.total
	if err != nil {
		return rep, err // rolled back: nothing was written
	}
	rep.Created, rep.Updated, rep.Unchanged, rep.SchoolIDs = im.created, im.updated, im.unchanged, im.schoolIDs
	rep.Problems, rep.MoreProblems = im.probs.list()
	if len(rep.Problems) > 0 {
		rep.Status = Rejected
		return rep, nil
	}
	rep.Status = Done
	return rep, nil
}

func tooLarge() error {
	return errs.E(errs.TooLarge, "file", "the file is larger than %d MiB", MaxFileSize>>20)
}

// importer holds one import's state.
type importer struct {
	reg      *registry.Registry
	p        auth.Principal
	kind     Kind
	file     File
	job      *run
	progress Progress
	probs    problems

	total, checked, written     int
	reported                    int
	created, updated, unchanged int
	schoolIDs                   []int64
}

// badCells reports the problems found in a row's cells and returns their
// columns, so that the row's later checks do not report them again.
func (im *importer) badCells(r *row) []string {
	var cols []string
	for _, p := range r.bad {
		cols = append(cols, p.Column)
		im.probs.keep(p)
	}
	return cols
}

// tick tells progress about every 500 rows checked or written, and at the
// end of each phase (force).
func (im *importer) tick(force bool) {
	n := im.checked + im.written
	if im.progress == nil || (!force && n-im.reported < 1000) {
		return
	}
	im.reported = n
	im.progress(n/2, im.total)
}

// auditObject names the import in the audit trail.
func (im *importer) auditObject() string {
	if im.job != nil {
		return fmt.Sprintf("import/%d", im.job.id)
	}
	return "import"
}

// inTx runs the import's one write transaction, telling a job that the
// writer is busy meanwhile.
func (im *importer) inTx(ctx context.Context, fn func(*store.Tx) error) error {
	if im.job != nil {
		im.job.writing.Store(true)
		defer im.job.writing.Store(false)
	}
	return im.reg.DB.InTx(ctx, fn)
}

// problems collects a file's problems. It keeps more than it will list, so
// that problems found late about early rows still make the list, and counts
// the rest.
type problems struct {
	kept  []Problem
	extra int
	order map[string]int // column → its place in the layout, for sorting
}

// add records a problem: its row, column, kind and value, and the English
// message made from format and args.
func (ps *problems) add(row int, column string, code ProblemCode, value, format string, args ...any) {
	ps.keep(Problem{Row: row, Column: column, Code: code, Value: value, Message: fmt.Sprintf(format, args...)})
}

func (ps *problems) keep(p Problem) {
	if len(ps.kept) >= 10*MaxProblems {
		ps.extra++
		return
	}
	ps.kept = append(ps.kept, p)
}

func (ps *problems) empty() bool { return len(ps.kept) == 0 && ps.extra == 0 }

// list returns the first MaxProblems problems by row and column, and how many
// more there are.
func (ps *problems) list() ([]Problem, int) {
	sort.SliceStable(ps.kept, func(i, j int) bool {
		a, b := ps.kept[i], ps.kept[j]
		if a.Row != b.Row {
			return a.Row < b.Row
		}
		return ps.order[a.Column] < ps.order[b.Column]
	})
	out := ps.kept
	more := ps.extra
	if len(out) > MaxProblems {
		more += len(out) - MaxProblems
		out = out[:MaxProblems]
	}
	if out == nil {
		out = []Problem{}
	}
	return out, more
}
