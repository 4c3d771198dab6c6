-- Emergency mode (issue 14): emergencies declared for schools with the log
-- of their steps, the action algorithm's versions, who was told and who
-- confirmed, checklist ticks, the roll-call snapshot and its marks,
-- reunification, and the drill plans. Instants are BIGINT UTC microseconds.

-- +goose Up
-- What emergency messages and the class roll-call need to know of staff
-- and guardians: the language they read, the class a teacher leads, the
-- identity document a guardian shows at reunification.
ALTER TABLE staff ADD COLUMN language TEXT NOT NULL DEFAULT 'kk';
ALTER TABLE staff ADD COLUMN homeroom TEXT NOT NULL DEFAULT '';
ALTER TABLE guardians ADD COLUMN id_document TEXT NOT NULL DEFAULT '';

-- A court order barring an adult (by identity document) from a pupil.
CREATE TABLE court_orders (
    id          {{id}},
    pupil_id    BIGINT NOT NULL,                -- no foreign key: erasing a pupil is not held up here
    id_document TEXT NOT NULL,
    full_name   TEXT NOT NULL DEFAULT '',
    note        TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);
CREATE INDEX court_orders_pupil ON court_orders(pupil_id);

-- The action algorithm: every version whole, as JSON; the newest is used
-- by new emergencies, a declared one keeps its own.
CREATE TABLE emergency_algorithms (
    version    {{id}},
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    body       TEXT NOT NULL
);

CREATE TABLE emergencies (
    id                {{id}},
    incident          TEXT NOT NULL,          -- one declaration for several schools shares it
    school_id         BIGINT NOT NULL REFERENCES schools(id),
    state             TEXT NOT NULL,          -- pending, live, ended
    mode              TEXT NOT NULL,          -- hold, secure, lockdown, evacuate, shelter
    scenario          TEXT NOT NULL,
    place             TEXT NOT NULL DEFAULT '', -- the assembly point (evacuate), the hazard (shelter)
    drill             BOOLEAN NOT NULL DEFAULT FALSE,
    silent            BOOLEAN NOT NULL DEFAULT FALSE,
    algorithm_version BIGINT NOT NULL,
    alarm_id          BIGINT,                 -- the panic alarm it was proposed by
    declared_by       TEXT NOT NULL,
    declared_at       BIGINT NOT NULL,
    confirmed_by      TEXT NOT NULL DEFAULT '',
    confirmed_at      BIGINT,
    ended_by          TEXT NOT NULL DEFAULT '',
    ended_at          BIGINT,
    end_reason        TEXT NOT NULL DEFAULT '', -- all_clear, false_alarm
    staff_total       INTEGER NOT NULL DEFAULT 0, -- staff messages at the first announcement
    announced_step    BIGINT                  -- the step of that announcement (its messages' keys)
);
-- One open emergency per school: a second declaration changes it.
CREATE UNIQUE INDEX emergencies_open ON emergencies(school_id) WHERE state <> 'ended';
CREATE INDEX emergencies_school ON emergencies(school_id, declared_at);

-- The ordered log of an emergency's steps (each one a CAP alert).
CREATE TABLE emergency_steps (
    id           {{id}},
    emergency_id BIGINT NOT NULL REFERENCES emergencies(id),
    at           BIGINT NOT NULL,
    kind         TEXT NOT NULL,               -- declared, confirmed, updated, cancelled, all_clear
    actor        TEXT NOT NULL,
    mode         TEXT NOT NULL,
    scenario     TEXT NOT NULL,
    place        TEXT NOT NULL DEFAULT '',
    drill        BOOLEAN NOT NULL,
    silent       BOOLEAN NOT NULL
);
CREATE INDEX emergency_steps_emergency ON emergency_steps(emergency_id, id);

-- The school's staff at declaration: their checklist role, class, the
-- token their marks come with, and when they confirmed the room secured
-- or the class out.
CREATE TABLE emergency_staff (
    emergency_id BIGINT NOT NULL REFERENCES emergencies(id),
    staff_id     BIGINT NOT NULL,
    role         TEXT NOT NULL,
    homeroom     TEXT NOT NULL DEFAULT '',
    token_hash   TEXT NOT NULL UNIQUE,
    secured_at   BIGINT,
    PRIMARY KEY (emergency_id, staff_id)
);

-- Checklist ticks: who (a staff member or a signed-in person) ticked which step.
CREATE TABLE emergency_ticks (
    emergency_id BIGINT NOT NULL REFERENCES emergencies(id),
    who          TEXT NOT NULL,
    role         TEXT NOT NULL,
    step         INTEGER NOT NULL,
    at           BIGINT NOT NULL,
    PRIMARY KEY (emergency_id, who, role, step)
);

-- The roll-call: who presence said was inside at declaration, and the marks.
CREATE TABLE emergency_rollcall (
    emergency_id BIGINT NOT NULL REFERENCES emergencies(id),
    person_kind  TEXT NOT NULL,               -- pupil, staff, extra
    person_id    BIGINT NOT NULL,
    name         TEXT NOT NULL,
    class        TEXT NOT NULL DEFAULT '',
    inside       BOOLEAN NOT NULL,
    last_pass_at BIGINT,
    mark         TEXT NOT NULL DEFAULT '',    -- present, missing, injured, extra; '' unmarked
    marked_by    TEXT NOT NULL DEFAULT '',
    marked_at    BIGINT,
    PRIMARY KEY (emergency_id, person_kind, person_id)
);

-- Reunification: one row per adult's request for one child.
CREATE TABLE emergency_reunions (
    id            {{id}},
    emergency_id  BIGINT NOT NULL REFERENCES emergencies(id),
    pupil_id      BIGINT NOT NULL,
    guardian_id   BIGINT,
    adult_name    TEXT NOT NULL,
    state         TEXT NOT NULL,              -- waiting, fetching, released, refused
    reason        TEXT NOT NULL DEFAULT '',
    checked_in_at BIGINT NOT NULL,
    checked_in_by TEXT NOT NULL,
    runner        TEXT NOT NULL DEFAULT '',
    runner_at     BIGINT,
    released_at   BIGINT,
    released_by   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX emergency_reunions_emergency ON emergency_reunions(emergency_id, id);

-- Drills: the yearly plan per school and the briefings held.
CREATE TABLE drill_plans (
    school_id   BIGINT NOT NULL REFERENCES schools(id),
    school_year TEXT NOT NULL,                -- 2026-2027
    practical   INTEGER NOT NULL,
    briefings   INTEGER NOT NULL,
    PRIMARY KEY (school_id, school_year)
);
CREATE TABLE drill_briefings (
    id          {{id}},
    school_id   BIGINT NOT NULL REFERENCES schools(id),
    held_on     TEXT NOT NULL,
    topic       TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX drill_briefings_school ON drill_briefings(school_id, held_on);

-- +goose Down
DROP TABLE drill_briefings;
DROP TABLE drill_plans;
DROP TABLE emergency_reunions;
DROP TABLE emergency_rollcall;
DROP TABLE emergency_ticks;
DROP TABLE emergency_staff;
DROP TABLE emergency_steps;
DROP TABLE emergencies;
DROP TABLE emergency_algorithms;
DROP TABLE court_orders;
ALTER TABLE guardians DROP COLUMN id_document;
ALTER TABLE staff DROP COLUMN homeroom;
ALTER TABLE staff DROP COLUMN language;
