-- Notifications: the outbox. A message row is written in the same
-- transaction as what caused it (a pass, an emergency), then claimed in
-- batches by the delivery workers of any node. Instants are BIGINT UTC
-- microseconds.

-- +goose Up
CREATE TABLE outbox (
    id              {{id}},
    idempotency_key TEXT NOT NULL UNIQUE,   -- built by the caller: pass, guardian and channel; sent to providers
    channel         TEXT NOT NULL,          -- webhook, email, sms, bot
    recipient       TEXT NOT NULL,          -- URL, e-mail address, phone, chat id
    kind            TEXT NOT NULL DEFAULT '', -- what the message tells: pupil.entered, emergency, …
    subject         TEXT NOT NULL DEFAULT '',
    body            TEXT NOT NULL,
    language        TEXT NOT NULL,          -- kk, ru, en
    school_id       BIGINT NOT NULL,        -- no foreign key: the delivery record outlives registry edits
    pupil_id        BIGINT,
    status          TEXT NOT NULL DEFAULT 'pending', -- pending, sending, sent, dead
    attempts        INTEGER NOT NULL DEFAULT 0,
    -- When the row may next be claimed: the first or next attempt of a
    -- pending message, the end of the lease of one being sent (so a lease
    -- that runs out makes the message due again without a second index).
    next_attempt_at BIGINT NOT NULL,
    lease_owner     TEXT,
    lease_until     BIGINT,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT,                 -- not sent after this (a stale "entered at 07:52"); NULL: never stale
    sent_at         BIGINT
);
-- The claim query: due rows in order, finished rows not in the index at all.
CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE status IN ('pending', 'sending');
-- The school's delivery-status view and failure list.
CREATE INDEX outbox_school ON outbox(school_id, created_at);

-- +goose Down
DROP TABLE outbox;
