package webpush

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// b64 is the unpadded base64url of RFC 8291 and RFC 8292; Decode also
// takes padded input, which some browsers' JSON carries.
var b64 = base64.RawURLEncoding

// decode64 reads base64url with or without padding.
func decode64(s string) ([]byte, error) {
	return b64.DecodeString(strings.TrimRight(strings.TrimSpace(s), "="))
}

// VAPIDKey is the application server's key pair (RFC 8292): the browser
// is given the public half when it subscribes, and the push service
// accepts only requests signed with the private half.
type VAPIDKey struct {
	priv *ecdsa.PrivateKey
}

// GenerateVAPIDKey makes a new key pair.
func GenerateVAPIDKey() (*VAPIDKey, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	return &VAPIDKey{priv: k}, nil
}

// ParseVAPIDKey reads a private key as PrivateKey writes it: the 32-byte
// P-256 scalar in base64url, the form web-push tools print.
func ParseVAPIDKey(s string) (*VAPIDKey, error) {
	raw, err := decode64(s)
	if err != nil {
		return nil, errors.New("not base64url")
	}
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), raw)
	if err != nil {
		return nil, errors.New("not a P-256 private key (32 bytes, base64url)")
	}
	return &VAPIDKey{priv: k}, nil
}

// PrivateKey is the private scalar in base64url, for keeping.
func (k *VAPIDKey) PrivateKey() string {
	raw, err := k.priv.Bytes()
	if err != nil {
		panic(err) // a P-256 key always has its bytes
	}
	return b64.EncodeToString(raw)
}

// PublicKey is the uncompressed public point in base64url: the
// applicationServerKey a page passes to pushManager.subscribe, and k= of
// the Authorization header.
func (k *VAPIDKey) PublicKey() string {
	raw, err := k.priv.PublicKey.Bytes()
	if err != nil {
		panic(err)
	}
	return b64.EncodeToString(raw)
}

// MaxTokenAge is the longest a VAPID token may live (RFC 8292 §2).
const MaxTokenAge = 24 * time.Hour

// Authorization returns the header value for a push to endpoint: an ES256
// JWT whose aud is the endpoint's origin, exp is exp (at most 24 h after
// now; push services refuse longer) and sub is the contact, then the key.
func (k *VAPIDKey) Authorization(endpoint, subject string, exp time.Time) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return "", errors.New("endpoint is not an absolute URL")
	}
	if !strings.HasPrefix(subject, "mailto:") && !strings.HasPrefix(subject, "https://") {
		return "", fmt.Errorf("VAPID subject %q is neither a mailto: nor an https: URL", subject)
	}
	head := b64.EncodeToString([]byte(`{"typ":"JWT","alg":"ES256"}`))
	claims, err := json.Marshal(struct {
		Aud string `json:"aud"`
		Exp int64  `json:"exp"`
		Sub string `json:"sub"`
	}{u.Scheme + "://" + u.Host, exp.Unix(), subject})
	if err != nil {
		return "", err
	}
	signing := head + "." + b64.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signing))
	r, s, err := ecdsa.Sign(rand.Reader, k.priv, sum[:])
	if err != nil {
		return "", err
	}
	// JWS (RFC 7518 §3.4): r and s as two 32-byte big-endian numbers.
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return "vapid t=" + signing + "." + b64.EncodeToString(sig) + ", k=" + k.PublicKey(), nil
}
