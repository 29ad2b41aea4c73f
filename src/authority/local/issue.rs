//! Issuance of descriptors by the local authority, and descriptor-level revocation.

use std::borrow::Cow;

use uuid::Uuid;

use super::LocalAuthority;
use serde_json::json;

use crate::audit::{Decision, NewAuditEvent};
use crate::authority::{decide, Ask, IssueRequest, Principal, RateWindow, RevokeReport};
use crate::clock::rfc3339;
use crate::descriptor::{canonical_url, IssuedClaims, IssuedClient, IssuedMcp, IssuedServer, HEADER_NAME, TRANSPORT};
use crate::model::{Envelope, Revocation, RevocationKind, ServerRef};
use crate::store::{NewRevocation, RateCheck, ServerRow};
use crate::{Error, Result};

/// The details of an allowed issuance's audit event. Fields in sorted order: the text must be
/// what the stored JSON re-renders to, as `json!` would give (tested below).
#[derive(serde::Serialize)]
struct IssueDetails<'a> {
    exp: i64,
    jti: &'a str,
    kid: &'a str,
    tenant: Option<&'a str>,
    ttl: i64,
}

/// Decide, sign, and record the decision. The descriptor is handed out only after its audit
/// event is committed; a denial is recorded too (and if that record fails, the failure wins).
pub(super) async fn issue(a: &LocalAuthority, req: &IssueRequest) -> Result<Envelope> {
    let principal = match &req.client {
        None => Principal::Operator,
        Some(id) => Principal::Client { id: id.clone(), record: a.store.get_client(id).await?.map(Box::new) },
    };
    issue_as(a, &principal, req).await
}

/// Issue for an already identified principal (the CLI, `POST /v1/connect`, `POST /oauth/token`).
pub(crate) async fn issue_as(a: &LocalAuthority, principal: &Principal, req: &IssueRequest) -> Result<Envelope> {
    let now = a.now();
    let wanted = req.server.to_string();
    let hot = a.hot();
    let snapshot = hot.map(|h| h.snapshot());
    // Borrowed from the snapshot in serve mode (no copy of the row per issuance).
    let row: Option<Cow<'_, ServerRow>> = match &snapshot {
        Some(s) => s.find_for_issue(&req.server).map(Cow::Borrowed),
        None => super::servers::find_for_issue(a, &req.server).await?.map(Cow::Owned),
    };
    let rate = match principal.record() {
        // Serve mode: the group commit counts the window exactly (below); no read here.
        Some(c) if c.rate_per_min.is_some() && hot.is_none() => {
            let (issued, oldest) = a.store.issued_since(&c.id, now - 59).await?;
            RateWindow { issued, oldest }
        }
        _ => RateWindow::default(),
    };
    let ask = Ask { wanted: &wanted, ttl: req.ttl, tenant: req.tenant.as_deref() };
    let subject = principal.subject().to_owned();
    let grant = match decide(principal, ask, row.as_deref(), rate, &a.settings, now) {
        Ok(g) => g,
        Err(e) => return Err(record_denial(a, e, now, &subject, &wanted, req).await),
    };
    let Some(row) = row else { return Err(Error::Store("decision allowed a missing server".into())) };
    let aud = canonical_url(&grant.endpoint).map_err(|e| Error::Store(format!("stored endpoint of {}: {e}", row.version.name)))?;
    // The snapshot's signer, as the server row: both from one snapshot.
    let signer = match snapshot.as_ref().and_then(|s| s.signer()) {
        Some(signer) => signer,
        None => super::keys::active_signer(a).await?,
    };
    let jti = Uuid::now_v7().to_string();
    let ttl = grant.ttl.as_i64();
    let exp = now + ttl;
    let tenant = grant.tenant.as_deref();
    let claims = IssuedClaims {
        iss: &a.settings.issuer,
        sub: &subject,
        client_id: &subject,
        aud: &aud,
        iat: now,
        nbf: now,
        exp,
        jti: &jti,
        scope: req.scope.as_deref().filter(|s| !s.trim().is_empty()),
        mcp: IssuedMcp {
            transport: TRANSPORT,
            endpoint: &grant.endpoint,
            server: IssuedServer { id: &row.version.name, version: &row.version.version, verified: row.name.verified },
        },
        client: IssuedClient { id: &subject, tenant },
    };
    let descriptor = signer.sign(&claims);
    let event = NewAuditEvent::new(now, &subject, "issue", format!("{}@{}", row.version.name, row.version.version))
        .decision(Decision::Allow, None)
        .details(IssueDetails { exp, jti: &jti, kid: signer.kid(), tenant, ttl });
    // Fail closed: no audit record, no descriptor. The client's rate is checked again in the
    // same transaction, so concurrent issuers cannot overshoot it.
    let recheck = principal.record().and_then(|c| c.rate_per_min.map(|limit| RateCheck { client: c.id.clone(), since: now - 59, limit }));
    let recorded = match hot {
        Some(h) => h.record(event, recheck).await?,
        None => a.store.record_issue(event, recheck).await?,
    };
    if let Err((issued, oldest)) = recorded {
        let late = decide(principal, ask, Some(&*row), RateWindow { issued, oldest }, &a.settings, now)
            .err()
            .unwrap_or_else(|| Error::Store("rate window changed while issuing".into()));
        return Err(record_denial(a, late, now, &subject, &wanted, req).await);
    }
    Ok(Envelope {
        descriptor,
        endpoint: grant.endpoint,
        expires_in: grant.ttl.secs(),
        expires_at: rfc3339(exp),
        header: HEADER_NAME.into(),
        server: ServerRef { id: row.version.name.clone(), version: row.version.version.clone() },
        jti,
        clamped: grant.clamp,
    })
}

/// Record a denial in the audit log and hand it back; if the record cannot be written, that
/// failure is what the caller sees.
async fn record_denial(a: &LocalAuthority, e: Error, now: i64, subject: &str, wanted: &str, req: &IssueRequest) -> Error {
    let Error::Denied { code, message, .. } = &e else { return e };
    let event = NewAuditEvent::new(now, subject, "issue", wanted)
        .decision(Decision::Deny, Some(code.as_str()))
        .details(json!({ "reason": message, "ttl": req.ttl.map(|t| t.to_string()) }));
    let recorded = match a.hot() {
        Some(h) => h.record(event, None).await.map(|_| ()),
        None => a.store.append_audit(vec![event]).await.map(|_| ()),
    };
    match recorded {
        Ok(()) => e,
        Err(store) => store,
    }
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

/// How far either side of the instant in a `jti` (UUIDv7: the issuing host's clock, in ms) its
/// issuance event is looked for; the event's `at` is the authority's clock at the same moment,
/// so the slack only allows for a clock pinned or stepped meanwhile. The search reads every
/// issuance event of the window (through the `audit_at` index): at thousands of issuances a
/// second, a minute of them is what one `revoke --jti` costs.
const JTI_TIME_SLACK: i64 = 30;

/// The `exp` of descriptor `jti` as its issuance event recorded it, when that event is found near
/// the instant the `jti` carries.
async fn descriptor_expiry(a: &LocalAuthority, uuid: &Uuid, jti: &str) -> Result<Option<i64>> {
    let Some((secs, _)) = uuid.get_timestamp().map(|t| t.to_unix()) else { return Ok(None) };
    let Ok(at) = i64::try_from(secs) else { return Ok(None) };
    a.store.issued_expiry(jti, at - JTI_TIME_SLACK, at + JTI_TIME_SLACK).await
}

pub(super) async fn revoke_jti(a: &LocalAuthority, jti: &str, reason: Option<String>) -> Result<RevokeReport> {
    let jti = jti.trim();
    // Descriptors carry the canonical form (lower-case, hyphenated); the feed matches it exactly,
    // so an upper-case, simple or braced spelling is stored canonical.
    let Ok(uuid) = Uuid::parse_str(jti) else {
        return Err(Error::invalid(
            format!("{jti:?} is not a descriptor id"),
            "a jti is a UUID, as printed by `mcpca issue -o json` or `mcpca inspect`",
        ));
    };
    let jti = uuid.to_string();
    let jti = jti.as_str();
    let now = a.now();
    let expires_at = match descriptor_expiry(a, &uuid, jti).await? {
        // The entry is needed only as long as that one descriptor can still be accepted.
        Some(exp) => exp + a.settings.leeway.as_i64(),
        // Not issued here, or issued outside the window looked at: long enough for any.
        None => now + a.max_validity(),
    };
    let entry = NewRevocation { kind: RevocationKind::Jti, id: jti.to_owned(), revoked_at: now, expires_at, reason };
    let event = a.event("revoke.jti", jti).details(serde_json::json!({ "reason": entry.reason }));
    let seq = a.store.add_revocation(entry.clone(), event).await?;
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::audit::NewAuditEvent;

    #[test]
    fn issue_details_render_as_the_stored_form_re_renders() {
        for tenant in [None, Some("acme \"eu\"\n\u{e9}")] {
            let typed = NewAuditEvent::new(1, "bot", "issue", "s@1").details(IssueDetails {
                exp: 1_800_000_300,
                jti: "0190a5b2-7c4e-7d2a-9f3b-2c1d4e5f6a7b",
                kid: "k-1",
                tenant,
                ttl: 300,
            });
            let value =
                json!({ "jti": "0190a5b2-7c4e-7d2a-9f3b-2c1d4e5f6a7b", "kid": "k-1", "ttl": 300, "exp": 1_800_000_300, "tenant": tenant });
            assert_eq!(typed.details_text(), value.to_string());
            // And the sealed event verifies as a stored one would.
            let sealed = typed.seal(1, crate::audit::GENESIS);
            assert_eq!(sealed.compute_hash(), sealed.hash);
        }
    }
}
