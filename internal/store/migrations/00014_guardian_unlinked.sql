-- A guardian taken off the list of their last child (by an edit or an
-- import) is kept for a while, so that a mistaken file can be put right
-- by importing the correct one without losing the guardian's consent
-- dates, channel settings and sign-in; unlinked_at says since when they
-- have had no child. The housekeeping deletes them after --keep-unlinked.
-- An erasure deletes at once.

-- +goose Up
ALTER TABLE guardians ADD COLUMN unlinked_at BIGINT;
CREATE INDEX guardians_unlinked ON guardians(unlinked_at) WHERE unlinked_at IS NOT NULL;

-- +goose Down
DROP INDEX guardians_unlinked;
ALTER TABLE guardians DROP COLUMN unlinked_at;
