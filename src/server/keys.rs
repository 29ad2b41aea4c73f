//! What verifiers fetch: the JWKS, the RFC 8414 metadata and the signed revocation feed, with
//! `ETag` so pollers pay for a body only when it changed.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::{ApiResult, AppState};
use crate::authority::Authority;

/// How long verifiers may cache the JWKS (a `next` key is published well before it signs).
pub const JWKS_MAX_AGE: u64 = 300;

/// Routes of this module.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/.well-known/jwks.json", get(jwks))
        .route("/.well-known/oauth-authorization-server", get(metadata))
        .route("/v1/revocations", get(revocations))
}

/// The strong `ETag` of a body: a quoted hash of its bytes.
pub fn etag_of(body: &[u8]) -> String {
    format!("\"{}\"", crate::audit::hex(&Sha256::digest(body)[..16]))
}

/// A body with an ETag (by default a hash of the body); `304 Not Modified` when the client has it.
pub fn with_etag(headers: &HeaderMap, content_type: &'static str, body: impl Into<Bytes>, cache: &str, tag: Option<String>) -> Response {
    let body: Bytes = body.into();
    let tag = tag.unwrap_or_else(|| etag_of(&body));
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    let mut resp = if matches { StatusCode::NOT_MODIFIED.into_response() } else { (StatusCode::OK, body).into_response() };
    let h = resp.headers_mut();
    if !matches {
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    if let Ok(v) = HeaderValue::from_str(&tag) {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(cache) {
        h.insert(header::CACHE_CONTROL, v);
    }
    resp
}

async fn jwks(State(state): State<Arc<AppState>>, headers: HeaderMap) -> ApiResult<Response> {
    let cache = jwks_cache_control();
    // Serve mode: from the snapshot (no database read; keeps answering while the database is
    // unreachable, so verifiers refreshing their cache are not cut off).
    if let Some(published) = state.authority.published_jwks() {
        return Ok(with_etag(&headers, "application/json", published.body.clone(), cache, Some(published.etag.clone())));
    }
    let body = serde_json::to_vec(&state.authority.jwks().await?).unwrap_or_default();
    Ok(with_etag(&headers, "application/json", body, cache, None))
}

/// `Cache-Control` of the JWKS.
fn jwks_cache_control() -> &'static str {
    static VALUE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    VALUE.get_or_init(|| format!("public, max-age={JWKS_MAX_AGE}"))
}

async fn metadata(State(state): State<Arc<AppState>>) -> Json<serde_json::Value> {
    let iss = state.authority.settings().issuer.trim_end_matches('/').to_owned();
    Json(json!({
        "issuer": state.authority.settings().issuer,
        "jwks_uri": format!("{iss}/.well-known/jwks.json"),
        "token_endpoint": format!("{iss}/oauth/token"),
        "introspection_endpoint": format!("{iss}/oauth/introspect"),
        "revocation_endpoint": format!("{iss}/oauth/revoke"),
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "response_types_supported": [],
        "token_endpoint_auth_signing_alg_values_supported": ["EdDSA"],
        "mcp_connect_endpoint": format!("{iss}/v1/connect"),
        "mcp_revocations_endpoint": format!("{iss}/v1/revocations"),
    }))
}

#[derive(Debug, Deserialize)]
struct Since {
    #[serde(default)]
    since: i64,
}

async fn revocations(State(state): State<Arc<AppState>>, headers: HeaderMap, Query(q): Query<Since>) -> ApiResult<Response> {
    let feed = state.authority.revocation_feed(q.since).await?;
    // The entries, not the signing instant, decide whether the feed changed. Hashed as they are
    // serialised: no second copy of a feed that can be hundreds of KB.
    let mut hasher = Sha256::new();
    let _ = serde_json::to_writer(&mut hasher, &feed.feed.entries);
    let digest = hasher.finalize();
    let tag = format!("\"{}-{}\"", feed.feed.seq, crate::audit::hex(&digest[..8]));
    Ok(with_etag(&headers, "application/jwt", feed.jws.into_bytes(), "no-cache", Some(tag)))
}
