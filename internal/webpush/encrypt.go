package webpush

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// Sizes of the aes128gcm format as Web Push uses it.
const (
	// recordSize is the rs of the header: one record holds the whole
	// message (RFC 8291 §4 allows one record only).
	recordSize = 4096
	// headerSize is salt (16) + rs (4) + idlen (1) + the sender's public key (65).
	headerSize = 16 + 4 + 1 + 65
	// MaxPayload is the longest plaintext Encrypt takes: RFC 8030 §7.2 has
	// push services accept 4096 bytes of body, of which the header, the
	// padding delimiter and the AES-GCM tag take 103.
	MaxPayload = recordSize - headerSize - 1 - 16
	// AuthSize is the length of a subscription's auth secret.
	AuthSize = 16
	// KeySize is the length of an uncompressed P-256 public key.
	KeySize = 65
)

// Encrypt encrypts plaintext for the user agent whose subscription keys are
// uaPublic (p256dh, an uncompressed P-256 point) and authSecret (auth, 16
// bytes), as RFC 8291 says: a fresh sender key pair and salt for every
// message, one aes128gcm record. The result is the request body.
func Encrypt(plaintext, uaPublic, authSecret []byte) ([]byte, error) {
	as, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	return encrypt(plaintext, uaPublic, authSecret, as, salt)
}

// encrypt is Encrypt with the sender's key pair and the salt given, so that
// the RFC's example can be reproduced.
func encrypt(plaintext, uaPublic, authSecret []byte, as *ecdh.PrivateKey, salt []byte) ([]byte, error) {
	if len(plaintext) > MaxPayload {
		return nil, fmt.Errorf("web push payload is %d bytes, more than %d", len(plaintext), MaxPayload)
	}
	if len(authSecret) != AuthSize {
		return nil, fmt.Errorf("auth secret is %d bytes, not %d", len(authSecret), AuthSize)
	}
	if len(salt) != 16 {
		return nil, errors.New("salt must be 16 bytes")
	}
	ua, err := ecdh.P256().NewPublicKey(uaPublic)
	if err != nil {
		return nil, fmt.Errorf("p256dh is not a P-256 public key: %w", err)
	}
	asPublic := as.PublicKey().Bytes()
	cek, nonce, err := contentKeys(as, ua, uaPublic, asPublic, authSecret, salt)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, headerSize+len(plaintext)+1+gcm.Overhead())
	out = append(out, salt...)
	out = binary.BigEndian.AppendUint32(out, recordSize)
	out = append(out, byte(len(asPublic)))
	out = append(out, asPublic...)
	// The last (only) record ends with the delimiter 0x02 and no padding;
	// its sequence number is 0, so the nonce is used as derived.
	record := append(append(make([]byte, 0, len(plaintext)+1), plaintext...), 2)
	return gcm.Seal(out, nonce, record, nil), nil
}

// contentKeys derives the content-encryption key and nonce (RFC 8291 §3.3,
// §3.4 and RFC 8188 §2.2) from the ECDH secret between own and peer, the
// two public keys as sent, the auth secret and the salt. Either side calls
// it: the sender with its ephemeral key, the user agent with its own.
func contentKeys(own *ecdh.PrivateKey, peer *ecdh.PublicKey, uaPublic, asPublic, authSecret, salt []byte) (cek, nonce []byte, err error) {
	shared, err := own.ECDH(peer)
	if err != nil {
		return nil, nil, err
	}
	keyInfo := "WebPush: info\x00" + string(uaPublic) + string(asPublic)
	ikm, err := hkdf.Key(sha256.New, shared, authSecret, keyInfo, 32)
	if err != nil {
		return nil, nil, err
	}
	if cek, err = hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: aes128gcm\x00", 16); err != nil {
		return nil, nil, err
	}
	if nonce, err = hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: nonce\x00", 12); err != nil {
		return nil, nil, err
	}
	return cek, nonce, nil
}
