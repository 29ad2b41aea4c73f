//! Rows of the PostgreSQL tables as the store's types (the SQLite backend's `*_from_row`,
//! with the same checks of stored values).

use tokio_postgres::Row;

use crate::audit::{AuditEvent, Decision};
use crate::duration::Dur;
use crate::keys::KeyState;
use crate::model::{Revocation, RevocationKind, Status};
use crate::store::{ClientRow, ClientStatus, KeyRow, Role, ServerNameRow, ServerRow, ServerVersionRow, TokenRow};
use crate::{Error, Result};

pub(super) fn bad_value(column: &str, value: &str) -> Error {
    Error::Store(format!("unexpected value {value:?} in {column}"))
}

pub(super) fn hash32(v: &[u8], column: &str) -> Result<[u8; 32]> {
    v.try_into().map_err(|_| bad_value(column, "wrong length"))
}

pub(super) fn audit_from_row(r: &Row) -> Result<AuditEvent> {
    let decision: Option<String> = r.try_get("decision")?;
    let details: Option<String> = r.try_get("details")?;
    Ok(AuditEvent {
        seq: r.try_get("seq")?,
        at: r.try_get("at")?,
        actor: r.try_get("actor")?,
        action: r.try_get("action")?,
        target: r.try_get("target")?,
        decision: match decision {
            Some(d) => Some(Decision::parse(&d).ok_or_else(|| bad_value("audit.decision", &d))?),
            None => None,
        },
        code: r.try_get("code")?,
        // Stored text that is not JSON is kept as a string, so `audit verify` reports it.
        details: details.map_or(serde_json::Value::Null, |d| serde_json::from_str(&d).unwrap_or(serde_json::Value::String(d))),
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}

pub(super) fn client_from_row(r: &Row) -> Result<ClientRow> {
    let allow: String = r.try_get("allow")?;
    let status: String = r.try_get("status")?;
    let hash: Vec<u8> = r.try_get("secret_hash")?;
    let max_ttl: Option<i64> = r.try_get("max_ttl")?;
    let rate: Option<i64> = r.try_get("rate_per_min")?;
    Ok(ClientRow {
        id: r.try_get("id")?,
        tenant: r.try_get("tenant")?,
        allow: serde_json::from_str(&allow).map_err(|_| bad_value("clients.allow", &allow))?,
        max_ttl: max_ttl.map(|s| Dur(s.unsigned_abs())),
        rate_per_min: rate.map(|n| u32::try_from(n).map_err(|_| bad_value("clients.rate_per_min", &n.to_string()))).transpose()?,
        status: ClientStatus::parse(&status).ok_or_else(|| bad_value("clients.status", &status))?,
        status_reason: r.try_get("status_reason")?,
        secret_hash: hash32(&hash, "clients.secret_hash")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

pub(super) fn token_from_row(r: &Row) -> Result<TokenRow> {
    let role: String = r.try_get("role")?;
    let hash: Vec<u8> = r.try_get("token_hash")?;
    Ok(TokenRow {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        role: Role::parse(&role).ok_or_else(|| bad_value("admin_tokens.role", &role))?,
        token_hash: hash32(&hash, "admin_tokens.token_hash")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

pub(super) fn key_from_row(r: &Row) -> Result<KeyRow> {
    let state: String = r.try_get("state")?;
    let public: Vec<u8> = r.try_get("public_key")?;
    Ok(KeyRow {
        kid: r.try_get("kid")?,
        state: KeyState::parse(&state).ok_or_else(|| bad_value("keys.state", &state))?,
        public_key: hash32(&public, "keys.public_key")?,
        sealed_private: r.try_get("sealed_private")?,
        created_at: r.try_get("created_at")?,
        activated_at: r.try_get("activated_at")?,
        retire_at: r.try_get("retire_at")?,
        retired_at: r.try_get("retired_at")?,
    })
}

pub(super) fn revocation_from_row(r: &Row) -> Result<Revocation> {
    let kind: String = r.try_get("kind")?;
    Ok(Revocation {
        seq: r.try_get("seq")?,
        kind: RevocationKind::parse(&kind).ok_or_else(|| bad_value("revocations.kind", &kind))?,
        id: r.try_get("id")?,
        revoked_at: r.try_get("revoked_at")?,
        expires_at: r.try_get("expires_at")?,
        reason: r.try_get("reason")?,
    })
}

pub(super) fn status(r: &Row, col: usize) -> Result<Status> {
    let s: String = r.try_get(col)?;
    Status::parse(&s).ok_or_else(|| bad_value("status", &s))
}

/// Columns of a joined server row; `server_from_row` reads them by position.
pub(super) const SERVER_COLUMNS: &str =
    "s.name, s.status, s.status_reason, s.status_changed_at, s.verified, s.max_ttl, s.created_at, s.updated_at, \
     v.version, v.document, v.endpoint, v.status, v.status_reason, v.status_changed_at, v.published_at, v.updated_at, v.is_latest";

pub(super) fn server_from_row(r: &Row) -> Result<ServerRow> {
    let name: String = r.try_get(0)?;
    let max_ttl: Option<i64> = r.try_get(5)?;
    Ok(ServerRow {
        name: ServerNameRow {
            name: name.clone(),
            status: status(r, 1)?,
            status_reason: r.try_get(2)?,
            status_changed_at: r.try_get(3)?,
            verified: r.try_get(4)?,
            max_ttl: max_ttl.map(|s| Dur(s.unsigned_abs())),
            created_at: r.try_get(6)?,
            updated_at: r.try_get(7)?,
        },
        version: ServerVersionRow {
            name,
            version: r.try_get(8)?,
            document: r.try_get(9)?,
            endpoint: r.try_get(10)?,
            status: status(r, 11)?,
            status_reason: r.try_get(12)?,
            status_changed_at: r.try_get(13)?,
            published_at: r.try_get(14)?,
            updated_at: r.try_get(15)?,
            is_latest: r.try_get(16)?,
        },
    })
}

pub(super) fn map_rows<T>(rows: Vec<Row>, f: fn(&Row) -> Result<T>) -> Result<Vec<T>> {
    rows.iter().map(f).collect()
}
