//! The HTTP API of `mcpca serve`, against an authority served in-process on 127.0.0.1:0, and
//! the commands that talk HTTP to other parties (`mcpca check`, `mcpca connect`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admin;
mod catalog;
mod check;
mod cli_connect;
mod connect;
mod hotpath;
mod oauth;
mod ops;
mod registry;
mod util;
