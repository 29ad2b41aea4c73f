//! The audit log: every mutation and every issuance decision is an event (actor, action,
//! target, decision/code); no secret or descriptor ever appears in it; filters; the hash chain
//! detects an altered or deleted row and names it; export as JSON lines; fail closed when the
//! event cannot be written.

use serde_json::Value;

use crate::util::*;

const WEATHER: &str = "io.github.acme/weather";

/// (actor, action, target) of every event, in order.
fn triples(events: &[Value]) -> Vec<(String, String, String)> {
    events
        .iter()
        .map(|e| {
            (e["actor"].as_str().unwrap().to_owned(), e["action"].as_str().unwrap().to_owned(), e["target"].as_str().unwrap().to_owned())
        })
        .collect()
}

fn op(action: &str, target: &str) -> (String, String, String) {
    ("operator".to_owned(), action.to_owned(), target.to_owned())
}

#[test]
fn every_mutation_and_every_decision_is_an_event() {
    let h = Home::init();
    let k1 = h.kid("active");
    let k2 = h.kid("next");
    let mut expected = vec![op("key.generate", &k1), op("key.generate", &k2)];
    let step = |h: &Home, args: &[&str]| -> Output {
        h.set_now(h.now() + 10);
        h.cmd(args).success()
    };

    // Servers.
    step(&h, &["server", "add", WEATHER, "--url", "https://weather.acme.dev/mcp"]);
    expected.push(op("server.add", &format!("{WEATHER}@1.0.0")));
    step(&h, &["server", "update", WEATHER, "--verified", "--max-ttl", "10m"]);
    expected.push(op("server.update", WEATHER));
    for (cmd, status) in
        [("deprecate", "deprecated"), ("suspend", "suspended"), ("resume", "active"), ("remove", "deleted"), ("resume", "active")]
    {
        step(&h, &["server", cmd, WEATHER]);
        expected.push(op(&format!("server.{status}"), WEATHER));
    }
    step(&h, &["server", "suspend", &format!("{WEATHER}@1.0.0")]);
    expected.push(op("server.suspended", &format!("{WEATHER}@1.0.0")));
    step(&h, &["server", "resume", &format!("{WEATHER}@1.0.0")]);
    expected.push(op("server.active", &format!("{WEATHER}@1.0.0")));
    step(&h, &["server", "import", seed_path().to_str().unwrap()]);
    for d in seed_docs() {
        expected.push(op("server.import", &format!("{}@{}", d["name"].as_str().unwrap(), d["version"].as_str().unwrap())));
    }

    // Keys.
    let k3 = step(&h, &["key", "generate", "-o", "json"]).json()["kid"].as_str().unwrap().to_owned();
    expected.push(op("key.generate", &k3));
    step(&h, &["key", "retire", &k3]);
    expected.push(op("key.retire", &k3));
    step(&h, &["key", "rotate"]);
    expected.push(op("key.rotate", &k2));
    let k4 = h.kid("next");
    step(&h, &["key", "revoke", &k4, "--yes"]);
    expected.push(op("key.revoke", &k4));

    // Clients.
    step(&h, &["client", "add", "bot", "--allow", "*"]);
    expected.push(op("client.add", "bot"));
    step(&h, &["client", "update", "bot", "--tenant", "acme"]);
    expected.push(op("client.update", "bot"));
    step(&h, &["client", "suspend", "bot"]);
    expected.push(op("client.suspend", "bot"));
    step(&h, &["client", "resume", "bot"]);
    expected.push(op("client.resume", "bot"));
    step(&h, &["client", "rotate-secret", "bot"]);
    expected.push(op("client.rotate-secret", "bot"));

    // Issuance decisions, allowed and denied, by the operator and by a client.
    let env = step(&h, &["issue", "--server", WEATHER, "--client", "bot", "-o", "json"]).json();
    expected.push(("bot".into(), "issue".into(), format!("{WEATHER}@1.0.0")));
    step(&h, &["issue", "--server", WEATHER]);
    expected.push(op("issue", &format!("{WEATHER}@1.0.0")));
    h.set_now(h.now() + 10);
    h.try_issue("io.github.acme/nope", &["--client", "bot"]).denied("server_not_found");
    expected.push(("bot".into(), "issue".into(), "io.github.acme/nope".into()));

    // Revocations.
    step(&h, &["revoke", "--jti", env["jti"].as_str().unwrap()]);
    expected.push(op("revoke.jti", env["jti"].as_str().unwrap()));
    step(&h, &["revoke", "--client", "bot"]);
    expected.push(op("client.revoke", "bot"));
    step(&h, &["revoke", WEATHER]);
    expected.push(op("server.revoked", WEATHER));
    let k2_now = h.kid("active");
    step(&h, &["revoke", "--key", &k2_now, "--yes"]);
    expected.push(op("key.revoke", &k2_now));
    step(&h, &["client", "remove", "bot"]);
    expected.push(op("client.remove", "bot"));

    // Admin tokens.
    let t = step(&h, &["token", "create", "--role", "reader", "-o", "json"]).json();
    let tid = t["token"]["id"].as_str().unwrap().to_owned();
    expected.push(op("token.create", &tid));
    step(&h, &["token", "revoke", &tid]);
    expected.push(op("token.revoke", &tid));

    // Reads are not events.
    for args in [
        vec!["server", "list"],
        vec!["client", "list"],
        vec!["token", "list"],
        vec!["key", "list"],
        vec!["revocations"],
        vec!["audit", "verify"],
    ] {
        h.cmd(&args).success();
    }
    // Refused changes are not events either.
    h.cmd(["client", "add", "bot2"]).fails(2);
    h.cmd(["server", "suspend", "io.github.acme/nope"]).fails(2);

    let events = h.audit(&[]);
    assert_eq!(triples(&events), expected);
    // Sequence numbers count from 1 without gaps; times are the clock of each command.
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["seq"], i as i64 + 1, "{e}");
    }
    let times: Vec<i64> = events.iter().map(|e| e["at"].as_i64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert_eq!(times[0], T0);
    // Issuance events carry the decision (and the code of a denial); others carry neither.
    for e in &events {
        if e["action"] == "issue" {
            assert!(e["decision"] == "allow" || (e["decision"] == "deny" && e["code"].is_string()), "{e}");
        } else {
            assert!(e.get("decision").is_none() && e.get("code").is_none(), "{e}");
        }
    }
    let denial = events.iter().find(|e| e["decision"] == "deny").unwrap();
    assert_eq!(denial["code"], "server_not_found");
    let allow = events.iter().find(|e| e["decision"] == "allow" && e["actor"] == "bot").unwrap();
    assert_eq!(allow["details"]["jti"], env["jti"]);
    h.cmd(["audit", "verify"]).success();
}

#[test]
fn no_secret_token_or_descriptor_appears_in_the_log() {
    let h = Home::init();
    h.add_server(WEATHER, &[]);
    let mut secrets = Vec::new();
    let (s, _) = h.add_client("bot", &["--tenant", "acme", "--allow", "*"]);
    secrets.push(s);
    secrets.push(h.cmd(["client", "rotate-secret", "bot"]).success().stdout.trim().to_owned());
    secrets.push(h.cmd(["token", "create", "--role", "admin", "--name", "ci"]).success().stdout.trim().to_owned());
    secrets.push(h.cmd(["token", "create", "--role", "reader", "--expires", "1h"]).success().stdout.trim().to_owned());
    let mut descriptors = vec![h.issue(WEATHER, &["--client", "bot"]), h.issue(WEATHER, &[])];
    let env = h.issue_json(WEATHER, &["--client", "bot", "--scope", "tools:read"]);
    descriptors.push(env["descriptor"].as_str().unwrap().to_owned());
    descriptors.push(
        h.cmd(["issue", "--server", WEATHER, "--mcp-config"]).success().json()["mcpServers"]["weather"]["headers"]["MCP-Connect"]
            .as_str()
            .unwrap()
            .to_owned(),
    );
    h.cmd(["revoke", "--jti", env["jti"].as_str().unwrap()]).success();
    let pem = h.cmd(["key", "export", "--private", &h.kid("active"), "--yes"]).success().stdout;

    let mut needles: Vec<String> = Vec::new();
    for s in &secrets {
        needles.push(s.clone());
        needles.push(s[9..].to_owned());
    }
    for d in &descriptors {
        needles.push(d.clone());
        // Each part alone: header-and-claims or signature, none may be logged.
        let parts: Vec<&str> = d.split('.').collect();
        needles.push(parts[1].to_owned());
        needles.push(parts[2].to_owned());
    }
    let pem_body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    needles.push(pem_body);

    let export = h.cmd(["audit", "export"]).success().stdout;
    let outputs = [
        export.clone(),
        h.cmd(["audit"]).success().stdout,
        h.cmd(["audit", "-o", "json"]).success().stdout,
        h.cmd(["audit", "-o", "yaml"]).success().stdout,
    ];
    let lines = export.lines().count();
    assert!(lines >= 10, "{export}");
    for out in &outputs {
        for n in &needles {
            assert!(!out.contains(n.as_str()), "the audit output holds a secret or descriptor ({}…)", &n[..12]);
        }
        assert!(!out.contains("mcpca_cs_") && !out.contains("mcpca_at_"), "{out}");
    }
    // The stored rows too.
    let conn = h.db();
    let mut stmt = conn.prepare("SELECT actor || ' ' || action || ' ' || target || ' ' || coalesce(details, '') FROM audit").unwrap();
    let rows: Vec<String> = stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    for row in &rows {
        for n in &needles {
            assert!(!row.contains(n.as_str()), "a stored audit row holds a secret or descriptor");
        }
    }
    // What the log does hold: ids.
    assert!(export.contains(env["jti"].as_str().unwrap()));
    assert!(export.contains("\"bot\""));
}

#[test]
fn filters_select_by_time_server_client_and_decision() {
    let h = Home::init();
    let at = |h: &Home, t: i64| h.set_now(T0 + t);
    at(&h, 100);
    h.add_server(WEATHER, &[]);
    at(&h, 200);
    // Names that a sloppy match would confuse with others.
    for n in ["io.github.acme/weather2", "io.github.acme/a_b", "io.github.acme/aXb"] {
        h.add_server(n, &[]);
    }
    h.cmd(["server", "add", "io.github.acme/WEATHER", "--url", "https://upper.acme.dev/mcp"]).success();
    at(&h, 300);
    h.add_client("bot", &["--allow", WEATHER, "--allow", "io.github.acme/a_b"]);
    h.add_client("other", &["--allow", "*"]);
    at(&h, 400);
    h.issue(WEATHER, &["--client", "bot"]);
    at(&h, 500);
    h.try_issue("io.github.acme/weather2", &["--client", "bot"]).denied("policy_blocked");
    at(&h, 600);
    h.issue(WEATHER, &[]);
    h.issue("io.github.acme/weather2", &["--client", "other"]);
    at(&h, 700);
    h.issue("io.github.acme/a_b", &["--client", "bot"]);
    h.issue("io.github.acme/aXb", &["--client", "other"]);
    h.issue("io.github.acme/WEATHER", &["--client", "other"]);
    h.try_issue("io.github.acme/nope", &["--client", "other"]).denied("server_not_found");
    at(&h, 800);
    h.cmd(["server", "suspend", WEATHER]).success();
    h.cmd(["client", "suspend", "bot"]).success();
    at(&h, 1000);

    let all = h.audit(&[]);
    let seqs = |events: &[Value]| -> Vec<i64> { events.iter().map(|e| e["seq"].as_i64().unwrap()).collect() };
    let want = |pred: &dyn Fn(&Value) -> bool| -> Vec<i64> { seqs(&all.iter().filter(|e| pred(e)).cloned().collect::<Vec<_>>()) };
    let check = |filters: &[&str], pred: &dyn Fn(&Value) -> bool| {
        let got = seqs(&h.audit(filters));
        let expected = want(pred);
        assert!(!expected.is_empty(), "{filters:?} selects nothing");
        assert!(expected.len() < all.len(), "{filters:?} selects everything");
        assert_eq!(got, expected, "{filters:?}");
    };
    let target = |e: &Value| e["target"].as_str().unwrap().to_owned();

    check(&["--since", "10m"], &|e| e["at"].as_i64().unwrap() >= T0 + 400);
    check(&["--since", &rfc3339(T0 + 600)], &|e| e["at"].as_i64().unwrap() >= T0 + 600);
    check(&["--since", "2027-01-15T08:10:00+00:00"], &|e| e["at"].as_i64().unwrap() >= T0 + 600);
    check(&["--server", WEATHER], &|e| target(e) == WEATHER || target(e).starts_with(&format!("{WEATHER}@")));
    check(&["--server", &format!("{WEATHER}@1.0.0")], &|e| target(e) == format!("{WEATHER}@1.0.0"));
    check(&["--server", "io.github.acme/a_b"], &|e| target(e).starts_with("io.github.acme/a_b"));
    check(&["--client", "bot"], &|e| e["actor"] == "bot" || (e["target"] == "bot" && e["action"].as_str().unwrap().starts_with("client.")));
    check(&["--decision", "allow"], &|e| e["decision"] == "allow");
    check(&["--decision", "deny"], &|e| e["decision"] == "deny");
    check(&["--client", "bot", "--decision", "deny"], &|e| e["actor"] == "bot" && e["decision"] == "deny");
    check(&["--server", WEATHER, "--since", "5m"], &|e| {
        e["at"].as_i64().unwrap() >= T0 + 700 && (target(e) == WEATHER || target(e).starts_with(&format!("{WEATHER}@")))
    });
    // The newest N, oldest first.
    let last3 = seqs(&all[all.len() - 3..]);
    assert_eq!(seqs(&h.audit(&["--limit", "3"])), last3);
    assert_eq!(seqs(&h.audit(&["--decision", "allow", "--limit", "2"])), want(&|e| e["decision"] == "allow")[4..].to_vec());

    // Sanity of the scenario itself.
    assert_eq!(h.audit(&["--server", "io.github.acme/a_b"]).len(), 2, "server.add and one issue");
    assert_eq!(h.audit(&["--server", "io.github.acme/WEATHER"]).len(), 2);
    assert_eq!(h.audit(&["--client", "bot"]).len(), 5);

    for bad in [vec!["--since", "yesterday"], vec!["--decision", "maybe"], vec!["--limit", "-1"]] {
        let mut args = vec!["audit"];
        args.extend(bad);
        h.cmd(args).fails(2).no_stdout();
    }
}

/// A home with a dozen events of different kinds.
fn busy_home() -> Home {
    let h = Home::init();
    h.add_server(WEATHER, &[]);
    h.add_client("bot", &["--allow", "*"]);
    h.set_now(T0 + 60);
    h.issue(WEATHER, &["--client", "bot"]);
    h.try_issue("io.github.acme/nope", &[]).denied("server_not_found");
    h.cmd(["server", "deprecate", WEATHER]).success();
    h.cmd(["token", "create", "--role", "reader"]).success();
    h.cmd(["client", "suspend", "bot"]).success();
    h
}

fn verify_report(h: &Home) -> Output {
    h.cmd(["audit", "verify", "-o", "json"])
}

#[test]
fn verify_detects_an_altered_row_and_names_it() {
    let h = busy_home();
    let n = h.audit_count() as i64;
    let ok = verify_report(&h).success().json();
    assert_eq!(ok["intact"], true);
    assert_eq!(ok["events"], n);
    assert_eq!(ok["head"], h.last_event()["hash"]);
    let table = h.cmd(["audit", "verify"]).success().stdout;
    assert!(table.lines().any(|l| l.starts_with("intact") && l.ends_with("yes")), "{table}");

    // Each column of a row is covered by the hash.
    let edits = [
        (3, "target", "'io.github.evil/x@1.0.0'"),
        (2, "actor", "'mallory'"),
        (4, "action", "'server.deleted'"),
        (5, "at", "at + 1"),
        (5, "details", "'{\"jti\":\"0\"}'"),
        (6, "decision", "'allow'"),
        (6, "code", "NULL"),
        (8, "prev_hash", "'00'"),
        (1, "hash", "'ff'"),
        (9, "hash", "'ff'"),
    ];
    let conn = h.db();
    for (seq, column, value) in edits {
        let original: rusqlite::types::Value =
            conn.query_row(&format!("SELECT {column} FROM audit WHERE seq = ?1"), [seq], |r| r.get(0)).unwrap();
        assert_eq!(conn.execute(&format!("UPDATE audit SET {column} = {value} WHERE seq = ?1"), [seq]).unwrap(), 1);
        let out = verify_report(&h).fails(1);
        let report: Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(report["intact"], false, "{column}");
        let named = seq;
        assert_eq!(report["broken_at"], named, "{column}: {report}");
        assert!(out.stderr.contains(&format!("event {named}")), "{column}: {}", out.stderr);
        let table = h.cmd(["audit", "verify"]).fails(1);
        assert!(table.stdout.contains("NO") && table.stdout.contains(&format!("event {named}")), "{}", table.stdout);
        conn.execute(&format!("UPDATE audit SET {column} = ?2 WHERE seq = ?1"), rusqlite::params![seq, original]).unwrap();
        verify_report(&h).success();
    }
}

#[test]
fn verify_names_the_event_after_a_deleted_row() {
    let h = busy_home();
    let conn = h.db();
    assert_eq!(conn.execute("DELETE FROM audit WHERE seq = 4", []).unwrap(), 1);
    let out = verify_report(&h).fails(1).stderr_has(&["event 5", "missing"]);
    assert_eq!(serde_json::from_str::<Value>(&out.stdout).unwrap()["broken_at"], 5);

    // Deleting the first event is found too.
    let h = busy_home();
    h.db().execute("DELETE FROM audit WHERE seq = 1", []).unwrap();
    let out = verify_report(&h).fails(1).stderr_has(&["event 2"]);
    assert_eq!(serde_json::from_str::<Value>(&out.stdout).unwrap()["broken_at"], 2);

    // A renumbered row (deleted, later ones shifted down) breaks the chain as well.
    let h = busy_home();
    let conn = h.db();
    conn.execute("DELETE FROM audit WHERE seq = 3", []).unwrap();
    conn.execute("UPDATE audit SET seq = seq - 1 WHERE seq > 3", []).unwrap();
    let out = verify_report(&h).fails(1).stderr_has(&["event 3"]);
    assert_eq!(serde_json::from_str::<Value>(&out.stdout).unwrap()["broken_at"], 3);
}

#[test]
fn export_prints_one_json_event_per_line_in_chain_order() {
    let h = busy_home();
    let out = h.cmd(["audit", "export"]).success();
    assert!(out.stdout.ends_with('\n'));
    let lines: Vec<Value> = out.stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();
    let listed = h.audit(&[]);
    assert_eq!(lines, listed, "export and `audit -o json` show the same events");
    let mut prev = "0".repeat(64);
    for (i, e) in lines.iter().enumerate() {
        assert_eq!(e["seq"], i as i64 + 1);
        assert_eq!(e["prev_hash"], prev.as_str(), "event {} links to the one before", i + 1);
        prev = e["hash"].as_str().unwrap().to_owned();
        assert_eq!(prev.len(), 64);
        for k in ["at", "actor", "action", "target"] {
            assert!(e.get(k).is_some(), "{k} missing: {e}");
        }
    }
    // Filters do not apply to export: everything, always.
    assert_eq!(h.cmd(["audit", "export"]).success().stdout.lines().count(), lines.len());
}

const FAIL_AUDIT: &str = "CREATE TRIGGER fail_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'disk I/O error (test)'); END;";

/// State that must not change while the audit log cannot be written.
fn snapshot(h: &Home) -> (usize, Vec<String>, Value, Value, Value) {
    (
        h.audit_count(),
        h.server_refs(&["--include-deleted"]),
        h.cmd(["client", "list", "-o", "json"]).success().json(),
        h.cmd(["token", "list", "-o", "json"]).success().json(),
        h.cmd(["revocations", "-o", "json"]).success().json()["feed"]["entries"].clone(),
    )
}

#[test]
fn fail_closed_when_the_audit_event_cannot_be_written() {
    let h = Home::init();
    h.add_server(WEATHER, &[]);
    h.add_client("bot", &["--allow", "*"]);
    let jti = h.issue_json(WEATHER, &[])["jti"].as_str().unwrap().to_owned();
    let before = snapshot(&h);
    h.db().execute_batch(FAIL_AUDIT).unwrap();

    // No descriptor without its audit event, whatever the output form.
    for extra in [&[][..], &["-o", "json"][..], &["--mcp-config"][..], &["--client", "bot"][..]] {
        let out = h.try_issue(WEATHER, extra).fails(2).no_stdout();
        assert!(out.stderr.contains("disk I/O error (test)"), "{}", out.stderr);
    }
    // A denial that cannot be recorded is an operational error, not a plain "no".
    h.try_issue("io.github.acme/nope", &[]).fails(2).no_stdout();
    // Every mutation fails with its event, and leaves nothing behind (no secret printed either).
    let seed = seed_path();
    let refused: Vec<Vec<&str>> = vec![
        vec!["server", "add", "io.github.acme/maps", "--url", "https://maps.acme.dev/mcp"],
        vec!["server", "suspend", WEATHER],
        vec!["server", "update", WEATHER, "--verified"],
        vec!["server", "import", seed.to_str().unwrap()],
        vec!["revoke", WEATHER],
        vec!["revoke", "--jti", &jti],
        vec!["revoke", "--client", "bot"],
        vec!["client", "add", "c2", "--allow", "*"],
        vec!["client", "rotate-secret", "bot"],
        vec!["client", "remove", "bot"],
        vec!["token", "create", "--role", "admin"],
        vec!["key", "rotate"],
    ];
    for args in &refused {
        let out = h.cmd(args).fails(2);
        assert!(!out.stdout.contains("mcpca_"), "{args:?} printed a secret: {}", out.stdout);
        if args[0] != "server" || args[1] != "import" {
            assert!(out.stdout.is_empty(), "{args:?}: {}", out.stdout);
        }
    }
    let keys_before: Value = h.cmd(["key", "list", "-o", "json"]).success().json();

    h.db().execute_batch("DROP TRIGGER fail_audit;").unwrap();
    assert_eq!(snapshot(&h), before, "a change was kept without its audit event");
    assert_eq!(h.cmd(["key", "list", "-o", "json"]).success().json(), keys_before);
    assert_eq!(h.show(WEATHER)["authority"]["status"], "active");
    assert_eq!(h.show(WEATHER)["authority"]["verified"], false);
    h.cmd(["audit", "verify"]).success();
    // And once the log can be written again, everything works.
    h.issue(WEATHER, &[]);
}

#[test]
fn fail_closed_when_the_database_file_is_read_only() {
    let h = Home::init();
    h.add_server(WEATHER, &[]);
    let count = h.audit_count();
    let Some(guard) = Immutable::set(&h.db_path()) else {
        eprintln!("note: this file system refuses `chattr +i`; the read-only variant is skipped (the trigger test covers fail-closed)");
        return;
    };
    // Reading still works …
    assert_eq!(h.server_refs(&[]), [format!("{WEATHER}@1.0.0")]);
    // … but no descriptor is handed out when its event cannot be written.
    let out = h.try_issue(WEATHER, &[]).fails(2).no_stdout();
    assert!(out.stderr.contains("readonly") || out.stderr.contains("read-only"), "{}", out.stderr);
    h.try_issue(WEATHER, &["-o", "json"]).fails(2).no_stdout();
    h.cmd(["server", "add", "io.github.acme/maps", "--url", "https://maps.acme.dev/mcp"]).fails(2).no_stdout();
    h.cmd(["client", "add", "bot", "--allow", "*"]).fails(2).no_stdout();
    drop(guard);
    assert_eq!(h.audit_count(), count);
    assert_eq!(h.server_refs(&[]), [format!("{WEATHER}@1.0.0")]);
    assert_eq!(h.cmd(["client", "list", "-o", "json"]).success().json(), serde_json::json!([]));
    h.cmd(["audit", "verify"]).success();
}
