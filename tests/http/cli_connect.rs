//! `mcpca connect` (the client side of `POST /v1/connect`) against the in-process `mcpca serve`:
//! every output form, the credential sources, each kind of denial, and the secret never echoed.

use std::path::Path;
use std::process::Output;

use mcpca::authority::Authority;
use mcpca::descriptor::{Expectations, KeySet};
use mcpca::model::ClientPolicy;
use serde_json::Value;

use crate::util::{seed, TestServer, T0};

const WEATHER: &str = "io.github.acme/weather";

/// The CLI with a clean environment plus `env`, off the async runtime.
async fn cli(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_mcpca"));
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("MCPCA_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("MCPCA_HOME", home).env("MCPCA_NOW", T0.to_string()).env("HOME", home).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap()
}

fn text(o: &Output) -> String {
    format!("exit {:?}\nstdout:\n{}\nstderr:\n{}", o.status.code(), String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn stdout(o: &Output) -> String {
    assert_eq!(o.status.code(), Some(0), "{}", text(o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

async fn keys(s: &TestServer) -> KeySet {
    let jwks: mcpca::keys::Jwks = s.http.get(s.at("/.well-known/jwks.json")).send().await.unwrap().json().await.unwrap();
    KeySet::from_jwks(&jwks).unwrap()
}

#[tokio::test]
async fn connect_prints_the_descriptor_its_envelope_or_an_mcp_json_entry() {
    let s = TestServer::start().await;
    let secret = seed(&s).await;
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let env = [("MCPCA_REGISTRY", s.url.as_str()), ("MCPCA_CLIENT_SECRET", secret.as_str())];
    let exp = Expectations::new("https://ca.example.com", "https://weather.acme.dev/mcp").unwrap();

    // Default: the JWT alone, issued to the client of the secret.
    let jwt = stdout(&cli(home, &["connect", WEATHER], &env).await);
    let v = mcpca::descriptor::verify(jwt.trim(), &exp, T0, &keys(&s).await).unwrap();
    assert_eq!(v.claims.sub, "bot");
    assert_eq!(v.claims.exp - v.claims.iat, 120);

    // -o json: the envelope, with the TTL asked for.
    let out = stdout(&cli(home, &["connect", WEATHER, "--ttl", "5m", "-o", "json"], &env).await);
    let envelope: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(envelope["expires_in"], 300);
    assert_eq!(envelope["header"], "MCP-Connect");
    assert_eq!(envelope["server"]["id"], WEATHER);
    // -o yaml: the same shape.
    let out = stdout(&cli(home, &["connect", WEATHER, "-o", "yaml"], &env).await);
    let envelope: Value = serde_norway::from_str(&out).unwrap();
    assert_eq!(envelope["endpoint"], "https://weather.acme.dev/mcp");

    // --format mcp-json: a ready entry, with MCP-Connect or the Authorization header.
    let out = stdout(&cli(home, &["connect", WEATHER, "--format", "mcp-json"], &env).await);
    let entry: Value = serde_json::from_str(&out).unwrap();
    let server = &entry["mcpServers"]["weather"];
    assert_eq!(server["type"], "http");
    assert_eq!(server["url"], "https://weather.acme.dev/mcp");
    let jwt = server["headers"]["MCP-Connect"].as_str().unwrap();
    mcpca::descriptor::verify(jwt, &exp, T0, &keys(&s).await).unwrap();
    let out = stdout(&cli(home, &["connect", WEATHER, "--format", "mcp-json", "--bearer"], &env).await);
    let entry: Value = serde_json::from_str(&out).unwrap();
    let auth = entry["mcpServers"]["weather"]["headers"]["Authorization"].as_str().unwrap();
    assert!(auth.starts_with("Bearer eyJ"), "{auth}");

    // The secret from a file, the client id checked, the URL from --registry.
    let file = home.join("bot.secret");
    std::fs::write(&file, format!("{secret}\n")).unwrap();
    let f = file.to_str().unwrap();
    let args = ["connect", WEATHER, "--registry", s.url.as_str(), "--client-secret-file", f, "--client-id", "bot"];
    stdout(&cli(home, &args, &[]).await);
    let args = ["connect", WEATHER, "--registry", s.url.as_str(), "--client-secret-file", f, "--client-id", "someone-else"];
    let out = cli(home, &args, &[]).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("policy_blocked"), "{}", text(&out));

    // Every issuance is the client's own, in the authority's audit log.
    s.authority().close_hot_path().await;
    let events = s.authority().audit_list(&mcpca::store::AuditFilter { client: Some("bot".into()), ..Default::default() }).await.unwrap();
    assert_eq!(events.iter().filter(|e| e.action == "issue" && e.decision == Some(mcpca::audit::Decision::Allow)).count(), 6);
}

#[tokio::test]
async fn denials_exit_1_with_the_code_and_never_echo_the_secret() {
    let s = TestServer::start().await;
    let secret = seed(&s).await;
    let a = s.authority();
    let narrow = ClientPolicy { tenant: None, allow: vec!["io.github.other/*".into()], max_ttl: None, rate_per_min: None };
    let narrow_secret = a.client_add("narrow", narrow).await.unwrap().secret;
    let once = ClientPolicy { tenant: None, allow: vec!["*".into()], max_ttl: None, rate_per_min: Some(1) };
    let once_secret = a.client_add("once", once).await.unwrap().secret;
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let wrong = format!("mcpca_cs_{}", "B".repeat(43));
    let run = |server: &'static str, secret: String| {
        let url = s.url.clone();
        async move {
            let out = cli(home, &["connect", server, "--registry", &url], &[("MCPCA_CLIENT_SECRET", secret.as_str())]).await;
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(!stderr.contains(&secret) && !String::from_utf8_lossy(&out.stdout).contains(&secret), "secret echoed: {}", text(&out));
            (out.status.code(), stderr)
        }
    };

    let (code, stderr) = run(WEATHER, wrong).await;
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("did not accept the client credentials") && stderr.contains("hint:"), "{stderr}");

    let (code, stderr) = run(WEATHER, narrow_secret).await;
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("connect denied: policy_blocked") && stderr.contains("hint:"), "{stderr}");

    let (code, stderr) = run("io.github.acme/nope", secret.clone()).await;
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("connect denied: server_not_found"), "{stderr}");

    assert_eq!(run(WEATHER, once_secret.clone()).await.0, Some(0));
    let (code, stderr) = run(WEATHER, once_secret).await;
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("rate_limited") && stderr.contains("hint: retry after 60s"), "{stderr}");

    a.server_set_status(&WEATHER.parse().unwrap(), mcpca::model::Status::Revoked, None).await.unwrap();
    let (code, stderr) = run(WEATHER, secret.clone()).await;
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("server_revoked"), "{stderr}");

    // Bad input is a usage error (2), and still without the secret.
    let out = cli(home, &["connect", WEATHER, "--registry", &s.url, "--ttl", "forever"], &[("MCPCA_CLIENT_SECRET", &secret)]).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(!text(&out).contains(&secret));
}

#[tokio::test]
async fn missing_credentials_or_authority_are_explained_and_exit_2() {
    let s = TestServer::start().await;
    let secret = seed(&s).await;
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();

    let out = cli(home, &["connect", WEATHER, "--registry", &s.url], &[]).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no client credentials") && stderr.contains("MCPCA_CLIENT_SECRET"), "{stderr}");

    let missing = home.join("absent.secret");
    let out = cli(home, &["connect", WEATHER, "--registry", &s.url, "--client-secret-file", missing.to_str().unwrap()], &[]).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read the client secret file"), "{}", text(&out));

    // The secret is never a flag.
    let out = cli(home, &["connect", WEATHER, "--registry", &s.url, "--client-secret", &secret], &[]).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(!String::from_utf8_lossy(&out.stderr).contains(&secret), "{}", text(&out));

    let out = cli(home, &["connect", WEATHER], &[("MCPCA_CLIENT_SECRET", &secret)]).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no authority to connect through"), "{}", text(&out));

    let out = cli(home, &["connect", WEATHER, "--registry", "http://127.0.0.1:9"], &[("MCPCA_CLIENT_SECRET", &secret)]).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot reach the authority at http://127.0.0.1:9") && !stderr.contains(&secret), "{stderr}");
}
