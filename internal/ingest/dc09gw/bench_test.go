package dc09gw_test

import (
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"qorgan/internal/ingest/dc09gw"
	"qorgan/internal/sim/panel"
)

// BenchmarkReceiverTCP: 200 simulated panels over TCP, each waiting for
// its ACK, against an in-memory Sink. "sleep" sleeps 200 µs per commit in
// place of an fsync'd transaction; "cpu" burns 50 µs per commit and 2 µs
// per frame, as a transaction without fsync does. One op is one ACKed
// frame. The panels and the receiver share the machine, so the figures are
// a floor for the receiver alone.
//
//	go test -run '^$' -bench Receiver -benchtime 40000x ./internal/ingest/dc09gw/
func BenchmarkReceiverTCP(b *testing.B) {
	sleep := func() *memSink { return &memSink{delay: 200 * time.Microsecond, discard: true} }
	cpu := func() *memSink {
		return &memSink{spin: 50 * time.Microsecond, spinPerFrame: 2 * time.Microsecond, discard: true}
	}
	for _, c := range []struct {
		sink string
		new  func() *memSink
	}{{"sleep", sleep}, {"cpu", cpu}} {
		for _, wait := range []time.Duration{-1, time.Millisecond} {
			b.Run(fmt.Sprintf("sink=%s/wait=%s", c.sink, max(wait, 0)), func(b *testing.B) {
				benchReceiver(b, "tcp", 200, c.new(), wait, "")
			})
		}
	}
	b.Run("sink=sleep/encrypted", func(b *testing.B) {
		benchReceiver(b, "tcp", 200, sleep(), time.Millisecond, "000102030405060708090A0B0C0D0E0F")
	})
}

// BenchmarkReceiverUDP is the same over UDP.
func BenchmarkReceiverUDP(b *testing.B) {
	benchReceiver(b, "udp", 200, &memSink{delay: 200 * time.Microsecond, discard: true}, time.Millisecond, "")
}

func benchReceiver(b *testing.B, transport string, panels int, sink *memSink, wait time.Duration, hexKey string) {
	accounts := accountTable{}
	key, err := hex.DecodeString(hexKey) // empty: plain accounts
	if err != nil {
		b.Fatal(err)
	}
	if len(key) == 0 {
		key = nil
	}
	for i := 1; i <= panels; i++ {
		accounts[fmt.Sprintf("B%05d", i)] = key
	}
	// All panels come from 127.0.0.1 here; in the field each has its own address.
	r := start(b, dc09gw.Config{BatchWait: wait, MaxConnsPerSource: panels}, sink, accounts)

	b.ResetTimer()
	rep, err := panel.Run(b.Context(), panel.Config{Addr: r.Addr(), Transport: transport, Panels: panels,
		AccountPattern: "B%05d", KeyHex: hexKey, Count: b.N, Codes: []string{"BA", "1120 01 005", "NULL"},
		AckTimeout: 5 * time.Second}, nil)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	if rep.ACK != int64(b.N) {
		b.Fatalf("%s", rep)
	}
	st := r.Stats()
	b.ReportMetric(rep.FramesPerSecond, "frames/s")
	b.ReportMetric(float64(rep.LatencyP50.Microseconds()), "p50-µs")
	b.ReportMetric(float64(rep.LatencyP99.Microseconds()), "p99-µs")
	if st.Commits > 0 {
		b.ReportMetric(float64(st.CommittedFrames)/float64(st.Commits), "frames/commit")
	}
	b.ReportMetric(0, "ns/op") // one op is one frame; frames/s says it better
}
