//! Where `inspect` and `verify` get public keys: a JWKS file or URL, the local authority, or
//! in remote mode the remote authority's published JWKS (`/.well-known/jwks.json`).

use std::time::Duration;

use crate::authority::{Authority, LocalAuthority, RemoteAuthority};
use crate::descriptor::KeySet;
use crate::keys::{Jwks, KeyState};
use crate::{Error, Result};

/// Read a JWKS from a file path or an http(s) URL. Failure here means "cannot check" (exit 2).
pub async fn load_jwks(source: &str) -> Result<Jwks> {
    let text = if source.starts_with("http://") || source.starts_with("https://") {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Config(format!("cannot build an HTTP client: {e}")))?;
        let resp = client.get(source).send().await.map_err(|e| jwks_error(source, &e.to_string()))?;
        if !resp.status().is_success() {
            return Err(jwks_error(source, &format!("HTTP {}", resp.status())));
        }
        resp.text().await.map_err(|e| jwks_error(source, &e.to_string()))?
    } else {
        std::fs::read_to_string(source).map_err(|e| jwks_error(source, &e.to_string()))?
    };
    Jwks::from_json(&text).map_err(|e| jwks_error(source, &e.to_string()))
}

fn jwks_error(source: &str, why: &str) -> Error {
    Error::invalid(
        format!("cannot read the JWKS from {source}: {why}"),
        "give a JWKS file (`mcpca key export --public > jwks.json`) or the authority's /.well-known/jwks.json URL",
    )
}

/// Turn a JWKS into verification keys (malformed keys are an error: cannot check).
pub fn key_set(jwks: &Jwks) -> Result<KeySet> {
    KeySet::from_jwks(jwks).map_err(|e| Error::invalid(format!("the JWKS has a bad key: {e}"), "check the JWKS document"))
}

/// Every key this authority ever had (published or not), with its state: `inspect` reports
/// a signature made by a retired or revoked key as such.
pub async fn local_keys(a: &LocalAuthority) -> Result<Vec<(String, KeyState, ed25519_dalek::VerifyingKey)>> {
    let mut out = Vec::new();
    for k in a.store().list_keys().await? {
        if let Ok(vk) = ed25519_dalek::VerifyingKey::from_bytes(&k.public_key) {
            out.push((k.kid, k.state, vk));
        }
    }
    Ok(out)
}

/// The published keys of the local authority, as a verifier would fetch them.
pub async fn local_key_set(a: &LocalAuthority) -> Result<KeySet> {
    key_set(&a.jwks().await?)
}

/// The published keys of a remote authority, fetched as a verifier does (no token needed),
/// and where they came from.
pub async fn remote_key_set(r: &RemoteAuthority) -> Result<(KeySet, String)> {
    let url = r.public_jwks_url().to_string();
    Ok((key_set(&load_jwks(&url).await?)?, url))
}
