-- A signal keeps what it came in, byte for byte. DC-09 checks a frame's
-- CRC, not its characters: a panel may put a NUL, Windows-1251 text or
-- binary into its data, which PostgreSQL refuses in a TEXT column (SQLSTATE
-- 22021) and SQLite takes. So:
--   raw        the signal as text, for reading: what was received when that
--              is UTF-8 with no control character but tab, LF and CR (every
--              well-formed frame, every JSON event); otherwise the same with
--              the other bytes written as \xHH.
--   raw_bytes  NULL when raw is what was received; otherwise exactly what
--              was received.
-- Rows stored before this upgrade keep raw_bytes NULL: their raw is what was
-- received (on SQLite that may hold such bytes; PostgreSQL refused them).
-- A nullable column is added in place on both engines, no table is
-- rewritten: the upgrade holds up alarm intake no longer on a large table
-- than on a small one.

-- +goose Up
ALTER TABLE signals ADD COLUMN raw_bytes {{blob}};

-- +goose Down
ALTER TABLE signals DROP COLUMN raw_bytes;
