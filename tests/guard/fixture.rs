//! Test fixtures: a JWKS server whose keys, `Cache-Control` and availability the test controls
//! (and which counts its fetches), descriptors signed with keys from `mcpca::keys`, and a
//! guarded axum app whose handler answers with the verified claims.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use mcpca::clock::ManualClock;
use mcpca::descriptor::{Claims, ClientClaims, DescriptorSigner, McpClaims, ServerClaims, Verified};
use mcpca::guard::{GuardLayer, HeaderMode};
use mcpca::keys::{Jwk, Jwks, KeyPair};
use mcpca::verify::{Verifier, VerifierConfig};
use serde_json::json;

pub const NOW: i64 = 1_800_000_000;
pub const ISS: &str = "https://ca.example.com";
pub const AUD: &str = "https://weather.acme.dev/mcp";

pub fn key(n: u8) -> KeyPair {
    KeyPair::from_seed(&[n; 32])
}

pub fn jwk(k: &KeyPair) -> Jwk {
    Jwk::ed25519(&k.public())
}

pub fn claims(iat: i64, ttl: i64) -> Claims {
    Claims {
        iss: ISS.into(),
        sub: "bot".into(),
        client_id: Some("bot".into()),
        aud: AUD.into(),
        iat,
        nbf: Some(iat),
        exp: iat + ttl,
        jti: format!("jti-{iat}-{ttl}"),
        scope: None,
        mcp: Some(McpClaims {
            transport: "streamable_http".into(),
            endpoint: AUD.into(),
            server: ServerClaims { id: "io.github.acme/weather".into(), version: "1.0.0".into(), verified: true },
        }),
        client: Some(ClientClaims { id: "bot".into(), tenant: None }),
    }
}

pub fn sign(k: &KeyPair, c: &Claims) -> String {
    DescriptorSigner::new(KeyPair::from_seed(&k.signing_key().to_bytes())).sign(c)
}

/// What the JWKS server answers.
#[derive(Debug, Default)]
pub struct JwksControl {
    pub keys: Mutex<Vec<Jwk>>,
    pub cache_control: Mutex<Option<String>>,
    pub fetches: AtomicUsize,
}

/// A JWKS endpoint on `127.0.0.1:0`; dropping `stop` (or calling [`JwksServer::stop`]) shuts
/// it down for real, so the port refuses connections.
pub struct JwksServer {
    pub url: String,
    pub control: Arc<JwksControl>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl JwksServer {
    pub async fn start(keys: &[&KeyPair], cache_control: Option<&str>) -> Self {
        let control = Arc::new(JwksControl::default());
        *control.keys.lock().unwrap() = keys.iter().map(|k| jwk(k)).collect();
        *control.cache_control.lock().unwrap() = cache_control.map(str::to_owned);
        let c = Arc::clone(&control);
        let app = Router::new().route(
            "/.well-known/jwks.json",
            get(move || {
                let c = Arc::clone(&c);
                async move {
                    c.fetches.fetch_add(1, Ordering::SeqCst);
                    let body = serde_json::to_string(&Jwks { keys: c.keys.lock().unwrap().clone() }).unwrap();
                    let mut resp = (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], body).into_response();
                    if let Some(cc) = c.cache_control.lock().unwrap().clone() {
                        resp.headers_mut().insert(header::CACHE_CONTROL, cc.parse().unwrap());
                    }
                    resp
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/.well-known/jwks.json", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        });
        JwksServer { url, control, stop: Some(tx), task: Some(task) }
    }

    pub fn fetches(&self) -> usize {
        self.control.fetches.load(Ordering::SeqCst)
    }

    pub fn publish(&self, k: &KeyPair) {
        self.control.keys.lock().unwrap().push(jwk(k));
    }

    /// Shut down and wait until the port is closed.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// A guarded app on `127.0.0.1:0`: `POST /mcp` answers the verified claims as JSON.
pub struct App {
    pub base: String,
    pub verifier: Arc<Verifier>,
    pub http: reqwest::Client,
    _stop: tokio::sync::oneshot::Sender<()>,
}

pub async fn app(config: VerifierConfig, clock: &ManualClock, mode: HeaderMode) -> App {
    let verifier = Arc::new(Verifier::new(config, Arc::new(clock.clone())).unwrap());
    let handler = |Extension(v): Extension<Verified>| async move {
        Json(json!({"kid": v.kid, "sub": v.claims.sub, "jti": v.claims.jti, "aud": v.claims.aud}))
    };
    let router = Router::new().route("/mcp", post(handler)).layer(GuardLayer::new(Arc::clone(&verifier)).header(mode));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await;
    });
    App { base, verifier, http: reqwest::Client::new(), _stop: tx }
}

/// One answer of the guarded app.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub challenge: Option<String>,
    pub body: serde_json::Value,
}

impl Answer {
    /// The `error` member of a refusal.
    pub fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or("")
    }
}

impl App {
    pub async fn call(&self, headers: &[(&str, &str)]) -> Answer {
        let mut req = self.http.post(format!("{}/mcp", self.base)).body("{}");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let challenge = resp.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned());
        let text = resp.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
        Answer { status, challenge, body }
    }

    pub async fn connect(&self, token: &str) -> Answer {
        self.call(&[("MCP-Connect", token)]).await
    }
}
