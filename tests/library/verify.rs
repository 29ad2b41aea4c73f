//! The verifier contract of DESIGN §3: what is accepted, every failure code once, the clock
//! and the cache. Hostile tokens, one test each, are in `attacks.rs`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::Signer as _;
use mcpca::descriptor::{
    verify, Claims, ClientClaims, DescriptorSigner, Expectations, FailureCode, KeySet, McpClaims, ServerClaims, Verifier,
};
use mcpca::keys::{Jwk, Jwks, KeyPair};

pub(crate) const NOW: i64 = 1_800_000_000;
pub(crate) const ISS: &str = "https://ca.example.com";
pub(crate) const AUD: &str = "https://weather.acme.dev/mcp";

pub(crate) fn seed_key(n: u8) -> KeyPair {
    KeyPair::from_seed(&[n; 32])
}

pub(crate) fn claims() -> Claims {
    Claims {
        iss: ISS.into(),
        sub: "bot".into(),
        client_id: Some("bot".into()),
        aud: AUD.into(),
        iat: NOW,
        nbf: Some(NOW),
        exp: NOW + 120,
        jti: "01900000-0000-7000-8000-000000000000".into(),
        scope: None,
        mcp: Some(McpClaims {
            transport: "streamable_http".into(),
            endpoint: AUD.into(),
            server: ServerClaims { id: "io.github.acme/weather".into(), version: "1.0.0".into(), verified: true },
        }),
        client: Some(ClientClaims { id: "bot".into(), tenant: None }),
    }
}

pub(crate) fn keys() -> KeySet {
    let mut k = KeySet::default();
    k.insert(seed_key(1).public());
    k
}

pub(crate) fn exp() -> Expectations {
    Expectations::new(ISS, AUD).unwrap()
}

pub(crate) fn good() -> String {
    DescriptorSigner::new(seed_key(1)).sign(&claims())
}

/// Sign arbitrary header and payload JSON with key 1.
pub(crate) fn craft(header: &str, payload: &str) -> String {
    let input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(payload));
    let sig = seed_key(1).signing_key().sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
}

pub(crate) fn header_with(extra: &str) -> String {
    format!(r#"{{"alg":"EdDSA","typ":"at+jwt","kid":"{}"{extra}}}"#, seed_key(1).kid())
}

pub(crate) fn payload() -> String {
    serde_json::to_string(&claims()).unwrap()
}

fn code(token: &str) -> FailureCode {
    verify(token, &exp(), NOW, &keys()).unwrap_err().code
}

#[test]
fn a_good_descriptor_verifies() {
    let v = verify(&good(), &exp(), NOW, &keys()).unwrap();
    assert_eq!(&*v.kid, seed_key(1).kid());
    assert_eq!(*v.claims, claims());
    // The audience given by the server is compared in canonical form.
    let e = Expectations::new(ISS, "HTTPS://Weather.ACME.dev:443/mcp/").unwrap();
    assert!(verify(&good(), &e, NOW, &keys()).is_ok());
    // alg "Ed25519" (RFC 9864) is accepted too.
    let t = craft(&format!(r#"{{"alg":"Ed25519","typ":"at+jwt","kid":"{}"}}"#, seed_key(1).kid()), &payload());
    assert!(verify(&t, &exp(), NOW, &keys()).is_ok());
}

#[test]
fn missing() {
    assert_eq!(code(""), FailureCode::DescriptorMissing);
    assert_eq!(code("   "), FailureCode::DescriptorMissing);
}

#[test]
fn unknown_kid_and_bad_signature() {
    let other = DescriptorSigner::new(seed_key(2)).sign(&claims());
    let e = verify(&other, &exp(), NOW, &keys()).unwrap_err();
    assert_eq!(e.code, FailureCode::DescriptorInvalid);
    assert!(e.detail.contains("unknown kid"), "{e}");

    // Payload swapped under a valid signature.
    let g = good();
    let parts: Vec<&str> = g.split('.').collect();
    let mut c = claims();
    c.sub = "mallory".into();
    let forged = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(serde_json::to_vec(&c).unwrap()), parts[2]);
    let e = verify(&forged, &exp(), NOW, &keys()).unwrap_err();
    assert_eq!(e.code, FailureCode::DescriptorInvalid);
    assert!(e.detail.contains("signature"), "{e}");
}

#[test]
fn claim_rules() {
    let signer = DescriptorSigner::new(seed_key(1));
    let with = |f: &dyn Fn(&mut Claims)| {
        let mut c = claims();
        f(&mut c);
        signer.sign(&c)
    };
    assert_eq!(code(&with(&|c| c.iss = "https://evil.example".into())), FailureCode::DescriptorInvalid);
    assert_eq!(code(&with(&|c| c.aud = "https://other.example/mcp".into())), FailureCode::DescriptorWrongAudience);
    assert_eq!(code(&with(&|c| c.jti.clear())), FailureCode::DescriptorInvalid);
    assert_eq!(code(&with(&|c| c.exp = c.iat + 24 * 3600 + 1)), FailureCode::DescriptorInvalid);
    assert_eq!(code(&with(&|c| c.exp = c.iat - 1)), FailureCode::DescriptorInvalid);

    // Server id, when the server wants it checked.
    let mut e = exp();
    e.server_id = Some("io.github.acme/other".into());
    assert_eq!(verify(&good(), &e, NOW, &keys()).unwrap_err().code, FailureCode::DescriptorWrongAudience);
    e.server_id = Some("io.github.acme/weather".into());
    assert!(verify(&good(), &e, NOW, &keys()).is_ok());
}

#[test]
fn time_rules_with_leeway() {
    let t = good();
    let at = |now| verify(&t, &exp(), now, &keys()).map(|_| ()).map_err(|e| e.code);
    let exp_at = NOW + 120;
    assert_eq!(at(exp_at - 1), Ok(()));
    // Within the 15 s leeway after exp: still accepted.
    assert_eq!(at(exp_at + 14), Ok(()));
    assert_eq!(at(exp_at + 15), Err(FailureCode::DescriptorExpired));
    // Not yet valid, beyond leeway.
    assert_eq!(at(NOW - 15), Ok(()));
    assert_eq!(at(NOW - 16), Err(FailureCode::DescriptorInvalid));
    // Leeway 0.
    let mut e = exp();
    e.leeway = 0;
    assert_eq!(verify(&t, &e, exp_at, &keys()).unwrap_err().code, FailureCode::DescriptorExpired);
}

#[test]
fn key_sets_from_jwks() {
    let jwks = Jwks { keys: vec![Jwk::ed25519(&seed_key(1).public())] };
    let set = KeySet::from_jwks(&jwks).unwrap();
    assert_eq!(set.len(), 1);
    assert!(verify(&good(), &exp(), NOW, &set).is_ok());
    // A kid that is not the key's thumbprint is refused, not trusted.
    let mut lying = Jwk::ed25519(&seed_key(1).public());
    lying.kid = Some(seed_key(2).kid().into());
    assert!(KeySet::from_jwks(&Jwks { keys: vec![lying] }).is_err());
    // Malformed x.
    let mut short = Jwk::ed25519(&seed_key(1).public());
    short.x = "AAAA".into();
    assert!(KeySet::from_jwks(&Jwks { keys: vec![short] }).is_err());
    // Other key types are skipped.
    let mut rsa = Jwk::ed25519(&seed_key(1).public());
    rsa.kty = "RSA".into();
    assert!(KeySet::from_jwks(&Jwks { keys: vec![rsa] }).unwrap().is_empty());
}

#[test]
fn verifier_cache() {
    let v = Verifier::new(exp(), keys());
    let t = good();
    assert!(v.verify(&t, NOW).is_ok());
    assert!(v.verify(&t, NOW + 1).is_ok(), "cached hit");
    // The cache keeps the expiry rule.
    assert_eq!(v.verify(&t, NOW + 200).unwrap_err().code, FailureCode::DescriptorExpired);
    // A token sharing the signature but not the payload is not served from the cache.
    assert!(v.verify(&t, NOW).is_ok());
    let parts: Vec<&str> = t.split('.').collect();
    let mut c = claims();
    c.sub = "mallory".into();
    let forged = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(serde_json::to_vec(&c).unwrap()), parts[2]);
    assert_eq!(v.verify(&forged, NOW).unwrap_err().code, FailureCode::DescriptorInvalid);
}
