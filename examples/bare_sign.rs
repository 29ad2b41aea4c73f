//! The baseline of `scripts/bench-serve` and `scripts/bench`: a bare axum service whose one
//! handler signs a JWT with Ed25519 — the floor under `POST /v1/connect` and `POST /oauth/token`,
//! with no authentication, policy, store or audit. It signs what a descriptor is: the same
//! header (its `kid` the key's RFC 7638 thumbprint, as mcpca's) and the same claims, the
//! per-request ones fresh (`iat`/`nbf`/`exp`/`jti`), so the token is the size of mcpca's and the
//! comparison measures what mcpca adds, not a shorter message to hash (until the seventh pass
//! of BENCHMARKS.md its `kid` was `bench` and it had no `client` claim: ~70 bytes less). `GET /.well-known/jwks.json` answers
//! the key's JWKS from a string built once: the floor under mcpca's JWKS route. It signs with
//! the Ed25519 of AWS-LC (`aws-lc-rs`), as mcpca's `KeyPair` does, and runs on the same
//! allocator and runtime: it differs from mcpca only in what it leaves out. (Until the sixth
//! pass of BENCHMARKS.md both signed with ed25519-dalek, at twice the CPU a signature.)
//!
//! Run: `cargo run --release --example bare_sign -- 127.0.0.1:0` (prints the bound URL).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _};
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Serialize;
use serde_json::{json, Value};

// The same allocator as the `mcpca` binary, so the baseline differs only in what it leaves out.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Key {
    key: Ed25519KeyPair,
    header_b64: String,
    mcp: Value,
    client: Value,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    client_id: &'a str,
    aud: &'a str,
    iat: u64,
    nbf: u64,
    exp: u64,
    jti: &'a str,
    mcp: &'a Value,
    client: &'a Value,
}

#[derive(Serialize)]
struct Answer {
    descriptor: String,
    jti: String,
}

async fn sign(State(k): State<Arc<Key>>, _body: axum::body::Bytes) -> Json<Answer> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
    let jti = uuid::Uuid::now_v7().to_string();
    let claims = Claims {
        iss: "http://127.0.0.1:8421",
        sub: "bench",
        client_id: "bench",
        aud: "https://bench.example.com/mcp",
        iat: now,
        nbf: now,
        exp: now + 120,
        jti: &jti,
        mcp: &k.mcp,
        client: &k.client,
    };
    let mut jwt = k.header_b64.clone();
    jwt.push('.');
    URL_SAFE_NO_PAD.encode_string(serde_json::to_vec(&claims).unwrap(), &mut jwt);
    let sig = k.key.sign(jwt.as_bytes());
    jwt.push('.');
    URL_SAFE_NO_PAD.encode_string(sig.as_ref(), &mut jwt);
    Json(Answer { descriptor: jwt, jti })
}

fn main() {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:0".into());
    let key = Ed25519KeyPair::generate().unwrap();
    let public: [u8; 32] = key.public_key().as_ref().try_into().unwrap();
    let kid = mcpca::keys::thumbprint(&public);
    let header_b64 = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"EdDSA","typ":"at+jwt","kid":"{kid}"}}"#));
    let client = json!({"id": "bench"});
    let mcp = json!({"transport": "streamable_http", "endpoint": "https://bench.example.com/mcp",
                     "server": {"id": "io.github.bench/server", "version": "1.0.0", "verified": true}});
    let jwks: &'static str = Box::leak(
        json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": kid,
                         "x": URL_SAFE_NO_PAD.encode(key.public_key().as_ref())}]})
        .to_string()
        .into_boxed_str(),
    );
    let app = Router::new()
        .route("/v1/connect", post(sign))
        .route("/.well-known/jwks.json", get(move || async move { ([("content-type", "application/json")], jwks) }))
        .with_state(Arc::new(Key { key, header_b64, mcp, client }));
    // The same runtime `mcpca serve` runs on.
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(&addr).await.unwrap();
        println!("http://{}", listener.local_addr().unwrap());
        axum::serve(listener, app).await.unwrap();
    });
}
