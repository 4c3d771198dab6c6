package attendance

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"qorgan/internal/kztime"
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
// told; each on the channels they have and have not switched off: the
// messenger bot when they gave a messenger id, else SMS; e-mail when they
// gave an address; the installation's webhook when one is configured; and
// Web Push to each browser they subscribed. A message names the child by
// first name only.
//
// The same guardians, on the same channels, get the not-arrived message of
// the schools that asked for it (see CheckNotArrived and NotArrivedRule).
type Notifier struct {
	MaxAge     time.Duration
	Bounce     time.Duration
	QuietFrom  int    // hour (Asia/Almaty) quiet hours start, e.g. 22
	QuietTo    int    // hour they end, e.g. 6
	WebhookURL string // empty: no webhook messages
	Now        func() time.Time

	// CheckWindow is how long after a school's not-arrived check time the
	// check may still run (a node that was down at the time); later, that
	// day's check is skipped. Default 1 h.
	CheckWindow time.Duration
	// MinArrived is the share of a school's pupils that must have a pass
	// for its not-arrived check to tell anyone; below it the day is taken
	// for a holiday or a turnstile failure. Default 0.5.
	MinArrived float64
	// Queued, if set, is called after a check committed messages (to wake
	// the delivery worker).
	Queued func()
}

// DefaultNotifier has the defaults described on Notifier.
func DefaultNotifier() *Notifier {
	return &Notifier{MaxAge: 30 * time.Minute, Bounce: 5 * time.Minute, QuietFrom: 22, QuietTo: 6, Now: time.Now,
		CheckWindow: time.Hour, MinArrived: 0.5}
}

type recipient struct {
	guardian           int64
	phone, email, chat string
	lang               string
	off                string // channels the guardian switched off, comma-separated
	push               []pushTarget
}

// pushTarget is one of a guardian's Web Push subscriptions.
type pushTarget struct {
	id   int64
	lang string // its messages' language
}

func (r recipient) wants(ch notify.ChannelName) bool {
	return !strings.Contains(","+r.off+",", ","+string(ch)+",")
}

type pupilInfo struct {
	firstName string
	guardians []recipient
}

// Enqueue queues the messages new passes call for: Notifier is the
// server's Notices.
func (n *Notifier) Enqueue(ctx context.Context, tx *store.Tx, passes []Pass) error {
	now := n.Now()
	var candidates []Pass
	for _, p := range passes {
		if p.PersonKind != "pupil" || now.Sub(p.At) > n.MaxAge || n.quiet(p.At) {
			continue
		}
		candidates = append(candidates, p)
	}
	told, err := n.worthTelling(ctx, tx, candidates)
	if err != nil {
		return err
	}
	if len(told) == 0 {
		return nil
	}
	info, err := n.pupils(ctx, tx, told, kztime.Today(now).Format(time.DateOnly))
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
			// One "entered" a day per pupil and guardian: keyed by the day,
			// so that two nodes taking two entries of one pupil at once, or
			// a late backlog, cannot tell it twice. Exits are keyed by pass.
			key := fmt.Sprintf("pass/%d/guardian/%d/", p.ID, g.guardian)
			if kind == "pupil.entered" {
				key = fmt.Sprintf("entered/%s/pupil/%d/guardian/%d/", Day(p.At), p.PersonID, g.guardian)
			}
			msgs, err = n.appendMessages(msgs, g, base, subject, key, notify.Vars{Name: pi.firstName, At: p.At})
			if err != nil {
				return err
			}
		}
	}
	_, err = notify.Enqueue(ctx, tx, msgs)
	return err
}

// appendMessages appends base addressed to the guardian on each channel
// they have and have not switched off: the messenger bot when they gave a
// messenger id, else SMS; e-mail (with subject) when they gave an address;
// the installation's webhook when one is configured; Web Push to each of
// their subscriptions, in the subscription's language (rendered from
// base.Kind and v). Each message's key is keyPrefix and the channel name
// (and the subscription's id for Web Push).
func (n *Notifier) appendMessages(msgs []notify.Message, g recipient, base notify.Message, subject, keyPrefix string, v notify.Vars) ([]notify.Message, error) {
	add := func(ch notify.ChannelName, to string) {
		m := base
		m.Channel, m.Recipient = ch, to
		m.Key = keyPrefix + string(ch)
		if ch == notify.ChannelEmail {
			m.Subject = subject
		}
		msgs = append(msgs, m)
	}
	switch {
	case g.chat != "" && g.wants(notify.ChannelBot):
		add(notify.ChannelBot, g.chat)
	case g.wants(notify.ChannelSMS):
		add(notify.ChannelSMS, g.phone)
	}
	if g.email != "" && g.wants(notify.ChannelEmail) {
		add(notify.ChannelEmail, g.email)
	}
	if n.WebhookURL != "" && g.wants(notify.ChannelWebhook) {
		add(notify.ChannelWebhook, n.WebhookURL)
	}
	if g.wants(notify.ChannelWebPush) {
		for _, t := range g.push {
			m := base
			if t.lang != base.Language {
				body, err := notify.Render(t.lang, base.Kind, v)
				if err != nil {
					return nil, err
				}
				m.Body, m.Language = body, t.lang
			}
			m.Channel, m.Recipient = notify.ChannelWebPush, strconv.FormatInt(t.id, 10)
			m.Key = keyPrefix + string(notify.ChannelWebPush) + "/" + m.Recipient
			msgs = append(msgs, m)
		}
	}
	return msgs, nil
}

// quiet reports whether an instant falls in quiet hours.
func (n *Notifier) quiet(at time.Time) bool {
	if n.QuietFrom == n.QuietTo {
		return false
	}
	h := kztime.Today(at).Hour()
	if n.QuietFrom > n.QuietTo {
		return h >= n.QuietFrom || h < n.QuietTo
	}
	return h >= n.QuietFrom && h < n.QuietTo
}

// worthTelling applies the day's rules to the candidates: the first entry
// of the day is told, and an exit not within Bounce of an earlier exit. It
// runs before presence is updated with these passes, so each pupil's
// presence row is the day as it was before them: the first entry and the
// last exit so far. Events in time order need nothing more; only an exit
// older than the last one already stored (a controller's late backlog)
// reads the passes around it.
func (n *Notifier) worthTelling(ctx context.Context, tx *store.Tx, ps []Pass) ([]Pass, error) {
	if len(ps) == 0 {
		return nil, nil
	}
	type key struct {
		pupil int64
		day   string
	}
	type day struct{ firstIn, lastOut int64 }
	state := map[key]*day{}
	var ids []int64
	var days []any
	seenID, seenDay := map[int64]bool{}, map[string]bool{}
	for _, p := range ps {
		if !seenID[p.PersonID] {
			seenID[p.PersonID] = true
			ids = append(ids, p.PersonID)
		}
		if d := Day(p.At); !seenDay[d] {
			seenDay[d] = true
			days = append(days, d)
		}
	}
	dph := store.Placeholders(len(days))
	err := store.InBatches(ids, store.InList, func(ph string, part []any) error {
		return store.Each(ctx, tx, func(rows *sql.Rows) error {
			var k key
			var in, out sql.NullInt64
			if err := rows.Scan(&k.pupil, &k.day, &in, &out); err != nil {
				return err
			}
			state[k] = &day{firstIn: in.Int64, lastOut: out.Int64}
			return nil
		}, "SELECT person_id, day, first_in, last_out FROM presence WHERE person_kind = 'pupil' AND person_id IN ("+ph+") AND day IN ("+dph+")",
			append(part, days...)...)
	})
	if err != nil {
		return nil, err
	}
	bounce := n.Bounce.Microseconds()
	var out []Pass
	var late []Pass        // exits older than the last stored one
	for _, p := range ps { // in time order
		at := store.Micros(p.At)
		k := key{p.PersonID, Day(p.At)}
		st := state[k]
		if st == nil {
			st = &day{}
			state[k] = st
		}
		if p.Direction == In {
			// The day's first recorded entry is told; an older one that
			// arrives later (a backlog) is not told again.
			if st.firstIn == 0 {
				out = append(out, p)
			}
			if st.firstIn == 0 || at < st.firstIn {
				st.firstIn = at
			}
			continue
		}
		switch {
		case st.lastOut == 0 || at-st.lastOut > bounce:
			out = append(out, p)
			st.lastOut = at
		case at < st.lastOut:
			late = append(late, p)
		default:
			st.lastOut = at // folded into the exit just before
		}
	}
	if len(late) == 0 {
		return out, nil
	}
	told, err := n.lateExits(ctx, tx, late)
	if err != nil {
		return nil, err
	}
	out = append(out, told...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out, nil
}

// lateExits tells the exits that arrived after a later one had been stored
// when no other exit lies within Bounce before them.
func (n *Notifier) lateExits(ctx context.Context, tx *store.Tx, late []Pass) ([]Pass, error) {
	var out []Pass
	for _, p := range late {
		at := store.Micros(p.At)
		var other int
		// Exits before it within Bounce; of two at the same instant the
		// one stored first counts as earlier.
		err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM passes WHERE person_id = ? AND at >= ? AND (at < ? OR (at = ? AND id < ?)) AND person_kind = 'pupil' AND direction = 'out'",
			p.PersonID, at-n.Bounce.Microseconds(), at, at, p.ID).Scan(&other)
		if err != nil {
			return nil, err
		}
		if other == 0 {
			out = append(out, p)
		}
	}
	return out, nil
}

func dayBegin(t time.Time) time.Time {
	l := kztime.Today(t)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, kztime.Almaty)
}

// pupils loads the first names and consenting guardians of the pupils.
func (n *Notifier) pupils(ctx context.Context, tx *store.Tx, passes []Pass, today string) (map[int64]*pupilInfo, error) {
	ids := map[int64]bool{}
	var pupils []int64
	for _, p := range passes {
		if !ids[p.PersonID] {
			ids[p.PersonID] = true
			pupils = append(pupils, p.PersonID)
		}
	}
	out := map[int64]*pupilInfo{}
	err := store.InBatches(pupils, store.InList, func(ph string, args []any) error {
		return eachGuardian(ctx, tx, func(pid int64, first string, r recipient) error {
			pi := out[pid]
			if pi == nil {
				pi = &pupilInfo{firstName: first}
				out[pid] = pi
			}
			pi.guardians = append(pi.guardians, r)
			return nil
		}, "p.id IN ("+ph+")", today, args...)
	})
	return out, err
}

// eachGuardian hands fn each pupil matching cond (over pupils `p`) with
// each of the pupil's guardians who consent to messages on day, by pupil
// and then guardian, with their Web Push subscriptions.
func eachGuardian(ctx context.Context, q store.Querier, fn func(pupil int64, firstName string, g recipient) error, cond, day string, args ...any) error {
	// Read first: one connection's transaction runs one query at a time.
	push := map[int64][]pushTarget{}
	err := store.Each(ctx, q, func(rows *sql.Rows) error {
		var g int64
		var t pushTarget
		if err := rows.Scan(&g, &t.id, &t.lang); err != nil {
			return err
		}
		push[g] = append(push[g], t)
		return nil
	}, `SELECT DISTINCT s.guardian_id, s.id, s.language FROM push_subscriptions s
		JOIN pupil_guardians pg ON pg.guardian_id = s.guardian_id JOIN pupils p ON p.id = pg.pupil_id
		WHERE `+cond+` ORDER BY s.guardian_id, s.id`, args...)
	if err != nil {
		return err
	}
	return store.Each(ctx, q, func(rows *sql.Rows) error {
		var pid int64
		var first string
		var r recipient
		if err := rows.Scan(&pid, &first, &r.guardian, &r.phone, &r.email, &r.chat, &r.lang, &r.off); err != nil {
			return err
		}
		r.push = push[r.guardian]
		return fn(pid, first, r)
	}, `SELECT p.id, p.first_name, g.id, g.phone, g.email, g.messenger_id, g.language, g.channels_off
		FROM pupils p JOIN pupil_guardians pg ON pg.pupil_id = p.id JOIN guardians g ON g.id = pg.guardian_id
		WHERE `+cond+` AND g.consent_given_on IS NOT NULL AND g.consent_given_on <= ?
		AND (g.consent_withdrawn_on IS NULL OR g.consent_withdrawn_on > ?) ORDER BY p.id, g.id`, append(args, day, day)...)
}
