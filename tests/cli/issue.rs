//! `mcpca issue` (DESIGN §3 claims and envelope, TTL clamping, denial codes of §5).

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::util::*;

const WEATHER: &str = "io.github.acme/weather";
const WEATHER_URL: &str = "https://weather.acme.dev/mcp";

fn with_server() -> Home {
    let h = Home::init();
    h.add_server(WEATHER, WEATHER_URL, &["--version", "1.2.0"]);
    h
}

fn keys_of(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn issue_prints_the_jwt_alone() {
    let h = with_server();
    let out = h.cmd(["issue", "--server", WEATHER]).success();
    assert!(out.stdout.ends_with('\n'));
    assert_eq!(out.stdout.lines().count(), 1, "{}", out.stdout);
    let jwt = out.stdout.trim_end();
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3);
    for p in &parts {
        assert!(!p.is_empty());
        assert!(p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "not base64url without padding: {p}");
    }
    assert_eq!(unb64url(parts[2]).len(), 64, "an Ed25519 signature");
    assert!(out.stderr.is_empty(), "nothing else to say: {}", out.stderr);
}

#[test]
fn issue_json_is_the_design_envelope() {
    let h = with_server();
    let e = h.issue_json(WEATHER, &[]);
    assert_eq!(keys_of(&e), set(&["descriptor", "endpoint", "expires_in", "expires_at", "header", "server", "jti"]));
    assert_eq!(e["endpoint"], WEATHER_URL);
    assert_eq!(e["expires_in"], 120);
    assert_eq!(e["expires_at"], rfc3339(T0 + 120));
    assert_eq!(e["expires_at"], "2027-01-15T08:02:00Z");
    assert_eq!(e["header"], "MCP-Connect");
    assert_eq!(e["server"], json!({"id": WEATHER, "version": "1.2.0"}));
    let (_, claims) = decode_jwt(e["descriptor"].as_str().unwrap());
    assert_eq!(e["jti"], claims["jti"]);
    assert_eq!(claims["exp"], T0 + 120);

    // YAML: the same shape.
    let y = h.cmd(["issue", "--server", WEATHER, "-o", "yaml"]).success().yaml();
    assert_eq!(keys_of(&y), keys_of(&e));
    assert_eq!(y["expires_in"], 120);
    assert_eq!(y["server"], e["server"]);
    assert_eq!(decode_jwt(y["descriptor"].as_str().unwrap()).1["aud"], WEATHER_URL);
}

#[test]
fn issue_mcp_config_is_a_ready_entry() {
    let h = with_server();
    let v = h.cmd(["issue", "--server", WEATHER, "--mcp-config"]).success().json();
    let servers = v["mcpServers"].as_object().unwrap();
    assert_eq!(servers.len(), 1);
    let entry = &servers["weather"];
    assert_eq!(keys_of(entry), set(&["type", "url", "headers"]));
    assert_eq!(entry["type"], "http");
    assert_eq!(entry["url"], WEATHER_URL);
    let headers = entry["headers"].as_object().unwrap();
    assert_eq!(headers.len(), 1);
    let jwt = headers["MCP-Connect"].as_str().unwrap();
    assert_eq!(decode_jwt(jwt).1["mcp"]["server"]["id"], WEATHER);
    h.command(["verify", "--audience", WEATHER_URL]).stdin(jwt).run().success();
    // It is its own format.
    h.cmd(["issue", "--server", WEATHER, "--mcp-config", "-o", "json"]).fails(2);
}

#[test]
fn claims_are_exactly_those_of_the_design() {
    let h = Home::init();
    // Registered with a non-canonical URL: `aud` is canonical, `mcp.endpoint` as registered.
    let registered = "https://Weather.ACME.dev:443/mcp/";
    h.add_server(WEATHER, registered, &["--version", "1.2.0", "--verified"]);
    let active = h.kid("active");
    let jwt = h.issue(WEATHER, &[]);
    let (header, c) = decode_jwt(&jwt);
    assert_eq!(header, json!({"alg": "EdDSA", "typ": "at+jwt", "kid": active}));
    assert_eq!(keys_of(&c), set(&["iss", "sub", "client_id", "aud", "iat", "nbf", "exp", "jti", "mcp", "client"]));
    assert_eq!(c["iss"], DEFAULT_ISSUER);
    assert_eq!(c["sub"], "operator");
    assert_eq!(c["client_id"], "operator");
    assert_eq!(c["aud"], "https://weather.acme.dev/mcp");
    assert_eq!(c["iat"], T0);
    assert_eq!(c["nbf"], T0);
    assert_eq!(c["exp"], T0 + 120);
    let jti = uuid::Uuid::parse_str(c["jti"].as_str().unwrap()).unwrap();
    assert_eq!(jti.get_version_num(), 7, "jti is a UUIDv7");
    assert_eq!(
        c["mcp"],
        json!({
            "transport": "streamable_http",
            "endpoint": registered,
            "server": {"id": WEATHER, "version": "1.2.0", "verified": true},
        })
    );
    assert_eq!(c["client"], json!({"id": "operator"}));
    // Two descriptors never share a jti.
    let other = decode_jwt(&h.issue(WEATHER, &[])).1;
    assert_ne!(other["jti"], c["jti"]);
    // And it verifies at the canonical audience.
    h.command(["verify", "--audience", "https://weather.acme.dev/mcp"]).stdin(jwt).run().success();
}

#[test]
fn issue_for_a_named_version() {
    let h = with_server();
    h.add_server(WEATHER, WEATHER_URL, &["--version", "2.0.0"]);
    assert_eq!(decode_jwt(&h.issue(WEATHER, &[])).1["mcp"]["server"]["version"], "2.0.0");
    let e = h.issue_json("io.github.acme/weather@1.2.0", &[]);
    assert_eq!(e["server"]["version"], "1.2.0");
    assert_eq!(decode_jwt(e["descriptor"].as_str().unwrap()).1["mcp"]["server"]["version"], "1.2.0");
}

#[test]
fn client_tenant_and_scope_land_in_the_claims() {
    let h = with_server();
    h.add_client("ci-bot", &["--tenant", "acme"]);
    let jwt = h.issue(WEATHER, &["--client", "ci-bot", "--tenant", "acme", "--scope", "tools:read tools:call"]);
    let c = decode_jwt(&jwt).1;
    assert_eq!(c["sub"], "ci-bot");
    assert_eq!(c["client_id"], "ci-bot");
    assert_eq!(c["client"], json!({"id": "ci-bot", "tenant": "acme"}));
    assert_eq!(c["scope"], "tools:read tools:call");
}

#[test]
fn ttl_default_explicit_and_clamped() {
    let h = with_server();
    h.add_server("io.github.acme/short", "https://short.acme.dev/mcp", &["--max-ttl", "5m"]);
    let lifetime = |jwt: &str| {
        let c = decode_jwt(jwt).1;
        c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap()
    };
    assert_eq!(lifetime(&h.issue(WEATHER, &[])), 120);
    assert_eq!(lifetime(&h.issue(WEATHER, &["--ttl", "30s"])), 30);
    assert_eq!(lifetime(&h.issue(WEATHER, &["--ttl", "5m"])), 300);
    assert_eq!(lifetime(&h.issue(WEATHER, &["--ttl", "1h"])), 3600);

    // Above the server's max TTL: clamped, said on stderr and in the envelope.
    let out = h.cmd(["issue", "--server", "io.github.acme/short", "--ttl", "1h", "-o", "json"]).success();
    assert!(out.stderr.contains("lowered to 5m"), "{}", out.stderr);
    let e = out.json();
    assert_eq!(e["expires_in"], 300);
    assert_eq!(e["clamped"], json!({"requested": "1h", "granted": "5m", "limit": "server_max_ttl"}));
    assert_eq!(lifetime(e["descriptor"].as_str().unwrap()), 300);
    // Plain output: still the JWT alone on stdout, the note on stderr.
    let out = h.cmd(["issue", "--server", "io.github.acme/short", "--ttl", "1h"]).success();
    assert_eq!(out.stdout.lines().count(), 1);
    assert_eq!(lifetime(out.stdout.trim()), 300);
    assert!(out.stderr.contains("lowered"), "{}", out.stderr);
    // Below it: granted as asked.
    assert!(h.issue_json("io.github.acme/short", &["--ttl", "1m"]).get("clamped").is_none());

    // Above the 24h ceiling.
    let out = h.cmd(["issue", "--server", WEATHER, "--ttl", "48h", "-o", "json"]).success();
    let e = out.json();
    assert_eq!(e["expires_in"], 86400);
    assert_eq!(e["clamped"]["requested"], "2d");
    assert_eq!(e["clamped"]["granted"], "1d");
    assert_eq!(lifetime(e["descriptor"].as_str().unwrap()), 86400);
    assert!(out.stderr.contains("lowered to 1d"), "{}", out.stderr);

    // Nonsense durations are usage errors.
    for bad in ["0s", "5", "soon", "-1m"] {
        h.cmd(["issue", "--server", WEATHER, "--ttl", bad]).fails(2).no_stdout();
    }
}

#[test]
fn denials_exit_1_and_name_the_code() {
    let h = with_server();
    let deny = |args: &[&str], code: &str| {
        let mut a = vec!["issue"];
        a.extend_from_slice(args);
        h.cmd(&a).fails(1).stderr_has(&[code, "hint:"]).no_stdout();
        a.extend_from_slice(&["-o", "json"]);
        h.cmd(&a).fails(1).stderr_has(&[code]).no_stdout();
    };
    deny(&["--server", "io.github.acme/nothing"], "server_not_found");
    deny(&["--server", "io.github.acme/weather@9.9.9"], "server_not_found");

    // Packages only: no streamable-http remote.
    let seed = seed_docs().into_iter().find(|d| d["name"] == "io.github.domdomegg/time-mcp-pypi").unwrap();
    h.add_doc(&seed).success();
    deny(&["--server", "io.github.domdomegg/time-mcp-pypi"], "transport_not_supported");

    h.add_server("io.github.acme/suspended", "https://suspended.acme.dev/mcp", &[]);
    h.cmd(["server", "suspend", "io.github.acme/suspended"]).success();
    deny(&["--server", "io.github.acme/suspended"], "policy_blocked");

    h.add_server("io.github.acme/revoked", "https://revoked.acme.dev/mcp", &[]);
    h.cmd(["revoke", "io.github.acme/revoked"]).success();
    deny(&["--server", "io.github.acme/revoked"], "server_revoked");

    h.add_server("io.github.acme/removed", "https://removed.acme.dev/mcp", &[]);
    h.cmd(["server", "remove", "io.github.acme/removed"]).success();
    deny(&["--server", "io.github.acme/removed"], "server_revoked");
    h.cmd(["server", "remove", "io.github.acme/weather@1.2.0"]).success();
    deny(&["--server", "io.github.acme/weather@1.2.0"], "server_revoked");
}

#[test]
fn require_verified_from_config_or_environment() {
    let h = with_server();
    h.add_server("io.github.acme/verified", "https://verified.acme.dev/mcp", &["--verified"]);
    // Without the requirement, unverified servers are issued for.
    h.issue(WEATHER, &[]);

    // From the environment.
    h.command(["issue", "--server", WEATHER])
        .env("MCPCA_REQUIRE_VERIFIED", "true")
        .run()
        .fails(1)
        .stderr_has(&["server_unverified", "mcpca server update"])
        .no_stdout();
    h.command(["issue", "--server", "io.github.acme/verified"]).env("MCPCA_REQUIRE_VERIFIED", "true").run().success();
    h.command(["issue", "--server", WEATHER]).env("MCPCA_REQUIRE_VERIFIED", "maybe").run().fails(2).stderr_has(&["MCPCA_REQUIRE_VERIFIED"]);

    // From config.yaml.
    let cfg = h.file("config.yaml");
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text.push_str("require_verified: true\n");
    std::fs::write(&cfg, text).unwrap();
    h.cmd(["issue", "--server", WEATHER]).fails(1).stderr_has(&["server_unverified"]).no_stdout();
    h.issue("io.github.acme/verified", &[]);
    // The environment beats the file.
    h.command(["issue", "--server", WEATHER]).env("MCPCA_REQUIRE_VERIFIED", "false").run().success();
    // Verifying the server lifts the denial.
    h.cmd(["server", "update", WEATHER, "--verified"]).success();
    let c = decode_jwt(&h.issue(WEATHER, &[])).1;
    assert_eq!(c["mcp"]["server"]["verified"], true);
}

#[test]
fn revoking_every_key_still_leaves_an_active_one() {
    let h = with_server();
    // Revoke the active key with no next key left: a new active one is made, so issuance goes on.
    let next = h.kid("next");
    h.cmd(["key", "revoke", &next, "--yes"]).success();
    let active = h.kid("active");
    let r = h.cmd(["key", "revoke", &active, "--yes", "-o", "json"]).success().json();
    let fresh = r["activated"].as_str().unwrap().to_owned();
    assert_ne!(fresh, active);
    assert_eq!(decode_jwt(&h.issue(WEATHER, &[])).0["kid"], fresh.as_str());
}
