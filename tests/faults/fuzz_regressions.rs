//! Inputs the fuzzers (fuzz/, `scripts/fuzz`) found, kept as regression tests: each once
//! panicked a debug build (integer overflow) or, in a release build, wrapped around a check.

use mcpca::descriptor::{jws_sign, verify, Expectations, FailureCode, KeySet, Verifier};
use mcpca::keys::KeyPair;

const NOW: i64 = 1_750_000_000;

fn signed(payload: &str) -> (String, Expectations, KeySet) {
    let key = KeyPair::from_seed(&[7u8; 32]);
    let header = format!(r#"{{"alg":"EdDSA","typ":"at+jwt","kid":"{}"}}"#, key.kid());
    let token = jws_sign(header.as_bytes(), payload.as_bytes(), &key);
    let mut keys = KeySet::default();
    keys.insert(key.public());
    (token, Expectations::new("https://ca.example.com", "https://mcp.example.com/mcp").unwrap(), keys)
}

fn claims(iat: i64, nbf: Option<i64>, exp: i64) -> String {
    let nbf = nbf.map(|n| format!(r#","nbf":{n}"#)).unwrap_or_default();
    format!(r#"{{"iss":"https://ca.example.com","sub":"a","aud":"https://mcp.example.com/mcp","iat":{iat}{nbf},"exp":{exp},"jti":"x"}}"#)
}

/// `exp - now` in the "expired" message overflowed for an `exp` near `i64::MIN`.
#[test]
fn expired_at_the_dawn_of_time_is_reported_not_panicked() {
    let (token, exp, keys) = signed(&claims(i64::MIN, None, i64::MIN));
    let err = verify(&token, &exp, NOW, &keys).unwrap_err();
    assert_eq!(err.code, FailureCode::DescriptorExpired);
    assert!(Verifier::new(exp, keys).verify(&token, NOW).is_err());
}

/// `exp - iat` overflowed: a debug build panicked, a release build wrapped to -1 and accepted a
/// descriptor valid until the end of time.
#[test]
fn lifetime_from_i64_min_to_i64_max_is_refused() {
    let (token, exp, keys) = signed(&claims(i64::MIN, Some(0), i64::MAX));
    let err = verify(&token, &exp, NOW, &keys).unwrap_err();
    assert_eq!(err.code, FailureCode::DescriptorInvalid);
    assert!(err.detail.contains("lifetime"), "{err}");
    assert!(Verifier::new(exp, keys).verify(&token, NOW).is_err());
}

/// The same bound still admits an ordinary descriptor, and one of exactly 24 h.
#[test]
fn ordinary_lifetimes_still_verify() {
    for life in [300, 24 * 3600] {
        let (token, exp, keys) = signed(&claims(NOW, None, NOW + life));
        verify(&token, &exp, NOW, &keys).unwrap();
    }
    let (token, exp, keys) = signed(&claims(NOW, None, NOW + 24 * 3600 + 1));
    assert_eq!(verify(&token, &exp, NOW, &keys).unwrap_err().code, FailureCode::DescriptorInvalid);
}

/// The verifier's cache eviction computed `now - leeway` unchecked.
#[test]
fn verifier_at_extreme_clocks_does_not_panic() {
    let (token, exp, keys) = signed(&claims(NOW, None, NOW + 300));
    let v = Verifier::new(exp, keys);
    for now in [i64::MIN, i64::MIN + 1, 0, NOW, i64::MAX] {
        let _ = v.verify(&token, now);
    }
}
