//! The verifier contract of DESIGN §3: every failure code, from crafted tokens.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::Signer as _;
use mcpca::descriptor::{
    verify, Claims, ClientClaims, DescriptorSigner, Expectations, FailureCode, KeySet, McpClaims, ServerClaims, Verifier,
};
use mcpca::keys::{Jwk, Jwks, KeyPair};

const NOW: i64 = 1_800_000_000;
const ISS: &str = "https://ca.example.com";
const AUD: &str = "https://weather.acme.dev/mcp";

fn seed_key(n: u8) -> KeyPair {
    KeyPair::from_seed(&[n; 32])
}

fn claims() -> Claims {
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

fn keys() -> KeySet {
    let mut k = KeySet::default();
    k.insert(seed_key(1).public());
    k
}

fn exp() -> Expectations {
    Expectations::new(ISS, AUD).unwrap()
}

fn good() -> String {
    DescriptorSigner::new(seed_key(1)).sign(&claims())
}

/// Sign arbitrary header and payload JSON with key 1.
fn craft(header: &str, payload: &str) -> String {
    let input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(payload));
    let sig = seed_key(1).signing_key().sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
}

fn header_with(extra: &str) -> String {
    format!(r#"{{"alg":"EdDSA","typ":"at+jwt","kid":"{}"{extra}}}"#, seed_key(1).kid())
}

fn payload() -> String {
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
fn malformed_shapes_are_invalid() {
    let g = good();
    let parts: Vec<&str> = g.split('.').collect();
    for bad in [
        "abc".to_owned(),
        format!("{}.{}", parts[0], parts[1]),
        format!("{g}.extra"),
        format!("{}=.{}.{}", parts[0], parts[1], parts[2]),
        format!("{}.{}.{}==", parts[0], parts[1], parts[2]),
        format!("{}.{}+.{}", parts[0], parts[1], parts[2]),
        "a".repeat(8 * 1024 + 1),
    ] {
        assert_eq!(code(&bad), FailureCode::DescriptorInvalid, "{bad:.80}");
    }
}

#[test]
fn header_rules() {
    let kid = seed_key(1).kid().to_owned();
    for h in [
        format!(r#"{{"alg":"none","typ":"at+jwt","kid":"{kid}"}}"#),
        format!(r#"{{"alg":"HS256","typ":"at+jwt","kid":"{kid}"}}"#),
        format!(r#"{{"alg":"RS256","typ":"at+jwt","kid":"{kid}"}}"#),
        format!(r#"{{"alg":"EdDSA","kid":"{kid}"}}"#),
        format!(r#"{{"alg":"EdDSA","typ":"JWT","kid":"{kid}"}}"#),
        r#"{"alg":"EdDSA","typ":"at+jwt"}"#.to_owned(),
        header_with(r#","crit":["exp"]"#),
        header_with(r#","jku":"https://evil.example/jwks.json""#),
        header_with(r#","x5u":"https://evil.example/cert.pem""#),
        header_with(r#","jwk":{"kty":"OKP","crv":"Ed25519","x":"AAAA"}"#),
        format!(r#"{{"alg":"EdDSA","typ":"at+jwt","kid":"{kid}","alg":"EdDSA"}}"#),
    ] {
        assert_eq!(code(&craft(&h, &payload())), FailureCode::DescriptorInvalid, "{h}");
    }
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

    // A non-canonical signature (S + L) is refused by the strict check.
    let sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    let mut s = [0u8; 32];
    s.copy_from_slice(&sig[32..]);
    let l: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0x10,
    ];
    let mut carry = 0u16;
    for i in 0..32 {
        let v = u16::from(s[i]) + u16::from(l[i]) + carry;
        s[i] = (v & 0xff) as u8;
        carry = v >> 8;
    }
    let mut sig2 = sig.clone();
    sig2[32..].copy_from_slice(&s);
    let malleated = format!("{}.{}.{}", parts[0], parts[1], URL_SAFE_NO_PAD.encode(&sig2));
    assert_eq!(code(&malleated), FailureCode::DescriptorInvalid);
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

    // Missing or mistyped claims.
    let h = header_with("");
    for p in [
        r#"{"iss":"https://ca.example.com","sub":"bot","aud":"https://weather.acme.dev/mcp","iat":1800000000,"jti":"x"}"#,
        r#"{"iss":"https://ca.example.com","sub":"bot","aud":"https://weather.acme.dev/mcp","exp":1800000100,"jti":"x"}"#,
        r#"{"iss":"https://ca.example.com","sub":"bot","aud":"https://weather.acme.dev/mcp","iat":1800000000,"exp":1800000100}"#,
        r#"{"iss":"https://ca.example.com","sub":"bot","aud":"https://weather.acme.dev/mcp","iat":1800000000,"exp":"1800000100","jti":"x"}"#,
        r#"{"iss":"https://ca.example.com","sub":"bot","aud":"https://weather.acme.dev/mcp","iat":1800000000,"exp":1e300,"jti":"x"}"#,
        r#"{"iss":"https://ca.example.com","sub":"bot","aud":"https://weather.acme.dev/mcp","aud":"x","iat":1800000000,"exp":1800000100,"jti":"x"}"#,
    ] {
        assert_eq!(code(&craft(&h, p)), FailureCode::DescriptorInvalid, "{p}");
    }
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
fn small_order_public_key_never_verifies() {
    // The identity point: a "key" for which forged signatures would verify under a weak check.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&identity).unwrap();
    let mut set = KeySet::default();
    set.insert(vk);
    let kid = mcpca::keys::thumbprint(&identity);
    let h = format!(r#"{{"alg":"EdDSA","typ":"at+jwt","kid":"{kid}"}}"#);
    let input = format!("{}.{}", URL_SAFE_NO_PAD.encode(&h), URL_SAFE_NO_PAD.encode(payload()));
    // R = identity, S = 0 satisfies the cofactored equation for a small-order key.
    let mut sig = [0u8; 64];
    sig[0] = 1;
    let token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig));
    assert_eq!(verify(&token, &exp(), NOW, &set).unwrap_err().code, FailureCode::DescriptorInvalid);
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
