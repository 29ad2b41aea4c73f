//! The black-box test suite of the `mcpca` command line: the real binary, a temporary home per
//! test, the clock pinned with `MCPCA_NOW`. One test binary (each file in `tests/` links its own).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod util;

mod init;
mod inspect_verify;
mod issue;
mod keys;
mod output;
mod postgres;
mod replicas;
mod revoke;
mod servers;
