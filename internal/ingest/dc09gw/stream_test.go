package dc09gw_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"qorgan/internal/ingest/dc09gw"
	"qorgan/internal/protocol/dc09"
	"qorgan/internal/store"
)

var plainAccounts = accountTable{"1234": nil, "5678": nil, "ABCDEF": nil}

func TestPartialFrameByteByByte(t *testing.T) {
	sink := &memSink{}
	r := start(t, dc09gw.Config{}, sink, plainAccounts)
	c, rr := connect(t, r.Addr())
	frame := plainFrame(t, "1234", 1, "PA")
	for i := range frame {
		write(t, c, frame[i:i+1])
		time.Sleep(time.Millisecond)
	}
	wantACK(t, rr.mustReply(t), 1)
	if got := sink.committed(); len(got) != 1 || !bytes.Equal(got[0].Raw, frame) || got[0].Account != "1234" {
		t.Fatalf("committed %+v", got)
	}
}

func TestGluedFramesAnsweredInOrder(t *testing.T) {
	sink := &memSink{}
	r := start(t, dc09gw.Config{}, sink, plainAccounts)
	c, rr := connect(t, r.Addr())
	// An ACK, a NAK (bad CRC) and an ACK in one write: the answers keep
	// the order of the frames.
	bad := breakCRC(plainFrame(t, "1234", 2, "BA"))
	var glued []byte
	glued = append(glued, plainFrame(t, "1234", 1, "PA")...)
	glued = append(glued, bad...)
	glued = append(glued, plainFrame(t, "5678", 3, "FA")...)
	write(t, c, glued)
	wantACK(t, rr.mustReply(t), 1)
	if m := rr.mustReply(t); m.Token != dc09.TokenNAK {
		t.Fatalf("second reply %s, want NAK", m.Token)
	}
	wantACK(t, rr.mustReply(t), 3)
	if n := sink.count(); n != 2 {
		t.Fatalf("%d committed, want 2", n)
	}
}

func TestManyFramesOnOneConnection(t *testing.T) {
	sink := &memSink{}
	r := start(t, dc09gw.Config{}, sink, plainAccounts)
	c, rr := connect(t, r.Addr())
	for seq := 1; seq <= 300; seq++ {
		write(t, c, plainFrame(t, "ABCDEF", seq, "RP"))
		wantACK(t, rr.mustReply(t), seq)
	}
	if n := sink.count(); n != 300 {
		t.Fatalf("%d committed, want 300", n)
	}
	// And a client that sends them all without waiting gets every answer.
	var all []byte
	for seq := 301; seq <= 400; seq++ {
		all = append(all, plainFrame(t, "ABCDEF", seq, "RP")...)
	}
	write(t, c, all)
	for seq := 301; seq <= 400; seq++ {
		wantACK(t, rr.mustReply(t), seq)
	}
}

func TestOversizeThenGood(t *testing.T) {
	sink := &memSink{}
	r := start(t, dc09gw.Config{}, sink, plainAccounts)
	c, rr := connect(t, r.Addr())
	huge := "\n" + "E4410025\"SIA-DCS\"0001L0#1234[" + strings.Repeat("A", 3*dc09.MaxFrameLen) + "]\r"
	write(t, c, []byte(huge))
	write(t, c, plainFrame(t, "1234", 7, "PA"))
	wantACK(t, rr.mustReply(t), 7)
	if st := r.Stats(); st.GarbageBytes < uint64(len(huge)) || st.Accepted != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestGarbageThenGood(t *testing.T) {
	sink := &memSink{}
	rec := &logRecorder{}
	r := start(t, dc09gw.Config{Logger: slog.New(rec)}, sink, plainAccounts)
	c, rr := connect(t, r.Addr())
	write(t, c, []byte("GET / HTTP/1.1\r\nHost: qorgan\r\n\r\n\x00\xff\x16\x03\x01 random \n\n\r\r"))
	write(t, c, plainFrame(t, "1234", 8, "BA"))
	wantACK(t, rr.mustReply(t), 8)
	rr.expectSilence(t, 100*time.Millisecond)
	if n := sink.count(); n != 1 {
		t.Fatalf("%d committed, want 1", n)
	}
	if len(rec.find(map[string]string{"reason": "garbage"})) == 0 {
		t.Error("garbage not logged")
	}
}

func TestUnknownAccountNAKedAndLogged(t *testing.T) {
	sink := &memSink{}
	rec := &logRecorder{}
	var clk clock
	now := time.Date(2026, 9, 1, 7, 30, 0, 0, time.UTC)
	clk.Set(now)
	r := start(t, dc09gw.Config{Logger: slog.New(rec), Now: clk.Now}, sink, plainAccounts)
	c, rr := connect(t, r.Addr())
	for seq := 1; seq <= 5; seq++ {
		write(t, c, plainFrame(t, "BAD1", seq, "PA"))
		raw, err := rr.next(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(raw, dc09.NAK(now)) {
			t.Fatalf("reply %q, want NAK", raw)
		}
	}
	if n := sink.count(); n != 0 {
		t.Fatalf("%d committed, want 0", n)
	}
	// Logged once for the five, with the security mark.
	logged := rec.find(map[string]string{"reason": "unknown-account"})
	if len(logged) != 1 || logged[0].attrs["security"] != "true" || logged[0].level != slog.LevelWarn ||
		logged[0].attrs["account"] != "BAD1" {
		t.Fatalf("logged %+v", logged)
	}
	if st := r.Stats(); st.UnknownAccounts != 5 || st.NAKs != 5 || st.Commits != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestPlainFrameForEncryptedAccountNAKed(t *testing.T) {
	sink := &memSink{}
	rec := &logRecorder{}
	r := start(t, dc09gw.Config{Logger: slog.New(rec)}, sink, accountTable{"1111": vectorKey})
	c, rr := connect(t, r.Addr())
	write(t, c, plainFrame(t, "1111", 1, "PA"))
	if m := rr.mustReply(t); m.Token != dc09.TokenNAK {
		t.Fatalf("reply %s, want NAK", m.Token)
	}
	if sink.count() != 0 || len(rec.find(map[string]string{"security": "true"})) != 1 {
		t.Fatal("plain frame for an encrypted account not refused as a security event")
	}
}

func TestRejectionsRateLimited(t *testing.T) {
	rec := &logRecorder{}
	r := start(t, dc09gw.Config{Logger: slog.New(rec), LogEvery: time.Hour}, &memSink{}, plainAccounts)
	c, rr := connect(t, r.Addr())
	bad := breakCRC(plainFrame(t, "1234", 1, "PA"))
	for range 50 {
		write(t, c, bad)
		rr.mustReply(t)
	}
	if got := rec.find(map[string]string{"reason": "crc"}); len(got) != 1 {
		t.Fatalf("%d log lines for 50 bad CRCs, want 1", len(got))
	}
	if st := r.Stats(); st.NAKs != 50 {
		t.Fatalf("stats %+v", st)
	}
}

func TestUnknownCodeDUHButCommitted(t *testing.T) {
	sink := &memSink{}
	r := start(t, dc09gw.Config{}, sink, plainAccounts)
	c, rr := connect(t, r.Addr())
	write(t, c, plainFrame(t, "1234", 4, "QQ"))
	m := rr.mustReply(t)
	if m.Token != dc09.TokenDUH || m.Sequence != "0004" {
		t.Fatalf("reply %s %s, want DUH 0004", m.Token, m.Sequence)
	}
	got := sink.committed()
	if len(got) != 1 || got[0].Reply != dc09.ReplyDUH {
		t.Fatalf("committed %+v", got)
	}
}

func TestCommitFailureNoReplyThenRetransmissionACKed(t *testing.T) {
	sink := &memSink{}
	sink.fails.Store(1)
	rec := &logRecorder{}
	r := start(t, dc09gw.Config{Logger: slog.New(rec)}, sink, plainAccounts)
	c, rr := connect(t, r.Addr())
	frame := plainFrame(t, "1234", 9, "PA")
	write(t, c, frame)
	rr.expectSilence(t, 300*time.Millisecond)
	if errs := rec.find(map[string]string{"err": errDiskFull.Error()}); len(errs) != 1 || errs[0].level != slog.LevelError {
		t.Fatalf("commit failure logged %+v", errs)
	}
	// The panel retransmits the same bytes: now they are committed and
	// ACKed; a second retransmission is ACKed again and handed to the Sink
	// again, whose job it is to store it once.
	for range 2 {
		write(t, c, frame)
		wantACK(t, rr.mustReply(t), 9)
	}
	got := sink.committed()
	if len(got) != 2 || !bytes.Equal(got[0].Raw, got[1].Raw) {
		t.Fatalf("committed %d frames", len(got))
	}
	if st := r.Stats(); st.CommitErrors != 1 || st.Unanswered != 1 || st.Accepted != 2 {
		t.Fatalf("stats %+v", st)
	}
	// Only the frames committed and ACKed are timed, read → on disk.
	if n := store.TimingOf(r.CommitTimes()).Count; n != 2 {
		t.Fatalf("%d frames' commit times, want the 2 ACKed", n)
	}
}

func TestGracefulStopAnswersInFlight(t *testing.T) {
	sink := &memSink{delay: 300 * time.Millisecond}
	r, cancel, done := run(t, dc09gw.Config{}, sink, plainAccounts)
	c, rr := connect(t, r.Addr())
	write(t, c, plainFrame(t, "1234", 11, "PA"))
	time.Sleep(100 * time.Millisecond) // the commit is under way
	cancel()
	wantACK(t, rr.mustReply(t), 11)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
	if _, err := rr.next(time.Second); err == nil {
		t.Fatal("connection still open after Run returned")
	}
}

func TestGroupCommitBatches(t *testing.T) {
	sink := &memSink{delay: 5 * time.Millisecond}
	r := start(t, dc09gw.Config{}, sink, plainAccounts)
	// 50 connections send at once; while one commit sleeps the others
	// queue up and go in the next.
	const n = 50
	conns := make([]*replyReader, n)
	for i := range conns {
		conns[i] = &replyReader{c: dialTCP(t, r.Addr())}
	}
	for i, rr := range conns {
		write(t, rr.c, plainFrame(t, "1234", i+1, "RP"))
	}
	for i, rr := range conns {
		wantACK(t, rr.mustReply(t), i+1)
	}
	st := r.Stats()
	if st.CommittedFrames != n || st.Commits >= n/2 || st.LargestBatch < 5 {
		t.Fatalf("%d frames in %d commits (largest %d): not grouped", st.CommittedFrames, st.Commits, st.LargestBatch)
	}
}

func TestNewChecksConfig(t *testing.T) {
	if _, err := dc09gw.NewWithSink(dc09gw.Config{}, nil, plainAccounts); err == nil {
		t.Error("no error without a Sink")
	}
	if _, err := dc09gw.NewWithSink(dc09gw.Config{Addr: "nonsense"}, &memSink{}, plainAccounts); err == nil {
		t.Error("no error for a bad address")
	}
	r, err := dc09gw.NewWithSink(dc09gw.Config{}, &memSink{}, plainAccounts)
	if err != nil || r.Addr() != "" {
		t.Fatalf("NewWithSink: %v, Addr %q before Listen", err, r.Addr())
	}
}

// breakCRC changes the first CRC digit to another hex digit.
func breakCRC(frame []byte) []byte {
	if frame[1] == '0' {
		frame[1] = '1'
	} else {
		frame[1] = '0'
	}
	return frame
}
