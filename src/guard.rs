//! Enforcement where it belongs: a tower [`Layer`] that an axum MCP server puts in front of its
//! routes. It takes the Connect Descriptor from `MCP-Connect` or `Authorization: Bearer`,
//! verifies it with a [`Verifier`] on every request, hands the verified claims to handlers as a
//! request extension ([`Verified`](crate::descriptor::Verified)), answers refusals with `401` + `WWW-Authenticate` + a JSON
//! body, and serves the RFC 9728 protected-resource metadata that points clients at the
//! authority.
//!
//! ```no_run
//! # async fn demo() -> mcpca::Result<()> {
//! use std::sync::Arc;
//! use axum::{routing::post, Extension, Router};
//! use mcpca::descriptor::Verified;
//! use mcpca::guard::GuardLayer;
//! use mcpca::verify::{Verifier, VerifierConfig};
//!
//! let config = VerifierConfig::new("https://ca.example.com", "https://weather.acme.dev/mcp");
//! let verifier = Arc::new(Verifier::new(config, Arc::new(mcpca::clock::SystemClock))?);
//! let app: Router = Router::new()
//!     .route("/mcp", post(|Extension(v): Extension<Verified>| async move { v.claims.sub.clone() }))
//!     .layer(GuardLayer::new(verifier));
//! # let _ = app; Ok(()) }
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tower::{Layer, Service};

use crate::descriptor::{FailureCode, VerifyError, HEADER_NAME};
use crate::verify::Verifier;

/// The RFC 9728 well-known path.
pub const METADATA_PATH: &str = "/.well-known/oauth-protected-resource";

/// Which request header carries the descriptor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum HeaderMode {
    /// `MCP-Connect`, or else `Authorization: Bearer`. When both are sent, `MCP-Connect` is
    /// the one checked (the other may be meant for something else, e.g. a gateway).
    #[default]
    Either,
    /// Only `MCP-Connect` (HAPI convention).
    McpConnect,
    /// Only `Authorization: Bearer` (OAuth convention).
    Authorization,
}

impl HeaderMode {
    /// The spelling accepted by [`FromStr`].
    pub fn as_str(self) -> &'static str {
        match self {
            HeaderMode::Either => "either",
            HeaderMode::McpConnect => "mcp-connect",
            HeaderMode::Authorization => "authorization",
        }
    }
}

impl fmt::Display for HeaderMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for HeaderMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "either" => Ok(HeaderMode::Either),
            "mcp-connect" => Ok(HeaderMode::McpConnect),
            "authorization" => Ok(HeaderMode::Authorization),
            other => Err(format!("unknown header mode {other:?}: use either, mcp-connect or authorization")),
        }
    }
}

/// What every [`Guard`] built from one layer shares.
#[derive(Debug)]
struct Shared {
    verifier: Arc<Verifier>,
    mode: HeaderMode,
    /// The metadata document, and the paths it is served at.
    metadata: String,
    metadata_paths: Vec<String>,
    resource_metadata_url: String,
    challenge_missing: HeaderValue,
    challenge_invalid: HeaderValue,
}

/// The layer: `Router::new()….layer(GuardLayer::new(verifier))`.
#[derive(Debug, Clone)]
pub struct GuardLayer {
    shared: Arc<Shared>,
}

impl GuardLayer {
    /// A guard accepting either header, for the verifier's audience.
    pub fn new(verifier: Arc<Verifier>) -> Self {
        Self::build(verifier, HeaderMode::Either)
    }

    /// Accept the descriptor from this header only (or either).
    pub fn header(self, mode: HeaderMode) -> Self {
        Self::build(Arc::clone(&self.shared.verifier), mode)
    }

    fn build(verifier: Arc<Verifier>, mode: HeaderMode) -> Self {
        let exp = verifier.expectations();
        let resource = exp.audience.clone();
        let (origin, path) = split_origin(&resource);
        let path = path.split('?').next().unwrap_or("");
        let mut metadata_paths = vec![METADATA_PATH.to_owned()];
        if !path.is_empty() && path != "/" {
            metadata_paths.push(format!("{METADATA_PATH}{path}"));
        }
        let resource_metadata_url = format!("{origin}{}", metadata_paths.last().map(String::as_str).unwrap_or(METADATA_PATH));
        let metadata = json!({
            "resource": resource,
            "authorization_servers": [exp.issuer],
            "bearer_methods_supported": ["header"],
        })
        .to_string();
        let quoted = resource_metadata_url.replace('\\', "\\\\").replace('"', "\\\"");
        let challenge = |s: String| HeaderValue::from_str(&s).unwrap_or_else(|_| HeaderValue::from_static("Bearer"));
        GuardLayer {
            shared: Arc::new(Shared {
                challenge_missing: challenge(format!("Bearer resource_metadata=\"{quoted}\"")),
                challenge_invalid: challenge(format!("Bearer error=\"invalid_token\", resource_metadata=\"{quoted}\"")),
                verifier,
                mode,
                metadata,
                metadata_paths,
                resource_metadata_url,
            }),
        }
    }

    /// The URL of the protected-resource metadata, as sent in `WWW-Authenticate`.
    pub fn resource_metadata_url(&self) -> &str {
        &self.shared.resource_metadata_url
    }

    /// The verifier in use.
    pub fn verifier(&self) -> &Arc<Verifier> {
        &self.shared.verifier
    }
}

/// `https://host:port` and the path (with query) of a canonical URL.
fn split_origin(url: &str) -> (&str, &str) {
    let after_scheme = url.find("://").map(|i| i + 3).unwrap_or(0);
    match url[after_scheme..].find(['/', '?']) {
        Some(i) => url.split_at(after_scheme + i),
        None => (url, ""),
    }
}

impl<S> Layer<S> for GuardLayer {
    type Service = Guard<S>;
    fn layer(&self, inner: S) -> Guard<S> {
        Guard { inner, shared: Arc::clone(&self.shared) }
    }
}

/// The service the layer wraps around the routes.
#[derive(Debug, Clone)]
pub struct Guard<S> {
    inner: S,
    shared: Arc<Shared>,
}

fn refusal(code: FailureCode) -> VerifyError {
    VerifyError { code, detail: String::new() }
}

impl Shared {
    /// The descriptor a request presents, by the configured header convention.
    fn credential<'h>(&self, headers: &'h HeaderMap) -> Result<&'h str, VerifyError> {
        let connect = || -> Result<Option<&'h str>, VerifyError> {
            let mut values = headers.get_all(HEADER_NAME).iter();
            let Some(first) = values.next() else { return Ok(None) };
            if values.next().is_some() {
                return Err(VerifyError {
                    detail: format!("more than one {HEADER_NAME} header"),
                    ..refusal(FailureCode::DescriptorInvalid)
                });
            }
            let v = first
                .to_str()
                .map_err(|_| VerifyError { detail: format!("{HEADER_NAME} is not ASCII"), ..refusal(FailureCode::DescriptorInvalid) })?;
            Ok(Some(v.trim()))
        };
        let bearer = || -> Result<Option<&'h str>, VerifyError> {
            let mut values = headers.get_all(header::AUTHORIZATION).iter();
            let Some(first) = values.next() else { return Ok(None) };
            if values.next().is_some() {
                return Err(VerifyError { detail: "more than one Authorization header".into(), ..refusal(FailureCode::DescriptorInvalid) });
            }
            let v = first.to_str().unwrap_or("");
            // Another scheme (Basic, DPoP…) carries no descriptor.
            match v.trim().split_once(' ') {
                Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => Ok(Some(token.trim())),
                _ => Ok(None),
            }
        };
        let found = match self.mode {
            HeaderMode::McpConnect => connect()?,
            HeaderMode::Authorization => bearer()?,
            HeaderMode::Either => match connect()? {
                Some(t) => Some(t),
                None => bearer()?,
            },
        };
        match found {
            Some(t) if !t.is_empty() => Ok(t),
            _ => Err(VerifyError {
                detail: match self.mode {
                    HeaderMode::Either => format!("send the descriptor as {HEADER_NAME}: <jwt> or Authorization: Bearer <jwt>"),
                    HeaderMode::McpConnect => format!("send the descriptor as {HEADER_NAME}: <jwt>"),
                    HeaderMode::Authorization => "send the descriptor as Authorization: Bearer <jwt>".into(),
                },
                ..refusal(FailureCode::DescriptorMissing)
            }),
        }
    }

    /// `401` with the RFC 6750 challenge and `{"error": code}`.
    fn refuse(&self, e: &VerifyError) -> Response {
        tracing::debug!(code = %e.code, detail = %e.detail, "descriptor refused");
        let challenge = match e.code {
            FailureCode::DescriptorMissing => self.challenge_missing.clone(),
            _ => self.challenge_invalid.clone(),
        };
        let body = json!({"error": e.code.as_str(), "error_description": e.detail}).to_string();
        let mut resp = (StatusCode::UNAUTHORIZED, body).into_response();
        let h = resp.headers_mut();
        h.insert(header::WWW_AUTHENTICATE, challenge);
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        resp
    }

    /// The metadata document, when the request asks for it.
    fn metadata<B>(&self, req: &Request<B>) -> Option<Response> {
        if req.method() != Method::GET && req.method() != Method::HEAD {
            return None;
        }
        let path = req.uri().path();
        if !self.metadata_paths.iter().any(|p| p == path) {
            return None;
        }
        let mut resp = (StatusCode::OK, self.metadata.clone()).into_response();
        let h = resp.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
        Some(resp)
    }
}

impl<S, B> Service<Request<B>> for Guard<S>
where
    S: Service<Request<B>> + Clone + Send + 'static,
    S::Response: IntoResponse,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        if let Some(resp) = self.shared.metadata(&req) {
            return Box::pin(std::future::ready(Ok(resp)));
        }
        // Fast path: a descriptor verified before, nothing to refresh. The ready service is
        // called at once, so it need not be cloned, and the token is read in place.
        let credential = match self.shared.credential(req.headers()) {
            Ok(token) => match self.shared.verifier.verify_cached(token) {
                Some(Ok(v)) => {
                    req.extensions_mut().insert(v);
                    let fut = self.inner.call(req);
                    return Box::pin(async move { fut.await.map(IntoResponse::into_response) });
                }
                Some(Err(e)) => Err(e),
                None => Ok(token.to_owned()),
            },
            Err(e) => Err(e),
        };
        let token = match credential {
            Ok(token) => token,
            Err(e) => {
                let resp = self.shared.refuse(&e);
                return Box::pin(std::future::ready(Ok(resp)));
            }
        };
        // The clone is the one that was not polled ready: keep the ready one for this call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let shared = Arc::clone(&self.shared);
        Box::pin(async move {
            match shared.verifier.verify(&token).await {
                Ok(v) => {
                    req.extensions_mut().insert(v);
                    inner.call(req).await.map(IntoResponse::into_response)
                }
                Err(e) => Ok(shared.refuse(&e)),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_and_paths() {
        assert_eq!(split_origin("https://x.dev/mcp"), ("https://x.dev", "/mcp"));
        assert_eq!(split_origin("http://127.0.0.1:8080"), ("http://127.0.0.1:8080", ""));
        assert_eq!(split_origin("https://x.dev/a/b?q=1"), ("https://x.dev", "/a/b?q=1"));
    }

    #[test]
    fn header_modes_parse() {
        assert_eq!("either".parse(), Ok(HeaderMode::Either));
        assert_eq!("MCP-Connect".parse(), Ok(HeaderMode::McpConnect));
        assert_eq!("authorization".parse(), Ok(HeaderMode::Authorization));
        assert!("cookie".parse::<HeaderMode>().is_err());
    }
}
