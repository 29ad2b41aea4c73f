//! The Authority API — register, moderate, issue, revoke, rotate — as one trait with a local
//! implementation (this machine's store and keys). A remote implementation over the admin HTTP
//! API implements the same trait, so every command works the same in both modes.

use async_trait::async_trait;
use zeroize::Zeroizing;

use crate::duration::Dur;
use crate::keys::Jwks;
use crate::model::{Envelope, KeyInfo, Revocation, RotateReport, ServerDetail, ServerEntry, Status};
use crate::store::{ServerFilter, ServerUpdate};
use crate::Result;

pub mod local;
mod policy;

pub use local::LocalAuthority;
pub use policy::{decide, Grant, Principal};

/// A server version to register.
#[derive(Debug, Clone)]
pub struct ServerInput {
    /// The official server.json document.
    pub document: serde_json::Value,
    /// Ownership verified by the operator.
    pub verified: Option<bool>,
    /// Longest descriptor lifetime for this server.
    pub max_ttl: Option<Dur>,
}

/// `NAME` or `NAME@VERSION`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerRefArg {
    pub name: String,
    pub version: Option<String>,
}

impl std::str::FromStr for ServerRefArg {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        let s = s.trim();
        let (name, version) = match s.rsplit_once('@') {
            Some((n, v)) if !v.is_empty() => (n, Some(v.to_owned())),
            Some(_) => return Err(format!("{s:?}: nothing after '@' (use NAME or NAME@VERSION)")),
            None => (s, None),
        };
        if name.is_empty() {
            return Err("a server name is required (NAME or NAME@VERSION)".into());
        }
        Ok(ServerRefArg { name: name.to_owned(), version })
    }
}

impl std::fmt::Display for ServerRefArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.version {
            Some(v) => write!(f, "{}@{v}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// A request for a descriptor.
#[derive(Debug, Clone)]
pub struct IssueRequest {
    pub server: ServerRefArg,
    pub ttl: Option<Dur>,
    /// Client the descriptor is for; `None` is the built-in `operator` principal.
    pub client: Option<String>,
    pub tenant: Option<String>,
    pub scope: Option<String>,
}

/// What to revoke.
#[derive(Debug, Clone)]
pub enum RevokeTarget {
    /// A server name (all versions) or one version.
    Server(ServerRefArg),
    /// One descriptor.
    Jti(String),
    /// A signing key.
    Key(String),
}

/// The outcome of a revocation.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RevokeReport {
    pub revocation: Revocation,
    /// For a revoked active key: the key that signs now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activated: Option<String>,
}

/// The operations of a Connect Authority.
#[async_trait]
pub trait Authority: Send + Sync + std::fmt::Debug {
    /// Every signing key.
    async fn key_list(&self) -> Result<Vec<KeyInfo>>;
    /// Add a `next` key.
    async fn key_generate(&self) -> Result<KeyInfo>;
    /// Promote `next` to `active`, retire the old active after `grace` (default: max TTL + leeway).
    async fn key_rotate(&self, grace: Option<Dur>) -> Result<RotateReport>;
    /// Unpublish a key whose descriptors can no longer be valid.
    async fn key_retire(&self, kid: &str) -> Result<KeyInfo>;
    /// Published keys.
    async fn jwks(&self) -> Result<Jwks>;
    /// PKCS#8 PEM of a private key (local only).
    async fn key_export_private(&self, kid: &str) -> Result<Zeroizing<String>>;

    /// Register a server version.
    async fn server_add(&self, input: ServerInput) -> Result<ServerEntry>;
    /// List server versions.
    async fn server_list(&self, filter: &ServerFilter) -> Result<Vec<ServerEntry>>;
    /// One version (latest when none named) with the list of versions.
    async fn server_show(&self, server: &ServerRefArg) -> Result<ServerDetail>;
    /// Change authority fields of a server name.
    async fn server_update(&self, name: &str, update: ServerUpdate) -> Result<ServerDetail>;
    /// Moderate: set the status of a name or a version.
    async fn server_set_status(&self, server: &ServerRefArg, status: Status, reason: Option<String>) -> Result<ServerDetail>;

    /// Decide and, when allowed, sign a descriptor.
    async fn issue(&self, request: &IssueRequest) -> Result<Envelope>;
    /// Revoke a server, a descriptor or a key.
    async fn revoke(&self, target: &RevokeTarget, reason: Option<String>) -> Result<RevokeReport>;
    /// Revocations after `since`.
    async fn revocations(&self, since: i64) -> Result<Vec<Revocation>>;
}
