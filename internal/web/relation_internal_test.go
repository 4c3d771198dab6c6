package web

import "testing"

// TestRelationText: a guardian's relation written in any of the three
// languages reads in the page's; another word stays as the school wrote it.
func TestRelationText(t *testing.T) {
	for _, c := range []struct{ lang, in, want string }{
		{"kk", "mother", "анасы"}, {"ru", "Мать", "мать"}, {"en", "әкесі", "father"}, {"ru", " grandmother ", "бабушка"},
		{"kk", "тётя", "тётя"}, {"en", "", ""},
	} {
		if got := relationText(c.lang, c.in); got != c.want {
			t.Errorf("%s %q: got %q, want %q", c.lang, c.in, got, c.want)
		}
	}
}

// TestPositionText: a staff member's position, as the demo and schools
// write it, reads in the page's language; another stays as written.
func TestPositionText(t *testing.T) {
	for _, c := range []struct{ lang, in, want string }{
		{"ru", "safety_officer", "ответственный за безопасность"}, {"kk", "Охранник", "күзетші"}, {"en", "мұғалім", "teacher"},
		{"kk", "director", "директор"}, {"ru", "библиотекарь", "библиотекарь"},
	} {
		if got := positionText(c.lang, c.in); got != c.want {
			t.Errorf("%s %q: got %q, want %q", c.lang, c.in, got, c.want)
		}
	}
}
