-- A school-wide entry of the access log (pupil_id 0) that stands for a file
-- taken away, such as the export of a school's pupils, says how many
-- children's rows the file carried; 0 for every other entry.

-- +goose Up
ALTER TABLE access_log ADD COLUMN row_count BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE access_log DROP COLUMN row_count;
