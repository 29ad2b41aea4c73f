//! Persistence behind one async `Store` trait, so the embedded SQLite file and a PostgreSQL
//! database for several replicas are interchangeable. Rows here are storage shapes; the
//! authority turns them into the wire types of `model`.

use async_trait::async_trait;

use crate::audit::{AuditEvent, Decision, NewAuditEvent};
use crate::duration::Dur;
use crate::keys::KeyState;
use crate::model::{Revocation, RevocationKind, Status};
use crate::Result;

pub mod hot;
pub mod postgres;
pub mod sqlite;

pub use postgres::{is_postgres_url, PgStore};
pub use sqlite::SqliteStore;

/// A signing key as stored. `sealed_private` is the KEK-encrypted seed; it is dropped when the
/// key is retired or revoked.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyRow {
    pub kid: String,
    pub state: KeyState,
    pub public_key: [u8; 32],
    pub sealed_private: Option<Vec<u8>>,
    pub created_at: i64,
    pub activated_at: Option<i64>,
    pub retire_at: Option<i64>,
    pub retired_at: Option<i64>,
}

impl std::fmt::Debug for KeyRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRow")
            .field("kid", &self.kid)
            .field("state", &self.state)
            .field("sealed_private", &self.sealed_private.as_ref().map(|_| "<sealed>"))
            .finish_non_exhaustive()
    }
}

/// One write of a key-lifecycle change: an insert (`expect` is `None`) or an update that only
/// applies if the key is still in the `expect`ed state — so two concurrent rotations cannot
/// both succeed.
#[derive(Debug, Clone)]
pub struct KeyWrite {
    pub row: KeyRow,
    pub expect: Option<KeyState>,
}

/// A new revocation entry; the store assigns `seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRevocation {
    pub kind: RevocationKind,
    pub id: String,
    pub revoked_at: i64,
    pub expires_at: i64,
    pub reason: Option<String>,
}

/// A server name with its name-level authority fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerNameRow {
    pub name: String,
    pub status: Status,
    pub status_reason: Option<String>,
    pub status_changed_at: i64,
    pub verified: bool,
    pub max_ttl: Option<Dur>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One published version.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerVersionRow {
    pub name: String,
    pub version: String,
    /// The server.json document, as JSON text.
    pub document: String,
    pub endpoint: Option<String>,
    pub status: Status,
    pub status_reason: Option<String>,
    pub status_changed_at: i64,
    pub published_at: i64,
    pub updated_at: i64,
    pub is_latest: bool,
}

/// A version together with its name.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerRow {
    pub name: ServerNameRow,
    pub version: ServerVersionRow,
}

/// A version to add. `remote_urls` are canonical URLs; none may belong to another server name.
#[derive(Debug, Clone)]
pub struct NewServerVersion {
    pub version: ServerVersionRow,
    pub remote_urls: Vec<String>,
    /// Name-level fields to set when the name is new, or to update when given.
    pub verified: Option<bool>,
    pub max_ttl: Option<Dur>,
}

/// Filter of `server list`.
#[derive(Debug, Clone, Default)]
pub struct ServerFilter {
    /// Only this effective status.
    pub status: Option<Status>,
    /// Case-insensitive substring of the name.
    pub search: Option<String>,
    pub include_deleted: bool,
    /// Only the latest version of each name.
    pub latest_only: bool,
}

/// One page of the registry read API (`GET /v0.1/servers`), in `(name, version)` order.
/// Fetched with a range on the primary key, so a deep page costs what the first one does.
#[derive(Debug, Clone, Default)]
pub struct ServerPage {
    /// Start strictly after this `(name, version)` (the cursor).
    pub after: Option<(String, String)>,
    /// Most rows to return (ask one more than a page to learn whether another page follows).
    pub limit: u32,
    /// Case-insensitive substring of the name.
    pub search: Option<String>,
    /// Also versions whose name or version is `deleted`.
    pub include_deleted: bool,
    /// Only versions whose version or name row changed at or after this instant (Unix seconds).
    pub updated_since: Option<i64>,
    /// Only the latest version of each name.
    pub latest_only: bool,
    /// Only this exact version.
    pub version: Option<String>,
}

/// Change of name-level authority fields (`server update`).
#[derive(Debug, Clone, Default)]
pub struct ServerUpdate {
    pub verified: Option<bool>,
    /// `Some(None)` clears the limit.
    pub max_ttl: Option<Option<Dur>>,
}

/// A status change of a name (`version` is `None`) or one version.
#[derive(Debug, Clone)]
pub struct StatusChange {
    pub name: String,
    pub version: Option<String>,
    pub status: Status,
    pub reason: Option<String>,
    pub at: i64,
}

/// Status of a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientStatus {
    Active,
    Suspended,
}

impl ClientStatus {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientStatus::Active => "active",
            ClientStatus::Suspended => "suspended",
        }
    }
    /// Parse the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(ClientStatus::Active),
            "suspended" => Some(ClientStatus::Suspended),
            _ => None,
        }
    }
}

/// A client as stored: its policy and the hash of its secret.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientRow {
    pub id: String,
    pub tenant: Option<String>,
    /// Server patterns: `*`, a prefix `io.github.acme/*`, or an exact name.
    pub allow: Vec<String>,
    pub max_ttl: Option<Dur>,
    pub rate_per_min: Option<u32>,
    pub status: ClientStatus,
    pub status_reason: Option<String>,
    pub secret_hash: [u8; 32],
    pub created_at: i64,
    pub updated_at: i64,
}

impl std::fmt::Debug for ClientRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientRow").field("id", &self.id).field("status", &self.status).finish_non_exhaustive()
    }
}

/// Role of an admin token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything.
    Admin,
    /// Read only.
    Reader,
}

impl Role {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Reader => "reader",
        }
    }
    /// Parse the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(Role::Admin),
            "reader" => Some(Role::Reader),
            _ => None,
        }
    }
}

/// An admin token as stored (hash only).
#[derive(Clone, PartialEq, Eq)]
pub struct TokenRow {
    pub id: String,
    pub name: Option<String>,
    pub role: Role,
    pub token_hash: [u8; 32],
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl std::fmt::Debug for TokenRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRow").field("id", &self.id).field("role", &self.role).finish_non_exhaustive()
    }
}

/// Filter of `audit`.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Events at or after this instant.
    pub since: Option<i64>,
    /// Events whose target is this server (name or name@version).
    pub server: Option<String>,
    /// Events by or about this client.
    pub client: Option<String>,
    pub decision: Option<Decision>,
    /// The newest N (still printed oldest first).
    pub limit: Option<u32>,
}

/// What happened to one entry of an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportOutcome {
    Imported,
    /// The same name@version with the same document exists.
    Unchanged,
    /// The name@version exists with a different document (versions are immutable).
    DuplicateVersion,
    /// A remote URL belongs to another server.
    UrlConflict(String),
}

/// A rate limit to enforce while recording an issuance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateCheck {
    pub client: String,
    pub since: i64,
    pub limit: u32,
}

/// An audit event exactly as stored (its `details` text unparsed), for copying a chain
/// between backends without touching a hashed byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawAuditRow {
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub decision: Option<String>,
    pub code: Option<String>,
    pub details: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

/// Every row of an authority, in insertion order (`mcpca migrate`).
#[derive(Debug, Clone, Default)]
pub struct Dump {
    pub meta: Vec<(String, Vec<u8>)>,
    pub keys: Vec<KeyRow>,
    pub servers: Vec<ServerNameRow>,
    pub versions: Vec<ServerVersionRow>,
    /// `(url, name, version)`.
    pub remote_urls: Vec<(String, String, String)>,
    pub revocations: Vec<Revocation>,
    /// Highest revocation `seq` ever given (kept across pruning).
    pub revocation_seq: i64,
    pub clients: Vec<ClientRow>,
    pub tokens: Vec<TokenRow>,
    pub audit: Vec<RawAuditRow>,
}

/// Rows per table, as counted in a database (`mcpca migrate` compares source and target).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct TableCounts {
    pub meta: u64,
    pub keys: u64,
    pub servers: u64,
    pub server_versions: u64,
    pub remote_urls: u64,
    pub revocations: u64,
    pub clients: u64,
    pub admin_tokens: u64,
    pub audit: u64,
}

impl Dump {
    /// Rows per table of this dump.
    pub fn counts(&self) -> TableCounts {
        let n = |l: usize| l as u64;
        TableCounts {
            meta: n(self.meta.len()),
            keys: n(self.keys.len()),
            servers: n(self.servers.len()),
            server_versions: n(self.versions.len()),
            remote_urls: n(self.remote_urls.len()),
            revocations: n(self.revocations.len()),
            clients: n(self.clients.len()),
            admin_tokens: n(self.tokens.len()),
            audit: n(self.audit.len()),
        }
    }
}

/// Persistence of an authority. Every method is one transaction.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// A value from the metadata table.
    async fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>>;
    /// Set a metadata value unless one is set; returns whether it was written.
    async fn put_meta_if_absent(&self, key: &str, value: &[u8]) -> Result<bool>;

    /// Every key, oldest first.
    async fn list_keys(&self) -> Result<Vec<KeyRow>>;
    /// Apply key writes and revocations atomically; fails with `Error::Refused` when a key is
    /// no longer in its expected state.
    async fn write_keys(&self, writes: Vec<KeyWrite>, revocations: Vec<NewRevocation>, audit: NewAuditEvent) -> Result<()>;

    /// Add a version (and its name if new). `Error::Conflict` when the version exists or a
    /// remote URL belongs to another server. Recomputes `is_latest` of the name.
    async fn add_server_version(&self, new: NewServerVersion, audit: NewAuditEvent) -> Result<()>;
    /// Add many versions in one transaction (rolled back when `dry_run`), each with its own
    /// audit event; an entry that cannot be added is reported, not fatal.
    async fn import_versions(&self, batch: Vec<(NewServerVersion, NewAuditEvent)>, dry_run: bool) -> Result<Vec<ImportOutcome>>;
    /// One version, or the latest non-deleted one when `version` is `None`.
    async fn get_server(&self, name: &str, version: Option<&str>) -> Result<Option<ServerRow>>;
    /// The server version a remote URL (canonical form) belongs to: the latest non-deleted
    /// version of the owning name that lists this URL, as `(name, version)`.
    async fn server_by_endpoint(&self, canonical_url: &str) -> Result<Option<(String, String)>>;
    /// Every version of a name, oldest first.
    async fn list_versions(&self, name: &str) -> Result<Vec<ServerRow>>;
    /// Versions matching a filter, by (name, version).
    async fn list_servers(&self, filter: &ServerFilter) -> Result<Vec<ServerRow>>;
    /// One page of versions, by `(name, version)`, after the page's cursor.
    async fn list_page(&self, page: &ServerPage) -> Result<Vec<ServerRow>>;
    /// Update name-level authority fields.
    async fn update_server(&self, name: &str, update: ServerUpdate, at: i64, audit: NewAuditEvent) -> Result<()>;
    /// Change a status (and record a revocation with it, atomically). Recomputes `is_latest`.
    async fn set_status(&self, change: StatusChange, revocation: Option<NewRevocation>, audit: NewAuditEvent) -> Result<()>;

    /// Record a revocation; returns its `seq`.
    async fn add_revocation(&self, revocation: NewRevocation, audit: NewAuditEvent) -> Result<i64>;
    /// Revocations with `seq` greater than `since`.
    async fn list_revocations(&self, since: i64) -> Result<Vec<Revocation>>;
    /// Highest revocation `seq` ever assigned (0 when none).
    async fn revocation_seq(&self) -> Result<i64>;
    /// Delete revocations that expired before `now`; returns how many.
    async fn prune_revocations(&self, now: i64) -> Result<u64>;

    /// Add a client; `Error::Conflict` when the id exists.
    async fn add_client(&self, row: ClientRow, audit: NewAuditEvent) -> Result<()>;
    /// One client.
    async fn get_client(&self, id: &str) -> Result<Option<ClientRow>>;
    /// The client whose secret hashes to `hash`.
    async fn find_client_by_secret(&self, hash: &[u8; 32]) -> Result<Option<ClientRow>>;
    /// Every client, by id.
    async fn list_clients(&self) -> Result<Vec<ClientRow>>;
    /// Replace a client's row (policy, status, secret hash), with an optional revocation.
    async fn update_client(&self, row: ClientRow, revocation: Option<NewRevocation>, audit: NewAuditEvent) -> Result<()>;
    /// Delete a client, with an optional revocation of what it holds.
    async fn remove_client(&self, id: &str, revocation: Option<NewRevocation>, audit: NewAuditEvent) -> Result<()>;

    /// Add an admin token.
    async fn add_token(&self, row: TokenRow, audit: NewAuditEvent) -> Result<()>;
    /// Every admin token, oldest first.
    async fn list_tokens(&self) -> Result<Vec<TokenRow>>;
    /// The token whose secret hashes to `hash`.
    async fn find_token_by_hash(&self, hash: &[u8; 32]) -> Result<Option<TokenRow>>;
    /// Mark a token revoked.
    async fn revoke_token(&self, id: &str, at: i64, audit: NewAuditEvent) -> Result<()>;

    /// Append events to the audit chain, atomically; returns their `seq`s.
    async fn append_audit(&self, events: Vec<NewAuditEvent>) -> Result<Vec<i64>>;
    /// Events matching a filter, oldest first.
    async fn list_audit(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>>;
    /// Up to `limit` events after `after_seq`, in order (for chain verification and export).
    async fn audit_page(&self, after_seq: i64, limit: u32) -> Result<Vec<AuditEvent>>;
    /// The `exp` recorded by the allowed issuance of descriptor `jti`, looked for among the
    /// issuance events at `from..=to` (the audit's time index bounds the search); `None` when no
    /// such event is there.
    async fn issued_expiry(&self, jti: &str, from: i64, to: i64) -> Result<Option<i64>>;
    /// Allowed issuances to `client` at or after `since`: how many, and the earliest instant.
    async fn issued_since(&self, client: &str, since: i64) -> Result<(u32, Option<i64>)>;
    /// Append an `allow` issuance event, atomically re-checking the client's rate first: when
    /// `limit` allowed issuances of `client` since `since` exist already, nothing is written and
    /// the window is returned instead (so concurrent issuers cannot overshoot the limit).
    async fn record_issue(&self, event: NewAuditEvent, rate: Option<RateCheck>) -> Result<std::result::Result<i64, (u32, Option<i64>)>>;
}

/// The `exp` of descriptor `jti` among issuance events' details (`{"jti": …, "exp": …}`; a probe
/// records several `jti`s under one `exp`): the latest when more than one names it.
fn expiry_in<'a>(details: impl Iterator<Item = &'a str>, jti: &str) -> Option<i64> {
    details
        .filter_map(|d| serde_json::from_str::<serde_json::Value>(d).ok())
        .filter(|d| match &d["jti"] {
            serde_json::Value::String(s) => s == jti,
            serde_json::Value::Array(a) => a.iter().any(|s| s.as_str() == Some(jti)),
            _ => false,
        })
        .filter_map(|d| d["exp"].as_i64())
        .max()
}

/// Order two versions as the official registry does: semantic versions by semver; other
/// versions by publication time; a semantic version ranks above a non-semantic one.
pub fn compare_versions(a: (&str, i64), b: (&str, i64)) -> std::cmp::Ordering {
    match (semver::Version::parse(a.0), semver::Version::parse(b.0)) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        (Err(_), Err(_)) => a.1.cmp(&b.1),
        (Ok(_), Err(_)) => std::cmp::Ordering::Greater,
        (Err(_), Ok(_)) => std::cmp::Ordering::Less,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering::*;

    #[test]
    fn version_order_matches_the_official_registry() {
        assert_eq!(compare_versions(("1.10.0", 1), ("1.9.0", 2)), Greater);
        assert_eq!(compare_versions(("1.0.0-rc.1", 2), ("1.0.0", 1)), Less);
        assert_eq!(compare_versions(("2025-01", 5), ("2024-12", 9)), Less);
        assert_eq!(compare_versions(("0.0.1", 1), ("zzz", 9)), Greater);
    }
}
