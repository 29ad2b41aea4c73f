//! Arbitrary bytes as the payload of a descriptor correctly signed by the trusted key: the
//! claims decoding and checks of `verify` (step 5) past the signature. Whatever passes must
//! hold the claims the verifier contract promises.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mcpca::descriptor::{self, jws_sign, Verifier, MAX_LIFETIME_SECS};
use mcpca_fuzz::{expectations, key, keys, AUDIENCE, ISSUER, NOW};

fuzz_target!(|data: &[u8]| {
    let key = key();
    let header = format!(r#"{{"alg":"EdDSA","typ":"at+jwt","kid":"{}"}}"#, key.kid());
    let token = jws_sign(header.as_bytes(), data, &key);
    let exp = expectations();
    if let Ok(v) = descriptor::verify(&token, &exp, NOW, &keys()) {
        let c = &v.claims;
        assert_eq!(c.iss, ISSUER);
        assert_eq!(c.aud, AUDIENCE);
        assert!(c.exp > NOW - exp.leeway, "expired claims accepted");
        assert!(c.nbf.unwrap_or(c.iat) <= NOW + exp.leeway, "future claims accepted");
        assert!(c.exp >= c.iat && c.exp - c.iat <= MAX_LIFETIME_SECS);
        assert!(!c.jti.is_empty());
    }
    // The same token through the cache, twice (the second is a cache hit), and later on.
    let verifier = Verifier::new(exp, keys());
    let first = verifier.verify(&token, NOW).is_ok();
    assert_eq!(verifier.verify(&token, NOW).is_ok(), first);
    let _ = verifier.verify(&token, NOW + 86_400);
});
