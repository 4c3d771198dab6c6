package web

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"qorgan/internal/errs"
	"qorgan/internal/registry"
)

type inner struct {
	Phone string `json:"phone"`
	Ok    *bool  `json:"ok,omitempty"`
}

type outer struct {
	Name   string            `json:"name"`
	At     time.Time         `json:"at"`
	People []inner           `json:"people"`
	ByName map[string]inner  `json:"by_name"`
	Tags   map[string]string `json:"tags"`
	One    *inner            `json:"one"`
	Count  int               `json:"count"`
}

// TestDecodeNamesTheField: a bad member deep in a body is named by its
// whole path, array indexes included.
func TestDecodeNamesTheField(t *testing.T) {
	checkDecode[outer](t, []decodeCase{
		{`{"people":[{"phone":"1"},{"phone":"2","nick":"x"}]}`, "people/1/nick", `unknown field "nick"`},
		{`{"people":[{"phone":"1"},{"phone":"2","ok":"yes"}]}`, "people/1/ok", "must be true or false"},
		{`{"by_name":{"mama":{"phone":7}}}`, "by_name/mama/phone", "must be a string"},
		{`{"tags":{"a":"b","c":1}}`, "tags/c", "must be a string"},
		{`{"one":{"phone":"1","extra":true}}`, "one/extra", `unknown field "extra"`},
		{`{"count":"3"}`, "count", "must be an integer"},
		{`{"people":{"phone":"1"}}`, "people", "must be an array"},
		{`{"Name":"case-insensitive like encoding/json","surname":"x"}`, "surname", `unknown field "surname"`},
		{`[1,2]`, "", "the body must be an object"},
		{`{"at":"not a time"}`, "at", "must be a time as RFC 3339"},
		{`{"people":[{"phone":"1"}],"at":"2026-09-01T07:52:00+05:00","count":1,"one":{"phone":"x"}}`, "", ""},
	})
}

// decodeCase is a body, and the field and words of its refusal ("" for a
// good body).
type decodeCase struct{ body, field, detail string }

// checkDecode decodes each case's body into a T: a good body decodes, a bad
// one is refused as Invalid naming its field.
func checkDecode[T any](t *testing.T, cases []decodeCase) {
	t.Helper()
	for _, c := range cases {
		r := httptest.NewRequest("POST", "/", strings.NewReader(c.body))
		var v T
		err := decode(httptest.NewRecorder(), r, &v)
		if c.detail == "" { // a good body
			if err != nil {
				t.Errorf("%s: %v", c.body, err)
			}
			continue
		}
		e, ok := err.(*errs.Error)
		if !ok || e.Code != errs.Invalid || e.Field != c.field || !strings.Contains(e.Message, c.detail) {
			t.Errorf("%s: got %v (field %q), want field %q and %q", c.body, err, fieldOf(e), c.field, c.detail)
		}
	}
}

func fieldOf(e *errs.Error) string {
	if e == nil {
		return "<none>"
	}
	return e.Field
}

type noted struct {
	Title string            `json:"title"`
	Note  string            `json:"note" text:"lines"`
	Lines []string          `json:"lines" text:"lines"`
	Tags  map[string]string `json:"tags"`
	Who   []inner           `json:"who"`
	At    *time.Time        `json:"at"`
}

// TestDecodeRefusesBadText: control characters, invalid UTF-8 and a key
// given twice, at any depth, are refused naming the member; free text
// (text:"lines") may hold tabs and line breaks and nothing else.
func TestDecodeRefusesBadText(t *testing.T) {
	checkDecode[noted](t, []decodeCase{
		{`{"title":"a\u0000b"}`, "title", "U+0000 at character 2"},
		{`{"title":"a\tb"}`, "title", "U+0009"},
		{`{"title":"a\nb"}`, "title", "U+000A"},
		{`{"title":"a\u007f"}`, "title", "U+007F"},
		{`{"title":"a\u0085"}`, "title", "U+0085"},
		{"{\"title\":\"a\xc3\"}", "title", "not valid UTF-8"},
		{`{"title":"a\udc00b"}`, "title", "not valid UTF-8"},
		{`{"note":"line one\r\n\tline two"}`, "", ""},
		{`{"note":"a\u0000"}`, "note", "free text may hold tabs and line breaks"},
		{`{"note":"a\u001b[31m"}`, "note", "U+001B"},
		{`{"lines":["ok\n","a\u0000"]}`, "lines/1", "U+0000"},
		{`{"who":[{"phone":"1"},{"phone":"2\u0000"}]}`, "who/1/phone", "U+0000"},
		{`{"tags":{"a":"b\u0007"}}`, "tags/a", "U+0007"},
		{`{"tags":{"a\u0000":"b"}}`, "tags", `the key "a\x00" in tags`},
		{"{\"title\":\"\xff\"}", "title", "not valid UTF-8"},
		{`{"title":"a","title":"b"}`, "title", "title is given twice"},
		{`{"title":"a","Title":"b"}`, "Title", `as "title" and as "Title"`},
		{`{"who":[{"phone":"1"},{"phone":"2","phone":"3"}]}`, "who/1/phone", "given twice"},
		{`{"tags":{"a":"1","a":"2"}}`, "tags/a", "given twice"},
		{`{"tags":{"a":"1","A":"2"}}`, "", ""}, // a map's keys are kept apart by case
		{`{"title":"«Айгерім» №1\u00a0ok","at":"2026-09-01T07:52:00+05:00","tags":{"x":"\ufffd is a character"}}`, "", ""},
	})
}

// TestFreeTextFields: the notes of an alarm step and of a staff panic and a
// school's address take line breaks; the other members of those bodies do
// not.
func TestFreeTextFields(t *testing.T) {
	for _, c := range []struct {
		into  any
		body  string
		field string
	}{
		{&alarmStepRequest{}, `{"note":"at the gate\nall calm","notes":"a\tb"}`, ""},
		{&alarmStepRequest{}, `{"responder":"ГБР\n7"}`, "responder"},
		{&alarmStepRequest{}, `{"notes":"a\u0000"}`, "notes"},
		{&panicRequest{}, `{"request_id":"r1","note":"second floor\nroom 12"}`, ""},
		{&panicRequest{}, `{"request_id":"r\n1"}`, "request_id"},
		{&registry.SchoolInput{}, `{"address":"ул. Абая, 1\nкорпус 2"}`, ""},
		{&registry.SchoolInput{}, `{"name_ru":"Школа\n№1"}`, "name_ru"},
		{&passBatch{}, `{"events":[{"event_id":"1","at":"2026-09-01T07:52:00+05:00","direction":"in","card_uid":"04A1\u0000"}]}`, "events/0/card_uid"},
	} {
		r := httptest.NewRequest("POST", "/", strings.NewReader(c.body))
		err := decode(httptest.NewRecorder(), r, c.into)
		e, _ := err.(*errs.Error)
		if c.field == "" && err != nil || c.field != "" && (e == nil || e.Field != c.field) {
			t.Errorf("%s: %v, want field %q", c.body, err, c.field)
		}
	}
}
