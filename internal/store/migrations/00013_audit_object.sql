-- The audit trail is read by object ("everything done to pupil/12"),
-- newest first.

-- +goose Up
CREATE INDEX audit_object ON audit(object, seq);

-- +goose Down
DROP INDEX audit_object;
