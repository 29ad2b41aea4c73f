//! The verifier library and the guard layer over real HTTP: an axum app on `127.0.0.1:0`
//! behind `mcpca::guard`, keys served by a real JWKS endpoint (a small axum server or an
//! in-process `mcpca serve`), time on an injected clock; and the guarded MCP server example,
//! run as a program and driven by the official Rust MCP SDK's client.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../http/util.rs"]
mod util;

mod authority;
mod example;
mod fixture;
mod headers;
mod jwks;
