//! The embedded SQLite backend: one `registry.db` file in WAL mode, migrations compiled into
//! the binary, writes in `BEGIN IMMEDIATE` transactions so several `mcpca` processes can write
//! at once without losing anything (they queue on the busy timeout).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};

use super::*;
use crate::audit::GENESIS;
use crate::{Error, Result};

pub mod hot;

/// Migrations, in order; the schema version is their count (`PRAGMA user_version`).
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/sqlite_0001_init.sql"),
    include_str!("migrations/sqlite_0002_governance.sql"),
    include_str!("migrations/sqlite_0003_registry_read.sql"),
    include_str!("migrations/sqlite_0004_audit_changes.sql"),
    include_str!("migrations/sqlite_0005_audit_rate_windows.sql"),
];

/// Schema version this binary writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Below this size the WAL is left in place when a process closes the database (see `open`).
const WAL_KEEP_BYTES: u64 = 256 << 10;

/// How long a writer waits for another process's lock before giving up, unless
/// `MCPCA_BUSY_TIMEOUT_MS` says otherwise (see [`busy_timeout`]).
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Environment variable overriding [`BUSY_TIMEOUT`], in milliseconds.
pub const BUSY_TIMEOUT_ENV: &str = "MCPCA_BUSY_TIMEOUT_MS";

/// The lock wait in force: `MCPCA_BUSY_TIMEOUT_MS` when set (0 = do not wait), else 30 s.
pub fn busy_timeout() -> Result<Duration> {
    match std::env::var(BUSY_TIMEOUT_ENV) {
        Err(_) => Ok(BUSY_TIMEOUT),
        Ok(v) => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|ms| *ms <= 3_600_000)
            .map(Duration::from_millis)
            .ok_or_else(|| Error::Config(format!("{BUSY_TIMEOUT_ENV}: {v:?} is not a number of milliseconds between 0 and 3600000"))),
    }
}

/// A SQLite-backed store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    path: PathBuf,
}

impl SqliteStore {
    /// Open (creating if `create`) the database at `path` and bring its schema up to date.
    pub fn open(path: &Path, create: bool) -> Result<Self> {
        use rusqlite::OpenFlags;
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        if create {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let conn = Connection::open_with_flags(path, flags).map_err(|e| Error::Store(format!("cannot open {}: {e}", path.display())))?;
        conn.busy_timeout(busy_timeout()?)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // Each commit of this connection reaches the disk before the command reports it.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // A process closing the last connection would checkpoint, fsync and delete the -wal and
        // -shm files at every exit (4 fsyncs and 2 unlinks per `mcpca issue`): leave a small WAL
        // to the next process instead, and checkpoint at close as before once it passes 256 KiB.
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        if std::fs::metadata(&wal).map_or(0, |m| m.len()) < WAL_KEEP_BYTES {
            conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
        }
        let mut store = SqliteStore { conn: Arc::new(Mutex::new(conn)), path: path.to_owned() };
        store.migrate()?;
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn migrate(&mut self) -> Result<()> {
        let mut conn = self.lock()?;
        let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if current > SCHEMA_VERSION {
            return Err(Error::SchemaTooNew { found: current, supported: SCHEMA_VERSION });
        }
        if current == SCHEMA_VERSION {
            return Ok(());
        }
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Another process may have migrated while we waited for the lock.
        let current: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(usize::try_from(current).unwrap_or(0)) {
            tx.execute_batch(sql).map_err(|e| Error::Store(format!("migration {} failed: {e}", i + 1)))?;
        }
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        tx.commit()?;
        Ok(())
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Connection>> {
        self.conn.lock().map_err(|_| Error::Store("database connection poisoned".into()))
    }

    /// Run `f` on the connection off the async runtime's threads.
    async fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().map_err(|_| Error::Store("database connection poisoned".into()))?;
            f(&mut guard)
        })
        .await
        .map_err(|e| Error::Store(format!("database task failed: {e}")))?
    }

    /// Run `f` in a write transaction that holds the write lock from its start, and append
    /// `audit` to the chain in the same transaction: the change and its record commit together.
    async fn write<T, F>(&self, audit: Vec<NewAuditEvent>, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> Result<T> + Send + 'static,
    {
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let out = f(&tx)?;
            append_audit(&tx, &audit)?;
            tx.commit()?;
            Ok(out)
        })
        .await
    }
}

impl SqliteStore {
    /// Every row, in insertion order, read in one transaction (`mcpca migrate`).
    pub async fn dump(&self) -> Result<Dump> {
        self.run(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
            let c: &Connection = &tx;
            let dump = Dump {
                meta: all(c, "SELECT key, value FROM meta ORDER BY key", [], |r| Ok((r.get(0)?, r.get(1)?)))?,
                keys: all(c, "SELECT * FROM keys ORDER BY rowid", [], key_from_row)?,
                servers: all(
                    c,
                    "SELECT name, status, status_reason, status_changed_at, verified, max_ttl, created_at, updated_at FROM servers ORDER BY rowid",
                    [],
                    |r| {
                        let max_ttl: Option<i64> = r.get(5)?;
                        Ok(ServerNameRow {
                            name: r.get(0)?,
                            status: status(r, 1)?,
                            status_reason: r.get(2)?,
                            status_changed_at: r.get(3)?,
                            verified: r.get(4)?,
                            max_ttl: max_ttl.map(|s| Dur(s.unsigned_abs())),
                            created_at: r.get(6)?,
                            updated_at: r.get(7)?,
                        })
                    },
                )?,
                versions: all(
                    c,
                    "SELECT name, version, document, endpoint, status, status_reason, status_changed_at, published_at, updated_at, is_latest \
                     FROM server_versions ORDER BY rowid",
                    [],
                    |r| version_at(r, r.get(0)?, 1),
                )?,
                remote_urls: all(c, "SELECT url, name, version FROM remote_urls ORDER BY rowid", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?,
                revocations: all(c, "SELECT * FROM revocations ORDER BY seq", [], revocation_from_row)?,
                revocation_seq: c
                    .query_row("SELECT seq FROM sqlite_sequence WHERE name = 'revocations'", [], |r| r.get::<_, i64>(0))
                    .optional()?
                    .unwrap_or(0),
                clients: all(c, "SELECT * FROM clients ORDER BY rowid", [], client_from_row)?,
                tokens: all(c, "SELECT * FROM admin_tokens ORDER BY rowid", [], token_from_row)?,
                audit: all(
                    c,
                    "SELECT seq, at, actor, action, target, decision, code, details, prev_hash, hash FROM audit ORDER BY seq",
                    [],
                    |r| {
                        Ok(RawAuditRow {
                            seq: r.get(0)?,
                            at: r.get(1)?,
                            actor: r.get(2)?,
                            action: r.get(3)?,
                            target: r.get(4)?,
                            decision: r.get(5)?,
                            code: r.get(6)?,
                            details: r.get(7)?,
                            prev_hash: r.get(8)?,
                            hash: r.get(9)?,
                        })
                    },
                )?,
            };
            tx.commit()?;
            Ok(dump)
        })
        .await
    }
}

/// A migrated, empty database file in a temporary directory (kept while the first is alive):
/// for tests of what runs on its own connections (the hot path, the group commit).
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) fn migrated_database() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("registry.db");
    drop(SqliteStore::open(&db, true).unwrap());
    (dir, db)
}

/// Append events after the current head of the chain.
fn append_audit(tx: &Connection, events: &[NewAuditEvent]) -> Result<Vec<i64>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let head: Option<(i64, String)> = tx
        .prepare_cached("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (mut seq, mut prev) = head.unwrap_or((0, GENESIS.to_owned()));
    let mut stmt = tx.prepare_cached(
        "INSERT INTO audit (seq, at, actor, action, target, decision, code, details, prev_hash, hash) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    let mut seqs = Vec::with_capacity(events.len());
    for e in events {
        seq += 1;
        let hash = e.hash_at(seq, &prev);
        let details = (!e.details.is_empty()).then_some(e.details.as_str());
        stmt.execute(params![seq, e.at, e.actor, e.action, e.target, e.decision.map(Decision::as_str), e.code, details, prev, hash])?;
        seqs.push(seq);
        prev = hash;
    }
    Ok(seqs)
}

/// Allowed issuances of `client` at or after `since`: how many, and the earliest.
fn issued_window(c: &Connection, client: &str, since: i64) -> Result<(u32, Option<i64>)> {
    Ok(c.prepare_cached("SELECT count(*), min(at) FROM audit WHERE actor = ?1 AND action = 'issue' AND decision = 'allow' AND at >= ?2")?
        .query_row(params![client, since], |r| Ok((r.get(0)?, r.get(1)?)))?)
}

fn audit_from_row(r: &Row<'_>) -> rusqlite::Result<AuditEvent> {
    let decision: Option<String> = r.get("decision")?;
    let details: Option<String> = r.get("details")?;
    Ok(AuditEvent {
        seq: r.get("seq")?,
        at: r.get("at")?,
        actor: r.get("actor")?,
        action: r.get("action")?,
        target: r.get("target")?,
        decision: match decision {
            Some(d) => Some(Decision::parse(&d).ok_or_else(|| bad_value("audit.decision", &d))?),
            None => None,
        },
        code: r.get("code")?,
        // Stored text that is not JSON is kept as a string, so `audit verify` reports it.
        details: details.map_or(serde_json::Value::Null, |d| serde_json::from_str(&d).unwrap_or(serde_json::Value::String(d))),
        prev_hash: r.get("prev_hash")?,
        hash: r.get("hash")?,
    })
}

fn client_from_row(r: &Row<'_>) -> rusqlite::Result<ClientRow> {
    let allow: String = r.get("allow")?;
    let status: String = r.get("status")?;
    let hash: Vec<u8> = r.get("secret_hash")?;
    let max_ttl: Option<i64> = r.get("max_ttl")?;
    Ok(ClientRow {
        id: r.get("id")?,
        tenant: r.get("tenant")?,
        allow: serde_json::from_str(&allow).map_err(|_| bad_value("clients.allow", &allow))?,
        max_ttl: max_ttl.map(|s| Dur(s.unsigned_abs())),
        rate_per_min: r.get("rate_per_min")?,
        status: ClientStatus::parse(&status).ok_or_else(|| bad_value("clients.status", &status))?,
        status_reason: r.get("status_reason")?,
        secret_hash: hash.as_slice().try_into().map_err(|_| bad_value("clients.secret_hash", "wrong length"))?,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
    })
}

fn token_from_row(r: &Row<'_>) -> rusqlite::Result<TokenRow> {
    let role: String = r.get("role")?;
    let hash: Vec<u8> = r.get("token_hash")?;
    Ok(TokenRow {
        id: r.get("id")?,
        name: r.get("name")?,
        role: Role::parse(&role).ok_or_else(|| bad_value("admin_tokens.role", &role))?,
        token_hash: hash.as_slice().try_into().map_err(|_| bad_value("admin_tokens.token_hash", "wrong length"))?,
        created_at: r.get("created_at")?,
        expires_at: r.get("expires_at")?,
        revoked_at: r.get("revoked_at")?,
    })
}

/// Insert one version (and its name if new) inside a transaction; reports instead of failing
/// on an existing version or a URL owned by another server.
fn insert_version(tx: &rusqlite::Transaction<'_>, new: &NewServerVersion) -> Result<ImportOutcome> {
    let v = &new.version;
    for url in &new.remote_urls {
        let owner: Option<String> = tx
            .prepare_cached("SELECT name FROM remote_urls WHERE url = ?1 AND name <> ?2 LIMIT 1")?
            .query_row(params![url, v.name], |r| r.get(0))
            .optional()?;
        if let Some(owner) = owner {
            return Ok(ImportOutcome::UrlConflict(format!("{url} belongs to {owner}")));
        }
    }
    let existing: Option<String> = tx
        .prepare_cached("SELECT document FROM server_versions WHERE name = ?1 AND version = ?2")?
        .query_row(params![v.name, v.version], |r| r.get(0))
        .optional()?;
    if let Some(doc) = existing {
        let same = serde_json::from_str::<serde_json::Value>(&doc).ok() == serde_json::from_str::<serde_json::Value>(&v.document).ok();
        return Ok(if same { ImportOutcome::Unchanged } else { ImportOutcome::DuplicateVersion });
    }
    let max_ttl = new.max_ttl.map(|d| d.as_i64());
    tx.prepare_cached(
        "INSERT INTO servers (name, status, status_changed_at, verified, max_ttl, created_at, updated_at) \
         VALUES (?1, 'active', ?2, ?3, ?4, ?2, ?2) ON CONFLICT (name) DO NOTHING",
    )?
    .execute(params![v.name, v.published_at, new.verified.unwrap_or(false), max_ttl])?;
    if let Some(verified) = new.verified {
        tx.execute("UPDATE servers SET verified = ?2, updated_at = ?3 WHERE name = ?1", params![v.name, verified, v.published_at])?;
    }
    if let Some(ttl) = max_ttl {
        tx.execute("UPDATE servers SET max_ttl = ?2, updated_at = ?3 WHERE name = ?1", params![v.name, ttl, v.published_at])?;
    }
    tx.prepare_cached(
        "INSERT INTO server_versions (name, version, document, endpoint, status, status_reason, status_changed_at, published_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![v.name, v.version, v.document, v.endpoint, v.status.as_str(), v.status_reason, v.status_changed_at, v.published_at, v.updated_at])?;
    for url in &new.remote_urls {
        tx.prepare_cached("INSERT OR IGNORE INTO remote_urls (url, name, version) VALUES (?1, ?2, ?3)")?
            .execute(params![url, v.name, v.version])?;
    }
    recompute_latest(tx, &v.name)?;
    Ok(ImportOutcome::Imported)
}

/// Every row of a cached statement, mapped.
fn all<T, P: rusqlite::Params>(c: &Connection, sql: &str, params: P, map: fn(&Row<'_>) -> rusqlite::Result<T>) -> Result<Vec<T>> {
    let mut stmt = c.prepare_cached(sql)?;
    let rows = stmt.query_map(params, map)?.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

fn key_from_row(r: &Row<'_>) -> rusqlite::Result<KeyRow> {
    let state: String = r.get("state")?;
    let public: Vec<u8> = r.get("public_key")?;
    Ok(KeyRow {
        kid: r.get("kid")?,
        state: KeyState::parse(&state).ok_or_else(|| bad_value("keys.state", &state))?,
        public_key: public.as_slice().try_into().map_err(|_| bad_value("keys.public_key", "wrong length"))?,
        sealed_private: r.get("sealed_private")?,
        created_at: r.get("created_at")?,
        activated_at: r.get("activated_at")?,
        retire_at: r.get("retire_at")?,
        retired_at: r.get("retired_at")?,
    })
}

fn bad_value(column: &str, value: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, format!("unexpected value {value:?} in {column}").into())
}

fn status(r: &Row<'_>, col: usize) -> rusqlite::Result<Status> {
    let s: String = r.get(col)?;
    Status::parse(&s).ok_or_else(|| bad_value("status", &s))
}

/// Columns of a joined server row; `server_from_row` reads them by position (reading by name
/// costs a search per cell, which shows on lists of thousands).
const SERVER_COLUMNS: &str = "s.name, s.status, s.status_reason, s.status_changed_at, s.verified, s.max_ttl, s.created_at, s.updated_at, \
     v.version, v.document, v.endpoint, v.status, v.status_reason, v.status_changed_at, v.published_at, v.updated_at, v.is_latest";

fn server_from_row(r: &Row<'_>) -> rusqlite::Result<ServerRow> {
    let name: String = r.get(0)?;
    let max_ttl: Option<i64> = r.get(5)?;
    Ok(ServerRow {
        name: ServerNameRow {
            name: name.clone(),
            status: status(r, 1)?,
            status_reason: r.get(2)?,
            status_changed_at: r.get(3)?,
            verified: r.get(4)?,
            max_ttl: max_ttl.map(|s| Dur(s.unsigned_abs())),
            created_at: r.get(6)?,
            updated_at: r.get(7)?,
        },
        version: version_at(r, name, 8)?,
    })
}

/// The version fields `version, document, endpoint, status, status_reason,
/// status_changed_at, published_at, updated_at, is_latest` from column `i` on.
fn version_at(r: &Row<'_>, name: String, i: usize) -> rusqlite::Result<ServerVersionRow> {
    Ok(ServerVersionRow {
        name,
        version: r.get(i)?,
        document: r.get(i + 1)?,
        endpoint: r.get(i + 2)?,
        status: status(r, i + 3)?,
        status_reason: r.get(i + 4)?,
        status_changed_at: r.get(i + 5)?,
        published_at: r.get(i + 6)?,
        updated_at: r.get(i + 7)?,
        is_latest: r.get(i + 8)?,
    })
}

fn revocation_from_row(r: &Row<'_>) -> rusqlite::Result<Revocation> {
    let kind: String = r.get("kind")?;
    Ok(Revocation {
        seq: r.get("seq")?,
        kind: RevocationKind::parse(&kind).ok_or_else(|| bad_value("revocations.kind", &kind))?,
        id: r.get("id")?,
        revoked_at: r.get("revoked_at")?,
        expires_at: r.get("expires_at")?,
        reason: r.get("reason")?,
    })
}

fn insert_revocation(tx: &rusqlite::Transaction<'_>, r: &NewRevocation) -> Result<i64> {
    tx.execute(
        "INSERT INTO revocations (kind, id, revoked_at, expires_at, reason) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![r.kind.as_str(), r.id, r.revoked_at, r.expires_at, r.reason],
    )?;
    Ok(tx.last_insert_rowid())
}

/// Mark the highest non-deleted version of `name` as latest (none when the name is deleted).
fn recompute_latest(tx: &rusqlite::Transaction<'_>, name: &str) -> Result<()> {
    let name_status: String = tx.query_row("SELECT status FROM servers WHERE name = ?1", [name], |r| r.get(0))?;
    let mut stmt = tx.prepare("SELECT version, published_at FROM server_versions WHERE name = ?1 AND status <> 'deleted'")?;
    let candidates =
        stmt.query_map([name], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?.collect::<rusqlite::Result<Vec<_>>>()?;
    let latest = if name_status == Status::Deleted.as_str() {
        None
    } else {
        candidates.iter().max_by(|a, b| compare_versions((&a.0, a.1), (&b.0, b.1))).map(|c| c.0.clone())
    };
    tx.execute("UPDATE server_versions SET is_latest = (version IS ?2) WHERE name = ?1", params![name, latest])?;
    Ok(())
}

#[async_trait]
impl Store for SqliteStore {
    async fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let key = key.to_owned();
        self.run(move |c| Ok(c.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)).await
    }

    async fn put_meta_if_absent(&self, key: &str, value: &[u8]) -> Result<bool> {
        let (key, value) = (key.to_owned(), value.to_vec());
        self.write(vec![], move |tx| Ok(tx.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?1, ?2)", params![key, value])? == 1))
            .await
    }

    async fn list_keys(&self) -> Result<Vec<KeyRow>> {
        self.run(|c| all(c, "SELECT * FROM keys ORDER BY created_at, rowid", [], key_from_row)).await
    }

    async fn write_keys(&self, writes: Vec<KeyWrite>, revocations: Vec<NewRevocation>, audit: NewAuditEvent) -> Result<()> {
        self.write(vec![audit], move |tx| {
            for w in &writes {
                let k = &w.row;
                let changed = match w.expect {
                    None => tx.execute(
                        "INSERT INTO keys (kid, state, public_key, sealed_private, created_at, activated_at, retire_at, retired_at) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                        params![
                            k.kid,
                            k.state.as_str(),
                            k.public_key.as_slice(),
                            k.sealed_private,
                            k.created_at,
                            k.activated_at,
                            k.retire_at,
                            k.retired_at
                        ],
                    )?,
                    Some(expect) => tx.execute(
                        "UPDATE keys SET state = ?2, sealed_private = ?3, activated_at = ?4, retire_at = ?5, retired_at = ?6 \
                         WHERE kid = ?1 AND state = ?7",
                        params![k.kid, k.state.as_str(), k.sealed_private, k.activated_at, k.retire_at, k.retired_at, expect.as_str()],
                    )?,
                };
                if changed != 1 {
                    return Err(Error::refused(
                        format!("key {} changed while this command ran", k.kid),
                        "another mcpca changed the keys at the same time; run the command again",
                    ));
                }
            }
            for r in &revocations {
                insert_revocation(tx, r)?;
            }
            Ok(())
        })
        .await
    }

    async fn add_server_version(&self, new: NewServerVersion, audit: NewAuditEvent) -> Result<()> {
        self.write(vec![audit], move |tx| {
            let id = format!("{}@{}", new.version.name, new.version.version);
            match insert_version(tx, &new)? {
                ImportOutcome::Imported => Ok(()),
                ImportOutcome::UrlConflict(why) => Err(Error::Conflict {
                    what: "remote URL",
                    id: why,
                    hint: Some("a remote URL belongs to one server; use another URL or add a version of that server".into()),
                }),
                ImportOutcome::Unchanged | ImportOutcome::DuplicateVersion => Err(Error::Conflict {
                    what: "server version",
                    id,
                    hint: Some(
                        "published versions are immutable: publish a new version, or change authority fields with `mcpca server update`"
                            .into(),
                    ),
                }),
            }
        })
        .await
    }

    async fn import_versions(&self, batch: Vec<(NewServerVersion, NewAuditEvent)>, dry_run: bool) -> Result<Vec<ImportOutcome>> {
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut outcomes = Vec::with_capacity(batch.len());
            let mut events = Vec::new();
            for (new, event) in batch {
                let o = insert_version(&tx, &new)?;
                if o == ImportOutcome::Imported {
                    events.push(event);
                }
                outcomes.push(o);
            }
            append_audit(&tx, &events)?;
            if dry_run {
                tx.rollback()?;
            } else {
                tx.commit()?;
            }
            Ok(outcomes)
        })
        .await
    }

    async fn get_server(&self, name: &str, version: Option<&str>) -> Result<Option<ServerRow>> {
        let (name, version) = (name.to_owned(), version.map(str::to_owned));
        self.run(move |c| {
            let row = match version {
                Some(v) => c
                    .prepare_cached(&format!(
                        "SELECT {SERVER_COLUMNS} FROM server_versions v JOIN servers s ON s.name = v.name WHERE v.name = ?1 AND v.version = ?2"
                    ))?
                    .query_row(params![name, v], server_from_row)
                    .optional()?,
                None => c
                    .prepare_cached(&format!(
                        "SELECT {SERVER_COLUMNS} FROM server_versions v JOIN servers s ON s.name = v.name WHERE v.name = ?1 AND v.is_latest = 1"
                    ))?
                    .query_row(params![name], server_from_row)
                    .optional()?,
            };
            Ok(row)
        })
        .await
    }

    async fn server_by_endpoint(&self, canonical_url: &str) -> Result<Option<(String, String)>> {
        let url = canonical_url.to_owned();
        self.run(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT r.name, r.version, v.published_at FROM remote_urls r \
                 JOIN server_versions v ON v.name = r.name AND v.version = r.version \
                 JOIN servers s ON s.name = r.name \
                 WHERE r.url = ?1 AND v.status <> 'deleted' AND s.status <> 'deleted'",
            )?;
            let candidates = stmt
                .query_map([url], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            // A URL belongs to one name; among its versions the latest (as `isLatest` orders them) wins.
            Ok(candidates.into_iter().max_by(|a, b| compare_versions((&a.1, a.2), (&b.1, b.2))).map(|(name, version, _)| (name, version)))
        })
        .await
    }

    async fn list_versions(&self, name: &str) -> Result<Vec<ServerRow>> {
        let name = name.to_owned();
        let sql = format!(
            "SELECT {SERVER_COLUMNS} FROM server_versions v JOIN servers s ON s.name = v.name WHERE v.name = ?1 ORDER BY v.published_at, v.rowid"
        );
        self.run(move |c| all(c, &sql, [name], server_from_row)).await
    }

    async fn list_servers(&self, filter: &ServerFilter) -> Result<Vec<ServerRow>> {
        let filter = filter.clone();
        self.run(move |c| {
            let mut sql = format!("SELECT {SERVER_COLUMNS} FROM server_versions v JOIN servers s ON s.name = v.name WHERE 1 = 1");
            if !filter.include_deleted {
                sql.push_str(" AND s.status <> 'deleted' AND v.status <> 'deleted'");
            }
            if filter.latest_only {
                sql.push_str(" AND v.is_latest = 1");
            }
            if filter.search.is_some() {
                sql.push_str(" AND instr(lower(v.name), lower(?1)) > 0");
            }
            sql.push_str(" ORDER BY v.name, v.version");
            let mut stmt = c.prepare(&sql)?;
            let rows = match &filter.search {
                Some(s) => stmt.query_map([s], server_from_row)?.collect::<rusqlite::Result<Vec<_>>>()?,
                None => stmt.query_map([], server_from_row)?.collect::<rusqlite::Result<Vec<_>>>()?,
            };
            Ok(rows.into_iter().filter(|r| filter.status.is_none_or(|s| Status::effective(r.name.status, r.version.status) == s)).collect())
        })
        .await
    }

    async fn list_page(&self, page: &ServerPage) -> Result<Vec<ServerRow>> {
        let page = page.clone();
        self.run(move |c| {
            // A range on the primary key, walked in its order and stopped after `limit` rows:
            // a page deep in the list costs what the first one does. Every variant of the
            // statement stays in the connection's statement cache.
            let mut sql = format!("SELECT {SERVER_COLUMNS} FROM server_versions v JOIN servers s ON s.name = v.name WHERE 1 = 1");
            if page.after.is_some() {
                sql.push_str(" AND (v.name, v.version) > (?1, ?2)");
            }
            if !page.include_deleted {
                sql.push_str(" AND s.status <> 'deleted' AND v.status <> 'deleted'");
            }
            if page.latest_only {
                // Matches the partial index `server_versions_latest`.
                sql.push_str(" AND v.is_latest = 1");
            }
            if page.version.is_some() {
                sql.push_str(" AND v.version = ?3");
            }
            if page.search.is_some() {
                sql.push_str(" AND instr(lower(v.name), lower(?4)) > 0");
            }
            if page.updated_since.is_some() {
                // The entry's `updatedAt` is the later of its version's and its name's change.
                // Written as a rowid set from the two `updated_at` indexes, so a sync asking for
                // the last few changes reads those rows only (sorted), not the whole table.
                sql.push_str(
                    " AND v.rowid IN (SELECT rowid FROM server_versions WHERE updated_at >= ?5 \
                     UNION ALL SELECT v2.rowid FROM servers s2 JOIN server_versions v2 ON v2.name = s2.name WHERE s2.updated_at >= ?5)",
                );
            }
            sql.push_str(" ORDER BY v.name, v.version LIMIT ?6");
            let mut stmt = c.prepare_cached(&sql)?;
            let (after_name, after_version) = page.after.unzip();
            let rows = stmt
                .query_map(params![after_name, after_version, page.version, page.search, page.updated_since, page.limit], server_from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await
    }

    async fn update_server(&self, name: &str, update: ServerUpdate, at: i64, audit: NewAuditEvent) -> Result<()> {
        let name = name.to_owned();
        self.write(vec![audit], move |tx| {
            let exists: bool = tx.query_row("SELECT EXISTS (SELECT 1 FROM servers WHERE name = ?1)", [&name], |r| r.get(0))?;
            if !exists {
                return Err(Error::NotFound { what: "server", id: name });
            }
            if let Some(v) = update.verified {
                tx.execute("UPDATE servers SET verified = ?2, updated_at = ?3 WHERE name = ?1", params![name, v, at])?;
            }
            if let Some(ttl) = update.max_ttl {
                tx.execute("UPDATE servers SET max_ttl = ?2, updated_at = ?3 WHERE name = ?1", params![name, ttl.map(|d| d.as_i64()), at])?;
            }
            Ok(())
        })
        .await
    }

    async fn set_status(&self, change: StatusChange, revocation: Option<NewRevocation>, audit: NewAuditEvent) -> Result<()> {
        self.write(vec![audit], move |tx| {
            let n = match &change.version {
                None => tx.execute(
                    "UPDATE servers SET status = ?2, status_reason = ?3, status_changed_at = ?4, updated_at = ?4 WHERE name = ?1",
                    params![change.name, change.status.as_str(), change.reason, change.at],
                )?,
                Some(v) => tx.execute(
                    "UPDATE server_versions SET status = ?3, status_reason = ?4, status_changed_at = ?5, updated_at = ?5 WHERE name = ?1 AND version = ?2",
                    params![change.name, v, change.status.as_str(), change.reason, change.at],
                )?,
            };
            if n == 0 {
                let id = match &change.version {
                    Some(v) => format!("{}@{v}", change.name),
                    None => change.name.clone(),
                };
                return Err(Error::NotFound { what: "server", id });
            }
            if let Some(r) = &revocation {
                insert_revocation(tx, r)?;
            }
            recompute_latest(tx, &change.name)
        })
        .await
    }

    async fn add_revocation(&self, revocation: NewRevocation, audit: NewAuditEvent) -> Result<i64> {
        self.write(vec![audit], move |tx| insert_revocation(tx, &revocation)).await
    }

    async fn list_revocations(&self, since: i64) -> Result<Vec<Revocation>> {
        self.run(move |c| all(c, "SELECT * FROM revocations WHERE seq > ?1 ORDER BY seq", [since], revocation_from_row)).await
    }

    async fn revocation_seq(&self) -> Result<i64> {
        // AUTOINCREMENT keeps the highest seq in sqlite_sequence even after pruning.
        self.run(|c| {
            Ok(c.query_row("SELECT seq FROM sqlite_sequence WHERE name = 'revocations'", [], |r| r.get::<_, i64>(0))
                .optional()?
                .unwrap_or(0))
        })
        .await
    }

    async fn prune_revocations(&self, now: i64) -> Result<u64> {
        self.write(vec![], move |tx| Ok(tx.execute("DELETE FROM revocations WHERE expires_at <= ?1", [now])? as u64)).await
    }

    async fn add_client(&self, row: ClientRow, audit: NewAuditEvent) -> Result<()> {
        self.write(vec![audit], move |tx| {
            let allow = serde_json::to_string(&row.allow).map_err(|e| Error::Store(e.to_string()))?;
            let n = tx.execute(
                "INSERT INTO clients (id, tenant, allow, max_ttl, rate_per_min, status, status_reason, secret_hash, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (id) DO NOTHING",
                params![
                    row.id,
                    row.tenant,
                    allow,
                    row.max_ttl.map(|d| d.as_i64()),
                    row.rate_per_min,
                    row.status.as_str(),
                    row.status_reason,
                    row.secret_hash.as_slice(),
                    row.created_at,
                    row.updated_at
                ],
            )?;
            if n == 0 {
                return Err(Error::Conflict { what: "client", id: row.id, hint: Some("pick another id, or see `mcpca client show ID`".into()) });
            }
            Ok(())
        })
        .await
    }

    async fn get_client(&self, id: &str) -> Result<Option<ClientRow>> {
        let id = id.to_owned();
        self.run(move |c| Ok(c.prepare_cached("SELECT * FROM clients WHERE id = ?1")?.query_row([id], client_from_row).optional()?)).await
    }

    async fn find_client_by_secret(&self, hash: &[u8; 32]) -> Result<Option<ClientRow>> {
        let hash = *hash;
        self.run(move |c| {
            Ok(c.prepare_cached("SELECT * FROM clients WHERE secret_hash = ?1")?
                .query_row([hash.as_slice()], client_from_row)
                .optional()?)
        })
        .await
    }

    async fn list_clients(&self) -> Result<Vec<ClientRow>> {
        self.run(|c| all(c, "SELECT * FROM clients ORDER BY id", [], client_from_row)).await
    }

    async fn update_client(&self, row: ClientRow, revocation: Option<NewRevocation>, audit: NewAuditEvent) -> Result<()> {
        self.write(vec![audit], move |tx| {
            let allow = serde_json::to_string(&row.allow).map_err(|e| Error::Store(e.to_string()))?;
            let n = tx.execute(
                "UPDATE clients SET tenant = ?2, allow = ?3, max_ttl = ?4, rate_per_min = ?5, status = ?6, status_reason = ?7, \
                 secret_hash = ?8, updated_at = ?9 WHERE id = ?1",
                params![
                    row.id,
                    row.tenant,
                    allow,
                    row.max_ttl.map(|d| d.as_i64()),
                    row.rate_per_min,
                    row.status.as_str(),
                    row.status_reason,
                    row.secret_hash.as_slice(),
                    row.updated_at
                ],
            )?;
            if n == 0 {
                return Err(Error::NotFound { what: "client", id: row.id });
            }
            if let Some(r) = &revocation {
                insert_revocation(tx, r)?;
            }
            Ok(())
        })
        .await
    }

    async fn remove_client(&self, id: &str, revocation: Option<NewRevocation>, audit: NewAuditEvent) -> Result<()> {
        let id = id.to_owned();
        self.write(vec![audit], move |tx| {
            if tx.execute("DELETE FROM clients WHERE id = ?1", [&id])? == 0 {
                return Err(Error::NotFound { what: "client", id });
            }
            if let Some(r) = &revocation {
                insert_revocation(tx, r)?;
            }
            Ok(())
        })
        .await
    }

    async fn add_token(&self, row: TokenRow, audit: NewAuditEvent) -> Result<()> {
        self.write(vec![audit], move |tx| {
            tx.execute(
                "INSERT INTO admin_tokens (id, name, role, token_hash, created_at, expires_at, revoked_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![row.id, row.name, row.role.as_str(), row.token_hash.as_slice(), row.created_at, row.expires_at, row.revoked_at],
            )?;
            Ok(())
        })
        .await
    }

    async fn list_tokens(&self) -> Result<Vec<TokenRow>> {
        self.run(|c| all(c, "SELECT * FROM admin_tokens ORDER BY created_at, rowid", [], token_from_row)).await
    }

    async fn find_token_by_hash(&self, hash: &[u8; 32]) -> Result<Option<TokenRow>> {
        let hash = *hash;
        self.run(move |c| {
            Ok(c.prepare_cached("SELECT * FROM admin_tokens WHERE token_hash = ?1")?
                .query_row([hash.as_slice()], token_from_row)
                .optional()?)
        })
        .await
    }

    async fn revoke_token(&self, id: &str, at: i64, audit: NewAuditEvent) -> Result<()> {
        let id = id.to_owned();
        self.write(vec![audit], move |tx| {
            if tx.execute("UPDATE admin_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL", params![id, at])? == 0 {
                let exists: bool = tx.query_row("SELECT EXISTS (SELECT 1 FROM admin_tokens WHERE id = ?1)", [&id], |r| r.get(0))?;
                return Err(if exists {
                    Error::refused(format!("token {id} is already revoked"), "see `mcpca token list`")
                } else {
                    Error::NotFound { what: "token", id }
                });
            }
            Ok(())
        })
        .await
    }

    async fn append_audit(&self, events: Vec<NewAuditEvent>) -> Result<Vec<i64>> {
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let seqs = append_audit(&tx, &events)?;
            tx.commit()?;
            Ok(seqs)
        })
        .await
    }

    async fn list_audit(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>> {
        let f = filter.clone();
        self.run(move |c| {
            let mut sql = String::from("SELECT * FROM audit WHERE at >= ?1");
            if f.server.is_some() {
                // Exact and case-sensitive: LIKE would ignore case and treat `_` in names as a wildcard.
                sql.push_str(" AND (target = ?2 OR substr(target, 1, length(?2) + 1) = ?2 || '@')");
            }
            if f.client.is_some() {
                sql.push_str(" AND (actor = ?3 OR (target = ?3 AND action LIKE 'client.%'))");
            }
            if f.decision.is_some() {
                sql.push_str(" AND decision = ?4");
            }
            sql.push_str(" ORDER BY seq DESC LIMIT ?5");
            let mut stmt = c.prepare(&sql)?;
            let limit = f.limit.map_or(-1, i64::from);
            let mut rows = stmt
                .query_map(
                    params![f.since.unwrap_or(i64::MIN), f.server, f.client, f.decision.map(Decision::as_str), limit],
                    audit_from_row,
                )?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.reverse();
            Ok(rows)
        })
        .await
    }

    async fn audit_page(&self, after_seq: i64, limit: u32) -> Result<Vec<AuditEvent>> {
        self.run(move |c| all(c, "SELECT * FROM audit WHERE seq > ?1 ORDER BY seq LIMIT ?2", params![after_seq, limit], audit_from_row))
            .await
    }

    async fn issued_expiry(&self, jti: &str, from: i64, to: i64) -> Result<Option<i64>> {
        let needle = jti.to_owned();
        let details: Vec<Option<String>> = self
            .run(move |c| {
                all(
                    c,
                    "SELECT details FROM audit WHERE at BETWEEN ?1 AND ?2 AND action = 'issue' AND decision = 'allow' \
                     AND instr(details, ?3) > 0",
                    params![from, to, needle],
                    |r| r.get(0),
                )
            })
            .await?;
        Ok(super::expiry_in(details.iter().flatten().map(String::as_str), jti))
    }

    async fn record_issue(&self, event: NewAuditEvent, rate: Option<RateCheck>) -> Result<std::result::Result<i64, (u32, Option<i64>)>> {
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if let Some(r) = &rate {
                let window = issued_window(&tx, &r.client, r.since)?;
                if window.0 >= r.limit {
                    return Ok(Err(window));
                }
            }
            let seq = append_audit(&tx, std::slice::from_ref(&event))?;
            tx.commit()?;
            Ok(Ok(seq.first().copied().unwrap_or_default()))
        })
        .await
    }

    async fn issued_since(&self, client: &str, since: i64) -> Result<(u32, Option<i64>)> {
        let client = client.to_owned();
        self.run(move |c| issued_window(c, &client, since)).await
    }
}
