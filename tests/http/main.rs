//! The HTTP API of `mcpca serve`, against an authority served in-process on 127.0.0.1:0.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admin;
mod catalog;
mod connect;
mod hotpath;
mod oauth;
mod registry;
mod util;
