package alarm

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"math"
	"time"

	"qorgan/internal/store"
)

// window is the retransmission window of a single-writer database
// (SQLite): the signals whose RetryWindow is still open, kept by the
// writer instead of in a unique index. In an alarm storm that index took
// one entry per panel per commit, each on the leaf page of its panel's
// account — two fifths of the bytes an alarm wrote — where this costs a
// map entry. The rule is the same: a signal with the key (source, account,
// sequence, digest) of one remembered here is its retransmission when it
// was received before the first one's window ended, and a new message, the
// number come round again, from then on (migration 00037).
//
// Only write transactions use it, one at a time: the database's single
// writer is its lock, and a transaction that does not commit takes its
// changes back before the next one begins (Tx.OnRollback). It is read from
// the signals whose window is open the first time a transaction needs it,
// so a restart forgets nothing, and read back again for a copy that comes
// so late that what would catch it may have been forgotten (forgotBefore).
// PostgreSQL, where several nodes may write at once, keeps deciding in its
// unique index, and has no window.
type window struct {
	loaded bool
	// forgotBefore (µs): every stored signal whose window ends after it is
	// in open. One whose window ended earlier may have been forgotten, so a
	// copy received before it has them read back first: a frame can wait
	// in the receiver's queue for as long as the store stalls.
	forgotBefore int64
	open         map[windowKey]windowEntry
	// queue holds what open got, in the order it got it, from head on;
	// it is how entries are forgotten once their window is well over.
	queue []queuedEntry
	head  int
}

// windowKey is the first half of the SHA-256 of a signal's key: 128 bits,
// so that two keys sharing one among the million or so a storm keeps open
// would take more signals than will ever be sent, and half the memory a
// full hash takes in the map and the queue.
type windowKey [16]byte

type windowEntry struct {
	id    int64 // the signal
	until int64 // its window's end, µs (retry_until)
}

type queuedEntry struct {
	key windowKey
	windowEntry
}

// windowSlack is how long after a signal's window ended it is still
// remembered, counted back from the earliest of now and the batch's oldest
// reception: the signal that reuses its number names it in reused_by
// within this time. A signal is read back at start if its window ended
// less than this before.
const windowSlack = time.Minute

// openWindows reads the signals whose window ended in (from, to], in the
// order their windows end (the index signals_open_window).
const openWindows = "SELECT id, source, account, sequence, digest, retry_until FROM signals WHERE retry_until > ? AND retry_until <= ? AND reused_by IS NULL ORDER BY retry_until"

// keptWindow is the key of the window kept with a database (store.Keep).
type keptWindow struct{}

// windowOf returns the database's window, nil when the database decides
// (PostgreSQL). It fails while another handle or process is the file's
// writer (store.DB.SoleWriter): its window would not know this one's
// signals.
func windowOf(db *store.DB) (*window, error) {
	if !db.SingleWriter() {
		return nil, nil
	}
	if err := db.SoleWriter(); err != nil {
		return nil, err
	}
	return db.Keep(keptWindow{}, func() any { return &window{open: map[windowKey]windowEntry{}} }).(*window), nil
}

// keyOf is the window's key for k.
func keyOf(k signalKey) windowKey {
	var buf [128]byte
	b := buf[:0]
	for _, s := range [...]string{k.source, k.account, k.sequence, k.digest} {
		b = append(append(b, s...), 0)
	}
	sum := sha256.Sum256(b)
	var key windowKey
	copy(key[:], sum[:])
	return key
}

// prepare makes the window answer for copies received from oldest on (the
// batch's earliest reception of a signal with a window; zero for none):
// the first time it reads the open windows back, and when oldest comes
// before what may have been forgotten it reads that stretch back. Then it
// forgets the windows that ended more than windowSlack before the earliest
// of now and oldest.
func (w *window) prepare(ctx context.Context, tx *store.Tx, now, oldest time.Time) error {
	from := now
	if !oldest.IsZero() && oldest.Before(from) {
		from = oldest
	}
	horizon := store.Micros(from.Add(-windowSlack))
	switch {
	case !w.loaded:
		if err := w.recall(ctx, tx, horizon, math.MaxInt64); err != nil {
			return err
		}
		w.loaded, w.forgotBefore = true, horizon
	case horizon < w.forgotBefore:
		if err := w.recall(ctx, tx, horizon, w.forgotBefore); err != nil {
			return err
		}
		w.forgotBefore = horizon
	}
	for w.head < len(w.queue) && w.queue[w.head].until <= horizon {
		q := w.queue[w.head]
		if w.open[q.key].id == q.id {
			delete(w.open, q.key)
		}
		w.forgotBefore = max(w.forgotBefore, q.until)
		w.queue[w.head] = queuedEntry{}
		w.head++
	}
	if w.head > 1024 && w.head > len(w.queue)/2 {
		w.queue = w.queue[:copy(w.queue, w.queue[w.head:])]
		w.head = 0
	}
	return nil
}

// recall reads back the stored signals whose window ended in (from, to]
// and remembers those their key has no later window for.
func (w *window) recall(ctx context.Context, tx *store.Tx, from, to int64) error {
	err := store.Each(ctx, tx, func(rows *sql.Rows) error {
		var k signalKey
		var e windowEntry
		if err := rows.Scan(&e.id, &k.source, &k.account, &k.sequence, &k.digest, &e.until); err != nil {
			return err
		}
		key := keyOf(k)
		if cur, ok := w.open[key]; !ok || cur.until < e.until {
			w.remember(key, e)
		}
		return nil
	}, openWindows, from, to)
	if err != nil {
		return fmt.Errorf("read the open retransmission windows: %w", err)
	}
	return nil
}

// remember records a stored signal's window.
func (w *window) remember(key windowKey, e windowEntry) {
	w.open[key] = e
	w.queue = append(w.queue, queuedEntry{key, e})
}

// changes records what a transaction changed, so that it can be taken
// back if the transaction does not commit.
type windowChanges struct {
	w      *window
	queued int // len(w.queue) when the transaction first changed it
	prev   []queuedEntry
	had    []bool
}

func (w *window) changes(tx *store.Tx) *windowChanges {
	c := &windowChanges{w: w, queued: len(w.queue)}
	tx.OnRollback(c.undo)
	return c
}

// remember is window.remember, undone with the transaction: prev and had
// are what the window held for key before (the caller has just looked).
func (c *windowChanges) remember(key windowKey, e, prev windowEntry, had bool) {
	c.prev = append(c.prev, queuedEntry{key, prev})
	c.had = append(c.had, had)
	c.w.remember(key, e)
}

func (c *windowChanges) undo() {
	for i := len(c.prev) - 1; i >= 0; i-- {
		if c.had[i] {
			c.w.open[c.prev[i].key] = c.prev[i].windowEntry
		} else {
			delete(c.w.open, c.prev[i].key)
		}
	}
	clear(c.w.queue[c.queued:])
	c.w.queue = c.w.queue[:c.queued]
}
