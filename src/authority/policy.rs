//! The issuance decision of DESIGN §5 as one pure function, used by every path that issues:
//! the CLI, and later `POST /v1/connect` and `POST /oauth/token`.

use crate::config::Settings;
use crate::duration::{Dur, MAX_TTL_CEILING};
use crate::error::DenyCode;
use crate::model::{Clamp, Status};
use crate::store::ServerRow;
use crate::{Error, Result};

/// Who asks for a descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The operator at the terminal (`mcpca issue` without `--client`).
    Operator,
    /// A named client.
    Client { id: String, tenant: Option<String> },
}

impl Principal {
    /// The `sub` of descriptors issued to this principal.
    pub fn subject(&self) -> &str {
        match self {
            Principal::Operator => "operator",
            Principal::Client { id, .. } => id,
        }
    }
    /// The tenant, if any.
    pub fn tenant(&self) -> Option<&str> {
        match self {
            Principal::Operator => None,
            Principal::Client { tenant, .. } => tenant.as_deref(),
        }
    }
}

/// An allowed issuance: what to sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub endpoint: String,
    pub ttl: Dur,
    pub clamp: Option<Clamp>,
}

fn deny(code: DenyCode, message: impl Into<String>) -> Error {
    Error::Denied { code, message: message.into() }
}

/// Decide whether `principal` may have a descriptor for `server` (the version asked for, or the
/// latest; `None` when no such server exists), and for how long.
pub fn decide(
    principal: &Principal,
    wanted: &str,
    server: Option<&ServerRow>,
    requested: Option<Dur>,
    settings: &Settings,
) -> Result<Grant> {
    let _ = principal; // client policy (patterns, status, rate) joins here with the client registry
    let row = server.ok_or_else(|| deny(DenyCode::ServerNotFound, format!("no server {wanted} in the registry")))?;
    let id = format!("{}@{}", row.version.name, row.version.version);
    let status = Status::effective(row.name.status, row.version.status);
    let reason = row.version.status_reason.as_deref().or(row.name.status_reason.as_deref());
    let why = reason.map(|r| format!(" ({r})")).unwrap_or_default();
    match status {
        Status::Active | Status::Deprecated => {}
        Status::Suspended => return Err(deny(DenyCode::PolicyBlocked, format!("{id} is suspended{why}"))),
        Status::Revoked | Status::Deleted => return Err(deny(DenyCode::ServerRevoked, format!("{id} is {status}{why}"))),
    }
    let endpoint =
        row.version.endpoint.clone().ok_or_else(|| deny(DenyCode::TransportNotSupported, format!("{id} has no streamable-http remote")))?;
    if settings.require_verified && !row.name.verified {
        return Err(deny(DenyCode::ServerUnverified, format!("{id} is not verified and this authority requires verified servers")));
    }
    let requested_ttl = requested.unwrap_or(settings.default_ttl);
    let limits = [(row.name.max_ttl, "server_max_ttl"), (Some(settings.max_ttl), "authority_max_ttl"), (Some(MAX_TTL_CEILING), "ceiling")];
    let mut ttl = requested_ttl;
    let mut clamp = None;
    for (limit, label) in limits {
        if let Some(limit) = limit {
            if ttl > limit {
                ttl = limit;
                clamp = Some(Clamp { requested: requested_ttl, granted: limit, limit: label.into() });
            }
        }
    }
    if ttl.secs() == 0 {
        return Err(Error::invalid("a descriptor lifetime of 0s is not allowed", "ask for at least 1s, e.g. --ttl 30s"));
    }
    Ok(Grant { endpoint, ttl, clamp })
}
