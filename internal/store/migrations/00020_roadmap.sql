-- The roadmap: requirement rule sets as data (loaded from the files shipped
-- in the binary), what a school declares that Qorgan cannot see yet, monthly
-- and seeded snapshots of the indicators, targets, and funding.
-- Dates are TEXT 'YYYY-MM-DD'; money is BIGINT tiyn (1 ₸ = 100 tiyn).

-- +goose Up
CREATE TABLE roadmap_rule_sets (
    id             TEXT PRIMARY KEY,
    effective_from TEXT NOT NULL UNIQUE,
    title          TEXT NOT NULL,
    body           TEXT NOT NULL,         -- the rule set as shipped (JSON); never changed once loaded
    loaded_at      BIGINT NOT NULL
);

-- What a school declares: its cameras' connection to the ЦОУ (until live
-- probes verify it), whether its video meets the standard, its archive.
CREATE TABLE roadmap_declarations (
    school_id      BIGINT PRIMARY KEY REFERENCES schools(id),
    cou_connected  BOOLEAN NOT NULL DEFAULT FALSE,
    video_standard BOOLEAN NOT NULL DEFAULT FALSE,
    archive_days   INTEGER NOT NULL DEFAULT 0,
    declared_at    BIGINT NOT NULL
);

-- A snapshot is live (computed from the store on a day) or seeded (a
-- published figure, with its source); the two are never mixed in one.
CREATE TABLE roadmap_snapshots (
    id         {{id}},
    taken_on   TEXT NOT NULL,
    origin     TEXT NOT NULL,             -- live, seeded
    source     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (origin, taken_on, source)
);

-- One figure: a place (nation, region, district), an indicator key, the
-- count having it among the count required, or only a published share.
-- share_bp is basis points (8100 = 81%); qualifier "over" marks «свыше».
CREATE TABLE roadmap_figures (
    snapshot_id BIGINT NOT NULL REFERENCES roadmap_snapshots(id),
    level       TEXT NOT NULL,
    code        TEXT NOT NULL,            -- '' for the nation
    indicator   TEXT NOT NULL,
    required_n  INTEGER,
    having_n    INTEGER,
    share_bp    INTEGER,
    measured    BOOLEAN NOT NULL DEFAULT TRUE,
    qualifier   TEXT NOT NULL DEFAULT '',
    note        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (snapshot_id, level, code, indicator)
);
CREATE INDEX roadmap_figures_place ON roadmap_figures(level, code, indicator);

CREATE TABLE roadmap_targets (
    id         {{id}},
    indicator  TEXT NOT NULL,
    level      TEXT NOT NULL,             -- nation, region, district
    code       TEXT NOT NULL DEFAULT '',
    share_bp   INTEGER NOT NULL,
    deadline   TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (indicator, level, code, deadline)
);

CREATE TABLE roadmap_allocations (
    id          {{id}},
    region_code TEXT NOT NULL REFERENCES regions(code),
    year        INTEGER NOT NULL,
    purpose     TEXT NOT NULL,
    amount_tiyn BIGINT NOT NULL,
    source      TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);
CREATE INDEX roadmap_allocations_region ON roadmap_allocations(region_code, year);

CREATE TABLE roadmap_spending (
    id          {{id}},
    school_id   BIGINT NOT NULL REFERENCES schools(id),
    year        INTEGER NOT NULL,
    purpose     TEXT NOT NULL,
    amount_tiyn BIGINT NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);
CREATE INDEX roadmap_spending_school ON roadmap_spending(school_id, year);

-- +goose Down
DROP TABLE roadmap_spending;
DROP TABLE roadmap_allocations;
DROP TABLE roadmap_targets;
DROP TABLE roadmap_figures;
DROP TABLE roadmap_snapshots;
DROP TABLE roadmap_declarations;
DROP TABLE roadmap_rule_sets;
