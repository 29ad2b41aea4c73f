//! Persistence behind one async `Store` trait, so the embedded SQLite file and a PostgreSQL
//! database for several replicas are interchangeable. Rows here are storage shapes; the
//! authority turns them into the wire types of `model`.

use async_trait::async_trait;

use crate::duration::Dur;
use crate::keys::KeyState;
use crate::model::{Revocation, RevocationKind, Status};
use crate::Result;

pub mod sqlite;

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
    async fn write_keys(&self, writes: Vec<KeyWrite>, revocations: Vec<NewRevocation>) -> Result<()>;

    /// Add a version (and its name if new). `Error::Conflict` when the version exists or a
    /// remote URL belongs to another server. Recomputes `is_latest` of the name.
    async fn add_server_version(&self, new: NewServerVersion) -> Result<()>;
    /// One version, or the latest non-deleted one when `version` is `None`.
    async fn get_server(&self, name: &str, version: Option<&str>) -> Result<Option<ServerRow>>;
    /// Every version of a name, oldest first.
    async fn list_versions(&self, name: &str) -> Result<Vec<ServerRow>>;
    /// Versions matching a filter, by (name, version).
    async fn list_servers(&self, filter: &ServerFilter) -> Result<Vec<ServerRow>>;
    /// Update name-level authority fields.
    async fn update_server(&self, name: &str, update: ServerUpdate, at: i64) -> Result<()>;
    /// Change a status (and record a revocation with it, atomically). Recomputes `is_latest`.
    async fn set_status(&self, change: StatusChange, revocation: Option<NewRevocation>) -> Result<()>;

    /// Record a revocation; returns its `seq`.
    async fn add_revocation(&self, revocation: NewRevocation) -> Result<i64>;
    /// Revocations with `seq` greater than `since`.
    async fn list_revocations(&self, since: i64) -> Result<Vec<Revocation>>;
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
