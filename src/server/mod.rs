//! `mcpca serve`: the authority as an HTTP service (DESIGN §7). The router is assembled here
//! from one module per route family; every handler goes through the same `LocalAuthority`
//! the CLI uses, so the HTTP API and the command line decide alike.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::Router;

use crate::authority::LocalAuthority;
use crate::store::{ClientRow, Role, TokenRow};

pub mod accesslog;
pub mod admin;
pub mod connect;
pub mod error;
pub mod iplimit;
pub mod keys;
pub mod logbuf;
pub mod logfmt;
pub mod oauth;
pub mod ops;
pub mod registry;

pub use error::{ApiError, ApiResult};

/// Largest request body any route accepts.
pub const MAX_BODY: usize = 64 * 1024;

/// What every handler shares.
#[derive(Debug)]
pub struct AppState {
    pub authority: LocalAuthority,
    pub metrics: ops::Metrics,
    /// Per-address limit of the unauthenticated routes (off unless configured).
    pub ip_limit: iplimit::IpLimiter,
    /// Where request lines go when `mcpca serve` writes them itself (see [`accesslog`]);
    /// otherwise each is an event for whatever subscriber is installed.
    pub access_log: Option<accesslog::AccessLog>,
}

impl AppState {
    /// State over an opened authority, without a per-address limit.
    pub fn new(authority: LocalAuthority) -> Arc<Self> {
        Self::with_ip_limit(authority, None)
    }

    /// State over an opened authority, with a per-address limit on unauthenticated routes.
    pub fn with_ip_limit(authority: LocalAuthority, limit: Option<iplimit::IpLimit>) -> Arc<Self> {
        Self::serving(authority, limit, None)
    }

    /// State over an opened authority, with a per-address limit on unauthenticated routes and
    /// request lines written to `access_log` (when given).
    pub fn serving(authority: LocalAuthority, limit: Option<iplimit::IpLimit>, access_log: Option<accesslog::AccessLog>) -> Arc<Self> {
        Arc::new(AppState { authority, metrics: ops::Metrics::default(), ip_limit: iplimit::IpLimiter::new(limit), access_log })
    }
}

/// The whole API.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .merge(connect::routes())
        .merge(keys::routes())
        .merge(oauth::routes())
        .merge(registry::routes())
        .merge(admin::routes())
        .merge(ops::routes())
        .fallback(|| async { ApiError::not_found("no such route") })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn_with_state(Arc::clone(&state), ops::observe))
        .with_state(state)
}

/// Serve `router` on an already bound listener until `shutdown` resolves; in-flight requests
/// finish first, then every queued audit event is committed.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(Arc::clone(&state)).into_make_service_with_connect_info::<SocketAddr>();
    let (stopping, stop_asked) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        shutdown.await;
        let _ = stopping.send(());
    };
    let graceful = std::future::IntoFuture::into_future(axum::serve(listener, app).with_graceful_shutdown(signal));
    // In-flight requests get SHUTDOWN_GRACE to finish (idle keep-alive connections are closed
    // at once); a client that holds a connection open longer does not keep the service up.
    let deadline = async {
        match stop_asked.await {
            Ok(()) => tokio::time::sleep(SHUTDOWN_GRACE).await,
            Err(_) => std::future::pending::<()>().await,
        }
    };
    let served = tokio::select! {
        served = graceful => served,
        () = deadline => {
            tracing::warn!(grace_secs = SHUTDOWN_GRACE.as_secs(), "connections still open after the shutdown grace period; closing them");
            Ok(())
        }
    };
    state.authority.close_hot_path().await;
    served
}

/// How long in-flight requests may take to finish once shutdown is asked (HTTP and TLS alike).
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

/// The bearer credential of a request, if any.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    bearer_of(headers.get(header::AUTHORIZATION))
}

/// The bearer credential in an `Authorization` header value, if any.
pub fn bearer_of(authorization: Option<&HeaderValue>) -> Option<&str> {
    let (scheme, token) = authorization?.to_str().ok()?.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim()).filter(|t| !t.is_empty())
}

/// The client a request authenticates as with the bearer secret of its `Authorization` header
/// (401 otherwise).
pub async fn client_from_bearer(state: &AppState, authorization: Option<&HeaderValue>) -> ApiResult<ClientRow> {
    let secret =
        bearer_of(authorization).ok_or_else(|| ApiError::unauthorized("send the client secret as `Authorization: Bearer mcpca_cs_…`"))?;
    state.authority.authenticate_client(secret).await?.ok_or_else(|| ApiError::unauthorized("unknown client credentials"))
}

/// The admin token of a request, with at least `need` (401 without a valid token, 403 when
/// the role is too weak).
pub async fn admin_from_bearer(state: &AppState, headers: &HeaderMap, need: Role) -> ApiResult<TokenRow> {
    let secret = bearer(headers).ok_or_else(|| ApiError::unauthorized("send an admin token as `Authorization: Bearer mcpca_at_…`"))?;
    let token = state
        .authority
        .authenticate_token(secret)
        .await?
        .ok_or_else(|| ApiError::unauthorized("unknown, expired or revoked admin token"))?;
    if need == Role::Admin && token.role != Role::Admin {
        return Err(ApiError::forbidden("this operation needs an admin token; a reader token may only read"));
    }
    Ok(token)
}

/// Wait for Ctrl-C or SIGTERM (`mcpca serve`, and MCP servers built on the guard).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
