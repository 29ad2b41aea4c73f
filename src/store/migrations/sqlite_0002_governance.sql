-- mcpca schema 2: clients, admin tokens, the hash-chained audit log.
CREATE TABLE clients (
    id            TEXT PRIMARY KEY,
    tenant        TEXT,
    allow         TEXT NOT NULL,          -- JSON array of patterns
    max_ttl       INTEGER,
    rate_per_min  INTEGER,
    status        TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
    status_reason TEXT,
    secret_hash   BLOB NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE admin_tokens (
    id         TEXT PRIMARY KEY,
    name       TEXT,
    role       TEXT NOT NULL CHECK (role IN ('admin', 'reader')),
    token_hash BLOB NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    revoked_at INTEGER
);

CREATE TABLE audit (
    seq       INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
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
