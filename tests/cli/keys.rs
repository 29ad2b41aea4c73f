//! `mcpca key list|generate|rotate|retire|revoke|export` (DESIGN §4).

use ed25519_dalek::pkcs8::DecodePrivateKey;
use ed25519_dalek::SigningKey;
use serde_json::Value;

use crate::util::*;

const WEATHER: &str = "io.github.acme/weather";
const WEATHER_URL: &str = "https://weather.acme.dev/mcp";

fn with_server() -> Home {
    let h = Home::init();
    h.add_server(WEATHER, WEATHER_URL, &[]);
    h
}

fn verify(h: &Home, jwt: &str) -> Output {
    h.command(["verify", "--audience", WEATHER_URL]).stdin(jwt).run()
}

fn states(h: &Home) -> Vec<(String, String)> {
    h.keys().iter().map(|k| (k["kid"].as_str().unwrap().to_owned(), k["state"].as_str().unwrap().to_owned())).collect()
}

#[test]
fn rfc8037_thumbprint_vector_of_the_test_helper() {
    // The helper the other tests trust, checked against RFC 8037 Appendix A.
    assert_eq!(thumbprint("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    let d = unb64url("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A");
    let key = SigningKey::from_bytes(&d.try_into().unwrap());
    assert_eq!(b64url(key.verifying_key().as_bytes()), "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
}

#[test]
fn key_list_table_and_json() {
    let h = Home::init();
    let table = h.cmd(["key", "list"]).success().stdout;
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(&header[..5], ["KID", "STATE", "CREATED", "ACTIVATED", "RETIRE-AT"]);
    let active = h.kid("active");
    let next = h.kid("next");
    let row = table.lines().find(|l| l.contains(&active)).unwrap();
    assert!(row.contains("active") && row.contains(T0_RFC3339), "{row}");
    let row = table.lines().find(|l| l.contains(&next)).unwrap();
    assert!(row.contains("next"), "{row}");

    h.set_now(T0 + 60);
    h.cmd(["key", "rotate"]).success();
    let keys = h.keys();
    for k in &keys {
        let obj = k.as_object().unwrap();
        for field in ["kid", "state", "created_at"] {
            assert!(obj.contains_key(field), "{field} missing in {k}");
        }
    }
    let retiring = keys.iter().find(|k| k["state"] == "retiring").unwrap();
    assert_eq!(retiring["kid"], active.as_str());
    assert_eq!(retiring["activated_at"], T0_RFC3339);
    assert_eq!(retiring["retire_at"], rfc3339(T0 + 60 + DEFAULT_GRACE));
    let now_active = keys.iter().find(|k| k["state"] == "active").unwrap();
    assert_eq!(now_active["kid"], next.as_str());
    assert_eq!(now_active["activated_at"], rfc3339(T0 + 60));
    assert!(now_active.get("retire_at").is_none());
}

#[test]
fn key_generate_adds_a_published_next_key() {
    let h = Home::init();
    let before = h.keys();
    let out = h.cmd(["key", "generate", "-o", "json"]).success();
    let k = out.json();
    assert_eq!(k["state"], "next");
    assert_eq!(k["published"], true);
    let after = h.keys();
    assert_eq!(after.len(), before.len() + 1);
    assert_eq!(after.iter().filter(|k| k["state"] == "next").count(), 2);
    assert!(h.published_kids().contains(&k["kid"].as_str().unwrap().to_owned()));
    // The active key is unchanged.
    assert_eq!(after.iter().find(|k| k["state"] == "active"), before.iter().find(|k| k["state"] == "active"));
}

#[test]
fn key_rotate_promotes_next_and_retires_the_old_active_later() {
    let h = with_server();
    let old_active = h.kid("active");
    let old_next = h.kid("next");
    let old_jwt = h.issue(WEATHER, &[]);

    h.set_now(T0 + 100);
    let r = h.cmd(["key", "rotate", "-o", "json"]).success().json();
    assert_eq!(r["activated"], old_next.as_str());
    assert_eq!(r["retiring"], old_active.as_str());
    assert_eq!(r["retire_at"], rfc3339(T0 + 100 + DEFAULT_GRACE));
    let new_next = r["next"].as_str().unwrap().to_owned();
    assert_ne!(new_next, old_next);
    assert_ne!(new_next, old_active);

    let s = states(&h);
    assert!(s.contains(&(old_active.clone(), "retiring".into())), "{s:?}");
    assert!(s.contains(&(old_next.clone(), "active".into())), "{s:?}");
    assert!(s.contains(&(new_next.clone(), "next".into())), "{s:?}");
    assert_eq!(h.key(&old_active)["retire_at"], rfc3339(T0 + 100 + DEFAULT_GRACE));
    // Verifiers still see the retiring key and the new next one.
    let published = h.published_kids();
    for kid in [&old_active, &old_next, &new_next] {
        assert!(published.contains(kid), "{kid} not published: {published:?}");
    }
    // The new active key signs; the old descriptor still verifies (before its exp).
    let jwt = h.issue(WEATHER, &[]);
    assert_eq!(decode_jwt(&jwt).0["kid"], old_next.as_str());
    verify(&h, &jwt).success();
    verify(&h, &old_jwt).success();

    // Rotating again once the grace has passed retires the old key on the way.
    h.set_now(T0 + 100 + DEFAULT_GRACE + 1);
    let r = h.cmd(["key", "rotate", "-o", "json"]).success().json();
    assert_eq!(r["retired"], serde_json::json!([old_active]));
    assert_eq!(h.key(&old_active)["state"], "retired");
    assert!(!h.published_kids().contains(&old_active));
}

#[test]
fn key_rotate_refuses_a_short_grace_and_changes_nothing() {
    let h = Home::init();
    let before = h.cmd(["key", "list", "-o", "json"]).success().stdout;
    h.cmd(["key", "rotate", "--grace", "1m"]).fails(2).stderr_has(&["grace", "1d15s"]).no_stdout();
    h.cmd(["key", "rotate", "--grace", "24h"]).fails(2);
    assert_eq!(h.cmd(["key", "list", "-o", "json"]).success().stdout, before);
    // A longer grace is fine.
    let r = h.cmd(["key", "rotate", "--grace", "48h", "-o", "json"]).success().json();
    assert_eq!(r["retire_at"], rfc3339(T0 + 48 * 3600));
}

#[test]
fn key_rotate_without_a_next_key_is_refused() {
    let h = Home::init();
    let next = h.kid("next");
    h.cmd(["key", "retire", &next]).success();
    let before = h.cmd(["key", "list", "-o", "json"]).success().stdout;
    h.cmd(["key", "rotate"]).fails(2).stderr_has(&["no `next` key", "mcpca key generate"]);
    assert_eq!(h.cmd(["key", "list", "-o", "json"]).success().stdout, before);
}

#[test]
fn key_retire_waits_for_the_last_descriptor() {
    let h = Home::init();
    let old_active = h.kid("active");
    h.cmd(["key", "rotate"]).success();
    let retire_at = T0 + DEFAULT_GRACE;

    // The active key cannot be retired.
    let active = h.kid("active");
    h.cmd(["key", "retire", &active]).fails(2).stderr_has(&["active signing key", "mcpca key rotate"]);
    // The retiring one not before its retire_at.
    let before = h.cmd(["key", "list", "-o", "json"]).success().stdout;
    h.command(["key", "retire", &old_active]).at(retire_at - 1).run().fails(2).stderr_has(&["can be valid until", &rfc3339(retire_at)]);
    assert_eq!(h.cmd(["key", "list", "-o", "json"]).success().stdout, before);
    assert!(h.published_kids().contains(&old_active));

    // From retire_at on, it can.
    h.set_now(retire_at);
    let k = h.cmd(["key", "retire", &old_active, "-o", "json"]).success().json();
    assert_eq!(k["state"], "retired");
    assert_eq!(k["published"], false);
    assert_eq!(h.key(&old_active)["state"], "retired");
    assert!(!h.published_kids().contains(&old_active));
    // Its private half is gone.
    h.cmd(["key", "export", "--private", &old_active, "--yes"]).fails(2).stderr_has(&["destroyed"]);
    // Retiring it twice, or an unknown key, is refused.
    h.cmd(["key", "retire", &old_active]).fails(2).stderr_has(&["already retired"]);
    h.cmd(["key", "retire", "no-such-kid"]).fails(2).stderr_has(&["not found"]);
}

#[test]
fn key_revoke_needs_confirmation() {
    let h = with_server();
    let next = h.kid("next");
    let before = h.cmd(["key", "list", "-o", "json"]).success().stdout;
    h.cmd(["key", "revoke", &next]).fails(2).stderr_has(&["without confirmation", "--yes"]).no_stdout();
    h.cmd(["key", "revoke", &next, "--no-input"]).fails(2).stderr_has(&["without confirmation"]);
    assert_eq!(h.cmd(["key", "list", "-o", "json"]).success().stdout, before);
    assert!(h.revocations().is_empty());
}

#[test]
fn key_revoke_of_the_active_key_unpublishes_it_and_promotes_next() {
    let h = with_server();
    let active = h.kid("active");
    let next = h.kid("next");
    let jwt = h.issue(WEATHER, &[]);
    verify(&h, &jwt).success();

    h.set_now(T0 + 30);
    let out = h.cmd(["key", "revoke", &active, "--yes", "--reason", "laptop stolen", "-o", "json"]).success();
    let r = out.json();
    assert_eq!(r["revocation"]["kind"], "key");
    assert_eq!(r["revocation"]["id"], active.as_str());
    assert_eq!(r["revocation"]["reason"], "laptop stolen");
    assert_eq!(r["activated"], next.as_str());
    assert!(out.stderr.contains(&next), "{}", out.stderr);

    assert_eq!(h.key(&active)["state"], "revoked");
    assert_eq!(h.key(&active)["published"], false);
    assert_eq!(h.key(&next)["state"], "active");
    assert_eq!(h.keys().iter().filter(|k| k["state"] == "next").count(), 1, "a fresh next key");
    assert!(!h.published_kids().contains(&active));
    // What it signed no longer verifies; new descriptors come from the promoted key.
    verify(&h, &jwt).fails(1).stderr_has(&["descriptor_invalid"]);
    let fresh = h.issue(WEATHER, &[]);
    assert_eq!(decode_jwt(&fresh).0["kid"], next.as_str());
    verify(&h, &fresh).success();
    // Recorded for the feed.
    let revs = h.revocations();
    assert_eq!(revs.len(), 1);
    assert_eq!(revs[0]["kind"], "key");
    assert_eq!(revs[0]["revoked_at"], T0 + 30);
    // A second revocation is refused.
    h.cmd(["key", "revoke", &active, "--yes"]).fails(2).stderr_has(&["already revoked"]);
}

#[test]
fn key_revoke_of_a_next_key_leaves_the_active_key() {
    let h = Home::init();
    let active = h.kid("active");
    let next = h.kid("next");
    let r = h.cmd(["key", "revoke", &next, "--yes", "-o", "json"]).success().json();
    assert!(r.get("activated").is_none(), "{r}");
    assert_eq!(h.kid("active"), active);
    assert_eq!(h.key(&next)["state"], "revoked");
    assert_eq!(h.published_kids(), vec![active]);
}

#[test]
fn key_export_public_is_a_jwks_with_rfc7638_kids() {
    let h = Home::init();
    h.cmd(["key", "rotate"]).success();
    let jwks = h.jwks();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 3);
    for k in keys {
        assert_eq!(k["kty"], "OKP");
        assert_eq!(k["crv"], "Ed25519");
        assert_eq!(k["alg"], "EdDSA");
        assert_eq!(k["use"], "sig");
        let x = k["x"].as_str().unwrap();
        assert_eq!(unb64url(x).len(), 32);
        assert_eq!(k["kid"].as_str().unwrap(), thumbprint(x), "kid is the RFC 7638 thumbprint");
        assert!(k.get("d").is_none(), "no private part in a JWKS");
    }
    let mut listed: Vec<String> =
        h.keys().iter().filter(|k| k["published"] == true).map(|k| k["kid"].as_str().unwrap().to_owned()).collect();
    let mut published = h.published_kids();
    listed.sort();
    published.sort();
    assert_eq!(listed, published);
    // --out writes the same document.
    let path = h.root().join("jwks.json");
    h.cmd([std::ffi::OsStr::new("key"), "export".as_ref(), "--public".as_ref(), "--out".as_ref(), path.as_os_str()]).success().no_stdout();
    assert_eq!(serde_json::from_slice::<Value>(&std::fs::read(&path).unwrap()).unwrap(), jwks);
}

#[test]
fn key_export_private_refuses_without_yes() {
    let h = Home::init();
    let active = h.kid("active");
    h.cmd(["key", "export", "--private", &active]).fails(2).stderr_has(&["without confirmation", "--yes"]).no_stdout();
    let out = h.root().join("active.pem");
    h.cmd([std::ffi::OsStr::new("key"), "export".as_ref(), "--private".as_ref(), active.as_ref(), "--out".as_ref(), out.as_os_str()])
        .fails(2);
    assert!(!out.exists());
}

#[test]
fn key_export_private_is_pkcs8_matching_the_jwks() {
    let h = Home::init();
    let active = h.kid("active");
    let out = h.cmd(["key", "export", "--private", &active, "--yes"]).success();
    assert!(out.stdout.starts_with("-----BEGIN PRIVATE KEY-----"), "{}", out.stdout);
    assert!(out.stdout.trim_end().ends_with("-----END PRIVATE KEY-----"));
    let key = SigningKey::from_pkcs8_pem(&out.stdout).unwrap();
    let x = b64url(key.verifying_key().as_bytes());
    let jwks = h.jwks();
    let entry = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == active.as_str()).unwrap();
    assert_eq!(entry["x"], x.as_str());
    assert_eq!(thumbprint(&x), active);

    // --out FILE: mode 0600, nothing on stdout, never overwritten.
    let path = h.root().join("active.pem");
    let args = |p: &std::path::Path| {
        vec![
            std::ffi::OsString::from("key"),
            "export".into(),
            "--private".into(),
            active.clone().into(),
            "--yes".into(),
            "--out".into(),
            p.as_os_str().to_owned(),
        ]
    };
    h.cmd(args(&path)).success().no_stdout();
    #[cfg(unix)]
    assert_eq!(mode(&path), 0o600);
    let written = std::fs::read_to_string(&path).unwrap();
    assert_eq!(SigningKey::from_pkcs8_pem(&written).unwrap().verifying_key(), key.verifying_key());
    std::fs::write(&path, "keep me").unwrap();
    h.cmd(args(&path)).fails(2).stderr_has(&["exists"]);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "keep me");
    // Unknown kid.
    h.cmd(["key", "export", "--private", "nope", "--yes"]).fails(2).stderr_has(&["not found"]);
}

#[test]
fn key_export_needs_public_or_private() {
    let h = Home::init();
    h.cmd(["key", "export"]).fails(2).no_stdout();
}

/// A kid is base64url: one in 64 starts with `-`, and must still be accepted as a value.
#[test]
fn kids_starting_with_a_hyphen_are_values_not_flags() {
    let h = Home::init();
    let before = h.cmd(["key", "list", "-o", "json"]).success().stdout;
    let cases: &[&[&str]] = &[
        &["key", "retire", "-Lnot-a-kid"],
        &["key", "retire", "-o", "json", "-Lnot-a-kid"],
        &["key", "revoke", "-Lnot-a-kid", "--yes"],
        &["key", "revoke", "-y", "-Lnot-a-kid"],
        &["key", "export", "--private", "-Lnot-a-kid", "--yes"],
        &["revoke", "--key", "-Lnot-a-kid", "--yes"],
    ];
    for args in cases {
        h.cmd(*args).fails(2).stderr_has(&["key not found: -Lnot-a-kid"]).no_stdout();
    }
    assert_eq!(h.cmd(["key", "list", "-o", "json"]).success().stdout, before);
}
