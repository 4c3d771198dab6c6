-- An alarm enters the consoles' scope indexes when it is resolved, not
-- when it is raised. alarms_school, alarms_provider and alarms_police took
-- one entry per alarm at its raise, each on the leaf page of its school,
-- ПЦН or ЦОУ: in an alarm storm every group commit wrote about one page of
-- each index per school, ПЦН and ЦОУ in it — two thirds of the bytes an
-- alarm wrote once the retransmission window left the database (00037).
-- The alarms not yet resolved are now found through alarms_open, whose
-- entries come in id order, so a commit's alarms land on its last page;
-- the consoles read that short list and keep the alarms of their scope.
-- The resolved ones, the history, keep an index per scope, written when a
-- person (or the device heard again) resolves the alarm, one at a time.
-- Queries over both read the two halves, each through its index
-- (alarm.scoped).

-- +goose Up
DROP INDEX alarms_school;
DROP INDEX alarms_provider;
DROP INDEX alarms_police;
CREATE INDEX alarms_open ON alarms(id) WHERE state <> 'resolved';
CREATE INDEX alarms_school ON alarms(school_id, id) WHERE state = 'resolved';
CREATE INDEX alarms_provider ON alarms(provider_id, id) WHERE state = 'resolved';
CREATE INDEX alarms_police ON alarms(police_unit_id, id) WHERE state = 'resolved';

-- +goose Down
DROP INDEX alarms_open;
DROP INDEX alarms_school;
DROP INDEX alarms_provider;
DROP INDEX alarms_police;
CREATE INDEX alarms_school ON alarms(school_id, id);
CREATE INDEX alarms_provider ON alarms(provider_id, id);
CREATE INDEX alarms_police ON alarms(police_unit_id, id);
