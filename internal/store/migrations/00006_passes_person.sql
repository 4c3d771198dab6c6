-- The notification rules ask, per pass, for the same pupil's earlier passes
-- of the day: an index by person keeps that a lookup at morning-peak volume.

-- +goose Up
CREATE INDEX passes_person ON passes(person_id, at) WHERE person_id IS NOT NULL;

-- +goose Down
DROP INDEX passes_person;
