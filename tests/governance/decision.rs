//! The issuance decision (DESIGN §5): every deny code, each exit 1 with the code on stderr and
//! an audit event recording it; client policy (patterns, tenant, max TTL, rate limit); the
//! `operator` principal.

use serde_json::Value;

use crate::util::*;

const WEATHER: &str = "io.github.acme/weather";
const ACMECORP: &str = "io.github.acmecorp/x";
const OTHER: &str = "io.github.other/tool";

fn setup() -> Home {
    let h = Home::init();
    for name in [WEATHER, ACMECORP, OTHER] {
        h.add_server(name, &[]);
    }
    h
}

/// `issue --server SERVER [--client ID] extra…` is denied with `code`; the newest audit event
/// records the denial by `actor` for the server as asked.
#[track_caller]
fn denied(h: &Home, server: &str, client: Option<&str>, extra: &[&str], code: &str) -> Output {
    let mut args = extra.to_vec();
    if let Some(c) = client {
        args.extend(["--client", c]);
    }
    let before = h.audit_count();
    let out = h.try_issue(server, &args).denied(code);
    let events = h.audit(&[]);
    assert_eq!(events.len(), before + 1, "a decision is exactly one audit event");
    let e = events.last().unwrap();
    assert_eq!(e["action"], "issue", "{e}");
    assert_eq!(e["actor"], client.unwrap_or("operator"), "{e}");
    assert_eq!(e["target"], server, "{e}");
    assert_eq!(e["decision"], "deny", "{e}");
    assert_eq!(e["code"], code, "{e}");
    assert_eq!(e["at"], h.now(), "{e}");
    out
}

/// `issue … -o json` is allowed; the newest audit event records it with the descriptor's jti.
#[track_caller]
fn allowed(h: &Home, server: &str, client: Option<&str>, extra: &[&str]) -> Value {
    let mut args = extra.to_vec();
    if let Some(c) = client {
        args.extend(["--client", c]);
    }
    let env = h.issue_json(server, &args);
    let e = h.last_event();
    assert_eq!(e["action"], "issue", "{e}");
    assert_eq!(e["actor"], client.unwrap_or("operator"), "{e}");
    assert_eq!(e["decision"], "allow", "{e}");
    assert!(e.get("code").is_none(), "{e}");
    let name = server.split('@').next().unwrap();
    assert_eq!(e["target"], format!("{name}@{}", env["server"]["version"].as_str().unwrap()), "{e}");
    assert_eq!(e["details"]["jti"], env["jti"], "{e}");
    let (_, claims) = decode_jws(env["descriptor"].as_str().unwrap());
    assert_eq!(claims["sub"], client.unwrap_or("operator"));
    assert_eq!(claims["client_id"], client.unwrap_or("operator"));
    assert_eq!(claims["client"]["id"], client.unwrap_or("operator"));
    assert_eq!(claims["mcp"]["server"]["id"], name);
    env
}

#[test]
fn client_side_denials_are_policy_blocked() {
    let h = setup();
    h.add_client("acme", &["--tenant", "acme", "--allow", "io.github.acme/*"]);
    h.add_client("exact", &["--allow", WEATHER]);
    h.add_client("all", &["--allow", "*"]);
    h.add_client("napping", &["--allow", "*"]);
    h.cmd(["client", "suspend", "napping", "--reason", "on holiday"]).success();

    // Unknown client.
    denied(&h, WEATHER, Some("ghost"), &[], "policy_blocked").stderr_has(&["ghost", "not registered"]);
    // Suspended client.
    denied(&h, WEATHER, Some("napping"), &[], "policy_blocked").stderr_has(&["suspended", "on holiday"]);

    // A prefix pattern matches below its `/`, not a longer namespace.
    allowed(&h, WEATHER, Some("acme"), &[]);
    allowed(&h, &format!("{WEATHER}@1.0.0"), Some("acme"), &[]);
    denied(&h, ACMECORP, Some("acme"), &[], "policy_blocked").stderr_has(&["not allowed", ACMECORP]);
    denied(&h, OTHER, Some("acme"), &[], "policy_blocked");
    // An exact name matches that name only.
    allowed(&h, WEATHER, Some("exact"), &[]);
    denied(&h, ACMECORP, Some("exact"), &[], "policy_blocked");
    denied(&h, OTHER, Some("exact"), &[], "policy_blocked");
    // `*` matches every server.
    for s in [WEATHER, ACMECORP, OTHER] {
        allowed(&h, s, Some("all"), &[]);
    }

    // Tenant: the client's own is put in the descriptor; another one is refused.
    denied(&h, WEATHER, Some("acme"), &["--tenant", "other"], "policy_blocked").stderr_has(&["tenant", "acme", "other"]);
    for extra in [&[][..], &["--tenant", "acme"][..]] {
        let env = allowed(&h, WEATHER, Some("acme"), extra);
        let (_, claims) = decode_jws(env["descriptor"].as_str().unwrap());
        assert_eq!(claims["client"]["tenant"], "acme");
    }
    let env = allowed(&h, WEATHER, Some("all"), &[]);
    assert!(decode_jws(env["descriptor"].as_str().unwrap()).1["client"].get("tenant").is_none());
    // A client without a tenant cannot pick one: servers may trust `client.tenant`.
    denied(&h, WEATHER, Some("all"), &["--tenant", "evil"], "policy_blocked").stderr_has(&["no tenant", "evil"]);

    // The client check comes first: an unknown client asking for an unknown server is policy_blocked.
    denied(&h, "io.github.acme/nope", Some("ghost"), &[], "policy_blocked");
    // A client allowed the namespace asking for a missing server gets server_not_found.
    denied(&h, "io.github.acme/nope", Some("acme"), &[], "server_not_found");
}

#[test]
fn server_side_denials_for_clients_and_the_operator() {
    let h = setup();
    h.add_client("all", &["--allow", "*"]);
    h.add_server("io.github.acme/paused", &[]);
    h.add_server("io.github.acme/revoked", &[]);
    h.add_server("io.github.acme/removed", &[]);
    h.add_server("io.github.acme/old", &[]);
    h.cmd(["server", "suspend", "io.github.acme/paused", "--reason", "incident 42"]).success();
    h.cmd(["revoke", "io.github.acme/revoked", "--reason", "malware"]).success();
    h.cmd(["server", "remove", "io.github.acme/removed"]).success();
    h.cmd(["server", "deprecate", "io.github.acme/old"]).success();
    // Only packages, no remote: nothing to connect to.
    let seed = seed_docs();
    h.add_doc(&seed[3]).success();
    let packages_only = seed[3]["name"].as_str().unwrap().to_owned();

    for client in [Some("all"), None] {
        denied(&h, "io.github.acme/nope", client, &[], "server_not_found").stderr_has(&["io.github.acme/nope"]);
        denied(&h, &format!("{WEATHER}@9.9.9"), client, &[], "server_not_found");
        denied(&h, "io.github.acme/paused", client, &[], "policy_blocked").stderr_has(&["suspended", "incident 42"]);
        denied(&h, "io.github.acme/revoked", client, &[], "server_revoked").stderr_has(&["revoked", "malware"]);
        denied(&h, "io.github.acme/revoked@1.0.0", client, &[], "server_revoked");
        denied(&h, "io.github.acme/removed", client, &[], "server_revoked").stderr_has(&["deleted"]);
        denied(&h, "io.github.acme/removed@1.0.0", client, &[], "server_revoked");
        denied(&h, &packages_only, client, &[], "transport_not_supported").stderr_has(&["streamable-http"]);
        // Deprecated still issues.
        allowed(&h, "io.github.acme/old", client, &[]);
        allowed(&h, WEATHER, client, &[]);
    }

    // Status comes before transport: a revoked server without remotes is server_revoked.
    h.add_doc(&seed[2]).success();
    let name2 = seed[2]["name"].as_str().unwrap();
    h.cmd(["revoke", name2]).success();
    denied(&h, name2, None, &[], "server_revoked");

    // Every denial is in the log with its code; `--decision deny` finds exactly them.
    let denials = h.audit(&["--decision", "deny"]);
    let mut codes: Vec<&str> = denials.iter().map(|e| e["code"].as_str().unwrap()).collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes, ["policy_blocked", "server_not_found", "server_revoked", "transport_not_supported"]);
    assert_eq!(denials.len(), 2 * 8 + 1);
    assert!(denials.iter().all(|e| e["decision"] == "deny" && e["action"] == "issue"));
}

#[test]
fn server_unverified_when_the_authority_requires_it() {
    let h = setup();
    h.add_server("io.github.acme/checked", &["--verified"]);
    h.add_client("all", &["--allow", "*", "--rate", "1/min"]);
    // Without the setting, unverified servers are fine.
    allowed(&h, WEATHER, None, &[]);

    let config = h.dir().join("config.yaml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\nrequire_verified: true\n");
    std::fs::write(&config, text).unwrap();

    denied(&h, WEATHER, None, &[], "server_unverified").stderr_has(&["not verified", "hint:", "--verified"]);
    let env = allowed(&h, "io.github.acme/checked", None, &[]);
    assert_eq!(decode_jws(env["descriptor"].as_str().unwrap()).1["mcp"]["server"]["verified"], true);

    // Transport comes before verification.
    h.add_doc(&seed_docs()[3]).success();
    denied(&h, seed_docs()[3]["name"].as_str().unwrap(), None, &[], "transport_not_supported");

    // Verification comes before the rate limit: the client used its one issuance …
    h.set_now(T0 + 100);
    allowed(&h, "io.github.acme/checked", Some("all"), &[]);
    denied(&h, "io.github.acme/checked", Some("all"), &[], "rate_limited");
    // … and an unverified server still says server_unverified.
    denied(&h, WEATHER, Some("all"), &[], "server_unverified");

    h.set_now(T0 + 200);
    h.cmd(["server", "update", WEATHER, "--verified"]).success();
    let env = allowed(&h, WEATHER, None, &[]);
    assert_eq!(decode_jws(env["descriptor"].as_str().unwrap()).1["mcp"]["server"]["verified"], true);
    h.cmd(["server", "update", WEATHER, "--unverified"]).success();
    denied(&h, WEATHER, None, &[], "server_unverified");

    // The environment overrides the file.
    let env = h.command(["issue", "--server", WEATHER, "-o", "json"]).env("MCPCA_REQUIRE_VERIFIED", "false").run().success().json();
    assert_eq!(env["server"]["id"], WEATHER);
}

#[test]
fn server_unverified_from_the_environment() {
    let h = setup();
    h.command(["issue", "--server", WEATHER]).env("MCPCA_REQUIRE_VERIFIED", "true").run().denied("server_unverified");
    h.command(["issue", "--server", WEATHER]).env("MCPCA_REQUIRE_VERIFIED", "1").run().denied("server_unverified");
    h.command(["issue", "--server", WEATHER]).env("MCPCA_REQUIRE_VERIFIED", "false").run().success();
    h.command(["issue", "--server", WEATHER]).env("MCPCA_REQUIRE_VERIFIED", "maybe").run().fails(2).no_stdout();
    h.cmd(["server", "update", WEATHER, "--verified"]).success();
    h.command(["issue", "--server", WEATHER]).env("MCPCA_REQUIRE_VERIFIED", "true").run().success();
}

#[test]
fn rate_limited_with_the_seconds_to_wait_then_allowed_again() {
    let h = setup();
    h.add_client("rl", &["--allow", "*", "--rate", "2/min"]);
    h.add_client("free", &["--allow", "*"]);

    allowed(&h, WEATHER, Some("rl"), &[]);
    allowed(&h, ACMECORP, Some("rl"), &[]);
    let out = denied(&h, WEATHER, Some("rl"), &[], "rate_limited");
    assert!(out.stderr.contains("retry in 60s"), "{}", out.stderr);
    assert!(out.stderr.contains("hint:"), "{}", out.stderr);
    // The limit is per client, over every server; denials do not use it up further.
    denied(&h, OTHER, Some("rl"), &[], "rate_limited").stderr_has(&["retry in 60s"]);
    // Others are not limited by it.
    for _ in 0..4 {
        allowed(&h, WEATHER, Some("free"), &[]);
        allowed(&h, WEATHER, None, &[]);
    }

    h.set_now(T0 + 45);
    denied(&h, WEATHER, Some("rl"), &[], "rate_limited").stderr_has(&["retry in 15s"]);
    h.set_now(T0 + 59);
    denied(&h, WEATHER, Some("rl"), &[], "rate_limited").stderr_has(&["retry in 1s"]);
    // A minute after the first two, the window is free again.
    h.set_now(T0 + 60);
    allowed(&h, WEATHER, Some("rl"), &[]);
    allowed(&h, WEATHER, Some("rl"), &[]);
    denied(&h, WEATHER, Some("rl"), &[], "rate_limited").stderr_has(&["retry in 60s"]);

    // A sliding window: issuances at +100 and +130.
    h.add_client("slide", &["--allow", "*", "--rate", "2/min"]);
    for t in [100, 130] {
        h.set_now(T0 + t);
        allowed(&h, WEATHER, Some("slide"), &[]);
    }
    h.set_now(T0 + 140);
    denied(&h, WEATHER, Some("slide"), &[], "rate_limited").stderr_has(&["retry in 20s"]);
    h.set_now(T0 + 160);
    allowed(&h, WEATHER, Some("slide"), &[]);
    h.set_now(T0 + 161);
    denied(&h, WEATHER, Some("slide"), &[], "rate_limited").stderr_has(&["retry in 29s"]);

    // The rate limit can be raised.
    h.cmd(["client", "update", "slide", "--rate", "3/min"]).success();
    allowed(&h, WEATHER, Some("slide"), &[]);
}

#[test]
fn concurrent_issuers_cannot_overshoot_a_rate_limit() {
    let h = setup();
    h.add_client("one", &["--allow", "*", "--rate", "1/min"]);
    // Eight processes at the same instant: the limit is re-checked in the transaction that
    // records the issuance, so exactly one gets a descriptor.
    let children: Vec<_> = (0..8).map(|_| h.command(["issue", "--server", WEATHER, "--client", "one"]).spawn()).collect();
    let outs: Vec<_> = children.into_iter().map(|c| c.wait_with_output().unwrap()).collect();
    let ok = outs.iter().filter(|o| o.status.success()).count();
    assert_eq!(ok, 1, "{:?}", outs.iter().map(|o| String::from_utf8_lossy(&o.stderr).into_owned()).collect::<Vec<_>>());
    for o in outs.iter().filter(|o| !o.status.success()) {
        assert_eq!(o.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&o.stderr).contains("rate_limited"), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(o.stdout.is_empty());
    }
    let allows = h.audit(&["--client", "one", "--decision", "allow"]);
    assert_eq!(allows.len(), 1);
    assert_eq!(h.audit(&["--client", "one", "--decision", "deny"]).len(), 7);
}

#[test]
fn the_client_policy_shapes_the_descriptor() {
    let h = setup();
    h.add_server("io.github.acme/short", &["--max-ttl", "45s"]);
    h.add_client("ci-bot", &["--tenant", "acme", "--allow", "io.github.acme/*", "--max-ttl", "1m"]);

    let out = h.cmd(["issue", "--server", WEATHER, "--client", "ci-bot", "--ttl", "5m", "-o", "json"]).success();
    assert!(out.stderr.contains("client_max_ttl"), "{}", out.stderr);
    let env = out.json();
    assert_eq!(env["clamped"]["limit"], "client_max_ttl");
    assert_eq!(env["clamped"]["requested"], "5m");
    assert_eq!(env["clamped"]["granted"], "1m");
    assert_eq!(env["expires_in"], 60);
    assert_eq!(env["expires_at"], rfc3339(T0 + 60));
    let (_, c) = decode_jws(env["descriptor"].as_str().unwrap());
    assert_eq!((c["sub"].as_str(), c["client_id"].as_str()), (Some("ci-bot"), Some("ci-bot")));
    assert_eq!(c["client"]["id"], "ci-bot");
    assert_eq!(c["client"]["tenant"], "acme");
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 60);

    // Below the limit: nothing clamped. The default TTL (2m) is clamped too.
    let env = allowed(&h, WEATHER, Some("ci-bot"), &["--ttl", "30s"]);
    assert!(env.get("clamped").is_none(), "{env}");
    assert_eq!(env["expires_in"], 30);
    let env = allowed(&h, WEATHER, Some("ci-bot"), &[]);
    assert_eq!(env["clamped"]["limit"], "client_max_ttl");
    assert_eq!(env["expires_in"], 60);
    // The tighter of server and client wins.
    let env = allowed(&h, "io.github.acme/short", Some("ci-bot"), &["--ttl", "5m"]);
    assert_eq!(env["clamped"]["limit"], "server_max_ttl");
    assert_eq!(env["expires_in"], 45);

    // The operator has no client limit.
    let env = allowed(&h, WEATHER, None, &["--ttl", "5m"]);
    assert!(env.get("clamped").is_none(), "{env}");
    assert_eq!(env["expires_in"], 300);
    let (_, c) = decode_jws(env["descriptor"].as_str().unwrap());
    assert_eq!(c["sub"], "operator");
    assert!(c["client"].get("tenant").is_none(), "{c}");
}
