-- Alarms: every signal received (DC-09 frame, device webhook, MQTT message,
-- a staff member's panic action), the alarms raised from them with their
-- routing and response record, the live feed consoles read, and device
-- supervision.

-- +goose Up
CREATE TABLE signals (
    id           {{id}},
    source       TEXT NOT NULL,              -- dc09, http, mqtt, staff
    account      TEXT NOT NULL,              -- DC-09 account, device id or user login
    sequence     TEXT NOT NULL,
    digest       TEXT NOT NULL,              -- SHA-256 of the content: a retransmission is stored once
    device_id    BIGINT,
    school_id    BIGINT,
    received_at  BIGINT NOT NULL,
    committed_at BIGINT NOT NULL,
    remote       TEXT NOT NULL DEFAULT '',
    raw          TEXT NOT NULL DEFAULT '',
    UNIQUE (source, account, sequence, digest)
);

CREATE TABLE alarms (
    id                 {{id}},
    signal_id          BIGINT REFERENCES signals(id),
    school_id          BIGINT NOT NULL REFERENCES schools(id),
    device_id          BIGINT,
    type               TEXT NOT NULL,        -- panic, duress, silent_panic, holdup, fire, medical, tamper, …
    code               TEXT NOT NULL DEFAULT '',
    description        TEXT NOT NULL DEFAULT '',
    zone               TEXT NOT NULL DEFAULT '',
    partition_no       TEXT NOT NULL DEFAULT '',
    priority           INTEGER NOT NULL,     -- 1 alarm, 2 trouble
    silent             BOOLEAN NOT NULL DEFAULT FALSE, -- never announced inside the school
    state              TEXT NOT NULL,        -- raised, acknowledged, dispatched, on_site, resolved
    resolution         TEXT NOT NULL DEFAULT '', -- real, false, test, technical
    notes              TEXT NOT NULL DEFAULT '',
    provider_id        BIGINT,               -- the ПЦН routed to
    police_unit_id     BIGINT,               -- the ЦОУ routed to
    received_at        BIGINT NOT NULL,
    committed_at       BIGINT NOT NULL,
    first_delivery_at  BIGINT,
    escalation_level   INTEGER NOT NULL DEFAULT 0,
    next_escalation_at BIGINT,               -- the persisted escalation timer; NULL when none runs
    resolved_at        BIGINT
);
CREATE INDEX alarms_school ON alarms(school_id, id);
CREATE INDEX alarms_timer ON alarms(next_escalation_at) WHERE next_escalation_at IS NOT NULL;
CREATE INDEX alarms_provider ON alarms(provider_id, id);
CREATE INDEX alarms_police ON alarms(police_unit_id, id);

-- The response record: who did which step, when.
CREATE TABLE alarm_steps (
    id       {{id}},
    alarm_id BIGINT NOT NULL REFERENCES alarms(id),
    at       BIGINT NOT NULL,
    party    TEXT NOT NULL,                  -- school, pcn, cou, system
    step     TEXT NOT NULL,                  -- acknowledged, dispatched, on_site, resolved, escalated
    user_id  BIGINT,
    detail   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX alarm_steps_alarm ON alarm_steps(alarm_id, id);
CREATE UNIQUE INDEX alarm_steps_ack ON alarm_steps(alarm_id, party) WHERE step = 'acknowledged';

-- What consoles are shown, in order; seq is the SSE event id.
CREATE TABLE live_events (
    seq            {{id}},
    at             BIGINT NOT NULL,
    kind           TEXT NOT NULL,            -- alarm.raised, alarm.acknowledged, alarm.escalated, …
    alarm_id       BIGINT NOT NULL,
    school_id      BIGINT NOT NULL,
    provider_id    BIGINT,
    police_unit_id BIGINT,
    silent         BOOLEAN NOT NULL DEFAULT FALSE,
    payload        TEXT NOT NULL
);
CREATE INDEX live_events_school ON live_events(school_id, seq);

-- Supervision: when each supervised device was last heard.
CREATE TABLE device_status (
    device_id     BIGINT PRIMARY KEY REFERENCES devices(id),
    last_seen_at  BIGINT NOT NULL,
    lost_alarm_id BIGINT                     -- the open "communication lost" alarm, if any
);

-- +goose Down
DROP TABLE device_status;
DROP TABLE live_events;
DROP TABLE alarm_steps;
DROP TABLE alarms;
DROP TABLE signals;
