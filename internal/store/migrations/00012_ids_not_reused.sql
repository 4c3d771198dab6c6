-- +goose NO TRANSACTION

-- Pupils, guardians and people's accounts can now be erased. SQLite gives
-- the highest id of a table again once its row is deleted, so the next new
-- pupil would take an erased pupil's id, and with it the erased child's
-- entries in the access log and the audit trail. AUTOINCREMENT keeps every
-- id for good; on SQLite the three tables are rebuilt with it (the usual
-- twelve steps: foreign keys off, copy, swap). PostgreSQL's
-- identity columns never give an id twice, and nothing changes there.
-- Each table's sequence starts above every id still referenced anywhere,
-- so that ids erased before this upgrade are not given again either.
-- (Should it fail half-way, the store is closed and the transaction rolled
-- back; foreign keys are on again for the next connection.)

-- +goose Up
{{if sqlite}}
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;

CREATE TABLE pupils_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    school_id   BIGINT NOT NULL REFERENCES schools(id),
    external_id TEXT NOT NULL,
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
INSERT INTO pupils_new (id, school_id, external_id, last_name, first_name, middle_name, class, card_uid, phone_token, created_at, updated_at)
    SELECT id, school_id, external_id, last_name, first_name, middle_name, class, card_uid, phone_token, created_at, updated_at FROM pupils;
DROP TABLE pupils;
ALTER TABLE pupils_new RENAME TO pupils;
CREATE UNIQUE INDEX pupils_card ON pupils(school_id, card_uid) WHERE card_uid IS NOT NULL;
CREATE UNIQUE INDEX pupils_phone_token ON pupils(phone_token) WHERE phone_token IS NOT NULL;
INSERT INTO sqlite_sequence (name, seq) SELECT 'pupils', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'pupils');
UPDATE sqlite_sequence SET seq = MAX(seq,
    COALESCE((SELECT MAX(pupil_id) FROM access_log), 0),
    COALESCE((SELECT MAX(pupil_id) FROM erasures), 0),
    COALESCE((SELECT MAX(person_id) FROM passes WHERE person_id IS NOT NULL), 0),
    COALESCE((SELECT MAX(pupil_id) FROM outbox), 0)) WHERE name = 'pupils';

CREATE TABLE guardians_new (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    phone                TEXT NOT NULL UNIQUE,
    full_name            TEXT NOT NULL,
    email                TEXT NOT NULL DEFAULT '',
    messenger_id         TEXT NOT NULL DEFAULT '',
    language             TEXT NOT NULL DEFAULT 'kk',
    consent_given_on     TEXT,
    consent_withdrawn_on TEXT,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    channels_off         TEXT NOT NULL DEFAULT ''
);
INSERT INTO guardians_new (id, phone, full_name, email, messenger_id, language, consent_given_on, consent_withdrawn_on, created_at, updated_at, channels_off)
    SELECT id, phone, full_name, email, messenger_id, language, consent_given_on, consent_withdrawn_on, created_at, updated_at, channels_off FROM guardians;
DROP TABLE guardians;
ALTER TABLE guardians_new RENAME TO guardians;
INSERT INTO sqlite_sequence (name, seq) SELECT 'guardians', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'guardians');
UPDATE sqlite_sequence SET seq = MAX(seq,
    COALESCE((SELECT MAX(CAST(scope_ref AS INTEGER)) FROM users WHERE scope_kind = 'guardian'), 0)) WHERE name = 'guardians';

CREATE TABLE users_new (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    login         TEXT NOT NULL UNIQUE,
    full_name     TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL DEFAULT '',
    role          TEXT NOT NULL,
    scope_kind    TEXT NOT NULL,
    scope_ref     TEXT NOT NULL DEFAULT '',
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
INSERT INTO users_new (id, login, full_name, password_hash, role, scope_kind, scope_ref, disabled, created_at, updated_at)
    SELECT id, login, full_name, password_hash, role, scope_kind, scope_ref, disabled, created_at, updated_at FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
INSERT INTO sqlite_sequence (name, seq) SELECT 'users', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'users');
UPDATE sqlite_sequence SET seq = MAX(seq,
    COALESCE((SELECT MAX(user_id) FROM access_log), 0),
    COALESCE((SELECT MAX(user_id) FROM imports), 0),
    COALESCE((SELECT MAX(user_id) FROM alarm_steps), 0)) WHERE name = 'users';

COMMIT;
PRAGMA foreign_keys = ON;
{{else}}
SELECT 1;
{{end}}

-- +goose Down
SELECT 1;
