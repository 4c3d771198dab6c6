-- Due messages are claimed channel by channel, each up to its share of the
-- worker's deliveries in flight, so that a slow or failing provider (an SMS
-- gateway timing out) cannot take every delivery slot from the others. The
-- due index leads with the channel for that; it replaces the one without.

-- +goose Up
DROP INDEX outbox_due;
CREATE INDEX outbox_channel_due ON outbox(channel, next_attempt_at) WHERE status IN ('pending', 'sending');

-- +goose Down
DROP INDEX outbox_channel_due;
CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE status IN ('pending', 'sending');
