//! Arbitrary bytes as the payload of a feed correctly signed by the trusted key: decoding, then
//! step 6 of the verifier contract (`Feed::check`) against a descriptor's claims.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mcpca::descriptor::{jws_sign, Claims, McpClaims, ServerClaims};
use mcpca::feed::{Feed, FEED_TYP};
use mcpca_fuzz::{key, keys, AUDIENCE, ISSUER, NOW};

fuzz_target!(|data: &[u8]| {
    let key = key();
    let header = format!(r#"{{"alg":"EdDSA","typ":"{FEED_TYP}","kid":"{}"}}"#, key.kid());
    let jws = jws_sign(header.as_bytes(), data, &key);
    let Ok(feed) = Feed::from_jws(&jws, &keys(), None) else { return };
    let _ = Feed::from_jws(&jws, &keys(), Some(ISSUER));
    let claims = Claims {
        iss: ISSUER.into(),
        sub: "client-a".into(),
        client_id: Some("client-a".into()),
        aud: AUDIENCE.into(),
        iat: NOW,
        nbf: Some(NOW),
        exp: NOW + 300,
        jti: "0197f000-0000-7000-8000-000000000000".into(),
        scope: None,
        mcp: Some(McpClaims {
            transport: "streamable-http".into(),
            endpoint: AUDIENCE.into(),
            server: ServerClaims { id: "io.example/weather".into(), version: "1.0.0".into(), verified: true },
        }),
        client: None,
    };
    let hit = feed.revokes(key.kid(), &claims).is_some();
    assert_eq!(feed.check(key.kid(), &claims).is_err(), hit);
    // A feed re-signed by the authority reads back identically.
    let again = Feed::from_jws(&feed.sign(&key), &keys(), None);
    assert_eq!(again.ok().as_ref(), Some(&feed));
});
