-- mcpca PostgreSQL schema 1: everything of SQLite schemas 1 to 4, in PostgreSQL types.
-- Instants are Unix seconds (BIGINT), hashes and keys BYTEA, booleans BOOLEAN. Table and
-- column names are those of the SQLite file, so rows copy across verbatim. Names and ids
-- compare in byte order (COLLATE "C"), as SQLite compares TEXT: lists, cursors and pages
-- come out in the same order from both backends.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BYTEA NOT NULL
);

CREATE TABLE keys (
    kid            TEXT PRIMARY KEY,
    state          TEXT NOT NULL CHECK (state IN ('next', 'active', 'retiring', 'retired', 'revoked')),
    public_key     BYTEA NOT NULL,
    sealed_private BYTEA,
    created_at     BIGINT NOT NULL,
    activated_at   BIGINT,
    retire_at      BIGINT,
    retired_at     BIGINT,
    -- Insertion order (SQLite's rowid), the tie-break of `ORDER BY created_at`.
    ord            BIGSERIAL NOT NULL
);
-- Exactly one key signs.
CREATE UNIQUE INDEX keys_one_active ON keys (state) WHERE state = 'active';

CREATE TABLE servers (
    name              TEXT COLLATE "C" PRIMARY KEY,
    status            TEXT NOT NULL,
    status_reason     TEXT,
    status_changed_at BIGINT NOT NULL,
    verified          BOOLEAN NOT NULL DEFAULT FALSE,
    max_ttl           BIGINT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX servers_updated ON servers (updated_at);

CREATE TABLE server_versions (
    name              TEXT COLLATE "C" NOT NULL REFERENCES servers (name),
    version           TEXT COLLATE "C" NOT NULL,
    document          TEXT NOT NULL,
    endpoint          TEXT,
    status            TEXT NOT NULL,
    status_reason     TEXT,
    status_changed_at BIGINT NOT NULL,
    published_at      BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    is_latest         BOOLEAN NOT NULL DEFAULT FALSE,
    -- Insertion order (SQLite's rowid), the tie-break of `ORDER BY published_at`.
    ord               BIGSERIAL NOT NULL,
    PRIMARY KEY (name, version)
);
CREATE INDEX server_versions_latest ON server_versions (name, version) WHERE is_latest;
CREATE INDEX server_versions_updated ON server_versions (updated_at);

-- Every remote URL (canonical) of every version: a URL belongs to one server name.
CREATE TABLE remote_urls (
    url     TEXT NOT NULL,
    name    TEXT NOT NULL,
    version TEXT NOT NULL,
    PRIMARY KEY (url, name, version)
);

CREATE TABLE revocations (
    seq        BIGINT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('jti', 'server', 'client', 'key')),
    id         TEXT NOT NULL,
    revoked_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    reason     TEXT
);
CREATE INDEX revocations_expires ON revocations (expires_at);

CREATE TABLE clients (
    id            TEXT COLLATE "C" PRIMARY KEY,
    tenant        TEXT,
    allow         TEXT NOT NULL,          -- JSON array of patterns
    max_ttl       BIGINT,
    rate_per_min  BIGINT,
    status        TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
    status_reason TEXT,
    secret_hash   BYTEA NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE admin_tokens (
    id         TEXT PRIMARY KEY,
    name       TEXT,
    role       TEXT NOT NULL CHECK (role IN ('admin', 'reader')),
    token_hash BYTEA NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT,
    ord        BIGSERIAL NOT NULL
);

CREATE TABLE audit (
    seq       BIGINT PRIMARY KEY,
    at        BIGINT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    target    TEXT NOT NULL,
    decision  TEXT,
    code      TEXT,
    details   TEXT,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE INDEX audit_actor_action_at ON audit (actor, action, at);
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_changes ON audit (seq) WHERE action <> 'issue';

-- Counters and chain heads. Every write transaction locks the `audit` row first
-- (`SELECT … FOR UPDATE`): writers from every replica queue on it as SQLite writers queue on
-- the file lock, so the chain has one order, the rate check of an issuance is exact, and
-- revocation `seq`s commit in the order they are given (a feed reader never skips one).
-- `name` leaves room for more chains (one per replica) should one chain become the limit.
CREATE TABLE heads (
    name  TEXT PRIMARY KEY,
    seq   BIGINT NOT NULL,
    hash  TEXT
);
INSERT INTO heads (name, seq, hash) VALUES
    ('audit', 0, '0000000000000000000000000000000000000000000000000000000000000000'),
    ('revocations', 0, NULL);
