-- A raised alarm's live event (live_events, kind alarm.raised) is stored
-- with an empty payload from this version on: the feed builds the alarm
-- as raised from its row (alarm.Service.Feed, fillRaised). A binary from
-- before would send such an event to the consoles empty, so this version
-- number is what makes an older binary refuse the database (store.Migrate).
-- The schema itself does not change; going down does not give the events
-- stored since then their JSON back.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
