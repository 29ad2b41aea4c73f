//! Revocation of descriptors, clients, servers and keys; the signed revocation feed (`seq`,
//! `--since`, pruning) and `verify --revocations`.

use std::path::Path;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};

use crate::util::*;

const WEATHER: &str = "io.github.acme/weather";
const MAPS: &str = "io.github.acme/maps";

/// The endpoint `doc()` gives a server.
fn url_of(name: &str) -> String {
    doc(name, "1.0.0")["remotes"][0]["url"].as_str().unwrap().to_owned()
}

/// `verify TOKEN --audience URL [--revocations FEED] extra…` at the home's clock.
fn verify(h: &Home, token: &str, server: &str, feed: Option<&Path>, extra: &[&str]) -> Output {
    let url = url_of(server);
    let mut args = vec!["verify", token, "--audience", &url];
    let feed_text;
    if let Some(f) = feed {
        feed_text = f.to_str().unwrap().to_owned();
        args.extend(["--revocations", &feed_text]);
    }
    args.extend_from_slice(extra);
    h.cmd(args)
}

#[track_caller]
fn revoked(out: Output) -> Output {
    out.fails(1).stderr_has(&["descriptor_revoked"])
}

#[test]
fn the_feed_is_a_compact_jws_of_issuer_seq_issued_at_and_entries() {
    let h = Home::init();
    h.add_server(WEATHER, &[]);
    let jti = h.issue_json(WEATHER, &[])["jti"].as_str().unwrap().to_owned();

    // Empty at first.
    let (_, empty) = h.feed_file("empty.jws", &[]);
    assert_eq!(empty, json!({"issuer": DEFAULT_ISSUER, "seq": 0, "issued_at": T0, "entries": []}));

    h.set_now(T0 + 10);
    let report = h.cmd(["revoke", "--jti", &jti, "--reason", "lost laptop", "-o", "json"]).success().json();
    assert_eq!(report["revocation"]["kind"], "jti");
    assert_eq!(report["revocation"]["id"], jti.as_str());
    assert_eq!(report["revocation"]["seq"], 1);

    h.set_now(T0 + 20);
    let out = h.cmd(["revocations"]).success();
    assert_eq!(out.stdout.lines().count(), 1, "the JWS alone: {}", out.stdout);
    let jws = out.stdout.trim();
    let (header, payload) = decode_jws(jws);
    let active = h.kid("active");
    assert_eq!(header, json!({"alg": "EdDSA", "typ": "mcpca-revocations+jwt", "kid": active}));
    let mut keys: Vec<&str> = payload.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["entries", "issued_at", "issuer", "seq"]);
    assert_eq!(payload["issuer"], DEFAULT_ISSUER);
    assert_eq!(payload["seq"], 1);
    assert_eq!(payload["issued_at"], T0 + 20);
    assert_eq!(payload["entries"], json!([{"kind": "jti", "id": jti, "revoked_at": T0 + 10, "expires_at": T0 + 10 + MAX_VALIDITY}]));
    // The reason stays at the authority.
    assert!(!jws.contains("lost") && !payload.to_string().contains("lost laptop"));

    // The signature verifies with the published key, checked here without mcpca.
    let jwks: Value = serde_json::from_str(&h.cmd(["key", "export", "--public"]).success().stdout).unwrap();
    let jwk = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == active.as_str()).unwrap();
    let x: [u8; 32] = unb64url(jwk["x"].as_str().unwrap()).try_into().unwrap();
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&x).unwrap();
    let (input, sig) = jws.rsplit_once('.').unwrap();
    let sig: [u8; 64] = unb64url(sig).try_into().unwrap();
    vk.verify_strict(input.as_bytes(), &ed25519_dalek::Signature::from_bytes(&sig)).unwrap();

    // `-o json` shows the same document beside the JWS.
    let both = h.cmd(["revocations", "-o", "json"]).success().json();
    assert_eq!(both["feed"], payload);
    assert_eq!(jws_payload(both["jws"].as_str().unwrap()), payload);

    h.cmd(["revoke", "--jti", "not-a-uuid"]).fails(2).no_stdout();
    h.cmd(["revoke"]).fails(2).no_stdout();
}

/// The real clock, in seconds: a `jti` (UUIDv7) carries the instant it was made, and
/// `revoke --jti` finds its issuance near that instant.
fn wall_clock() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// A `jti` revocation lives as long as its descriptor can be accepted (`exp` + leeway), not
/// the longest validity: the feed carries it until then, and drops it after.
#[test]
fn a_jti_revocation_lasts_as_long_as_its_descriptor() {
    let h = Home::new();
    let t = wall_clock();
    h.set_now(t);
    h.cmd(["init"]).success();
    h.add_server(WEATHER, &[]);
    let env = h.issue_json(WEATHER, &["--ttl", "5m"]);
    let jti = env["jti"].as_str().unwrap().to_owned();
    let exp = env["expires_at"].as_str().unwrap().to_owned();
    h.set_now(t + 10);
    let report = h.cmd(["revoke", "--jti", &jti, "-o", "json"]).success().json();
    assert_eq!(report["revocation"]["expires_at"], t + 300 + 15, "exp + leeway (issued {exp}): {report}");

    // Until then the feed names it; one second after, it is gone (and so is the descriptor).
    h.set_now(t + 300 + 14);
    let (_, feed) = h.feed_file("before.jws", &[]);
    assert_eq!(feed["entries"], json!([{"kind": "jti", "id": jti, "revoked_at": t + 10, "expires_at": t + 315}]));
    h.set_now(t + 300 + 15);
    let (_, feed) = h.feed_file("after.jws", &[]);
    assert_eq!(feed["entries"], json!([]));

    // A jti this authority never issued keeps the longest validity: it cannot know better.
    let unknown = "0190a5b2-7c4e-7d2a-9f3b-2c1d4e5f6a7b";
    let r = h.cmd(["revoke", "--jti", unknown, "-o", "json"]).success().json();
    assert_eq!(r["revocation"]["expires_at"], t + 315 + MAX_VALIDITY, "{r}");
}

#[test]
fn revoke_a_descriptor_by_jti() {
    let h = Home::init();
    h.add_server(WEATHER, &[]);
    let first = h.issue_json(WEATHER, &[]);
    let second = h.issue(WEATHER, &[]);
    let token = first["descriptor"].as_str().unwrap();
    h.set_now(T0 + 5);
    h.cmd(["revoke", "--jti", first["jti"].as_str().unwrap()]).success();
    let (feed, _) = h.feed_file("feed.jws", &[]);
    verify(&h, token, WEATHER, None, &[]).success();
    revoked(verify(&h, token, WEATHER, Some(&feed), &[])).stderr_has(&["jti", first["jti"].as_str().unwrap()]);
    verify(&h, &second, WEATHER, Some(&feed), &[]).success();
    // `-o json` names the code too.
    let v = verify(&h, token, WEATHER, Some(&feed), &["-o", "json"]).fails(1).json();
    assert_eq!((v["valid"].as_bool(), v["error"].as_str()), (Some(false), Some("descriptor_revoked")));
    // The JSON form of the feed (`revocations -o json`) is accepted as well.
    let json_feed = h.scratch("feed.json", h.cmd(["revocations", "-o", "json"]).success().stdout);
    revoked(verify(&h, token, WEATHER, Some(&json_feed), &[]));
}

#[test]
fn revoke_a_client_suspends_it_and_cuts_off_what_it_holds() {
    let h = Home::init();
    h.add_server(WEATHER, &[]);
    h.add_client("bot", &["--allow", "*"]);
    h.add_client("other", &["--allow", "*"]);
    let held = h.issue(WEATHER, &["--client", "bot"]);
    let others = h.issue(WEATHER, &["--client", "other"]);
    let operators = h.issue(WEATHER, &[]);

    h.set_now(T0 + 10);
    let r = h.cmd(["revoke", "--client", "bot", "--reason", "leaked", "-o", "json"]).success().json();
    assert_eq!((r["revocation"]["kind"].as_str(), r["revocation"]["id"].as_str()), (Some("client"), Some("bot")));
    let c = h.client("bot");
    assert_eq!(c["status"], "suspended");
    assert_eq!(c["status_reason"], "leaked");
    h.try_issue(WEATHER, &["--client", "bot"]).denied("policy_blocked");

    let (feed, payload) = h.feed_file("feed.jws", &[]);
    assert_eq!(payload["entries"], json!([{"kind": "client", "id": "bot", "revoked_at": T0 + 10, "expires_at": T0 + 10 + MAX_VALIDITY}]));
    revoked(verify(&h, &held, WEATHER, Some(&feed), &[])).stderr_has(&["client bot"]);
    verify(&h, &others, WEATHER, Some(&feed), &[]).success();
    verify(&h, &operators, WEATHER, Some(&feed), &[]).success();

    // Resumed later, the client's new descriptors are not caught by the old entry.
    h.set_now(T0 + 20);
    h.cmd(["client", "resume", "bot"]).success();
    let fresh = h.issue(WEATHER, &["--client", "bot"]);
    verify(&h, &fresh, WEATHER, Some(&feed), &[]).success();
    let (newer_feed, _) = h.feed_file("feed2.jws", &[]);
    verify(&h, &fresh, WEATHER, Some(&newer_feed), &[]).success();
    revoked(verify(&h, &held, WEATHER, Some(&newer_feed), &[]));

    h.cmd(["revoke", "--client", "ghost"]).fails(2).no_stdout().stderr_has(&["not found"]);
}

#[test]
fn revoke_a_server_or_one_version() {
    let h = Home::init();
    h.add_server(WEATHER, &[]);
    h.add_doc(&doc(WEATHER, "2.0.0")).success();
    h.add_server(MAPS, &[]);
    let w1 = h.issue(&format!("{WEATHER}@1.0.0"), &[]);
    let w2 = h.issue(&format!("{WEATHER}@2.0.0"), &[]);
    let m = h.issue(MAPS, &[]);

    h.set_now(T0 + 10);
    h.cmd(["revoke", &format!("{WEATHER}@1.0.0")]).success();
    let (feed, payload) = h.feed_file("v.jws", &[]);
    assert_eq!(payload["entries"][0]["kind"], "server");
    assert_eq!(payload["entries"][0]["id"], format!("{WEATHER}@1.0.0"));
    revoked(verify(&h, &w1, WEATHER, Some(&feed), &[]));
    verify(&h, &w2, WEATHER, Some(&feed), &[]).success();
    verify(&h, &m, MAPS, Some(&feed), &[]).success();
    h.try_issue(&format!("{WEATHER}@1.0.0"), &[]).denied("server_revoked");
    h.issue(&format!("{WEATHER}@2.0.0"), &[]);

    h.set_now(T0 + 20);
    h.cmd(["revoke", WEATHER]).success();
    let (feed, payload) = h.feed_file("name.jws", &[]);
    assert_eq!(payload["seq"], 2);
    revoked(verify(&h, &w2, WEATHER, Some(&feed), &[])).stderr_has(&["server", WEATHER]);
    verify(&h, &m, MAPS, Some(&feed), &[]).success();
    h.try_issue(WEATHER, &[]).denied("server_revoked");

    // Resumed later: descriptors issued after the revocation pass the same feed.
    h.set_now(T0 + 30);
    h.cmd(["server", "resume", WEATHER]).success();
    h.cmd(["server", "resume", &format!("{WEATHER}@1.0.0")]).success();
    let later = h.issue(WEATHER, &[]);
    let later1 = h.issue(&format!("{WEATHER}@1.0.0"), &[]);
    verify(&h, &later, WEATHER, Some(&feed), &[]).success();
    verify(&h, &later1, WEATHER, Some(&feed), &[]).success();
    let (fresh_feed, _) = h.feed_file("fresh.jws", &[]);
    verify(&h, &later, WEATHER, Some(&fresh_feed), &[]).success();
    revoked(verify(&h, &w2, WEATHER, Some(&fresh_feed), &[]));

    h.cmd(["revoke", "io.github.acme/nope"]).fails(2).no_stdout();
}

#[test]
fn revoke_a_key() {
    let h = Home::init();
    h.add_server(WEATHER, &[]);
    let k1 = h.kid("active");
    let k2 = h.kid("next");
    let old = h.issue(WEATHER, &[]);
    let jwks_before = h.jwks_file("jwks-before.json");

    h.set_now(T0 + 10);
    // Without a terminal, revoking a key needs --yes; nothing changes without it.
    h.cmd(["revoke", "--key", &k1]).fails(2).no_stdout();
    assert_eq!(h.kid("active"), k1);
    assert_eq!(h.feed_file("none.jws", &[]).1["entries"], json!([]));

    let r = h.cmd(["revoke", "--key", &k1, "--yes", "-o", "json"]).success().json();
    assert_eq!((r["revocation"]["kind"].as_str(), r["revocation"]["id"].as_str()), (Some("key"), Some(k1.as_str())));
    assert_eq!(r["activated"], k2.as_str());
    let new = h.issue(WEATHER, &[]);
    assert_eq!(decode_jws(&new).0["kid"], k2.as_str());

    let (feed, payload) = h.feed_file("feed.jws", &[]);
    assert_eq!(decode_jws(std::fs::read_to_string(&feed).unwrap().trim()).0["kid"], k2.as_str());
    assert_eq!(payload["entries"], json!([{"kind": "key", "id": k1, "revoked_at": T0 + 10, "expires_at": T0 + 10 + MAX_VALIDITY}]));
    // A server with a JWKS cached before the revocation learns it from the feed.
    let cached = ["--jwks", jwks_before.to_str().unwrap(), "--issuer", DEFAULT_ISSUER];
    verify(&h, &old, WEATHER, None, &cached).success();
    revoked(verify(&h, &old, WEATHER, Some(&feed), &cached)).stderr_has(&["key", &k1]);
    verify(&h, &new, WEATHER, Some(&feed), &cached).success();
    // With the current keys, the revoked key is simply gone.
    verify(&h, &old, WEATHER, None, &[]).fails(1).stderr_has(&["descriptor_invalid"]);
}

#[test]
fn since_returns_newer_entries_and_expired_entries_drop_out() {
    let h = Home::init();
    h.add_server(WEATHER, &[]);
    h.add_server(MAPS, &[]);
    h.add_client("bot", &["--allow", "*"]);
    let jti = h.issue_json(WEATHER, &[])["jti"].as_str().unwrap().to_owned();
    h.set_now(T0 + 1);
    h.cmd(["revoke", "--jti", &jti]).success();
    h.set_now(T0 + 2);
    h.cmd(["revoke", MAPS]).success();
    h.set_now(T0 + 3);
    h.cmd(["revoke", "--client", "bot"]).success();

    let ids =
        |p: &Value| -> Vec<String> { p["entries"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect() };
    let (_, all) = h.feed_file("all.jws", &[]);
    assert_eq!(all["seq"], 3);
    assert_eq!(ids(&all), [jti.as_str(), MAPS, "bot"]);
    let (_, since1) = h.feed_file("s1.jws", &["--since", "1"]);
    assert_eq!(since1["seq"], 3);
    assert_eq!(ids(&since1), [MAPS, "bot"]);
    let (_, since2) = h.feed_file("s2.jws", &["--since", "2"]);
    assert_eq!(ids(&since2), ["bot"]);
    let (_, since3) = h.feed_file("s3.jws", &["--since", "3"]);
    assert_eq!(since3["seq"], 3);
    assert!(ids(&since3).is_empty());
    // A cursor beyond the head gets the real head back, so a follower can recover.
    let (_, beyond) = h.feed_file("s9.jws", &["--since", "99"]);
    assert_eq!(beyond["seq"], 3);
    assert!(ids(&beyond).is_empty());
    h.cmd(["revocations", "--since", "soon"]).fails(2).no_stdout();

    // An entry stays until no descriptor it matches can be valid, then drops out; seq stays.
    h.set_now(T0 + 1 + MAX_VALIDITY - 1);
    assert_eq!(ids(&h.feed_file("a.jws", &[]).1), [jti.as_str(), MAPS, "bot"]);
    h.set_now(T0 + 1 + MAX_VALIDITY);
    let (_, later) = h.feed_file("b.jws", &[]);
    assert_eq!(ids(&later), [MAPS, "bot"]);
    assert_eq!(later["issued_at"], T0 + 1 + MAX_VALIDITY);
    h.set_now(T0 + 3 + MAX_VALIDITY);
    let (_, gone) = h.feed_file("c.jws", &[]);
    assert!(ids(&gone).is_empty(), "{gone}");
    assert_eq!(gone["seq"], 3);
    assert_eq!(h.feed_file("d.jws", &["--since", "1"]).1["seq"], 3);
}

#[test]
fn feed_entries_last_as_long_as_the_longest_descriptor_can() {
    let h = Home::init();
    let config = h.dir().join("config.yaml");
    let text = std::fs::read_to_string(&config).unwrap() + "\nmax_ttl: 10m\n";
    std::fs::write(&config, text).unwrap();
    h.add_server(WEATHER, &[]);
    let jti = h.issue_json(WEATHER, &[])["jti"].as_str().unwrap().to_owned();
    h.cmd(["revoke", "--jti", &jti]).success();
    let (_, p) = h.feed_file("f.jws", &[]);
    assert_eq!(p["entries"][0]["expires_at"], T0 + 600 + 15);
    h.set_now(T0 + 615);
    assert_eq!(h.feed_file("g.jws", &[]).1["entries"], json!([]));
}

fn b64(v: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(v)
}

#[test]
fn a_tampered_or_foreign_feed_makes_verify_exit_2() {
    let h = Home::init();
    h.add_server(WEATHER, &[]);
    let env = h.issue_json(WEATHER, &[]);
    let token = env["descriptor"].as_str().unwrap().to_owned();
    h.cmd(["revoke", "--jti", env["jti"].as_str().unwrap()]).success();
    let (good, payload) = h.feed_file("good.jws", &[]);
    revoked(verify(&h, &token, WEATHER, Some(&good), &[]));
    let jws = std::fs::read_to_string(&good).unwrap().trim().to_owned();
    let parts: Vec<&str> = jws.split('.').collect();

    // The entry removed, the signature kept.
    let mut emptied = payload.clone();
    emptied["entries"] = json!([]);
    let forged = format!("{}.{}.{}", parts[0], b64(emptied.to_string().as_bytes()), parts[2]);
    // One signature byte changed.
    let mut sig = unb64url(parts[2]);
    sig[0] ^= 1;
    let bad_sig = format!("{}.{}.{}", parts[0], parts[1], b64(&sig));
    // Another authority's feed.
    let stranger = Home::init();
    let foreign = stranger.cmd(["revocations"]).success().stdout;
    // A descriptor is not a feed.
    let cases = [
        ("forged", forged),
        ("bad-sig", bad_sig),
        ("truncated", format!("{}.{}", parts[0], parts[1])),
        ("garbage", "not a feed".to_owned()),
        ("empty", String::new()),
        ("foreign", foreign),
        ("descriptor", token.clone()),
    ];
    for (name, text) in cases {
        let path = h.scratch(&format!("{name}.jws"), text);
        let out = verify(&h, &token, WEATHER, Some(&path), &[]).fails(2).no_stdout();
        assert!(out.stderr.contains("revocation feed"), "{name}: {}", out.stderr);
    }
    verify(&h, &token, WEATHER, Some(&h.root().join("missing.jws")), &[]).fails(2).no_stdout();
}

#[test]
fn a_jti_in_any_uuid_spelling_revokes_the_descriptor() {
    let h = Home::init();
    h.add_server(WEATHER, &[]);
    for (i, spell) in [
        (|j: &str| j.to_ascii_uppercase()) as fn(&str) -> String,
        |j: &str| j.replace('-', ""),
        |j: &str| format!("{{{j}}}"),
        |j: &str| format!("urn:uuid:{j}"),
        |j: &str| format!("  {j}\n"),
    ]
    .into_iter()
    .enumerate()
    {
        h.set_now(T0 + 10 * i as i64);
        let env = h.issue_json(WEATHER, &[]);
        let jti = env["jti"].as_str().unwrap();
        let r = h.cmd(["revoke", "--jti", &spell(jti), "-o", "json"]).success().json();
        assert_eq!(r["revocation"]["id"], jti, "stored in the descriptor's own spelling");
        let (feed, _) = h.feed_file(&format!("f{i}.jws"), &[]);
        revoked(verify(&h, env["descriptor"].as_str().unwrap(), WEATHER, Some(&feed), &[]));
        assert_eq!(h.last_event()["target"], jti);
    }
}

#[test]
fn a_server_entry_matches_that_name_exactly() {
    let h = Home::init();
    h.add_server(WEATHER, &[]);
    h.add_server("io.github.acme/weather2", &[]);
    h.add_server("io.github.acme/weathe", &[]);
    let w = h.issue(WEATHER, &[]);
    let w2 = h.issue("io.github.acme/weather2", &[]);
    let w0 = h.issue("io.github.acme/weathe", &[]);
    h.cmd(["revoke", WEATHER]).success();
    h.cmd(["revoke", "io.github.acme/weathe@2.0.0"]).fails(2);
    let (feed, _) = h.feed_file("feed.jws", &[]);
    revoked(verify(&h, &w, WEATHER, Some(&feed), &[]));
    verify(&h, &w2, "io.github.acme/weather2", Some(&feed), &[]).success();
    verify(&h, &w0, "io.github.acme/weathe", Some(&feed), &[]).success();
}
