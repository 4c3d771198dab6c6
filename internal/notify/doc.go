// Package notify tells guardians and schools' systems what happened: a
// durable outbox in the store, delivery workers, the channels (signed
// webhook, e-mail over SMTP, SMS through an HTTP gateway, a Telegram Bot
// API–compatible messenger bot) and the message texts in Kazakh, Russian and
// English.
//
// # One mechanism on both stores
//
// A message is a row of the outbox table written by Enqueue inside the
// transaction of what caused it (a pass, an emergency), so it exists
// exactly when its cause was committed: nothing is lost between the two.
// Workers on any node claim due rows in batches with one UPDATE … RETURNING
// (on PostgreSQL its subquery takes FOR UPDATE SKIP LOCKED, so nodes claim
// disjoint rows), deliver them concurrently and record the outcomes in
// batches: sent, a retry after exponential backoff with jitter, or a dead
// letter after a permanent error or too many attempts. A worker claims
// ahead of its delivery slots and records the outcomes gathered since its
// last claim in the next claim's transaction, so that at the morning peak
// it takes few turns on SQLite's one writer, each carrying many messages. A claim is a lease:
// when the node dies the lease runs out and the message is due again.
// River was measured for this and rejected: on SQLite it completes jobs one
// row at a time on the single writer (about 1,400 jobs/s), short of the
// morning peak; the batched outbox is the same code on both engines.
//
// # What "never twice" means here
//
// The same message is stored once: its idempotency key (built by the caller
// from the pass, the guardian and the channel) is UNIQUE, and Enqueue skips
// a key it has, so a device's resend or a replayed batch notifies nobody
// again.
//
// Delivery is at least once, not exactly once. Between a provider accepting
// a message and the outbox marking it sent there is a window — the network
// answer, the worker's batched write — and a crash in it leaves the row
// "sending"; when the lease runs out another worker sends it again.
// Against that second copy the key goes to every provider that can use it:
//
//   - webhook: the Idempotency-Key header and the body's "id" (the body, and
//     so its signature, are the same bytes on every attempt);
//   - SMS: the gateway's idempotency parameter and the Idempotency-Key
//     header, for gateways that deduplicate;
//   - e-mail: a Message-ID derived from the key, the same on every attempt,
//     by which mail systems and clients recognise a copy.
//
// The messenger bot cannot: the Telegram Bot API's sendMessage has no
// idempotency key, so a crash inside that window may show the guardian the
// same text twice. A webhook receiver or SMS gateway that ignores the key
// may do the same. What is guaranteed is that no message is lost once its
// cause is committed (until it is dead-lettered, which the school sees) and
// that a repeat carries the same key.
//
// A graceful stop leaves no such window: Worker.Run, when its context ends,
// claims nothing more, lets the sends in flight finish (each within its
// SendTimeout, which the stop does not shorten), records their outcomes and
// releases the messages it claimed but had not begun to send, so the next
// worker takes them at once and nothing is sent twice. Only a send that
// runs out its SendTimeout is retried without its answer known, as it is
// at any other time.
package notify
