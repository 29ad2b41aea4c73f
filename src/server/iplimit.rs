//! A per-IP limit on the unauthenticated routes (JWKS, metadata, revocation feed, registry
//! read API, health and metrics): one token bucket per client address, refilled at a steady
//! rate. Routes that take credentials (`/v1/connect`, `/oauth/…`, `/v1/admin/…`) are limited
//! per client by the issuance policy instead. Memory is bounded: idle buckets (full again) are
//! dropped when the table grows past [`MAX_TRACKED`].

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{ConnectInfo, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{ApiError, AppState};

/// Most addresses tracked at once.
pub const MAX_TRACKED: usize = 10_000;

/// Rate and burst of each address.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IpLimit {
    /// Requests per second, sustained.
    pub per_sec: f64,
    /// Requests allowed at once (the bucket's size).
    pub burst: f64,
}

impl Default for IpLimit {
    fn default() -> Self {
        IpLimit { per_sec: 50.0, burst: 100.0 }
    }
}

impl IpLimit {
    /// The default, changed by `MCPCA_IP_RATE` (requests per second; `0` turns the limit off)
    /// and `MCPCA_IP_BURST`.
    pub fn from_env() -> crate::Result<Option<Self>> {
        let mut limit = IpLimit::default();
        let read = |name: &str| -> crate::Result<Option<f64>> {
            match std::env::var(name) {
                Ok(v) if !v.trim().is_empty() => match v.trim().parse::<f64>() {
                    Ok(n) if n.is_finite() && n >= 0.0 => Ok(Some(n)),
                    _ => Err(crate::Error::Config(format!("{name}={v:?} is not a number of requests (e.g. 50)"))),
                },
                _ => Ok(None),
            }
        };
        if let Some(r) = read("MCPCA_IP_RATE")? {
            if r == 0.0 {
                return Ok(None);
            }
            limit.per_sec = r;
            limit.burst = limit.burst.max(r);
        }
        if let Some(b) = read("MCPCA_IP_BURST")? {
            limit.burst = b.max(1.0);
        }
        Ok(Some(limit))
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Token buckets by address; a limiter without a limit lets everything through.
#[derive(Debug, Default)]
pub struct IpLimiter {
    limit: Option<IpLimit>,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

impl IpLimiter {
    /// A limiter with `limit` (`None`: off).
    pub fn new(limit: Option<IpLimit>) -> Self {
        IpLimiter { limit, buckets: Mutex::new(HashMap::new()) }
    }

    /// The limit in force.
    pub fn limit(&self) -> Option<IpLimit> {
        self.limit
    }

    /// Take one token for `ip` at `now`; when none is left, the seconds until one is.
    pub fn check(&self, ip: IpAddr, now: Instant) -> Result<(), u64> {
        let Some(limit) = self.limit else { return Ok(()) };
        let Ok(mut buckets) = self.buckets.lock() else { return Ok(()) };
        if buckets.len() >= MAX_TRACKED && !buckets.contains_key(&ip) {
            // Full buckets carry no information: dropping them changes no answer.
            let refill = limit.burst / limit.per_sec;
            buckets.retain(|_, b| now.saturating_duration_since(b.last).as_secs_f64() < refill);
            if buckets.len() >= MAX_TRACKED {
                buckets.clear();
            }
        }
        let b = buckets.entry(ip).or_insert(Bucket { tokens: limit.burst, last: now });
        let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
        b.tokens = (b.tokens + elapsed * limit.per_sec).min(limit.burst);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err((((1.0 - b.tokens) / limit.per_sec).ceil() as u64).max(1))
        }
    }
}

/// Does this route take credentials (and so is limited per client, not per address)?
pub fn is_authenticated(path: &str) -> bool {
    path == "/v1/connect" || path.starts_with("/oauth/") || path == "/v1/admin" || path.starts_with("/v1/admin/")
}

/// The 429 (problem+json, with `Retry-After`) for a request to an unauthenticated route from an
/// address that has used its burst; `None` lets it through. Checked by [`super::ops::observe`],
/// the one middleware, so the refusal is logged and counted like any answer.
pub fn refused(state: &AppState, req: &Request) -> Option<Response> {
    if state.ip_limit.limit().is_some() && !is_authenticated(req.uri().path()) {
        if let Some(ConnectInfo(addr)) = req.extensions().get::<ConnectInfo<SocketAddr>>() {
            if let Err(retry) = state.ip_limit.check(addr.ip(), Instant::now()) {
                let mut e = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "too many requests from this address; slow down");
                e.retry_after = Some(retry);
                return Some(e.into_response());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn buckets_refill_and_stay_bounded() {
        let l = IpLimiter::new(Some(IpLimit { per_sec: 10.0, burst: 3.0 }));
        let ip: IpAddr = [127, 0, 0, 1].into();
        let t = Instant::now();
        assert!((0..3).all(|_| l.check(ip, t).is_ok()));
        assert_eq!(l.check(ip, t), Err(1));
        assert!(l.check(ip, t + Duration::from_millis(150)).is_ok());
        assert!(l.check([127, 0, 0, 2].into(), t).is_ok(), "another address has its own bucket");
        for i in 0..(MAX_TRACKED as u32 + 10) {
            let _ = l.check(IpAddr::from(i.to_be_bytes()), t + Duration::from_secs(5));
        }
        assert!(l.buckets.lock().map(|b| b.len()).unwrap_or(usize::MAX) <= MAX_TRACKED);
        assert!(IpLimiter::new(None).check(ip, t).is_ok());
    }
}
