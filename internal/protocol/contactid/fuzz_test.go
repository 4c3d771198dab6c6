package contactid

import "testing"

func FuzzContactID(f *testing.F) {
	f.Add("#1234|1120 01 005")
	f.Fuzz(func(t *testing.T, in string) {
		r, err := Parse(in)
		if err != nil {
			return
		}
		ev := r.Classify()
		if ev.Known && ev.Description == "" {
			t.Fatalf("known event without description: %+v", ev)
		}
		again, err := Parse(r.String())
		if err != nil || again != r {
			t.Fatalf("String() %q parses to %+v, %v; want %+v", r.String(), again, err, r)
		}
	})
}
