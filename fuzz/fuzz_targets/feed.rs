//! Arbitrary bytes as a signed revocation feed (`GET /v1/revocations`, `verify --feed`):
//! nothing but a feed signed by the trusted key may be accepted.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mcpca::feed::Feed;
use mcpca_fuzz::{keys, ISSUER};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    assert!(Feed::from_jws(text, &keys(), Some(ISSUER)).is_err(), "an unsigned feed was accepted");
    assert!(Feed::from_jws(text, &keys(), None).is_err());
});
