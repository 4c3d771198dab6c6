package dc09gw_test

import (
	"net"
	"testing"
	"time"

	"qorgan/internal/ingest/dc09gw"
	"qorgan/internal/urgent"
)

// clearedWithin fails t unless no alarm is marked on its way within d.
func clearedWithin(t *testing.T, s *urgent.Signal, d time.Duration, what string) {
	t.Helper()
	select {
	case <-s.Cleared():
	case <-time.After(d):
		t.Fatalf("%s: an alarm is still marked on its way", what)
	}
}

// TestAlarmMarkReleased: whatever becomes of a frame marked on its way —
// ACKed after its batch was split around a frame the store refuses, left
// unanswered because the store is down, or cut off by a closed connection
// and the receiver stopping, over TCP and UDP — its mark is released, so
// that the notification worker is never held back for an alarm that is no
// longer on its way.
func TestAlarmMarkReleased(t *testing.T) {
	t.Run("batch split", func(t *testing.T) {
		sink := &pickySink{}
		alarms := new(urgent.Signal)
		r := start(t, dc09gw.Config{BatchWait: 200 * time.Millisecond, Urgent: alarms}, sink, plainAccounts)
		const n = 20
		good := make([]*replyReader, n)
		for i := range good {
			good[i] = &replyReader{c: dialTCP(t, r.Addr())}
		}
		odd := &replyReader{c: dialTCP(t, r.Addr())}
		for i, rr := range good {
			if i == n/3 {
				write(t, odd.c, oddFrame(t, 77))
			}
			write(t, rr.c, plainFrame(t, "1234", i+1, "PA"))
		}
		for i, rr := range good {
			wantACK(t, rr.mustReply(t), i+1)
		}
		odd.expectSilence(t, 300*time.Millisecond)
		clearedWithin(t, alarms, 2*time.Second, "after the split")
	})

	t.Run("store down", func(t *testing.T) {
		sink := &pickySink{}
		sink.down.Store(true)
		alarms := new(urgent.Signal)
		r := start(t, dc09gw.Config{BatchWait: 50 * time.Millisecond, Urgent: alarms}, sink, plainAccounts)
		for i := range 16 {
			rr := &replyReader{c: dialTCP(t, r.Addr())}
			write(t, rr.c, plainFrame(t, "1234", i+1, "PA"))
		}
		waitFor(t, "16 frames unanswered", 5*time.Second, func() bool { return r.Stats().Unanswered == 16 })
		clearedWithin(t, alarms, 2*time.Second, "with the store down")
	})

	t.Run("closed and stopped", func(t *testing.T) {
		sink := &pickySink{}
		sink.hang.Store(true)
		alarms := new(urgent.Signal)
		r, cancel, done := run(t, dc09gw.Config{BatchWait: 10 * time.Millisecond, CommitTimeout: time.Hour,
			ShutdownTimeout: 300 * time.Millisecond, Urgent: alarms}, sink, plainAccounts)
		c := dialTCP(t, r.Addr())
		write(t, c, plainFrame(t, "1234", 1, "PA"))
		u, err := net.Dial("udp", r.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer u.Close()
		if _, err := u.Write(plainFrame(t, "1234", 2, "PA")); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the frames marked on their way", 5*time.Second, alarms.Active)
		time.Sleep(100 * time.Millisecond)
		c.Close()
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return")
		}
		if alarms.Active() {
			t.Fatal("an alarm is still marked on its way after the receiver stopped")
		}
	})
}
