package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"qorgan/internal/errs"
	"qorgan/internal/registry"
	"qorgan/internal/text"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// passBody is a controller's upload of n passes as the bench sends it.
func passBody(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"events":[`)
	at := time.Date(2026, 9, 1, 7, 30, 0, 0, time.FixedZone("", 5*3600))
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"event_id":"t7-%08d","at":%q,"direction":"in","card_uid":"04A1B2C3%06X"}`, i, at.Add(time.Duration(i)*time.Second).Format(time.RFC3339), i)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// BenchmarkDecodePasses decodes a controller's batch of 200 passes as the
// pass endpoint does: strictly, then every string checked.
func BenchmarkDecodePasses(b *testing.B) {
	body := passBody(200)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest("POST", "/api/v1/device/passes", bytes.NewReader(body))
		var pb passBatch
		if err := decodeLimit(httptest.NewRecorder(), r, &pb, MaxPassBody); err != nil || len(pb.Events) != 200 {
			b.Fatal(err, len(pb.Events))
		}
	}
}

// BenchmarkCheckTextPasses is the check alone, on the same batch.
func BenchmarkCheckTextPasses(b *testing.B) {
	body := passBody(200)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	t := reflect.TypeOf(&passBatch{})
	for b.Loop() {
		if err := checkText(body, t); err != nil {
			b.Fatal(err)
		}
	}
}

// refCheckText is checkText as it was before it walked the bytes itself,
// kept to hold the new one to the same answers. It reads a body that decoded well once more, token by token, beside
// the type it was decoded into, for what encoding/json lets through: a key
// given twice in one object (the last would win silently), text that is not
// UTF-8 (it would become U+FFFD silently) and control characters (SQLite
// would store a NUL, PostgreSQL fail on it). Every string is one line
// (text.Line) unless its struct field is tagged text:"lines": free text a
// person writes, where tabs and line breaks are allowed.
func refCheckText(body []byte, t reflect.Type) error {
	c := &refScan{dec: json.NewDecoder(bytes.NewReader(body)), body: body}
	c.dec.UseNumber()
	return c.value(t, "", text.Line)
}

type refScan struct {
	dec  *json.Decoder
	body []byte
}

// token reads the next token with the bytes it was read from (with the
// separators before it).
func (c *refScan) token() (json.Token, []byte, error) {
	start := c.dec.InputOffset()
	tok, err := c.dec.Token()
	return tok, c.body[start:c.dec.InputOffset()], err
}

// value checks the next value, of type t (nil: unknown) at path at.
func (c *refScan) value(t reflect.Type, at string, kind text.Kind) error {
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
func (c *refScan) object(t reflect.Type, at string, kind text.Kind) error {
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

// TestCheckTextAsBefore holds checkText, which walks a body's bytes itself,
// to the answers of the token-by-token check it replaced (refCheckText), on
// the bodies of the decode tests and on thousands made from them by
// putting control characters, bytes that are not UTF-8, escapes, white
// space and members given twice (in either case) into them.
func TestCheckTextAsBefore(t *testing.T) {
	seeds := []struct {
		into any
		body string
	}{
		{&outer{}, `{"people":[{"phone":"1"}],"at":"2026-09-01T07:52:00+05:00","count":1,"one":{"phone":"x"},"by_name":{"mama":{"phone":"7"}},"tags":{"a":"b"},"Name":"n"}`},
		{&noted{}, `{"title":"«Айгерім» №1\u00a0ok","note":"line one\r\n\tline two","lines":["ok\n","b"],"tags":{"x":"\ufffd is a character","A":"a"},"who":[{"phone":"1"},{"phone":"2","ok":true}],"at":"2026-09-01T07:52:00+05:00"}`},
		{&passBatch{}, string(passBody(3))},
		{&alarmStepRequest{}, `{"note":"at the gate\nall calm","notes":"a\tb"}`},
		{&panicRequest{}, `{"request_id":"r1","note":"second floor\nroom 12"}`},
		{&registry.SchoolInput{}, `{"address":"ул. Абая, 1\nкорпус 2","name_ru":"Школа №1"}`},
		{new(any), `{"a":[1,"x",{"b":null,"B":"y"}],"c":{"d":"e"}}`},
		{new(map[string][]string), `{"k":["a","b"],"K":[]}`},
	}
	bits := []string{`\u0000`, `\t`, `\n`, `\r`, `\u001b`, `\u007f`, `\u0085`, `\ud800`, `\udc00x`, `\ufffd`, "\ufffd", "\xff", "\xc3", `\"`, `\\`, `\/`, "é", " ", "\u00a0", `\u00e9`}
	rnd := rand.New(rand.NewPCG(1, 2))
	cases, bad := 0, 0
	for _, sd := range seeds {
		ty := reflect.TypeOf(sd.into)
		try := func(body string) {
			dec := json.NewDecoder(strings.NewReader(body))
			v := reflect.New(ty.Elem()).Interface()
			if dec.Decode(v) != nil {
				return // checkText only sees bodies that decoded
			}
			cases++
			got, want := checkText([]byte(body), ty), refCheckText([]byte(body), ty)
			if got != nil {
				bad++
			}
			if fmt.Sprint(got) != fmt.Sprint(want) || errField(got) != errField(want) {
				t.Fatalf("%s:\n got %v (field %q)\nwant %v (field %q)", body, got, errField(got), want, errField(want))
			}
		}
		try(sd.body)
		for range 2500 {
			b := sd.body
			for range 1 + rnd.IntN(3) {
				b = mutate(rnd, b, bits)
			}
			try(b)
		}
	}
	if cases < 5000 || bad < 1000 || cases-bad < 1000 {
		t.Fatalf("%d bodies checked, %d refused: too few of one kind to tell", cases, bad)
	}
}

// mutate puts one of bits inside a string of body, or gives a member of an
// object twice (sometimes in another case), or adds white space.
func mutate(rnd *rand.Rand, body string, bits []string) string {
	quotes := []int{}
	for i := 0; i < len(body); i++ {
		if body[i] == '"' && (i == 0 || body[i-1] != '\\') {
			quotes = append(quotes, i)
		}
	}
	switch rnd.IntN(4) {
	case 0, 1: // a bit inside a string
		if len(quotes) == 0 {
			return body
		}
		q := quotes[rnd.IntN(len(quotes))]
		return body[:q+1] + bits[rnd.IntN(len(bits))] + body[q+1:]
	case 2: // a member given twice: `"key":"dup",` before a member
		p := rnd.IntN(len(body))
		i := strings.Index(body[p:], `":`)
		if i < 0 {
			return body
		}
		i += p
		start := strings.LastIndex(body[:i], `"`)
		brace := strings.LastIndexAny(body[:max(start, 0)], "{,")
		if start < 0 || brace < 0 {
			return body
		}
		key := body[start+1 : i]
		if rnd.IntN(2) == 0 {
			key = strings.ToUpper(key)
		}
		return body[:brace+1] + `"` + key + `":"dup",` + body[brace+1:]
	default: // white space between tokens
		i := rnd.IntN(len(body) + 1)
		return body[:i] + " \n\t" + body[i:]
	}
}

func errField(err error) string {
	if e, ok := err.(*errs.Error); ok {
		return e.Field
	}
	return "<none>"
}

// TestCheckTextEnds: checkText is only given bodies that decoded, but a
// body cut short must still end the walk, not loop.
func TestCheckTextEnds(t *testing.T) {
	ty := reflect.TypeOf(&noted{})
	for _, body := range []string{`{"lines":["a",`, `{"lines":["a"`, `{"who":[{"phone":"1"`, `[`, `{"title":"a`, `{"tags":{"a":`} {
		done := make(chan error, 1)
		go func() { done <- checkText([]byte(body), ty) }()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			t.Fatalf("%s: checkText did not end", body)
		}
	}
}

// TestAbandonedRequestIsNoServerError: a request whose client went away
// (its context cancelled, the error context.Canceled) is logged at INFO as
// abandoned and answered 499; the same error while the client waits is an
// internal error, logged at ERROR and answered 500.
func TestAbandonedRequestIsNoServerError(t *testing.T) {
	for _, c := range []struct {
		name    string
		gone    bool
		status  int
		logs    string
		notLogs string
	}{
		{"client gone", true, 499, "level=INFO msg=\"request abandoned by the client\"", "level=ERROR"},
		{"client waiting", false, 500, "level=ERROR msg=\"request failed\"", "abandoned"},
	} {
		var logged bytes.Buffer
		log := slog.New(slog.NewTextHandler(&logged, nil))
		ctx, cancel := context.WithCancel(context.Background())
		if c.gone {
			cancel()
		}
		r := httptest.NewRequestWithContext(ctx, "POST", "/", nil)
		w := httptest.NewRecorder()
		writeError(w, r, log, fmt.Errorf("begin: %w", context.Canceled))
		cancel()
		if w.Code != c.status || !strings.Contains(logged.String(), c.logs) || strings.Contains(logged.String(), c.notLogs) {
			t.Errorf("%s: status %d, log %q", c.name, w.Code, logged.String())
		}
	}
}
