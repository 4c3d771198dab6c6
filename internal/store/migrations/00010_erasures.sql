-- An erased pupil's id is kept for a few minutes after the erasure, so that
-- a pass matched to the pupil just before the erasure committed, and
-- written just after it, is deleted too (the sweep runs every minute and
-- takes the rows older than the longest intake). Ids only: no name, no card.

-- +goose Up
CREATE TABLE erasures (
    pupil_id  BIGINT PRIMARY KEY,
    school_id BIGINT NOT NULL,
    erased_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE erasures;
