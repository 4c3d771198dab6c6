-- People who sign in, their sessions and tokens, the access log of reads of
-- children's data, and the append-only, hash-chained audit trail.

-- +goose Up
CREATE TABLE users (
    id            {{id}},
    login         TEXT NOT NULL UNIQUE,
    full_name     TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL DEFAULT '',   -- argon2id, PHC string
    role          TEXT NOT NULL,
    scope_kind    TEXT NOT NULL,              -- nation, region, district, school, provider, police_unit, guardian, installation
    scope_ref     TEXT NOT NULL DEFAULT '',   -- KATO code or id, by scope_kind
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users(id),
    csrf_token  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id          {{id}},
    user_id     BIGINT NOT NULL REFERENCES users(id),
    name        TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT,
    revoked_at  BIGINT
);

-- Every read of a child's personal data by staff (Law 94-V, Art. 22).
CREATE TABLE access_log (
    id        {{id}},
    at        BIGINT NOT NULL,
    user_id   BIGINT NOT NULL,
    pupil_id  BIGINT NOT NULL,
    school_id BIGINT NOT NULL,
    action    TEXT NOT NULL
);
CREATE INDEX access_log_pupil ON access_log(pupil_id, at);
CREATE INDEX access_log_user ON access_log(user_id, at);
{{appendOnly "access_log"}}

-- Every change, in order, each row carrying the hash of the one before.
CREATE TABLE audit (
    seq       BIGINT PRIMARY KEY,
    at        BIGINT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    object    TEXT NOT NULL,
    detail    TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
{{appendOnly "audit"}}

-- The head of the chain, one row; updating it serialises appends across nodes.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');

CREATE TABLE imports (
    id          {{id}},
    kind        TEXT NOT NULL,       -- schools, pupils
    format      TEXT NOT NULL,       -- csv, xlsx
    status      TEXT NOT NULL,       -- running, done, rejected, failed
    total       INTEGER NOT NULL DEFAULT 0,
    processed   INTEGER NOT NULL DEFAULT 0,
    created     INTEGER NOT NULL DEFAULT 0,
    updated     INTEGER NOT NULL DEFAULT 0,
    unchanged   INTEGER NOT NULL DEFAULT 0,
    report      TEXT NOT NULL DEFAULT '',  -- JSON list of row/column problems
    user_id     BIGINT,
    school_id   BIGINT,
    created_at  BIGINT NOT NULL,
    finished_at BIGINT
);

-- +goose Down
DROP TABLE imports;
DROP TABLE audit_head;
DROP TABLE audit;
DROP TABLE access_log;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE users;
