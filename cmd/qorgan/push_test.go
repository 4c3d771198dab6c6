package main_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"qorgan/internal/kztime"
	"qorgan/internal/notify"
	"qorgan/internal/store/storetest"
	"qorgan/internal/webpush"
	"qorgan/internal/webpush/pushtest"
)

// TestWebPushEndToEnd: a guardian signs in to the real binary and posts a
// browser subscription whose endpoint is this test's push service and whose
// keys this test made; the director's manual pass for the child then
// reaches that service as a Web Push request which the test decrypts, as a
// browser would, to the arrival text in the guardian's language (Kazakh),
// under a VAPID token that verifies with the server's public key. The
// service answers 410 to the next push (the departure), and the
// subscription is gone.
//
// It runs on both stores: the SQLite file and, when the tests have one, a
// PostgreSQL schema of its own.
func TestWebPushEndToEnd(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { webPushEndToEnd(t) })
	t.Run("postgres", func(t *testing.T) { webPushEndToEnd(t, "--database-url", storetest.PostgresURL(t)) })
}

func webPushEndToEnd(t *testing.T, store ...string) {
	svc := pushtest.NewService()
	defer svc.Close()
	s := startDemo(t, filepath.Join(t.TempDir(), "demo.db"), append(store, "--quiet-hours", "off", "--vapid-subject", "mailto:ops@qorgan.example")...)
	director, _ := signIn(t, s.base, "director", "qorgan-demo-2026")
	p := addPupil(t, director, "PUSH-1", "0B0B0B0B",
		map[string]any{"phone": "+77019990011", "full_name": "Ерлан", "language": "kk", "consent_given_on": "2025-09-01"})
	admin, _ := signIn(t, s.base, "admin", "qorgan-demo-2026")
	if st := admin.do("POST", "/api/v1/users", map[string]any{"login": "push.parent", "full_name": "Ерлан", "password": "a-long-password-1",
		"role": "guardian", "scope": map[string]string{"kind": "guardian", "ref": fmt.Sprint(p.Guardians[0].ID)}}, nil); st != 201 {
		t.Fatalf("guardian's sign-in: %d", st)
	}
	parent, st := signIn(t, s.base, "push.parent", "a-long-password-1")
	if st != 200 {
		t.Fatalf("guardian signs in: %d", st)
	}

	var key webpush.PublicKey
	if st := parent.do("GET", "/api/v1/push/vapid-public-key", nil, &key); st != 200 || key.Key == "" {
		t.Fatalf("VAPID key: %d %+v", st, key)
	}
	ua, err := pushtest.NewUserAgent()
	if err != nil {
		t.Fatal(err)
	}
	endpoint := svc.URL + "/push/e2e-parent"
	var sub webpush.Subscription
	if st := parent.do("POST", "/api/v1/me/push-subscriptions", map[string]any{"endpoint": endpoint, "expirationTime": nil,
		"keys": map[string]string{"p256dh": ua.P256dh(), "auth": ua.AuthKey()}}, &sub); st != 201 || sub.Language != "kk" {
		t.Fatalf("subscribe: %d %+v", st, sub)
	}

	sent := time.Now()
	if st := director.do("POST", "/api/v1/schools/1/passes/manual", map[string]any{"pupil_id": p.ID, "direction": "in", "request_id": "push-e2e-in"}, nil); st/100 != 2 {
		t.Fatalf("manual pass: %d", st)
	}
	r, ok := svc.Next(20 * time.Second)
	if !ok {
		t.Fatal("no push reached the push service")
	}
	t.Logf("the arrival reached the push service %v after the pass", time.Since(sent).Round(time.Millisecond))
	if r.Path != "/push/e2e-parent" || r.Header.Get("Content-Encoding") != "aes128gcm" || r.Header.Get("TTL") == "" || r.Header.Get("Urgency") == "" {
		t.Fatalf("push request %s %v", r.Path, r.Header)
	}
	v, err := pushtest.VerifyVAPID(r.Header.Get("Authorization"), endpoint, time.Now())
	if err != nil {
		t.Fatalf("VAPID: %v", err)
	}
	if v.Key != key.Key || v.Sub != "mailto:ops@qorgan.example" {
		t.Fatalf("VAPID key %s (server's %s), sub %s", v.Key, key.Key, v.Sub)
	}
	plain, err := ua.Decrypt(r.Body)
	if err != nil {
		t.Fatalf("decrypt: %v", err)
	}
	// The Kazakh arrival at the pass's minute (the minute the pass was
	// sent in, or the next).
	var wants []string
	for _, at := range []time.Time{sent, time.Now()} {
		want, err := notify.Render("kk", "pupil.entered", notify.Vars{Name: "Айгерім", At: at})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(want, "Айгерім мектепке "+kztime.Today(at).Format("15:04")) {
			t.Fatalf("the Kazakh arrival reads %q", want)
		}
		wants = append(wants, want)
	}
	if string(plain) != wants[0] && string(plain) != wants[1] {
		t.Fatalf("decrypted %q, want the Kazakh arrival %q", plain, wants[0])
	}
	t.Logf("decrypted: %s", plain)

	// The browser is gone: the push service answers 410 to the departure.
	svc.Answer(410)
	if st := director.do("POST", "/api/v1/schools/1/passes/manual", map[string]any{"pupil_id": p.ID, "direction": "out", "request_id": "push-e2e-out"}, nil); st/100 != 2 {
		t.Fatalf("manual pass out: %d", st)
	}
	if _, ok := svc.Next(20 * time.Second); !ok {
		t.Fatal("the departure did not reach the push service")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var list struct {
			Items []webpush.Subscription `json:"items"`
		}
		if st := parent.do("GET", "/api/v1/me/push-subscriptions", nil, &list); st != 200 {
			t.Fatalf("my subscriptions: %d", st)
		}
		if len(list.Items) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the subscription outlived the push service's 410: %+v", list.Items)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := len(svc.Received()); n != 2 {
		t.Errorf("push service got %d requests, want 2", n)
	}
}
