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

/// The CLI with no local authority at all (only a JWKS URL can provide keys), run off the
/// async runtime so the in-process server keeps answering.
async fn cli(home: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_mcpca"));
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("MCPCA_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("MCPCA_HOME", home).env("MCPCA_NOW", crate::util::T0.to_string()).args(args);
    tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap()
}

#[tokio::test]
async fn inspect_and_verify_take_the_served_jwks_url() {
    let s = TestServer::start().await;
    seed(&s).await;
    let req = mcpca::authority::IssueRequest {
        server: "io.github.acme/weather".parse().unwrap(),
        ttl: None,
        client: None,
        tenant: None,
        scope: None,
    };
    let token = s.authority().issue(&req).await.unwrap().descriptor;
    let jwks = s.at("/.well-known/jwks.json");
    let empty = tempfile::tempdir().unwrap();
    let h = empty.path();
    let inspect = cli(h, &["inspect", &token, "--jwks", &jwks, "-o", "json"]).await;
    assert!(inspect.status.success(), "{}", String::from_utf8_lossy(&inspect.stderr));
    let report: Value = serde_json::from_slice(&inspect.stdout).unwrap();
    assert_eq!(report["signature"]["status"], "valid");
    assert_eq!(report["signature"]["keys"], jwks.as_str());
    let verify_with = |url: String| {
        let token = token.clone();
        async move {
            cli(h, &["verify", &token, "--audience", "https://weather.acme.dev/mcp", "--issuer", "https://ca.example.com", "--jwks", &url])
                .await
        }
    };
    let ok = verify_with(jwks.clone()).await;
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    // An unreachable JWKS URL means "cannot check": exit 2.
    assert_eq!(verify_with("http://127.0.0.1:9/jwks.json".into()).await.status.code(), Some(2));
    s.stop().await;
}
