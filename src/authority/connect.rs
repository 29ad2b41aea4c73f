//! The client side of `POST /v1/connect` (DESIGN §7): a client with its credentials asks a
//! remote authority for a descriptor (`mcpca connect`). Not part of the [`Authority`] API: that
//! is the operator's; this is what an MCP client does before it connects.
//!
//! [`Authority`]: super::Authority

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use url::Url;

use super::remote::{causes, parse_base, Problem, Secret};
use super::ServerRefArg;
use crate::duration::Dur;
use crate::model::Envelope;
use crate::{Error, Result};

/// A client of an authority's connect endpoint. The secret is zeroised on drop and never shown.
pub struct ConnectClient {
    base: Url,
    secret: Secret,
    http: reqwest::Client,
}

impl std::fmt::Debug for ConnectClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectClient").field("base", &self.base.as_str()).field("secret", &"<redacted>").finish_non_exhaustive()
    }
}

impl ConnectClient {
    /// A client of the authority at `base`, authenticating with `secret` (`mcpca_cs_…`).
    pub fn new(base: &str, secret: &Secret) -> Result<Self> {
        let base = parse_base(base)?;
        if secret.is_empty() {
            return Err(Error::invalid(
                "the client secret is empty",
                "give the secret `mcpca client add` printed (MCPCA_CLIENT_SECRET or --client-secret-file)",
            ));
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .connect_timeout(Duration::from_secs(10))
            // A redirect could carry the secret elsewhere: never follow one.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("mcpca/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Config(format!("cannot build an HTTP client: {e}")))?;
        Ok(ConnectClient { base, secret: secret.clone(), http })
    }

    /// The authority's base URL.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// Ask for a descriptor for `server`. A refusal of the authority (401, 403, 404, 429) is
    /// [`Error::Rejected`] (exit 1) naming the code; failing to reach it is an operational error.
    pub async fn connect(&self, server: &ServerRefArg, ttl: Option<Dur>, client_id: Option<&str>) -> Result<Envelope> {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(["v1", "connect"]);
        }
        let mut body = json!({ "server_ref": server.to_string() });
        if let Some(t) = ttl {
            body["ttl"] = json!(t.to_string());
        }
        if let Some(id) = client_id {
            body["client"] = json!({ "client_id": id });
        }
        let unreachable = |e: reqwest::Error| {
            Error::invalid(
                format!("cannot reach the authority at {}: {}", self.base, causes(&e)),
                "check the URL (--registry, MCPCA_REGISTRY or `mcpca context list`) and that `mcpca serve` runs there",
            )
        };
        let resp = self.http.post(url.clone()).bearer_auth(self.secret.expose()).json(&body).send().await.map_err(unreachable)?;
        let status = resp.status();
        let header_retry = resp.headers().get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
        let bytes = resp.bytes().await.map_err(unreachable)?;
        if status.is_success() {
            return serde_json::from_slice(&bytes)
                .map_err(|e| Error::invalid(format!("unexpected answer from {url}: {e}"), "check that --registry is an mcpca authority"));
        }
        let p: Problem = serde_json::from_slice(&bytes).unwrap_or_default();
        Err(self.refusal(status, p, header_retry))
    }

    fn refusal(&self, status: StatusCode, p: Problem, header_retry: Option<u64>) -> Error {
        let code = p.error.unwrap_or_else(|| status.as_u16().to_string());
        let detail = p.detail.unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
        let rejected = |hint: String| Error::Rejected { message: format!("connect denied: {code}: {detail}"), hint: Some(hint) };
        match status {
            StatusCode::UNAUTHORIZED => Error::Rejected {
                message: format!("the authority at {} did not accept the client credentials: {detail}", self.base),
                hint: Some(
                    "check MCPCA_CLIENT_SECRET or --client-secret-file (the secret `mcpca client add` or `client rotate-secret` printed)"
                        .into(),
                ),
            },
            StatusCode::TOO_MANY_REQUESTS => {
                let wait = p.retry_after.or(header_retry);
                rejected(match wait {
                    Some(s) => format!("retry after {s}s"),
                    None => "retry later".into(),
                })
            }
            StatusCode::FORBIDDEN | StatusCode::NOT_FOUND => rejected(
                match code.as_str() {
                    "server_not_found" => "check the name (the registry API of the authority lists servers: GET /v0.1/servers)",
                    "server_revoked" => "the server was revoked or removed from the registry",
                    "policy_blocked" => {
                        "your client may not connect to this server (or is suspended, or the server is); ask the authority's operator"
                    }
                    "transport_not_supported" => "the server has no streamable-http endpoint registered",
                    "server_unverified" => "the authority only issues for verified servers; ask its operator",
                    _ => "ask the authority's operator",
                }
                .into(),
            ),
            s if s.is_client_error() => {
                Error::invalid(format!("the authority refused the request ({code}): {detail}"), "check NAME[@VERSION] and --ttl (e.g. 5m)")
            }
            s => Error::Refused {
                message: format!("the authority at {} cannot answer (HTTP {}): {detail}", self.base, s.as_u16()),
                hint: Some("try again later, or tell the authority's operator".into()),
            },
        }
    }
}
