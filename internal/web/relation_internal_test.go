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
