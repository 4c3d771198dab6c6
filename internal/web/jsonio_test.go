package web

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"qorgan/internal/errs"
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
	for _, c := range []struct{ body, field, detail string }{
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
	} {
		r := httptest.NewRequest("POST", "/", strings.NewReader(c.body))
		var v outer
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
