//! Clients: the secret is shown once and stored only as a hash; list/show never show it;
//! lifecycle (rotate, suspend, resume, remove); bad input refused with nothing stored.

use crate::util::*;

/// A client secret: `mcpca_cs_` and 43 base64url characters (32 random bytes).
#[track_caller]
fn assert_secret_shape(s: &str, prefix: &str) {
    let rest = s.strip_prefix(prefix).unwrap_or_else(|| panic!("{s:?} lacks the prefix {prefix}"));
    assert_eq!(rest.len(), 43, "{s:?}");
    assert!(rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "{s:?} is not base64url");
    assert_eq!(unb64url(rest).len(), 32);
}

fn stored_hash(h: &Home, id: &str) -> Vec<u8> {
    h.db().query_row("SELECT secret_hash FROM clients WHERE id = ?1", [id], |r| r.get(0)).unwrap()
}

#[test]
fn client_add_prints_the_secret_once_and_keeps_only_its_hash() {
    let h = Home::init();
    let out = h
        .cmd([
            "client",
            "add",
            "ci-bot",
            "--tenant",
            "acme",
            "--allow",
            "io.github.acme/*",
            "--allow",
            "io.github.other/x",
            "--max-ttl",
            "5m",
            "--rate",
            "60/min",
        ])
        .success()
        .stderr_has(&["shown once"]);
    // stdout is the secret alone, on one line.
    assert_eq!(out.stdout.lines().count(), 1, "{}", out.stdout);
    let secret = out.stdout.trim().to_owned();
    assert_secret_shape(&secret, "mcpca_cs_");
    assert!(!out.stderr.contains(&secret), "the secret belongs on stdout only");

    let (secret2, client) = h.add_client("dashboard", &["--allow", "*"]);
    assert_secret_shape(&secret2, "mcpca_cs_");
    assert_ne!(secret, secret2);
    assert_eq!(client["id"], "dashboard");
    assert_eq!(client["allow"], serde_json::json!(["*"]));
    assert_eq!(client["status"], "active");

    let shown = h.client("ci-bot");
    assert_eq!(shown["id"], "ci-bot");
    assert_eq!(shown["tenant"], "acme");
    assert_eq!(shown["allow"], serde_json::json!(["io.github.acme/*", "io.github.other/x"]));
    assert_eq!(shown["max_ttl"], "5m");
    assert_eq!(shown["rate_per_min"], 60);
    assert_eq!(shown["status"], "active");
    assert_eq!(shown["created_at"], rfc3339(T0));

    // No listing, in any format, shows a secret.
    for args in [
        vec!["client", "list"],
        vec!["client", "list", "-o", "json"],
        vec!["client", "list", "-o", "yaml"],
        vec!["client", "show", "ci-bot"],
        vec!["client", "show", "ci-bot", "-o", "json"],
        vec!["client", "show", "dashboard", "-o", "yaml"],
    ] {
        let out = h.cmd(&args).success();
        for text in [&out.stdout, &out.stderr] {
            assert!(!text.contains("mcpca_cs_"), "{args:?} shows a secret: {text}");
            assert!(!text.contains(&secret[9..]) && !text.contains(&secret2[9..]), "{args:?} shows a secret");
        }
    }
    let list = h.cmd(["client", "list", "-o", "json"]).success().json();
    let ids: Vec<&str> = list.as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["ci-bot", "dashboard"]);
    assert!(list.as_array().unwrap().iter().all(|c| c.get("secret").is_none() && c.get("secret_hash").is_none()));

    // On disk: the SHA-256 of each secret, never the secret (not even its random part).
    let db = h.db_bytes();
    for s in [&secret, &secret2] {
        assert!(contains(&db, &sha256(s.as_bytes())), "the database lacks the secret's SHA-256");
        assert_eq!(stored_hash(&h, if s == &secret { "ci-bot" } else { "dashboard" }), sha256(s.as_bytes()).to_vec());
    }
    let everything = h.home_bytes();
    for s in [&secret, &secret2] {
        assert!(!contains(&everything, s.as_bytes()), "a file of the home holds a client secret");
        assert!(!contains(&everything, &s.as_bytes()[9..]), "a file of the home holds a client secret's random part");
    }
}

#[test]
fn rotate_secret_replaces_the_hash_and_prints_the_new_secret_once() {
    let h = Home::init();
    let (old, _) = h.add_client("bot", &["--allow", "*"]);
    let out = h.cmd(["client", "rotate-secret", "bot"]).success().stderr_has(&["shown once"]);
    let new = out.stdout.trim().to_owned();
    assert_secret_shape(&new, "mcpca_cs_");
    assert_ne!(new, old);
    assert_eq!(stored_hash(&h, "bot"), sha256(new.as_bytes()).to_vec());
    let v = h.cmd(["client", "rotate-secret", "bot", "-o", "json"]).success().json();
    let newer = v["secret"].as_str().unwrap();
    assert_secret_shape(newer, "mcpca_cs_");
    assert_ne!(newer, new);
    assert_eq!(v["client"]["id"], "bot");
    assert_eq!(stored_hash(&h, "bot"), sha256(newer.as_bytes()).to_vec());
    assert!(!contains(&h.home_bytes(), newer.as_bytes()));
    // The policy is untouched; an unknown client has nothing to rotate.
    assert_eq!(h.client("bot")["allow"], serde_json::json!(["*"]));
    h.cmd(["client", "rotate-secret", "ghost"]).fails(2).no_stdout().stderr_has(&["client not found: ghost"]);
}

#[test]
fn suspend_resume_and_remove() {
    let h = Home::init();
    h.add_server("io.github.acme/weather", &[]);
    h.add_client("bot", &["--allow", "io.github.acme/*"]);
    h.issue("io.github.acme/weather", &["--client", "bot"]);

    h.set_now(T0 + 10);
    let c = h.cmd(["client", "suspend", "bot", "--reason", "leaked secret", "-o", "json"]).success().json();
    assert_eq!(c["status"], "suspended");
    assert_eq!(c["status_reason"], "leaked secret");
    assert_eq!(h.client("bot")["status"], "suspended");
    assert_eq!(h.client("bot")["updated_at"], rfc3339(T0 + 10));
    h.try_issue("io.github.acme/weather", &["--client", "bot"]).denied("policy_blocked").stderr_has(&["suspended", "leaked secret"]);

    h.set_now(T0 + 20);
    let c = h.cmd(["client", "resume", "bot", "-o", "json"]).success().json();
    assert_eq!(c["status"], "active");
    assert!(c.get("status_reason").is_none(), "{c}");
    h.issue("io.github.acme/weather", &["--client", "bot"]);

    h.set_now(T0 + 30);
    h.cmd(["client", "remove", "bot"]).success().no_stdout();
    h.cmd(["client", "show", "bot"]).fails(2).no_stdout().stderr_has(&["client not found: bot"]);
    assert_eq!(h.cmd(["client", "list", "-o", "json"]).success().json(), serde_json::json!([]));
    assert_eq!(h.db().query_row("SELECT count(*) FROM clients", [], |r| r.get::<_, i64>(0)).unwrap(), 0);
    h.try_issue("io.github.acme/weather", &["--client", "bot"]).denied("policy_blocked").stderr_has(&["not registered"]);
    // What it held is revoked: the feed lists the client.
    let (_, feed) = h.feed_file("feed.jws", &[]);
    let entries = feed["entries"].as_array().unwrap();
    assert!(entries.iter().any(|e| e["kind"] == "client" && e["id"] == "bot" && e["revoked_at"] == T0 + 30), "{feed}");

    for cmd in ["suspend", "resume", "remove"] {
        h.cmd(["client", cmd, "ghost"]).fails(2).no_stdout().stderr_has(&["client not found: ghost"]);
    }
    // The id is free again.
    h.add_client("bot", &["--allow", "*"]);
}

#[test]
fn bad_client_input_is_refused_and_nothing_is_stored() {
    let h = Home::init();
    let events = h.audit_count();
    let long_id = "a".repeat(129);
    let cases: Vec<Vec<&str>> = vec![
        // Ids.
        vec!["client", "add", "", "--allow", "*"],
        vec!["client", "add", "has space", "--allow", "*"],
        vec!["client", "add", "a/b", "--allow", "*"],
        vec!["client", "add", "bé", "--allow", "*"],
        vec!["client", "add", &long_id, "--allow", "*"],
        vec!["client", "add", "operator", "--allow", "*"],
        // Patterns.
        vec!["client", "add", "p1"],
        vec!["client", "add", "p2", "--allow", ""],
        vec!["client", "add", "p3", "--allow", "io.github.*/x"],
        vec!["client", "add", "p4", "--allow", "**"],
        vec!["client", "add", "p5", "--allow", "*/x"],
        vec!["client", "add", "p6", "--allow", "a b"],
        vec!["client", "add", "p7", "--allow", "*", "--allow", "a*b"],
        // Limits.
        vec!["client", "add", "r1", "--allow", "*", "--rate", "0"],
        vec!["client", "add", "r2", "--allow", "*", "--rate", "0/min"],
        vec!["client", "add", "r3", "--allow", "*", "--rate", "-1"],
        vec!["client", "add", "r4", "--allow", "*", "--rate", "many"],
        vec!["client", "add", "t1", "--allow", "*", "--max-ttl", "0s"],
        vec!["client", "add", "t2", "--allow", "*", "--max-ttl", "25h"],
        vec!["client", "add", "t3", "--allow", "*", "--max-ttl", "soon"],
        vec!["client", "add", "n1", "--allow", "*", "--tenant", " "],
    ];
    for args in &cases {
        let out = h.cmd(args).fails(2).no_stdout();
        assert!(out.stderr.contains("error"), "{args:?}: {}", out.stderr);
    }
    // `operator` is reserved: the message says so.
    h.cmd(["client", "add", "operator", "--allow", "*"]).fails(2).stderr_has(&["reserved"]);
    assert_eq!(h.cmd(["client", "list", "-o", "json"]).success().json(), serde_json::json!([]));
    assert_eq!(h.db().query_row("SELECT count(*) FROM clients", [], |r| r.get::<_, i64>(0)).unwrap(), 0);
    assert_eq!(h.audit_count(), events, "a refused client add left an audit event");

    // Limits at the edges are accepted.
    h.add_client("edge", &["--allow", "*", "--rate", "1/min", "--max-ttl", "24h"]);
    let long_ok = "a".repeat(128);
    h.add_client(&long_ok, &["--allow", "*"]);
    h.add_client("a.b_c-d:e@f", &["--allow", "*"]);
}

#[test]
fn a_duplicate_client_id_is_refused_and_the_first_secret_stays_valid() {
    let h = Home::init();
    let (first, _) = h.add_client("bot", &["--tenant", "acme", "--allow", "*"]);
    h.cmd(["client", "add", "bot", "--allow", "io.github.evil/*"]).fails(2).no_stdout().stderr_has(&["already exists: bot"]);
    assert_eq!(stored_hash(&h, "bot"), sha256(first.as_bytes()).to_vec());
    let c = h.client("bot");
    assert_eq!(c["allow"], serde_json::json!(["*"]));
    assert_eq!(c["tenant"], "acme");
    assert_eq!(h.audit(&[]).iter().filter(|e| e["action"] == "client.add").count(), 1);
}

#[test]
fn client_update_replaces_only_the_given_fields() {
    let h = Home::init();
    h.add_client("bot", &["--tenant", "acme", "--allow", "io.github.acme/*", "--max-ttl", "5m", "--rate", "10/min"]);
    let c = h.cmd(["client", "update", "bot", "--allow", "io.github.acme/weather", "-o", "json"]).success().json();
    assert_eq!(c["allow"], serde_json::json!(["io.github.acme/weather"]));
    assert_eq!((c["tenant"].as_str(), c["max_ttl"].as_str(), c["rate_per_min"].as_u64()), (Some("acme"), Some("5m"), Some(10)));
    let c = h.cmd(["client", "update", "bot", "--no-tenant", "--no-max-ttl", "--no-rate", "-o", "json"]).success().json();
    assert!(c.get("tenant").is_none() && c.get("max_ttl").is_none() && c.get("rate_per_min").is_none(), "{c}");
    h.cmd(["client", "update", "bot", "--allow", "a*b"]).fails(2);
    h.cmd(["client", "update", "ghost", "--allow", "*"]).fails(2).stderr_has(&["client not found: ghost"]);
    assert_eq!(h.client("bot")["allow"], serde_json::json!(["io.github.acme/weather"]));
}
