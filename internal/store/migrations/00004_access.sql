-- Access: every turnstile pass, reader tap and guard's manual pass, stored
-- once per device event; and presence per person and school day, kept by the
-- events' own time (a controller uploading its backlog late does not flip
-- who is inside now).

-- +goose Up
CREATE TABLE passes (
    id          {{id}},
    device_id   BIGINT NOT NULL,             -- 0 for a guard's manual pass
    school_id   BIGINT NOT NULL REFERENCES schools(id),
    event_id    TEXT NOT NULL,               -- the device's own id of the event
    at          BIGINT NOT NULL,             -- when it happened (the device's clock)
    received_at BIGINT NOT NULL,
    direction   TEXT NOT NULL,               -- in, out
    credential  TEXT NOT NULL,               -- card UID or phone token as presented
    person_kind TEXT NOT NULL,               -- pupil, staff, unknown
    person_id   BIGINT,
    manual      BOOLEAN NOT NULL DEFAULT FALSE,
    actor       TEXT NOT NULL DEFAULT ''     -- who recorded a manual pass
);
CREATE UNIQUE INDEX passes_event ON passes(school_id, device_id, event_id);
CREATE INDEX passes_school_at ON passes(school_id, at);

CREATE TABLE presence (
    person_kind TEXT NOT NULL,
    person_id   BIGINT NOT NULL,
    day         TEXT NOT NULL,               -- the school day, Asia/Almaty
    school_id   BIGINT NOT NULL,
    first_in    BIGINT,                      -- first arrival of the day
    last_out    BIGINT,                      -- last departure of the day
    last_at     BIGINT NOT NULL,             -- the newest event seen
    inside      BOOLEAN NOT NULL,            -- after the newest event
    PRIMARY KEY (person_kind, person_id, day)
);
CREATE INDEX presence_school_day ON presence(school_id, day);

-- +goose Down
DROP TABLE presence;
DROP TABLE passes;
