-- Registry: the country's regions and districts, schools, the people in them,
-- their devices, the security providers and police units that answer alarms.
-- Instants are BIGINT UTC microseconds; calendar dates are TEXT 'YYYY-MM-DD'.

-- +goose Up
CREATE TABLE regions (
    code     TEXT PRIMARY KEY,          -- KATO, 9 digits
    name_kk  TEXT NOT NULL,
    name_ru  TEXT NOT NULL,
    name_en  TEXT NOT NULL
);

CREATE TABLE districts (
    code        TEXT PRIMARY KEY,       -- KATO, 9 digits
    region_code TEXT NOT NULL REFERENCES regions(code),
    name_kk     TEXT NOT NULL,
    name_ru     TEXT NOT NULL,
    name_en     TEXT NOT NULL
);
CREATE INDEX districts_region ON districts(region_code);

CREATE TABLE schools (
    id              {{id}},
    code            TEXT NOT NULL UNIQUE,   -- external key, stable across imports
    bin             TEXT,                   -- own BIN, 12 digits, optional
    parent_bin      TEXT,                   -- parent organisation's BIN when it has none
    name_kk         TEXT NOT NULL,
    name_ru         TEXT NOT NULL,
    region_code     TEXT NOT NULL REFERENCES regions(code),
    district_code   TEXT REFERENCES districts(code),
    address         TEXT NOT NULL DEFAULT '',
    lat             {{double}},
    lon             {{double}},
    urban           BOOLEAN NOT NULL DEFAULT FALSE,
    regional_centre BOOLEAN NOT NULL DEFAULT FALSE,
    shifts          TEXT NOT NULL DEFAULT '[]', -- JSON: [{"start":"08:00","end":"13:00"}, …]
    headcount       INTEGER NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX schools_bin ON schools(bin) WHERE bin IS NOT NULL;
CREATE INDEX schools_region ON schools(region_code, id);
CREATE INDEX schools_district ON schools(district_code, id);

CREATE TABLE pupils (
    id          {{id}},
    school_id   BIGINT NOT NULL REFERENCES schools(id),
    external_id TEXT NOT NULL,              -- the school's own key for the pupil
    last_name   TEXT NOT NULL,
    first_name  TEXT NOT NULL,
    middle_name TEXT NOT NULL DEFAULT '',
    class       TEXT NOT NULL,
    card_uid    TEXT,
    phone_token TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (school_id, external_id)
);
CREATE UNIQUE INDEX pupils_card ON pupils(school_id, card_uid) WHERE card_uid IS NOT NULL;
CREATE UNIQUE INDEX pupils_phone_token ON pupils(phone_token) WHERE phone_token IS NOT NULL;

CREATE TABLE guardians (
    id                   {{id}},
    phone                TEXT NOT NULL UNIQUE,  -- E.164, the external key
    full_name            TEXT NOT NULL,
    email                TEXT NOT NULL DEFAULT '',
    messenger_id         TEXT NOT NULL DEFAULT '',
    language             TEXT NOT NULL DEFAULT 'kk',
    consent_given_on     TEXT,
    consent_withdrawn_on TEXT,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);

CREATE TABLE pupil_guardians (
    pupil_id    BIGINT NOT NULL REFERENCES pupils(id),
    guardian_id BIGINT NOT NULL REFERENCES guardians(id),
    relation    TEXT NOT NULL DEFAULT '',
    may_collect BOOLEAN NOT NULL DEFAULT TRUE,
    PRIMARY KEY (pupil_id, guardian_id)
);
CREATE INDEX pupil_guardians_guardian ON pupil_guardians(guardian_id);

CREATE TABLE staff (
    id          {{id}},
    school_id   BIGINT NOT NULL REFERENCES schools(id),
    external_id TEXT NOT NULL,
    full_name   TEXT NOT NULL,
    position    TEXT NOT NULL,
    phone       TEXT NOT NULL DEFAULT '',
    card_uid    TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (school_id, external_id)
);

CREATE TABLE devices (
    id                   {{id}},
    school_id            BIGINT NOT NULL REFERENCES schools(id),
    kind                 TEXT NOT NULL,     -- turnstile, panic_button, alarm_panel, camera, metal_detector, public_address
    name                 TEXT NOT NULL,
    place                TEXT NOT NULL DEFAULT '',
    dc09_account         TEXT UNIQUE,
    dc09_key             {{blob}},          -- raw AES key bytes (16, 24 or 32)
    mqtt_client_id       TEXT UNIQUE,
    reporting_interval_s INTEGER NOT NULL DEFAULT 0, -- supervision; 0 = not supervised
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
CREATE INDEX devices_school ON devices(school_id, id);

-- Device HTTP credentials live apart from people's: a device can send events
-- and do nothing else.
CREATE TABLE device_credentials (
    device_id   BIGINT PRIMARY KEY REFERENCES devices(id),
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);

CREATE TABLE providers (
    id              {{id}},
    name            TEXT NOT NULL,
    bin             TEXT NOT NULL UNIQUE,
    licence_no      TEXT NOT NULL,
    licence_uto     BOOLEAN NOT NULL DEFAULT FALSE, -- sub-type that covers УТО objects
    licence_expires TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);

CREATE TABLE contracts (
    id          {{id}},
    provider_id BIGINT NOT NULL REFERENCES providers(id),
    school_id   BIGINT NOT NULL REFERENCES schools(id),
    starts_on   TEXT NOT NULL,
    ends_on     TEXT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX contracts_school ON contracts(school_id, starts_on);
CREATE INDEX contracts_provider ON contracts(provider_id, school_id);

-- A police Operations Control Centre (ЦОУ) and its jurisdiction: a whole
-- region or city, or one district of it.
CREATE TABLE police_units (
    id            {{id}},
    name_kk       TEXT NOT NULL,
    name_ru       TEXT NOT NULL,
    region_code   TEXT NOT NULL REFERENCES regions(code),
    district_code TEXT REFERENCES districts(code),
    created_at    BIGINT NOT NULL
);
CREATE INDEX police_units_region ON police_units(region_code);

-- +goose Down
DROP TABLE police_units;
DROP TABLE contracts;
DROP TABLE providers;
DROP TABLE device_credentials;
DROP TABLE devices;
DROP TABLE staff;
DROP TABLE pupil_guardians;
DROP TABLE guardians;
DROP TABLE pupils;
DROP TABLE schools;
DROP TABLE districts;
DROP TABLE regions;
