//! Clients (the principals that ask for descriptors) and admin tokens of the local authority.
//! Secrets are generated here, shown once, and stored only as hashes.

use super::LocalAuthority;
use crate::authority::{validate_pattern, RevokeReport};
use crate::clock::rfc3339;
use crate::duration::Dur;
use crate::model::{opt_time, ClientCreated, ClientInfo, ClientPolicy, RevocationKind, TokenCreated, TokenInfo};
use crate::secrets::{self, ADMIN_TOKEN_PREFIX, CLIENT_SECRET_PREFIX};
use crate::store::{ClientRow, ClientStatus, NewRevocation, Role, TokenRow};
use crate::{Error, Result};

/// Id used by the operator principal; no client may take it.
const RESERVED_IDS: &[&str] = &["operator"];

pub(crate) fn info(c: &ClientRow) -> ClientInfo {
    ClientInfo {
        id: c.id.clone(),
        tenant: c.tenant.clone(),
        allow: c.allow.clone(),
        max_ttl: c.max_ttl,
        rate_per_min: c.rate_per_min,
        status: c.status,
        status_reason: c.status_reason.clone(),
        created_at: rfc3339(c.created_at),
        updated_at: rfc3339(c.updated_at),
    }
}

pub(crate) fn validate_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && id.chars().all(|c| c.is_ascii_alphanumeric() || "._-:@".contains(c))
        && !RESERVED_IDS.contains(&id);
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!("{id:?} is not a usable client id"), "use 1–128 letters, digits and . _ - : @ (`operator` is reserved)"))
    }
}

pub(crate) fn validate_policy(p: &ClientPolicy) -> Result<()> {
    if p.allow.is_empty() {
        return Err(Error::invalid(
            "a client needs at least one --allow pattern",
            "e.g. --allow 'io.github.acme/*' (or --allow '*' for every server)",
        ));
    }
    p.allow.iter().try_for_each(|a| validate_pattern(a))?;
    if p.max_ttl.is_some_and(|d| d.secs() == 0 || d > crate::duration::MAX_TTL_CEILING) {
        return Err(Error::invalid("--max-ttl must be between 1s and 24h", "e.g. --max-ttl 5m"));
    }
    if p.rate_per_min == Some(0) {
        return Err(Error::invalid("a rate of 0/min would refuse everything", "give at least 1/min, or suspend the client instead"));
    }
    if p.tenant.as_deref().is_some_and(|t| t.trim().is_empty()) {
        return Err(Error::invalid("--tenant is empty", "give a tenant name or leave it out"));
    }
    Ok(())
}

async fn get(a: &LocalAuthority, id: &str) -> Result<ClientRow> {
    a.store.get_client(id).await?.ok_or_else(|| Error::NotFound { what: "client", id: id.to_owned() })
}

pub(super) async fn add(a: &LocalAuthority, id: &str, policy: ClientPolicy) -> Result<ClientCreated> {
    validate_id(id)?;
    validate_policy(&policy)?;
    let now = a.now();
    let secret = secrets::generate(CLIENT_SECRET_PREFIX);
    let row = ClientRow {
        id: id.to_owned(),
        tenant: policy.tenant,
        allow: policy.allow,
        max_ttl: policy.max_ttl,
        rate_per_min: policy.rate_per_min,
        status: ClientStatus::Active,
        status_reason: None,
        secret_hash: secrets::hash(&secret),
        created_at: now,
        updated_at: now,
    };
    let event = a.event("client.add", id).details(serde_json::to_value(info(&row)).unwrap_or_default());
    a.store.add_client(row.clone(), event).await?;
    Ok(ClientCreated { client: info(&row), secret: secret.to_string() })
}

pub(super) async fn list(a: &LocalAuthority) -> Result<Vec<ClientInfo>> {
    Ok(a.store.list_clients().await?.iter().map(info).collect())
}

pub(super) async fn show(a: &LocalAuthority, id: &str) -> Result<ClientInfo> {
    Ok(info(&get(a, id).await?))
}

pub(super) async fn update(a: &LocalAuthority, id: &str, policy: ClientPolicy) -> Result<ClientInfo> {
    validate_policy(&policy)?;
    let mut row = get(a, id).await?;
    row.tenant = policy.tenant;
    row.allow = policy.allow;
    row.max_ttl = policy.max_ttl;
    row.rate_per_min = policy.rate_per_min;
    row.updated_at = a.now();
    let event = a.event("client.update", id).details(serde_json::to_value(info(&row)).unwrap_or_default());
    a.store.update_client(row.clone(), None, event).await?;
    Ok(info(&row))
}

/// A revocation of everything a client holds now.
fn client_revocation(a: &LocalAuthority, id: &str, now: i64, reason: Option<String>) -> NewRevocation {
    NewRevocation { kind: RevocationKind::Client, id: id.to_owned(), revoked_at: now, expires_at: now + a.max_validity(), reason }
}

pub(super) async fn set_status(a: &LocalAuthority, id: &str, status: ClientStatus, reason: Option<String>) -> Result<ClientInfo> {
    let mut row = get(a, id).await?;
    row.status = status;
    row.status_reason = if status == ClientStatus::Active { None } else { reason.clone() };
    row.updated_at = a.now();
    let event = a
        .event(&format!("client.{}", if status == ClientStatus::Active { "resume" } else { "suspend" }), id)
        .details(serde_json::json!({ "reason": reason }));
    a.store.update_client(row.clone(), None, event).await?;
    Ok(info(&row))
}

pub(super) async fn revoke(a: &LocalAuthority, id: &str, reason: Option<String>) -> Result<RevokeReport> {
    let now = a.now();
    let mut row = get(a, id).await?;
    row.status = ClientStatus::Suspended;
    row.status_reason = Some(reason.clone().unwrap_or_else(|| "revoked".into()));
    row.updated_at = now;
    let entry = client_revocation(a, id, now, reason.clone());
    let event = a.event("client.revoke", id).details(serde_json::json!({ "reason": reason }));
    a.store.update_client(row, Some(entry.clone()), event).await?;
    let revocation = super::issue::find_revocation(a, &entry).await?;
    Ok(RevokeReport { revocation, activated: None })
}

pub(super) async fn remove(a: &LocalAuthority, id: &str) -> Result<()> {
    let now = a.now();
    let entry = client_revocation(a, id, now, Some("client removed".into()));
    a.store.remove_client(id, Some(entry), a.event("client.remove", id)).await
}

pub(super) async fn rotate_secret(a: &LocalAuthority, id: &str) -> Result<ClientCreated> {
    let mut row = get(a, id).await?;
    let secret = secrets::generate(CLIENT_SECRET_PREFIX);
    row.secret_hash = secrets::hash(&secret);
    row.updated_at = a.now();
    a.store.update_client(row.clone(), None, a.event("client.rotate-secret", id)).await?;
    Ok(ClientCreated { client: info(&row), secret: secret.to_string() })
}

/// The client a bearer secret belongs to (constant-time hash comparison).
pub(crate) async fn authenticate(a: &LocalAuthority, secret: &str) -> Result<Option<ClientRow>> {
    if !secret.starts_with(CLIENT_SECRET_PREFIX) {
        return Ok(None);
    }
    let hash = secrets::hash(secret);
    if let Some(hot) = a.hot() {
        return Ok(hot.snapshot().client_by_secret_hash(&hash).filter(|c| secrets::matches(secret, &c.secret_hash)).cloned());
    }
    Ok(a.store.find_client_by_secret(&hash).await?.filter(|c| secrets::matches(secret, &c.secret_hash)))
}

pub(crate) fn token_info(t: &TokenRow, now: i64) -> TokenInfo {
    let state = if t.revoked_at.is_some() {
        "revoked"
    } else if t.expires_at.is_some_and(|e| e <= now) {
        "expired"
    } else {
        "active"
    };
    TokenInfo {
        id: t.id.clone(),
        name: t.name.clone(),
        role: t.role,
        state: state.into(),
        created_at: rfc3339(t.created_at),
        expires_at: opt_time(t.expires_at),
        revoked_at: opt_time(t.revoked_at),
    }
}

pub(super) async fn token_create(a: &LocalAuthority, role: Role, name: Option<String>, expires: Option<Dur>) -> Result<TokenCreated> {
    if expires.is_some_and(|d| d.secs() == 0) {
        return Err(Error::invalid("--expires 0s would create a dead token", "give a lifetime such as 30d, or leave it out"));
    }
    let now = a.now();
    let secret = secrets::generate(ADMIN_TOKEN_PREFIX);
    let hash = secrets::hash(&secret);
    let row = TokenRow {
        id: secrets::public_id("at", &hash),
        name,
        role,
        token_hash: hash,
        created_at: now,
        expires_at: expires.map(|d| now + d.as_i64()),
        revoked_at: None,
    };
    let event =
        a.event("token.create", &row.id).details(serde_json::json!({ "role": role, "name": row.name, "expires_at": row.expires_at }));
    a.store.add_token(row.clone(), event).await?;
    Ok(TokenCreated { token: token_info(&row, now), secret: secret.to_string() })
}

pub(super) async fn token_list(a: &LocalAuthority) -> Result<Vec<TokenInfo>> {
    let now = a.now();
    Ok(a.store.list_tokens().await?.iter().map(|t| token_info(t, now)).collect())
}

pub(super) async fn token_revoke(a: &LocalAuthority, id: &str) -> Result<TokenInfo> {
    let now = a.now();
    a.store.revoke_token(id, now, a.event("token.revoke", id)).await?;
    let t =
        a.store.list_tokens().await?.into_iter().find(|t| t.id == id).ok_or_else(|| Error::NotFound { what: "token", id: id.into() })?;
    Ok(token_info(&t, now))
}

/// The admin token a bearer secret is, if it is active.
pub(crate) async fn authenticate_token(a: &LocalAuthority, secret: &str) -> Result<Option<TokenRow>> {
    if !secret.starts_with(ADMIN_TOKEN_PREFIX) {
        return Ok(None);
    }
    let now = a.now();
    let hash = secrets::hash(secret);
    Ok(a.store
        .find_token_by_hash(&hash)
        .await?
        .filter(|t| secrets::matches(secret, &t.token_hash) && t.revoked_at.is_none() && t.expires_at.is_none_or(|e| e > now)))
}
