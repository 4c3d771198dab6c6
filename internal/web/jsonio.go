package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"qorgan/internal/errs"
	"qorgan/internal/text"
)

// MaxBody is the largest JSON body accepted.
const MaxBody = 1 << 20

// MaxPassBody is the largest batch of passes a turnstile controller may post
// (a backlog upload of a few thousand events).
const MaxPassBody = 4 << 20

// decode reads one JSON value into v, strictly: unknown fields, wrong types,
// trailing data, a key given twice in one object, text that is not UTF-8 or
// holds control characters, and bodies over MaxBody are errors that name
// what is wrong.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	return decodeLimit(w, r, v, MaxBody)
}

// decodeLimit is decode with another size limit.
func decodeLimit(w http.ResponseWriter, r *http.Request, v any, limit int64) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return errs.Invalidf("Content-Type", "send application/json, not %q", ct)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errs.E(errs.TooLarge, "", "the body is over %d bytes", limit)
		}
		return errs.Invalidf("", "the body could not be read: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err, body, reflect.TypeOf(v))
	}
	if dec.More() {
		return errs.Invalidf("", "the body holds more than one JSON value")
	}
	if _, err := dec.Token(); err != io.EOF {
		return errs.Invalidf("", "the body holds data after its JSON value")
	}
	return checkText(body, reflect.TypeOf(v))
}

// checkText reads a body that decoded well once more, token by token, beside
// the type it was decoded into, for what encoding/json lets through: a key
// given twice in one object (the last would win silently), text that is not
// UTF-8 (it would become U+FFFD silently) and control characters (SQLite
// would store a NUL, PostgreSQL fail on it). Every string is one line
// (text.Line) unless its struct field is tagged text:"lines": free text a
// person writes, where tabs and line breaks are allowed.
func checkText(body []byte, t reflect.Type) error {
	c := &textScan{dec: json.NewDecoder(bytes.NewReader(body)), body: body}
	c.dec.UseNumber()
	return c.value(t, "", text.Line)
}

type textScan struct {
	dec  *json.Decoder
	body []byte
}

// token reads the next token with the bytes it was read from (with the
// separators before it).
func (c *textScan) token() (json.Token, []byte, error) {
	start := c.dec.InputOffset()
	tok, err := c.dec.Token()
	return tok, c.body[start:c.dec.InputOffset()], err
}

// value checks the next value, of type t (nil: unknown) at path at.
func (c *textScan) value(t reflect.Type, at string, kind text.Kind) error {
	tok, raw, err := c.token()
	if err != nil {
		return nil // the body decoded once; nothing more to say
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t != nil && (t.Kind() == reflect.Interface || reflect.PointerTo(t).Implements(unmarshaler)) {
		t = nil // decodes itself: its shape is not known here
	}
	switch x := tok.(type) {
	case json.Delim:
		switch x {
		case '{':
			return c.object(t, at, kind)
		case '[':
			var elem reflect.Type
			if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
				elem = t.Elem()
			}
			for i := 0; c.dec.More(); i++ {
				if err := c.value(elem, join(at, strconv.Itoa(i)), kind); err != nil {
					return err
				}
			}
			c.dec.Token() // ]
		}
	case string:
		if bad := textProblem(x, raw, kind); bad != "" {
			return errs.Invalidf(at, "%s %s", orBody(at), bad)
		}
	}
	return nil
}

// object checks the members of an object whose '{' has been read. Members
// of a struct are matched without regard to case, as encoding/json does, so
// "name" and "Name" are the same member given twice.
func (c *textScan) object(t reflect.Type, at string, kind text.Kind) error {
	var fields map[string]reflect.StructField
	if t != nil && t.Kind() == reflect.Struct {
		fields = jsonFields(t)
	}
	seen := map[string]string{}
	for c.dec.More() {
		tok, raw, err := c.token()
		if err != nil {
			return nil
		}
		key, _ := tok.(string)
		if bad := textProblem(key, raw, text.Line); bad != "" {
			return errs.Invalidf(at, "the key %q in %s %s", key, orBody(at), bad)
		}
		p := join(at, key)
		same := key
		if fields != nil {
			same = strings.ToLower(key)
		}
		if first, ok := seen[same]; ok {
			if first == key {
				return errs.Invalidf(p, "%s is given twice; give each member once", p)
			}
			return errs.Invalidf(p, "%s is given twice, as %q and as %q (member names are matched without regard to case); give it once", p, first, key)
		}
		seen[same] = key
		var vt reflect.Type
		vk := kind
		switch {
		case fields != nil:
			f := fields[same]
			vt, vk = f.Type, text.Line
			if f.Tag.Get("text") == "lines" {
				vk = text.Lines
			}
		case t != nil && t.Kind() == reflect.Map:
			vt = t.Elem()
		}
		if err := c.value(vt, p, vk); err != nil {
			return err
		}
	}
	c.dec.Token() // }
	return nil
}

// textProblem says what is wrong with a JSON string s read from raw, as
// text.Check does, or "". encoding/json turns invalid UTF-8 and unpaired
// UTF-16 surrogate escapes ("\ud800") into U+FFFD; raw shows which it was.
func textProblem(s string, raw []byte, kind text.Kind) string {
	if !utf8.Valid(raw) {
		return "is not valid UTF-8 text"
	}
	if n := strings.Count(s, "\uFFFD"); n > 0 {
		given := bytes.Count(raw, []byte("\uFFFD")) + bytes.Count(bytes.ToLower(raw), []byte(`\ufffd`))
		if n > given {
			return "is not valid UTF-8 text (an unpaired surrogate escape such as \\ud800 is no character)"
		}
	}
	return text.Check(s, kind)
}

func join(at, k string) string {
	if at == "" {
		return k
	}
	return at + "/" + k
}

func jsonError(err error, body []byte, t reflect.Type) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return errs.Invalidf("", "the body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errs.Invalidf("", "the body ends in the middle of its JSON")
	case errors.As(err, &syn):
		return errs.Invalidf("", "the body is not valid JSON at byte %d: %v", syn.Offset, syn)
	case errors.As(err, &typ):
		// encoding/json names a field without the array indexes on its way
		// ("guardians.may_collect"); the path is found again in the body.
		field := strings.ReplaceAll(typ.Field, ".", "/")
		if p, ok := misfit(body, t, wrongType); ok {
			field = p
		}
		return errs.Invalidf(field, "%s must be %s, not %s", orBody(field), jsonType(typ.Type.Kind().String()), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		if p, ok := misfit(body, t, unknownField); ok {
			f = p
		}
		return errs.Invalidf(f, "unknown field %q", path.Base(f))
	}
	if p, ok := misfit(body, t, badTime); ok {
		return errs.Invalidf(p, "%s must be a time as RFC 3339, e.g. 2026-09-01T07:52:00+05:00", p)
	}
	return errs.Invalidf("", "the body is not valid JSON: %v", err)
}

// What misfit looks for.
type misfitKind int

const (
	wrongType    misfitKind = iota // a value of the wrong JSON type
	unknownField                   // a member the type does not have
	badTime                        // a string that is no RFC 3339 time where a time goes
)

// misfit finds the path ("guardians/1/nickname") of the first member of a
// valid JSON document that does not fit type t in the way asked. Object
// members are looked at in name order. It gives up (false) where a type
// other than time.Time decodes itself.
func misfit(body []byte, t reflect.Type, kind misfitKind) (string, bool) {
	var doc any
	if json.Unmarshal(body, &doc) != nil {
		return "", false
	}
	return walk(doc, t, "", kind)
}

var timeType = reflect.TypeFor[time.Time]()

var unmarshaler = reflect.TypeFor[json.Unmarshaler]()

func walk(v any, t reflect.Type, at string, kind misfitKind) (string, bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == timeType {
		if s, ok := v.(string); ok && kind == badTime {
			if _, err := time.Parse(time.RFC3339, s); err != nil {
				return at, true
			}
		}
		return "", false
	}
	if v == nil || t.Kind() == reflect.Interface || reflect.PointerTo(t).Implements(unmarshaler) {
		return "", false
	}
	switch x := v.(type) {
	case map[string]any:
		switch t.Kind() {
		case reflect.Struct:
			fields := jsonFields(t)
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				ft, ok := fields[strings.ToLower(k)]
				if !ok {
					if kind == unknownField {
						return join(at, k), true
					}
					continue
				}
				if p, ok := walk(x[k], ft.Type, join(at, k), kind); ok {
					return p, true
				}
			}
			return "", false
		case reflect.Map:
			for k, e := range x {
				if p, ok := walk(e, t.Elem(), join(at, k), kind); ok {
					return p, true
				}
			}
			return "", false
		}
	case []any:
		if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			for i, e := range x {
				if p, ok := walk(e, t.Elem(), join(at, strconv.Itoa(i)), kind); ok {
					return p, true
				}
			}
			return "", false
		}
	case string:
		if t.Kind() == reflect.String {
			return "", false
		}
	case float64:
		switch t.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
			return "", false
		}
	case bool:
		if t.Kind() == reflect.Bool {
			return "", false
		}
	}
	if kind != wrongType {
		return "", false
	}
	return at, true // the JSON type does not fit
}

// jsonFields maps the lower-cased JSON names of a struct's fields to the
// fields, as encoding/json matches them (case-insensitively).
func jsonFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() || f.Anonymous {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[strings.ToLower(name)] = f
	}
	return out
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
