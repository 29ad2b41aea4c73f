//! Shared fixtures of the fuzz targets: a fixed signing key, the expectations a verifying
//! server holds, and a fixed clock.
use mcpca::descriptor::{Expectations, KeySet};
use mcpca::keys::KeyPair;

/// A fixed instant (2025-06-15T16:26:40Z): targets must not depend on the wall clock.
pub const NOW: i64 = 1_750_000_000;
pub const ISSUER: &str = "https://ca.example.com";
pub const AUDIENCE: &str = "https://mcp.example.com/mcp";

/// The fuzzers' authority key (deterministic).
pub fn key() -> KeyPair {
    KeyPair::from_seed(&[7u8; 32])
}

/// A key set holding [`key`].
pub fn keys() -> KeySet {
    let mut set = KeySet::default();
    set.insert(key().public());
    set
}

/// What a verifying server expects.
pub fn expectations() -> Expectations {
    match Expectations::new(ISSUER, AUDIENCE) {
        Ok(e) => e,
        Err(e) => panic!("fixture expectations: {e}"),
    }
}
