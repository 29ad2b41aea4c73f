//! The guard's HTTP face: every failure code with its challenge and body, both header
//! conventions and their precedence, the claims handed to the handler, leeway, and the RFC 9728
//! metadata document.

use mcpca::clock::ManualClock;
use mcpca::guard::HeaderMode;
use mcpca::verify::VerifierConfig;
use url::Url;

use crate::fixture::{app, claims, key, sign, App, JwksServer, AUD, ISS, NOW};

async fn setup(mode: HeaderMode) -> (JwksServer, ManualClock, App) {
    let jwks = JwksServer::start(&[&key(1)], Some("public, max-age=300")).await;
    let clock = ManualClock::new(NOW);
    let config = VerifierConfig::new(ISS, AUD).jwks_url(Url::parse(&jwks.url).unwrap());
    let app = app(config, &clock, mode).await;
    (jwks, clock, app)
}

const METADATA: &str = "https://weather.acme.dev/.well-known/oauth-protected-resource/mcp";

#[tokio::test]
async fn every_failure_code_with_its_challenge_and_body() {
    let (_jwks, clock, app) = setup(HeaderMode::Either).await;
    let good = sign(&key(1), &claims(NOW, 120));

    let ok = app.connect(&good).await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    assert!(ok.challenge.is_none());

    // Missing: RFC 6750 §3.1, no error attribute, but still the metadata pointer.
    let missing = app.call(&[]).await;
    assert_eq!((missing.status, missing.error()), (401, "descriptor_missing"));
    assert_eq!(missing.challenge.as_deref(), Some(format!("Bearer resource_metadata=\"{METADATA}\"").as_str()));

    let invalid_challenge = format!("Bearer error=\"invalid_token\", resource_metadata=\"{METADATA}\"");
    let garbage = app.connect("not.a.jwt").await;
    assert_eq!((garbage.status, garbage.error()), (401, "descriptor_invalid"));
    assert_eq!(garbage.challenge.as_deref(), Some(invalid_challenge.as_str()));

    // A descriptor signed by a key the authority never published.
    let forged = app.connect(&sign(&key(9), &claims(NOW, 120))).await;
    assert_eq!(forged.error(), "descriptor_invalid");
    assert!(forged.body["error_description"].as_str().unwrap().contains("unknown kid"), "{:?}", forged.body);

    // One changed signature character (inside, so every decoded bit counts).
    let mut tampered = good.clone().into_bytes();
    let i = tampered.len() - 10;
    tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    assert_eq!(app.connect(&tampered).await.error(), "descriptor_invalid");

    let mut other = claims(NOW, 120);
    other.aud = "https://other.acme.dev/mcp".into();
    let wrong = app.connect(&sign(&key(1), &other)).await;
    assert_eq!((wrong.status, wrong.error()), (401, "descriptor_wrong_audience"));
    assert_eq!(wrong.challenge.as_deref(), Some(invalid_challenge.as_str()));

    let mut foreign = claims(NOW, 120);
    foreign.iss = "https://evil.example.com".into();
    assert_eq!(app.connect(&sign(&key(1), &foreign)).await.error(), "descriptor_invalid");

    // The cached good descriptor expires too: past exp + leeway it is refused.
    clock.advance(120 + 16);
    let expired = app.connect(&good).await;
    assert_eq!((expired.status, expired.error()), (401, "descriptor_expired"));
    assert_eq!(expired.challenge.as_deref(), Some(invalid_challenge.as_str()));
    // (`descriptor_revoked` is covered with the real authority's feed in `authority.rs`.)
}

#[tokio::test]
async fn leeway_is_fifteen_seconds_by_default() {
    let (_jwks, _clock, app) = setup(HeaderMode::Either).await;
    // Expired 10 s ago: within the leeway.
    assert_eq!(app.connect(&sign(&key(1), &claims(NOW - 130, 120))).await.status, 200);
    // Expired 16 s ago: refused.
    assert_eq!(app.connect(&sign(&key(1), &claims(NOW - 136, 120))).await.error(), "descriptor_expired");
    // Issued 10 s in the future (a clock ahead of ours): accepted; 20 s: refused.
    assert_eq!(app.connect(&sign(&key(1), &claims(NOW + 10, 120))).await.status, 200);
    assert_eq!(app.connect(&sign(&key(1), &claims(NOW + 20, 120))).await.error(), "descriptor_invalid");
}

#[tokio::test]
async fn a_configured_leeway_is_used() {
    let jwks = JwksServer::start(&[&key(1)], None).await;
    let clock = ManualClock::new(NOW);
    let config = VerifierConfig::new(ISS, AUD).jwks_url(Url::parse(&jwks.url).unwrap()).leeway(std::time::Duration::ZERO);
    let app = app(config, &clock, HeaderMode::Either).await;
    assert_eq!(app.connect(&sign(&key(1), &claims(NOW - 121, 120))).await.error(), "descriptor_expired");
    assert_eq!(app.connect(&sign(&key(1), &claims(NOW - 119, 120))).await.status, 200);
}

#[tokio::test]
async fn both_header_conventions_and_their_precedence() {
    let (_jwks, _clock, app) = setup(HeaderMode::Either).await;
    let good = sign(&key(1), &claims(NOW, 120));
    let bearer = format!("Bearer {good}");

    assert_eq!(app.call(&[("MCP-Connect", &good)]).await.status, 200);
    assert_eq!(app.call(&[("Authorization", &bearer)]).await.status, 200);
    // The scheme is case-insensitive (RFC 7235).
    assert_eq!(app.call(&[("Authorization", &format!("bearer {good}"))]).await.status, 200);
    // Another scheme carries no descriptor.
    assert_eq!(app.call(&[("Authorization", "Basic Ym90OnNlY3JldA==")]).await.error(), "descriptor_missing");

    // Both sent: MCP-Connect is the one checked, the other is not a fallback.
    assert_eq!(app.call(&[("MCP-Connect", &good), ("Authorization", "Bearer junk")]).await.status, 200);
    let a = app.call(&[("MCP-Connect", "junk"), ("Authorization", &bearer)]).await;
    assert_eq!((a.status, a.error()), (401, "descriptor_invalid"));
    // Two MCP-Connect headers are refused rather than guessed between.
    assert_eq!(app.call(&[("MCP-Connect", &good), ("MCP-Connect", &good)]).await.error(), "descriptor_invalid");
}

#[tokio::test]
async fn a_single_header_mode_ignores_the_other_header() {
    let good = sign(&key(1), &claims(NOW, 120));
    let bearer = format!("Bearer {good}");

    let (_j1, _c1, connect_only) = setup(HeaderMode::McpConnect).await;
    assert_eq!(connect_only.call(&[("MCP-Connect", &good)]).await.status, 200);
    let a = connect_only.call(&[("Authorization", &bearer)]).await;
    assert_eq!((a.status, a.error()), (401, "descriptor_missing"));
    assert!(a.body["error_description"].as_str().unwrap().contains("MCP-Connect"));

    let (_j2, _c2, bearer_only) = setup(HeaderMode::Authorization).await;
    assert_eq!(bearer_only.call(&[("Authorization", &bearer)]).await.status, 200);
    assert_eq!(bearer_only.call(&[("MCP-Connect", &good)]).await.error(), "descriptor_missing");
    // Here the Authorization header wins even with a good MCP-Connect beside it.
    assert_eq!(bearer_only.call(&[("MCP-Connect", &good), ("Authorization", "Bearer junk")]).await.error(), "descriptor_invalid");
}

#[tokio::test]
async fn the_handler_receives_the_verified_claims() {
    let (_jwks, _clock, app) = setup(HeaderMode::Either).await;
    let mut c = claims(NOW, 120);
    c.sub = "alice".into();
    c.jti = "01900000-0000-7000-8000-00000000abcd".into();
    let a = app.connect(&sign(&key(1), &c)).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["sub"], "alice");
    assert_eq!(a.body["jti"], "01900000-0000-7000-8000-00000000abcd");
    assert_eq!(a.body["aud"], AUD);
    assert_eq!(a.body["kid"], key(1).kid());
    // From the cache the same claims come back.
    assert_eq!(app.connect(&sign(&key(1), &c)).await.body["sub"], "alice");
    assert_eq!(app.verifier.stats().cache_hits, 1);
}

#[tokio::test]
async fn the_protected_resource_metadata_is_served_without_a_descriptor() {
    let (_jwks, _clock, app) = setup(HeaderMode::Either).await;
    for path in ["/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"] {
        let resp = app.http.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        assert_eq!(resp.headers()["content-type"], "application/json");
        let doc: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(doc["resource"], AUD);
        assert_eq!(doc["authorization_servers"], serde_json::json!([ISS]));
        assert_eq!(doc["bearer_methods_supported"], serde_json::json!(["header"]));
    }
    // Other paths stay guarded, the metadata is not writable.
    let post = app.http.post(format!("{}/.well-known/oauth-protected-resource", app.base)).send().await.unwrap();
    assert_eq!(post.status(), 401);
    let other = app.http.get(format!("{}/.well-known/oauth-protected-resource/other", app.base)).send().await.unwrap();
    assert_eq!(other.status(), 401);
}
