-- A guardian may switch message channels off (Law 94-V: only what the
-- person agreed to). Comma-separated channel names: bot, sms, email, webhook.

-- +goose Up
ALTER TABLE guardians ADD COLUMN channels_off TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE guardians DROP COLUMN channels_off;
