//! The black-box test suite of the governance features (issue 4): clients and admin tokens,
//! the issuance decision and its deny codes, the status model, revocation and the signed feed,
//! the hash-chained audit log (tampering, fail-closed), and bulk import. Every test runs the
//! real binary in a fresh temporary home with the clock pinned by `MCPCA_NOW`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod util;

mod audit;
mod clients;
mod decision;
mod import;
mod revocation;
mod status;
mod tokens;
