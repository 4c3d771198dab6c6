-- +goose NO TRANSACTION

-- A retransmission is caught within a window, not for ever. A DC-09 panel
-- numbers its messages 0001–9999 and starts again, and it may stamp a retry
-- anew, so a retry is the same source, account, sequence and content (the
-- timestamp left out) within a bounded time of the first copy, and the same
-- four after that time are a new message. The key that caught every copy
-- for good, UNIQUE (source, account, sequence, digest), becomes a unique
-- index over the rows that still catch copies:
--   retry_until  until when (receiver time, µs) a copy of this signal is its
--                retransmission; NULL: always (an event id that is never
--                reused, as devices on HTTP and MQTT and the console send).
--   reused_by    the later signal that came with the same four after
--                retry_until; this row then catches copies no more.
-- Rows stored before this upgrade keep NULL in both: their digests were made
-- with the timestamp and match no new one.
-- On SQLite the table is rebuilt (its UNIQUE constraint cannot be dropped),
-- foreign keys off as in 00012; PostgreSQL drops the constraint.

-- +goose Up
{{if sqlite}}
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;

CREATE TABLE signals_new (
    id           {{id}},
    source       TEXT NOT NULL,              -- dc09, http, mqtt, staff
    account      TEXT NOT NULL,              -- DC-09 account, device id or user login
    sequence     TEXT NOT NULL,
    digest       TEXT NOT NULL,              -- SHA-256 of the content that makes a copy the same message
    device_id    BIGINT,
    school_id    BIGINT,
    received_at  BIGINT NOT NULL,
    committed_at BIGINT NOT NULL,
    remote       TEXT NOT NULL DEFAULT '',
    raw          TEXT NOT NULL DEFAULT '',
    retry_until  BIGINT,
    reused_by    BIGINT
);
INSERT INTO signals_new (id, source, account, sequence, digest, device_id, school_id, received_at, committed_at, remote, raw)
    SELECT id, source, account, sequence, digest, device_id, school_id, received_at, committed_at, remote, raw FROM signals;
DROP TABLE signals;
ALTER TABLE signals_new RENAME TO signals;
CREATE UNIQUE INDEX signals_retransmission ON signals(source, account, sequence, digest) WHERE reused_by IS NULL;

COMMIT;
PRAGMA foreign_keys = ON;
{{else}}
BEGIN;
ALTER TABLE signals ADD COLUMN retry_until BIGINT;
ALTER TABLE signals ADD COLUMN reused_by BIGINT;
CREATE UNIQUE INDEX signals_retransmission ON signals(source, account, sequence, digest) WHERE reused_by IS NULL;
ALTER TABLE signals DROP CONSTRAINT signals_source_account_sequence_digest_key;
COMMIT;
{{end}}

-- +goose Down
-- No way back: the old key cannot hold a sequence number used twice.
SELECT 1;
