// Package pushtest plays the other two parties of Web Push for tests: a
// browser (UserAgent: its subscription keys, and the decryption of RFC 8291
// and RFC 8188 written again from the RFCs, with its own HKDF) and a push
// service (Service: an HTTP server that records what it receives and
// answers what the test tells it to, and checks the VAPID token as RFC 8292
// has push services do).
package pushtest

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"
)

var b64 = base64.RawURLEncoding

// UserAgent is a browser's side of one subscription.
type UserAgent struct {
	Private *ecdh.PrivateKey
	Auth    []byte
}

// NewUserAgent makes a subscription's keys as a browser does.
func NewUserAgent() (*UserAgent, error) {
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	auth := make([]byte, 16)
	rand.Read(auth)
	return &UserAgent{Private: k, Auth: auth}, nil
}

// P256dh is keys.p256dh of the PushSubscription JSON.
func (u *UserAgent) P256dh() string { return b64.EncodeToString(u.Private.PublicKey().Bytes()) }

// AuthKey is keys.auth of the PushSubscription JSON.
func (u *UserAgent) AuthKey() string { return b64.EncodeToString(u.Auth) }

// hkdf is RFC 5869 with SHA-256, for output up to 32 bytes.
func hkdf(salt, ikm, info []byte, n int) []byte {
	ext := hmac.New(sha256.New, salt)
	ext.Write(ikm)
	prk := ext.Sum(nil)
	exp := hmac.New(sha256.New, prk)
	exp.Write(info)
	exp.Write([]byte{1})
	return exp.Sum(nil)[:n]
}

// Decrypt reads an aes128gcm body (RFC 8188 §2) sent to this user agent
// and returns the plaintext, per RFC 8291 §3.4 and §4: the header gives the
// salt, record size and the sender's ephemeral key; the records are
// decrypted in turn and their padding removed.
func (u *UserAgent) Decrypt(body []byte) ([]byte, error) {
	if len(body) < 21 {
		return nil, errors.New("body shorter than the aes128gcm header")
	}
	salt := body[:16]
	rs := binary.BigEndian.Uint32(body[16:20])
	idlen := int(body[20])
	if len(body) < 21+idlen || rs < 18 {
		return nil, errors.New("bad aes128gcm header")
	}
	keyid := body[21 : 21+idlen]
	as, err := ecdh.P256().NewPublicKey(keyid)
	if err != nil {
		return nil, fmt.Errorf("keyid is not the sender's P-256 key: %w", err)
	}
	shared, err := u.Private.ECDH(as)
	if err != nil {
		return nil, err
	}
	uaPublic := u.Private.PublicKey().Bytes()
	info := append(append([]byte("WebPush: info\x00"), uaPublic...), keyid...)
	ikm := hkdf(u.Auth, shared, info, 32)
	cek := hkdf(salt, ikm, []byte("Content-Encoding: aes128gcm\x00"), 16)
	nonce := hkdf(salt, ikm, []byte("Content-Encoding: nonce\x00"), 12)
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	var out []byte
	rest := body[21+idlen:]
	for seq := uint64(0); len(rest) > 0; seq++ {
		n := min(int(rs), len(rest))
		iv := bytes.Clone(nonce)
		for i := 0; i < 8; i++ {
			iv[4+i] ^= byte(seq >> (56 - 8*i))
		}
		rec, err := gcm.Open(nil, iv, rest[:n], nil)
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", seq, err)
		}
		rest = rest[n:]
		// Padding: the last non-zero byte is the delimiter, 2 in the last
		// record and 1 in the others.
		i := len(rec) - 1
		for i >= 0 && rec[i] == 0 {
			i--
		}
		if i < 0 {
			return nil, errors.New("record without delimiter")
		}
		last := len(rest) == 0
		if (last && rec[i] != 2) || (!last && rec[i] != 1) {
			return nil, fmt.Errorf("record %d: delimiter %d", seq, rec[i])
		}
		out = append(out, rec[:i]...)
	}
	return out, nil
}

// VAPID is what a valid Authorization header said.
type VAPID struct {
	Aud, Sub string
	Exp      time.Time
	Key      string // k=, base64url
}

// VerifyVAPID checks an "Authorization: vapid t=…, k=…" header as a push
// service does (RFC 8292 §2, §3): an ES256 JWT that verifies with k, whose
// aud is the origin of endpoint, that has not expired at now and expires
// within 24 h of it, with a mailto: or https: contact.
func VerifyVAPID(header, endpoint string, now time.Time) (VAPID, error) {
	var v VAPID
	rest, ok := strings.CutPrefix(header, "vapid ")
	if !ok {
		return v, errors.New("not the vapid scheme")
	}
	var tok string
	for _, part := range strings.Split(rest, ",") {
		k, val, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			tok = val
		case "k":
			v.Key = val
		}
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || v.Key == "" {
		return v, errors.New("t= or k= missing")
	}
	pub, err := b64.DecodeString(v.Key)
	if err != nil {
		return v, err
	}
	pk, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), pub)
	if err != nil {
		return v, err
	}
	var head struct{ Alg, Typ string }
	if err := decodeJSON(parts[0], &head); err != nil || head.Alg != "ES256" {
		return v, fmt.Errorf("JWT header %+v: %v", head, err)
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return v, errors.New("signature is not 64 bytes of base64url")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(pk, sum[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return v, errors.New("signature does not verify with k")
	}
	var claims struct {
		Aud string `json:"aud"`
		Exp int64  `json:"exp"`
		Sub string `json:"sub"`
	}
	if err := decodeJSON(parts[1], &claims); err != nil {
		return v, err
	}
	v.Aud, v.Sub, v.Exp = claims.Aud, claims.Sub, time.Unix(claims.Exp, 0)
	u, err := url.Parse(endpoint)
	if err != nil {
		return v, err
	}
	if v.Aud != u.Scheme+"://"+u.Host {
		return v, fmt.Errorf("aud %q is not the endpoint's origin", v.Aud)
	}
	if !v.Exp.After(now) || v.Exp.Sub(now) > 24*time.Hour {
		return v, fmt.Errorf("exp %s is not within 24 h after %s", v.Exp, now)
	}
	if !strings.HasPrefix(v.Sub, "mailto:") && !strings.HasPrefix(v.Sub, "https://") {
		return v, fmt.Errorf("sub %q is no contact", v.Sub)
	}
	return v, nil
}

func decodeJSON(seg string, v any) error {
	raw, err := b64.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}

// Request is one push the Service received.
type Request struct {
	Path   string
	Header http.Header
	Body   []byte
	At     time.Time
}

// Service is a push service on a local port. Its endpoints are URL + any
// path; every request is recorded and answered with the next of the
// queued statuses (201 when none is queued).
type Service struct {
	*httptest.Server

	mu       sync.Mutex
	answers  []int
	received []Request
	got      chan Request
}

// NewService starts a push service; Close it when done.
func NewService() *Service {
	s := &Service{got: make(chan Request, 64)}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

func (s *Service) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req := Request{Path: r.URL.Path, Header: r.Header.Clone(), Body: body, At: time.Now()}
	s.mu.Lock()
	s.received = append(s.received, req)
	code := http.StatusCreated
	if len(s.answers) > 0 {
		code, s.answers = s.answers[0], s.answers[1:]
	}
	s.mu.Unlock()
	select {
	case s.got <- req:
	default:
	}
	if code == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	w.WriteHeader(code)
}

// Answer queues the statuses of the next requests, in order.
func (s *Service) Answer(codes ...int) {
	s.mu.Lock()
	s.answers = append(s.answers, codes...)
	s.mu.Unlock()
}

// Received returns every request so far.
func (s *Service) Received() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.received...)
}

// Next waits up to d for the next request.
func (s *Service) Next(d time.Duration) (Request, bool) {
	select {
	case r := <-s.got:
		return r, true
	case <-time.After(d):
		return Request{}, false
	}
}
