package web

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"

	"qorgan/internal/errs"
)

// Problem is an RFC 9457 problem document. Field names the offending input
// and Errors lists every problem when there are several.
type Problem struct {
	Type     string         `json:"type"`
	Title    string         `json:"title"`
	Status   int            `json:"status"`
	Detail   string         `json:"detail,omitempty"`
	Instance string         `json:"instance,omitempty"`
	Code     errs.Code      `json:"code"`
	Field    string         `json:"field,omitempty"`
	Errors   []ProblemField `json:"errors,omitempty"`
}

// ProblemField is one of several problems.
type ProblemField struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

// statusOf maps error codes to HTTP statuses: the one place that does.
var statusOf = map[errs.Code]int{
	errs.Invalid:      http.StatusUnprocessableEntity,
	errs.NotFound:     http.StatusNotFound,
	errs.Conflict:     http.StatusConflict,
	errs.Unauthorized: http.StatusUnauthorized,
	errs.Forbidden:    http.StatusForbidden,
	errs.TooLarge:     http.StatusRequestEntityTooLarge,
	errs.TooMany:      http.StatusTooManyRequests,
	errs.Unavailable:  http.StatusServiceUnavailable,
	errs.Internal:     http.StatusInternalServerError,
}

var titleOf = map[errs.Code]string{
	errs.Invalid:      "Invalid input",
	errs.NotFound:     "Not found",
	errs.Conflict:     "Conflict",
	errs.Unauthorized: "Sign-in required",
	errs.Forbidden:    "Not allowed",
	errs.TooLarge:     "Too large",
	errs.TooMany:      "Too many attempts",
	errs.Unavailable:  "Unavailable",
	errs.Internal:     "Internal error",
}

// statusClientClosed is the status recorded for a request its client
// abandoned (nginx's 499): it is no server error.
const statusClientClosed = 499

// writeError sends err as a problem document; internal detail goes to the log only.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var list errs.List
	errors.As(err, &list)
	e := errs.As(err)
	status := statusOf[e.Code]
	if status == 0 {
		status = http.StatusInternalServerError
	}
	p := Problem{Type: "urn:qorgan:problem:" + string(e.Code), Title: titleOf[e.Code], Status: status, Detail: e.Message,
		Instance: r.URL.Path, Code: e.Code, Field: e.Field}
	if len(list) > 1 {
		for _, x := range list {
			p.Errors = append(p.Errors, ProblemField{Field: x.Field, Detail: x.Message})
		}
	}
	if e.Code == errs.Internal && r.Context().Err() != nil && errors.Is(err, context.Canceled) {
		// The client went away (a page left, a stream closed) and took the
		// request's work with it: nothing failed on our side, so neither
		// the error log nor the 5xx count hears of it. 499 is the status
		// proxies give this.
		log.Info("request abandoned by the client", "method", r.Method, "path", r.URL.Path)
		status, p.Status = statusClientClosed, statusClientClosed
	} else if e.Code == errs.Internal {
		log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		p.Detail = "something went wrong on our side; it has been logged"
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(e.RetryAfter.Seconds()))))
	}
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(p)
}
