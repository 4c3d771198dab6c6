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

func TestEscape(t *testing.T) {
	for _, c := range []struct {
		s    string
		k    Kind
		want string
	}{
		{"Серікова Айгерім", Line, "Серікова Айгерім"},
		{"\n5F3E0030\"SIA-DCS\"0001[#1234|NPA501]\r", Lines, "\n5F3E0030\"SIA-DCS\"0001[#1234|NPA501]\r"},
		{"\n[PA501^\x00\xff^]\r", Lines, "\n[PA501^\\x00\\xff^]\r"},
		{"a\tb\n", Line, "a\\x09b\\x0a"},
		{"a\x7f\u0085b", Line, "a\\x7f\\xc2\\x85b"},
		{"\xc0\xcb\xcc", Line, "\\xc0\\xcb\\xcc"}, // Windows-1251 «АЛМ»
		{"\xed\xa0\x80", Line, "\\xed\\xa0\\x80"}, // a UTF-16 surrogate, not UTF-8
		{"\ufffd\\x00", Line, "\ufffd\\x00"},      // good text stays as it is
		{"зона\x00", Line, "зона\\x00"},
	} {
		got := Escape(c.s, c.k)
		if got != c.want {
			t.Errorf("Escape(%q, %d) = %q, want %q", c.s, c.k, got, c.want)
		}
		if Check(got, c.k) != "" {
			t.Errorf("Escape(%q, %d) = %q, which is not good text: %s", c.s, c.k, got, Check(got, c.k))
		}
	}
}
