//! The two documents a verifier fetches from the authority: the JWKS (cached for its
//! `Cache-Control: max-age`, revalidated with `ETag`) and the signed revocation feed (polled
//! with `?since=SEQ`). A failed fetch never discards what was fetched before.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::http::{header, HeaderMap, StatusCode};

use super::{
    FeedState, KeyState, Verifier, DEFAULT_JWKS_MAX_AGE, MAX_DOCUMENT_BYTES, MAX_JWKS_MAX_AGE, MIN_JWKS_MAX_AGE, RETRY_AFTER_FAILURE_SECS,
};
use crate::descriptor::KeySet;
use crate::feed::Feed;
use crate::keys::Jwks;

/// The `max-age` of a `Cache-Control` header in seconds; `no-cache`/`no-store` count as 0.
/// `None` when the header says nothing about it.
pub fn parse_max_age(headers: &HeaderMap) -> Option<i64> {
    let mut found = None;
    for value in headers.get_all(header::CACHE_CONTROL) {
        let Ok(value) = value.to_str() else { continue };
        for directive in value.split(',').map(str::trim) {
            let lower = directive.to_ascii_lowercase();
            if lower == "no-cache" || lower == "no-store" {
                return Some(0);
            }
            if let Some(n) = lower.strip_prefix("max-age=") {
                if let Ok(n) = n.trim_matches('"').parse::<i64>() {
                    found = Some(n);
                }
            }
        }
    }
    found
}

async fn read_body(resp: reqwest::Response, what: &str) -> Result<String, String> {
    if resp.content_length().is_some_and(|n| n > MAX_DOCUMENT_BYTES as u64) {
        return Err(format!("{what} is larger than {MAX_DOCUMENT_BYTES} bytes"));
    }
    let bytes = resp.bytes().await.map_err(|e| format!("reading the {what}: {e}"))?;
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(format!("{what} is larger than {MAX_DOCUMENT_BYTES} bytes"));
    }
    String::from_utf8(bytes.to_vec()).map_err(|_| format!("{what} is not UTF-8"))
}

impl Verifier {
    /// Fetch the JWKS once. On success the keys and their freshness are replaced; on failure
    /// the last good JWKS stays and no stale refresh is tried for 30 s. Call with `jwks_lock`.
    pub(super) async fn fetch_jwks(&self, now: i64) -> Result<(), String> {
        self.counters.jwks_fetches.fetch_add(1, Ordering::Relaxed);
        let result = self.fetch_jwks_inner(now).await;
        if let Err(e) = &result {
            self.counters.jwks_failures.fetch_add(1, Ordering::Relaxed);
            self.retry_at.store(now.saturating_add(RETRY_AFTER_FAILURE_SECS), Ordering::Relaxed);
            let kept = self.keys.load().keys.len();
            tracing::warn!(url = %self.jwks_url, error = %e, keys_kept = kept, "JWKS fetch failed; keeping the last good JWKS");
        }
        result
    }

    async fn fetch_jwks_inner(&self, now: i64) -> Result<(), String> {
        let current = self.keys.load_full();
        let mut request = self.http.get(self.jwks_url.clone()).header(header::ACCEPT, "application/json");
        if let (true, Some(tag)) = (current.loaded, &current.etag) {
            request = request.header(header::IF_NONE_MATCH, tag.as_str());
        }
        let resp = request.send().await.map_err(|e| format!("GET {}: {e}", self.jwks_url))?;
        let status = resp.status();
        let max_age = parse_max_age(resp.headers()).unwrap_or(DEFAULT_JWKS_MAX_AGE).clamp(MIN_JWKS_MAX_AGE, MAX_JWKS_MAX_AGE);
        let fresh_until = now.saturating_add(max_age);
        if status == StatusCode::NOT_MODIFIED && current.loaded {
            self.keys.store(Arc::new(KeyState { keys: current.keys.clone(), fresh_until, etag: current.etag.clone(), loaded: true }));
            return Ok(());
        }
        if !status.is_success() {
            return Err(format!("GET {} answered {status}", self.jwks_url));
        }
        let etag = resp.headers().get(header::ETAG).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = read_body(resp, "JWKS").await?;
        let jwks = Jwks::from_json(&body).map_err(|e| e.to_string())?;
        let keys = KeySet::from_jwks(&jwks).map_err(|e| format!("JWKS from {}: {e}", self.jwks_url))?;
        if keys.is_empty() {
            return Err(format!("the JWKS at {} has no Ed25519 key", self.jwks_url));
        }
        tracing::debug!(url = %self.jwks_url, keys = keys.len(), max_age, "JWKS fetched");
        self.keys.store(Arc::new(KeyState { keys, fresh_until, etag, loaded: true }));
        Ok(())
    }

    /// Poll the feed once (`?since=` the last sequence number seen) and merge its entries.
    /// On failure the entries already known stay in force. Call with `feed_lock`.
    pub(super) async fn poll_feed(&self, now: i64) -> Result<(), String> {
        self.counters.feed_polls.fetch_add(1, Ordering::Relaxed);
        self.feed_due.store(now.saturating_add(self.feed_interval), Ordering::Relaxed);
        let result = self.poll_feed_inner(now).await;
        if let Err(e) = &result {
            self.counters.feed_failures.fetch_add(1, Ordering::Relaxed);
            let kept = self.feed.load().entries.len();
            tracing::warn!(error = %e, entries_kept = kept, "revocation feed poll failed; keeping the entries known");
        }
        result
    }

    async fn poll_feed_inner(&self, now: i64) -> Result<(), String> {
        let Some(base) = &self.revocations_url else { return Ok(()) };
        let current = self.feed.load_full();
        let mut url = base.clone();
        if current.seq > 0 {
            url.query_pairs_mut().append_pair("since", &current.seq.to_string());
        }
        let resp = self.http.get(url.clone()).send().await.map_err(|e| format!("GET {url}: {e}"))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(format!("GET {url} answered {status}"));
        }
        let jws = read_body(resp, "revocation feed").await?;
        let issuer = Some(self.expectations.issuer.as_str());
        let feed = match Feed::from_jws(&jws, &self.keys.load().keys, issuer) {
            Ok(feed) => feed,
            // Perhaps signed by a key this verifier has not fetched yet.
            Err(_) if self.refetch_for_unknown_kid(now).await => Feed::from_jws(&jws, &self.keys.load().keys, issuer)?,
            Err(e) => return Err(e),
        };
        let mut entries: Vec<_> = current.entries.iter().filter(|e| e.expires_at > now).cloned().collect();
        for entry in feed.entries {
            if entry.expires_at > now && !entries.contains(&entry) {
                entries.push(entry);
            }
        }
        if entries.len() != current.entries.len() || feed.seq != current.seq {
            tracing::debug!(seq = feed.seq, entries = entries.len(), "revocation feed updated");
        }
        self.feed.store(Arc::new(FeedState { entries, seq: feed.seq.max(current.seq) }));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cc(values: &[&str]) -> Option<i64> {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::CACHE_CONTROL, v.parse().unwrap_or_else(|_| axum::http::HeaderValue::from_static("")));
        }
        parse_max_age(&h)
    }

    #[test]
    fn max_age_is_read_from_cache_control() {
        assert_eq!(cc(&["public, max-age=300"]), Some(300));
        assert_eq!(cc(&["Max-Age=60"]), Some(60));
        assert_eq!(cc(&["no-cache"]), Some(0));
        assert_eq!(cc(&["public", "max-age=7"]), Some(7));
        assert_eq!(cc(&["public"]), None);
        assert_eq!(cc(&[]), None);
        assert_eq!(cc(&["max-age=soon"]), None);
    }
}
