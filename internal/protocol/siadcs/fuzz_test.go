package siadcs

import "testing"

func FuzzSIADCS(f *testing.F) {
	f.Add("#78919|Nri1/BA012/BA013")
	f.Fuzz(func(t *testing.T, in string) {
		b, err := Parse(in)
		if err != nil {
			return
		}
		if len(b.Events) == 0 || len(b.Events) > len(in)/2 {
			t.Fatalf("%d events from %d bytes", len(b.Events), len(in))
		}
		for _, e := range b.Events {
			if len(e.Code) != 2 || !isUpper(e.Code[0]) || !isUpper(e.Code[1]) {
				t.Fatalf("bad code %q", e.Code)
			}
			for i := 0; i < len(e.Address); i++ {
				if !isDigit(e.Address[i]) {
					t.Fatalf("bad address %q", e.Address)
				}
			}
			ev := e.Classify()
			if ev.Known && ev.Description == "" {
				t.Fatalf("known event without description: %+v", ev)
			}
		}
	})
}
