package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"qorgan/internal/errs"
)

// MaxBody is the largest JSON body accepted.
const MaxBody = 1 << 20

// MaxPassBody is the largest batch of passes a turnstile controller may post
// (a backlog upload of a few thousand events).
const MaxPassBody = 4 << 20

// decode reads one JSON value into v, strictly: unknown fields, wrong types,
// trailing data and bodies over MaxBody are errors that name what is wrong.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	return decodeLimit(w, r, v, MaxBody)
}

// decodeLimit is decode with another size limit.
func decodeLimit(w http.ResponseWriter, r *http.Request, v any, limit int64) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return errs.Invalidf("Content-Type", "send application/json, not %q", ct)
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err, limit)
	}
	if dec.More() {
		return errs.Invalidf("", "the body holds more than one JSON value")
	}
	if _, err := dec.Token(); err != io.EOF {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errs.E(errs.TooLarge, "", "the body is over %d bytes", limit)
		}
		return errs.Invalidf("", "the body holds data after its JSON value")
	}
	return nil
}

func jsonError(err error, limit int64) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return errs.E(errs.TooLarge, "", "the body is over %d bytes", limit)
	case errors.Is(err, io.EOF):
		return errs.Invalidf("", "the body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errs.Invalidf("", "the body ends in the middle of its JSON")
	case errors.As(err, &syn):
		return errs.Invalidf("", "the body is not valid JSON at byte %d: %v", syn.Offset, syn)
	case errors.As(err, &typ):
		field := strings.ReplaceAll(typ.Field, ".", "/")
		return errs.Invalidf(field, "%s must be %s, not %s", orBody(field), jsonType(typ.Type.Kind().String()), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return errs.Invalidf(f, "unknown field %q", f)
	}
	return errs.Invalidf("", "the body is not valid JSON: %v", err)
}

func orBody(f string) string {
	if f == "" {
		return "the body"
	}
	return f
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	case "float32", "float64":
		return "a number"
	}
	if strings.HasPrefix(kind, "int") || strings.HasPrefix(kind, "uint") {
		return "an integer"
	}
	return fmt.Sprintf("of type %s", kind)
}

// writeJSON sends v with a status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}
