-- A session remembers when it was last used, so that one left idle past
-- --session-idle asks its person to sign in again. NULL: not used since it
-- was opened (created_at counts). Added in place on both engines.

-- +goose Up
ALTER TABLE sessions ADD COLUMN last_seen_at BIGINT;

-- +goose Down
ALTER TABLE sessions DROP COLUMN last_seen_at;
