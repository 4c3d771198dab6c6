-- On SQLite the DC-09 receiver's retransmission window is kept by the
-- writer, not by the unique index. Every commit of an alarm storm put one
-- entry in signals_retransmission per panel, each on its panel's own leaf
-- page: two fifths of the bytes an alarm wrote. SQLite has one writer, in
-- one process, so that process can remember which signals are within their
-- window (alarm's window.go) and decide with the same rule; it reads them
-- back at start from the signals whose window is still open, through the
-- new index signals_open_window, whose entries come in time order and go on
-- one page a commit, and again for a copy committed so late that what would
-- catch it may have been forgotten. The unique index keeps the signals that catch copies
-- for good (retry_until NULL: HTTP, MQTT, the console). On SQLite a DC-09
-- signal that reuses a number names the one before it in reused_by when the
-- writer still remembers it (up to a minute after its window); reused_by
-- kept that row out of the unique index, which no longer holds such rows.
-- PostgreSQL may have several nodes writing at once: there the database
-- still decides, and nothing changes. The conflict clause Qorgan writes,
-- WHERE reused_by IS NULL AND retry_until IS NULL, names this index on
-- SQLite and implies the wider one on PostgreSQL, which then arbitrates
-- every row as before.

-- +goose Up
{{if sqlite}}
DROP INDEX signals_retransmission;
CREATE UNIQUE INDEX signals_retransmission ON signals(source, account, sequence, digest) WHERE reused_by IS NULL AND retry_until IS NULL;
CREATE INDEX signals_open_window ON signals(retry_until) WHERE retry_until IS NOT NULL;
{{else}}
SELECT 1;
{{end}}

-- +goose Down
-- The index as before. Two rows of one key may both be open (a number
-- reused after the writer forgot its first copy, see above): each such
-- row first names the next one of its key in reused_by, as the wider
-- index needs, with a temporary index to find them.
{{if sqlite}}
DROP INDEX signals_open_window;
DROP INDEX signals_retransmission;
CREATE INDEX signals_down_00037 ON signals(source, account, sequence, digest, id);
UPDATE signals SET reused_by = (SELECT MIN(n.id) FROM signals n WHERE n.source = signals.source AND n.account = signals.account
        AND n.sequence = signals.sequence AND n.digest = signals.digest AND n.id > signals.id)
    WHERE reused_by IS NULL AND EXISTS (SELECT 1 FROM signals n WHERE n.source = signals.source AND n.account = signals.account
        AND n.sequence = signals.sequence AND n.digest = signals.digest AND n.id > signals.id);
DROP INDEX signals_down_00037;
CREATE UNIQUE INDEX signals_retransmission ON signals(source, account, sequence, digest) WHERE reused_by IS NULL;
{{else}}
SELECT 1;
{{end}}
