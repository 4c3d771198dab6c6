package dc09gw_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"qorgan/internal/ingest/dc09gw"
	"qorgan/internal/protocol/dc09"
	"qorgan/internal/urgent"
)

// syncedSink is a PipelinedSink whose batches become durable only when the
// test says so, each with the error the test gives.
type syncedSink struct {
	memSink
	committedBatch chan int        // the size of each batch committed
	onDisk         chan chan error // a batch's durable waits for one of these
}

func newSyncedSink() *syncedSink {
	return &syncedSink{committedBatch: make(chan int, 16), onDisk: make(chan chan error, 16)}
}

func (s *syncedSink) CommitThen(ctx context.Context, frames []dc09gw.Frame) (func() error, error) {
	if err := s.memSink.Commit(ctx, frames); err != nil {
		return nil, err
	}
	s.committedBatch <- len(frames)
	return func() error {
		release := make(chan error)
		s.onDisk <- release
		return <-release
	}, nil
}

// TestPipelinedSinkACKsOnlyWhenDurable: with a PipelinedSink, a frame is
// answered only once its batch's durable has returned nil; meanwhile the
// receiver commits the next batch (the writer is not waiting for the
// disk); a batch whose durable fails is left unanswered, and the panel's
// retransmission is ACKed once it is durable.
func TestPipelinedSinkACKsOnlyWhenDurable(t *testing.T) {
	sink := newSyncedSink()
	rec := &logRecorder{}
	r := start(t, dc09gw.Config{Logger: slog.New(rec)}, sink, plainAccounts)
	a, b := dialTCP(t, r.Addr()), dialTCP(t, r.Addr())
	ra, rb := &replyReader{c: a}, &replyReader{c: b}

	write(t, a, plainFrame(t, "1234", 1, "PA"))
	<-sink.committedBatch
	firstSync := <-sink.onDisk // the first batch waits for its sync
	ra.expectSilence(t, 200*time.Millisecond)

	// The next frame is committed while the first batch is not yet on disk.
	write(t, b, plainFrame(t, "5678", 2, "PA"))
	select {
	case <-sink.committedBatch:
	case <-time.After(5 * time.Second):
		t.Fatal("the second batch was not committed while the first one's sync ran")
	}
	rb.expectSilence(t, 100*time.Millisecond)

	firstSync <- nil
	wantACK(t, ra.mustReply(t), 1)
	secondSync := <-sink.onDisk
	rb.expectSilence(t, 100*time.Millisecond)
	secondSync <- errors.New("test: EIO")
	rb.expectSilence(t, 300*time.Millisecond)
	if errs := rec.find(map[string]string{"err": "test: EIO"}); len(errs) != 1 || errs[0].level != slog.LevelError {
		t.Fatalf("the failed sync logged %+v", errs)
	}

	// The panel retransmits; this time the batch reaches the disk.
	write(t, b, plainFrame(t, "5678", 2, "PA"))
	<-sink.committedBatch
	(<-sink.onDisk) <- nil
	wantACK(t, rb.mustReply(t), 2)
	if st := r.Stats(); st.Accepted != 2 || st.CommitErrors != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// TestAlarmOnItsWayUntilAnswered: a frame that carries an event is marked
// on its way in Config.Urgent from when it is queued until it is answered,
// so that the notification worker gives way to it meanwhile; a link test
// (NULL) is not.
func TestAlarmOnItsWayUntilAnswered(t *testing.T) {
	sink := newSyncedSink()
	alarms := new(urgent.Signal)
	r := start(t, dc09gw.Config{Urgent: alarms}, sink, plainAccounts)
	c, replies := connect(t, r.Addr())

	write(t, c, plainFrame(t, "1234", 1, "PA"))
	<-sink.committedBatch
	onDisk := <-sink.onDisk
	if !alarms.Active() {
		t.Fatal("an alarm committed and waiting for the disk is not marked on its way")
	}
	onDisk <- nil
	wantACK(t, replies.mustReply(t), 1)
	select {
	case <-alarms.Cleared():
	case <-time.After(5 * time.Second):
		t.Fatal("the alarm answered is still marked on its way")
	}

	null, err := dc09.Encode(dc09.Message{Token: dc09.TokenNULL, Sequence: "0002", Prefix: "0", Account: "1234"})
	if err != nil {
		t.Fatal(err)
	}
	write(t, c, null)
	<-sink.committedBatch
	onDisk = <-sink.onDisk
	if alarms.Active() {
		t.Fatal("a link test is marked as an alarm on its way")
	}
	onDisk <- nil
	wantACK(t, replies.mustReply(t), 2)
}
