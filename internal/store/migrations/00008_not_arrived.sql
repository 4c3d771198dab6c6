-- A school may have guardians told, once a school day, that their child has
-- not been recorded entering by a time of day ("not arrived by 08:30"). Off
-- unless the school sets the time. Each day's check of a school is a row of
-- not_arrived_checks, inserted first in the check's transaction: it is the
-- claim that keeps a second run, a restart or another node from checking
-- the school twice that day, and the school's record of what was done.

-- +goose Up
ALTER TABLE schools ADD COLUMN not_arrived_at TEXT NOT NULL DEFAULT '';          -- 'HH:MM' Asia/Almaty; '' off
ALTER TABLE schools ADD COLUMN saturday_lessons BOOLEAN NOT NULL DEFAULT FALSE;   -- the timetable has no weekdays
-- The check looks, every minute, for the few schools with the rule on.
CREATE INDEX schools_not_arrived ON schools(id) WHERE not_arrived_at <> '';

CREATE TABLE not_arrived_checks (
    school_id  BIGINT NOT NULL,          -- no foreign key, like the outbox: a record
    day        TEXT NOT NULL,            -- the school day, Asia/Almaty
    checked_at BIGINT NOT NULL,
    pupils     INTEGER NOT NULL DEFAULT 0,
    arrived    INTEGER NOT NULL DEFAULT 0, -- pupils with a pass that day by the check
    queued     INTEGER NOT NULL DEFAULT 0, -- messages queued to guardians
    outcome    TEXT NOT NULL,            -- sent, too_few_arrived, several_shifts, quiet_hours
    PRIMARY KEY (school_id, day)
);

-- +goose Down
DROP TABLE not_arrived_checks;
DROP INDEX schools_not_arrived;
ALTER TABLE schools DROP COLUMN saturday_lessons;
ALTER TABLE schools DROP COLUMN not_arrived_at;
