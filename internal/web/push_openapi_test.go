package web_test

import (
	"testing"

	"qorgan/internal/webpush/pushtest"
)

// pushScenarios drive a guardian's Web Push subscriptions through the API,
// validated against the document like the rest.
func pushScenarios(t *testing.T, h *harness) {
	ua, err := pushtest.NewUserAgent()
	if err != nil {
		t.Fatal(err)
	}
	sub := map[string]any{"endpoint": "https://push.example.net/wpush/v2/abc", "expirationTime": nil,
		"keys": map[string]any{"p256dh": ua.P256dh(), "auth": ua.AuthKey()}}
	h.runIn(t, []scenario{
		{name: "VAPID key without signing in", method: "GET", path: "/api/v1/push/vapid-public-key", status: 200, check: func(t *testing.T, r result) {
			if k, _ := r.json(t)["key"].(string); len(k) != 87 {
				t.Errorf("public key %q is not 65 bytes of base64url", k)
			}
		}},
		{name: "subscribe", as: "parent", method: "POST", path: "/api/v1/me/push-subscriptions", body: sub, status: 201, check: func(t *testing.T, r result) {
			if m := r.json(t); m["endpoint"] != sub["endpoint"] || m["language"] == "" || m["keys"] != nil {
				t.Errorf("subscription: %s", r.body)
			}
		}},
		{name: "subscribe with bad fields", as: "parent", method: "POST", path: "/api/v1/me/push-subscriptions", status: 422, field: "endpoint",
			body:  map[string]any{"endpoint": "http://push.example.net/x", "keys": map[string]any{"p256dh": "short", "auth": "***"}},
			check: errorsAre("endpoint", "keys.p256dh", "keys.auth")},
		{name: "subscribe as a director", as: "director", method: "POST", path: "/api/v1/me/push-subscriptions", body: sub, status: 403},
		{name: "my subscriptions", as: "parent", method: "GET", path: "/api/v1/me/push-subscriptions", status: 200, check: func(t *testing.T, r result) {
			if it := r.items(t); len(it) != 1 || it[0]["endpoint"] != sub["endpoint"] {
				t.Errorf("subscriptions: %s", r.body)
			}
		}},
		{name: "unsubscribe another endpoint", as: "parent", method: "DELETE", path: "/api/v1/me/push-subscriptions",
			body: map[string]any{"endpoint": "https://push.example.net/wpush/v2/other"}, status: 404},
		{name: "unsubscribe without an endpoint", as: "parent", method: "DELETE", path: "/api/v1/me/push-subscriptions",
			body: map[string]any{}, status: 422, rejected: true, field: "endpoint"},
		{name: "unsubscribe", as: "parent", method: "DELETE", path: "/api/v1/me/push-subscriptions",
			body: map[string]any{"endpoint": sub["endpoint"]}, status: 200, check: func(t *testing.T, r result) {
				if r.json(t)["removed"] != 1.0 {
					t.Errorf("removed: %s", r.body)
				}
			}},
		{name: "subscriptions after", as: "parent", method: "GET", path: "/api/v1/me/push-subscriptions", status: 200, check: func(t *testing.T, r result) {
			if it := r.items(t); len(it) != 0 {
				t.Errorf("subscriptions: %s", r.body)
			}
		}},
	})
}
