package access

import (
	"context"
	"fmt"
	"strings"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/notify"
	"qorgan/internal/store"
)

// Notifier turns new passes into messages to guardians, queued in the
// outbox inside the intake transaction: a pass and its messages commit
// together, and the outbox's idempotency key (pass, guardian, channel) keeps
// a resent event or a restart from sending anything twice.
//
// Defaults, per installation for now: the first entry of the day and every
// exit are told; an exit within Bounce of the pupil's previous exit is
// folded into it (a child stepping out and back at the gate); nothing is sent
// for passes older than MaxAge (a controller's late backlog) or inside quiet
// hours. Only guardians whose consent is on record, and not withdrawn, are
// told; each on the channels they have: the messenger bot when they gave a
// messenger id, else SMS; e-mail when they gave an address; and the
// installation's webhook when one is configured. A message names the child
// by first name only.
type Notifier struct {
	MaxAge     time.Duration
	Bounce     time.Duration
	QuietFrom  int    // hour (Asia/Almaty) quiet hours start, e.g. 22
	QuietTo    int    // hour they end, e.g. 6
	WebhookURL string // empty: no webhook messages
	Now        func() time.Time
}

// DefaultNotifier has the defaults described on Notifier.
func DefaultNotifier() *Notifier {
	return &Notifier{MaxAge: 30 * time.Minute, Bounce: 5 * time.Minute, QuietFrom: 22, QuietTo: 6, Now: time.Now}
}

type recipient struct {
	guardian           int64
	phone, email, chat string
	lang               string
}

type pupilInfo struct {
	firstName string
	guardians []recipient
}

// Enqueue is an access.Service OnPasses hook.
func (n *Notifier) Enqueue(ctx context.Context, tx *store.Tx, passes []Pass) error {
	now := n.Now()
	var told []Pass
	for _, p := range passes {
		if p.PersonKind != "pupil" || now.Sub(p.At) > n.MaxAge || n.quiet(p.At) {
			continue
		}
		tell, err := n.worthTelling(ctx, tx, p)
		if err != nil {
			return err
		}
		if tell {
			told = append(told, p)
		}
	}
	if len(told) == 0 {
		return nil
	}
	info, err := n.pupils(ctx, tx, told, auth.Today(now).Format(time.DateOnly))
	if err != nil {
		return err
	}
	var msgs []notify.Message
	for _, p := range told {
		pi := info[p.PersonID]
		if pi == nil {
			continue
		}
		kind := "pupil.entered"
		if p.Direction == Out {
			kind = "pupil.left"
		}
		for _, g := range pi.guardians {
			body, err := notify.Render(g.lang, kind, notify.Vars{Name: pi.firstName, At: p.At})
			if err != nil {
				return err
			}
			subject, _ := notify.Render(g.lang, "subject.attendance", notify.Vars{Name: pi.firstName})
			base := notify.Message{Kind: kind, Body: body, Language: g.lang, SchoolID: p.SchoolID, PupilID: p.PersonID,
				CreatedAt: p.At, NotBefore: now, ExpiresAt: p.At.Add(2 * time.Hour)}
			add := func(ch notify.ChannelName, to string) {
				m := base
				m.Channel, m.Recipient = ch, to
				m.Key = fmt.Sprintf("pass/%d/guardian/%d/%s", p.ID, g.guardian, ch)
				if ch == notify.ChannelEmail {
					m.Subject = subject
				}
				msgs = append(msgs, m)
			}
			if g.chat != "" {
				add(notify.ChannelBot, g.chat)
			} else {
				add(notify.ChannelSMS, g.phone)
			}
			if g.email != "" {
				add(notify.ChannelEmail, g.email)
			}
			if n.WebhookURL != "" {
				add(notify.ChannelWebhook, n.WebhookURL)
			}
		}
	}
	_, err = notify.Enqueue(ctx, tx, msgs)
	return err
}

// quiet reports whether an instant falls in quiet hours.
func (n *Notifier) quiet(at time.Time) bool {
	if n.QuietFrom == n.QuietTo {
		return false
	}
	h := auth.Today(at).Hour()
	if n.QuietFrom > n.QuietTo {
		return h >= n.QuietFrom || h < n.QuietTo
	}
	return h >= n.QuietFrom && h < n.QuietTo
}

// worthTelling applies the day's rules: the first entry of the day, and an
// exit not within Bounce of an earlier exit.
func (n *Notifier) worthTelling(ctx context.Context, tx *store.Tx, p Pass) (bool, error) {
	at := store.Micros(p.At)
	dayStart := store.Micros(dayBegin(p.At))
	var earlier int
	var q string
	args := []any{p.PersonID, p.SchoolID, p.ID}
	if p.Direction == In {
		q = "SELECT COUNT(*) FROM passes WHERE person_id = ? AND school_id = ? AND person_kind = 'pupil' AND id <> ? AND direction = 'in' AND at >= ? AND at < ?"
		args = append(args, dayStart, at)
	} else {
		q = "SELECT COUNT(*) FROM passes WHERE person_id = ? AND school_id = ? AND person_kind = 'pupil' AND id <> ? AND direction = 'out' AND at >= ? AND at <= ?"
		args = append(args, at-n.Bounce.Microseconds(), at)
	}
	if err := tx.QueryRowContext(ctx, q, args...).Scan(&earlier); err != nil {
		return false, err
	}
	return earlier == 0, nil
}

func dayBegin(t time.Time) time.Time {
	l := auth.Today(t)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, auth.Almaty)
}

// pupils loads the first names and consenting guardians of the pupils.
func (n *Notifier) pupils(ctx context.Context, tx *store.Tx, passes []Pass, today string) (map[int64]*pupilInfo, error) {
	ids := map[int64]bool{}
	var args []any
	for _, p := range passes {
		if !ids[p.PersonID] {
			ids[p.PersonID] = true
			args = append(args, p.PersonID)
		}
	}
	out := map[int64]*pupilInfo{}
	ph := strings.TrimSuffix(strings.Repeat("?,", len(args)), ",")
	rows, err := tx.QueryContext(ctx, `SELECT p.id, p.first_name, g.id, g.phone, g.email, g.messenger_id, g.language
		FROM pupils p JOIN pupil_guardians pg ON pg.pupil_id = p.id JOIN guardians g ON g.id = pg.guardian_id
		WHERE p.id IN (`+ph+`) AND g.consent_given_on IS NOT NULL AND g.consent_given_on <= ?
		AND (g.consent_withdrawn_on IS NULL OR g.consent_withdrawn_on > ?) ORDER BY p.id, g.id`, append(args, today, today)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var pid int64
		var first string
		var r recipient
		if err := rows.Scan(&pid, &first, &r.guardian, &r.phone, &r.email, &r.chat, &r.lang); err != nil {
			return nil, err
		}
		pi := out[pid]
		if pi == nil {
			pi = &pupilInfo{firstName: first}
			out[pid] = pi
		}
		pi.guardians = append(pi.guardians, r)
	}
	return out, rows.Err()
}
