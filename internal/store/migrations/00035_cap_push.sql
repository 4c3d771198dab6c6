-- How far the CAP webhook has been told: the last emergency step whose
-- alert it took (one row). A step is pushed once its alert is accepted; a
-- push that fails is tried again from there.

-- +goose Up
CREATE TABLE cap_push (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    last_step_id BIGINT NOT NULL
);

-- +goose Down
DROP TABLE cap_push;
