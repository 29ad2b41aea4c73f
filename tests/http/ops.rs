//! What verifiers and operators poll (issue 5, points 3, 5 and 9): the JWKS and the revocation
//! feed with `ETag` and `304`, the JWKS's key states and `Cache-Control`, `/healthz`, `/readyz`
//! and the Prometheus families of `/metrics`.

use std::collections::BTreeSet;

use mcpca::authority::{Authority, RevokeTarget};
use mcpca::keys::KeyState;
use mcpca::model::ClientPolicy;
use serde_json::{json, Value};

use super::util::{seed, TestServer};

async fn get(s: &TestServer, path: &str, etag: Option<&str>) -> reqwest::Response {
    let mut req = s.http.get(s.at(path));
    if let Some(tag) = etag {
        req = req.header("if-none-match", tag);
    }
    req.send().await.unwrap()
}

fn etag(r: &reqwest::Response) -> String {
    r.headers()["etag"].to_str().unwrap().to_owned()
}

/// The kids the JWKS must publish: next, active and retiring keys.
async fn published(s: &TestServer) -> BTreeSet<String> {
    let keys = s.authority().key_list().await.unwrap();
    keys.into_iter().filter(|k| matches!(k.state, KeyState::Next | KeyState::Active | KeyState::Retiring)).map(|k| k.kid).collect()
}

async fn served_kids(r: reqwest::Response) -> BTreeSet<String> {
    let body: Value = r.json().await.unwrap();
    body["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn the_jwks_publishes_next_active_and_retiring_keys_with_an_etag() {
    let s = TestServer::start().await;
    // A retiring key (the first active one), an active one and a next one.
    s.authority().key_generate().await.unwrap();
    s.authority().key_rotate(None).await.unwrap();
    s.authority().key_generate().await.unwrap();
    let states: BTreeSet<String> = s.authority().key_list().await.unwrap().iter().map(|k| format!("{:?}", k.state)).collect();
    for state in ["Next", "Active", "Retiring"] {
        assert!(states.contains(state), "the fixture has a {state} key: {states:?}");
    }

    let r = get(&s, "/.well-known/jwks.json", None).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "public, max-age=300");
    assert_eq!(r.headers()["content-type"], "application/json");
    let tag = etag(&r);
    assert_eq!(served_kids(r).await, published(&s).await);

    // The same body: 304, no body, the same ETag.
    let r = get(&s, "/.well-known/jwks.json", Some(&tag)).await;
    assert_eq!(r.status(), 304);
    assert_eq!(etag(&r), tag);
    assert!(r.bytes().await.unwrap().is_empty());

    // A new key: a new ETag, and the old one gets the whole body.
    s.authority().key_generate().await.unwrap();
    let r = get(&s, "/.well-known/jwks.json", Some(&tag)).await;
    assert_eq!(r.status(), 200);
    assert_ne!(etag(&r), tag);
    assert_eq!(served_kids(r).await, published(&s).await);
}

#[tokio::test]
async fn the_revocation_feed_answers_304_until_it_changes() {
    let s = TestServer::start().await;
    let r = get(&s, "/v1/revocations", None).await;
    assert_eq!(r.status(), 200);
    let tag = etag(&r);
    assert!(!r.text().await.unwrap().is_empty());
    assert_eq!(get(&s, "/v1/revocations", Some(&tag)).await.status(), 304);

    s.authority().revoke(&RevokeTarget::Jti("0190a5b2-7c4e-7d2a-9f3b-2c1d4e5f6a7b".into()), Some("test".into())).await.unwrap();
    let r = get(&s, "/v1/revocations", Some(&tag)).await;
    assert_eq!(r.status(), 200, "a changed feed is sent again");
    assert_ne!(etag(&r), tag);
}

/// The value of the sample `name` (with its labels) in a Prometheus text body.
fn sample(metrics: &str, name: &str) -> Option<f64> {
    metrics.lines().find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' '))).map(|v| v.parse().unwrap())
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let s = TestServer::start().await;
    let secret = seed(&s).await;
    let narrow = ClientPolicy { tenant: None, allow: vec!["io.github.other/*".into()], max_ttl: None, rate_per_min: None };
    let narrow = s.authority().client_add("narrow", narrow).await.unwrap().secret;

    let r = get(&s, "/healthz", None).await;
    assert_eq!((r.status().as_u16(), r.json::<Value>().await.unwrap()), (200, json!({ "status": "ok" })));
    let r = get(&s, "/readyz", None).await;
    assert_eq!((r.status().as_u16(), r.json::<Value>().await.unwrap()), (200, json!({ "status": "ready" })));

    let connect = |bearer: String| {
        let req = s.http.post(s.at("/v1/connect")).bearer_auth(bearer).json(&json!({ "server_ref": "io.github.acme/weather" }));
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(connect(secret.clone()).await, 200);
    assert_eq!(connect(secret).await, 200);
    assert_eq!(connect(narrow).await, 403);
    s.clock.advance(90);

    let r = get(&s, "/metrics", None).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let m = r.text().await.unwrap();
    assert_eq!(sample(&m, r#"mcpca_descriptors_issued_total{server="io.github.acme/weather"}"#), Some(2.0), "{m}");
    assert_eq!(sample(&m, r#"mcpca_issuance_denied_total{code="policy_blocked"}"#), Some(1.0), "{m}");
    // Every request before this one, each in one bucket (the +Inf bucket counts them all).
    let requests = sample(&m, "mcpca_request_duration_seconds_count").unwrap();
    assert!(requests >= 5.0, "{m}");
    assert_eq!(sample(&m, r#"mcpca_request_duration_seconds_bucket{le="+Inf"}"#), Some(requests));
    // Three audited decisions went through the group commit.
    assert!(sample(&m, "mcpca_audit_batch_size_sum").unwrap() >= 3.0, "{m}");
    // The key activated at init, 90 s ago on the test clock.
    assert_eq!(sample(&m, "mcpca_active_key_age_seconds"), Some(90.0), "{m}");

    // No active key (every command keeps one: only SQL on the file can take it): not ready.
    let db = mcpca::config::Paths::in_home(&s.home_path()).database;
    tokio::task::spawn_blocking(move || {
        rusqlite::Connection::open(db).unwrap().execute_batch("UPDATE keys SET state = 'retiring' WHERE state = 'active'").unwrap()
    })
    .await
    .unwrap();
    let r = get(&s, "/readyz", None).await;
    assert_eq!(r.status(), 503);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({ "status": "not_ready", "reason": "no active signing key" }));
    s.stop().await;
}
