// Package webpush sends Web Push messages to guardians' browsers: RFC 8030
// delivery (a POST to the subscription's endpoint with TTL and Urgency),
// RFC 8291 payload encryption (ECDH on P-256, HKDF-SHA-256, AES-128-GCM in
// the aes128gcm record format of RFC 8188) and VAPID (RFC 8292: an ES256
// JWT for the endpoint's origin in "Authorization: vapid t=…, k=…").
//
// It is written on the standard library's crypto (crypto/ecdh, crypto/hkdf,
// crypto/aes, crypto/cipher, crypto/ecdsa): the Go Web Push library the
// module proxy serves is not among the versions this project pins, and the
// protocol is a page of code whose every step the tests check against the
// RFC's own example.
//
// A guardian's subscriptions are kept by Service (stored per guardian, the
// VAPID key pair in the store unless configured); Channel is the outbox's
// "webpush" channel: it looks the subscription up when it sends, and a 404
// or 410 from the push service removes it.
package webpush
