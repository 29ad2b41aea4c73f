//! The Authority API — register, moderate, issue, revoke, rotate — as one trait with two
//! implementations: [`LocalAuthority`] (this machine's store and keys) and [`RemoteAuthority`]
//! (the admin HTTP API of an `mcpca serve`), so every command works the same in both modes.

use async_trait::async_trait;
use zeroize::Zeroizing;

use crate::audit::AuditEvent;
use crate::duration::Dur;
use crate::keys::Jwks;
use crate::model::{
    AuditReport, ClientCreated, ClientInfo, ClientPolicy, Envelope, ImportEntry, KeyInfo, Revocation, RotateReport, ServerDetail,
    ServerEntry, SignedFeed, Status, TokenCreated, TokenInfo,
};
use crate::store::{AuditFilter, ClientStatus, Role, ServerFilter, ServerUpdate};
use crate::Result;

pub mod connect;
pub mod local;
mod policy;
pub mod remote;

pub use local::LocalAuthority;
pub use policy::{decide, pattern_matches, validate_pattern, Ask, Grant, Principal, RateWindow};
pub use remote::RemoteAuthority;

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
    /// A client: suspended, and what it holds invalidated.
    Client(String),
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
    /// The descriptors of a conformance probe of a server (`mcpca check`): a valid one and
    /// broken-but-signed ones, signed with the active key, issued to `mcpca-check` and audited;
    /// with `revoked`, one more whose `jti` is revoked at once.
    async fn probe_set(&self, request: &crate::check::ProbeRequest) -> Result<crate::check::ProbeSet>;
    /// Revoke a server, a descriptor or a key.
    async fn revoke(&self, target: &RevokeTarget, reason: Option<String>) -> Result<RevokeReport>;
    /// Revocations after `since`.
    async fn revocations(&self, since: i64) -> Result<Vec<Revocation>>;
    /// The signed revocation feed with entries after `since` (expired entries pruned).
    async fn revocation_feed(&self, since: i64) -> Result<SignedFeed>;

    /// Import server.json documents (one page); `source` labels each entry in the report.
    async fn server_import(&self, documents: Vec<(String, serde_json::Value)>, dry_run: bool) -> Result<Vec<ImportEntry>>;

    /// Register a client; its secret is shown once.
    async fn client_add(&self, id: &str, policy: ClientPolicy) -> Result<ClientCreated>;
    /// Every client.
    async fn client_list(&self) -> Result<Vec<ClientInfo>>;
    /// One client.
    async fn client_show(&self, id: &str) -> Result<ClientInfo>;
    /// Replace a client's policy (tenant, patterns, limits).
    async fn client_update(&self, id: &str, policy: ClientPolicy) -> Result<ClientInfo>;
    /// Suspend or resume a client.
    async fn client_set_status(&self, id: &str, status: ClientStatus, reason: Option<String>) -> Result<ClientInfo>;
    /// Delete a client; descriptors it holds are revoked.
    async fn client_remove(&self, id: &str) -> Result<()>;
    /// A new secret for a client; the old one stops working at once.
    async fn client_rotate_secret(&self, id: &str) -> Result<ClientCreated>;

    /// Create an admin token; it is shown once.
    async fn token_create(&self, role: Role, name: Option<String>, expires: Option<Dur>) -> Result<TokenCreated>;
    /// Every admin token.
    async fn token_list(&self) -> Result<Vec<TokenInfo>>;
    /// Revoke an admin token.
    async fn token_revoke(&self, id: &str) -> Result<TokenInfo>;

    /// Audit events matching a filter.
    async fn audit_list(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>>;
    /// Check the whole hash chain.
    async fn audit_verify(&self) -> Result<AuditReport>;
}
