package notify

import (
	"context"
	"testing"
	"time"

	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
)

// TestFencedOutcomes: a worker whose lease ran out cannot record an outcome
// over the claim that took the message after it.
func TestFencedOutcomes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := New(db)
		EnqueueT(t, db, Message{Key: "fence/1", Channel: ChannelSMS, Recipient: "+77011234567", Body: "x", Language: "ru", SchoolID: 1})
		a, err := o.Claim(ctx, "a/1", 1, 100*time.Millisecond)
		if err != nil || len(a) != 1 {
			t.Fatalf("claim a: %v %v", a, err)
		}
		time.Sleep(150 * time.Millisecond)
		b, err := o.Claim(ctx, "b/1", 1, time.Minute)
		if err != nil || len(b) != 1 {
			t.Fatalf("claim b: %v %v", b, err)
		}
		now := time.Now()
		// The late worker reports a failure: dropped.
		if err := o.finish(ctx, []outcome{{m: a[0], state: Dead, at: now, err: "late"}}); err != nil {
			t.Fatal(err)
		}
		if m, _ := o.Get(ctx, "fence/1"); m.Status != Sending || m.Lease != "b/1" || m.LastError != "" {
			t.Fatalf("a stale outcome was recorded: %+v", m)
		}
		// A retry, then the next claim's success.
		if err := o.finish(ctx, []outcome{{m: b[0], state: Pending, next: now.Add(-time.Second), err: "busy"}}); err != nil {
			t.Fatal(err)
		}
		if m, _ := o.Get(ctx, "fence/1"); m.Status != Pending || m.Lease != "" || m.LastError != "busy" {
			t.Fatalf("retry: %+v", m)
		}
		c, err := o.Claim(ctx, "c/1", 1, time.Minute)
		if err != nil || len(c) != 1 || c[0].Attempts != 3 {
			t.Fatalf("claim c: %v %v", c, err)
		}
		if err := o.finish(ctx, []outcome{{m: c[0], state: Sent, at: now}}); err != nil {
			t.Fatal(err)
		}
		m, _ := o.Get(ctx, "fence/1")
		if m.Status != Sent || m.Lease != "c/1" || m.SentAt.UnixMicro() != now.UnixMicro() || m.LastError != "busy" {
			t.Fatalf("sent: %+v", m)
		}
		if err := o.finish(ctx, []outcome{{m: b[0], state: Dead, at: now, err: "too late"}}); err != nil {
			t.Fatal(err)
		}
		if m, _ := o.Get(ctx, "fence/1"); m.Status != Sent {
			t.Fatalf("a sent message was changed: %+v", m)
		}

		// Mixed outcomes of one batch in one call.
		var msgs []Message
		for _, k := range []string{"mix/retry", "mix/dead", "mix/sent"} {
			msgs = append(msgs, Message{Key: k, Channel: ChannelEmail, Recipient: "a@b.kz", Body: "x", Language: "kk", SchoolID: 1})
		}
		EnqueueT(t, db, msgs...)
		mix, err := o.Claim(ctx, "d/1", 10, time.Minute)
		if err != nil || len(mix) != 3 {
			t.Fatalf("claim mix: %v %v", mix, err)
		}
		var outs []outcome
		for _, m := range mix {
			switch m.Key {
			case "mix/retry":
				outs = append(outs, outcome{m: m, state: Pending, next: now.Add(time.Hour), err: "451 later"})
			case "mix/dead":
				outs = append(outs, outcome{m: m, state: Dead, at: now, err: "550 no such user"})
			default:
				outs = append(outs, outcome{m: m, state: Sent, at: now})
			}
		}
		if err := o.finish(ctx, outs); err != nil {
			t.Fatal(err)
		}
		if m, _ := o.Get(ctx, "mix/retry"); m.Status != Pending || m.LastError != "451 later" || m.Lease != "" {
			t.Errorf("retry: %+v", m)
		}
		if m, _ := o.Get(ctx, "mix/dead"); m.Status != Dead || m.LastError != "550 no such user" || m.Lease != "d/1" {
			t.Errorf("dead: %+v", m)
		}
		if m, _ := o.Get(ctx, "mix/sent"); m.Status != Sent || m.SentAt.IsZero() {
			t.Errorf("sent: %+v", m)
		}
		if again, _ := o.Claim(ctx, "e/1", 10, time.Minute); len(again) != 0 {
			t.Errorf("claimed %+v: a retry an hour away or a finished message", again)
		}
	})
}

// TestFencedRelease: releasing an unsent message makes it due at once and
// uncounts its attempt; a release under a lease that has since passed to
// another claim changes nothing.
func TestFencedRelease(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := New(db)
		EnqueueT(t, db, Message{Key: "free/1", Channel: ChannelBot, Recipient: "42", Body: "x", Language: "kk", SchoolID: 1})
		a, err := o.Claim(ctx, "a/1", 1, time.Hour)
		if err != nil || len(a) != 1 {
			t.Fatalf("claim a: %v %v", a, err)
		}
		if err := o.finish(ctx, []outcome{{m: a[0], state: released, at: time.Now()}}); err != nil {
			t.Fatal(err)
		}
		if m, _ := o.Get(ctx, "free/1"); m.Status != Pending || m.Attempts != 0 || m.Lease != "" {
			t.Fatalf("released: %+v", m)
		}
		b, err := o.Claim(ctx, "b/1", 1, time.Hour)
		if err != nil || len(b) != 1 || b[0].Attempts != 1 {
			t.Fatalf("claim b right after the release: %v %v", b, err)
		}
		if err := o.finish(ctx, []outcome{{m: a[0], state: released, at: time.Now()}}); err != nil {
			t.Fatal(err)
		}
		if m, _ := o.Get(ctx, "free/1"); m.Status != Sending || m.Lease != "b/1" || m.Attempts != 1 {
			t.Fatalf("a stale release was recorded: %+v", m)
		}
	})
}
