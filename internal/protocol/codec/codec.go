// Package codec holds what the panel data codecs (Contact ID, SIA DCS)
// read alike inside a SIA DC-09 frame, so that each reads it one way.
package codec

import (
	"fmt"
	"strings"
)

// CutAccount reads the optional "#acct" in front of a data block of at
// most maxLen bytes. With an account, rest starts at the '|' that ends it;
// without one ("" returned), rest is data unchanged. A longer block, a '#'
// without a '|', or an account that is not letters and digits is an error
// wrapping errFormat, the caller's own error for a malformed block.
func CutAccount(data string, maxLen int, errFormat error) (account, rest string, err error) {
	if len(data) > maxLen {
		return "", data, fmt.Errorf("%w: %d bytes", errFormat, len(data))
	}
	if !strings.HasPrefix(data, "#") {
		return "", data, nil
	}
	bar := strings.IndexByte(data, '|')
	if bar < 0 {
		return "", data, fmt.Errorf("%w: account without '|'", errFormat)
	}
	account = data[1:bar]
	if !isAlnum(account) {
		return account, data, fmt.Errorf("%w: account %q", errFormat, account)
	}
	return account, data[bar:], nil
}

// isAlnum tells whether s is one or more ASCII letters and digits.
func isAlnum(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}
