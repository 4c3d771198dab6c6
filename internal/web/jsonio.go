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
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"

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

// checkText reads a body that decoded well once more, beside the type it
// was decoded into, for what encoding/json lets through: a key given twice
// in one object (the last would win silently), text that is not UTF-8 (it
// would become U+FFFD silently) and control characters (SQLite would store
// a NUL, PostgreSQL fail on it). Every string is one line (text.Line)
// unless its struct field is tagged text:"lines": free text a person
// writes, where tabs and line breaks are allowed.
//
// It walks the body's bytes itself: the body is known to be one valid JSON
// value, and a controller's batch of passes is thousands of strings, which
// encoding/json's Token reads with an allocation or more each. A path
// ("events/3/card_uid") is only spelled out for an error.
func checkText(body []byte, t reflect.Type) error {
	c := &textScan{b: body}
	return c.value(t, text.Line)
}

// textScan walks a valid JSON document.
type textScan struct {
	b    []byte
	i    int
	path []step // where the value being read is
}

// step is one member name or array index on the way to a value.
type step struct {
	key   string
	index int // when key is ""; -1 for none
}

// at spells the path out: "events/3/card_uid", "" for the whole body.
func (c *textScan) at() string {
	var b strings.Builder
	for n, s := range c.path {
		if n > 0 {
			b.WriteByte('/')
		}
		if s.index >= 0 {
			b.WriteString(strconv.Itoa(s.index))
		} else {
			b.WriteString(s.key)
		}
	}
	return b.String()
}

func (c *textScan) space() {
	for c.i < len(c.b) {
		switch c.b[c.i] {
		case ' ', '\t', '\n', '\r':
			c.i++
		default:
			return
		}
	}
}

// next skips white space and returns the byte there (0 at the end).
func (c *textScan) next() byte {
	c.space()
	if c.i >= len(c.b) {
		return 0
	}
	return c.b[c.i]
}

// str reads the string at c.i: its bytes as they stand in the body (quotes
// included) and its value.
func (c *textScan) str() (raw []byte, s string) {
	start := c.i
	escaped := false
	i := c.i + 1
	for i < len(c.b) {
		switch c.b[i] {
		case '\\':
			escaped = true
			i += 2
			continue
		case '"':
			raw = c.b[start : i+1]
			c.i = i + 1
			if !escaped && utf8.Valid(raw) {
				if len(raw) == 2 {
					return raw, ""
				}
				// The body's own bytes, not a copy: the body does not
				// change while it is checked, and no string read here
				// outlives the check (an error quotes a copy).
				return raw, unsafe.String(&raw[1], len(raw)-2)
			}
			// As encoding/json reads it: escapes undone, bytes that are not
			// UTF-8 as U+FFFD. The body decoded once, so this cannot fail.
			var v string
			json.Unmarshal(raw, &v)
			return raw, v
		}
		i++
	}
	c.i = len(c.b)
	return c.b[start:], ""
}

// value checks the next value, of type t (nil: unknown).
func (c *textScan) value(t reflect.Type, kind text.Kind) error {
	t = shapeOf(t)
	switch c.next() {
	case '{':
		c.i++
		return c.object(t, kind)
	case '[':
		c.i++
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		c.path = append(c.path, step{})
		for n := 0; ; n++ {
			if b := c.next(); b == ']' || b == 0 { // 0: the end, which a valid body never meets here
				c.i++
				break
			}
			c.path[len(c.path)-1] = step{index: n}
			if err := c.value(elem, kind); err != nil {
				return err
			}
			if c.next() == ',' {
				c.i++
			}
		}
		c.path = c.path[:len(c.path)-1]
	case '"':
		raw, s := c.str()
		if bad := textProblem(s, raw, kind); bad != "" {
			at := c.at()
			return errs.Invalidf(at, "%s %s", orBody(at), bad)
		}
	default: // a number, true, false or null
		for c.i < len(c.b) {
			switch c.b[c.i] {
			case ',', ']', '}', ' ', '\t', '\n', '\r':
				return nil
			}
			c.i++
		}
	}
	return nil
}

// object checks the members of an object whose '{' has been read. Members
// of a struct are matched without regard to case, as encoding/json does, so
// "name" and "Name" are the same member given twice.
func (c *textScan) object(t reflect.Type, kind text.Kind) error {
	var fields map[string]memberShape
	if t != nil && t.Kind() == reflect.Struct {
		fields = membersOf(t)
	}
	type member struct{ same, key string }
	var seenFew [8]member
	seen := seenFew[:0]
	c.path = append(c.path, step{index: -1})
	for {
		if c.next() != '"' { // '}'
			c.i++
			break
		}
		raw, key := c.str()
		if bad := textProblem(key, raw, text.Line); bad != "" {
			c.path = c.path[:len(c.path)-1]
			at := c.at()
			return errs.Invalidf(at, "the key %q in %s %s", key, orBody(at), bad)
		}
		c.path[len(c.path)-1] = step{key: key, index: -1}
		same := key
		if fields != nil {
			same = strings.ToLower(key)
		}
		for _, m := range seen {
			if m.same != same {
				continue
			}
			p := c.at()
			if m.key == key {
				return errs.Invalidf(p, "%s is given twice; give each member once", p)
			}
			return errs.Invalidf(p, "%s is given twice, as %q and as %q (member names are matched without regard to case); give it once", p, m.key, key)
		}
		seen = append(seen, member{same, key})
		// A struct's member has its field's type and kind of text; a
		// map's member the map's element type and the map's kind.
		m := memberShape{nil, kind}
		if fields != nil {
			m = fields[same]
		} else if t != nil && t.Kind() == reflect.Map {
			m.t = t.Elem()
		}
		c.next() // ':'
		c.i++
		if err := c.value(m.t, m.kind); err != nil {
			return err
		}
		if c.next() == ',' {
			c.i++
		}
	}
	c.path = c.path[:len(c.path)-1]
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

// What checkText needs to know of a type, worked out once per type (a
// body has the same types over and over; reflect's Implements and tag
// lookups are slow).
var (
	shapes  sync.Map // reflect.Type → reflect.Type (nil: shape not known)
	members sync.Map // struct reflect.Type → map[string]memberShape
)

// shapeOf is t without its pointers, or nil when the value decodes itself
// (an interface, a json.Unmarshaler such as time.Time), so its shape is not
// known here.
func shapeOf(t reflect.Type) reflect.Type {
	if t == nil {
		return nil
	}
	if s, ok := shapes.Load(t); ok {
		u, _ := s.(reflect.Type)
		return u
	}
	u := t
	for u.Kind() == reflect.Pointer {
		u = u.Elem()
	}
	if u.Kind() == reflect.Interface || reflect.PointerTo(u).Implements(unmarshaler) {
		u = nil
	}
	shapes.Store(t, u)
	return u
}

// memberShape is a struct member's type and the kind of text it takes.
type memberShape struct {
	t    reflect.Type
	kind text.Kind
}

// membersOf maps the lower-cased JSON names of struct t's members, as
// jsonFields does, to their types and kinds of text: text.Lines when the
// field is tagged text:"lines", else text.Line.
func membersOf(t reflect.Type) map[string]memberShape {
	if m, ok := members.Load(t); ok {
		return m.(map[string]memberShape)
	}
	m := map[string]memberShape{}
	for name, f := range jsonFields(t) {
		k := text.Line
		if f.Tag.Get("text") == "lines" {
			k = text.Lines
		}
		m[name] = memberShape{f.Type, k}
	}
	members.Store(t, m)
	return m
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
