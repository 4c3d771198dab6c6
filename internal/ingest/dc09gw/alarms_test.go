package dc09gw_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"qorgan/internal/alarm"
	"qorgan/internal/auth"
	"qorgan/internal/demo"
	"qorgan/internal/ingest/dc09gw"
	"qorgan/internal/protocol/dc09"
	"qorgan/internal/registry"
	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
	"qorgan/internal/testkit"
)

// dc09Wired runs the DC-09 receiver as serve wires it (the alarm service,
// the registry's devices) over db, on a clock the test moves.
func dc09Wired(t *testing.T, db *store.DB) (addr string, clk *testkit.Clock) {
	t.Helper()
	return dc09WiredWith(t, db, nil, nil)
}

// dc09WiredWith is dc09Wired with the receiver's configuration adjusted by
// tune and its alarm service wrapped by wrap (either may be nil).
func dc09WiredWith(t *testing.T, db *store.DB, tune func(*dc09gw.Config), wrap func(dc09gw.Alarms) dc09gw.Alarms) (addr string, clk *testkit.Clock) {
	t.Helper()
	ctx := context.Background()
	a := auth.New(db)
	if _, err := demo.Load(ctx, db, a, demo.Options{Scale: 0.002}); err != nil {
		t.Fatal(err)
	}
	clk = testkit.NewClock(time.Now().UTC().Truncate(time.Second))
	log := slog.New(slog.DiscardHandler)
	alarms := alarm.New(db, a, log)
	alarms.Now = clk.Now
	cfg := dc09gw.Config{Addr: "127.0.0.1:0", Now: clk.Now, Logger: log}
	if tune != nil {
		tune(&cfg)
	}
	var commits dc09gw.Alarms = alarms
	if wrap != nil {
		commits = wrap(commits)
	}
	r, err := dc09gw.New(cfg, commits, registry.New(db, a))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Listen(); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("receiver: %v", err)
		}
	})
	return r.Addr(), clk
}

// TestDC09RetransmissionRestamped: a panel that resends a frame with a new
// timestamp (an encrypted panel must, once its first attempt is outside
// the receiver's window) is acknowledged both times and raises one alarm;
// the same sequence number with another event, or with the same event once
// the retransmission window is over (the counter wrapped), is a new alarm.
func TestDC09RetransmissionRestamped(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		addr, clk := dc09Wired(t, db)
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		rd := bufio.NewReader(conn)
		key := []byte(demo.EncryptedKeyText)
		send := func(account, seq, data string) {
			t.Helper()
			m := dc09.Message{Token: dc09.TokenSIADCS, Sequence: seq, Receiver: "1", Prefix: "0", Account: account, Data: data, Timestamp: clk.Now()}
			var frame []byte
			var err error
			if account == demo.EncryptedAccount {
				frame, err = dc09.EncodeEncrypted(m, key, rand.Reader)
			} else {
				frame, err = dc09.Encode(m)
			}
			if err != nil {
				t.Fatal(err)
			}
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := conn.Write(frame); err != nil {
				t.Fatal(err)
			}
			reply, err := rd.ReadString('\r')
			if err != nil {
				t.Fatalf("seq %s: no reply: %v", seq, err)
			}
			want := `"ACK"` + seq
			if account == demo.EncryptedAccount {
				want = `"*ACK"` + seq
			}
			if !strings.Contains(reply, want) {
				t.Fatalf("seq %s at %s: reply %q, want %s", seq, clk.Now().Format(time.TimeOnly), reply, want)
			}
		}
		count := func(account string) (signals, alarms int) {
			t.Helper()
			err := db.Reader().QueryRowContext(context.Background(), "SELECT COUNT(DISTINCT s.id), COUNT(a.id) FROM signals s LEFT JOIN alarms a ON a.signal_id = s.id WHERE s.account = ?",
				account).Scan(&signals, &alarms)
			if err != nil {
				t.Fatal(err)
			}
			return signals, alarms
		}
		for _, account := range []string{demo.EncryptedAccount, demo.PlainAccount} {
			panicData := "#" + account + "|Nri1/PA501"
			first := clk.Now()
			send(account, "0042", panicData)
			clk.Add(30 * time.Second)
			send(account, "0042", panicData) // re-stamped 30 s later
			if s, a := count(account); s != 1 || a != 1 {
				t.Fatalf("%s: a retransmission re-stamped 30 s later: %d signals, %d alarms; want 1 and 1", account, s, a)
			}
			clk.Add(first.Add(dc09gw.RetransmissionWindow - time.Second).Sub(clk.Now()))
			send(account, "0042", panicData) // the last second of the window
			if s, a := count(account); s != 1 || a != 1 {
				t.Fatalf("%s: a retransmission 1 s before the window ends: %d signals, %d alarms; want 1 and 1", account, s, a)
			}
			send(account, "0042", "#"+account+"|Nri1/FA502") // another event under the same number
			if s, a := count(account); s != 2 || a != 2 {
				t.Fatalf("%s: another event with the same sequence: %d signals, %d alarms; want 2 and 2", account, s, a)
			}
			clk.Add(2 * time.Second)
			send(account, "0042", panicData) // the counter came round again: a new panic
			if s, a := count(account); s != 3 || a != 3 {
				t.Fatalf("%s: the same event and sequence after the window: %d signals, %d alarms; want 3 and 3", account, s, a)
			}
			send(account, "0042", panicData) // and its own retransmission is caught
			if s, a := count(account); s != 3 || a != 3 {
				t.Fatalf("%s: a retransmission of the new panic: %d signals, %d alarms; want 3 and 3", account, s, a)
			}
		}
	})
}
