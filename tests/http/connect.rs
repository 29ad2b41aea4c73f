//! `POST /v1/connect`, the JWKS and the revocation feed over HTTP.

use mcpca::authority::Authority;
use serde_json::{json, Value};

use crate::util::{seed, TestServer};

#[tokio::test]
async fn connect_issues_a_descriptor_that_verifies_against_the_served_jwks() {
    let s = TestServer::start().await;
    let secret = seed(&s).await;
    let resp = s
        .http
        .post(s.at("/v1/connect"))
        .bearer_auth(&secret)
        .json(&json!({"server_ref": "io.github.acme/weather", "ttl": "5m"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let env: Value = resp.json().await.unwrap();
    assert_eq!(env["header"], "MCP-Connect");
    assert_eq!(env["expires_in"], 300);
    assert_eq!(env["server"]["id"], "io.github.acme/weather");
    let jwks: mcpca::keys::Jwks = s.http.get(s.at("/.well-known/jwks.json")).send().await.unwrap().json().await.unwrap();
    let keys = mcpca::descriptor::KeySet::from_jwks(&jwks).unwrap();
    let exp = mcpca::descriptor::Expectations::new("https://ca.example.com", "https://weather.acme.dev/mcp").unwrap();
    let v = mcpca::descriptor::verify(env["descriptor"].as_str().unwrap(), &exp, s.clock_now(), &keys).unwrap();
    assert_eq!(v.claims.sub, "bot");
    assert_eq!(v.claims.client.as_ref().unwrap().tenant.as_deref(), Some("acme"));
    s.stop().await;
}

#[tokio::test]
async fn connect_answers_errors_as_problem_json_with_the_deny_code() {
    let s = TestServer::start().await;
    let secret = seed(&s).await;
    let post = |auth: Option<&str>, body: Value| {
        let mut r = s.http.post(s.at("/v1/connect")).json(&body);
        if let Some(a) = auth {
            r = r.bearer_auth(a);
        }
        r.send()
    };
    let r = post(None, json!({"server_ref": "io.github.acme/weather"})).await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let r = post(Some("mcpca_cs_wrong"), json!({"server_ref": "io.github.acme/weather"})).await.unwrap();
    assert_eq!(r.status(), 401);
    let r = post(Some(&s.admin), json!({"server_ref": "io.github.acme/weather"})).await.unwrap();
    assert_eq!(r.status(), 401, "an admin token is not a client secret");
    let r = post(Some(&secret), json!({"server_ref": "nope/none"})).await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "server_not_found");
    let r = post(Some(&secret), json!({"server_ref": "io.github.acme/weather", "extra": 1})).await.unwrap();
    assert_eq!(r.status(), 400);
    s.authority().server_set_status(&"io.github.acme/weather".parse().unwrap(), mcpca::model::Status::Suspended, None).await.unwrap();
    let r = post(Some(&secret), json!({"server_ref": "io.github.acme/weather"})).await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "policy_blocked");
    s.stop().await;
}

trait Now {
    fn clock_now(&self) -> i64;
}

impl Now for TestServer {
    fn clock_now(&self) -> i64 {
        use mcpca::clock::Clock;
        self.clock.now()
    }
}
