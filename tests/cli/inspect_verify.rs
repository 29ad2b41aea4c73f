//! `mcpca inspect` (reports, never fails on expiry) and `mcpca verify` (the verifier contract of
//! DESIGN §3 with its exit codes and failure codes).

use ed25519_dalek::SigningKey;
use serde_json::{json, Value};

use crate::util::*;

const WEATHER: &str = "io.github.acme/weather";
const WEATHER_URL: &str = "https://weather.acme.dev/mcp";

fn with_server() -> Home {
    let h = Home::init();
    h.add_server(WEATHER, WEATHER_URL, &[]);
    h
}

fn verify(h: &Home, jwt: &str, extra: &[&str]) -> Output {
    let mut args = vec!["verify", "--audience", WEATHER_URL];
    args.extend_from_slice(extra);
    h.command(args).stdin(jwt).run()
}

#[track_caller]
fn refused(out: Output, code: &str) -> Output {
    out.fails(1).stderr_has(&[code])
}

/// A descriptor signed with the authority's own active key, with claims changed by `f`.
fn forged(h: &Home, jwt: &str, header: Value, f: impl FnOnce(&mut Value)) -> String {
    let (_, mut claims) = decode_jwt(jwt);
    f(&mut claims);
    let key: SigningKey = h.signing_key(&h.kid("active"));
    sign_jws(&key, &header, &claims)
}

// ---------------------------------------------------------------------------------------------
// inspect

#[test]
fn inspect_shows_header_claims_times_and_signature() {
    let h = with_server();
    h.add_client("ci-bot", &["--tenant", "acme"]);
    let jwt = h.issue(WEATHER, &["--client", "ci-bot"]);
    let active = h.kid("active");
    let out = h.command(["inspect", "-"]).stdin(jwt.clone()).run().success();
    assert!(out.line("alg").ends_with("EdDSA"), "{}", out.stdout);
    assert!(out.line("typ").ends_with("at+jwt"));
    assert!(out.line("kid").ends_with(&active));
    assert!(out.line("iss").ends_with(DEFAULT_ISSUER));
    assert!(out.line("sub").ends_with("ci-bot"));
    assert!(out.line("aud").ends_with(WEATHER_URL));
    assert!(out.line("server").contains("io.github.acme/weather@1.0.0"));
    assert!(out.line("tenant").ends_with("acme"));
    assert!(out.line("issued").contains(T0_RFC3339));
    assert!(out.line("expires").contains("2027-01-15T08:02:00Z (in 2m)"), "{}", out.stdout);
    assert!(out.line("lifetime").ends_with("2m"));
    assert!(out.line("signature").contains("valid (local keys, key active)"), "{}", out.stdout);
    let out = out.stdout_has(&["(verified: false)", "endpoint   https://weather.acme.dev/mcp"]);

    // The argument form and the default (stdin) form say the same.
    let by_arg = h.cmd(["inspect", &jwt]).success().stdout;
    assert_eq!(by_arg, out.stdout);
    let by_default = h.command(["inspect"]).stdin(format!("{jwt}\n")).run().success().stdout;
    assert_eq!(by_default, out.stdout);

    let j = h.command(["inspect", "-o", "json"]).stdin(jwt.clone()).run().success().json();
    assert_eq!(j["header"]["kid"], active.as_str());
    assert_eq!(j["claims"], decode_jwt(&jwt).1);
    assert_eq!(j["issued_at"], T0_RFC3339);
    assert_eq!(j["expires_at"], rfc3339(T0 + 120));
    assert_eq!(j["remaining"], 120);
    assert_eq!(j["expired"], false);
    assert_eq!(j["signature"], json!({"status": "valid", "keys": "local", "key_state": "active"}));
}

#[test]
fn inspect_reports_an_expired_descriptor_without_failing() {
    let h = with_server();
    let jwt = h.issue(WEATHER, &[]);
    let out = h.command(["inspect", "-"]).stdin(jwt.clone()).at(T0 + 600).run().success();
    let expires = out.line("expires");
    assert!(expires.contains("expired 8m ago"), "{expires}");
    assert!(out.line("issued").contains("10m ago"), "{}", out.stdout);
    let j = h.command(["inspect", "-o", "json"]).stdin(jwt).at(T0 + 600).run().success().json();
    assert_eq!(j["expired"], true);
    assert_eq!(j["remaining"], -480);
}

#[test]
fn inspect_against_a_jwks_file() {
    let h = with_server();
    let jwt = h.issue(WEATHER, &[]);
    let jwks = h.jwks_file("jwks.json");
    let jwks_arg = jwks.to_str().unwrap();
    let j = h.command(["inspect", "--jwks", jwks_arg, "-o", "json"]).stdin(jwt.clone()).run().success().json();
    assert_eq!(j["signature"]["status"], "valid");
    assert_eq!(j["signature"]["keys"], jwks_arg);
    let out = h.command(["inspect", "--jwks", jwks_arg]).stdin(jwt.clone()).run().success();
    assert!(out.line("signature").contains("valid ("), "{}", out.stdout);

    // A descriptor of another authority: its key is in neither the JWKS nor the local keys.
    let other = with_server();
    let foreign = other.issue(WEATHER, &[]);
    let j = h.command(["inspect", "--jwks", jwks_arg, "-o", "json"]).stdin(foreign.clone()).run().success().json();
    assert_eq!(j["signature"]["status"], "unknown_kid");
    let j = h.command(["inspect", "-o", "json"]).stdin(foreign.clone()).run().success().json();
    assert_eq!(j["signature"]["status"], "unknown_kid");
    assert!(h.command(["inspect"]).stdin(foreign).run().success().line("signature").contains("unknown_kid"));

    // Right kid, wrong signature.
    let tampered = forged_payload(&jwt, |c| c["sub"] = json!("mallory"));
    let j = h.command(["inspect", "--jwks", jwks_arg, "-o", "json"]).stdin(tampered).run().success().json();
    assert_eq!(j["signature"]["status"], "invalid");
    assert_eq!(j["claims"]["sub"], "mallory");

    // An unreadable JWKS: cannot check.
    h.command(["inspect", "--jwks", "/nonexistent/jwks.json"]).stdin(jwt).run().fails(2).stderr_has(&["cannot read the JWKS"]);
}

#[test]
fn inspect_reports_the_state_of_a_revoked_key() {
    let h = with_server();
    let jwt = h.issue(WEATHER, &[]);
    let active = h.kid("active");
    h.cmd(["key", "revoke", &active, "--yes"]).success();
    let j = h.command(["inspect", "-o", "json"]).stdin(jwt).run().success().json();
    assert_eq!(j["signature"]["status"], "valid");
    assert_eq!(j["signature"]["key_state"], "revoked");
}

#[test]
fn inspect_refuses_garbage() {
    let h = with_server();
    for garbage in ["garbage", "a.b.c", "eyJhbGciOiJFZERTQSJ9.e30", "x.y.z.w"] {
        h.command(["inspect", "-"]).stdin(garbage).run().fails(1).stderr_has(&["descriptor_invalid"]).no_stdout();
    }
    h.command(["inspect"]).stdin("").run().fails(1).stderr_has(&["descriptor_missing"]);
}

#[test]
fn inspect_without_a_home_reports_unchecked() {
    let h = with_server();
    let jwt = h.issue(WEATHER, &[]);
    let empty = Home::new();
    let j = empty.command(["inspect", "-o", "json"]).stdin(jwt).run().success().json();
    assert_eq!(j["signature"]["status"], "unchecked");
    assert_eq!(j["claims"]["mcp"]["server"]["id"], WEATHER);
}

// ---------------------------------------------------------------------------------------------
// verify

/// Replace the payload, keep header and signature.
fn forged_payload(jwt: &str, f: impl FnOnce(&mut Value)) -> String {
    let parts: Vec<&str> = jwt.split('.').collect();
    let (_, mut claims) = decode_jwt(jwt);
    f(&mut claims);
    format!("{}.{}.{}", parts[0], b64url(claims.to_string().as_bytes()), parts[2])
}

#[test]
fn verify_accepts_a_fresh_descriptor_at_the_canonical_audience() {
    let h = with_server();
    let jwt = h.issue(WEATHER, &[]);
    for aud in [WEATHER_URL, "https://weather.acme.dev/mcp/", "HTTPS://WEATHER.ACME.DEV/mcp", "https://Weather.Acme.Dev:443/mcp#x"] {
        let out = h.command(["verify", "--audience", aud]).stdin(jwt.clone()).run().success();
        assert!(out.line("valid").ends_with("yes"), "{}", out.stdout);
    }
    // As an argument too.
    h.cmd(["verify", &jwt, "--audience", WEATHER_URL]).success();
    // JSON verdict.
    let j = h.command(["verify", "--audience", WEATHER_URL, "-o", "json"]).stdin(jwt.clone()).run().success().json();
    assert_eq!(j["valid"], true);
    assert_eq!(j["kid"], h.kid("active").as_str());
    assert_eq!(j["claims"], decode_jwt(&jwt).1);
    // The right server id.
    verify(&h, &jwt, &["--server-id", WEATHER]).success();
    // The path is part of the audience; the case of the path is too.
    refused(h.command(["verify", "--audience", "https://weather.acme.dev/MCP"]).stdin(jwt.clone()).run(), "descriptor_wrong_audience");
    // A bad --audience is a usage error.
    h.command(["verify", "--audience", "not a url"]).stdin(jwt.clone()).run().fails(2);
    h.command(["verify"]).stdin(jwt).run().fails(2);
}

#[test]
fn verify_descriptor_missing() {
    let h = with_server();
    for empty in ["", "\n", "   \n"] {
        refused(h.command(["verify", "--audience", WEATHER_URL]).stdin(empty).run(), "descriptor_missing").no_stdout();
    }
}

#[test]
fn verify_descriptor_invalid() {
    let h = with_server();
    let jwt = h.issue(WEATHER, &[]);
    let active = h.kid("active");
    let parts: Vec<&str> = jwt.split('.').collect();

    // Tampered payload, untouched signature.
    refused(verify(&h, &forged_payload(&jwt, |c| c["sub"] = json!("mallory")), &[]), "descriptor_invalid");
    refused(verify(&h, &forged_payload(&jwt, |c| c["exp"] = json!(T0 + 86400)), &[]), "descriptor_invalid");
    // Bad signature: one bit flipped.
    let mut sig = unb64url(parts[2]);
    sig[10] ^= 1;
    refused(verify(&h, &format!("{}.{}.{}", parts[0], parts[1], b64url(&sig)), &[]), "descriptor_invalid");
    // Wrong issuer expected.
    refused(verify(&h, &jwt, &["--issuer", "https://ca.other.example"]), "descriptor_invalid").stderr_has(&["issuer"]);
    // Not yet valid: the clock is before iat by more than the leeway...
    refused(h.command(["verify", "--audience", WEATHER_URL]).stdin(jwt.clone()).at(T0 - 60).run(), "descriptor_invalid")
        .stderr_has(&["not valid before"]);
    // ...but within the leeway it is fine.
    h.command(["verify", "--audience", WEATHER_URL]).stdin(jwt.clone()).at(T0 - 10).run().success();
    // alg none, with no signature and with the real one.
    let none = b64url(json!({"alg": "none", "typ": "at+jwt", "kid": active}).to_string().as_bytes());
    refused(verify(&h, &format!("{none}.{}.", parts[1]), &[]), "descriptor_invalid");
    refused(verify(&h, &format!("{none}.{}.{}", parts[1], parts[2]), &[]), "descriptor_invalid").stderr_has(&["alg"]);
    let hs = b64url(json!({"alg": "HS256", "typ": "at+jwt", "kid": active}).to_string().as_bytes());
    refused(verify(&h, &format!("{hs}.{}.{}", parts[1], parts[2]), &[]), "descriptor_invalid");
    // Garbage of the right shape, and of the wrong one.
    for garbage in ["abc.def.ghi", "a.b", "a.b.c.d", "not a token at all", "eyJ9.eyJ9.eyJ9", &format!("{jwt}=")] {
        refused(verify(&h, garbage, &[]), "descriptor_invalid");
    }
    // Too large.
    let big = forged(&h, &jwt, descriptor_header(&active), |c| c["scope"] = json!("x".repeat(9000)));
    refused(verify(&h, &big, &[]), "descriptor_invalid").stderr_has(&["8192"]);
}

/// A change made to the claims of a forged descriptor.
type ClaimsChange = Box<dyn FnOnce(&mut Value)>;

#[test]
fn verify_refuses_well_signed_descriptors_that_break_the_rules() {
    let h = with_server();
    let jwt = h.issue(WEATHER, &[]);
    let active = h.kid("active");
    // Signed by the real key, so only the rule under test can refuse them.
    let ok = forged(&h, &jwt, descriptor_header(&active), |_| {});
    verify(&h, &ok, &[]).success();

    let cases: Vec<(Value, ClaimsChange, &str)> = vec![
        (json!({"alg": "EdDSA", "typ": "JWT", "kid": active}), Box::new(|_: &mut Value| {}), "typ"),
        (json!({"alg": "EdDSA", "kid": active}), Box::new(|_: &mut Value| {}), "typ"),
        (json!({"alg": "EdDSA", "typ": "at+jwt"}), Box::new(|_: &mut Value| {}), "kid"),
        (json!({"alg": "EdDSA", "typ": "at+jwt", "kid": active, "jku": "https://evil.example/jwks"}), Box::new(|_: &mut Value| {}), "jku"),
        (json!({"alg": "EdDSA", "typ": "at+jwt", "kid": active, "crit": ["exp"]}), Box::new(|_: &mut Value| {}), "crit"),
        (json!({"alg": "EdDSA", "typ": "at+jwt", "kid": active, "jwk": {"kty": "OKP"}}), Box::new(|_: &mut Value| {}), "jwk"),
        (json!({"alg": "EdDSA", "typ": "at+jwt", "kid": active, "x5u": "https://evil.example/x5u"}), Box::new(|_: &mut Value| {}), "x5u"),
        (descriptor_header(&active), Box::new(|c: &mut Value| c["exp"] = json!(T0 + 2 * 86400)), "lifetime"),
        (descriptor_header(&active), Box::new(|c: &mut Value| c["jti"] = json!("")), "jti"),
        (descriptor_header(&active), Box::new(|c: &mut Value| c["iss"] = json!("https://ca.other.example")), "issuer"),
    ];
    for (header, change, why) in cases {
        let token = forged(&h, &jwt, header, change);
        refused(verify(&h, &token, &[]), "descriptor_invalid").stderr_has(&[why]);
    }
    // Ed25519 (RFC 9864) is accepted as alg too.
    let ed = forged(&h, &jwt, json!({"alg": "Ed25519", "typ": "at+jwt", "kid": active}), |_| {});
    verify(&h, &ed, &[]).success();
}

#[test]
fn verify_descriptor_expired_and_the_leeway() {
    let h = with_server();
    let jwt = h.issue(WEATHER, &[]);
    let exp = T0 + 120;
    let at = |t: i64, extra: &[&str]| {
        let mut args = vec!["verify", "--audience", WEATHER_URL];
        args.extend_from_slice(extra);
        h.command(args).stdin(jwt.clone()).at(t).run()
    };
    at(exp - 1, &[]).success();
    // Within the default leeway of 15s after exp.
    at(exp + 10, &[]).success();
    at(exp + 14, &[]).success();
    refused(at(exp + 15, &[]), "descriptor_expired");
    refused(at(exp + 3600, &[]), "descriptor_expired");
    // --leeway changes it.
    refused(at(exp + 10, &["--leeway", "0s"]), "descriptor_expired");
    refused(at(exp, &["--leeway", "0s"]), "descriptor_expired");
    at(exp - 1, &["--leeway", "0s"]).success();
    at(exp + 100, &["--leeway", "2m"]).success();
    // -o json prints the verdict and still exits 1.
    let out = at(exp + 600, &["-o", "json"]).fails(1);
    let v = out.json();
    assert_eq!(v["valid"], false);
    assert_eq!(v["error"], "descriptor_expired");
    assert!(v["detail"].as_str().unwrap().contains("expired"), "{v}");
    assert!(out.stderr.contains("descriptor_expired"));
    // MCPCA_NOW in RFC 3339 works the same.
    refused(
        h.command(["verify", "--audience", WEATHER_URL]).stdin(jwt.clone()).env("MCPCA_NOW", "2027-01-15T09:00:00Z").run(),
        "descriptor_expired",
    );
    h.command(["verify", "--audience", WEATHER_URL]).stdin(jwt.clone()).env("MCPCA_NOW", "2027-01-15T08:01:00Z").run().success();
    h.command(["verify", "--audience", WEATHER_URL])
        .stdin(jwt)
        .env("MCPCA_NOW", "yesterday")
        .run()
        .fails(2)
        .stderr_has(&["not a time", "RFC 3339"]);
}

#[test]
fn verify_descriptor_wrong_audience() {
    let h = with_server();
    let jwt = h.issue(WEATHER, &[]);
    refused(h.command(["verify", "--audience", "https://tides.acme.dev/mcp"]).stdin(jwt.clone()).run(), "descriptor_wrong_audience");
    refused(h.command(["verify", "--audience", "http://weather.acme.dev/mcp"]).stdin(jwt.clone()).run(), "descriptor_wrong_audience");
    refused(verify(&h, &jwt, &["--server-id", "io.github.acme/tides"]), "descriptor_wrong_audience");
    let v = verify(&h, &jwt, &["--server-id", "io.github.acme/tides", "-o", "json"]).fails(1).json();
    assert_eq!(v["valid"], false);
    assert_eq!(v["error"], "descriptor_wrong_audience");
}

#[test]
fn verify_cannot_check_without_a_readable_jwks() {
    let h = with_server();
    let jwt = h.issue(WEATHER, &[]);
    let not_json = h.scratch("not-json.json", "this is not json");
    let wrong_kid = h.scratch(
        "wrong-kid.json",
        json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "not-the-thumbprint"}]})
            .to_string(),
    );
    for path in ["/nonexistent/jwks.json", not_json.to_str().unwrap(), wrong_kid.to_str().unwrap()] {
        verify(&h, &jwt, &["--jwks", path]).fails(2).stderr_has(&["JWKS"]);
        verify(&h, &jwt, &["--jwks", path, "--issuer", DEFAULT_ISSUER]).fails(2).stderr_has(&["JWKS"]);
    }
}

#[test]
fn verify_with_a_jwks_and_an_issuer_needs_no_home() {
    let h = with_server();
    let jwt = h.issue(WEATHER, &[]);
    let jwks = h.jwks_file("jwks.json");
    let jwks = jwks.to_str().unwrap();

    // A server's machine: no authority anywhere (not even in the platform directories).
    let server = Home::new();
    let run = |extra: &[&str], token: &str| {
        let mut args = vec!["verify", "--audience", WEATHER_URL];
        args.extend_from_slice(extra);
        server.command(args).env_remove("MCPCA_HOME").stdin(token).run()
    };
    run(&["--jwks", jwks, "--issuer", DEFAULT_ISSUER], &jwt).success();
    refused(run(&["--jwks", jwks, "--issuer", "https://ca.other.example"], &jwt), "descriptor_invalid");
    // A descriptor of another authority: unknown kid.
    let other = with_server();
    refused(run(&["--jwks", jwks, "--issuer", DEFAULT_ISSUER], &other.issue(WEATHER, &[])), "descriptor_invalid").stderr_has(&["kid"]);
    // Without --issuer (or --jwks) it needs the local authority, and says so.
    run(&["--jwks", jwks], &jwt).fails(2).stderr_has(&["mcpca init"]);
    run(&["--issuer", DEFAULT_ISSUER], &jwt).fails(2).stderr_has(&["mcpca init"]);
    assert!(!server.dir().exists());
    assert!(std::fs::read_dir(server.root().join("user")).unwrap().next().is_none(), "nothing created in the platform dirs");
}

#[test]
fn verify_with_a_jwks_after_rotation_and_revocation() {
    let h = with_server();
    let jwt = h.issue(WEATHER, &[]);
    let old = h.kid("active");
    h.cmd(["key", "rotate"]).success();
    let jwks = h.jwks_file("jwks-rotated.json");
    verify(&h, &jwt, &["--jwks", jwks.to_str().unwrap()]).success();
    h.cmd(["key", "revoke", &old, "--yes"]).success();
    let jwks = h.jwks_file("jwks-revoked.json");
    refused(verify(&h, &jwt, &["--jwks", jwks.to_str().unwrap()]), "descriptor_invalid");
    refused(verify(&h, &jwt, &[]), "descriptor_invalid");
}
