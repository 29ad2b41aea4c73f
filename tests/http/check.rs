//! `mcpca check` against MCP servers built here on 127.0.0.1:0: a strict one that applies the
//! whole verifier contract (DESIGN §3, feed included) through `mcpca::descriptor`, and a lax
//! one that ignores `exp`, `aud` and the server id and accepts `alg: none`. The authority is
//! the in-process `mcpca serve` of `util`, reached locally (its home) and remotely (admin API).

use std::process::Output;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use ed25519_dalek::Signature;
use mcpca::authority::{Authority, ServerInput};
use mcpca::descriptor::{self, Expectations, KeySet};
use mcpca::feed::Feed;
use mcpca::keys::Jwks;
use mcpca::store::AuditFilter;
use serde_json::{json, Value};

use crate::util::{TestServer, T0};

const NAME: &str = "io.github.acme/probed";

/// How the test server reads and judges descriptors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// DESIGN §3 in full, revocation feed included.
    Strict,
    /// Ignores `exp`, `aud` and `mcp.server.id`, accepts `alg: none`, follows no feed.
    Lax,
}

struct Mcp {
    mode: Mode,
    /// Read `Authorization: Bearer` instead of `MCP-Connect`.
    bearer: bool,
    authority: String,
    issuer: String,
    audience: String,
    keys: Mutex<KeySet>,
    http: reqwest::Client,
    /// Every `initialize` that got through.
    accepted: Mutex<u32>,
}

fn deny(code: &str) -> Response {
    (StatusCode::UNAUTHORIZED, [("www-authenticate", "Bearer")], Json(json!({"error": code}))).into_response()
}

impl Mcp {
    async fn refresh_keys(&self) {
        let jwks: Jwks = self.http.get(format!("{}/.well-known/jwks.json", self.authority)).send().await.unwrap().json().await.unwrap();
        *self.keys.lock().unwrap() = KeySet::from_jwks(&jwks).unwrap();
    }

    fn token(&self, headers: &HeaderMap) -> Option<String> {
        if self.bearer {
            let v = headers.get("authorization")?.to_str().ok()?;
            v.strip_prefix("Bearer ").map(str::to_owned)
        } else {
            headers.get("mcp-connect")?.to_str().ok().map(str::to_owned)
        }
    }

    async fn strict(&self, token: &str) -> Result<(), String> {
        let mut exp = Expectations::new(&self.issuer, &self.audience).unwrap();
        exp.server_id = Some(NAME.into());
        // An unknown kid: one re-fetch of the JWKS (the contract's limit is once per 30 s).
        let kid = descriptor::parse(token).ok().and_then(|p| p.header.kid);
        if kid.is_some_and(|k| self.keys.lock().unwrap().get(&k).is_none()) {
            self.refresh_keys().await;
        }
        let keys = self.keys.lock().unwrap().clone();
        let v = descriptor::verify(token, &exp, T0, &keys).map_err(|e| e.code.as_str().to_owned())?;
        let jws = self.http.get(format!("{}/v1/revocations", self.authority)).send().await.unwrap().text().await.unwrap();
        let feed = Feed::from_jws(&jws, &keys, Some(&self.issuer)).unwrap();
        feed.check(&v.kid, &v.claims).map_err(|e| e.code.as_str().to_owned())
    }

    fn lax(&self, token: &str) -> Result<(), String> {
        let p = descriptor::parse(token).map_err(|e| e.code.as_str().to_owned());
        let claims: descriptor::Claims = match &p {
            Ok(p) => serde_json::from_slice(&p.payload).map_err(|_| "descriptor_invalid".to_owned())?,
            // Its own sloppy parser: an `alg: none` token with an empty signature is fine.
            Err(_) => {
                let payload = token.split('.').nth(1).ok_or("descriptor_invalid")?;
                let header = token.split('.').next().unwrap_or("");
                use base64::Engine as _;
                let d = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).map_err(|_| "descriptor_invalid".to_owned());
                let h: Value = serde_json::from_slice(&d(header)?).map_err(|_| "descriptor_invalid".to_owned())?;
                if h["alg"] != "none" {
                    return Err("descriptor_invalid".into());
                }
                return serde_json::from_slice::<descriptor::Claims>(&d(payload)?).map(|_| ()).map_err(|_| "descriptor_invalid".into());
            }
        };
        let p = p?;
        let keys = self.keys.lock().unwrap().clone();
        let key = p.header.kid.as_deref().and_then(|k| keys.get(k)).ok_or("descriptor_invalid")?;
        key.verify_strict(p.signing_input.as_bytes(), &Signature::from_bytes(&p.signature)).map_err(|_| "descriptor_invalid")?;
        if claims.iss != self.issuer || claims.nbf.unwrap_or(claims.iat) > T0 + 15 {
            return Err("descriptor_invalid".into());
        }
        Ok(())
    }
}

async fn initialize(State(m): State<Arc<Mcp>>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    assert_eq!(body["method"], "initialize");
    assert_eq!(body["jsonrpc"], "2.0");
    assert!(headers["accept"].to_str().unwrap().contains("text/event-stream"));
    assert_eq!(headers["content-type"], "application/json");
    let Some(token) = m.token(&headers) else { return deny("descriptor_missing") };
    let verdict = match m.mode {
        Mode::Strict => m.strict(&token).await,
        Mode::Lax => m.lax(&token),
    };
    match verdict {
        Ok(()) => {
            *m.accepted.lock().unwrap() += 1;
            Json(json!({"jsonrpc": "2.0", "id": body["id"], "result": {"protocolVersion": "2025-06-18", "capabilities": {}, "serverInfo": {"name": "probed", "version": "1.0.0"}}}))
                .into_response()
        }
        Err(code) => deny(&code),
    }
}

/// An MCP server on 127.0.0.1:0, registered with the authority as `NAME` at its own URL.
async fn mcp_server(s: &TestServer, mode: Mode, bearer: bool) -> (String, Arc<Mcp>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let doc =
        mcpca::registry::document_from_flags(&mcpca::registry::ServerFlags { name: NAME.into(), url: url.clone(), ..Default::default() });
    s.authority().server_add(ServerInput { document: doc, verified: Some(true), max_ttl: None }).await.unwrap();
    let m = Arc::new(Mcp {
        mode,
        bearer,
        authority: s.url.clone(),
        issuer: "https://ca.example.com".into(),
        audience: url.clone(),
        keys: Mutex::new(KeySet::default()),
        http: reqwest::Client::new(),
        accepted: Mutex::new(0),
    });
    m.refresh_keys().await;
    let app = axum::Router::new().route("/mcp", axum::routing::post(initialize)).with_state(Arc::clone(&m));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, m)
}

/// The CLI, run off the async runtime so the in-process servers keep answering.
async fn cli(home: &std::path::Path, args: &[&str]) -> Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_mcpca"));
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("MCPCA_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("MCPCA_HOME", home).env("MCPCA_NOW", T0.to_string()).env("HOME", home).args(args);
    tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap()
}

fn text(o: &Output) -> String {
    format!("exit {:?}\nstdout:\n{}\nstderr:\n{}", o.status.code(), String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// `(case, verdict, got)` of each row of `check -o json`.
fn rows(o: &Output) -> Vec<(String, String, String)> {
    let report: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(o)));
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["case"].as_str().unwrap().to_owned(), r["verdict"].as_str().unwrap().to_owned(), r["got"].as_str().unwrap().to_owned()))
        .collect()
}

async fn probe_events(s: &TestServer) -> Vec<mcpca::audit::AuditEvent> {
    // The group commit of the in-process service has to land first.
    s.authority().close_hot_path().await;
    let all = s.authority().audit_list(&AuditFilter::default()).await.unwrap();
    all.into_iter().filter(|e| e.action == "issue.probe").collect()
}

#[tokio::test]
async fn a_strict_server_passes_every_case_in_local_mode() {
    let s = TestServer::start().await;
    let (url, m) = mcp_server(&s, Mode::Strict, false).await;
    let home = s.home_path();
    let out = cli(&home, &["check", &url, "--server", NAME, "--expect-revocation", "-o", "json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let got = rows(&out);
    let want = [
        ("missing", "401 descriptor_missing"),
        ("valid", "200"),
        ("expired", "401 descriptor_expired"),
        ("not_yet_valid", "401 descriptor_invalid"),
        ("wrong_audience", "401 descriptor_wrong_audience"),
        ("wrong_server_id", "401 descriptor_wrong_audience"),
        ("bad_signature", "401 descriptor_invalid"),
        ("unknown_kid", "401 descriptor_invalid"),
        ("alg_none", "401 descriptor_invalid"),
        ("revoked", "401 descriptor_revoked"),
    ];
    assert_eq!(got.len(), want.len());
    for ((case, verdict, answer), (want_case, want_answer)) in got.iter().zip(want) {
        assert_eq!((case.as_str(), verdict.as_str(), answer.as_str()), (want_case, "pass", want_answer));
    }
    assert_eq!(*m.accepted.lock().unwrap(), 1, "only the valid descriptor got through");
    // The table: every case with its verdict, and the summary.
    let table = cli(&home, &["check", &url, "--server", NAME]).await;
    assert_eq!(table.status.code(), Some(0), "{}", text(&table));
    let stdout = String::from_utf8_lossy(&table.stdout);
    assert!(stdout.contains("CASE") && stdout.contains("wrong_server_id") && stdout.contains("9 passed, 0 failed, 1 skipped"), "{stdout}");
    assert!(stdout.lines().any(|l| l.contains("revoked") && l.contains("skipped") && l.contains("--expect-revocation")), "{stdout}");
    // Audited: the probe sets, issued to mcpca-check by the operator, and the revoked jti.
    let events = probe_events(&s).await;
    assert_eq!(events.len(), 2, "{events:?}");
    let first = &events[0];
    assert_eq!(first.actor, "operator");
    assert_eq!(first.target, format!("{NAME}@1.0.0"));
    assert_eq!(first.details["sub"], "mcpca-check");
    let revoked_jti = first.details["jti"]["revoked"].as_str().unwrap();
    let revocations = s.authority().revocations(0).await.unwrap();
    assert!(revocations.iter().any(|r| r.id == revoked_jti), "{revocations:?}");
    assert!(events[1].details["jti"].get("revoked").is_none(), "no revocation without --expect-revocation");
}

#[tokio::test]
async fn a_lax_server_fails_exactly_the_cases_it_lets_through() {
    let s = TestServer::start().await;
    let (url, m) = mcp_server(&s, Mode::Lax, false).await;
    let out = cli(&s.home_path(), &["check", &url, "--server", NAME, "-o", "json"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let failed: Vec<String> = rows(&out).into_iter().filter(|(_, v, _)| v == "fail").map(|(c, _, _)| c).collect();
    assert_eq!(failed, ["expired", "wrong_audience", "wrong_server_id", "alg_none"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((report["passed"].as_u64(), report["failed"].as_u64(), report["skipped"].as_u64()), (Some(5), Some(4), Some(1)));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("4 of 9 cases differ") && stderr.contains("expired, wrong_audience, wrong_server_id, alg_none"), "{stderr}");
    assert_eq!(*m.accepted.lock().unwrap(), 5, "valid and the four broken ones got through");
    // A case can be left out.
    let out = cli(&s.home_path(), &["check", &url, "--server", NAME, "--skip", "expired", "--skip", "alg_none", "-o", "yaml"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report: Value = serde_norway::from_slice(&out.stdout).unwrap();
    assert_eq!(report["failed"], 2);
    assert_eq!(report["skipped"], 3);
}

#[tokio::test]
async fn remote_mode_asks_the_admin_api_for_the_probe_set() {
    let s = TestServer::start().await;
    let (url, _) = mcp_server(&s, Mode::Strict, true).await;
    let empty = tempfile::tempdir().unwrap();
    let base = ["--registry", s.url.as_str(), "--token", s.admin.as_str()];
    let mut args = vec!["check", &url, "--server", NAME, "--bearer", "--expect-revocation", "-o", "json"];
    args.extend(base);
    let out = cli(empty.path(), &args).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(rows(&out).iter().all(|(_, v, _)| v == "pass"), "{}", text(&out));
    // Without --bearer the strict server sees no descriptor at all: everything but `missing` differs.
    let mut args = vec!["check", &url, "--server", NAME, "-o", "json"];
    args.extend(base);
    let out = cli(empty.path(), &args).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(rows(&out).iter().all(|(c, _, got)| got == "401 descriptor_missing" || c == "revoked"), "{}", text(&out));
    // A reader token may not have probe descriptors signed.
    let out = cli(empty.path(), &["check", &url, "--server", NAME, "--registry", &s.url, "--token", &s.reader]).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("may not do this"), "{}", text(&out));
    // The audit log names the admin token.
    let events = probe_events(&s).await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events.iter().all(|e| e.actor.starts_with("token:at_") && e.details["sub"] == "mcpca-check"), "{events:?}");
}

#[tokio::test]
async fn operational_errors_exit_2_and_issue_nothing() {
    let s = TestServer::start().await;
    let (url, _) = mcp_server(&s, Mode::Strict, false).await;
    let home = s.home_path();
    // Nothing listens on port 9.
    let out = cli(&home, &["check", "http://127.0.0.1:9/mcp", "--server", NAME]).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot reach the MCP server at http://127.0.0.1:9/mcp"), "{stderr}");
    assert!(stderr.contains("hint:"), "{stderr}");
    // An unknown server: the authority will not sign, which is not the server's failure.
    let out = cli(&home, &["check", &url, "--server", "io.github.acme/nope"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("will not issue probe descriptors for io.github.acme/nope: server_not_found"));
    // Not a URL.
    let out = cli(&home, &["check", "weather", "--server", NAME]).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(probe_events(&s).await.iter().all(|e| e.decision == Some(mcpca::audit::Decision::Deny)));
}
