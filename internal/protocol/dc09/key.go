package dc09

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/hex"
	"fmt"
	"io"
)

// KeyLookup gives the AES key configured for an account. Parse passes the
// header account upper-cased, so lookups are case-insensitive as panels
// send both cases. The key is raw bytes: 16, 24 or 32 of them.
type KeyLookup interface {
	Key(account string) (key []byte, ok bool)
}

// KeyFunc adapts a function to KeyLookup, for a per-account table with a
// per-port default, for instance.
type KeyFunc func(account string) ([]byte, bool)

func (f KeyFunc) Key(account string) ([]byte, bool) { return f(account) }

// Keys is a KeyLookup over a fixed table indexed by upper-case account.
type Keys map[string][]byte

func (k Keys) Key(account string) ([]byte, bool) {
	key, ok := k[account]
	return key, ok
}

// ParseKeyHex reads a key written as 32, 48 or 64 hexadecimal characters,
// the form ioBroker and most receivers use.
func ParseKeyHex(s string) ([]byte, error) {
	if err := checkKeyChars(s, "hex", 2); err != nil {
		return nil, err
	}
	key, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("dc09: hex key: %w", err)
	}
	return key, nil
}

// ParseKeyText reads a key written as 16, 24 or 32 ASCII characters used
// directly as key bytes, the form Ajax hubs and pysiaalarm use. DC-09
// discourages such keys but the panels ship with them.
func ParseKeyText(s string) ([]byte, error) {
	if err := checkKeyChars(s, "text", 1); err != nil {
		return nil, err
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7E {
			return nil, fmt.Errorf("dc09: text key must be printable ASCII")
		}
	}
	return []byte(s), nil
}

// validKeySize tells whether n bytes make an AES-128, -192 or -256 key.
func validKeySize(n int) bool {
	switch n {
	case 16, 24, 32:
		return true
	}
	return false
}

// checkKeyChars tells whether s, a key written in form with perByte
// characters to a byte, is as long as a key of 16, 24 or 32 bytes.
func checkKeyChars(s, form string, perByte int) error {
	if len(s)%perByte != 0 || !validKeySize(len(s)/perByte) {
		return fmt.Errorf("dc09: %s key must be %d, %d or %d characters, got %d", form, 16*perByte, 24*perByte, 32*perByte, len(s))
	}
	return nil
}

// decrypt turns ASCII-hex ciphertext into plaintext. The caller has checked
// that the hex is whole blocks.
func decrypt(key, ciphertext []byte) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	plain := make([]byte, len(ciphertext))
	cipher.NewCBCDecrypter(block, zeroIV()).CryptBlocks(plain, ciphertext)
	return plain, nil
}

// encrypt pads content per DC-09-2013 §5.4.4 (pad bytes, then "|", then
// content, to a multiple of 16, a full 16 pad bytes when already aligned)
// and returns the upper-case hex of the AES-CBC ciphertext.
func encrypt(key, content []byte, pad io.Reader) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("dc09: key: %w", err)
	}
	n := 1 + len(content)
	padLen := aes.BlockSize - n%aes.BlockSize
	plain := make([]byte, padLen, padLen+n)
	if _, err := io.ReadFull(pad, plain); err != nil {
		return nil, fmt.Errorf("dc09: pad: %w", err)
	}
	for i, c := range plain {
		plain[i] = padByte(c)
	}
	plain = append(plain, '|')
	plain = append(plain, content...)
	cipher.NewCBCEncrypter(block, zeroIV()).CryptBlocks(plain, plain)
	out := make([]byte, hex.EncodedLen(len(plain)))
	hex.Encode(out, plain)
	return upperHex(out), nil
}

// padByte keeps a random byte unless it is one of the three the pad may not
// contain (| [ ]), which it nudges to a neighbour. Mapping instead of
// redrawing keeps the read bounded whatever the reader returns.
func padByte(c byte) byte {
	switch c {
	case '|', '[', ']':
		return c ^ 0x01
	}
	return c
}

func upperHex(b []byte) []byte {
	for i, c := range b {
		if c >= 'a' && c <= 'f' {
			b[i] = c - 'a' + 'A'
		}
	}
	return b
}

// zeroIV is the all-zero IV DC-09 prescribes (DC-09-2007 §5.4.6).
func zeroIV() []byte { return make([]byte, aes.BlockSize) }
