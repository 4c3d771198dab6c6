package notify_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"qorgan/internal/errs"
	"qorgan/internal/notify"
	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
)

func count(t *testing.T, db *store.DB, where string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Reader().QueryRowContext(context.Background(), "SELECT COUNT(*) FROM outbox WHERE "+where, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestEnqueue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		t.Run("same key twice is one row", func(t *testing.T) {
			m := message("pass/1/guardian/1/sms", notify.ChannelSMS, "+77011234567")
			if n := enqueue(t, db, m); n != 1 {
				t.Fatalf("first enqueue added %d", n)
			}
			m.Body = "a resend, another text"
			if n := enqueue(t, db, m); n != 0 {
				t.Fatalf("second enqueue added %d", n)
			}
			if n := count(t, db, "idempotency_key = ?", m.Key); n != 1 {
				t.Fatalf("%d rows for one key", n)
			}
			// Within one batch too.
			a, b := message("pass/2/guardian/1/sms", notify.ChannelSMS, "+77011234567"), message("pass/2/guardian/1/sms", notify.ChannelSMS, "+77011234567")
			if n := enqueue(t, db, a, b); n != 1 {
				t.Fatalf("a batch with one key twice added %d", n)
			}
		})
		t.Run("a rolled-back cause leaves no message", func(t *testing.T) {
			boom := errors.New("the pass failed")
			err := db.InTx(ctx, func(tx *store.Tx) error {
				if _, err := notify.Enqueue(ctx, tx, []notify.Message{message("pass/3/guardian/1/sms", notify.ChannelSMS, "+77011234567")}); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatal(err)
			}
			if n := count(t, db, "idempotency_key = ?", "pass/3/guardian/1/sms"); n != 0 {
				t.Fatalf("rolled-back message stored: %d", n)
			}
		})
		t.Run("many in one call", func(t *testing.T) {
			var msgs []notify.Message
			for i := range 1234 {
				msgs = append(msgs, message(fmt.Sprintf("bulk/%d", i), notify.ChannelWebhook, "https://school.example/hook"))
			}
			if n := enqueue(t, db, msgs...); n != 1234 {
				t.Fatalf("added %d of 1234", n)
			}
			if n := enqueue(t, db, msgs[1000:]...); n != 0 {
				t.Fatalf("re-enqueue added %d", n)
			}
		})
		t.Run("bad input names the field and writes nothing", func(t *testing.T) {
			good := message("pass/4/guardian/1/sms", notify.ChannelSMS, "+77011234567")
			bad := message("", "pigeon", "")
			err := db.InTx(ctx, func(tx *store.Tx) error {
				_, err := notify.Enqueue(ctx, tx, []notify.Message{good, bad})
				return err
			})
			e := errs.As(err)
			if e.Code != errs.Invalid || e.Field != "messages/1/key" {
				t.Fatalf("want invalid messages/1/key, got %v", err)
			}
			if !strings.Contains(err.Error(), "more") {
				t.Fatalf("want every problem reported, got %v", err)
			}
			if n := count(t, db, "idempotency_key = ?", good.Key); n != 0 {
				t.Fatal("the valid message of a refused batch was stored")
			}
		})
	})
}

func TestClaim(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := notify.New(db)
		t.Run("concurrent claims are disjoint", func(t *testing.T) {
			const total = 600
			var msgs []notify.Message
			for i := range total {
				msgs = append(msgs, message(fmt.Sprintf("disjoint/%d", i), notify.ChannelWebhook, "https://school.example/hook"))
			}
			enqueue(t, db, msgs...)
			var mu sync.Mutex
			seen := map[int64]string{}
			var wg sync.WaitGroup
			errc := make(chan error, 4)
			for w := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; ; i++ {
						owner := fmt.Sprintf("node%d/%d", w, i)
						got, err := o.Claim(ctx, owner, 25, time.Minute)
						if err != nil {
							errc <- err
							return
						}
						if len(got) == 0 {
							return
						}
						mu.Lock()
						for _, m := range got {
							if prev, dup := seen[m.ID]; dup {
								errc <- fmt.Errorf("message %d claimed by %s and %s", m.ID, prev, owner)
							}
							seen[m.ID] = owner
							if m.Attempts != 1 || m.Lease != owner {
								errc <- fmt.Errorf("claimed message %d: attempts %d lease %q", m.ID, m.Attempts, m.Lease)
							}
						}
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			close(errc)
			for err := range errc {
				t.Error(err)
			}
			if len(seen) != total {
				t.Fatalf("claimed %d of %d", len(seen), total)
			}
		})
		t.Run("an expired lease is claimed again", func(t *testing.T) {
			enqueue(t, db, message("lease/1", notify.ChannelSMS, "+77011234567"))
			first, err := o.Claim(ctx, "dead-node/1", 10, 600*time.Millisecond)
			if err != nil || len(first) != 1 || first[0].Key != "lease/1" {
				t.Fatalf("first claim: %v %+v", err, first)
			}
			if again, _ := o.Claim(ctx, "other/1", 10, time.Minute); len(again) != 0 {
				t.Fatalf("a leased message was claimed again before its lease ran out: %+v", again)
			}
			time.Sleep(650 * time.Millisecond)
			second, err := o.Claim(ctx, "other/2", 10, time.Minute)
			if err != nil || len(second) != 1 {
				t.Fatalf("after the lease: %v %+v", err, second)
			}
			if m := second[0]; m.Key != "lease/1" || m.Attempts != 2 || m.Lease != "other/2" {
				t.Fatalf("reclaimed %+v", m)
			}
		})
		t.Run("not before its time", func(t *testing.T) {
			m := message("later/1", notify.ChannelSMS, "+77011234567")
			m.NotBefore = time.Now().Add(time.Hour)
			enqueue(t, db, m)
			got, err := o.Claim(ctx, "x/1", 100, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range got {
				if g.Key == m.Key {
					t.Fatal("a message was claimed before NotBefore")
				}
			}
		})
	})
}

func TestPrune(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := notify.New(db)
		old := message("old/1", notify.ChannelWebhook, "https://school.example/hook")
		old.CreatedAt = time.Now().Add(-48 * time.Hour)
		oldPending := message("old/2", notify.ChannelWebhook, "https://school.example/hook")
		oldPending.CreatedAt = old.CreatedAt
		oldPending.NotBefore = time.Now().Add(time.Hour)
		enqueue(t, db, old, oldPending, message("new/1", notify.ChannelWebhook, "https://school.example/hook"))
		w := fastWorker(o, map[notify.ChannelName]notify.Channel{notify.ChannelWebhook: notify.ChannelFunc(func(context.Context, notify.Message) error { return nil })})
		stop := start(t, w)
		eventually(t, 10*time.Second, "sent", statusIs(t, o, "new/1", notify.Sent))
		eventually(t, 10*time.Second, "sent", statusIs(t, o, "old/1", notify.Sent))
		stop()
		n, err := o.Prune(ctx, time.Now().Add(-24*time.Hour), 100)
		if err != nil || n != 1 {
			t.Fatalf("pruned %d, %v; want the one old sent message", n, err)
		}
		if count(t, db, "1 = 1") != 2 {
			t.Fatal("prune took a pending or a recent message")
		}
	})
}
