//! `mcpca inspect` (report everything, fail on nothing but garbage) and `mcpca verify` (the
//! verifier contract, with its exit codes).

use ed25519_dalek::Signature;
use serde::Serialize;

use super::keysource::{key_set, load_jwks, local_key_set, local_keys, remote_key_set};
use super::{read_token, Backend, Ctx};
use crate::authority::Authority;
use crate::cli::{InspectArgs, OutputFormat, VerifyArgs};
use crate::descriptor::{self, Expectations, FailureCode, VerifyError};
use crate::duration::Dur;
use crate::error::Error;
use crate::output::{pairs, when, Tabular};
use crate::Result;

/// What `inspect` found.
#[derive(Debug, Serialize)]
pub struct Inspection {
    pub header: serde_json::Value,
    pub claims: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// Seconds until expiry (negative: expired that long ago).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining: Option<i64>,
    pub expired: bool,
    pub signature: SignatureStatus,
    #[serde(skip)]
    now: i64,
}

/// Whether the signature matches a known key.
#[derive(Debug, Serialize)]
pub struct SignatureStatus {
    /// `valid`, `invalid`, `unknown_kid` or `unchecked`.
    pub status: &'static str,
    /// `local` or the JWKS source.
    pub keys: String,
    /// State of the local key that signed, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_state: Option<String>,
}

impl Tabular for Inspection {
    fn table(&self) -> String {
        let h = |k: &str| self.header.get(k).and_then(|v| v.as_str()).unwrap_or("-").to_owned();
        let mut rows = vec![("alg", h("alg")), ("typ", h("typ")), ("kid", h("kid"))];
        let c = |k: &str| self.claims.get(k).map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned));
        for k in ["iss", "sub", "aud", "jti", "scope"] {
            if let Some(v) = c(k) {
                rows.push((k, v));
            }
        }
        if let Some(m) = self.claims.get("mcp") {
            let s = |p: &str| m.pointer(p).map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned)).unwrap_or_default();
            rows.push(("server", format!("{}@{} (verified: {})", s("/server/id"), s("/server/version"), s("/server/verified"))));
            rows.push(("endpoint", s("/endpoint")));
        }
        if let Some(t) = self.claims.pointer("/client/tenant").and_then(|v| v.as_str()) {
            rows.push(("tenant", t.to_owned()));
        }
        let num = |k: &str| self.claims.get(k).and_then(serde_json::Value::as_i64);
        if let Some(t) = num("iat") {
            rows.push(("issued", when(t, self.now)));
        }
        if let Some(t) = num("exp") {
            let text = if self.expired {
                format!("{} (expired {} ago)", crate::clock::rfc3339(t), Dur((self.now - t).unsigned_abs()))
            } else {
                when(t, self.now)
            };
            rows.push(("expires", text));
        }
        if let (Some(i), Some(e)) = (num("iat"), num("exp")) {
            rows.push(("lifetime", Dur((e - i).unsigned_abs()).to_string()));
        }
        let sig = &self.signature;
        let state = sig.key_state.as_ref().map(|s| format!(", key {s}")).unwrap_or_default();
        rows.push(("signature", format!("{} ({} keys{state})", sig.status, sig.keys)));
        pairs(&rows)
    }
}

pub(super) async fn inspect(ctx: &Ctx, args: InspectArgs) -> Result<()> {
    let token = read_token(&args.token)?;
    let parsed = descriptor::parse(&token)?;
    let header_json = decode_json(token.split('.').next().unwrap_or(""))?;
    let claims: serde_json::Value = serde_json::from_slice(&parsed.payload)
        .map_err(|e| VerifyError { code: FailureCode::DescriptorInvalid, detail: format!("claims are not JSON: {e}") })?;
    let now = ctx.clock.now();
    let kid = parsed.header.kid.clone().unwrap_or_default();
    let signature = Signature::from_bytes(&parsed.signature);
    let check = |vk: &ed25519_dalek::VerifyingKey| vk.verify_strict(parsed.signing_input.as_bytes(), &signature).is_ok();

    let sig = match &args.jwks {
        Some(src) => {
            let keys = key_set(&load_jwks(src).await?)?;
            let status = match keys.get(&kid) {
                None => "unknown_kid",
                Some(vk) if check(vk) => "valid",
                Some(_) => "invalid",
            };
            SignatureStatus { status, keys: src.clone(), key_state: None }
        }
        None => match ctx.key_authority() {
            Ok(Backend::Remote(r)) => {
                let (keys, url) = remote_key_set(&r).await?;
                let status = match keys.get(&kid) {
                    None => "unknown_kid",
                    Some(vk) if check(vk) => "valid",
                    Some(_) => "invalid",
                };
                // The key's state when the token may read the key list (best effort: inspect
                // reports, it does not fail on what it cannot learn).
                let key_state = match r.key_list().await {
                    Ok(list) => list.into_iter().find(|k| k.kid == kid).map(|k| k.state.to_string()),
                    Err(_) => None,
                };
                SignatureStatus { status, keys: url, key_state: if status == "unknown_kid" { None } else { key_state } }
            }
            Ok(Backend::Local(a)) => {
                let keys = local_keys(&a).await?;
                match keys.iter().find(|(k, _, _)| *k == kid) {
                    None => SignatureStatus { status: "unknown_kid", keys: "local".into(), key_state: None },
                    Some((_, state, vk)) => SignatureStatus {
                        status: if check(vk) { "valid" } else { "invalid" },
                        keys: "local".into(),
                        key_state: Some(state.to_string()),
                    },
                }
            }
            Err(Error::NotInitialized(_)) => SignatureStatus { status: "unchecked", keys: "no".into(), key_state: None },
            Err(e) => return Err(e),
        },
    };
    let exp = claims.get("exp").and_then(serde_json::Value::as_i64);
    let report = Inspection {
        issued_at: claims.get("iat").and_then(serde_json::Value::as_i64).map(crate::clock::rfc3339),
        expires_at: exp.map(crate::clock::rfc3339),
        remaining: exp.map(|e| e - now),
        expired: exp.is_some_and(|e| e <= now),
        header: header_json,
        claims,
        signature: sig,
        now,
    };
    ctx.print(&report)
}

fn decode_json(part: &str) -> Result<serde_json::Value> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| VerifyError { code: FailureCode::DescriptorInvalid, detail: "header is not base64url".into() })?;
    Ok(serde_json::from_slice(&bytes).map_err(|e| VerifyError { code: FailureCode::DescriptorInvalid, detail: format!("header: {e}") })?)
}

/// Read a signed revocation feed: the JWS alone (`mcpca revocations > feed.jws`) or the JSON
/// of `mcpca revocations -o json`. A feed that cannot be read or checked means "cannot check".
fn load_feed(path: &std::path::Path, keys: &descriptor::KeySet, issuer: &str) -> Result<crate::feed::Feed> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io("cannot read", path, e))?;
    let jws = match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(v) => v.get("jws").and_then(|j| j.as_str()).map(str::to_owned).unwrap_or_default(),
        Err(_) => text.trim().to_owned(),
    };
    crate::feed::Feed::from_jws(&jws, keys, Some(issuer)).map_err(|e| {
        Error::invalid(
            format!("cannot use the revocation feed {}: {e}", path.display()),
            "give the output of `mcpca revocations` from the same authority",
        )
    })
}

/// What `verify -o json` prints.
#[derive(Debug, Serialize)]
struct Verdict {
    valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<FailureCode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    claims: Option<descriptor::Claims>,
    #[serde(skip)]
    now: i64,
}

impl Tabular for Verdict {
    fn table(&self) -> String {
        match &self.claims {
            Some(c) => {
                let server = c.mcp.as_ref().map(|m| format!("{}@{}", m.server.id, m.server.version)).unwrap_or_default();
                pairs(&[
                    ("valid", "yes".into()),
                    ("jti", c.jti.clone()),
                    ("sub", c.sub.clone()),
                    ("server", server),
                    ("expires", when(c.exp, self.now)),
                ])
            }
            None => String::new(),
        }
    }
}

pub(super) async fn verify(ctx: &Ctx, args: VerifyArgs) -> Result<()> {
    // Keys and expectations first: failing to get them means "cannot check" (exit 2).
    // The local authority, or in remote mode the remote one's public JWKS and issuer.
    let default = match (&args.jwks, &args.issuer) {
        (Some(_), Some(_)) => None,
        _ => Some(ctx.key_authority()?),
    };
    let keys = match (&args.jwks, &default) {
        (Some(src), _) => key_set(&load_jwks(src).await?)?,
        (None, Some(Backend::Local(a))) => local_key_set(a).await?,
        (None, Some(Backend::Remote(r))) => remote_key_set(r).await?.0,
        (None, None) => return Err(Error::invalid("no keys to verify with", "give --jwks FILE|URL")),
    };
    let issuer = match (&args.issuer, &default) {
        (Some(i), _) => i.clone(),
        (None, Some(Backend::Local(a))) => a.settings().issuer.clone(),
        (None, Some(Backend::Remote(r))) => r.issuer().await?,
        (None, None) => return Err(Error::invalid("no issuer to expect", "give --issuer URL")),
    };
    let mut exp = Expectations::new(issuer, &args.audience)
        .map_err(|e| Error::invalid(format!("--audience: {}", e.detail), "give the server's own URL, e.g. https://weather.acme.dev/mcp"))?;
    exp.server_id = args.server_id;
    if let Some(l) = args.leeway {
        exp.leeway = l.as_i64();
    }
    let token = read_token(&args.token)?;
    let now = ctx.clock.now();
    let machine = ctx.format_or(OutputFormat::Table) != OutputFormat::Table;
    let feed = match &args.revocations {
        Some(path) => Some(load_feed(path, &keys, &exp.issuer)?),
        None => None,
    };
    let checked = descriptor::verify(&token, &exp, now, &keys).and_then(|v| match &feed {
        Some(f) => f.check(&v.kid, &v.claims).map(|()| v),
        None => Ok(v),
    });
    match checked {
        Ok(v) => {
            let claims = (*v.claims).clone();
            ctx.print(&Verdict { valid: true, error: None, detail: None, kid: Some(v.kid.to_string()), claims: Some(claims), now })
        }
        Err(e) => {
            if machine {
                ctx.print(&Verdict { valid: false, error: Some(e.code), detail: Some(e.detail.clone()), kid: None, claims: None, now })?;
            }
            Err(e.into())
        }
    }
}
