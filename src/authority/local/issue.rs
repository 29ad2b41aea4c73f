//! Issuance of descriptors by the local authority, and descriptor-level revocation.

use uuid::Uuid;

use super::LocalAuthority;
use crate::authority::{decide, IssueRequest, Principal, RevokeReport};
use crate::clock::rfc3339;
use crate::descriptor::{canonical_url, Claims, ClientClaims, DescriptorSigner, McpClaims, ServerClaims, HEADER_NAME};
use crate::model::{Envelope, Revocation, RevocationKind, ServerRef};
use crate::store::NewRevocation;
use crate::{Error, Result};

pub(super) async fn issue(a: &LocalAuthority, req: &IssueRequest) -> Result<Envelope> {
    let now = a.now();
    let principal = match &req.client {
        None => Principal::Operator,
        Some(id) => Principal::Client { id: id.clone(), tenant: req.tenant.clone() },
    };
    let row = super::servers::find_for_issue(a, &req.server).await?;
    let grant = decide(&principal, &req.server.to_string(), row.as_ref(), req.ttl, &a.settings)?;
    let Some(row) = row else { return Err(Error::Store("decision allowed a missing server".into())) };
    let aud = canonical_url(&grant.endpoint).map_err(|e| Error::Store(format!("stored endpoint of {}: {e}", row.version.name)))?;
    let signer = DescriptorSigner::new(super::keys::active(a).await?);
    let jti = Uuid::now_v7().to_string();
    let ttl = grant.ttl.as_i64();
    let subject = principal.subject().to_owned();
    let tenant = principal.tenant().map(str::to_owned).or_else(|| req.tenant.clone());
    let claims = Claims {
        iss: a.settings.issuer.clone(),
        sub: subject.clone(),
        client_id: Some(subject.clone()),
        aud,
        iat: now,
        nbf: Some(now),
        exp: now + ttl,
        jti: jti.clone(),
        scope: req.scope.clone().filter(|s| !s.trim().is_empty()),
        mcp: Some(McpClaims {
            transport: "streamable_http".into(),
            endpoint: grant.endpoint.clone(),
            server: ServerClaims { id: row.version.name.clone(), version: row.version.version.clone(), verified: row.name.verified },
        }),
        client: Some(ClientClaims { id: subject, tenant }),
    };
    let descriptor = signer.sign(&claims);
    Ok(Envelope {
        descriptor,
        endpoint: grant.endpoint,
        expires_in: grant.ttl.secs(),
        expires_at: rfc3339(claims.exp),
        header: HEADER_NAME.into(),
        server: ServerRef { id: row.version.name, version: row.version.version },
        jti,
        clamped: grant.clamp,
    })
}

/// The stored revocation matching a just-written entry (to report its `seq`).
pub(super) async fn find_revocation(a: &LocalAuthority, entry: &NewRevocation) -> Result<Revocation> {
    a.store
        .list_revocations(0)
        .await?
        .into_iter()
        .rev()
        .find(|r| r.kind == entry.kind && r.id == entry.id && r.revoked_at == entry.revoked_at)
        .ok_or_else(|| Error::Store("revocation was not recorded".into()))
}

pub(super) async fn revoke_jti(a: &LocalAuthority, jti: &str, reason: Option<String>) -> Result<RevokeReport> {
    let jti = jti.trim();
    if Uuid::parse_str(jti).is_err() {
        return Err(Error::invalid(
            format!("{jti:?} is not a descriptor id"),
            "a jti is a UUID, as printed by `mcpca issue -o json` or `mcpca inspect`",
        ));
    }
    let now = a.now();
    let entry =
        NewRevocation { kind: RevocationKind::Jti, id: jti.to_owned(), revoked_at: now, expires_at: now + a.max_validity(), reason };
    let seq = a.store.add_revocation(entry.clone()).await?;
    Ok(RevokeReport {
        revocation: Revocation {
            seq,
            kind: entry.kind,
            id: entry.id,
            revoked_at: entry.revoked_at,
            expires_at: entry.expires_at,
            reason: entry.reason,
        },
        activated: None,
    })
}
