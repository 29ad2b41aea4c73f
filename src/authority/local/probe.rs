//! The probe set of `mcpca check`: descriptors signed with the active key for a registered
//! server — one valid, and the broken-but-signed ones a verifier must refuse. They go to the
//! visible principal `mcpca-check`, through the issuance decision (server status, transport,
//! verification), and the whole set is one audit event (its `revoked` case a second one).

use serde_json::json;
use uuid::Uuid;

use super::LocalAuthority;
use crate::audit::Decision;
use crate::authority::{decide, Ask, Authority, Principal, RateWindow, RevokeTarget};
use crate::check::{
    Case, ProbeDescriptor, ProbeRequest, ProbeSet, DEFAULT_PROBE_TTL, PROBE_SUBJECT, SKEW_SECS, WRONG_AUDIENCE, WRONG_SERVER_ID,
};
use crate::clock::rfc3339;
use crate::descriptor::{canonical_url, Claims, ClientClaims, McpClaims, ServerClaims};
use crate::model::ServerRef;
use crate::{Error, Result};

pub(super) async fn probe_set(a: &LocalAuthority, req: &ProbeRequest) -> Result<ProbeSet> {
    let now = a.now();
    let wanted = req.server.to_string();
    let row = match a.hot().map(|h| h.snapshot()) {
        Some(s) => s.find_for_issue(&req.server).cloned(),
        None => super::servers::find_for_issue(a, &req.server).await?,
    };
    // The operator's decision (server status, transport, verification); no client policy.
    let ask = Ask { wanted: &wanted, ttl: Some(req.ttl.unwrap_or(DEFAULT_PROBE_TTL)), tenant: None };
    let grant = match decide(&Principal::Operator, ask, row.as_ref(), RateWindow::default(), &a.settings, now) {
        Ok(g) => g,
        Err(e) => {
            if let Error::Denied { code, message, .. } = &e {
                let event = a
                    .event("issue.probe", wanted.as_str())
                    .decision(Decision::Deny, Some(code.as_str()))
                    .details(json!({ "sub": PROBE_SUBJECT, "reason": message }));
                record(a, event).await?;
            }
            return Err(e);
        }
    };
    let Some(row) = row else { return Err(Error::Store("decision allowed a missing server".into())) };
    let aud = canonical_url(&grant.endpoint).map_err(|e| Error::Store(format!("stored endpoint of {}: {e}", row.version.name)))?;
    let signer = super::keys::active_signer(a).await?;
    let ttl = grant.ttl.as_i64();
    let base = Claims {
        iss: a.settings.issuer.clone(),
        sub: PROBE_SUBJECT.into(),
        client_id: Some(PROBE_SUBJECT.into()),
        aud: aud.clone(),
        iat: now,
        nbf: Some(now),
        exp: now + ttl,
        jti: String::new(),
        scope: None,
        mcp: Some(McpClaims {
            transport: crate::descriptor::TRANSPORT.into(),
            endpoint: grant.endpoint.clone(),
            server: ServerClaims { id: row.version.name.clone(), version: row.version.version.clone(), verified: row.name.verified },
        }),
        client: Some(ClientClaims { id: PROBE_SUBJECT.into(), tenant: None }),
    };
    let mut cases = vec![Case::Valid, Case::Expired, Case::NotYetValid, Case::WrongAudience, Case::WrongServerId];
    if req.revoked {
        cases.push(Case::Revoked);
    }
    let mut descriptors = Vec::with_capacity(cases.len());
    for case in cases {
        let mut c = base.clone();
        c.jti = Uuid::now_v7().to_string();
        match case {
            Case::Expired => {
                c.exp = now - SKEW_SECS;
                c.iat = c.exp - ttl;
                c.nbf = Some(c.iat);
            }
            Case::NotYetValid => {
                c.iat = now + SKEW_SECS;
                c.nbf = Some(c.iat);
                c.exp = c.iat + ttl;
            }
            Case::WrongAudience => c.aud = WRONG_AUDIENCE.into(),
            Case::WrongServerId => {
                if let Some(m) = c.mcp.as_mut() {
                    m.server.id = WRONG_SERVER_ID.into();
                }
            }
            _ => {}
        }
        descriptors.push(ProbeDescriptor { case, descriptor: signer.sign(&c), jti: c.jti });
    }
    let jtis: serde_json::Map<String, serde_json::Value> = descriptors.iter().map(|d| (d.case.to_string(), json!(d.jti))).collect();
    let target = format!("{}@{}", row.version.name, row.version.version);
    let event = a
        .event("issue.probe", target.as_str())
        .decision(Decision::Allow, None)
        .details(json!({ "sub": PROBE_SUBJECT, "kid": signer.kid(), "ttl": ttl, "exp": base.exp, "jti": jtis }));
    // Fail closed, as issuance: no audit record, no descriptors.
    record(a, event).await?;
    if let Some(d) = descriptors.iter().find(|d| d.case == Case::Revoked) {
        let reason = Some(format!("mcpca check of {target}: the revoked case"));
        a.revoke(&RevokeTarget::Jti(d.jti.clone()), reason).await?;
    }
    Ok(ProbeSet {
        server: ServerRef { id: row.version.name.clone(), version: row.version.version.clone() },
        endpoint: grant.endpoint,
        audience: aud,
        issuer: a.settings.issuer.clone(),
        kid: signer.kid().to_owned(),
        expires_at: rfc3339(base.exp),
        descriptors,
    })
}

/// Record an event the way issuance does: through the group commit in serve mode.
async fn record(a: &LocalAuthority, event: crate::audit::NewAuditEvent) -> Result<()> {
    match a.hot() {
        Some(h) => h.record(event, None).await.map(|_| ()),
        None => a.store.append_audit(vec![event]).await.map(|_| ()),
    }
}
