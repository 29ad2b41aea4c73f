//! `POST /v1/connect`: a client asks for a descriptor (DESIGN §3, §7).

use std::sync::Arc;

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde::Deserialize;

use super::ops::Issued;
use super::{client_from_bearer, ApiError, ApiResult, AppState};
use crate::authority::{IssueRequest, Principal, ServerRefArg};
use crate::duration::Dur;
use crate::model::Envelope;

/// Body of a connect request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectRequest {
    pub server_ref: String,
    #[serde(default)]
    pub client: Option<ClientPart>,
    #[serde(default)]
    pub ttl: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
}

/// The optional `client` member.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientPart {
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub tenant_id: Option<String>,
}

/// Routes of this module.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/v1/connect", post(connect))
}

async fn connect(State(state): State<Arc<AppState>>, auth: Authorization, body: axum::body::Bytes) -> ApiResult<Response> {
    let client = client_from_bearer(&state, auth.0.as_ref()).await?;
    let req: ConnectRequest = serde_json::from_slice(&body).map_err(|e| ApiError::bad_request("invalid_request", format!("body: {e}")))?;
    let part = req.client.unwrap_or(ClientPart { client_id: None, tenant_id: None });
    if part.client_id.as_deref().is_some_and(|id| id != client.id) {
        return Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "policy_blocked",
            "client.client_id is not the client of the credentials",
        ));
    }
    let server: ServerRefArg = req.server_ref.parse().map_err(|e: String| ApiError::bad_request("invalid_request", e))?;
    let ttl = req.ttl.as_deref().map(str::parse::<Dur>).transpose().map_err(|e| ApiError::bad_request("invalid_request", e.to_string()))?;
    let request = IssueRequest { server, ttl, client: Some(client.id.clone()), tenant: part.tenant_id, scope: req.scope };
    let principal = Principal::Client { id: client.id.clone(), record: Some(Box::new(client)) };
    let result = state.authority.issue_for(&principal, &request).await;
    state.metrics.record_issue(&request.server.name, &result);
    let envelope: Envelope = result?;
    let mut response = envelope_response(&envelope);
    response.extensions_mut().insert(Issued::of(envelope, principal.into_subject()));
    Ok(response)
}

/// The `Authorization` header of a request, taken alone (the `HeaderMap` extractor would copy
/// every header of every issuance).
#[derive(Debug)]
struct Authorization(Option<HeaderValue>);

impl<S: Send + Sync> FromRequestParts<S> for Authorization {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Authorization(parts.headers.get(header::AUTHORIZATION).cloned()))
    }
}

/// The envelope as a JSON response, serialized once into a buffer of about its size (axum's
/// `Json` starts at 128 bytes and grows three times on the way to a ~1 KiB envelope).
fn envelope_response(envelope: &Envelope) -> Response {
    let mut body = Vec::with_capacity(envelope.descriptor.len() + ENVELOPE_BESIDE_DESCRIPTOR);
    match serde_json::to_writer(&mut body, envelope) {
        Ok(()) => ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response(),
        Err(e) => ApiError::from(crate::Error::Store(format!("cannot render the envelope: {e}"))).into_response(),
    }
}

/// Room for an envelope's members besides the descriptor (endpoint, expiry, server, `jti`).
const ENVELOPE_BESIDE_DESCRIPTOR: usize = 512;
