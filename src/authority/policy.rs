//! The issuance decision of DESIGN §5 as one pure function, used by every path that issues:
//! the CLI, `POST /v1/connect` and `POST /oauth/token`.

use crate::config::Settings;
use crate::duration::{Dur, MAX_TTL_CEILING};
use crate::error::DenyCode;
use crate::model::{Clamp, Status};
use crate::store::{ClientRow, ClientStatus, ServerRow};
use crate::{Error, Result};

/// Who asks for a descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The operator at the terminal (`mcpca issue` without `--client`): subject to server
    /// status, not to client policy.
    Operator,
    /// A client by id, with its record when it exists.
    Client { id: String, record: Option<Box<ClientRow>> },
}

impl Principal {
    /// The `sub` of descriptors issued to this principal.
    pub fn subject(&self) -> &str {
        match self {
            Principal::Operator => "operator",
            Principal::Client { id, .. } => id,
        }
    }
    /// [`Principal::subject`], owned.
    pub fn into_subject(self) -> String {
        match self {
            Principal::Operator => "operator".to_owned(),
            Principal::Client { id, .. } => id,
        }
    }

    /// The client record, if this is a known client.
    pub fn record(&self) -> Option<&ClientRow> {
        match self {
            Principal::Operator => None,
            Principal::Client { record, .. } => record.as_deref(),
        }
    }
}

/// Recent allowed issuances of the principal, for its rate limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateWindow {
    /// Allowed issuances in the last 60 s.
    pub issued: u32,
    /// When the earliest of them happened.
    pub oldest: Option<i64>,
}

/// An allowed issuance: what to sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub endpoint: String,
    pub ttl: Dur,
    pub clamp: Option<Clamp>,
    pub tenant: Option<String>,
}

fn deny(code: DenyCode, message: impl Into<String>) -> Error {
    Error::Denied { code, message: message.into(), retry_after: None }
}

/// Does a client pattern allow a server name? `*`, a prefix ending in `*`
/// (`io.github.acme/*`), or an exact name.
pub fn pattern_matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

/// Check a pattern is one of the three accepted forms.
pub fn validate_pattern(p: &str) -> Result<()> {
    let wildcards = p.matches('*').count();
    if p.is_empty() || p.chars().any(char::is_whitespace) || wildcards > 1 || (wildcards == 1 && !p.ends_with('*')) {
        return Err(Error::invalid(
            format!("{p:?} is not a server pattern"),
            "use `*` (every server), a prefix such as `io.github.acme/*`, or an exact name",
        ));
    }
    Ok(())
}

/// The request being decided.
#[derive(Debug, Clone, Copy)]
pub struct Ask<'a> {
    /// The server as asked for (`name` or `name@version`), for messages.
    pub wanted: &'a str,
    pub ttl: Option<Dur>,
    /// Tenant named in the request, if any.
    pub tenant: Option<&'a str>,
}

/// Decide whether `principal` may have a descriptor for `server` (the version asked for, or
/// the latest; `None` when no such server exists), and for how long. The order is DESIGN §5:
/// client → server found → status → transport → verified → rate limit.
pub fn decide(
    principal: &Principal,
    ask: Ask<'_>,
    server: Option<&ServerRow>,
    rate: RateWindow,
    settings: &Settings,
    now: i64,
) -> Result<Grant> {
    let name = ask.wanted.split('@').next().unwrap_or(ask.wanted);
    let mut tenant = ask.tenant.map(str::to_owned);
    if let Principal::Client { id, record } = principal {
        let c = record.as_deref().ok_or_else(|| deny(DenyCode::PolicyBlocked, format!("client {id} is not registered")))?;
        if c.status == ClientStatus::Suspended {
            let why = c.status_reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default();
            return Err(deny(DenyCode::PolicyBlocked, format!("client {id} is suspended{why}")));
        }
        if !c.allow.iter().any(|p| pattern_matches(p, name)) {
            return Err(deny(DenyCode::PolicyBlocked, format!("client {id} is not allowed to connect to {name}")));
        }
        match (&c.tenant, ask.tenant) {
            (Some(have), Some(asked)) if have != asked => {
                return Err(deny(DenyCode::PolicyBlocked, format!("client {id} belongs to tenant {have}, not {asked}")));
            }
            (Some(have), _) => tenant = Some(have.clone()),
            // A client without a tenant cannot choose one: servers may trust `client.tenant`.
            (None, Some(asked)) => {
                return Err(deny(DenyCode::PolicyBlocked, format!("client {id} has no tenant and cannot ask for tenant {asked}")));
            }
            (None, None) => {}
        }
    }
    let row = server.ok_or_else(|| deny(DenyCode::ServerNotFound, format!("no server {} in the registry", ask.wanted)))?;
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
    if let Some(limit) = principal.record().and_then(|c| c.rate_per_min) {
        if rate.issued >= limit {
            let retry = (rate.oldest.unwrap_or(now) + 60 - now).max(1).unsigned_abs();
            return Err(Error::Denied {
                code: DenyCode::RateLimited,
                message: format!("client {} may have {limit} descriptors a minute; retry in {retry}s", principal.subject()),
                retry_after: Some(retry),
            });
        }
    }
    let requested = ask.ttl.unwrap_or(settings.default_ttl);
    let limits = [
        (principal.record().and_then(|c| c.max_ttl), "client_max_ttl"),
        (row.name.max_ttl, "server_max_ttl"),
        (Some(settings.max_ttl), "authority_max_ttl"),
        (Some(MAX_TTL_CEILING), "ceiling"),
    ];
    let (mut ttl, mut clamp) = (requested, None);
    for (limit, label) in limits {
        if let Some(limit) = limit.filter(|l| ttl > *l) {
            ttl = limit;
            clamp = Some(Clamp { requested, granted: limit, limit: label.into() });
        }
    }
    if ttl.secs() == 0 {
        return Err(Error::invalid("a descriptor lifetime of 0s is not allowed", "ask for at least 1s, e.g. --ttl 30s"));
    }
    Ok(Grant { endpoint, ttl, clamp, tenant })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(pattern_matches("*", "io.github.acme/weather"));
        assert!(pattern_matches("io.github.acme/*", "io.github.acme/weather"));
        assert!(!pattern_matches("io.github.acme/*", "io.github.acmecorp/weather"));
        assert!(pattern_matches("io.github.acme/weather", "io.github.acme/weather"));
        assert!(!pattern_matches("io.github.acme/weather", "io.github.acme/weather2"));
        for bad in ["", "a*b/*", "*/x", "a b", "**"] {
            assert!(validate_pattern(bad).is_err(), "{bad}");
        }
        for good in ["*", "io.github.acme/*", "io.github.acme/weather"] {
            assert!(validate_pattern(good).is_ok(), "{good}");
        }
    }
}
