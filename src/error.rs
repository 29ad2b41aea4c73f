//! The one error type of the library: every user-facing failure carries a hint saying what to do
//! next, and only `main` turns it into an exit code.

use std::path::PathBuf;

use crate::descriptor::VerifyError;

/// A failed operation. `Display` is the message; [`Error::hint`] the next step.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The home has no authority yet.
    #[error("no authority found in {}", .0.display())]
    NotInitialized(PathBuf),

    /// Input the user gave is unacceptable (a flag, a file, a document).
    #[error("{message}")]
    Invalid { message: String, hint: Option<String> },

    /// A requested record does not exist.
    #[error("{what} not found: {id}")]
    NotFound { what: &'static str, id: String },

    /// A record with that identity exists already.
    #[error("{what} already exists: {id}")]
    Conflict { what: &'static str, id: String, hint: Option<String> },

    /// The operation is refused by a rule of the authority (key lifecycle, immutability...).
    #[error("{message}")]
    Refused { message: String, hint: Option<String> },

    /// The issuance decision said no. Exit code 1, with a machine code.
    #[error("issuance denied: {code}: {message}")]
    Denied {
        code: DenyCode,
        message: String,
        /// For `rate_limited`: seconds until a request can succeed.
        retry_after: Option<u64>,
    },

    /// Descriptor verification said no. Exit code 1.
    #[error("{0}")]
    Verify(#[from] VerifyError),

    /// `audit verify` found the chain broken. Exit code 1.
    #[error("the audit chain is broken at event {seq}: {problem}")]
    AuditBroken { seq: i64, problem: String },

    /// The key-encryption key cannot open the stored keys.
    #[error("the key-encryption key does not match this authority")]
    WrongKek,

    /// A required interactive confirmation could not be asked or was declined.
    #[error("{0}")]
    Confirmation(String),

    /// Configuration file or environment is broken.
    #[error("configuration error: {0}")]
    Config(String),

    /// Storage failure.
    #[error("storage error: {0}")]
    Store(String),

    /// The database was written by a newer mcpca.
    #[error("the database schema is version {found}, newer than this mcpca understands ({supported})")]
    SchemaTooNew { found: i64, supported: i64 },

    /// File system failure, with the path concerned.
    #[error("{action} {}: {source}", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The other side answered no: a conformance check found differences, an authority
    /// refused a connect. Exit code 1.
    #[error("{message}")]
    Rejected { message: String, hint: Option<String> },

    /// Cryptographic failure that is not the user's fault (should not happen).
    #[error("cryptographic error: {0}")]
    Crypto(String),
}

/// Machine codes of a denied issuance (DESIGN §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DenyCode {
    ServerNotFound,
    ServerRevoked,
    PolicyBlocked,
    TransportNotSupported,
    ServerUnverified,
    RateLimited,
}

impl DenyCode {
    /// The wire spelling of the code.
    pub fn as_str(self) -> &'static str {
        match self {
            DenyCode::ServerNotFound => "server_not_found",
            DenyCode::ServerRevoked => "server_revoked",
            DenyCode::PolicyBlocked => "policy_blocked",
            DenyCode::TransportNotSupported => "transport_not_supported",
            DenyCode::ServerUnverified => "server_unverified",
            DenyCode::RateLimited => "rate_limited",
        }
    }
}

impl std::fmt::Display for DenyCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Result alias of the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Shorthand for an input error with a hint.
    pub fn invalid(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Error::Invalid { message: message.into(), hint: Some(hint.into()) }
    }

    /// Shorthand for a refusal with a hint.
    pub fn refused(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Error::Refused { message: message.into(), hint: Some(hint.into()) }
    }

    /// Shorthand for an I/O error on a path.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { action, path: path.into(), source }
    }

    /// What the user can do about it, when there is something to say.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::NotInitialized(_) => Some("run `mcpca init` first (or pass --home DIR of an existing authority)".into()),
            Error::Invalid { hint, .. } | Error::Conflict { hint, .. } | Error::Refused { hint, .. } | Error::Rejected { hint, .. } => {
                hint.clone()
            }
            Error::NotFound { what: "server", .. } => Some("see `mcpca server list`".into()),
            Error::NotFound { what: "key", .. } => Some("see `mcpca key list`".into()),
            Error::NotFound { .. } => None,
            Error::Denied { code, .. } => Some(match code {
                DenyCode::ServerNotFound => "check the name with `mcpca server list`".into(),
                DenyCode::ServerRevoked => "the server was revoked or removed; see `mcpca server show NAME`".into(),
                DenyCode::PolicyBlocked => {
                    "the server is suspended, or the client is unknown, suspended or not allowed that server; see `mcpca server show NAME` and `mcpca client show ID`".into()
                }
                DenyCode::TransportNotSupported => "register a `streamable-http` remote for the server".into(),
                DenyCode::ServerUnverified => "verify the server with `mcpca server update NAME --verified`".into(),
                DenyCode::RateLimited => "wait for the time given and ask again, or raise the client's --rate".into(),
            }),
            Error::Verify(_) => None,
            Error::AuditBroken { .. } => Some("the log was altered outside mcpca; restore the database from a backup and investigate".into()),
            Error::WrongKek => Some(
                "set MCPCA_KEK to the base64 key this authority was created with, or restore its `kek` file; nothing was changed".into(),
            ),
            Error::Confirmation(_) => Some("pass --yes to confirm without a terminal".into()),
            Error::Config(_) => Some("fix the file or the environment variable named above".into()),
            Error::Store(m) if m.contains(STORE_LOCKED) => Some(format!(
                "another process holds the write lock (a long `sqlite3` session, a backup, another mcpca); \
                 retry once it finishes, or wait longer with {}=MILLISECONDS; nothing was changed",
                crate::store::sqlite::BUSY_TIMEOUT_ENV
            )),
            Error::Store(m) if m.contains(STORE_FULL) || m.contains(STORE_IO) => {
                Some("free space on the file system holding the database (`df`), check that it is writable, then retry; nothing was changed".into())
            }
            Error::Store(m) if m.contains(STORE_READ_ONLY) => {
                Some("make the database file and its folder writable (mount, permissions, `chattr -i`), then retry; nothing was changed".into())
            }
            Error::Store(m) => Some(crate::store::postgres::connect_hint(m).map_or_else(
                || "check that the database (the SQLite file, or the PostgreSQL server) is reachable, writable and not corrupt".into(),
                str::to_owned,
            )),
            Error::SchemaTooNew { .. } => Some("upgrade mcpca to the version that wrote this database".into()),
            Error::Io { .. } | Error::Crypto(_) => None,
        }
    }

    /// Exit status: 1 when a check answered no, 2 for usage and operational errors.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Denied { .. } | Error::Verify(_) | Error::AuditBroken { .. } | Error::Rejected { .. } => 1,
            _ => 2,
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
                let waited = crate::store::sqlite::busy_timeout().unwrap_or(crate::store::sqlite::BUSY_TIMEOUT);
                Error::Store(format!("{STORE_LOCKED} (gave up after waiting {} ms): {e}", waited.as_millis()))
            }
            Some(ErrorCode::DiskFull) => Error::Store(format!("{STORE_FULL}: {e}")),
            Some(ErrorCode::ReadOnly) => Error::Store(format!("{STORE_READ_ONLY}: {e}")),
            Some(ErrorCode::CannotOpen) => Error::Store(format!("{STORE_READ_ONLY}: {e}")),
            Some(ErrorCode::SystemIoFailure) => Error::Store(format!("{STORE_IO}: {e}")),
            _ => Error::Store(e.to_string()),
        }
    }
}

/// Start of the message of a storage error caused by another process's lock.
const STORE_LOCKED: &str = "the database is locked by another process";
/// Start of the message of a storage error caused by a full disk.
const STORE_FULL: &str = "the disk holding the database is full";
/// Start of the message of a storage error caused by a read-only database or file system.
const STORE_READ_ONLY: &str = "the database cannot be opened for writing (read-only file or file system, or permissions)";
/// Start of the message of a storage error the operating system reported on a write.
const STORE_IO: &str = "the file system refused a write to the database (full, failing or read-only)";
