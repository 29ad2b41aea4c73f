//! Guard benchmarks (issue 6): what the guard adds to an MCP tool call.
//!
//! The app is the guarded MCP server example's router (`examples/guarded_mcp_server.rs`,
//! rmcp streamable HTTP, stateless, JSON responses), driven with tower's `oneshot` on one
//! current-thread tokio runtime: no sockets, so the guard's share is not hidden under
//! loopback TCP noise (a loopback round trip costs more than the whole call measured here).
//! Each call is timed on its own; sides run in alternating batches so a machine that gets
//! busier affects both alike; the figures are medians (p50) of all calls of a side.
//!
//! 1. `tools/call echo` with a cached descriptor vs the same call without the guard
//!    (the `MCP-Connect` header is sent to both). Target ≤ 1.05×.
//! 2. The same call with a first-seen descriptor (the verifier's cache holds one entry and a
//!    pool of 64 descriptors is cycled) minus the cached call, against one raw
//!    `verify_strict` in the same run. Target: no more than one signature check.
//!
//! `MCPCA_BENCH_SECS` sets the wall time per comparison (default 3 s). Figures are reported,
//! not asserted: the exit status is 0 whatever they are. `MCPCA_BENCH_JSON=FILE` also writes
//! them as JSON (`benches/support/report.rs`).
//!
//! Run: `cargo bench --bench guard`
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
#[path = "support/report.rs"]
mod report;

#[allow(dead_code, unused_imports)]
#[path = "../examples/guarded_mcp_server.rs"]
mod example;

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use axum::routing::get;
use axum::Router;
use ed25519_dalek::Signature;
use mcpca::clock::ManualClock;
use mcpca::descriptor::{Claims, ClientClaims, DescriptorSigner, McpClaims, ServerClaims};
use mcpca::guard::HeaderMode;
use mcpca::keys::{Jwk, Jwks, KeyPair};
use mcpca::verify::{Verifier, VerifierConfig};
use tower::ServiceExt as _;

const ISS: &str = "https://ca.example.com";
const AUD: &str = "http://127.0.0.1/mcp";
const BATCHES: usize = 20;
const CALL: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello"}}}"#;

fn case_time() -> Duration {
    let secs = std::env::var("MCPCA_BENCH_SECS").ok().and_then(|s| s.parse::<f64>().ok()).filter(|s| *s > 0.0 && *s < 600.0);
    Duration::from_secs_f64(secs.unwrap_or(3.0))
}

fn claims(now: i64, n: usize) -> Claims {
    Claims {
        iss: ISS.into(),
        sub: "bot".into(),
        client_id: Some("bot".into()),
        aud: AUD.into(),
        iat: now,
        nbf: Some(now),
        exp: now + 120,
        jti: format!("01900000-0000-7000-8000-{n:012}"),
        scope: None,
        mcp: Some(McpClaims {
            transport: "streamable_http".into(),
            endpoint: AUD.into(),
            server: ServerClaims { id: "io.github.acme/echo".into(), version: "1.0.0".into(), verified: true },
        }),
        client: Some(ClientClaims { id: "bot".into(), tenant: None }),
    }
}

fn request(token: &str) -> Request<Body> {
    Request::post("/mcp")
        .header("host", "127.0.0.1")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-connect", token)
        .body(Body::from(CALL))
        .unwrap()
}

/// One tool call through `router`; checks it succeeded.
async fn call(router: &Router, token: &str) -> usize {
    let resp = router.clone().oneshot(request(token)).await.unwrap();
    assert!(resp.status().is_success(), "tool call answered {}", resp.status());
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
    body.len()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Per-call times (ns) of two sides run in alternating batches within `total`.
fn compare(mut a: impl FnMut(), mut b: impl FnMut(), total: Duration) -> (Vec<f64>, Vec<f64>) {
    // Warm up and calibrate: how many calls fill one batch.
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < total / 10 && n < 1_000_000 {
        a();
        b();
        n += 1;
    }
    let per_pair = start.elapsed().as_nanos() as f64 / n.max(1) as f64;
    let per_batch = ((total.as_nanos() as f64 * 0.9 / BATCHES as f64 / per_pair) as usize).clamp(5, 1_000_000);
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    let timed = |f: &mut dyn FnMut(), out: &mut Vec<f64>| {
        for _ in 0..per_batch {
            let t = Instant::now();
            f();
            out.push(t.elapsed().as_nanos() as f64);
        }
    };
    for i in 0..BATCHES {
        if i % 2 == 0 {
            timed(&mut a, &mut xs);
            timed(&mut b, &mut ys);
        } else {
            timed(&mut b, &mut ys);
            timed(&mut a, &mut xs);
        }
    }
    (xs, ys)
}

fn us(ns: f64) -> String {
    format!("{:.1} µs", ns / 1000.0)
}

fn main() {
    let total = case_time();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(1_800_000_000);
    let key = KeyPair::from_seed(&[7u8; 32]);
    let signer = DescriptorSigner::new(KeyPair::from_seed(&[7u8; 32]));

    // A JWKS endpoint on loopback, fetched once (max-age) by each verifier.
    let jwks_body = serde_json::to_string(&Jwks { keys: vec![Jwk::ed25519(&key.public())] }).unwrap();
    let jwks_url = rt.block_on(async move {
        let app = Router::new().route(
            "/.well-known/jwks.json",
            get(move || {
                let body = jwks_body.clone();
                async move { ([("content-type", "application/json"), ("cache-control", "max-age=86400")], body) }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/.well-known/jwks.json", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    });
    let clock = ManualClock::new(now);
    let verifier = |capacity: usize| {
        let mut config = VerifierConfig::new(ISS, AUD).jwks_url(jwks_url.parse().unwrap());
        config.cache_capacity = capacity;
        Arc::new(Verifier::new(config, Arc::new(clock.clone())).unwrap())
    };
    let hosts = || vec!["127.0.0.1".to_owned()];
    let stop = tokio_util::sync::CancellationToken::new();
    let bare = example::mcp_router(hosts(), stop.clone());
    let guarded = example::guarded_router(verifier(65_536), HeaderMode::Either, hosts(), stop.clone());
    let first_seen = example::guarded_router(verifier(1), HeaderMode::Either, hosts(), stop.clone());

    let token = signer.sign(&claims(now, 0));
    let pool: Vec<String> = (1..=64).map(|n| signer.sign(&claims(now, n))).collect();
    // Correctness first: every path answers the tool call.
    for r in [&bare, &guarded, &first_seen] {
        assert!(rt.block_on(call(r, &token)) > 0);
    }

    println!(
        "mcpca guard benchmarks — tools/call echo via tower oneshot (no sockets), {:.1} s per comparison, {BATCHES} alternating batches, p50 of every call",
        total.as_secs_f64()
    );

    // 1. Cached descriptor vs no guard.
    let (bare_ns, cached_ns) = compare(
        || {
            black_box(rt.block_on(call(&bare, &token)));
        },
        || {
            black_box(rt.block_on(call(&guarded, &token)));
        },
        total,
    );
    let (p_bare, p_cached) = (median(bare_ns), median(cached_ns));
    let ratio = p_cached / p_bare;
    println!("  tool call, no guard                     p50 {}", us(p_bare));
    println!("  tool call, guard, cached descriptor     p50 {}", us(p_cached));
    println!("  ratio                                   {ratio:.3}×  (target ≤ 1.05×: {})", if ratio <= 1.05 { "PASS" } else { "FAIL" });

    // 2. First-seen descriptor vs cached, against one raw signature check.
    let parsed = mcpca::descriptor::parse(&token).unwrap();
    let signature = Signature::from_bytes(&parsed.signature);
    let public = key.public();
    let mut i = 0usize;
    let (cached2_ns, fresh_ns) = compare(
        || {
            black_box(rt.block_on(call(&guarded, &token)));
        },
        || {
            i = (i + 1) % pool.len();
            black_box(rt.block_on(call(&first_seen, &pool[i])));
        },
        total,
    );
    let (sig_ns, _) = compare(
        || {
            black_box(public.verify_strict(black_box(parsed.signing_input.as_bytes()), &signature)).unwrap();
        },
        || {},
        total / 3,
    );
    let (p_cached2, p_fresh, p_sig) = (median(cached2_ns), median(fresh_ns), median(sig_ns));
    let extra = p_fresh - p_cached2;
    let per_sig = extra / p_sig;
    println!("  tool call, guard, cached descriptor     p50 {}", us(p_cached2));
    println!("  tool call, guard, first-seen descriptor p50 {}", us(p_fresh));
    println!("  first-seen extra                        {}", us(extra));
    println!("  raw Ed25519 verify_strict               p50 {}", us(p_sig));
    println!(
        "  extra ÷ verify_strict                   {per_sig:.2}  (target: one signature check, ≤ 1.2 with decode and parse: {})",
        if per_sig <= 1.2 { "PASS" } else { "FAIL" }
    );
    const SECTION: &str = "guard (tools/call on the example MCP server, in process)";
    report::write(&[
        report::Figure::new(
            "guard.cached",
            SECTION,
            "tool call, guard, cached descriptor (p50)",
            p_cached / 1e3,
            "us",
            report::Better::Lower,
        )
        .baseline("same call, no guard", p_bare / 1e3, ratio, "× no guard")
        .target("<= 1.05×", ratio <= 1.05),
        report::Figure::new(
            "guard.first_seen",
            SECTION,
            "tool call, guard, first-seen descriptor (p50)",
            p_fresh / 1e3,
            "us",
            report::Better::Lower,
        )
        .baseline("raw verify_strict", p_sig / 1e3, per_sig, "extra over cached ÷ verify_strict")
        .target("one signature check (<= 1.2)", per_sig <= 1.2),
    ])
    .unwrap();
    stop.cancel();
}
