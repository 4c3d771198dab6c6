package bench

import (
	"testing"
	"time"

	"qorgan/internal/protocol/dc09"
	"qorgan/internal/sim/panel"
)

// TestCeilingAnswersLikeTheReceiver checks the no-storage receiver the
// alarm benchmark measures Qorgan against: plain and encrypted frames get
// byte-exact ACKs, and a frame for an account it has no key for is refused,
// so that the ceiling does the same work per frame as a real receiver.
func TestCeilingAnswersLikeTheReceiver(t *testing.T) {
	key, _ := dc09.ParseKeyHex(benchKeyHex)
	c, err := startCeiling(dc09.Keys{"E00001": key, "E00002": key})
	if err != nil {
		t.Fatal(err)
	}
	defer c.stop()
	run := func(cfg panel.Config) panel.Report {
		cfg.Addr, cfg.Count, cfg.AckTimeout, cfg.Attempts = c.Addr(), 20, 2*time.Second, 1
		rep, err := panel.Run(t.Context(), cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	plain := run(panel.Config{Panels: 2, AccountPattern: plainPattern, Codes: []string{"BA", "NULL"}})
	if err := exactAnswers(plain, "the ceiling"); err != nil || plain.ACK != 20 {
		t.Fatalf("plain: %v; %+v", err, plain)
	}
	aes := run(panel.Config{Panels: 2, AccountPattern: aesPattern, KeyHex: benchKeyHex, Codes: []string{"BA"}})
	if err := exactAnswers(aes, "the ceiling"); err != nil || aes.ACK != 20 {
		t.Fatalf("AES: %v; %+v", err, aes)
	}
	// Encrypted for accounts it holds no key for: refused, and the check
	// that guards every benchmark run says so.
	unknown := run(panel.Config{Panels: 1, Accounts: []string{"E00099"}, KeyHex: benchKeyHex, Codes: []string{"BA"}})
	if unknown.ACK != 0 || exactAnswers(unknown, "the ceiling") == nil {
		t.Fatalf("unknown key: %+v", unknown)
	}
}
