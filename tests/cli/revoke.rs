//! `mcpca revoke NAME[@VERSION] | --jti ID | --key KID` and `mcpca revocations`.

use crate::util::*;

const WEATHER: &str = "io.github.acme/weather";
const WEATHER_URL: &str = "https://weather.acme.dev/mcp";

fn with_server() -> Home {
    let h = Home::init();
    h.add_server(WEATHER, WEATHER_URL, &[]);
    h
}

#[test]
fn revoke_a_server_stops_issuance() {
    let h = with_server();
    h.add_server(WEATHER, WEATHER_URL, &["--version", "2.0.0"]);
    h.set_now(T0 + 42);
    let out = h.cmd(["revoke", WEATHER, "--reason", "compromised", "-o", "json"]).success();
    assert!(out.stderr.contains("server_revoked"), "{}", out.stderr);
    let r = out.json();
    assert_eq!(r["revocation"]["kind"], "server");
    assert_eq!(r["revocation"]["id"], WEATHER);
    assert_eq!(r["revocation"]["revoked_at"], T0 + 42);
    assert_eq!(r["revocation"]["expires_at"], T0 + 42 + DEFAULT_GRACE, "kept while a descriptor issued before can be valid");
    assert_eq!(r["revocation"]["reason"], "compromised");

    for v in [WEATHER, "io.github.acme/weather@1.0.0", "io.github.acme/weather@2.0.0"] {
        let d = h.show(v);
        assert_eq!(d["authority"]["status"], "revoked", "{v}");
        h.cmd(["issue", "--server", v]).fails(1).stderr_has(&["server_revoked", "compromised"]).no_stdout();
    }
    assert_eq!(h.show(WEATHER)["authority"]["status_reason"], "compromised");
    // Listed with its status (revoked is not deleted).
    assert_eq!(names(&h.servers(&["--status", "revoked"])), ["io.github.acme/weather@1.0.0", "io.github.acme/weather@2.0.0"]);

    let revs = h.revocations();
    assert_eq!(revs.len(), 1);
    assert_eq!(revs[0], feed_entry(&r["revocation"]));
    // Unknown servers cannot be revoked; nothing is recorded.
    h.cmd(["revoke", "io.github.acme/nothing"]).fails(2).stderr_has(&["not found"]);
    h.cmd(["revoke", "io.github.acme/weather@9.9.9"]).fails(2).stderr_has(&["not found"]);
    assert_eq!(h.revocations().len(), 1);
}

#[test]
fn revoke_one_version_only() {
    let h = with_server();
    h.add_server(WEATHER, WEATHER_URL, &["--version", "2.0.0"]);
    h.cmd(["revoke", "io.github.acme/weather@1.0.0"]).success();
    assert_eq!(h.show("io.github.acme/weather@1.0.0")["authority"]["status"], "revoked");
    assert_eq!(h.show("io.github.acme/weather@2.0.0")["authority"]["status"], "active");
    h.cmd(["issue", "--server", "io.github.acme/weather@1.0.0"]).fails(1).stderr_has(&["server_revoked"]);
    h.issue("io.github.acme/weather@2.0.0", &[]);
    h.issue(WEATHER, &[]);
    let revs = h.revocations();
    assert_eq!(revs.len(), 1);
    assert_eq!(revs[0]["kind"], "server");
    assert_eq!(revs[0]["id"], "io.github.acme/weather@1.0.0");
}

#[test]
fn revoke_a_descriptor_by_jti() {
    let h = with_server();
    let e = h.issue_json(WEATHER, &[]);
    let jti = e["jti"].as_str().unwrap();
    h.set_now(T0 + 7);
    let r = h.cmd(["revoke", "--jti", jti, "-o", "json"]).success().json();
    assert_eq!(r["revocation"]["kind"], "jti");
    assert_eq!(r["revocation"]["id"], jti);
    let revs = h.revocations();
    assert_eq!(revs.len(), 1);
    assert_eq!(revs[0]["kind"], "jti");
    assert_eq!(revs[0]["id"], jti);
    assert_eq!(revs[0]["revoked_at"], T0 + 7);
    assert_eq!(revs[0]["expires_at"], T0 + 7 + DEFAULT_GRACE);
    // The server is untouched.
    h.issue(WEATHER, &[]);

    for bad in ["not-a-uuid", "1234", ""] {
        h.cmd(["revoke", "--jti", bad]).fails(2).no_stdout();
    }
    h.cmd(["revoke", "--jti", "not-a-uuid"]).fails(2).stderr_has(&["not a descriptor id"]);
    assert_eq!(h.revocations().len(), 1, "nothing recorded for a refused jti");
}

#[test]
fn revoke_a_key() {
    let h = with_server();
    let active = h.kid("active");
    let next = h.kid("next");
    let jwt = h.issue(WEATHER, &[]);
    h.cmd(["revoke", "--key", &active]).fails(2).stderr_has(&["without confirmation", "--yes"]).no_stdout();
    assert_eq!(h.key(&active)["state"], "active");
    assert!(h.revocations().is_empty());

    let out = h.cmd(["revoke", "--key", &active, "--yes", "-o", "json"]).success();
    let r = out.json();
    assert_eq!(r["revocation"]["kind"], "key");
    assert_eq!(r["revocation"]["id"], active.as_str());
    assert_eq!(r["activated"], next.as_str());
    assert_eq!(h.key(&active)["state"], "revoked");
    assert_eq!(h.kid("active"), next);
    assert!(!h.published_kids().contains(&active));
    h.command(["verify", "--audience", WEATHER_URL]).stdin(jwt).run().fails(1).stderr_has(&["descriptor_invalid"]);
    h.cmd(["revoke", "--key", "nope", "--yes"]).fails(2).stderr_has(&["not found"]);
}

#[test]
fn revoke_needs_exactly_one_target() {
    let h = with_server();
    h.cmd(["revoke"]).fails(2).no_stdout();
    h.cmd(["revoke", WEATHER, "--jti", "0190f2a4-0000-7000-8000-000000000000"]).fails(2).no_stdout();
    assert!(h.revocations().is_empty());
}

#[test]
fn revocations_since() {
    let h = with_server();
    h.add_server("io.github.acme/tides", "https://tides.acme.dev/mcp", &[]);
    let jti = h.issue_json(WEATHER, &[])["jti"].as_str().unwrap().to_owned();
    let mut reports = vec![h.cmd(["revoke", "--jti", &jti, "-o", "json"]).success().json()];
    reports.push(h.cmd(["revoke", "io.github.acme/tides", "-o", "json"]).success().json());
    let next = h.kid("next");
    reports.push(h.cmd(["revoke", "--key", &next, "--yes", "-o", "json"]).success().json());
    let seqs: Vec<i64> = reports.iter().map(|r| r["revocation"]["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");

    let all = h.revocations();
    let kinds: Vec<&str> = all.iter().map(|r| r["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["jti", "server", "key"]);
    let ids: Vec<&str> = all.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [jti.as_str(), "io.github.acme/tides", next.as_str()]);
    let expected: Vec<_> = reports.iter().map(|r| feed_entry(&r["revocation"])).collect();
    assert_eq!(all, expected);

    assert_eq!(h.revocations_since(seqs[0]), all[1..].to_vec());
    assert_eq!(h.revocations_since(seqs[1]), all[2..].to_vec());
    assert_eq!(h.revocations_since(seqs[2]), Vec::<serde_json::Value>::new());
    h.cmd(["revocations", "--since", "soon"]).fails(2).no_stdout();

    let table = h.cmd(["revocations", "-o", "table"]).success().stdout;
    let header = table.lines().find(|l| l.contains("KIND")).unwrap_or_else(|| panic!("no header: {table}"));
    let header: Vec<&str> = header.split_whitespace().collect();
    assert_eq!(header, ["KIND", "ID", "REVOKED-AT", "EXPIRES-AT"]);
    assert!(table.contains(&jti) && table.contains("io.github.acme/tides") && table.contains(&next), "{table}");
}
