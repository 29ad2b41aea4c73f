//! The verifier an MCP server embeds (DESIGN §3): the descriptor checks of
//! [`crate::descriptor`], fed by the authority's JWKS fetched over HTTP and cached, and by the
//! signed revocation feed when one is configured. The authority is never in the request path:
//! a verified descriptor is cached until its `exp`, the JWKS until its `max-age`, and both
//! outlive an authority outage.
//!
//! Refresh happens on the request that finds the cache stale (one request at a time pays for
//! it; the others go on with what is cached), so behaviour follows the injected
//! [`Clock`] and is testable without sleeps.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use url::Url;

use crate::clock::Clock;
use crate::descriptor::{self, check_header, parse, verify_parsed, Expectations, TokenCache, Verified, VerifyError};
use crate::feed::FeedEntry;
use crate::{Error, Result};

mod fetch;

pub use fetch::parse_max_age;

/// An unknown `kid` re-fetches the JWKS at most once per this many seconds (DESIGN §3 step 3).
pub const UNKNOWN_KID_REFETCH_SECS: i64 = 30;
/// How long a JWKS is used when its response has no `Cache-Control: max-age`.
pub const DEFAULT_JWKS_MAX_AGE: i64 = 300;
/// The shortest JWKS lifetime honoured (`no-cache` or `max-age=0` would mean a fetch per request).
pub const MIN_JWKS_MAX_AGE: i64 = 5;
/// The longest JWKS lifetime honoured.
pub const MAX_JWKS_MAX_AGE: i64 = 24 * 3600;
/// After a failed refresh, the next attempt waits this many seconds (the last good JWKS stays).
pub const RETRY_AFTER_FAILURE_SECS: i64 = 30;
/// Default interval between two polls of the revocation feed.
pub const DEFAULT_FEED_INTERVAL: Duration = Duration::from_secs(30);
/// Largest JWKS or feed body read.
pub const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

/// What a server needs to know to verify descriptors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierConfig {
    /// The authority's issuer (`iss`), e.g. `https://ca.example.com`.
    pub issuer: String,
    /// This server's own endpoint URL (`aud`); canonicalised by [`Verifier::new`].
    pub audience: String,
    /// This server's registry name, to check `mcp.server.id` as well.
    pub server_id: Option<String>,
    /// Clock leeway for `exp` and `nbf` (default 15 s; whole seconds count).
    pub leeway: Duration,
    /// Where the JWKS is; default `<issuer>/.well-known/jwks.json`.
    pub jwks_url: Option<Url>,
    /// The signed revocation feed (`…/v1/revocations`); none means no feed is followed.
    pub revocations_url: Option<Url>,
    /// How often the feed is polled (default 30 s).
    pub feed_interval: Duration,
    /// Time limit of one HTTP fetch (default 5 s).
    pub http_timeout: Duration,
    /// Verified descriptors kept in the cache (default 65,536).
    pub cache_capacity: usize,
}

impl VerifierConfig {
    /// A configuration with the defaults: JWKS under the issuer, no feed, leeway 15 s.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        VerifierConfig {
            issuer: issuer.into(),
            audience: audience.into(),
            server_id: None,
            leeway: Duration::from_secs(descriptor::DEFAULT_LEEWAY_SECS.unsigned_abs()),
            jwks_url: None,
            revocations_url: None,
            feed_interval: DEFAULT_FEED_INTERVAL,
            http_timeout: Duration::from_secs(5),
            cache_capacity: descriptor::DEFAULT_CACHE_CAPACITY,
        }
    }

    /// Check `mcp.server.id` too.
    pub fn server_id(mut self, id: impl Into<String>) -> Self {
        self.server_id = Some(id.into());
        self
    }

    /// Fetch the JWKS from here instead of `<issuer>/.well-known/jwks.json`.
    pub fn jwks_url(mut self, url: Url) -> Self {
        self.jwks_url = Some(url);
        self
    }

    /// Follow the signed revocation feed at this URL.
    pub fn revocations_url(mut self, url: Url) -> Self {
        self.revocations_url = Some(url);
        self
    }

    /// Clock leeway.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Feed poll interval.
    pub fn feed_interval(mut self, interval: Duration) -> Self {
        self.feed_interval = interval;
        self
    }
}

/// Counters, for logs, metrics and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VerifierStats {
    /// JWKS fetches attempted (a `304` counts).
    pub jwks_fetches: u64,
    /// JWKS fetches that failed (the last good JWKS stayed in use).
    pub jwks_failures: u64,
    /// Feed polls attempted.
    pub feed_polls: u64,
    /// Feed polls that failed (the entries already known stayed in force).
    pub feed_failures: u64,
    /// Descriptors answered from the token cache.
    pub cache_hits: u64,
}

/// The JWKS in use.
#[derive(Debug, Default)]
struct KeyState {
    keys: descriptor::KeySet,
    /// Used without re-fetching until this instant.
    fresh_until: i64,
    etag: Option<String>,
    /// A JWKS was fetched at least once.
    loaded: bool,
}

/// The revocation entries in force.
#[derive(Debug, Default)]
struct FeedState {
    entries: Vec<FeedEntry>,
    seq: i64,
}

/// Verifies descriptors for one MCP server. Cheap to share (`Arc<Verifier>`); every method
/// takes `&self`.
#[derive(Debug)]
pub struct Verifier {
    expectations: Expectations,
    jwks_url: Url,
    revocations_url: Option<Url>,
    feed_interval: i64,
    clock: Arc<dyn Clock>,
    http: reqwest::Client,
    cache: TokenCache,
    keys: ArcSwap<KeyState>,
    /// No stale refresh before this instant (set after a failure).
    retry_at: AtomicI64,
    /// When an unknown `kid` last caused a fetch.
    kid_refetch_at: AtomicI64,
    jwks_lock: tokio::sync::Mutex<()>,
    feed: ArcSwap<FeedState>,
    /// Next feed poll due at this instant.
    feed_due: AtomicI64,
    feed_lock: tokio::sync::Mutex<()>,
    counters: Counters,
}

#[derive(Debug, Default)]
struct Counters {
    jwks_fetches: AtomicU64,
    jwks_failures: AtomicU64,
    feed_polls: AtomicU64,
    feed_failures: AtomicU64,
    cache_hits: AtomicU64,
}

fn bad_config(message: String, hint: &str) -> Error {
    Error::invalid(message, hint)
}

impl Verifier {
    /// A verifier; nothing is fetched until the first descriptor (or [`Verifier::refresh`]).
    pub fn new(config: VerifierConfig, clock: Arc<dyn Clock>) -> Result<Self> {
        let issuer = config.issuer.trim().to_owned();
        if issuer.is_empty() {
            return Err(bad_config("the verifier's issuer is empty".into(), "give the authority's issuer URL (its `iss`)"));
        }
        let audience = descriptor::canonical_url(&config.audience)
            .map_err(|e| bad_config(format!("audience: {e}"), "give this server's endpoint URL, e.g. https://mcp.example.com/mcp"))?;
        let jwks_url = match config.jwks_url {
            Some(u) => u,
            None => Url::parse(&format!("{}/.well-known/jwks.json", issuer.trim_end_matches('/'))).map_err(|e| {
                bad_config(format!("cannot derive the JWKS URL from issuer {issuer:?}: {e}"), "configure the JWKS URL explicitly")
            })?,
        };
        for url in std::iter::once(&jwks_url).chain(config.revocations_url.as_ref()) {
            if !matches!(url.scheme(), "http" | "https") {
                return Err(bad_config(format!("{url} is not an http(s) URL"), "the JWKS and the feed are fetched over HTTP"));
            }
        }
        let http = reqwest::Client::builder()
            .timeout(config.http_timeout)
            .connect_timeout(config.http_timeout)
            .user_agent(concat!("mcpca-verifier/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::invalid(format!("cannot build the HTTP client: {e}"), "check the TLS set-up of this process"))?;
        let leeway = i64::try_from(config.leeway.as_secs()).unwrap_or(i64::MAX).min(3600);
        let expectations = Expectations { issuer, audience, server_id: config.server_id, leeway };
        Ok(Verifier {
            expectations,
            jwks_url,
            revocations_url: config.revocations_url,
            feed_interval: i64::try_from(config.feed_interval.as_secs()).unwrap_or(i64::MAX).max(1),
            clock,
            http,
            cache: TokenCache::new(config.cache_capacity),
            keys: ArcSwap::from_pointee(KeyState { fresh_until: i64::MIN, ..KeyState::default() }),
            retry_at: AtomicI64::new(i64::MIN),
            kid_refetch_at: AtomicI64::new(i64::MIN),
            jwks_lock: tokio::sync::Mutex::new(()),
            feed: ArcSwap::from_pointee(FeedState::default()),
            feed_due: AtomicI64::new(i64::MIN),
            feed_lock: tokio::sync::Mutex::new(()),
            counters: Counters::default(),
        })
    }

    /// What descriptors are checked against (issuer, canonical audience, server id, leeway).
    pub fn expectations(&self) -> &Expectations {
        &self.expectations
    }

    /// Where the JWKS is fetched from.
    pub fn jwks_url(&self) -> &Url {
        &self.jwks_url
    }

    /// Counters so far.
    pub fn stats(&self) -> VerifierStats {
        let c = &self.counters;
        VerifierStats {
            jwks_fetches: c.jwks_fetches.load(Ordering::Relaxed),
            jwks_failures: c.jwks_failures.load(Ordering::Relaxed),
            feed_polls: c.feed_polls.load(Ordering::Relaxed),
            feed_failures: c.feed_failures.load(Ordering::Relaxed),
            cache_hits: c.cache_hits.load(Ordering::Relaxed),
        }
    }

    /// Number of `kid`s in the JWKS in use.
    pub fn key_count(&self) -> usize {
        self.keys.load().keys.len()
    }

    /// Number of revocation entries in force.
    pub fn revocation_count(&self) -> usize {
        self.feed.load().entries.len()
    }

    /// Fetch the JWKS (and poll the feed, when configured) now, whatever the caches say. A
    /// server calls this at start-up to fail loudly on a wrong URL; on error the last good
    /// state stays in use.
    pub async fn refresh(&self) -> std::result::Result<(), String> {
        let now = self.clock.now();
        {
            let _guard = self.jwks_lock.lock().await;
            self.fetch_jwks(now).await?;
        }
        if self.revocations_url.is_some() {
            let _guard = self.feed_lock.lock().await;
            self.poll_feed(now).await?;
        }
        Ok(())
    }

    /// The answer for a descriptor verified before, without waiting for anything: `None` when
    /// it is not cached or when a JWKS refresh or a feed poll is due (then call
    /// [`Verifier::verify`]). The guard's fast path.
    pub fn verify_cached(&self, token: &str) -> Option<std::result::Result<Verified, VerifyError>> {
        let now = self.clock.now();
        if self.refresh_due(now) {
            return None;
        }
        let hit = self.cache.get(token, self.expectations.leeway, now)?;
        self.counters.cache_hits.fetch_add(1, Ordering::Relaxed);
        Some(hit.and_then(|v| self.check_revoked(&v).map(|()| v)))
    }

    /// The verifier contract of DESIGN §3, steps 1–6, at the clock's `now`.
    pub async fn verify(&self, token: &str) -> std::result::Result<Verified, VerifyError> {
        let now = self.clock.now();
        let fetched = if self.refresh_due(now) { self.maintain(now).await } else { false };
        let leeway = self.expectations.leeway;
        if let Some(hit) = self.cache.get(token, leeway, now) {
            self.counters.cache_hits.fetch_add(1, Ordering::Relaxed);
            let verified = hit?;
            self.check_revoked(&verified)?;
            return Ok(verified);
        }
        let parsed = parse(token)?;
        let kid = check_header(&parsed.header)?;
        if !fetched && self.keys.load().keys.get(kid).is_none() {
            self.refetch_for_unknown_kid(now).await;
        }
        let state = self.keys.load();
        let key = state.keys.get(kid).ok_or_else(|| {
            let why = if state.loaded { "" } else { " (no JWKS could be fetched from the authority yet)" };
            VerifyError { code: descriptor::FailureCode::DescriptorInvalid, detail: format!("unknown kid {kid:?}{why}") }
        })?;
        let verified = verify_parsed(&parsed, key, &self.expectations, now)?;
        self.cache.insert(token, &verified, leeway, now);
        self.check_revoked(&verified)?;
        Ok(verified)
    }

    /// Step 6: the feed entries in force.
    fn check_revoked(&self, v: &Verified) -> std::result::Result<(), VerifyError> {
        let feed = self.feed.load();
        match feed.entries.iter().find(|e| e.revokes(&v.kid, &v.claims)) {
            None => Ok(()),
            Some(e) => Err(e.failure()),
        }
    }

    /// A stale JWKS may be refreshed, or a feed poll is due.
    fn refresh_due(&self, now: i64) -> bool {
        (now >= self.keys.load().fresh_until && now >= self.retry_at.load(Ordering::Relaxed))
            || (self.revocations_url.is_some() && now >= self.feed_due.load(Ordering::Relaxed))
    }

    /// Refresh what is due: a stale JWKS, a feed poll. Returns whether the JWKS was fetched.
    async fn maintain(&self, now: i64) -> bool {
        let mut fetched = false;
        if now >= self.keys.load().fresh_until && now >= self.retry_at.load(Ordering::Relaxed) {
            // One request refreshes; the others go on with the keys they have. A verifier that
            // has no keys at all waits for the fetch instead.
            let guard = if self.keys.load().loaded { self.jwks_lock.try_lock().ok() } else { Some(self.jwks_lock.lock().await) };
            if let Some(_guard) = guard {
                if now >= self.keys.load().fresh_until && now >= self.retry_at.load(Ordering::Relaxed) {
                    let _ = self.fetch_jwks(now).await;
                    fetched = true;
                }
            }
        }
        if self.revocations_url.is_some() && now >= self.feed_due.load(Ordering::Relaxed) {
            if let Ok(_guard) = self.feed_lock.try_lock() {
                if now >= self.feed_due.load(Ordering::Relaxed) {
                    let _ = self.poll_feed(now).await;
                }
            }
        }
        fetched
    }

    /// Step 3: an unknown `kid` re-fetches the JWKS, at most once per 30 s.
    async fn refetch_for_unknown_kid(&self, now: i64) -> bool {
        let _guard = self.jwks_lock.lock().await;
        let last = self.kid_refetch_at.load(Ordering::Relaxed);
        if last != i64::MIN && now - last < UNKNOWN_KID_REFETCH_SECS {
            return false;
        }
        self.kid_refetch_at.store(now, Ordering::Relaxed);
        let _ = self.fetch_jwks(now).await;
        true
    }
}
