//! The only place that reads the system time. Everything else takes `now` as a parameter, so
//! tests move a clock instead of sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use time::OffsetDateTime;

/// A source of the current time, in whole seconds since the Unix epoch.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Seconds since the Unix epoch.
    fn now(&self) -> i64;
}

/// The real wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        OffsetDateTime::now_utc().unix_timestamp()
    }
}

/// A clock that only moves when told to (tests, and `MCPCA_NOW`).
#[derive(Debug, Clone, Default)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock standing at `now`.
    pub fn new(now: i64) -> Self {
        ManualClock(Arc::new(AtomicI64::new(now)))
    }
    /// Move the clock by `secs` (may be negative).
    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
    /// Put the clock at `now`.
    pub fn set(&self, now: i64) {
        self.0.store(now, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// The clock of the command line: the system clock, unless `MCPCA_NOW` (Unix seconds or
/// RFC 3339) pins it, which the test suite uses to check expiry without waiting.
pub fn from_env() -> crate::Result<Arc<dyn Clock>> {
    match std::env::var("MCPCA_NOW") {
        Ok(v) if !v.trim().is_empty() => Ok(Arc::new(ManualClock::new(parse_instant(v.trim())?))),
        _ => Ok(Arc::new(SystemClock)),
    }
}

/// Parse Unix seconds or an RFC 3339 timestamp.
pub fn parse_instant(v: &str) -> crate::Result<i64> {
    if let Ok(secs) = v.parse::<i64>() {
        return Ok(secs);
    }
    OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339).map(|t| t.unix_timestamp()).map_err(|_| {
        crate::Error::invalid(format!("not a time: {v:?}"), "give Unix seconds or an RFC 3339 time such as 2026-11-22T10:00:00Z")
    })
}

/// Format Unix seconds as RFC 3339 UTC (`2026-11-22T10:02:00Z`).
pub fn rfc3339(secs: i64) -> String {
    OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| secs.to_string())
}
