package notify_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"qorgan/internal/notify"
	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
)

// TestDeliveries: a school's messages by state as its staff see them —
// counts per state, a filter, pages that neither skip nor repeat a
// message, recipients masked, and the known reason of each failure.
func TestDeliveries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := notify.New(db)
		since := time.Now().Add(-time.Minute)
		w := fastWorker(o, map[notify.ChannelName]notify.Channel{
			notify.ChannelWebhook: notify.ChannelFunc(func(context.Context, notify.Message) error { return nil }),
			notify.ChannelEmail:   notify.ChannelFunc(func(context.Context, notify.Message) error { return errors.New("451 try later") }),
			notify.ChannelBot: notify.ChannelFunc(func(context.Context, notify.Message) error {
				return notify.Permanent(errors.New("bot API 403: Forbidden: bot was blocked by the user"))
			}),
		})
		w.RetryBase, w.RetryMax = time.Hour, time.Hour
		var msgs []notify.Message
		for i := range 7 {
			msgs = append(msgs, message(fmt.Sprint("deliveries/sent/", i), notify.ChannelWebhook, "https://school.example/hook?token=secret"))
		}
		msgs = append(msgs, message("deliveries/email", notify.ChannelEmail, "aigul.nurlanovna@mail.kz"),
			message("deliveries/bot", notify.ChannelBot, "987654321"))
		other := message("deliveries/other", notify.ChannelWebhook, "https://other.example/hook")
		other.SchoolID = 8
		enqueue(t, db, append(msgs, other)...)
		stop := start(t, w)
		eventually(t, 10*time.Second, "outcomes", func() bool {
			return get(t, o, "deliveries/sent/6").Status == notify.Sent && get(t, o, "deliveries/email").LastError != "" && get(t, o, "deliveries/bot").Status == notify.Dead
		})
		stop()
		// One more, never tried: waiting.
		enqueue(t, db, message("deliveries/waiting", notify.ChannelSMS, "+77011234567"))

		counts, err := o.StateCounts(ctx, 7, since)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[notify.State]int{notify.StateSent: 7, notify.StateFailed: 1, notify.StateDead: 1, notify.StateWaiting: 1}; fmt.Sprint(counts) != fmt.Sprint(want) {
			t.Errorf("counts = %v, want %v", counts, want)
		}

		// Every message of school 7, three at a time, newest first.
		var seen []int64
		cursor := ""
		for pages := 0; ; pages++ {
			page, err := o.ListDeliveries(ctx, 7, since, "", cursor, 3)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Items) > 3 || pages > 5 {
				t.Fatalf("page %d: %d items", pages, len(page.Items))
			}
			for _, d := range page.Items {
				seen = append(seen, d.ID)
			}
			if cursor = page.Next; cursor == "" {
				break
			}
		}
		if len(seen) != 10 {
			t.Errorf("pages showed %d messages of school 7, want 10: %v", len(seen), seen)
		}
		for i := 1; i < len(seen); i++ {
			if seen[i] >= seen[i-1] {
				t.Errorf("not newest first, or repeated: %v", seen)
				break
			}
		}

		for state, want := range map[notify.State]int{notify.StateSent: 7, notify.StateFailed: 1, notify.StateDead: 1, notify.StateWaiting: 1} {
			page, err := o.ListDeliveries(ctx, 7, since, state, "", 50)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Items) != want || page.Next != "" {
				t.Errorf("state %s: %d messages (next %q), want %d", state, len(page.Items), page.Next, want)
			}
			for _, d := range page.Items {
				if d.State != state {
					t.Errorf("state %s filter shows a %s message", state, d.State)
				}
				switch state {
				case notify.StateSent:
					if d.SentAt == nil || d.Recipient != "https://school.example/…" || d.Reason != "" {
						t.Errorf("sent: %+v", d)
					}
				case notify.StateFailed:
					if d.NextAttemptAt == nil || d.Recipient != "a***@mail.kz" || d.Reason != notify.ReasonProviderFailed {
						t.Errorf("failed: %+v", d)
					}
				case notify.StateDead:
					if d.Recipient != "***321" || d.Reason != notify.ReasonRejected || d.LastError == "" {
						t.Errorf("dead: %+v", d)
					}
				case notify.StateWaiting:
					if d.Attempts != 0 || d.Recipient != "+7********67" {
						t.Errorf("waiting: %+v", d)
					}
				}
			}
		}
		if _, err := o.ListDeliveries(ctx, 7, since, "lost", "", 50); err == nil {
			t.Errorf("an unknown state was taken")
		}
		if _, err := o.ListDeliveries(ctx, 7, since, "", "12-x", 50); err == nil {
			t.Errorf("a cursor this server did not give was taken")
		}
	})
}

// TestReasonOf: the delivery errors the channels and the worker write map
// to the reasons the console says in words; anything else stays unknown.
func TestReasonOf(t *testing.T) {
	for text, want := range map[string]string{
		"stale: expired before it could be delivered":                             notify.ReasonStale,
		"lease ran out after attempt 8":                                           notify.ReasonInterrupted,
		"permanent: the sms channel is not configured on this installation":       notify.ReasonNotConfigured,
		"no email channel configured on this node":                                notify.ReasonNotConfigured,
		"gave up after 8 attempts: temporary: no webhook secret configured":       notify.ReasonNotConfigured,
		"permanent: SMS recipient is not an international phone number":           notify.ReasonBadRecipient,
		"permanent: no chat id":                                                   notify.ReasonBadRecipient,
		"permanent: the push subscription has expired (HTTP 410) and was removed": notify.ReasonSubscription,
		"permanent: bot API 403: Forbidden: bot was blocked by the user":          notify.ReasonRejected,
		"permanent: HTTP 400: bad phone":                                          notify.ReasonRejected,
		"permanent: 550 5.1.1 mailbox unavailable":                                notify.ReasonRejected,
		"temporary: HTTP 503: busy":                                               notify.ReasonProviderFailed,
		"gave up after 8 attempts: temporary: 451 try later":                      notify.ReasonProviderFailed,
		"temporary: Post: dial tcp 10.0.0.1:443: connect: connection refused":     notify.ReasonUnreachable,
		"gave up after 8 attempts: temporary: Post: context deadline exceeded":    notify.ReasonUnreachable,
		"channel bot panicked: runtime error: index out of range":                 "",
		"": "",
	} {
		if got := notify.ReasonOf(text); got != want {
			t.Errorf("ReasonOf(%q) = %q, want %q", text, got, want)
		}
	}
}
