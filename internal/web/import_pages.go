package web

import (
	"bytes"
	"io"
	"net/http"
	"path"
	"strconv"
	"strings"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/locale"
	"qorgan/internal/registry"
	"qorgan/internal/transfer"
)

// The import pages: a pupils file (CSV or XLSX, the export's own layout)
// sent from the school's page, then its progress and its report. The same
// jobs as POST /api/v1/imports.

type importFormData struct {
	School registry.School
	Error  string // a message id beside the file field
}

func (s *Server) importForm(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view) error {
	return s.showImportForm(w, r, sess.Principal, v, http.StatusOK, "")
}

func (s *Server) showImportForm(w http.ResponseWriter, r *http.Request, p auth.Principal, v *view, status int, msg string) error {
	_, sc, err := s.pathSchool(r, p)
	if err != nil {
		return err
	}
	if err := p.Require(auth.ImportPupils); err != nil {
		return err
	}
	return s.renderPage(w, status, "import", v, "ui.import.title", importFormData{School: sc, Error: msg})
}

// startImportPage takes the form's file and starts the job; a missing or
// unreadable file, or one that is neither CSV nor XLSX, comes back beside
// the field.
func (s *Server) startImportPage(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view) error {
	p := sess.Principal
	f, hdr, err := r.FormFile("file")
	if err != nil {
		return s.showImportForm(w, r, p, v, http.StatusUnprocessableEntity, "ui.import.no_file")
	}
	defer f.Close()
	name := path.Base(hdr.Filename)
	format, err := transfer.FormatOf(name)
	if err != nil {
		return s.showImportForm(w, r, p, v, http.StatusUnprocessableEntity, "ui.import.bad_format")
	}
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, f); err != nil {
		return s.showImportForm(w, r, p, v, http.StatusUnprocessableEntity, "ui.import.no_file")
	}
	job, err := s.Jobs.Start(r.Context(), p, transfer.Pupils, format, name, buf.Bytes())
	if err != nil {
		if e := errs.As(err); e.Code == errs.Invalid || e.Code == errs.TooLarge {
			return s.showImportForm(w, r, p, v, http.StatusUnprocessableEntity, "ui.import.bad_file")
		}
		return err
	}
	http.Redirect(w, r, "/imports/"+strconv.FormatInt(job.ID, 10), http.StatusSeeOther)
	return nil
}

type importPageData struct {
	Job      transfer.Job
	Problems []problemRow
	Percent  int
	Running  bool
}

// problemRow is one problem of the report, worded in the reader's language.
type problemRow struct {
	Row    int
	Column string
	Text   string
}

// problemText words an import's problem in lang: by its kind, with its
// column and value; a value the registry refused, by what its column
// expects ("guardian2_phone" expects what every guardian's phone does).
func problemText(lang string, p transfer.Problem) string {
	if p.Code == transfer.ProblemInvalid {
		field := p.Column
		if g, f, ok := strings.Cut(field, "_"); ok && strings.HasPrefix(g, "guardian") {
			field = f
		}
		if ok, _ := locale.Has(lang, "ui.import.expect."+field); ok {
			return tr(lang, "ui.import.expect."+field, nil, 0)
		}
	}
	if p.Code == "" { // a report stored before problems had kinds
		return p.Message
	}
	return tr(lang, "ui.import.problem."+string(p.Code), p, 0)
}

func (s *Server) importPage(w http.ResponseWriter, r *http.Request, sess auth.Session, v *view) error {
	_, job, err := getByID(r, sess.Principal, s.Jobs.Get)
	if err != nil {
		return err
	}
	d := importPageData{Job: job, Running: job.Status == transfer.Running}
	for _, p := range job.Problems {
		d.Problems = append(d.Problems, problemRow{Row: p.Row, Column: p.Column, Text: problemText(v.Lang, p)})
	}
	switch {
	case !d.Running:
		d.Percent = 100
	case job.Total > 0:
		d.Percent = job.Processed * 100 / job.Total
	}
	return s.renderPage(w, http.StatusOK, "import_job", v, "ui.import.title", d)
}
