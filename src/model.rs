//! Wire types: what the admin API answers is exactly what `--output json|yaml` prints.

use serde::{Deserialize, Serialize};

use crate::clock::rfc3339;
use crate::duration::Dur;
use crate::keys::KeyState;

/// Moderation status of a server name or version (DESIGN §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Active,
    Deprecated,
    Suspended,
    Revoked,
    Deleted,
}

impl Status {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Deprecated => "deprecated",
            Status::Suspended => "suspended",
            Status::Revoked => "revoked",
            Status::Deleted => "deleted",
        }
    }

    /// Parse the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "active" => Status::Active,
            "deprecated" => Status::Deprecated,
            "suspended" => Status::Suspended,
            "revoked" => Status::Revoked,
            "deleted" => Status::Deleted,
            _ => return None,
        })
    }

    /// The status that applies when a name and a version each have one: the more severe
    /// (the enum is declared in order of severity).
    pub fn effective(name: Status, version: Status) -> Status {
        name.max(version)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A server version as the authority holds it: the official `server.json`, and the
/// authority's own fields beside it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(from = "WireEntry")]
pub struct ServerEntry {
    /// The server.json document as registered (immutable), kept as the stored JSON text so
    /// listing thousands of servers neither parses nor re-encodes them.
    pub server: Box<serde_json::value::RawValue>,
    /// The authority's fields.
    pub authority: AuthorityFields,
    /// Name and version of the document.
    #[serde(skip)]
    ids: (String, String),
}

/// The wire shape of [`ServerEntry`]; name and version are read from the document once.
#[derive(Deserialize)]
struct WireEntry {
    server: Box<serde_json::value::RawValue>,
    authority: AuthorityFields,
}

impl From<WireEntry> for ServerEntry {
    fn from(w: WireEntry) -> Self {
        #[derive(Deserialize, Default)]
        struct Ids {
            #[serde(default)]
            name: String,
            #[serde(default)]
            version: String,
        }
        let ids: Ids = serde_json::from_str(w.server.get()).unwrap_or_default();
        ServerEntry { server: w.server, authority: w.authority, ids: (ids.name, ids.version) }
    }
}

impl PartialEq for ServerEntry {
    fn eq(&self, other: &Self) -> bool {
        self.document() == other.document() && self.authority == other.authority
    }
}

/// The authority's fields of a server version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorityFields {
    /// The status in force: the more severe of the name's and the version's.
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    pub status_changed_at: String,
    /// Status set on the whole name.
    pub name_status: Status,
    /// Status set on this version alone.
    pub version_status: Status,
    /// Reason given with the name's status (`status_reason` is the one of the status in force).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_status_reason: Option<String>,
    /// Reason given with this version's status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_status_reason: Option<String>,
    pub verified: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_ttl: Option<Dur>,
    /// The `streamable-http` remote descriptors are issued for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    pub is_latest: bool,
    pub published_at: String,
    pub updated_at: String,
}

impl ServerEntry {
    /// A stored version as an entry.
    pub fn new(name: String, version: String, document: Box<serde_json::value::RawValue>, authority: AuthorityFields) -> Self {
        ServerEntry { server: document, authority, ids: (name, version) }
    }

    /// The document, parsed.
    pub fn document(&self) -> serde_json::Value {
        serde_json::from_str(self.server.get()).unwrap_or(serde_json::Value::Null)
    }

    /// A top-level string member of the document.
    pub fn field(&self, key: &str) -> Option<String> {
        self.document().get(key).and_then(|v| v.as_str()).map(str::to_owned)
    }

    /// Registry name.
    pub fn name(&self) -> &str {
        &self.ids.0
    }
    /// Version.
    pub fn version(&self) -> &str {
        &self.ids.1
    }
}

/// `server show`: one version in full, and every version in brief.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerDetail {
    #[serde(flatten)]
    pub entry: ServerEntry,
    pub versions: Vec<VersionSummary>,
}

/// One line per version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionSummary {
    pub version: String,
    pub status: Status,
    pub is_latest: bool,
    pub published_at: String,
}

/// A signing key as shown to operators: never the private half.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInfo {
    pub kid: String,
    pub state: KeyState,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activated_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retire_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retired_at: Option<String>,
    pub published: bool,
}

/// What `key rotate` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotateReport {
    /// The key that signs from now on.
    pub activated: String,
    /// The previous active key, now retiring, and when it may be retired.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retiring: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retire_at: Option<String>,
    /// The fresh `next` key, published from now on.
    pub next: String,
    /// Retiring keys whose last descriptor has expired and that were retired on the way.
    pub retired: Vec<String>,
}

/// Kind of a revocation entry (DESIGN §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RevocationKind {
    Jti,
    Server,
    Client,
    Key,
}

impl RevocationKind {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            RevocationKind::Jti => "jti",
            RevocationKind::Server => "server",
            RevocationKind::Client => "client",
            RevocationKind::Key => "key",
        }
    }
    /// Parse the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "jti" => RevocationKind::Jti,
            "server" => RevocationKind::Server,
            "client" => RevocationKind::Client,
            "key" => RevocationKind::Key,
            _ => return None,
        })
    }
}

/// A revocation as recorded for the feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    pub seq: i64,
    pub kind: RevocationKind,
    pub id: String,
    /// Descriptors issued at or before this instant are invalid (Unix seconds).
    pub revoked_at: i64,
    /// After this instant no such descriptor can still be valid (Unix seconds).
    pub expires_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The answer to an issuance (DESIGN §3 envelope).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    pub descriptor: String,
    pub endpoint: String,
    pub expires_in: u64,
    pub expires_at: String,
    pub header: String,
    pub server: ServerRef,
    pub jti: String,
    /// Present when the requested TTL was lowered to a limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clamped: Option<Clamp>,
}

/// Name and version of a server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerRef {
    pub id: String,
    pub version: String,
}

/// A TTL lowered to a limit: what was asked and which limit applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clamp {
    pub requested: Dur,
    pub granted: Dur,
    /// `server_max_ttl`, `client_max_ttl` or `ceiling`.
    pub limit: String,
}

/// Format optional Unix seconds for the wire.
pub fn opt_time(t: Option<i64>) -> Option<String> {
    t.map(rfc3339)
}

/// A client's policy and state as shown (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientInfo {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    pub allow: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ttl: Option<Dur>,
    /// Descriptors a minute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_per_min: Option<u32>,
    pub status: crate::store::ClientStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// A new client secret, shown exactly once (at creation or rotation).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClientCreated {
    pub client: ClientInfo,
    /// `mcpca_cs_…`: store it now; only its hash is kept.
    pub secret: String,
}

/// What a client may do: the fields of `client add` (and of `apply`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientPolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    #[serde(default)]
    pub allow: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ttl: Option<Dur>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_per_min: Option<u32>,
}

/// An admin token as shown (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub role: crate::store::Role,
    /// `active`, `expired` or `revoked`.
    pub state: String,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
}

/// A new admin token, shown exactly once.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenCreated {
    pub token: TokenInfo,
    /// `mcpca_at_…`: store it now; only its hash is kept.
    pub secret: String,
}

/// Result of `audit verify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditReport {
    /// Events checked.
    pub events: u64,
    pub intact: bool,
    /// The first broken event, when the chain is broken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broken_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// Hash of the last event (the chain head).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head: Option<String>,
}

/// The signed revocation feed with its decoded document.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignedFeed {
    /// The compact JWS servers fetch.
    pub jws: String,
    pub feed: crate::feed::Feed,
}

/// Outcome of one import entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    Imported,
    Unchanged,
    Invalid,
    DuplicateVersion,
}

/// One entry of an import report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportEntry {
    /// Where the entry came from (e.g. `page 2 #14`, `#3`).
    pub source: String,
    pub name: String,
    pub version: String,
    pub status: ImportStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// An import report: every entry and the counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    pub dry_run: bool,
    pub entries: Vec<ImportEntry>,
    pub imported: u64,
    pub unchanged: u64,
    pub invalid: u64,
    pub duplicate_version: u64,
}

impl ImportReport {
    /// Add entries, counting them.
    pub fn extend(&mut self, entries: Vec<ImportEntry>) {
        for e in &entries {
            match e.status {
                ImportStatus::Imported => self.imported += 1,
                ImportStatus::Unchanged => self.unchanged += 1,
                ImportStatus::Invalid => self.invalid += 1,
                ImportStatus::DuplicateVersion => self.duplicate_version += 1,
            }
        }
        self.entries.extend(entries);
    }
}
