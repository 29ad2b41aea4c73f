//! Admin tokens: shown once, listed by id/role/state (active → expired, revoked), never stored
//! or shown in clear.

use crate::util::*;

fn tokens(h: &Home) -> Vec<serde_json::Value> {
    h.cmd(["token", "list", "-o", "json"]).success().json().as_array().unwrap().clone()
}

fn state_of(h: &Home, id: &str) -> String {
    tokens(h).iter().find(|t| t["id"] == id).unwrap_or_else(|| panic!("no token {id}"))["state"].as_str().unwrap().to_owned()
}

#[test]
fn tokens_are_shown_once_listed_without_the_secret_and_expire_or_get_revoked() {
    let h = Home::init();
    let out = h.cmd(["token", "create", "--role", "admin", "--name", "ci", "--expires", "1h"]).success().stderr_has(&["shown once"]);
    assert_eq!(out.stdout.lines().count(), 1);
    let admin = out.stdout.trim().to_owned();
    let rest = admin.strip_prefix("mcpca_at_").unwrap_or_else(|| panic!("{admin:?}"));
    assert_eq!(rest.len(), 43);
    assert_eq!(unb64url(rest).len(), 32);

    let created = h.cmd(["token", "create", "--role", "reader", "-o", "json"]).success().json();
    let reader = created["secret"].as_str().unwrap().to_owned();
    assert!(reader.starts_with("mcpca_at_") && reader.len() == 9 + 43, "{reader}");
    assert_ne!(reader, admin);
    let reader_id = created["token"]["id"].as_str().unwrap().to_owned();
    assert_eq!(created["token"]["role"], "reader");
    assert_eq!(created["token"]["state"], "active");
    assert!(created["token"].get("expires_at").is_none(), "{created}");

    let list = tokens(&h);
    assert_eq!(list.len(), 2);
    let admin_entry = list.iter().find(|t| t["role"] == "admin").unwrap().clone();
    let admin_id = admin_entry["id"].as_str().unwrap().to_owned();
    assert_ne!(admin_id, reader_id);
    assert_eq!(admin_entry["name"], "ci");
    assert_eq!(admin_entry["state"], "active");
    assert_eq!(admin_entry["created_at"], rfc3339(T0));
    assert_eq!(admin_entry["expires_at"], rfc3339(T0 + 3600));

    // Never the token itself, in any listing.
    for args in [vec!["token", "list"], vec!["token", "list", "-o", "json"], vec!["token", "list", "-o", "yaml"]] {
        let out = h.cmd(&args).success();
        assert!(out.stdout.contains(&admin_id) && out.stdout.contains(&reader_id), "{args:?}: {}", out.stdout);
        for s in [&admin, &reader] {
            assert!(!out.stdout.contains(s.as_str()) && !out.stdout.contains(&s[9..]), "{args:?} shows a token");
            assert!(!out.stderr.contains(&s[9..]));
        }
        assert!(!out.stdout.contains("mcpca_at_"));
    }
    let table = h.cmd(["token", "list"]).success().stdout;
    let row = table.lines().find(|l| l.contains(&admin_id)).unwrap();
    assert!(row.contains("admin") && row.contains("active") && row.contains("ci"), "{row}");

    // Stored hashed only.
    let db = h.db_bytes();
    for s in [&admin, &reader] {
        assert!(contains(&db, &sha256(s.as_bytes())), "the database lacks a token's SHA-256");
    }
    let everything = h.home_bytes();
    for s in [&admin, &reader] {
        assert!(!contains(&everything, s.as_bytes()) && !contains(&everything, &s.as_bytes()[9..]), "a file holds a token");
    }

    // Expiry follows the clock: active until the last second, expired from expires_at on.
    h.set_now(T0 + 3599);
    assert_eq!(state_of(&h, &admin_id), "active");
    h.set_now(T0 + 3600);
    assert_eq!(state_of(&h, &admin_id), "expired");
    assert_eq!(state_of(&h, &reader_id), "active");
    let row = h.cmd(["token", "list"]).success().stdout;
    assert!(row.lines().any(|l| l.contains(&admin_id) && l.contains("expired")), "{row}");

    // Revocation.
    h.set_now(T0 + 4000);
    let t = h.cmd(["token", "revoke", &reader_id, "-o", "json"]).success().json();
    assert_eq!(t["state"], "revoked");
    assert_eq!(t["revoked_at"], rfc3339(T0 + 4000));
    assert_eq!(state_of(&h, &reader_id), "revoked");
    h.cmd(["token", "revoke", &reader_id]).fails(2).no_stdout().stderr_has(&["already revoked"]);
    h.cmd(["token", "revoke", "at_00000000"]).fails(2).no_stdout().stderr_has(&["not found"]);
    // A revoked token stays revoked, whatever the clock says.
    h.set_now(T0);
    assert_eq!(state_of(&h, &reader_id), "revoked");

    // The audit log names the tokens by id only.
    let events = h.audit(&[]);
    assert!(events.iter().any(|e| e["action"] == "token.create" && e["target"] == admin_id.as_str()));
    assert!(events.iter().any(|e| e["action"] == "token.create" && e["target"] == reader_id.as_str()));
    assert!(events.iter().any(|e| e["action"] == "token.revoke" && e["target"] == reader_id.as_str()));
}

#[test]
fn bad_token_requests_are_refused() {
    let h = Home::init();
    for args in [
        vec!["token", "create"],
        vec!["token", "create", "--role", "owner"],
        vec!["token", "create", "--role", "admin", "--expires", "0s"],
        vec!["token", "create", "--role", "admin", "--expires", "tomorrow"],
    ] {
        h.cmd(&args).fails(2).no_stdout();
    }
    assert_eq!(h.cmd(["token", "list", "-o", "json"]).success().json(), serde_json::json!([]));
    assert_eq!(h.db().query_row("SELECT count(*) FROM admin_tokens", [], |r| r.get::<_, i64>(0)).unwrap(), 0);
}
