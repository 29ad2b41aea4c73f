//! The JWKS cache on a manual clock: `Cache-Control: max-age`, the at-most-once-per-30-s
//! re-fetch on an unknown `kid`, and the last good JWKS while the authority is down.

use mcpca::clock::ManualClock;
use mcpca::guard::HeaderMode;
use mcpca::verify::VerifierConfig;
use url::Url;

use crate::fixture::{app, claims, key, sign, JwksServer, AUD, ISS, NOW};

#[tokio::test]
async fn the_jwks_is_cached_for_its_max_age() {
    let jwks = JwksServer::start(&[&key(1)], Some("public, max-age=60")).await;
    let clock = ManualClock::new(NOW);
    let app = app(VerifierConfig::new(ISS, AUD).jwks_url(Url::parse(&jwks.url).unwrap()), &clock, HeaderMode::Either).await;
    assert_eq!(jwks.fetches(), 0, "nothing is fetched before the first request");

    // Different descriptors (no token-cache hits), one JWKS fetch.
    for i in 0..5 {
        assert_eq!(app.connect(&sign(&key(1), &claims(NOW - i, 600))).await.status, 200);
    }
    assert_eq!(jwks.fetches(), 1);
    clock.advance(59);
    assert_eq!(app.connect(&sign(&key(1), &claims(NOW + 1, 600))).await.status, 200);
    assert_eq!(jwks.fetches(), 1, "still fresh at 59 s");
    clock.advance(1);
    assert_eq!(app.connect(&sign(&key(1), &claims(NOW + 2, 600))).await.status, 200);
    assert_eq!(jwks.fetches(), 2, "stale at 60 s: fetched again");
    // A cached descriptor costs no fetch and no signature check.
    let t = sign(&key(1), &claims(NOW + 2, 600));
    assert_eq!(app.connect(&t).await.status, 200);
    assert_eq!(jwks.fetches(), 2);
    assert!(app.verifier.stats().cache_hits >= 1);
}

#[tokio::test]
async fn without_cache_control_the_jwks_is_kept_five_minutes() {
    let jwks = JwksServer::start(&[&key(1)], None).await;
    let clock = ManualClock::new(NOW);
    let app = app(VerifierConfig::new(ISS, AUD).jwks_url(Url::parse(&jwks.url).unwrap()), &clock, HeaderMode::Either).await;
    assert_eq!(app.connect(&sign(&key(1), &claims(NOW, 600))).await.status, 200);
    clock.advance(299);
    assert_eq!(app.connect(&sign(&key(1), &claims(NOW + 1, 600))).await.status, 200);
    assert_eq!(jwks.fetches(), 1);
    clock.advance(1);
    assert_eq!(app.connect(&sign(&key(1), &claims(NOW + 2, 600))).await.status, 200);
    assert_eq!(jwks.fetches(), 2);
}

#[tokio::test]
async fn an_unknown_kid_refetches_at_most_once_per_30_seconds() {
    let jwks = JwksServer::start(&[&key(1)], Some("max-age=3600")).await;
    let clock = ManualClock::new(NOW);
    let app = app(VerifierConfig::new(ISS, AUD).jwks_url(Url::parse(&jwks.url).unwrap()), &clock, HeaderMode::Either).await;
    assert_eq!(app.connect(&sign(&key(1), &claims(NOW, 600))).await.status, 200);
    assert_eq!(jwks.fetches(), 1);

    // The authority rotates: key 2 appears; the first descriptor it signs triggers a re-fetch.
    jwks.publish(&key(2));
    clock.advance(5);
    let a = app.connect(&sign(&key(2), &claims(NOW + 5, 600))).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(jwks.fetches(), 2);

    // Ten seconds later another new key: no re-fetch within 30 s of the last one.
    jwks.publish(&key(3));
    clock.advance(10);
    let k3 = sign(&key(3), &claims(NOW + 15, 600));
    assert_eq!(app.connect(&k3).await.error(), "descriptor_invalid");
    // A flood of unknown kids costs nothing either.
    for n in 10..20 {
        assert_eq!(app.connect(&sign(&key(n), &claims(NOW + 15, 600))).await.error(), "descriptor_invalid");
    }
    assert_eq!(jwks.fetches(), 2);

    // 30 s after the last re-fetch the next one is allowed.
    clock.advance(20);
    assert_eq!(app.connect(&k3).await.status, 200);
    assert_eq!(jwks.fetches(), 3);
    // A forged kid now costs at most one more fetch in the next 30 s.
    for n in 20..25 {
        clock.advance(1);
        assert_eq!(app.connect(&sign(&key(n), &claims(NOW + 15, 600))).await.error(), "descriptor_invalid");
    }
    assert_eq!(jwks.fetches(), 3, "the previous re-fetch was less than 30 s ago");
}

#[tokio::test]
async fn the_last_good_jwks_is_kept_while_the_authority_is_down() {
    let mut jwks = JwksServer::start(&[&key(1)], Some("max-age=60")).await;
    let clock = ManualClock::new(NOW);
    let app = app(VerifierConfig::new(ISS, AUD).jwks_url(Url::parse(&jwks.url).unwrap()), &clock, HeaderMode::Either).await;
    assert_eq!(app.connect(&sign(&key(1), &claims(NOW, 3600))).await.status, 200);
    jwks.stop().await;

    // Long past max-age, the refresh fails (connection refused) and the keys stay in use.
    clock.advance(600);
    let a = app.connect(&sign(&key(1), &claims(NOW + 600, 3600))).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let stats = app.verifier.stats();
    assert_eq!((stats.jwks_fetches, stats.jwks_failures), (2, 1));
    // No retry storm: the next attempt waits 30 s.
    for i in 1..=5 {
        assert_eq!(app.connect(&sign(&key(1), &claims(NOW + 600 + i, 3600))).await.status, 200);
    }
    assert_eq!(app.verifier.stats().jwks_fetches, 2);
    clock.advance(30);
    assert_eq!(app.connect(&sign(&key(1), &claims(NOW + 630, 3600))).await.status, 200);
    assert_eq!(app.verifier.stats().jwks_failures, 2);
    assert_eq!(app.verifier.key_count(), 1);
}

#[tokio::test]
async fn with_no_jwks_ever_fetched_descriptors_are_refused_and_said_why() {
    let mut jwks = JwksServer::start(&[&key(1)], None).await;
    let url = jwks.url.clone();
    jwks.stop().await;
    let clock = ManualClock::new(NOW);
    let app = app(VerifierConfig::new(ISS, AUD).jwks_url(Url::parse(&url).unwrap()), &clock, HeaderMode::Either).await;
    let a = app.connect(&sign(&key(1), &claims(NOW, 600))).await;
    assert_eq!((a.status, a.error()), (401, "descriptor_invalid"));
    assert!(a.body["error_description"].as_str().unwrap().contains("no JWKS could be fetched"), "{:?}", a.body);
}

#[tokio::test]
async fn the_fast_path_answers_only_when_nothing_is_due() {
    let jwks = JwksServer::start(&[&key(1)], Some("max-age=60")).await;
    let clock = ManualClock::new(NOW);
    let app = app(VerifierConfig::new(ISS, AUD).jwks_url(Url::parse(&jwks.url).unwrap()), &clock, HeaderMode::Either).await;
    let t = sign(&key(1), &claims(NOW, 600));
    // Never seen: no answer without waiting.
    assert!(app.verifier.verify_cached(&t).is_none());
    assert_eq!(app.verifier.verify(&t).await.unwrap().claims.sub, "bot");
    assert!(matches!(app.verifier.verify_cached(&t), Some(Ok(_))));
    // The JWKS is stale: the slow path must run (and refresh) first.
    clock.advance(60);
    assert!(app.verifier.verify_cached(&t).is_none());
    assert!(app.verifier.verify(&t).await.is_ok());
    assert_eq!(jwks.fetches(), 2);
    assert!(matches!(app.verifier.verify_cached(&t), Some(Ok(_))));
    // Expired in the cache (and the JWKS still fresh): refused from the fast path.
    let short = sign(&key(1), &claims(NOW + 30, 30));
    assert!(app.verifier.verify(&short).await.is_ok());
    clock.advance(16);
    assert_eq!(app.verifier.verify_cached(&short).unwrap().unwrap_err().code, mcpca::descriptor::FailureCode::DescriptorExpired);
}
