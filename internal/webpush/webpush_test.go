package webpush

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"qorgan/internal/webpush/pushtest"
)

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := b64.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRFC8291Example reproduces RFC 8291 Appendix A: with its sender key
// and salt, encrypt gives the RFC's body byte for byte, and the user agent
// (pushtest, written separately from the RFC) decrypts that body with its
// private key to the RFC's plaintext.
func TestRFC8291Example(t *testing.T) {
	const (
		plaintext = "When I grow up, I want to be a watermelon"
		asPrivate = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"
		asPublic  = "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"
		uaPrivate = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"
		uaPublic  = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
		salt      = "DGv6ra1nlYgDCS1FRnbzlw"
		auth      = "BTBZMqHH6r4Tts7J_aSIgg"
		body      = "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
	)
	as, err := ecdh.P256().NewPrivateKey(mustB64(t, asPrivate))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(as.PublicKey().Bytes(), mustB64(t, asPublic)) {
		t.Fatal("the sender's public key is not the RFC's")
	}
	got, err := encrypt([]byte(plaintext), mustB64(t, uaPublic), mustB64(t, auth), as, mustB64(t, salt))
	if err != nil {
		t.Fatal(err)
	}
	if want := mustB64(t, body); !bytes.Equal(got, want) {
		t.Fatalf("encrypt:\n got %s\nwant %s", b64.EncodeToString(got), body)
	}
	ua, err := ecdh.P256().NewPrivateKey(mustB64(t, uaPrivate))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := (&pushtest.UserAgent{Private: ua, Auth: mustB64(t, auth)}).Decrypt(mustB64(t, body))
	if err != nil || string(plain) != plaintext {
		t.Fatalf("decrypt the RFC's body: %q, %v", plain, err)
	}
}

// TestEncryptDecrypt: fresh keys every time, decrypted by the user agent;
// another user agent, or one altered byte, does not decrypt.
func TestEncryptDecrypt(t *testing.T) {
	ua, err := pushtest.NewUserAgent()
	if err != nil {
		t.Fatal(err)
	}
	text := []byte(`{"body":"Айгерім мектепке 07:52-де келді"}`)
	a, err := Encrypt(text, ua.Private.PublicKey().Bytes(), ua.Auth)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Encrypt(text, ua.Private.PublicKey().Bytes(), ua.Auth)
	if bytes.Equal(a, b) {
		t.Fatal("two encryptions of one text are equal: the salt or key is not fresh")
	}
	if got, err := ua.Decrypt(a); err != nil || !bytes.Equal(got, text) {
		t.Fatalf("decrypt: %q, %v", got, err)
	}
	other, _ := pushtest.NewUserAgent()
	if _, err := other.Decrypt(a); err == nil {
		t.Fatal("another user agent decrypted the message")
	}
	a[len(a)-20] ^= 1
	if _, err := ua.Decrypt(a); err == nil {
		t.Fatal("an altered body decrypted")
	}

	long := bytes.Repeat([]byte("x"), MaxPayload)
	if body, err := Encrypt(long, ua.Private.PublicKey().Bytes(), ua.Auth); err != nil || len(body) != 4096 {
		t.Fatalf("the longest payload: %d bytes, %v", len(body), err)
	}
	if _, err := Encrypt(append(long, 'x'), ua.Private.PublicKey().Bytes(), ua.Auth); err == nil {
		t.Fatal("a payload over the limit was encrypted")
	}
	if _, err := Encrypt(text, ua.Private.PublicKey().Bytes()[:64], ua.Auth); err == nil {
		t.Fatal("a short p256dh was taken")
	}
	if _, err := Encrypt(text, ua.Private.PublicKey().Bytes(), ua.Auth[:15]); err == nil {
		t.Fatal("a short auth secret was taken")
	}
}

// TestVAPID: the token verifies with the public key, names the endpoint's
// origin and expires as asked; a key read back from its text signs alike;
// another key's token does not verify with this one.
func TestVAPID(t *testing.T) {
	k, err := GenerateVAPIDKey()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	const ep = "https://push.example.net:8443/wpush/v2/abc?x=1"
	h, err := k.Authorization(ep, "mailto:ops@qorgan.example", now.Add(12*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	v, err := pushtest.VerifyVAPID(h, ep, now)
	if err != nil {
		t.Fatal(err)
	}
	if v.Aud != "https://push.example.net:8443" || v.Sub != "mailto:ops@qorgan.example" || v.Key != k.PublicKey() ||
		v.Exp.Unix() != now.Add(12*time.Hour).Unix() {
		t.Fatalf("claims %+v", v)
	}
	if len(mustB64(t, k.PublicKey())) != 65 || len(mustB64(t, k.PrivateKey())) != 32 {
		t.Fatal("key lengths")
	}
	again, err := ParseVAPIDKey(k.PrivateKey())
	if err != nil || again.PublicKey() != k.PublicKey() {
		t.Fatalf("parse back: %v", err)
	}
	other, _ := GenerateVAPIDKey()
	h2, _ := other.Authorization(ep, "mailto:ops@qorgan.example", now.Add(time.Hour))
	forged := strings.Replace(h2, "k="+other.PublicKey(), "k="+k.PublicKey(), 1)
	if _, err := pushtest.VerifyVAPID(forged, ep, now); err == nil {
		t.Fatal("another key's signature verified")
	}
	if _, err := pushtest.VerifyVAPID(h, "https://other.example.net/x", now); err == nil {
		t.Fatal("a token for another origin verified")
	}
	if _, err := k.Authorization(ep, "ops@qorgan.example", now); err == nil {
		t.Fatal("a subject that is no URL was taken")
	}
	for _, bad := range []string{"", "not base64!", b64.EncodeToString(make([]byte, 31)), b64.EncodeToString(bytes.Repeat([]byte{0xff}, 32))} {
		if _, err := ParseVAPIDKey(bad); err == nil {
			t.Errorf("ParseVAPIDKey(%q) took it", bad)
		}
	}
}

// TestSend posts to a real HTTP push service: the headers of RFC 8030 and
// 8291, a VAPID token that verifies, a body the user agent decrypts; and
// the service's answers come back classified.
func TestSend(t *testing.T) {
	svc := pushtest.NewService()
	defer svc.Close()
	ua, _ := pushtest.NewUserAgent()
	k, _ := GenerateVAPIDKey()
	s := &Sender{Key: k, Subject: "https://qorgan.example/contact"}
	target := Target{Endpoint: svc.URL + "/push/sub-1", P256dh: ua.Private.PublicKey().Bytes(), Auth: ua.Auth}
	err := s.Send(context.Background(), target, Push{Payload: []byte("hello"), TTL: 90 * time.Minute, Urgency: UrgencyHigh, Topic: "pupil-7"})
	if err != nil {
		t.Fatal(err)
	}
	r, ok := svc.Next(time.Second)
	if !ok {
		t.Fatal("nothing received")
	}
	if r.Path != "/push/sub-1" || r.Header.Get("Content-Encoding") != "aes128gcm" || r.Header.Get("TTL") != "5400" ||
		r.Header.Get("Urgency") != "high" || r.Header.Get("Topic") != "pupil-7" {
		t.Fatalf("request %s %v", r.Path, r.Header)
	}
	if _, err := pushtest.VerifyVAPID(r.Header.Get("Authorization"), target.Endpoint, time.Now()); err != nil {
		t.Fatalf("VAPID: %v", err)
	}
	if plain, err := ua.Decrypt(r.Body); err != nil || string(plain) != "hello" {
		t.Fatalf("decrypt: %q, %v", plain, err)
	}

	for _, c := range []struct {
		code            int
		gone, temporary bool
	}{{410, true, false}, {404, true, false}, {429, false, true}, {503, false, true}, {400, false, false}, {403, false, false}} {
		svc.Answer(c.code)
		err := s.Send(context.Background(), target, Push{Payload: []byte("x")})
		var se *StatusError
		if !errors.As(err, &se) || se.Code != c.code || se.Gone() != c.gone || se.Temporary() != c.temporary {
			t.Errorf("HTTP %d: %v", c.code, err)
		}
		if c.code == http.StatusTooManyRequests && se.RetryAfter != time.Second {
			t.Errorf("Retry-After: %v", se.RetryAfter)
		}
	}
	// One VAPID token serves every push to the push service until less than
	// an hour of it is left.
	now := time.Now()
	s.Now = func() time.Time { return now }
	s.Send(context.Background(), target, Push{Payload: []byte("a")})
	now = now.Add(10 * time.Hour)
	s.Send(context.Background(), target, Push{Payload: []byte("b")})
	now = now.Add(90 * time.Minute)
	s.Send(context.Background(), target, Push{Payload: []byte("c")})
	got := svc.Received()
	a, b, c := got[len(got)-3].Header.Get("Authorization"), got[len(got)-2].Header.Get("Authorization"), got[len(got)-1].Header.Get("Authorization")
	if a != b || b == c {
		t.Errorf("tokens: reused after 10 h %v, renewed after 11.5 h %v", a == b, b != c)
	}
	if v, err := pushtest.VerifyVAPID(c, target.Endpoint, now); err != nil || v.Exp.Unix() != now.Add(12*time.Hour).Unix() {
		t.Errorf("renewed token: %+v %v", v, err)
	}
	if err := s.Send(context.Background(), Target{Endpoint: "ftp://x/y", P256dh: target.P256dh, Auth: target.Auth}, Push{}); err == nil {
		t.Error("an ftp endpoint was taken")
	}
}

// BenchmarkEncrypt is the CPU one push costs the sender: a fresh key pair,
// ECDH, HKDF and AES-GCM for a typical payload.
func BenchmarkEncrypt(b *testing.B) {
	ua, _ := pushtest.NewUserAgent()
	payload := []byte(`{"id":"entered/2026-11-25/pupil/123456/guardian/654321/webpush/42","kind":"pupil.entered","lang":"kk","body":"Айгерім мектепке 07:52-де кірді","pupil_id":123456,"at":"2026-11-25T02:52:00Z"}`)
	for b.Loop() {
		if _, err := Encrypt(payload, ua.Private.PublicKey().Bytes(), ua.Auth); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncryptAndSign is the same with a new VAPID token every time,
// which the Sender avoids by reusing one per push service.
func BenchmarkEncryptAndSign(b *testing.B) {
	ua, _ := pushtest.NewUserAgent()
	k, _ := GenerateVAPIDKey()
	payload := []byte(`{"id":"entered/2026-11-25/pupil/123456/guardian/654321/webpush/42","kind":"pupil.entered","lang":"kk","body":"Айгерім мектепке 07:52-де кірді","pupil_id":123456,"at":"2026-11-25T02:52:00Z"}`)
	for b.Loop() {
		if _, err := Encrypt(payload, ua.Private.PublicKey().Bytes(), ua.Auth); err != nil {
			b.Fatal(err)
		}
		if _, err := k.Authorization("https://fcm.example.net/wp/abc", "mailto:ops@qorgan.example", time.Now().Add(12*time.Hour)); err != nil {
			b.Fatal(err)
		}
	}
}
