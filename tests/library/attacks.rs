//! The JWT attack suite: one test per hostile descriptor, each expecting a specific failure code
//! and reason, through `mcpca::descriptor::verify`, the caching `mcpca::descriptor::Verifier`
//! (a cache must never accept what a fresh check refuses) and the remote
//! `mcpca::verify::Verifier` an MCP server embeds, fed by a real JWKS endpoint on 127.0.0.1.
//! Every token here is signed with a trusted key unless the attack is about the signature, so a
//! refusal is caused by the rule under test and not by a bad signature.
//! SECURITY.md lists these cases; `ATTACK_CASES` below is the figure it reports.

use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use ed25519_dalek::{Signer as _, VerifyingKey};
use mcpca::descriptor::{verify, Claims, DescriptorSigner, FailureCode, KeySet, Verifier, MAX_TOKEN_BYTES};
use mcpca::keys::{thumbprint, Jwk, Jwks};
use mcpca::verify::VerifierConfig;
use sha2::{Digest, Sha256, Sha512};
use std::sync::{Arc, OnceLock};

use super::verify::{claims, craft, exp, good, header_with, keys, payload, seed_key, AUD, ISS, NOW};

/// Number of `attack_*` tests in this file (SECURITY.md reports it; a test keeps it honest).
pub const ATTACK_CASES: usize = 74;

/// Refused by both verifiers, with `code` and a detail containing `why`.
#[track_caller]
fn refused(token: &str, code: FailureCode, why: &str) {
    let e = verify(token, &exp(), NOW, &keys()).expect_err("descriptor::verify accepted an attack");
    assert_eq!(e.code, code, "{e}");
    assert!(e.detail.contains(why), "detail {:?} does not say {why:?}", e.detail);
    assert!(!e.detail.contains('\n'), "detail spans lines: {:?}", e.detail);
    let cached = Verifier::new(exp(), keys());
    for _ in 0..2 {
        let e2 = cached.verify(token, NOW).expect_err("descriptor::Verifier accepted an attack");
        assert_eq!(e2.code, code, "{e2}");
    }
    let remote = remote_verifier("/jwks.json");
    for _ in 0..2 {
        let e3 = jwks_server().rt.block_on(remote.verify(token)).expect_err("verify::Verifier accepted an attack");
        assert_eq!(e3.code, code, "{e3}");
        assert!(e3.detail.contains(why), "remote detail {:?} does not say {why:?}", e3.detail);
        assert!(!e3.detail.contains('\n'), "remote detail spans lines: {:?}", e3.detail);
    }
}

/// A JWKS endpoint on 127.0.0.1 for the remote verifier: `/jwks.json` publishes the trusted key,
/// `/weak.json` a small-order point, `/malformed.json` an `x` that is not a key.
struct JwksServer {
    rt: tokio::runtime::Runtime,
    base: String,
}

fn jwks_server() -> &'static JwksServer {
    static SERVER: OnceLock<JwksServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        use axum::routing::get;
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let good = Jwks { keys: vec![Jwk::ed25519(&seed_key(1).public())] };
        let weak = jwks_with_x(&URL_SAFE_NO_PAD.encode(hex32(SMALL_ORDER[0])));
        let malformed = jwks_with_x("AAAA");
        let app = axum::Router::new()
            .route("/jwks.json", get(move || async move { axum::Json(good) }))
            .route("/weak.json", get(move || async move { axum::Json(weak) }))
            .route("/malformed.json", get(move || async move { axum::Json(malformed) }));
        let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        rt.spawn(async move { axum::serve(listener, app).await.unwrap() });
        JwksServer { rt, base }
    })
}

/// A fresh remote verifier (empty caches) for the issuer and audience of these tests.
fn remote_verifier(path: &str) -> mcpca::verify::Verifier {
    let url = url::Url::parse(&format!("{}{path}", jwks_server().base)).unwrap();
    let config = VerifierConfig::new(ISS, AUD).jwks_url(url);
    mcpca::verify::Verifier::new(config, Arc::new(mcpca::clock::ManualClock::new(NOW))).unwrap()
}

#[track_caller]
fn invalid(token: &str, why: &str) {
    refused(token, FailureCode::DescriptorInvalid, why)
}

/// Sign exactly `h.p` (already encoded) with the trusted key.
fn craft_encoded(h: &str, p: &str) -> String {
    let input = format!("{h}.{p}");
    let sig = seed_key(1).signing_key().sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
}

fn header_alg(alg: &str) -> String {
    format!(r#"{{"alg":"{alg}","typ":"at+jwt","kid":"{}"}}"#, seed_key(1).kid())
}

/// The claims as JSON with `f` applied to the object.
fn payload_with(f: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>)) -> String {
    let mut v = serde_json::to_value(claims()).unwrap();
    f(v.as_object_mut().unwrap());
    v.to_string()
}

fn signed_claims(f: impl FnOnce(&mut Claims)) -> String {
    let mut c = claims();
    f(&mut c);
    DescriptorSigner::new(seed_key(1)).sign(&c)
}

fn hmac<D: Digest>(block: usize, key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut k = if key.len() > block { D::digest(key).to_vec() } else { key.to_vec() };
    k.resize(block, 0);
    let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    let inner = D::new().chain_update(&ipad).chain_update(msg).finalize();
    D::new().chain_update(&opad).chain_update(inner).finalize().to_vec()
}

/// A token "signed" with HMAC keyed by the trusted public key (the classic key-confusion attack).
fn hmac_token(alg: &str, key: &[u8]) -> String {
    let input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header_alg(alg)), URL_SAFE_NO_PAD.encode(payload()));
    let mac = match alg {
        "HS256" => hmac::<Sha256>(64, key, input.as_bytes()),
        _ => hmac::<Sha512>(128, key, input.as_bytes()),
    };
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(mac))
}

fn parts(t: &str) -> Vec<String> {
    t.split('.').map(str::to_owned).collect()
}

/// Little-endian 32-byte addition.
fn add_le(a: &[u8], b: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut carry = 0u16;
    for i in 0..32 {
        let v = u16::from(a[i]) + u16::from(b[i]) + carry;
        out[i] = (v & 0xff) as u8;
        carry = v >> 8;
    }
    out
}

/// The order of the Ed25519 base point, little-endian.
const L: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0x10,
];

/// The eight small-order points of edwards25519 (and non-canonical twins), as encodings.
const SMALL_ORDER: [&str; 8] = [
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
];

fn hex32(s: &str) -> [u8; 32] {
    let v: Vec<u8> = (0..32).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap()).collect();
    v.try_into().unwrap()
}

fn jwks_with_x(x: &str) -> Jwks {
    let mut jwk = Jwk::ed25519(&seed_key(1).public());
    jwk.x = x.to_owned();
    jwk.kid = None;
    Jwks { keys: vec![jwk] }
}

#[test]
fn attack_case_count_is_what_security_md_reports() {
    let src = include_str!("attacks.rs");
    let n = src.lines().filter(|l| l.trim_start().starts_with("fn attack_") && !l.contains("attack_case_count")).count();
    assert_eq!(n, ATTACK_CASES, "update ATTACK_CASES and the figure in SECURITY.md");
    let security = include_str!("../../SECURITY.md");
    assert!(security.contains(&format!("{ATTACK_CASES} JWT attack cases")), "SECURITY.md must report {ATTACK_CASES} JWT attack cases");
}

// --- alg -----------------------------------------------------------------------------------

#[test]
fn attack_alg_none_unsigned() {
    // The classic unsecured JWS: empty signature part.
    let t = format!("{}.{}.", URL_SAFE_NO_PAD.encode(header_alg("none")), URL_SAFE_NO_PAD.encode(payload()));
    invalid(&t, "signature is not 64 bytes");
}

#[test]
fn attack_alg_none_with_a_valid_signature() {
    invalid(&craft(&header_alg("none"), &payload()), "alg \"none\" is not accepted");
}

#[test]
fn attack_alg_none_spelled_otherwise() {
    for alg in ["None", "NONE", "nOnE", "eddsa", "EDDSA", "Ed448", ""] {
        invalid(&craft(&header_alg(alg), &payload()), "is not accepted");
    }
}

#[test]
fn attack_hs256_keyed_with_the_public_key() {
    let public = seed_key(1).public();
    // Keyed with the raw key, with its base64url text and with the JWK JSON: all refused.
    for key in [
        public.as_bytes().to_vec(),
        URL_SAFE_NO_PAD.encode(public.as_bytes()).into_bytes(),
        serde_json::to_vec(&Jwk::ed25519(&public)).unwrap(),
    ] {
        invalid(&hmac_token("HS256", &key), "signature is not 64 bytes");
    }
}

#[test]
fn attack_hs512_keyed_with_the_public_key() {
    // HS512's MAC is 64 bytes, the length of an Ed25519 signature: refused by the alg rule.
    invalid(&hmac_token("HS512", seed_key(1).public().as_bytes()), "alg \"HS512\" is not accepted");
}

#[test]
fn attack_rs256() {
    invalid(&craft(&header_alg("RS256"), &payload()), "alg \"RS256\" is not accepted");
    let t = format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header_alg("RS256")),
        URL_SAFE_NO_PAD.encode(payload()),
        URL_SAFE_NO_PAD.encode([7u8; 256])
    );
    invalid(&t, "signature is not 64 bytes");
}

#[test]
fn attack_alg_missing_or_not_a_string() {
    let kid = seed_key(1).kid().to_owned();
    invalid(&craft(&format!(r#"{{"typ":"at+jwt","kid":"{kid}"}}"#), &payload()), "header is not valid JSON");
    invalid(&craft(&format!(r#"{{"alg":["EdDSA"],"typ":"at+jwt","kid":"{kid}"}}"#), &payload()), "header is not valid JSON");
}

// --- typ -----------------------------------------------------------------------------------

#[test]
fn attack_typ_missing() {
    invalid(&craft(&format!(r#"{{"alg":"EdDSA","kid":"{}"}}"#, seed_key(1).kid()), &payload()), "typ must be");
}

#[test]
fn attack_typ_wrong() {
    for typ in ["JWT", "jwt", "at+jwt ", "application/jwt", "dpop+jwt", "mcpca-feed+jwt"] {
        let h = format!(r#"{{"alg":"EdDSA","typ":"{typ}","kid":"{}"}}"#, seed_key(1).kid());
        invalid(&craft(&h, &payload()), "typ must be");
    }
}

#[test]
fn attack_typ_null() {
    invalid(&craft(&format!(r#"{{"alg":"EdDSA","typ":null,"kid":"{}"}}"#, seed_key(1).kid()), &payload()), "typ must be");
}

// --- header members that must never be followed ---------------------------------------------

#[test]
fn attack_crit_header() {
    invalid(&craft(&header_with(r#","crit":["exp"],"exp":1"#), &payload()), "\"crit\" is refused");
}

#[test]
fn attack_crit_header_null() {
    // A present member counts even when its value is null.
    invalid(&craft(&header_with(r#","crit":null"#), &payload()), "\"crit\" is refused");
}

#[test]
fn attack_jku_header() {
    invalid(&craft(&header_with(r#","jku":"https://evil.example/jwks.json""#), &payload()), "\"jku\" is refused");
}

#[test]
fn attack_x5u_header() {
    invalid(&craft(&header_with(r#","x5u":"https://evil.example/cert.pem""#), &payload()), "\"x5u\" is refused");
}

#[test]
fn attack_embedded_jwk_header() {
    // The attacker's own key, embedded, with a token it signed: never trusted.
    let attacker = seed_key(9);
    let jwk = serde_json::to_string(&Jwk::ed25519(&attacker.public())).unwrap();
    let h = format!(r#"{{"alg":"EdDSA","typ":"at+jwt","kid":"{}","jwk":{jwk}}}"#, attacker.kid());
    let input = format!("{}.{}", URL_SAFE_NO_PAD.encode(&h), URL_SAFE_NO_PAD.encode(payload()));
    let t = format!("{input}.{}", URL_SAFE_NO_PAD.encode(attacker.signing_key().sign(input.as_bytes()).to_bytes()));
    invalid(&t, "\"jwk\" is refused");
    // Even with the trusted kid and signature, an embedded jwk is refused.
    invalid(&craft(&header_with(&format!(r#","jwk":{jwk}"#)), &payload()), "\"jwk\" is refused");
}

#[test]
fn attack_x5c_and_other_unknown_members_are_not_followed() {
    // Unknown members are ignored, never acted on: an x5c chain does not replace the JWKS.
    let attacker = seed_key(9);
    let h = format!(r#"{{"alg":"EdDSA","typ":"at+jwt","kid":"{}","x5c":["MIIB"]}}"#, attacker.kid());
    let input = format!("{}.{}", URL_SAFE_NO_PAD.encode(&h), URL_SAFE_NO_PAD.encode(payload()));
    let t = format!("{input}.{}", URL_SAFE_NO_PAD.encode(attacker.signing_key().sign(input.as_bytes()).to_bytes()));
    invalid(&t, "unknown kid");
}

// --- kid -----------------------------------------------------------------------------------

#[test]
fn attack_kid_missing() {
    invalid(&craft(r#"{"alg":"EdDSA","typ":"at+jwt"}"#, &payload()), "header has no kid");
}

#[test]
fn attack_kid_with_path_characters() {
    for kid in ["../../../../etc/passwd", "/dev/null", "..\\\\..\\\\windows\\\\win.ini", "file:///etc/passwd", "%2e%2e%2f"] {
        let h = format!(r#"{{"alg":"EdDSA","typ":"at+jwt","kid":"{kid}"}}"#);
        invalid(&craft(&h, &payload()), "unknown kid");
    }
}

#[test]
fn attack_kid_with_sql_characters() {
    for kid in ["' OR '1'='1", "x'; DROP TABLE keys; --", "\\\" OR 1=1 --", "%", "_"] {
        let h = format!(r#"{{"alg":"EdDSA","typ":"at+jwt","kid":"{kid}"}}"#);
        invalid(&craft(&h, &payload()), "unknown kid");
    }
}

#[test]
fn attack_kid_with_control_characters_does_not_break_a_log_line() {
    let h = r#"{"alg":"EdDSA","typ":"at+jwt","kid":"x\nlevel=INFO msg=\"accepted\"\u0000"}"#;
    // `refused` asserts the detail is one line.
    invalid(&craft(h, &payload()), "unknown kid");
}

#[test]
fn attack_kid_not_a_string() {
    invalid(&craft(r#"{"alg":"EdDSA","typ":"at+jwt","kid":1}"#, &payload()), "header is not valid JSON");
}

#[test]
fn attack_kid_of_another_trusted_key() {
    // Signed by key 1, claiming key 2 (also trusted): the signature check runs with key 2.
    let mut set = keys();
    set.insert(seed_key(2).public());
    let h = format!(r#"{{"alg":"EdDSA","typ":"at+jwt","kid":"{}"}}"#, seed_key(2).kid());
    let e = verify(&craft(&h, &payload()), &exp(), NOW, &set).unwrap_err();
    assert_eq!(e.code, FailureCode::DescriptorInvalid);
    assert!(e.detail.contains("signature does not verify"), "{e}");
}

// --- required claims and their types ---------------------------------------------------------

#[test]
fn attack_missing_exp() {
    invalid(&craft(&header_with(""), &payload_with(|m| drop(m.remove("exp")))), "missing field `exp`");
}

#[test]
fn attack_missing_iat() {
    invalid(&craft(&header_with(""), &payload_with(|m| drop(m.remove("iat")))), "missing field `iat`");
}

#[test]
fn attack_missing_jti() {
    invalid(&craft(&header_with(""), &payload_with(|m| drop(m.remove("jti")))), "missing field `jti`");
}

#[test]
fn attack_empty_jti() {
    invalid(&signed_claims(|c| c.jti.clear()), "jti is empty");
}

#[test]
fn attack_missing_iss() {
    invalid(&craft(&header_with(""), &payload_with(|m| drop(m.remove("iss")))), "missing field `iss`");
}

#[test]
fn attack_missing_aud() {
    invalid(&craft(&header_with(""), &payload_with(|m| drop(m.remove("aud")))), "missing field `aud`");
}

#[test]
fn attack_exp_as_a_string() {
    invalid(
        &craft(&header_with(""), &payload_with(|m| drop(m.insert("exp".into(), (NOW + 60).to_string().into())))),
        "claims: invalid type",
    );
}

#[test]
fn attack_exp_as_a_float() {
    invalid(
        &craft(&header_with(""), &payload_with(|m| drop(m.insert("exp".into(), serde_json::json!(1.8e9 + 60.5))))),
        "claims: invalid type",
    );
}

#[test]
fn attack_exp_huge_number() {
    let p = payload().replace(&format!("\"exp\":{}", NOW + 120), "\"exp\":1e300");
    invalid(&craft(&header_with(""), &p), "claims: invalid type");
    let p = payload().replace(&format!("\"exp\":{}", NOW + 120), "\"exp\":99999999999999999999999");
    invalid(&craft(&header_with(""), &p), "claims:");
}

#[test]
fn attack_exp_i64_max() {
    invalid(&signed_claims(|c| c.exp = i64::MAX), "lifetime");
}

#[test]
fn attack_exp_i64_min() {
    refused(&signed_claims(|c| c.exp = i64::MIN), FailureCode::DescriptorExpired, "expired");
}

#[test]
fn attack_iat_i64_min_overflowing_the_lifetime() {
    // exp - iat overflows i64: a wrapping subtraction would slip under the 24 h ceiling.
    invalid(
        &signed_claims(|c| {
            c.iat = i64::MIN + 10;
            c.nbf = None;
        }),
        "lifetime",
    );
    invalid(
        &signed_claims(|c| {
            c.iat = i64::MIN;
            c.nbf = Some(NOW);
        }),
        "lifetime",
    );
}

#[test]
fn attack_lifetime_over_24h() {
    invalid(&signed_claims(|c| c.exp = c.iat + 24 * 3600 + 1), "lifetime");
}

#[test]
fn attack_exp_before_iat() {
    invalid(&signed_claims(|c| c.exp = c.iat - 1), "lifetime");
}

#[test]
fn attack_nbf_in_the_future() {
    invalid(
        &signed_claims(|c| {
            c.nbf = Some(NOW + 3600);
            c.exp = NOW + 3700;
        }),
        "not valid before",
    );
}

#[test]
fn attack_iat_in_the_future_without_nbf() {
    invalid(
        &signed_claims(|c| {
            c.nbf = None;
            c.iat = NOW + 3600;
            c.exp = NOW + 3700;
        }),
        "not valid before",
    );
}

#[test]
fn attack_nbf_as_a_string() {
    invalid(&craft(&header_with(""), &payload_with(|m| drop(m.insert("nbf".into(), NOW.to_string().into())))), "claims: invalid type");
}

#[test]
fn attack_expired() {
    refused(&signed_claims(|c| c.exp = NOW - 16), FailureCode::DescriptorExpired, "expired");
}

// --- aud -----------------------------------------------------------------------------------

#[test]
fn attack_aud_array_with_the_right_value_among_others() {
    // Decided: an array `aud` is refused (SECURITY.md), even when it names this server.
    let p = payload_with(|m| drop(m.insert("aud".into(), serde_json::json!(["https://other.example/mcp", super::verify::AUD]))));
    invalid(&craft(&header_with(""), &p), "claims: invalid type: sequence");
}

#[test]
fn attack_aud_array_of_one() {
    let p = payload_with(|m| drop(m.insert("aud".into(), serde_json::json!([super::verify::AUD]))));
    invalid(&craft(&header_with(""), &p), "claims: invalid type: sequence");
}

#[test]
fn attack_aud_other_server() {
    refused(&signed_claims(|c| c.aud = "https://other.example/mcp".into()), FailureCode::DescriptorWrongAudience, "audience");
}

#[test]
fn attack_aud_not_canonical() {
    // The authority always writes the canonical form; a verifier compares exactly.
    refused(&signed_claims(|c| c.aud = "HTTPS://weather.acme.dev:443/mcp/".into()), FailureCode::DescriptorWrongAudience, "audience");
}

#[test]
fn attack_iss_other_authority() {
    invalid(&signed_claims(|c| c.iss = "https://evil.example".into()), "issuer");
}

// --- duplicate JSON keys ---------------------------------------------------------------------

#[test]
fn attack_duplicate_header_alg() {
    let kid = seed_key(1).kid().to_owned();
    invalid(&craft(&format!(r#"{{"alg":"none","typ":"at+jwt","kid":"{kid}","alg":"EdDSA"}}"#), &payload()), "duplicate field `alg`");
    invalid(&craft(&format!(r#"{{"alg":"EdDSA","typ":"at+jwt","kid":"{kid}","alg":"EdDSA"}}"#), &payload()), "duplicate field `alg`");
}

#[test]
fn attack_duplicate_header_kid() {
    let kid = seed_key(1).kid().to_owned();
    invalid(&craft(&format!(r#"{{"alg":"EdDSA","typ":"at+jwt","kid":"other","kid":"{kid}"}}"#), &payload()), "duplicate field `kid`");
}

#[test]
fn attack_duplicate_header_crit() {
    invalid(&craft(&header_with(r#","crit":null,"crit":null"#), &payload()), "duplicate field `crit`");
}

#[test]
fn attack_duplicate_claim_aud() {
    let p = payload().replacen('{', r#"{"aud":"https://other.example/mcp","#, 1);
    invalid(&craft(&header_with(""), &p), "duplicate field `aud`");
}

#[test]
fn attack_duplicate_claim_exp() {
    let p = payload().replacen('{', &format!(r#"{{"exp":{},"#, NOW + 86_400 * 365), 1);
    invalid(&craft(&header_with(""), &p), "duplicate field `exp`");
}

#[test]
fn attack_duplicate_nested_server_id() {
    let p = payload().replace(r#""id":"io.github.acme/weather""#, r#""id":"io.github.acme/weather","id":"io.github.evil/x""#);
    assert_ne!(p, payload());
    invalid(&craft(&header_with(""), &p), "duplicate field `id`");
}

// --- base64url -------------------------------------------------------------------------------

#[test]
fn attack_padded_parts() {
    let g = parts(&good());
    invalid(&format!("{}=.{}.{}", g[0], g[1], g[2]), "header is not unpadded base64url");
    invalid(&format!("{}.{}.{}==", g[0], g[1], g[2]), "signature is not unpadded base64url");
    // Padded, and signed as padded.
    let h = URL_SAFE.encode(header_with(""));
    let p = URL_SAFE.encode(payload());
    assert!(h.ends_with('=') || p.ends_with('='), "the fixture must need padding");
    invalid(&craft_encoded(&h, &p), "not unpadded base64url");
}

#[test]
fn attack_standard_alphabet() {
    let g = parts(&good());
    invalid(&format!("{}.{}+.{}", g[0], g[1], g[2]), "payload is not unpadded base64url");
    let sig = URL_SAFE_NO_PAD.decode(&g[2]).unwrap();
    let std_sig = STANDARD.encode(&sig).trim_end_matches('=').to_owned();
    if std_sig != g[2] {
        invalid(&format!("{}.{}.{std_sig}", g[0], g[1]), "signature is not unpadded base64url");
    }
    invalid(
        &format!("{}.{}.{}", g[0], g[1], g[2].replacen(|c: char| c.is_ascii_alphanumeric(), "/", 1)),
        "signature is not unpadded base64url",
    );
}

#[test]
fn attack_non_canonical_base64_trailing_bits() {
    // 64 bytes encode to 86 characters: the last one carries 4 unused bits. Setting them gives
    // another string for the same bytes, which must not verify as the same signature.
    let g = parts(&good());
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let last = g[2].chars().last().unwrap();
    let idx = alphabet.find(last).unwrap();
    assert_eq!(idx & 0b1111, 0, "canonical encoding has the unused bits clear");
    let twisted: String = g[2][..g[2].len() - 1].chars().chain(alphabet[idx | 1..].chars().take(1)).collect();
    invalid(&format!("{}.{}.{twisted}", g[0], g[1]), "signature is not unpadded base64url");
}

#[test]
fn attack_non_canonical_base64_in_signed_parts() {
    // Header and payload whose encodings have trailing bits set, signed as sent.
    let twist = |s: String| {
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let idx = alphabet.find(s.chars().last().unwrap()).unwrap();
        let unused = if s.len() % 4 == 2 { 0b1111 } else { 0b11 };
        assert_eq!(idx & unused, 0);
        format!("{}{}", &s[..s.len() - 1], &alphabet[idx | 1..=idx | 1])
    };
    let mut h = header_with("");
    while matches!(h.len() % 3, 0) {
        h = h.replacen('{', "{ ", 1);
    }
    let mut p = payload();
    while matches!(p.len() % 3, 0) {
        p = p.replacen('{', "{ ", 1);
    }
    invalid(&craft_encoded(&twist(URL_SAFE_NO_PAD.encode(&h)), &URL_SAFE_NO_PAD.encode(&p)), "header is not unpadded base64url");
    invalid(&craft_encoded(&URL_SAFE_NO_PAD.encode(&h), &twist(URL_SAFE_NO_PAD.encode(&p))), "payload is not unpadded base64url");
}

#[test]
fn attack_whitespace_inside_the_token() {
    let g = parts(&good());
    invalid(&format!("{}.{} .{}", g[0], g[1], g[2]), "payload is not unpadded base64url");
    invalid(&format!("{}.{}.{}\n{}", g[0], g[1], &g[2][..40], &g[2][40..]), "signature is not unpadded base64url");
}

// --- signature -------------------------------------------------------------------------------

#[test]
fn attack_signature_s_plus_l() {
    // (R, S + L) satisfies the group equation when (R, S) does; strict verification refuses S ≥ L.
    let g = parts(&good());
    let mut sig = URL_SAFE_NO_PAD.decode(&g[2]).unwrap();
    let s = add_le(&sig[32..], &L);
    assert!(s[31] & 0xe0 == 0, "S + L still fits in 253 bits for this fixture");
    sig[32..].copy_from_slice(&s);
    invalid(&format!("{}.{}.{}", g[0], g[1], URL_SAFE_NO_PAD.encode(&sig)), "signature does not verify");
}

#[test]
fn attack_signature_s_equal_l() {
    let g = parts(&good());
    let mut sig = URL_SAFE_NO_PAD.decode(&g[2]).unwrap();
    sig[32..].copy_from_slice(&L);
    invalid(&format!("{}.{}.{}", g[0], g[1], URL_SAFE_NO_PAD.encode(&sig)), "signature does not verify");
}

#[test]
fn attack_signature_all_zero_and_all_ones() {
    let g = parts(&good());
    for sig in [[0u8; 64], [0xffu8; 64]] {
        invalid(&format!("{}.{}.{}", g[0], g[1], URL_SAFE_NO_PAD.encode(sig)), "signature does not verify");
    }
}

#[test]
fn attack_payload_swapped_under_a_valid_signature() {
    let g = parts(&good());
    let forged = URL_SAFE_NO_PAD.encode(payload().replace("\"sub\":\"bot\"", "\"sub\":\"mallory\""));
    invalid(&format!("{}.{forged}.{}", g[0], g[2]), "signature does not verify");
}

#[test]
fn attack_signature_truncated_or_extended() {
    let g = parts(&good());
    let sig = URL_SAFE_NO_PAD.decode(&g[2]).unwrap();
    invalid(&format!("{}.{}.{}", g[0], g[1], URL_SAFE_NO_PAD.encode(&sig[..63])), "signature is not 64 bytes");
    let mut longer = sig.clone();
    longer.push(0);
    invalid(&format!("{}.{}.{}", g[0], g[1], URL_SAFE_NO_PAD.encode(&longer)), "signature is not 64 bytes");
}

#[test]
fn attack_signed_by_an_untrusted_key() {
    invalid(&DescriptorSigner::new(seed_key(2)).sign(&claims()), "unknown kid");
}

#[test]
fn attack_small_order_key_and_trivial_signature() {
    // A "key" at a small-order point (inserted without the JWKS checks), and R = identity, S = 0:
    // satisfies the cofactored equation; the strict check refuses.
    for enc in SMALL_ORDER {
        let point = hex32(enc);
        let Ok(vk) = VerifyingKey::from_bytes(&point) else { continue };
        let mut set = KeySet::default();
        set.insert(vk);
        let h = format!(r#"{{"alg":"EdDSA","typ":"at+jwt","kid":"{}"}}"#, thumbprint(&point));
        let input = format!("{}.{}", URL_SAFE_NO_PAD.encode(&h), URL_SAFE_NO_PAD.encode(payload()));
        let mut sig = [0u8; 64];
        sig[0] = 1;
        let t = format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig));
        let e = verify(&t, &exp(), NOW, &set).unwrap_err();
        assert_eq!(e.code, FailureCode::DescriptorInvalid, "{enc}");
        assert!(e.detail.contains("signature does not verify"), "{e}");
    }
}

// --- size and trailing data --------------------------------------------------------------------

#[test]
fn attack_token_over_8_kib() {
    // A genuinely signed descriptor grown with a long scope: the largest that fits is accepted,
    // one that does not is refused before any parsing.
    let sized = |n: usize| signed_claims(|c| c.scope = Some("s".repeat(n)));
    let mut n = 5000;
    while sized(n + 1).len() <= MAX_TOKEN_BYTES {
        n += 1;
    }
    assert!(sized(n).len() <= MAX_TOKEN_BYTES && sized(n).len() > MAX_TOKEN_BYTES - 4);
    assert!(verify(&sized(n), &exp(), NOW, &keys()).is_ok());
    invalid(&sized(n + 1), "more than the 8192 allowed");
    invalid(&"a".repeat(1 << 20), "more than the 8192 allowed");
}

#[test]
fn attack_trailing_part() {
    let g = good();
    invalid(&format!("{g}.extra"), "exactly three dot-separated parts");
    invalid(&format!("{g}."), "exactly three dot-separated parts");
    invalid(&format!("{g}.{}", parts(&g)[2]), "exactly three dot-separated parts");
}

#[test]
fn attack_too_few_parts() {
    let g = parts(&good());
    invalid("abc", "exactly three dot-separated parts");
    invalid(&format!("{}.{}", g[0], g[1]), "exactly three dot-separated parts");
}

#[test]
fn attack_trailing_data_after_the_claims() {
    invalid(&craft(&header_with(""), &format!("{}garbage", payload())), "claims: trailing characters");
    invalid(&craft(&header_with(""), &format!("{}{{}}", payload())), "claims: trailing characters");
}

#[test]
fn attack_trailing_data_after_the_header() {
    invalid(&craft(&format!("{}[]", header_with("")), &payload()), "header is not valid JSON");
}

#[test]
fn attack_claims_not_an_object() {
    for p in ["[]", "null", "\"x\"", "1"] {
        invalid(&craft(&header_with(""), p), "claims:");
    }
}

// --- JWKS ------------------------------------------------------------------------------------

#[test]
fn attack_jwks_small_order_key() {
    for enc in SMALL_ORDER {
        let point = hex32(enc);
        if let Ok(vk) = VerifyingKey::from_bytes(&point) {
            assert!(vk.is_weak(), "{enc} is small-order");
        }
        let err = KeySet::from_jwks(&jwks_with_x(&URL_SAFE_NO_PAD.encode(point))).unwrap_err();
        assert!(err.contains("small-order") || err.contains("not an Ed25519 point"), "{enc}: {err}");
    }
}

#[test]
fn attack_jwks_malformed_key() {
    let x = URL_SAFE_NO_PAD.encode(seed_key(1).public().as_bytes());
    let x_padded = URL_SAFE.encode(seed_key(1).public().as_bytes());
    assert!(x_padded.ends_with('='));
    // A y coordinate with no point on the curve.
    let off_curve = (2u8..=255)
        .map(|b| {
            let mut y = [0u8; 32];
            y[0] = b;
            y
        })
        .find(|y| VerifyingKey::from_bytes(y).is_err())
        .unwrap();
    for (bad, why) in [
        ("AAAA".to_owned(), "not 32 bytes"),
        (URL_SAFE_NO_PAD.encode([1u8; 31]), "not 32 bytes"),
        (URL_SAFE_NO_PAD.encode([1u8; 33]), "not 32 bytes"),
        (x_padded, "not base64url"),
        (format!("{x}!"), "not base64url"),
        (x.replace('-', "+").replace('_', "/") + if x.contains(['-', '_']) { "" } else { "!" }, "not base64url"),
        (URL_SAFE_NO_PAD.encode(off_curve), "not an Ed25519 point"),
    ] {
        let err = KeySet::from_jwks(&jwks_with_x(&bad)).unwrap_err();
        assert!(err.contains(why), "{bad}: {err}");
    }
}

#[test]
fn attack_jwks_kid_not_the_thumbprint() {
    let mut lying = Jwk::ed25519(&seed_key(1).public());
    lying.kid = Some(seed_key(2).kid().into());
    let err = KeySet::from_jwks(&Jwks { keys: vec![lying] }).unwrap_err();
    assert!(err.contains("thumbprint"), "{err}");
}

#[test]
fn attack_remote_jwks_with_a_small_order_key() {
    // The remote verifier refuses the whole document (and so knows no key): the trivial
    // signature for the small-order point is refused, as "unknown kid".
    let point = hex32(SMALL_ORDER[0]);
    let h = format!(r#"{{"alg":"EdDSA","typ":"at+jwt","kid":"{}"}}"#, thumbprint(&point));
    let input = format!("{}.{}", URL_SAFE_NO_PAD.encode(&h), URL_SAFE_NO_PAD.encode(payload()));
    let mut sig = [0u8; 64];
    sig[0] = 1;
    let t = format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig));
    let v = remote_verifier("/weak.json");
    let e = jwks_server().rt.block_on(v.verify(&t)).unwrap_err();
    assert_eq!(e.code, FailureCode::DescriptorInvalid);
    assert!(e.detail.contains("unknown kid"), "{e}");
    assert_eq!(v.key_count(), 0);
    assert!(jwks_server().rt.block_on(v.refresh()).unwrap_err().contains("small-order"));
}

#[test]
fn attack_remote_jwks_with_a_malformed_key() {
    let v = remote_verifier("/malformed.json");
    let e = jwks_server().rt.block_on(v.verify(&good())).unwrap_err();
    assert_eq!(e.code, FailureCode::DescriptorInvalid);
    assert!(e.detail.contains("unknown kid"), "{e}");
    assert!(jwks_server().rt.block_on(v.refresh()).unwrap_err().contains("not 32 bytes"));
}

#[test]
fn remote_verifier_accepts_the_good_descriptor() {
    // The control: the same set-up accepts what it should, so refusals above mean something.
    let v = remote_verifier("/jwks.json");
    let ok = jwks_server().rt.block_on(v.verify(&good())).unwrap();
    assert_eq!(*ok.claims, claims());
}
