-- A pupil's access log also reads the school-wide entries (roll-calls,
-- pupil_id 0) of the pupil's school, which would otherwise be found among
-- every school's.

-- +goose Up
CREATE INDEX access_log_school_wide ON access_log(school_id, at) WHERE pupil_id = 0;

-- +goose Down
DROP INDEX access_log_school_wide;
