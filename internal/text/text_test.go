package text

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, c := range []struct {
		s    string
		k    Kind
		want string // "" good, else a part of the problem
	}{
		{"Серікова Айгерім", Line, ""},
		{"Ким\x00", Line, "U+0000 at character 4"},
		{"a\tb", Line, "U+0009"},
		{"a\nb", Line, "U+000A"},
		{"a\rb", Line, "U+000D"},
		{"a\x1fb", Line, "U+001F"},
		{"a\x7fb", Line, "U+007F"},
		{"a\u0085b", Line, "U+0085"},
		{"a\xffb", Line, "not valid UTF-8"},
		{"a\tb\r\nc", Lines, ""},
		{"a\x00b", Lines, "U+0000"},
		{"a\x7fb", Lines, "U+007F"},
		{"a\x1bb", Lines, "U+001B"},
		{"a\xc3b", Lines, "not valid UTF-8"},
		{"", Line, ""},
		{"\u200b«нет»\u00a0№1", Line, ""}, // not control characters
	} {
		got := Check(c.s, c.k)
		if c.want == "" && got != "" || c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("Check(%q, %d) = %q, want %q", c.s, c.k, got, c.want)
		}
	}
}
