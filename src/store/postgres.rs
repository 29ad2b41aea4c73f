//! The PostgreSQL backend: one database shared by several `mcpca` processes (replicas), with
//! the semantics of the SQLite backend exactly — the same rows (see
//! `migrations/postgres_0001_init.sql`), the same orders, the same errors.
//!
//! Writers queue on one row: every write transaction starts by locking the audit chain's head
//! (`SELECT … FOR UPDATE` on `heads`), as SQLite writers queue on the file lock with
//! `BEGIN IMMEDIATE`. So the chain has one order whatever process appends, the rate check of
//! [`Store::record_issue`] sees every issuance committed before it, and revocation `seq`s
//! (counted in the same table) commit in the order they are given.
//!
//! Connections come from a small pool of its own. TLS follows libpq's `sslmode` (`disable`,
//! `prefer` — the default —, `require`, `verify-ca`, `verify-full`) and `sslrootcert` (a PEM
//! CA file) in the URL, over the binary's rustls; `prefer` and `require` encrypt without
//! checking the certificate unless `sslrootcert` is given, `verify-*` without it trust
//! Mozilla's roots (see `postgres/tls.rs` and docs/deploying.md). The LISTEN connection uses
//! the same settings.
//!
//! The store connects lazily: the first operation connects and applies the embedded
//! migrations, in one transaction under an advisory lock (two replicas starting together
//! migrate once), and refuses a schema newer than this binary ([`Error::SchemaTooNew`]).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{OnceCell, Semaphore};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Config, Transaction};

use super::*;
use crate::audit::GENESIS;
use crate::{Error, Result};

mod copy;
mod hot;
mod pool;
mod rows;
mod tls;

use pool::{describe, target, Conn, Pool};
use rows::*;

pub use hot::{Change, Listener, CHANNEL};
pub(crate) use tls::hint as connect_hint;
use tls::SslMode;

/// Migrations, in order; the schema version is their count (table `mcpca_schema`).
const MIGRATIONS: &[&str] = &[include_str!("migrations/postgres_0001_init.sql"), include_str!("migrations/postgres_0002_notify.sql")];

/// Schema version this binary writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Key of the advisory lock held while migrating ("mcpca_mg").
const MIGRATION_LOCK: i64 = 0x6d63_7063_615f_6d67;

/// Most connections one process opens.
const POOL_SIZE: usize = 16;

/// How long connecting may take when the URL sets no `connect_timeout`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

type Param<'a> = &'a (dyn ToSql + Sync);

/// Whether a database URL names PostgreSQL.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// A PostgreSQL-backed store. Cloning shares the pool.
#[derive(Clone)]
pub struct PgStore {
    pool: Arc<Pool>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The target without the password.
        f.debug_struct("PgStore").field("target", &self.pool.target).field("sslmode", &self.pool.tls.mode.as_str()).finish_non_exhaustive()
    }
}

impl PgStore {
    /// A store for `url` (`postgres://user@host:port/db?sslmode=…&options=…`). Reads the CA
    /// file of `sslrootcert` now; connects on first use.
    pub fn new(url: &str) -> Result<Self> {
        let hint = "give a URL like postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE";
        if !is_postgres_url(url) {
            return Err(Error::invalid("the database URL must start with postgres:// or postgresql://", hint));
        }
        let (url, tls) = tls::Tls::from_url(url)?;
        // The parser's message never holds the password.
        let mut config: Config = url.parse().map_err(|e| Error::invalid(format!("the database URL is not valid: {e}"), hint))?;
        config.ssl_mode(tls.negotiation());
        #[cfg(unix)]
        if tls.mode != SslMode::Disable
            && tls.mode != SslMode::Prefer
            && config.get_hostaddrs().is_empty()
            && !config.get_hosts().is_empty()
            && config.get_hosts().iter().all(|h| matches!(h, tokio_postgres::config::Host::Unix(_)))
        {
            return Err(Error::invalid(
                format!("sslmode={} asks for TLS, which PostgreSQL does not offer on a Unix socket", tls.mode.as_str()),
                "on the local socket use sslmode=prefer or disable (the traffic does not leave the machine), or connect over TCP for TLS",
            ));
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("mcpca");
        }
        let target = target(&config);
        Ok(PgStore {
            pool: Arc::new(Pool {
                config,
                tls,
                target,
                idle: Mutex::new(Vec::new()),
                permits: Semaphore::new(POOL_SIZE),
                migrated: OnceCell::new(),
            }),
        })
    }

    /// [`PgStore::new`], then connect and bring the schema up to date now.
    pub async fn connect(url: &str) -> Result<Self> {
        let s = Self::new(url)?;
        drop(s.conn().await?);
        Ok(s)
    }

    /// `user@host:port/db`, without the password.
    pub fn target(&self) -> &str {
        &self.pool.target
    }

    /// A connection to a migrated database.
    async fn conn(&self) -> Result<Conn<'_>> {
        self.pool
            .migrated
            .get_or_try_init(|| async {
                let mut c = self.pool.get().await?;
                migrate(&mut c).await
            })
            .await?;
        self.pool.get().await
    }
}

/// Apply the migrations this database lacks, in one transaction under an advisory lock.
async fn migrate(c: &mut Client) -> Result<()> {
    let tx = c.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS mcpca_schema (version BIGINT NOT NULL)").await?;
    let current: Option<i64> = tx.query_opt("SELECT max(version) FROM mcpca_schema", &[]).await?.and_then(|r| r.get(0));
    let current = current.unwrap_or(0);
    // Ended explicitly (not by drop), so the advisory lock is released before the connection
    // goes back to the pool.
    if current > SCHEMA_VERSION {
        tx.rollback().await?;
        return Err(Error::SchemaTooNew { found: current, supported: SCHEMA_VERSION });
    }
    if current == SCHEMA_VERSION {
        tx.commit().await?;
        return Ok(());
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(usize::try_from(current).unwrap_or(0)) {
        tx.batch_execute(sql).await.map_err(|e| Error::Store(format!("migration {} failed: {}", i + 1, describe(&e))))?;
    }
    tx.execute("DELETE FROM mcpca_schema", &[]).await?;
    tx.execute("INSERT INTO mcpca_schema (version) VALUES ($1)", &[&SCHEMA_VERSION]).await?;
    tx.commit().await?;
    Ok(())
}

/// A write transaction holding the audit chain's head.
/// Insert `row` into `clients` (`suffix`: an `ON CONFLICT` clause, or nothing); rows inserted.
/// Shared by `add_client` and the row-for-row copy of `mcpca migrate`.
async fn insert_client(tx: &Transaction<'_>, row: &ClientRow, suffix: &str) -> Result<u64> {
    let allow = serde_json::to_string(&row.allow).map_err(|e| Error::Store(e.to_string()))?;
    let sql = format!(
        "INSERT INTO clients (id, tenant, allow, max_ttl, rate_per_min, status, status_reason, secret_hash, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10){suffix}"
    );
    Ok(tx
        .execute(
            &sql,
            &[
                &row.id,
                &row.tenant,
                &allow,
                &row.max_ttl.map(|d| d.as_i64()),
                &row.rate_per_min.map(i64::from),
                &row.status.as_str(),
                &row.status_reason,
                &row.secret_hash.as_slice(),
                &row.created_at,
                &row.updated_at,
            ],
        )
        .await?)
}

/// Sealed audit events, column by column (the arrays of one `INSERT … SELECT * FROM unnest(…)`).
#[derive(Default)]
struct AuditColumns {
    seq: Vec<i64>,
    at: Vec<i64>,
    actor: Vec<String>,
    action: Vec<String>,
    target: Vec<String>,
    decision: Vec<Option<&'static str>>,
    code: Vec<Option<String>>,
    details: Vec<Option<String>>,
    prev_hash: Vec<String>,
    hash: Vec<String>,
}

impl AuditColumns {
    fn with_capacity(n: usize) -> Self {
        AuditColumns {
            seq: Vec::with_capacity(n),
            at: Vec::with_capacity(n),
            actor: Vec::with_capacity(n),
            action: Vec::with_capacity(n),
            target: Vec::with_capacity(n),
            decision: Vec::with_capacity(n),
            code: Vec::with_capacity(n),
            details: Vec::with_capacity(n),
            prev_hash: Vec::with_capacity(n),
            hash: Vec::with_capacity(n),
        }
    }
}

struct Writer<'a> {
    tx: Transaction<'a>,
    seq: i64,
    hash: String,
}

impl<'a> Writer<'a> {
    async fn begin(c: &'a mut Client) -> Result<Self> {
        let tx = c.transaction().await?;
        // Marks the transaction as mcpca's (audited) for the change announcements of migration
        // 2; sent in the same round trip as the lock.
        let (_, head) = tokio::try_join!(
            tx.execute("SELECT set_config('mcpca.audited', 'on', true)", &[]),
            tx.query_one("SELECT seq, hash FROM heads WHERE name = 'audit' FOR UPDATE", &[]),
        )?;
        let hash: Option<String> = head.try_get(1)?;
        Ok(Writer { tx, seq: head.try_get(0)?, hash: hash.unwrap_or_else(|| GENESIS.to_owned()) })
    }

    /// Append events after the head of the chain: sealed in order here, inserted by one
    /// statement (one round trip whatever the number of events: a group commit of a hundred
    /// issuances costs about what one does).
    async fn append(&mut self, events: Vec<NewAuditEvent>) -> Result<Vec<i64>> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let n = events.len();
        let mut cols = AuditColumns::with_capacity(n);
        let mut seqs = Vec::with_capacity(n);
        for e in events {
            let seq = self.seq + 1;
            let hash = e.hash_at(seq, &self.hash);
            cols.seq.push(seq);
            cols.at.push(e.at);
            cols.actor.push(e.actor);
            cols.action.push(e.action);
            cols.target.push(e.target);
            cols.decision.push(e.decision.map(Decision::as_str));
            cols.code.push(e.code);
            cols.details.push((!e.details.is_empty()).then_some(e.details));
            cols.prev_hash.push(std::mem::replace(&mut self.hash, hash.clone()));
            cols.hash.push(hash);
            seqs.push(seq);
            self.seq = seq;
        }
        let stmt = self
            .tx
            .prepare(
                "INSERT INTO audit (seq, at, actor, action, target, decision, code, details, prev_hash, hash) \
                 SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], \
                 $7::text[], $8::text[], $9::text[], $10::text[])",
            )
            .await?;
        let c = &cols;
        self.tx
            .execute(&stmt, &[&c.seq, &c.at, &c.actor, &c.action, &c.target, &c.decision, &c.code, &c.details, &c.prev_hash, &c.hash])
            .await?;
        self.tx.execute("UPDATE heads SET seq = $1, hash = $2 WHERE name = 'audit'", &[&self.seq, &self.hash]).await?;
        Ok(seqs)
    }

    /// Append `audit` and commit.
    async fn commit(mut self, audit: Vec<NewAuditEvent>) -> Result<()> {
        self.append(audit).await?;
        self.tx.commit().await?;
        Ok(())
    }
}

/// Allowed issuances of `client` at or after `since`: how many, and the earliest.
async fn issued_window(c: &impl tokio_postgres::GenericClient, client: &str, since: i64) -> Result<(u32, Option<i64>)> {
    let r = c
        .query_one(
            "SELECT count(*), min(at) FROM audit WHERE actor = $1 AND action = 'issue' AND decision = 'allow' AND at >= $2",
            &[&client, &since],
        )
        .await?;
    let n: i64 = r.try_get(0)?;
    Ok((u32::try_from(n).unwrap_or(u32::MAX), r.try_get(1)?))
}

/// Give the next revocation `seq` (kept across pruning) and insert the entry.
async fn insert_revocation(tx: &Transaction<'_>, r: &NewRevocation) -> Result<i64> {
    let seq: i64 = tx.query_one("UPDATE heads SET seq = seq + 1 WHERE name = 'revocations' RETURNING seq", &[]).await?.try_get(0)?;
    tx.execute(
        "INSERT INTO revocations (seq, kind, id, revoked_at, expires_at, reason) VALUES ($1, $2, $3, $4, $5, $6)",
        &[&seq, &r.kind.as_str(), &r.id, &r.revoked_at, &r.expires_at, &r.reason],
    )
    .await?;
    Ok(seq)
}

/// Mark the highest non-deleted version of `name` as latest (none when the name is deleted).
async fn recompute_latest(tx: &Transaction<'_>, name: &str) -> Result<()> {
    let name_status: String = tx.query_one("SELECT status FROM servers WHERE name = $1", &[&name]).await?.try_get(0)?;
    let rows = tx.query("SELECT version, published_at FROM server_versions WHERE name = $1 AND status <> 'deleted'", &[&name]).await?;
    let mut candidates = Vec::with_capacity(rows.len());
    for r in &rows {
        candidates.push((r.try_get::<_, String>(0)?, r.try_get::<_, i64>(1)?));
    }
    let latest = if name_status == Status::Deleted.as_str() {
        None
    } else {
        candidates.iter().max_by(|a, b| compare_versions((&a.0, a.1), (&b.0, b.1))).map(|c| c.0.clone())
    };
    tx.execute("UPDATE server_versions SET is_latest = (version IS NOT DISTINCT FROM $2) WHERE name = $1", &[&name, &latest]).await?;
    Ok(())
}

/// Insert one version (and its name if new) inside a transaction; reports instead of failing
/// on an existing version or a URL owned by another server.
async fn insert_version(tx: &Transaction<'_>, new: &NewServerVersion) -> Result<ImportOutcome> {
    let v = &new.version;
    for url in &new.remote_urls {
        let owner = tx.query_opt("SELECT name FROM remote_urls WHERE url = $1 AND name <> $2 LIMIT 1", &[url, &v.name]).await?;
        if let Some(owner) = owner {
            let owner: String = owner.try_get(0)?;
            return Ok(ImportOutcome::UrlConflict(format!("{url} belongs to {owner}")));
        }
    }
    let existing = tx.query_opt("SELECT document FROM server_versions WHERE name = $1 AND version = $2", &[&v.name, &v.version]).await?;
    if let Some(doc) = existing {
        let doc: String = doc.try_get(0)?;
        let same = serde_json::from_str::<serde_json::Value>(&doc).ok() == serde_json::from_str::<serde_json::Value>(&v.document).ok();
        return Ok(if same { ImportOutcome::Unchanged } else { ImportOutcome::DuplicateVersion });
    }
    let max_ttl = new.max_ttl.map(|d| d.as_i64());
    tx.execute(
        "INSERT INTO servers (name, status, status_changed_at, verified, max_ttl, created_at, updated_at) \
         VALUES ($1, 'active', $2, $3, $4, $2, $2) ON CONFLICT (name) DO NOTHING",
        &[&v.name, &v.published_at, &new.verified.unwrap_or(false), &max_ttl],
    )
    .await?;
    if let Some(verified) = new.verified {
        tx.execute("UPDATE servers SET verified = $2, updated_at = $3 WHERE name = $1", &[&v.name, &verified, &v.published_at]).await?;
    }
    if let Some(ttl) = max_ttl {
        tx.execute("UPDATE servers SET max_ttl = $2, updated_at = $3 WHERE name = $1", &[&v.name, &ttl, &v.published_at]).await?;
    }
    tx.execute(
        "INSERT INTO server_versions (name, version, document, endpoint, status, status_reason, status_changed_at, published_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[&v.name, &v.version, &v.document, &v.endpoint, &v.status.as_str(), &v.status_reason, &v.status_changed_at, &v.published_at, &v.updated_at],
    )
    .await?;
    for url in &new.remote_urls {
        tx.execute("INSERT INTO remote_urls (url, name, version) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", &[url, &v.name, &v.version])
            .await?;
    }
    recompute_latest(tx, &v.name).await?;
    Ok(ImportOutcome::Imported)
}

/// Dynamic SQL with numbered parameters, so each one is referenced (PostgreSQL infers every
/// parameter's type from its use).
struct Sql<'a> {
    text: String,
    params: Vec<Param<'a>>,
}

impl<'a> Sql<'a> {
    fn new(text: impl Into<String>) -> Self {
        Sql { text: text.into(), params: Vec::new() }
    }
    /// Add a parameter; returns its placeholder.
    fn bind(&mut self, p: Param<'a>) -> String {
        self.params.push(p);
        format!("${}", self.params.len())
    }
}

#[async_trait]
impl Store for PgStore {
    async fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let c = self.conn().await?;
        Ok(c.query_opt("SELECT value FROM meta WHERE key = $1", &[&key]).await?.map(|r| r.try_get(0)).transpose()?)
    }

    async fn put_meta_if_absent(&self, key: &str, value: &[u8]) -> Result<bool> {
        let c = self.conn().await?;
        Ok(c.execute("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING", &[&key, &value]).await? == 1)
    }

    async fn list_keys(&self) -> Result<Vec<KeyRow>> {
        let c = self.conn().await?;
        map_rows(c.query("SELECT * FROM keys ORDER BY created_at, ord", &[]).await?, key_from_row)
    }

    async fn write_keys(&self, writes: Vec<KeyWrite>, revocations: Vec<NewRevocation>, audit: NewAuditEvent) -> Result<()> {
        let mut c = self.conn().await?;
        let w = Writer::begin(&mut c).await?;
        for kw in &writes {
            let k = &kw.row;
            let public = k.public_key.as_slice();
            let changed = match kw.expect {
                None => {
                    w.tx.execute(
                        "INSERT INTO keys (kid, state, public_key, sealed_private, created_at, activated_at, retire_at, retired_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                        &[
                            &k.kid,
                            &k.state.as_str(),
                            &public,
                            &k.sealed_private,
                            &k.created_at,
                            &k.activated_at,
                            &k.retire_at,
                            &k.retired_at,
                        ],
                    )
                    .await?
                }
                Some(expect) => {
                    w.tx.execute(
                        "UPDATE keys SET state = $2, sealed_private = $3, activated_at = $4, retire_at = $5, retired_at = $6 \
                         WHERE kid = $1 AND state = $7",
                        &[&k.kid, &k.state.as_str(), &k.sealed_private, &k.activated_at, &k.retire_at, &k.retired_at, &expect.as_str()],
                    )
                    .await?
                }
            };
            if changed != 1 {
                return Err(Error::refused(
                    format!("key {} changed while this command ran", k.kid),
                    "another mcpca changed the keys at the same time; run the command again",
                ));
            }
        }
        for r in &revocations {
            insert_revocation(&w.tx, r).await?;
        }
        w.commit(vec![audit]).await
    }

    async fn add_server_version(&self, new: NewServerVersion, audit: NewAuditEvent) -> Result<()> {
        let mut c = self.conn().await?;
        let w = Writer::begin(&mut c).await?;
        let id = format!("{}@{}", new.version.name, new.version.version);
        match insert_version(&w.tx, &new).await? {
            ImportOutcome::Imported => w.commit(vec![audit]).await,
            ImportOutcome::UrlConflict(why) => Err(Error::Conflict {
                what: "remote URL",
                id: why,
                hint: Some("a remote URL belongs to one server; use another URL or add a version of that server".into()),
            }),
            ImportOutcome::Unchanged | ImportOutcome::DuplicateVersion => Err(Error::Conflict {
                what: "server version",
                id,
                hint: Some(
                    "published versions are immutable: publish a new version, or change authority fields with `mcpca server update`".into(),
                ),
            }),
        }
    }

    async fn import_versions(&self, batch: Vec<(NewServerVersion, NewAuditEvent)>, dry_run: bool) -> Result<Vec<ImportOutcome>> {
        let mut c = self.conn().await?;
        let mut w = Writer::begin(&mut c).await?;
        let mut outcomes = Vec::with_capacity(batch.len());
        let mut events = Vec::new();
        for (new, event) in batch {
            let o = insert_version(&w.tx, &new).await?;
            if o == ImportOutcome::Imported {
                events.push(event);
            }
            outcomes.push(o);
        }
        if dry_run {
            w.append(events).await?;
            w.tx.rollback().await?;
        } else {
            w.commit(events).await?;
        }
        Ok(outcomes)
    }

    async fn get_server(&self, name: &str, version: Option<&str>) -> Result<Option<ServerRow>> {
        let c = self.conn().await?;
        let row = match version {
            Some(v) => {
                c.query_opt(
                    &format!("SELECT {SERVER_COLUMNS} FROM server_versions v JOIN servers s ON s.name = v.name WHERE v.name = $1 AND v.version = $2"),
                    &[&name, &v],
                )
                .await?
            }
            None => {
                c.query_opt(
                    &format!("SELECT {SERVER_COLUMNS} FROM server_versions v JOIN servers s ON s.name = v.name WHERE v.name = $1 AND v.is_latest"),
                    &[&name],
                )
                .await?
            }
        };
        row.as_ref().map(server_from_row).transpose()
    }

    async fn server_by_endpoint(&self, canonical_url: &str) -> Result<Option<(String, String)>> {
        let c = self.conn().await?;
        let rows = c
            .query(
                "SELECT r.name, r.version, v.published_at FROM remote_urls r \
                 JOIN server_versions v ON v.name = r.name AND v.version = r.version \
                 JOIN servers s ON s.name = r.name \
                 WHERE r.url = $1 AND v.status <> 'deleted' AND s.status <> 'deleted'",
                &[&canonical_url],
            )
            .await?;
        let mut candidates = Vec::with_capacity(rows.len());
        for r in &rows {
            candidates.push((r.try_get::<_, String>(0)?, r.try_get::<_, String>(1)?, r.try_get::<_, i64>(2)?));
        }
        // A URL belongs to one name; among its versions the latest (as `isLatest` orders them) wins.
        Ok(candidates.into_iter().max_by(|a, b| compare_versions((&a.1, a.2), (&b.1, b.2))).map(|(name, version, _)| (name, version)))
    }

    async fn list_versions(&self, name: &str) -> Result<Vec<ServerRow>> {
        let c = self.conn().await?;
        let sql =
            format!("SELECT {SERVER_COLUMNS} FROM server_versions v JOIN servers s ON s.name = v.name WHERE v.name = $1 ORDER BY v.published_at, v.ord");
        map_rows(c.query(&sql, &[&name]).await?, server_from_row)
    }

    async fn list_servers(&self, filter: &ServerFilter) -> Result<Vec<ServerRow>> {
        let c = self.conn().await?;
        let mut q = Sql::new(format!("SELECT {SERVER_COLUMNS} FROM server_versions v JOIN servers s ON s.name = v.name WHERE TRUE"));
        if !filter.include_deleted {
            q.text.push_str(" AND s.status <> 'deleted' AND v.status <> 'deleted'");
        }
        if filter.latest_only {
            q.text.push_str(" AND v.is_latest");
        }
        if let Some(s) = &filter.search {
            let p = q.bind(s);
            q.text.push_str(&format!(" AND strpos(lower(v.name), lower({p})) > 0"));
        }
        q.text.push_str(" ORDER BY v.name, v.version");
        let rows = map_rows(c.query(&q.text, &q.params).await?, server_from_row)?;
        Ok(rows.into_iter().filter(|r| filter.status.is_none_or(|s| Status::effective(r.name.status, r.version.status) == s)).collect())
    }

    async fn list_page(&self, page: &ServerPage) -> Result<Vec<ServerRow>> {
        let c = self.conn().await?;
        let mut q = Sql::new(format!("SELECT {SERVER_COLUMNS} FROM server_versions v JOIN servers s ON s.name = v.name WHERE TRUE"));
        if let Some((name, version)) = &page.after {
            let (n, v) = (q.bind(name), q.bind(version));
            q.text.push_str(&format!(" AND (v.name, v.version) > ({n}, {v})"));
        }
        if !page.include_deleted {
            q.text.push_str(" AND s.status <> 'deleted' AND v.status <> 'deleted'");
        }
        if page.latest_only {
            q.text.push_str(" AND v.is_latest");
        }
        if let Some(version) = &page.version {
            let p = q.bind(version);
            q.text.push_str(&format!(" AND v.version = {p}"));
        }
        if let Some(s) = &page.search {
            let p = q.bind(s);
            q.text.push_str(&format!(" AND strpos(lower(v.name), lower({p})) > 0"));
        }
        if let Some(since) = &page.updated_since {
            // The entry's `updatedAt` is the later of its version's and its name's change.
            let p = q.bind(since);
            q.text.push_str(&format!(" AND (v.updated_at >= {p} OR s.updated_at >= {p})"));
        }
        let limit = i64::from(page.limit);
        let p = q.bind(&limit);
        q.text.push_str(&format!(" ORDER BY v.name, v.version LIMIT {p}"));
        map_rows(c.query(&q.text, &q.params).await?, server_from_row)
    }

    async fn update_server(&self, name: &str, update: ServerUpdate, at: i64, audit: NewAuditEvent) -> Result<()> {
        let mut c = self.conn().await?;
        let w = Writer::begin(&mut c).await?;
        if w.tx.query_opt("SELECT 1 FROM servers WHERE name = $1", &[&name]).await?.is_none() {
            return Err(Error::NotFound { what: "server", id: name.to_owned() });
        }
        if let Some(v) = update.verified {
            w.tx.execute("UPDATE servers SET verified = $2, updated_at = $3 WHERE name = $1", &[&name, &v, &at]).await?;
        }
        if let Some(ttl) = update.max_ttl {
            w.tx.execute("UPDATE servers SET max_ttl = $2, updated_at = $3 WHERE name = $1", &[&name, &ttl.map(|d| d.as_i64()), &at])
                .await?;
        }
        w.commit(vec![audit]).await
    }

    async fn set_status(&self, change: StatusChange, revocation: Option<NewRevocation>, audit: NewAuditEvent) -> Result<()> {
        let mut c = self.conn().await?;
        let w = Writer::begin(&mut c).await?;
        let n = match &change.version {
            None => {
                w.tx.execute(
                    "UPDATE servers SET status = $2, status_reason = $3, status_changed_at = $4, updated_at = $4 WHERE name = $1",
                    &[&change.name, &change.status.as_str(), &change.reason, &change.at],
                )
                .await?
            }
            Some(v) => {
                w.tx.execute(
                    "UPDATE server_versions SET status = $3, status_reason = $4, status_changed_at = $5, updated_at = $5 WHERE name = $1 AND version = $2",
                    &[&change.name, v, &change.status.as_str(), &change.reason, &change.at],
                )
                .await?
            }
        };
        if n == 0 {
            let id = match &change.version {
                Some(v) => format!("{}@{v}", change.name),
                None => change.name.clone(),
            };
            return Err(Error::NotFound { what: "server", id });
        }
        if let Some(r) = &revocation {
            insert_revocation(&w.tx, r).await?;
        }
        recompute_latest(&w.tx, &change.name).await?;
        w.commit(vec![audit]).await
    }

    async fn add_revocation(&self, revocation: NewRevocation, audit: NewAuditEvent) -> Result<i64> {
        let mut c = self.conn().await?;
        let w = Writer::begin(&mut c).await?;
        let seq = insert_revocation(&w.tx, &revocation).await?;
        w.commit(vec![audit]).await?;
        Ok(seq)
    }

    async fn list_revocations(&self, since: i64) -> Result<Vec<Revocation>> {
        let c = self.conn().await?;
        map_rows(c.query("SELECT * FROM revocations WHERE seq > $1 ORDER BY seq", &[&since]).await?, revocation_from_row)
    }

    async fn revocation_seq(&self) -> Result<i64> {
        // The counter keeps the highest seq even after pruning.
        let c = self.conn().await?;
        Ok(c.query_one("SELECT seq FROM heads WHERE name = 'revocations'", &[]).await?.try_get(0)?)
    }

    async fn prune_revocations(&self, now: i64) -> Result<u64> {
        let c = self.conn().await?;
        Ok(c.execute("DELETE FROM revocations WHERE expires_at <= $1", &[&now]).await?)
    }

    async fn add_client(&self, row: ClientRow, audit: NewAuditEvent) -> Result<()> {
        let mut c = self.conn().await?;
        let w = Writer::begin(&mut c).await?;
        let n = insert_client(&w.tx, &row, " ON CONFLICT (id) DO NOTHING").await?;
        if n == 0 {
            return Err(Error::Conflict {
                what: "client",
                id: row.id,
                hint: Some("pick another id, or see `mcpca client show ID`".into()),
            });
        }
        w.commit(vec![audit]).await
    }

    async fn get_client(&self, id: &str) -> Result<Option<ClientRow>> {
        let c = self.conn().await?;
        c.query_opt("SELECT * FROM clients WHERE id = $1", &[&id]).await?.as_ref().map(client_from_row).transpose()
    }

    async fn find_client_by_secret(&self, hash: &[u8; 32]) -> Result<Option<ClientRow>> {
        let c = self.conn().await?;
        let hash = hash.as_slice();
        c.query_opt("SELECT * FROM clients WHERE secret_hash = $1", &[&hash]).await?.as_ref().map(client_from_row).transpose()
    }

    async fn list_clients(&self) -> Result<Vec<ClientRow>> {
        let c = self.conn().await?;
        map_rows(c.query("SELECT * FROM clients ORDER BY id", &[]).await?, client_from_row)
    }

    async fn update_client(&self, row: ClientRow, revocation: Option<NewRevocation>, audit: NewAuditEvent) -> Result<()> {
        let mut c = self.conn().await?;
        let w = Writer::begin(&mut c).await?;
        let allow = serde_json::to_string(&row.allow).map_err(|e| Error::Store(e.to_string()))?;
        let n =
            w.tx.execute(
                "UPDATE clients SET tenant = $2, allow = $3, max_ttl = $4, rate_per_min = $5, status = $6, status_reason = $7, \
                 secret_hash = $8, updated_at = $9 WHERE id = $1",
                &[
                    &row.id,
                    &row.tenant,
                    &allow,
                    &row.max_ttl.map(|d| d.as_i64()),
                    &row.rate_per_min.map(i64::from),
                    &row.status.as_str(),
                    &row.status_reason,
                    &row.secret_hash.as_slice(),
                    &row.updated_at,
                ],
            )
            .await?;
        if n == 0 {
            return Err(Error::NotFound { what: "client", id: row.id });
        }
        if let Some(r) = &revocation {
            insert_revocation(&w.tx, r).await?;
        }
        w.commit(vec![audit]).await
    }

    async fn remove_client(&self, id: &str, revocation: Option<NewRevocation>, audit: NewAuditEvent) -> Result<()> {
        let mut c = self.conn().await?;
        let w = Writer::begin(&mut c).await?;
        if w.tx.execute("DELETE FROM clients WHERE id = $1", &[&id]).await? == 0 {
            return Err(Error::NotFound { what: "client", id: id.to_owned() });
        }
        if let Some(r) = &revocation {
            insert_revocation(&w.tx, r).await?;
        }
        w.commit(vec![audit]).await
    }

    async fn add_token(&self, row: TokenRow, audit: NewAuditEvent) -> Result<()> {
        let mut c = self.conn().await?;
        let w = Writer::begin(&mut c).await?;
        w.tx.execute(
            "INSERT INTO admin_tokens (id, name, role, token_hash, created_at, expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[&row.id, &row.name, &row.role.as_str(), &row.token_hash.as_slice(), &row.created_at, &row.expires_at, &row.revoked_at],
        )
        .await?;
        w.commit(vec![audit]).await
    }

    async fn list_tokens(&self) -> Result<Vec<TokenRow>> {
        let c = self.conn().await?;
        map_rows(c.query("SELECT * FROM admin_tokens ORDER BY created_at, ord", &[]).await?, token_from_row)
    }

    async fn find_token_by_hash(&self, hash: &[u8; 32]) -> Result<Option<TokenRow>> {
        let c = self.conn().await?;
        let hash = hash.as_slice();
        c.query_opt("SELECT * FROM admin_tokens WHERE token_hash = $1", &[&hash]).await?.as_ref().map(token_from_row).transpose()
    }

    async fn revoke_token(&self, id: &str, at: i64, audit: NewAuditEvent) -> Result<()> {
        let mut c = self.conn().await?;
        let w = Writer::begin(&mut c).await?;
        if w.tx.execute("UPDATE admin_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL", &[&id, &at]).await? == 0 {
            let exists = w.tx.query_opt("SELECT 1 FROM admin_tokens WHERE id = $1", &[&id]).await?.is_some();
            return Err(if exists {
                Error::refused(format!("token {id} is already revoked"), "see `mcpca token list`")
            } else {
                Error::NotFound { what: "token", id: id.to_owned() }
            });
        }
        w.commit(vec![audit]).await
    }

    async fn append_audit(&self, events: Vec<NewAuditEvent>) -> Result<Vec<i64>> {
        let mut c = self.conn().await?;
        let mut w = Writer::begin(&mut c).await?;
        let seqs = w.append(events).await?;
        w.tx.commit().await?;
        Ok(seqs)
    }

    async fn list_audit(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>> {
        let c = self.conn().await?;
        let since = filter.since.unwrap_or(i64::MIN);
        let mut q = Sql::new("");
        let p = q.bind(&since);
        q.text = format!("SELECT * FROM audit WHERE at >= {p}");
        if let Some(server) = &filter.server {
            // Exact and case-sensitive: LIKE would ignore case and treat `_` in names as a wildcard.
            let p = q.bind(server);
            q.text.push_str(&format!(" AND (target = {p} OR substr(target, 1, length({p}) + 1) = {p} || '@')"));
        }
        if let Some(client) = &filter.client {
            let p = q.bind(client);
            q.text.push_str(&format!(" AND (actor = {p} OR (target = {p} AND action LIKE 'client.%'))"));
        }
        let decision = filter.decision.map(Decision::as_str);
        if let Some(d) = &decision {
            let p = q.bind(d);
            q.text.push_str(&format!(" AND decision = {p}"));
        }
        let limit = filter.limit.map(i64::from);
        let p = q.bind(&limit);
        q.text.push_str(&format!(" ORDER BY seq DESC LIMIT {p}"));
        let mut rows = map_rows(c.query(&q.text, &q.params).await?, audit_from_row)?;
        rows.reverse();
        Ok(rows)
    }

    async fn audit_page(&self, after_seq: i64, limit: u32) -> Result<Vec<AuditEvent>> {
        let c = self.conn().await?;
        map_rows(
            c.query("SELECT * FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2", &[&after_seq, &i64::from(limit)]).await?,
            audit_from_row,
        )
    }

    async fn issued_expiry(&self, jti: &str, from: i64, to: i64) -> Result<Option<i64>> {
        let c = self.conn().await?;
        let rows = c
            .query(
                "SELECT details FROM audit WHERE at BETWEEN $1 AND $2 AND action = 'issue' AND decision = 'allow' \
                 AND strpos(details, $3) > 0",
                &[&from, &to, &jti],
            )
            .await?;
        let details: Vec<Option<String>> = rows.iter().map(|r| r.try_get(0)).collect::<std::result::Result<_, _>>()?;
        Ok(super::expiry_in(details.iter().flatten().map(String::as_str), jti))
    }

    async fn issued_since(&self, client: &str, since: i64) -> Result<(u32, Option<i64>)> {
        let c = self.conn().await?;
        issued_window(&*c, client, since).await
    }

    async fn record_issue(&self, event: NewAuditEvent, rate: Option<RateCheck>) -> Result<std::result::Result<i64, (u32, Option<i64>)>> {
        let mut out = self.record_batch(vec![(event, rate)]).await?;
        out.pop().ok_or_else(|| Error::Store("a recorded issuance has no outcome".into()))
    }
}
