//! OAuth 2.0 interop (DESIGN §7, docs/oauth.md): a standard OAuth client gets a Connect
//! Descriptor as an access token without knowing mcpca.
//!
//! - `POST /oauth/token`: `grant_type=client_credentials` + `resource=<server endpoint URL>`
//!   (RFC 8707), client authentication `client_secret_basic` or `client_secret_post` (exactly
//!   one per request). The resource is canonicalised and mapped to the registered server version
//!   whose remote has that URL; the descriptor comes from the same issuance decision as
//!   `POST /v1/connect` (`LocalAuthority::issue_for`), so it is audited and rate limited alike.
//! - `POST /oauth/introspect` (RFC 7662): any authenticated client may introspect any token.
//!   The answer tells nothing that the token itself (a readable JWT), the public JWKS and the
//!   public revocation feed do not already tell, and it lets an MCP server registered as a
//!   client introspect instead of verifying locally.
//! - `POST /oauth/revoke` (RFC 7009): a client revokes descriptors issued to itself (their
//!   `jti`); invalid, foreign-issuer and expired tokens answer 200 and change nothing; a valid
//!   descriptor of another client is refused with 400 `unauthorized_client`.
//!
//! Errors are RFC 6749 §5.2 JSON: `{"error","error_description"}`, plus `mcpca_error` (our deny
//! code, e.g. `policy_blocked`) whenever the issuance decision said no, and `retry_after` for a
//! rate limit. Denials map as: `server_not_found`, `server_revoked`, `transport_not_supported`,
//! `server_unverified` and a suspended server's `policy_blocked` → 400 `invalid_target`; a
//! suspended client or one whose patterns do not allow the server (`policy_blocked`) → 400
//! `unauthorized_client`; `rate_limited` → 429 `temporarily_unavailable` with `Retry-After`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine as _;
use serde::Serialize;
use serde_json::json;

use super::AppState;
use crate::authority::{pattern_matches, Authority, IssueRequest, Principal, RevokeTarget, ServerRefArg};
use crate::descriptor::{canonical_url, Claims, Expectations, KeySet, Verified};
use crate::error::DenyCode;
use crate::feed::Feed;
use crate::store::{ClientRow, ClientStatus};
use crate::Error;

/// The one grant type served.
pub const CLIENT_CREDENTIALS: &str = "client_credentials";

/// Routes of this module.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/oauth/token", post(token)).route("/oauth/introspect", post(introspect)).route("/oauth/revoke", post(revoke))
}

/// An RFC 6749 §5.2 error answer.
#[derive(Debug, Clone)]
pub struct OAuthError {
    pub status: StatusCode,
    /// The OAuth error code (`invalid_request`, `invalid_client`, …).
    pub error: &'static str,
    pub description: String,
    /// mcpca's own code, when the issuance decision said no.
    pub mcpca_error: Option<&'static str>,
    /// Seconds to wait (429).
    pub retry_after: Option<u64>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    error_description: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    mcpca_error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after: Option<u64>,
}

impl OAuthError {
    fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        OAuthError { status, error, description: description.into(), mcpca_error: None, retry_after: None }
    }

    fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    fn invalid_client(description: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_client", description)
    }

    fn invalid_target(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_target", description)
    }

    /// A storage or key failure: logged, answered without its details.
    fn internal(e: &Error) -> Self {
        tracing::error!(error = %e, "oauth request failed");
        let mut out = Self::new(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", "the authority cannot answer right now");
        out.mcpca_error = Some("unavailable");
        out
    }

    /// An error of the issuance decision for `client` asking for server `name`.
    fn from_issue(e: Error, client: &ClientRow, name: &str) -> Self {
        match e {
            Error::Denied { code, message, retry_after } => {
                let (status, error) = match code {
                    DenyCode::RateLimited => (StatusCode::TOO_MANY_REQUESTS, "temporarily_unavailable"),
                    DenyCode::PolicyBlocked if client_side(client, name) => (StatusCode::BAD_REQUEST, "unauthorized_client"),
                    _ => (StatusCode::BAD_REQUEST, "invalid_target"),
                };
                OAuthError { status, error, description: message, mcpca_error: Some(code.as_str()), retry_after }
            }
            Error::Invalid { .. } | Error::Config(_) => Self::invalid_request(e.to_string()),
            other => Self::internal(&other),
        }
    }
}

/// Whether a `policy_blocked` denial is about the client (suspended, or not allowed this
/// server) rather than about the server (suspended).
fn client_side(client: &ClientRow, name: &str) -> bool {
    client.status == ClientStatus::Suspended || !client.allow.iter().any(|p| pattern_matches(p, name))
}

/// `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 §5.1), on every OAuth answer.
fn no_store(resp: &mut Response) {
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: self.error,
            error_description: &self.description,
            mcpca_error: self.mcpca_error,
            retry_after: self.retry_after,
        };
        let mut resp = (self.status, Json(body)).into_response();
        no_store(&mut resp);
        let h = resp.headers_mut();
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 6749 §5.2 (the scheme the client used) and RFC 9110 (a 401 carries a challenge).
            h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"mcpca\""));
        }
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                h.insert(header::RETRY_AFTER, v);
            }
        }
        resp
    }
}

type OAuthResult<T> = Result<T, OAuthError>;

/// A form-encoded request body. Parameters without a value count as absent (RFC 6749 §3.1).
#[derive(Debug)]
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(headers: &HeaderMap, body: &[u8]) -> OAuthResult<Self> {
        let form = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"));
        if !form {
            return Err(OAuthError::invalid_request("send the parameters as application/x-www-form-urlencoded"));
        }
        Ok(Params(url::form_urlencoded::parse(body).into_owned().filter(|(_, v)| !v.is_empty()).collect()))
    }

    /// Every value of a parameter.
    fn all(&self, key: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == key).map(|(_, v)| v.as_str()).collect()
    }

    /// A parameter that may appear at most once (RFC 6749 §3.2).
    fn one(&self, key: &str) -> OAuthResult<Option<&str>> {
        match self.all(key).as_slice() {
            [] => Ok(None),
            [v] => Ok(Some(v)),
            _ => Err(OAuthError::invalid_request(format!("parameter {key} is repeated"))),
        }
    }
}

/// Decode one side of `client_id:client_secret` (application/x-www-form-urlencoded, RFC 6749 §2.3.1).
fn form_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// `Authorization: Basic …` as `(client_id, client_secret)`; `None` without an Authorization header.
fn basic_credentials(headers: &HeaderMap) -> OAuthResult<Option<(String, String)>> {
    let Some(value) = headers.get(header::AUTHORIZATION) else { return Ok(None) };
    let unsupported = || OAuthError::invalid_client("use client_secret_basic (Authorization: Basic) or client_secret_post");
    let value = value.to_str().map_err(|_| unsupported())?;
    let (scheme, encoded) = value.trim().split_once(' ').ok_or_else(unsupported)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(unsupported());
    }
    let malformed = || OAuthError::invalid_client("malformed Basic credentials (base64 of client_id:client_secret)");
    let encoded = encoded.trim();
    let raw = STANDARD.decode(encoded).or_else(|_| STANDARD_NO_PAD.decode(encoded)).map_err(|_| malformed())?;
    let text = String::from_utf8(raw).map_err(|_| malformed())?;
    let (id, secret) = text.split_once(':').ok_or_else(malformed)?;
    let (id, secret) = (form_decode(id).ok_or_else(malformed)?, form_decode(secret).ok_or_else(malformed)?);
    if id.is_empty() || secret.is_empty() {
        return Err(malformed());
    }
    Ok(Some((id, secret)))
}

/// The client a request authenticates as, by exactly one of client_secret_basic and
/// client_secret_post. The secret finds the client (hash compared in constant time); the
/// `client_id` sent must be that client's id.
async fn authenticate(state: &AppState, headers: &HeaderMap, params: &Params) -> OAuthResult<ClientRow> {
    let basic = basic_credentials(headers)?;
    let body_id = params.one("client_id")?;
    let body_secret = params.one("client_secret")?;
    let (id, secret) = match (basic, body_secret) {
        (Some(_), Some(_)) => {
            return Err(OAuthError::invalid_request("use one client authentication method: Basic or client_secret in the body, not both"))
        }
        (Some((id, secret)), None) => {
            if body_id.is_some_and(|b| b != id) {
                return Err(OAuthError::invalid_request("client_id in the body is not the client of the Basic credentials"));
            }
            (id, secret)
        }
        (None, Some(secret)) => {
            let id = body_id.ok_or_else(|| OAuthError::invalid_request("client_secret_post needs client_id with client_secret"))?;
            (id.to_owned(), secret.to_owned())
        }
        (None, None) => {
            return Err(OAuthError::invalid_client("client authentication required: client_secret_basic or client_secret_post"));
        }
    };
    let client = state.authority.authenticate_client(&secret).await.map_err(|e| OAuthError::internal(&e))?;
    // One answer for an unknown secret and a secret of another client: no oracle.
    client.filter(|c| c.id == id).ok_or_else(|| OAuthError::invalid_client("unknown client or wrong client secret"))
}

/// Answer a JSON body with `no-store`.
fn json_no_store(value: serde_json::Value) -> Response {
    let mut resp = Json(value).into_response();
    no_store(&mut resp);
    resp
}

async fn token(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> OAuthResult<Response> {
    let params = Params::parse(&headers, &body)?;
    let client = authenticate(&state, &headers, &params).await?;
    match params.one("grant_type")? {
        None => return Err(OAuthError::invalid_request("grant_type is required (client_credentials)")),
        Some(CLIENT_CREDENTIALS) => {}
        Some(other) => {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                format!("grant_type {other:?} is not supported; use client_credentials"),
            ))
        }
    }
    let resource = match params.all("resource").as_slice() {
        [] => return Err(OAuthError::invalid_target("resource is required: the MCP server's endpoint URL (RFC 8707)")),
        [r] => r.to_string(),
        _ => return Err(OAuthError::invalid_target("one resource per token request: a descriptor is for one MCP server")),
    };
    if resource.contains('#') {
        return Err(OAuthError::invalid_target("resource must not have a fragment (RFC 8707)"));
    }
    let canonical = canonical_url(&resource).map_err(|e| OAuthError::invalid_target(format!("resource: {e}")))?;
    let store = state.authority.store();
    let (name, version) = store
        .server_by_endpoint(&canonical)
        .await
        .map_err(|e| OAuthError::internal(&e))?
        .ok_or_else(|| OAuthError::invalid_target(format!("no registered server has the endpoint {canonical}")))?;
    // The descriptor's audience is the server's streamable-http endpoint: a resource that is
    // another kind of remote of the server cannot be the audience.
    let row = store.get_server(&name, Some(&version)).await.map_err(|e| OAuthError::internal(&e))?;
    if let Some(endpoint) = row.and_then(|r| r.version.endpoint) {
        if canonical_url(&endpoint).ok().as_deref() != Some(canonical.as_str()) {
            let mut e = OAuthError::invalid_target(format!(
                "{resource} is a remote of {name}@{version} but not its streamable-http endpoint ({endpoint})"
            ));
            e.mcpca_error = Some(DenyCode::TransportNotSupported.as_str());
            return Err(e);
        }
    }
    let scope = params.one("scope")?.map(str::to_owned);
    let request = IssueRequest {
        server: ServerRefArg { name: name.clone(), version: Some(version) },
        ttl: None,
        client: Some(client.id.clone()),
        tenant: None,
        scope,
    };
    let principal = Principal::Client { id: client.id.clone(), record: Some(Box::new(client.clone())) };
    let result = state.authority.issue_for(&principal, &request).await;
    state.metrics.record_issue(&name, &result);
    let envelope = result.map_err(|e| OAuthError::from_issue(e, &client, &name))?;
    let mut body = json!({
        "access_token": envelope.descriptor,
        "token_type": "Bearer",
        "expires_in": envelope.expires_in,
    });
    if let Some(scope) = request.scope.filter(|s| !s.trim().is_empty()) {
        body["scope"] = json!(scope);
    }
    let mut response = json_no_store(body);
    response.extensions_mut().insert(super::ops::Issued::of(envelope, client.id));
    Ok(response)
}

/// A descriptor this authority issued and still stands behind: signature under a published
/// key, our issuer, not expired (no leeway: the authority's own view), not revoked by any of
/// our revocations. `None` for anything else.
async fn verify_own(state: &AppState, token: &str) -> Result<Option<Verified>, Error> {
    let Ok(parsed) = crate::descriptor::parse(token) else { return Ok(None) };
    let Ok(claims) = serde_json::from_slice::<Claims>(&parsed.payload) else { return Ok(None) };
    let keys = KeySet::from_jwks(&state.authority.jwks().await?).map_err(Error::Store)?;
    let now = state.authority.now_secs();
    let expect = Expectations { issuer: state.authority.settings().issuer.clone(), audience: claims.aud, server_id: None, leeway: 0 };
    let Ok(verified) = crate::descriptor::verify(token, &expect, now, &keys) else { return Ok(None) };
    let revocations = state.authority.revocations(0).await?;
    let feed = Feed::build(&state.authority.settings().issuer, revocations, 0, now);
    Ok(feed.check(&verified.kid, &verified.claims).is_ok().then_some(verified))
}

/// The `token` parameter of introspection and revocation (`token_type_hint` is accepted and
/// not needed: descriptors are the only tokens).
fn token_param(params: &Params) -> OAuthResult<&str> {
    params.one("token_type_hint")?;
    params.one("token")?.ok_or_else(|| OAuthError::invalid_request("token is required"))
}

async fn introspect(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> OAuthResult<Response> {
    let params = Params::parse(&headers, &body)?;
    authenticate(&state, &headers, &params).await?;
    let token = token_param(&params)?;
    let Some(verified) = verify_own(&state, token).await.map_err(|e| OAuthError::internal(&e))? else {
        return Ok(json_no_store(json!({ "active": false })));
    };
    let mut body = serde_json::to_value(&*verified.claims).unwrap_or_else(|_| json!({}));
    if let Some(obj) = body.as_object_mut() {
        obj.insert("active".into(), json!(true));
        obj.insert("token_type".into(), json!("Bearer"));
    }
    Ok(json_no_store(body))
}

async fn revoke(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> OAuthResult<Response> {
    let params = Params::parse(&headers, &body)?;
    let client = authenticate(&state, &headers, &params).await?;
    let token = token_param(&params)?;
    let done = || {
        let mut resp = StatusCode::OK.into_response();
        no_store(&mut resp);
        resp
    };
    // Invalid, foreign, expired or already revoked tokens: nothing to do, and 200 (RFC 7009 §2.2).
    let Some(verified) = verify_own(&state, token).await.map_err(|e| OAuthError::internal(&e))? else { return Ok(done()) };
    if verified.claims.sub != client.id {
        return Err(OAuthError::new(StatusCode::BAD_REQUEST, "unauthorized_client", "this token was not issued to this client"));
    }
    let reason = Some(format!("revoked by client {} through /oauth/revoke", client.id));
    state.authority.revoke(&RevokeTarget::Jti(verified.claims.jti.clone()), reason).await.map_err(|e| OAuthError::internal(&e))?;
    tracing::info!(jti = %verified.claims.jti, client = %client.id, "descriptor revoked through /oauth/revoke");
    Ok(done())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_decoding_of_basic_parts() {
        assert_eq!(form_decode("a%3Ab+c").as_deref(), Some("a:b c"));
        assert_eq!(form_decode("plain").as_deref(), Some("plain"));
        assert_eq!(form_decode("bad%2"), None);
        assert_eq!(form_decode("bad%zz"), None);
    }
}
