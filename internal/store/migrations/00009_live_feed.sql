-- The live feed is read forward from each console's cursor (the last event
-- it was shown, or the newest event it has looked past), so the per-school
-- index is not needed: every console, school, ПЦН or ЦОУ, reads the same
-- short range of new events. Dropping it takes one scattered index insert
-- off every alarm's commit.

-- +goose Up
DROP INDEX live_events_school;

-- +goose Down
CREATE INDEX live_events_school ON live_events(school_id, seq);
