//! Arbitrary bytes as a presented descriptor: `descriptor::parse`, `verify` and the caching
//! `Verifier`. Nothing here may panic; nothing but a token signed by the fixture key may pass.
#![no_main]
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mcpca::descriptor::{self, Verifier};
use mcpca_fuzz::{expectations, keys, NOW};

static VERIFIER: OnceLock<Verifier> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else { return };
    let _ = descriptor::parse(token);
    let direct = descriptor::verify(token, &expectations(), NOW, &keys());
    assert!(direct.is_err(), "an unsigned input verified: {token:?}");
    let verifier = VERIFIER.get_or_init(|| Verifier::new(expectations(), keys()));
    assert!(verifier.verify(token, NOW).is_err());
});
