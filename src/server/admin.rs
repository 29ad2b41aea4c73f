//! `/v1/admin/…`: the JSON mirror of every management operation (docs/admin-api.md). Each route
//! calls one method of the [`Authority`] trait on the service's `LocalAuthority` and answers the
//! model type the CLI prints with `--output json`.
//!
//! [`ROUTES`] is the single source of the family: the router is built from it, the role a
//! route needs is looked up in it, and the tests walk it and compare it with the document.
//! Changes are made as `token:<id>`, so the audit log names the admin token that made them.
//! There is deliberately no route for `key_export_private`: private keys never leave over HTTP.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use super::{admin_from_bearer, ApiError, ApiResult, AppState};
use crate::audit::{AuditEvent, Decision};
use crate::authority::{Authority, IssueRequest, LocalAuthority, RevokeReport, RevokeTarget, ServerInput, ServerRefArg};
use crate::check::{ProbeRequest, ProbeSet};
use crate::duration::Dur;
use crate::keys::Jwks;
use crate::model::{
    AuditReport, ClientCreated, ClientInfo, ClientPolicy, Envelope, ImportEntry, KeyInfo, Revocation, RevocationKind, RotateReport,
    ServerDetail, ServerEntry, SignedFeed, Status, TokenCreated, TokenInfo,
};
use crate::store::{AuditFilter, ClientStatus, Role, ServerFilter, ServerUpdate, TokenRow};

/// One route of the admin family.
#[derive(Debug, Clone, Copy)]
pub struct AdminRoute {
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE`.
    pub method: &'static str,
    /// The axum path, as written in docs/admin-api.md.
    pub path: &'static str,
    /// The weakest role allowed to call it.
    pub role: Role,
    /// The handler, for the route's method.
    make: fn(MethodFilter) -> MethodRouter<Arc<AppState>>,
}

const fn r(method: &'static str, path: &'static str, role: Role, make: fn(MethodFilter) -> MethodRouter<Arc<AppState>>) -> AdminRoute {
    AdminRoute { method, path, role, make }
}

/// Every admin route, in the order of docs/admin-api.md.
pub const ROUTES: &[AdminRoute] = &[
    r("GET", "/v1/admin/keys", Role::Reader, |m| on(m, key_list)),
    r("POST", "/v1/admin/keys", Role::Admin, |m| on(m, key_generate)),
    r("POST", "/v1/admin/keys/rotate", Role::Admin, |m| on(m, key_rotate)),
    r("POST", "/v1/admin/keys/{kid}/retire", Role::Admin, |m| on(m, key_retire)),
    r("GET", "/v1/admin/servers", Role::Reader, |m| on(m, server_list)),
    r("POST", "/v1/admin/servers", Role::Admin, |m| on(m, server_add)),
    r("POST", "/v1/admin/servers/import", Role::Admin, |m| on(m, server_import)),
    r("GET", "/v1/admin/servers/{ref}", Role::Reader, |m| on(m, server_show)),
    r("PATCH", "/v1/admin/servers/{ref}", Role::Admin, |m| on(m, server_update)),
    r("POST", "/v1/admin/servers/{ref}/status", Role::Admin, |m| on(m, server_set_status)),
    r("POST", "/v1/admin/issue", Role::Admin, |m| on(m, issue)),
    r("POST", "/v1/admin/probes", Role::Admin, |m| on(m, probes)),
    r("POST", "/v1/admin/revocations", Role::Admin, |m| on(m, revoke)),
    r("GET", "/v1/admin/revocations", Role::Reader, |m| on(m, revocations)),
    r("GET", "/v1/admin/revocations/feed", Role::Reader, |m| on(m, revocation_feed)),
    r("GET", "/v1/admin/clients", Role::Reader, |m| on(m, client_list)),
    r("POST", "/v1/admin/clients", Role::Admin, |m| on(m, client_add)),
    r("GET", "/v1/admin/clients/{id}", Role::Reader, |m| on(m, client_show)),
    r("PUT", "/v1/admin/clients/{id}", Role::Admin, |m| on(m, client_update)),
    r("DELETE", "/v1/admin/clients/{id}", Role::Admin, |m| on(m, client_remove)),
    r("POST", "/v1/admin/clients/{id}/status", Role::Admin, |m| on(m, client_set_status)),
    r("POST", "/v1/admin/clients/{id}/rotate-secret", Role::Admin, |m| on(m, client_rotate_secret)),
    r("GET", "/v1/admin/tokens", Role::Reader, |m| on(m, token_list)),
    r("POST", "/v1/admin/tokens", Role::Admin, |m| on(m, token_create)),
    r("POST", "/v1/admin/tokens/{id}/revoke", Role::Admin, |m| on(m, token_revoke)),
    r("GET", "/v1/admin/audit", Role::Reader, |m| on(m, audit_list)),
    r("GET", "/v1/admin/audit/verify", Role::Reader, |m| on(m, audit_verify)),
    r("GET", "/v1/admin/jwks", Role::Reader, |m| on(m, jwks)),
];

fn method_filter(method: &str) -> Option<MethodFilter> {
    Some(match method {
        "GET" => MethodFilter::GET,
        "POST" => MethodFilter::POST,
        "PUT" => MethodFilter::PUT,
        "PATCH" => MethodFilter::PATCH,
        "DELETE" => MethodFilter::DELETE,
        _ => return None,
    })
}

/// The route a request matched.
pub fn route_for(method: &str, path: &str) -> Option<&'static AdminRoute> {
    ROUTES.iter().find(|r| r.method == method && r.path == path)
}

/// Routes of this module, built from [`ROUTES`].
pub fn routes() -> Router<Arc<AppState>> {
    ROUTES.iter().fold(Router::new(), |router, route| match method_filter(route.method) {
        Some(m) => router.route(route.path, (route.make)(m)),
        None => {
            tracing::error!(method = route.method, path = route.path, "admin route with an unsupported method left out");
            router
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Extractors: the caller, bodies, path segments and queries, each failing as problem+json.

/// The admin token of a request, holding at least the role its route needs in [`ROUTES`]
/// (an unknown route needs `admin`: fail closed).
#[derive(Debug)]
pub struct Caller(pub TokenRow);

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        let path = parts.extensions.get::<MatchedPath>().map(MatchedPath::as_str);
        let need = path.and_then(|p| route_for(parts.method.as_str(), p)).map_or(Role::Admin, |r| r.role);
        admin_from_bearer(state, &parts.headers, need).await.map(Caller)
    }
}

impl Caller {
    /// The authority acting as this token, so the audit log names it.
    fn authority(&self, state: &AppState) -> LocalAuthority {
        state.authority.as_actor(format!("token:{}", self.0.id))
    }
}

/// A JSON body (`deny_unknown_fields` on every body type). Size errors keep their status (413).
#[derive(Debug)]
struct Body<T>(T);

/// A JSON body that may be left out (an empty body reads as `{}`).
#[derive(Debug)]
struct OptBody<T>(T);

async fn body_bytes(req: Request, state: &Arc<AppState>) -> ApiResult<Bytes> {
    Bytes::from_request(req, state).await.map_err(|e| {
        let status = e.status();
        let code = if status == StatusCode::PAYLOAD_TOO_LARGE { "payload_too_large" } else { "invalid_request" };
        ApiError::new(status, code, e.body_text())
    })
}

fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(bytes).map_err(|e| ApiError::bad_request("invalid_request", format!("body: {e}")))
}

impl<T: DeserializeOwned> FromRequest<Arc<AppState>> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        let bytes = body_bytes(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::bad_request("invalid_request", "a JSON body is required"));
        }
        parse_json(&bytes).map(Body)
    }
}

impl<T: DeserializeOwned> FromRequest<Arc<AppState>> for OptBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        let bytes = body_bytes(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return parse_json(b"{}").map(OptBody);
        }
        parse_json(&bytes).map(OptBody)
    }
}

/// The one path parameter of a route, percent-decoded (`io.github.acme%2Fweather@1.0.0`).
#[derive(Debug)]
struct Seg(String);

impl FromRequestParts<Arc<AppState>> for Seg {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        let Path(s) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request("invalid_request", format!("path: {}", e.body_text())))?;
        Ok(Seg(s))
    }
}

impl Seg {
    fn server_ref(&self) -> ApiResult<ServerRefArg> {
        parse_ref(&self.0)
    }
}

fn parse_ref(s: &str) -> ApiResult<ServerRefArg> {
    s.parse().map_err(|e: String| ApiError::bad_request("invalid_request", e))
}

/// A query string (unknown members refused).
#[derive(Debug)]
struct Q<T>(T);

impl<T: DeserializeOwned> FromRequestParts<Arc<AppState>> for Q<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        let Query(q) = Query::<T>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request("invalid_request", format!("query: {}", e.body_text())))?;
        Ok(Q(q))
    }
}

/// A query value; empty counts as absent.
fn present(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty())
}

fn query_value<T: std::str::FromStr>(name: &str, v: Option<String>) -> ApiResult<Option<T>> {
    present(v)
        .map(|s| s.trim().parse::<T>().map_err(|_| ApiError::bad_request("invalid_request", format!("query: {name}={s:?} is not valid"))))
        .transpose()
}

// ---------------------------------------------------------------------------------------------
// Durations: strings such as "10m", parsed with `Dur`.

fn dur<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Dur>, D::Error> {
    Option::<String>::deserialize(d)?.map(|s| s.parse::<Dur>().map_err(serde::de::Error::custom)).transpose()
}

/// Absent = `None` (unchanged), `null` = `Some(None)` (clear), a string = `Some(Some(d))`.
fn dur_or_null<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<Dur>>, D::Error> {
    dur(d).map(Some)
}

// ---------------------------------------------------------------------------------------------
// Bodies and queries.

/// A body that must be empty or `{}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Empty {}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RotateBody {
    #[serde(default, deserialize_with = "dur")]
    grace: Option<Dur>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerAddBody {
    document: serde_json::Value,
    #[serde(default)]
    verified: Option<bool>,
    #[serde(default, deserialize_with = "dur")]
    max_ttl: Option<Dur>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportBody {
    documents: Vec<(String, serde_json::Value)>,
    #[serde(default)]
    dry_run: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerPatchBody {
    #[serde(default)]
    verified: Option<bool>,
    #[serde(default, deserialize_with = "dur_or_null")]
    max_ttl: Option<Option<Dur>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerStatusBody {
    status: Status,
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IssueBody {
    server: String,
    #[serde(default, deserialize_with = "dur")]
    ttl: Option<Dur>,
    #[serde(default)]
    client: Option<String>,
    #[serde(default)]
    tenant: Option<String>,
    #[serde(default)]
    scope: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProbeBody {
    server: String,
    #[serde(default, deserialize_with = "dur")]
    ttl: Option<Dur>,
    #[serde(default)]
    revoked: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RevokeBody {
    kind: RevocationKind,
    id: String,
    #[serde(default)]
    reason: Option<String>,
}

/// `ClientPolicy` with unknown members refused.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyBody {
    #[serde(default)]
    tenant: Option<String>,
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default, deserialize_with = "dur")]
    max_ttl: Option<Dur>,
    #[serde(default)]
    rate_per_min: Option<u32>,
}

impl From<PolicyBody> for ClientPolicy {
    fn from(b: PolicyBody) -> Self {
        ClientPolicy { tenant: b.tenant, allow: b.allow, max_ttl: b.max_ttl, rate_per_min: b.rate_per_min }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientAddBody {
    id: String,
    #[serde(default)]
    tenant: Option<String>,
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default, deserialize_with = "dur")]
    max_ttl: Option<Dur>,
    #[serde(default)]
    rate_per_min: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientStatusBody {
    status: ClientStatus,
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenBody {
    role: Role,
    #[serde(default)]
    name: Option<String>,
    #[serde(default, deserialize_with = "dur")]
    expires: Option<Dur>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerListQuery {
    status: Option<String>,
    search: Option<String>,
    include_deleted: Option<String>,
    latest: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SinceQuery {
    since: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    since: Option<String>,
    server: Option<String>,
    client: Option<String>,
    decision: Option<String>,
    limit: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Handlers: keys.

type S = State<Arc<AppState>>;

async fn key_list(State(s): S, _c: Caller) -> ApiResult<Json<Vec<KeyInfo>>> {
    Ok(Json(s.authority.key_list().await?))
}

async fn key_generate(State(s): S, c: Caller, OptBody(Empty {}): OptBody<Empty>) -> ApiResult<Json<KeyInfo>> {
    Ok(Json(c.authority(&s).key_generate().await?))
}

async fn key_rotate(State(s): S, c: Caller, OptBody(b): OptBody<RotateBody>) -> ApiResult<Json<RotateReport>> {
    Ok(Json(c.authority(&s).key_rotate(b.grace).await?))
}

async fn key_retire(State(s): S, c: Caller, Seg(kid): Seg, OptBody(Empty {}): OptBody<Empty>) -> ApiResult<Json<KeyInfo>> {
    Ok(Json(c.authority(&s).key_retire(&kid).await?))
}

async fn jwks(State(s): S, _c: Caller) -> ApiResult<Json<Jwks>> {
    Ok(Json(s.authority.jwks().await?))
}

// Servers.

async fn server_list(State(s): S, _c: Caller, Q(q): Q<ServerListQuery>) -> ApiResult<Json<Vec<ServerEntry>>> {
    let status = present(q.status)
        .map(|v| {
            Status::parse(v.trim()).ok_or_else(|| ApiError::bad_request("invalid_request", format!("query: status={v:?} is not a status")))
        })
        .transpose()?;
    let filter = ServerFilter {
        status,
        search: present(q.search),
        include_deleted: query_value::<bool>("include_deleted", q.include_deleted)?.unwrap_or(false),
        latest_only: query_value::<bool>("latest", q.latest)?.unwrap_or(false),
    };
    Ok(Json(s.authority.server_list(&filter).await?))
}

async fn server_add(State(s): S, c: Caller, Body(b): Body<ServerAddBody>) -> ApiResult<Json<ServerEntry>> {
    let input = ServerInput { document: b.document, verified: b.verified, max_ttl: b.max_ttl };
    Ok(Json(c.authority(&s).server_add(input).await?))
}

async fn server_import(State(s): S, c: Caller, Body(b): Body<ImportBody>) -> ApiResult<Json<Vec<ImportEntry>>> {
    Ok(Json(c.authority(&s).server_import(b.documents, b.dry_run).await?))
}

async fn server_show(State(s): S, _c: Caller, seg: Seg) -> ApiResult<Json<ServerDetail>> {
    Ok(Json(s.authority.server_show(&seg.server_ref()?).await?))
}

async fn server_update(State(s): S, c: Caller, seg: Seg, Body(b): Body<ServerPatchBody>) -> ApiResult<Json<ServerDetail>> {
    let server = seg.server_ref()?;
    if server.version.is_some() {
        return Err(ApiError::bad_request("invalid_request", "verified and max_ttl belong to a server name: leave @VERSION out"));
    }
    let update = ServerUpdate { verified: b.verified, max_ttl: b.max_ttl };
    Ok(Json(c.authority(&s).server_update(&server.name, update).await?))
}

async fn server_set_status(State(s): S, c: Caller, seg: Seg, Body(b): Body<ServerStatusBody>) -> ApiResult<Json<ServerDetail>> {
    Ok(Json(c.authority(&s).server_set_status(&seg.server_ref()?, b.status, b.reason).await?))
}

// Issuance and revocation.

async fn issue(State(s): S, c: Caller, Body(b): Body<IssueBody>) -> ApiResult<Json<Envelope>> {
    let request = IssueRequest { server: parse_ref(&b.server)?, ttl: b.ttl, client: b.client, tenant: b.tenant, scope: b.scope };
    let result = c.authority(&s).issue(&request).await;
    s.metrics.record_issue(&request.server.name, &result);
    Ok(Json(result?))
}

async fn probes(State(s): S, c: Caller, Body(b): Body<ProbeBody>) -> ApiResult<Json<ProbeSet>> {
    let request = ProbeRequest { server: parse_ref(&b.server)?, ttl: b.ttl, revoked: b.revoked };
    Ok(Json(c.authority(&s).probe_set(&request).await?))
}

async fn revoke(State(s): S, c: Caller, Body(b): Body<RevokeBody>) -> ApiResult<Json<RevokeReport>> {
    let target = match b.kind {
        RevocationKind::Server => RevokeTarget::Server(parse_ref(&b.id)?),
        RevocationKind::Jti => RevokeTarget::Jti(b.id),
        RevocationKind::Key => RevokeTarget::Key(b.id),
        RevocationKind::Client => RevokeTarget::Client(b.id),
    };
    Ok(Json(c.authority(&s).revoke(&target, b.reason).await?))
}

async fn revocations(State(s): S, _c: Caller, Q(q): Q<SinceQuery>) -> ApiResult<Json<Vec<Revocation>>> {
    let since = query_value::<i64>("since", q.since)?.unwrap_or(0);
    Ok(Json(s.authority.revocations(since).await?))
}

async fn revocation_feed(State(s): S, _c: Caller, Q(q): Q<SinceQuery>) -> ApiResult<Json<SignedFeed>> {
    let since = query_value::<i64>("since", q.since)?.unwrap_or(0);
    Ok(Json(s.authority.revocation_feed(since).await?))
}

// Clients.

async fn client_list(State(s): S, _c: Caller) -> ApiResult<Json<Vec<ClientInfo>>> {
    Ok(Json(s.authority.client_list().await?))
}

async fn client_add(State(s): S, c: Caller, Body(b): Body<ClientAddBody>) -> ApiResult<Json<ClientCreated>> {
    let policy = ClientPolicy { tenant: b.tenant, allow: b.allow, max_ttl: b.max_ttl, rate_per_min: b.rate_per_min };
    Ok(Json(c.authority(&s).client_add(&b.id, policy).await?))
}

async fn client_show(State(s): S, _c: Caller, Seg(id): Seg) -> ApiResult<Json<ClientInfo>> {
    Ok(Json(s.authority.client_show(&id).await?))
}

async fn client_update(State(s): S, c: Caller, Seg(id): Seg, Body(b): Body<PolicyBody>) -> ApiResult<Json<ClientInfo>> {
    Ok(Json(c.authority(&s).client_update(&id, b.into()).await?))
}

async fn client_remove(State(s): S, c: Caller, Seg(id): Seg, OptBody(Empty {}): OptBody<Empty>) -> ApiResult<Response> {
    c.authority(&s).client_remove(&id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn client_set_status(State(s): S, c: Caller, Seg(id): Seg, Body(b): Body<ClientStatusBody>) -> ApiResult<Json<ClientInfo>> {
    Ok(Json(c.authority(&s).client_set_status(&id, b.status, b.reason).await?))
}

async fn client_rotate_secret(State(s): S, c: Caller, Seg(id): Seg, OptBody(Empty {}): OptBody<Empty>) -> ApiResult<Json<ClientCreated>> {
    Ok(Json(c.authority(&s).client_rotate_secret(&id).await?))
}

// Admin tokens.

async fn token_list(State(s): S, _c: Caller) -> ApiResult<Json<Vec<TokenInfo>>> {
    Ok(Json(s.authority.token_list().await?))
}

async fn token_create(State(s): S, c: Caller, Body(b): Body<TokenBody>) -> ApiResult<Json<TokenCreated>> {
    Ok(Json(c.authority(&s).token_create(b.role, b.name, b.expires).await?))
}

async fn token_revoke(State(s): S, c: Caller, Seg(id): Seg, OptBody(Empty {}): OptBody<Empty>) -> ApiResult<Json<TokenInfo>> {
    Ok(Json(c.authority(&s).token_revoke(&id).await?))
}

// Audit.

async fn audit_list(State(s): S, _c: Caller, Q(q): Q<AuditQuery>) -> ApiResult<Json<Vec<AuditEvent>>> {
    let decision = present(q.decision)
        .map(|v| {
            Decision::parse(v.trim())
                .ok_or_else(|| ApiError::bad_request("invalid_request", format!("query: decision={v:?} is not `allow` or `deny`")))
        })
        .transpose()?;
    let filter = AuditFilter {
        since: query_value::<i64>("since", q.since)?,
        server: present(q.server),
        client: present(q.client),
        decision,
        limit: query_value::<u32>("limit", q.limit)?,
    };
    Ok(Json(s.authority.audit_list(&filter).await?))
}

async fn audit_verify(State(s): S, _c: Caller) -> ApiResult<Json<AuditReport>> {
    Ok(Json(s.authority.audit_verify().await?))
}
