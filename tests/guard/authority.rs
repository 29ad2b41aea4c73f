//! The guard against a real authority served in-process (`mcpca serve` on `127.0.0.1:0`):
//! descriptors issued by it, its JWKS, and its signed revocation feed (jti and server entries).

use mcpca::authority::{Authority, IssueRequest, RevokeTarget};
use mcpca::guard::HeaderMode;
use mcpca::verify::VerifierConfig;
use url::Url;

use crate::fixture::app;
use crate::util::{seed, TestServer};

const WEATHER: &str = "https://weather.acme.dev/mcp";

async fn issue(s: &TestServer) -> String {
    let request = IssueRequest {
        server: "io.github.acme/weather".parse().unwrap(),
        ttl: None,
        client: Some("bot".into()),
        tenant: None,
        scope: None,
    };
    s.authority().issue(&request).await.unwrap().descriptor
}

fn config(s: &TestServer) -> VerifierConfig {
    // The issuer string differs from the address the authority listens on.
    VerifierConfig::new("https://ca.example.com", WEATHER)
        .jwks_url(Url::parse(&s.at("/.well-known/jwks.json")).unwrap())
        .revocations_url(Url::parse(&s.at("/v1/revocations")).unwrap())
}

#[tokio::test]
async fn descriptors_of_the_authority_pass_and_the_feed_revokes_them() {
    let s = TestServer::start().await;
    seed(&s).await;
    let app = app(config(&s), &s.clock, HeaderMode::Either).await;
    let first = issue(&s).await;
    let second = issue(&s).await;
    assert_eq!(app.connect(&first).await.status, 200);
    assert_eq!(app.call(&[("Authorization", &format!("Bearer {second}"))]).await.status, 200);
    assert_eq!(app.verifier.stats().feed_polls, 1);

    // Revoke one descriptor by jti. Until the next poll (30 s) the verifier does not know.
    let jti = mcpca::descriptor::parse(&first).map(|p| serde_json::from_slice::<serde_json::Value>(&p.payload).unwrap()).unwrap()["jti"]
        .as_str()
        .unwrap()
        .to_owned();
    s.authority().revoke(&RevokeTarget::Jti(jti.clone()), Some("test".into())).await.unwrap();
    s.clock.advance(10);
    assert_eq!(app.connect(&first).await.status, 200, "the feed is polled every 30 s, not on every request");
    s.clock.advance(20);
    let a = app.connect(&first).await;
    assert_eq!((a.status, a.error()), (401, "descriptor_revoked"));
    assert!(a.challenge.unwrap().starts_with("Bearer error=\"invalid_token\""));
    assert!(a.body["error_description"].as_str().unwrap().contains(&jti));
    // The other descriptor is unaffected (and was answered from the token cache).
    assert_eq!(app.connect(&second).await.status, 200);
    assert_eq!(app.verifier.stats().feed_polls, 2);
    assert_eq!(app.verifier.revocation_count(), 1);

    // Revoke the server: every descriptor issued for it up to now is cut off at the next poll.
    s.authority().revoke(&RevokeTarget::Server("io.github.acme/weather".parse().unwrap()), None).await.unwrap();
    s.clock.advance(30);
    let b = app.connect(&second).await;
    assert_eq!((b.status, b.error()), (401, "descriptor_revoked"));
    assert!(b.body["error_description"].as_str().unwrap().contains("io.github.acme/weather"));
    assert_eq!(app.verifier.revocation_count(), 2);
    s.stop().await;
}

#[tokio::test]
async fn the_feed_is_asked_only_for_what_is_new_and_survives_an_outage() {
    let s = TestServer::start().await;
    seed(&s).await;
    let app = app(config(&s), &s.clock, HeaderMode::Either).await;
    let token = issue(&s).await;
    let jti = mcpca::descriptor::parse(&token).map(|p| serde_json::from_slice::<serde_json::Value>(&p.payload).unwrap()).unwrap()["jti"]
        .as_str()
        .unwrap()
        .to_owned();
    s.authority().revoke(&RevokeTarget::Jti(jti), None).await.unwrap();
    assert_eq!(app.connect(&token).await.error(), "descriptor_revoked");

    // A second poll with `since` returns no entries; the known one stays in force.
    s.clock.advance(30);
    assert_eq!(app.connect(&token).await.error(), "descriptor_revoked");
    assert_eq!(app.verifier.revocation_count(), 1);

    // The authority goes away: polls fail, the entry stays, other descriptors still pass.
    let fresh = issue(&s).await;
    let clock = s.clock.clone();
    s.stop().await;
    clock.advance(30);
    assert_eq!(app.connect(&fresh).await.status, 200);
    assert_eq!(app.connect(&token).await.error(), "descriptor_revoked");
    let stats = app.verifier.stats();
    assert_eq!((stats.feed_polls, stats.feed_failures), (3, 1));
    assert_eq!(app.verifier.revocation_count(), 1);
}

#[tokio::test]
async fn a_descriptor_for_another_server_is_the_wrong_audience() {
    let s = TestServer::start().await;
    seed(&s).await;
    let config = VerifierConfig::new("https://ca.example.com", "https://other.acme.dev/mcp")
        .jwks_url(Url::parse(&s.at("/.well-known/jwks.json")).unwrap());
    let other = app(config, &s.clock, HeaderMode::Either).await;
    assert_eq!(other.connect(&issue(&s).await).await.error(), "descriptor_wrong_audience");

    // The server id is checked too when configured.
    let config = VerifierConfig::new("https://ca.example.com", WEATHER)
        .jwks_url(Url::parse(&s.at("/.well-known/jwks.json")).unwrap())
        .server_id("io.github.acme/other");
    let named = app(config, &s.clock, HeaderMode::Either).await;
    assert_eq!(named.connect(&issue(&s).await).await.error(), "descriptor_wrong_audience");
    s.stop().await;
}
