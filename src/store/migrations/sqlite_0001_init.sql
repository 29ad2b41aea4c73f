-- mcpca schema 1: keys, servers, revocations.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
);

CREATE TABLE keys (
    kid            TEXT PRIMARY KEY,
    state          TEXT NOT NULL CHECK (state IN ('next', 'active', 'retiring', 'retired', 'revoked')),
    public_key     BLOB NOT NULL,
    sealed_private BLOB,
    created_at     INTEGER NOT NULL,
    activated_at   INTEGER,
    retire_at      INTEGER,
    retired_at     INTEGER
);
-- Exactly one key signs.
CREATE UNIQUE INDEX keys_one_active ON keys (state) WHERE state = 'active';

CREATE TABLE servers (
    name              TEXT PRIMARY KEY,
    status            TEXT NOT NULL,
    status_reason     TEXT,
    status_changed_at INTEGER NOT NULL,
    verified          INTEGER NOT NULL DEFAULT 0,
    max_ttl           INTEGER,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);

CREATE TABLE server_versions (
    name              TEXT NOT NULL REFERENCES servers (name),
    version           TEXT NOT NULL,
    document          TEXT NOT NULL,
    endpoint          TEXT,
    status            TEXT NOT NULL,
    status_reason     TEXT,
    status_changed_at INTEGER NOT NULL,
    published_at      INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    is_latest         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (name, version)
);

-- Every remote URL (canonical) of every version: a URL belongs to one server name.
CREATE TABLE remote_urls (
    url     TEXT NOT NULL,
    name    TEXT NOT NULL,
    version TEXT NOT NULL,
    PRIMARY KEY (url, name, version)
);

CREATE TABLE revocations (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT NOT NULL CHECK (kind IN ('jti', 'server', 'client', 'key')),
    id         TEXT NOT NULL,
    revoked_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    reason     TEXT
);
CREATE INDEX revocations_expires ON revocations (expires_at);
