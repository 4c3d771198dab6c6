package codec

import (
	"errors"
	"strings"
	"testing"
)

func TestCutAccount(t *testing.T) {
	errBlock := errors.New("test: malformed block")
	long := "#1234|" + strings.Repeat("1", 59)
	for _, tc := range []struct {
		in, account, rest string
		bad               bool
	}{
		{"#1234|1120 01 005", "1234", "|1120 01 005", false},
		{"#4f39|Nri1/BA012", "4f39", "|Nri1/BA012", false},
		{"|1602 00 001", "", "|1602 00 001", false},
		{"Nri1/BA01", "", "Nri1/BA01", false},
		{"", "", "", false},
		{long[:64], "1234", long[5:64], false},
		{long, "", long, true},
		{"#1234", "", "#1234", true},
		{"#|1120 01 005", "", "#|1120 01 005", true},
		{"#12 4|NPA1", "12 4", "#12 4|NPA1", true},
	} {
		account, rest, err := CutAccount(tc.in, 64, errBlock)
		if account != tc.account || rest != tc.rest || (err != nil) != tc.bad || err != nil && !errors.Is(err, errBlock) {
			t.Errorf("CutAccount(%q) = %q, %q, %v", tc.in, account, rest, err)
		}
	}
}
