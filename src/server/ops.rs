//! Operations: liveness, readiness, Prometheus metrics, and the middleware that measures
//! every request.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::accesslog::RequestLine;
use super::AppState;
use crate::authority::Authority;
use crate::keys::KeyState;
use crate::model::Envelope;
use crate::Error;

/// Upper bounds (seconds) of the request latency histogram.
const BUCKETS: [f64; 12] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

/// Counters of the service.
#[derive(Debug, Default)]
pub struct Metrics {
    issued: Mutex<BTreeMap<String, u64>>,
    denied: Mutex<BTreeMap<String, u64>>,
    latency: [AtomicU64; BUCKETS.len() + 1],
    latency_sum_us: AtomicU64,
    requests: AtomicU64,
}

impl Metrics {
    /// Count an issuance outcome.
    pub fn record_issue(&self, server: &str, result: &Result<Envelope, Error>) {
        match result {
            Ok(_) => {
                if let Ok(mut m) = self.issued.lock() {
                    // No allocation for a server already counted (every request but the first).
                    match m.get_mut(server) {
                        Some(n) => *n += 1,
                        None => {
                            m.insert(server.to_owned(), 1);
                        }
                    }
                }
            }
            Err(Error::Denied { code, .. }) => {
                if let Ok(mut m) = self.denied.lock() {
                    *m.entry(code.as_str().to_owned()).or_default() += 1;
                }
            }
            Err(_) => {}
        }
    }

    fn observe(&self, secs: f64) {
        let i = BUCKETS.iter().position(|b| secs <= *b).unwrap_or(BUCKETS.len());
        self.latency[i].fetch_add(1, Ordering::Relaxed);
        self.latency_sum_us.fetch_add((secs * 1e6) as u64, Ordering::Relaxed);
        self.requests.fetch_add(1, Ordering::Relaxed);
    }
}

/// The one middleware: refuse an address over its limit on unauthenticated routes (see
/// [`super::iplimit::refused`]), then measure every request and log it without credentials,
/// bodies or descriptors.
pub async fn observe(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    // `MatchedPath` is an `Arc<str>`: a clone, not a copy of the path.
    let matched = req.extensions().get::<MatchedPath>().cloned();
    let resp = match super::iplimit::refused(&state, &req) {
        Some(refused) => refused,
        None => next.run(req).await,
    };
    let secs = start.elapsed().as_secs_f64();
    state.metrics.observe(secs);
    let status = resp.status().as_u16();
    let micros = (secs * 1e6) as u64;
    let route = matched.as_ref().map_or("unmatched", MatchedPath::as_str);
    let line = RequestLine { method: method.as_str(), route, status, micros, issued: resp.extensions().get::<Issued>() };
    match &state.access_log {
        Some(log) => {
            if tracing::enabled!(tracing::Level::INFO) {
                log.write(&line);
            }
        }
        None => log_event(&line),
    }
    resp
}

/// A request's line as an event (the [`AccessLog`](super::accesslog::AccessLog) writes the
/// same text itself; its tests compare the two).
pub(crate) fn log_event(line: &RequestLine<'_>) {
    let RequestLine { method, route, status, micros, issued } = *line;
    match issued {
        Some(i) => tracing::info!(
            method = %method,
            route,
            status,
            micros,
            jti = %i.jti,
            client = %i.client,
            server = %format_args!("{}@{}", i.server.id, i.server.version),
            "request"
        ),
        None => tracing::info!(method = %method, route, status, micros, "request"),
    }
}

/// What a response that carries a new descriptor adds to its request's log line: the `jti`
/// (never the descriptor), the client and the server version (logged as `name@version`).
#[derive(Debug, Clone)]
pub struct Issued {
    pub jti: String,
    pub client: String,
    pub server: crate::model::ServerRef,
}

impl Issued {
    /// The log fields of `envelope`, issued to `client`, taken from it once it is answered.
    pub fn of(envelope: crate::model::Envelope, client: String) -> Self {
        Issued { jti: envelope.jti, client, server: envelope.server }
    }
}

/// Routes of this module.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz)).route("/metrics", get(metrics))
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    match state.authority.key_list().await {
        Ok(keys) if keys.iter().any(|k| k.state == KeyState::Active) => Json(json!({ "status": "ready" })).into_response(),
        Ok(_) => {
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "not_ready", "reason": "no active signing key" }))).into_response()
        }
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "not_ready", "reason": "store unreachable" }))).into_response(),
    }
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let m = &state.metrics;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP mcpca_descriptors_issued_total Descriptors issued, by server.\n# TYPE mcpca_descriptors_issued_total counter"
    );
    if let Ok(issued) = m.issued.lock() {
        for (server, n) in issued.iter() {
            let _ = writeln!(out, "mcpca_descriptors_issued_total{{server=\"{}\"}} {n}", server.replace('"', "\\\""));
        }
    }
    let _ = writeln!(out, "# HELP mcpca_issuance_denied_total Issuance denials, by code.\n# TYPE mcpca_issuance_denied_total counter");
    if let Ok(denied) = m.denied.lock() {
        for (code, n) in denied.iter() {
            let _ = writeln!(out, "mcpca_issuance_denied_total{{code=\"{code}\"}} {n}");
        }
    }
    let _ = writeln!(out, "# HELP mcpca_request_duration_seconds Request latency.\n# TYPE mcpca_request_duration_seconds histogram");
    let mut cumulative = 0;
    for (i, b) in BUCKETS.iter().enumerate() {
        cumulative += m.latency[i].load(Ordering::Relaxed);
        let _ = writeln!(out, "mcpca_request_duration_seconds_bucket{{le=\"{b}\"}} {cumulative}");
    }
    cumulative += m.latency[BUCKETS.len()].load(Ordering::Relaxed);
    let _ = writeln!(out, "mcpca_request_duration_seconds_bucket{{le=\"+Inf\"}} {cumulative}");
    let _ = writeln!(out, "mcpca_request_duration_seconds_sum {}", m.latency_sum_us.load(Ordering::Relaxed) as f64 / 1e6);
    let _ = writeln!(out, "mcpca_request_duration_seconds_count {}", m.requests.load(Ordering::Relaxed));
    if let Some(stats) = state.authority.audit_batch_stats() {
        let (buckets, total, sum, count) = stats.histogram();
        let _ = writeln!(out, "# HELP mcpca_audit_batch_size Audit events per group commit.\n# TYPE mcpca_audit_batch_size histogram");
        for (le, n) in buckets {
            let _ = writeln!(out, "mcpca_audit_batch_size_bucket{{le=\"{le}\"}} {n}");
        }
        let _ = writeln!(out, "mcpca_audit_batch_size_bucket{{le=\"+Inf\"}} {total}");
        let _ = writeln!(out, "mcpca_audit_batch_size_sum {sum}");
        let _ = writeln!(out, "mcpca_audit_batch_size_count {count}");
    }
    if let Ok(keys) = state.authority.key_list().await {
        if let Some(active) = keys.iter().find(|k| k.state == KeyState::Active) {
            let activated = active.activated_at.as_deref().and_then(|t| crate::clock::parse_instant(t).ok()).unwrap_or_default();
            let age = state.authority.now_secs() - activated;
            let _ = writeln!(out, "# HELP mcpca_active_key_age_seconds Age of the signing key.\n# TYPE mcpca_active_key_age_seconds gauge");
            let _ = writeln!(out, "mcpca_active_key_age_seconds {age}");
        }
    }
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}
