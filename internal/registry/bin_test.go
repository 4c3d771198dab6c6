package registry

import (
	"testing"

	"qorgan/internal/errs"
)

func TestValidateBIN(t *testing.T) {
	good, ok := MakeBIN("09054000123")
	if !ok {
		t.Fatal("MakeBIN found no control digit")
	}
	cases := []struct {
		in   string
		want bool
	}{
		{good, true},
		{"123456789012", false}, // control digit wrong
		{"12345678901", false},  // too short
		{"1234567890123", false},
		{"12345678901a", false},
		{"", false},
	}
	for _, c := range cases {
		err := ValidateBIN("bin", c.in)
		if (err == nil) != c.want {
			t.Errorf("ValidateBIN(%q) = %v, want valid=%v", c.in, err, c.want)
		}
		if err != nil && errs.As(err).Field != "bin" {
			t.Errorf("error does not name the field: %v", err)
		}
	}
	// By hand: 0,9,0,5,4,0,0,0,1,2,3 · 1…11 = 120, 120 mod 11 = 10, so the
	// second weights 3…11,1,2 apply: 36+30+28+11+2+6 = 113, 113 mod 11 = 3.
	if good != "090540001233" {
		t.Fatalf("MakeBIN = %s, want 090540001233", good)
	}
	// More numbers whose first pass gives 10.
	hit := false
	for n := 0; n < 100000 && !hit; n++ {
		s := "2001400" + pad4(n)
		var d [12]int
		sum := 0
		for i := 0; i < 11; i++ {
			d[i] = int(s[i] - '0')
			sum += d[i] * (i + 1)
		}
		if sum%11 != 10 {
			continue
		}
		hit = true
		if b, ok := MakeBIN(s); ok {
			if err := ValidateBIN("bin", b); err != nil {
				t.Fatalf("second-weights BIN %s rejected: %v", b, err)
			}
			// Any other last digit must fail.
			wrong := b[:11] + string(rune('0'+(int(b[11]-'0')+1)%10))
			if ValidateBIN("bin", wrong) == nil {
				t.Fatalf("wrong control digit accepted: %s", wrong)
			}
		}
	}
	if !hit {
		t.Fatal("no number exercising the second weights found")
	}
}

func pad4(n int) string {
	s := []byte("0000")
	for i := 3; i >= 0 && n > 0; i-- {
		s[i] = byte('0' + n%10)
		n /= 10
	}
	return string(s)
}
