package notify

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"qorgan/internal/errs"
	"qorgan/internal/store"
)

// State is where a message is as a school's staff see it: the outbox's
// pending splits into waiting (no attempt failed yet, or one is under
// way) and failed (an attempt failed, another will follow).
type State string

const (
	StateWaiting State = "waiting" // queued, or being sent right now
	StateSent    State = "sent"    // a provider accepted it
	StateFailed  State = "failed"  // an attempt failed; it will be tried again
	StateDead    State = "dead"    // given up: it will not be sent
)

// States lists the states in the order a page shows them.
var States = []State{StateSent, StateWaiting, StateFailed, StateDead}

// stateSQL is a message's State in SQL, and stateWhere the condition of
// each (both on the school's index, so that a filter narrows the same scan).
const stateSQL = `CASE WHEN status = 'sent' THEN 'sent' WHEN status = 'dead' THEN 'dead'
WHEN status = 'pending' AND attempts > 0 THEN 'failed' ELSE 'waiting' END`

var stateWhere = map[State]string{
	StateSent:    "status = 'sent'",
	StateDead:    "status = 'dead'",
	StateFailed:  "status = 'pending' AND attempts > 0",
	StateWaiting: "(status = 'sending' OR (status = 'pending' AND attempts = 0))",
}

// Delivery is one of a school's messages as its staff see it: the
// recipient masked, the text left out (it names the child).
type Delivery struct {
	ID            int64       `json:"id"`
	Channel       ChannelName `json:"channel"`
	Recipient     string      `json:"recipient"`
	Kind          string      `json:"kind"`
	State         State       `json:"state"`
	Attempts      int         `json:"attempts"`
	LastError     string      `json:"last_error,omitempty"`
	Reason        string      `json:"reason,omitempty"` // LastError's known reason (see ReasonOf)
	CreatedAt     time.Time   `json:"created_at"`
	SentAt        *time.Time  `json:"sent_at,omitempty"`
	NextAttemptAt *time.Time  `json:"next_attempt_at,omitempty"` // a failed message's retry
}

// Deliveries is one page of a school's messages, newest first.
type Deliveries struct {
	Items []Delivery
	Next  string // the cursor of the next page; empty on the last
}

// StateCounts counts a school's messages created since the given instant
// by State. The caller checks that the person may see the school.
func (o *Outbox) StateCounts(ctx context.Context, schoolID int64, since time.Time) (map[State]int, error) {
	out := map[State]int{}
	err := store.Each(ctx, o.DB.Reader(), func(rows *sql.Rows) error {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return err
		}
		out[State(st)] += n
		return nil
	}, `SELECT `+stateSQL+`, COUNT(*) FROM outbox WHERE school_id = ? AND created_at >= ? GROUP BY 1`,
		schoolID, store.Micros(since))
	return out, errs.Wrap(err, "delivery counts")
}

// ListDeliveries lists a school's messages created since the given instant,
// newest first, in state (empty: every state), limit (1–200) at a time
// after cursor (empty: from the newest). The caller checks that the person
// may see the school.
func (o *Outbox) ListDeliveries(ctx context.Context, schoolID int64, since time.Time, state State, cursor string, limit int) (Deliveries, error) {
	if limit <= 0 || limit > 200 {
		return Deliveries{}, errs.Invalidf("limit", "limit must be 1–200")
	}
	where, args := "school_id = ? AND created_at >= ?", []any{schoolID, store.Micros(since)}
	if state != "" {
		cond, ok := stateWhere[state]
		if !ok {
			return Deliveries{}, errs.Invalidf("state", "state must be one of sent, waiting, failed, dead")
		}
		where += " AND " + cond
	}
	if cursor != "" {
		at, id, ok := parseCursor(cursor)
		if !ok {
			return Deliveries{}, errs.Invalidf("cursor", "not a cursor this server gave")
		}
		where += " AND (created_at < ? OR (created_at = ? AND id < ?))"
		args = append(args, at, at, id)
	}
	items, err := store.Collect(ctx, o.DB.Reader(), func(rows *sql.Rows) (Delivery, error) {
		var d Delivery
		var ch, st string
		var created, next int64
		var sent sql.NullInt64
		if err := rows.Scan(&d.ID, &ch, &d.Recipient, &d.Kind, &st, &d.Attempts, &d.LastError, &created, &next, &sent); err != nil {
			return d, err
		}
		d.Channel, d.State = ChannelName(ch), State(st)
		d.Recipient = MaskRecipient(d.Channel, d.Recipient)
		d.CreatedAt, d.SentAt = store.FromMicros(created), store.FromNullMicros(sent)
		if d.State == StateFailed {
			t := store.FromMicros(next)
			d.NextAttemptAt = &t
		}
		if d.State != StateSent {
			d.Reason = ReasonOf(d.LastError)
		}
		return d, nil
	}, `SELECT id, channel, recipient, kind, `+stateSQL+`, attempts, last_error, created_at, next_attempt_at, sent_at
FROM outbox WHERE `+where+` ORDER BY created_at DESC, id DESC LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return Deliveries{}, errs.Wrap(err, "deliveries")
	}
	var page Deliveries
	if len(items) > limit {
		last := items[limit-1]
		page.Next = fmt.Sprintf("%d-%d", store.Micros(last.CreatedAt), last.ID)
		items = items[:limit]
	}
	page.Items = items
	return page, nil
}

func parseCursor(c string) (at, id int64, ok bool) {
	a, b, found := strings.Cut(c, "-")
	if !found {
		return 0, 0, false
	}
	at, err1 := strconv.ParseInt(a, 10, 64)
	id, err2 := strconv.ParseInt(b, 10, 64)
	return at, id, err1 == nil && err2 == nil && at > 0 && id > 0
}

// Reasons a delivery failed that a school's staff can act on, each a word
// the console translates (ReasonOf).
const (
	ReasonStale          = "stale"           // too late to be worth sending («entered at 07:52» at noon)
	ReasonNotConfigured  = "not_configured"  // the installation has no such channel, or it lacks its settings
	ReasonBadRecipient   = "bad_recipient"   // the guardian's phone, address or chat id is not one the channel takes
	ReasonSubscription   = "subscription"    // the guardian's browser subscription is gone
	ReasonRejected       = "rejected"        // the provider refused it (a 4xx answer)
	ReasonProviderFailed = "provider_failed" // the provider failed (a 5xx answer, or too many requests)
	ReasonUnreachable    = "unreachable"     // the provider could not be reached
	ReasonInterrupted    = "interrupted"     // the node sending it stopped, again and again
)

// reasons are the delivery errors' known texts (see the channels and the
// worker), first match wins.
var reasons = []struct {
	re     *regexp.Regexp
	reason string
}{
	{regexp.MustCompile(`^stale:`), ReasonStale},
	{regexp.MustCompile(`^lease ran out`), ReasonInterrupted},
	{regexp.MustCompile(`not configured|no \w+ channel configured|no bot token|no webhook secret|sender is not configured|URL is (invalid|not)|method must be`), ReasonNotConfigured},
	{regexp.MustCompile(`no chat id|e-mail recipient|not an international phone number|webhook recipient is|not a subscription id`), ReasonBadRecipient},
	{regexp.MustCompile(`push subscription (has expired|was removed)`), ReasonSubscription},
	{regexp.MustCompile(`HTTP (429|5\d\d)|bot API (429|5\d\d)|^4\d\d\b`), ReasonProviderFailed}, // ^4xx: SMTP's "try later"
	{regexp.MustCompile(`HTTP 4\d\d|bot API 4\d\d|^5\d\d\b`), ReasonRejected},                   // ^5xx: SMTP's refusal
	{regexp.MustCompile(`dial|connection refused|no such host|timeout|deadline exceeded|connection reset|EOF|unreachable`), ReasonUnreachable},
}

// ReasonOf is the known reason of a delivery error (one of the Reason
// constants), or "" for one Qorgan does not recognise.
func ReasonOf(lastError string) string {
	e := strings.TrimPrefix(strings.TrimPrefix(lastError, "permanent: "), "temporary: ")
	if _, rest, ok := strings.Cut(e, " attempts: "); ok && strings.HasPrefix(e, "gave up after ") {
		e = strings.TrimPrefix(strings.TrimPrefix(rest, "permanent: "), "temporary: ")
	}
	if e == "" {
		return ""
	}
	for _, r := range reasons {
		if r.re.MatchString(e) {
			return r.reason
		}
	}
	return ""
}
