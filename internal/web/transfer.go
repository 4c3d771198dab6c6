package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/transfer"
)

// startImport takes a CSV or XLSX file, as the request body or as the
// multipart field "file", and starts an import job; the answer is the job,
// whose progress and report GET /api/v1/imports/{id} shows.
func (s *Server) startImport(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	q := r.URL.Query()
	kind, err := transfer.ParseKind(q.Get("kind"))
	if err != nil {
		return errs.Invalidf("kind", "kind must be schools or pupils")
	}
	name := q.Get("filename")
	var body io.Reader = http.MaxBytesReader(w, r.Body, transfer.MaxFileSize+1)
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		r.Body = http.MaxBytesReader(w, r.Body, transfer.MaxFileSize+1<<20)
		f, hdr, err := r.FormFile("file")
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return errs.E(errs.TooLarge, "file", "the file is over %d MiB", transfer.MaxFileSize>>20)
			}
			return errs.Invalidf("file", "send the file in the multipart field \"file\"")
		}
		defer f.Close()
		body = f
		if name == "" {
			name = path.Base(hdr.Filename)
		}
	}
	var format transfer.Format
	switch {
	case q.Get("format") != "":
		format, err = transfer.ParseFormat(q.Get("format"))
		if err != nil {
			return errs.Invalidf("format", "format must be csv or xlsx")
		}
	case name != "":
		if format, err = transfer.FormatOf(name); err != nil {
			return err
		}
	default:
		return errs.Invalidf("format", "say format=csv or format=xlsx (or give a filename)")
	}
	if name == "" {
		name = fmt.Sprintf("upload.%s", format)
	}
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, body); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errs.E(errs.TooLarge, "file", "the file is over %d MiB", transfer.MaxFileSize>>20)
		}
		return errs.Invalidf("file", "could not read the upload: %v", err)
	}
	job, err := s.Jobs.Start(r.Context(), p, kind, format, name, buf.Bytes())
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/imports/%d", job.ID))
	writeJSON(w, http.StatusAccepted, job)
	return nil
}

func (s *Server) getImport(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	return byID(s.Jobs.Get)(w, r, p)
}

func exportFormat(r *http.Request) (transfer.Format, error) {
	v := r.URL.Query().Get("format")
	if v == "" {
		return transfer.CSV, nil
	}
	f, err := transfer.ParseFormat(v)
	if err != nil {
		return "", errs.Invalidf("format", "format must be csv or xlsx")
	}
	return f, nil
}

// The export is built in memory first so that an error becomes a problem
// document rather than half a file.
func (s *Server) exportSchools(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	f, err := exportFormat(r)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := transfer.ExportSchools(r.Context(), s.Registry, p, f, &buf); err != nil {
		return err
	}
	sendFile(w, "schools."+string(f), f, buf.Bytes())
	return nil
}

func (s *Server) exportPupils(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f, err := exportFormat(r)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := transfer.ExportPupils(r.Context(), s.Registry, p, id, f, &buf); err != nil {
		return err
	}
	sendFile(w, fmt.Sprintf("pupils-school-%d.%s", id, f), f, buf.Bytes())
	return nil
}

func sendFile(w http.ResponseWriter, name string, f transfer.Format, data []byte) {
	w.Header().Set("Content-Type", f.ContentType())
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	w.Write(data)
}
