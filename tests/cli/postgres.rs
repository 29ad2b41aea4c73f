//! The command line on PostgreSQL (`MCPCA_DATABASE_URL`): the whole life of an authority, a
//! second replica sharing its keys through the database, two processes writing at once, and
//! the refusal of a schema newer than the binary. Skipped, with a message, without
//! `MCPCA_TEST_DATABASE_URL`.

#[path = "../common/pgdb.rs"]
pub(crate) mod pgdb;

use std::ffi::OsStr;

use crate::util::*;
use pgdb::TestDb;

const WEATHER: &str = "io.github.acme/weather";
const WEATHER_URL: &str = "https://weather.acme.dev/mcp";

/// A command of `h` on the test database.
pub(crate) fn pg<I, S>(h: &Home, db: &TestDb, args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    h.command(args).env("MCPCA_DATABASE_URL", &db.url).run()
}

#[test]
fn postgres_authority_lifecycle() {
    let Some(db) = TestDb::create("postgres_authority_lifecycle") else { return };
    let h = Home::new();
    let out = pg(&h, &db, ["init"]).success();
    assert!(out.stderr.contains("(PostgreSQL)"), "{}", out.stderr);
    assert!(out.stdout.contains("postgres://"), "{}", out.stdout);
    assert!(!h.file("registry.db").exists(), "no SQLite file beside a PostgreSQL authority");
    pg(&h, &db, ["init"]).success().stderr_has(&["already initialized"]);

    pg(&h, &db, ["server", "add", WEATHER, "--url", WEATHER_URL]).success();
    pg(&h, &db, ["client", "add", "bot", "--allow", "*"]).success();
    let env = pg(&h, &db, ["issue", "--server", WEATHER, "--client", "bot", "-o", "json"]).success().json();
    assert_eq!(env["server"]["id"], WEATHER, "{env}");
    // The descriptor verifies against the keys the database holds.
    let jwt = env["descriptor"].as_str().unwrap_or_else(|| panic!("no descriptor in {env}")).to_owned();
    h.command(["verify", "--audience", WEATHER_URL]).env("MCPCA_DATABASE_URL", &db.url).stdin(jwt).run().success();

    let rev = pg(&h, &db, ["revoke", WEATHER, "--reason", "compromised", "-o", "json"]).success().json();
    assert_eq!(rev["revocation"]["kind"], "server");
    pg(&h, &db, ["issue", "--server", WEATHER]).fails(1).stderr_has(&["server_revoked"]);
    let feed = pg(&h, &db, ["revocations", "-o", "json"]).success().json();
    assert_eq!(feed["feed"]["entries"].as_array().map(Vec::len), Some(1), "{feed}");
    let report = pg(&h, &db, ["audit", "verify", "-o", "json"]).success().json();
    assert_eq!(report["intact"], true, "{report}");
    let events = pg(&h, &db, ["audit", "-o", "json"]).success().json();
    let actions: Vec<&str> = events.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["key.generate", "key.generate", "server.add", "client.add", "issue", "server.revoked", "issue"], "{events}");

    // Nothing of it went to the home's SQLite file: without the URL the home has no database.
    h.cmd(["server", "list"]).fails(2).stderr_has(&["mcpca init"]);
}

/// On PostgreSQL too a `jti` revocation lives as long as its descriptor (`exp` + leeway), found
/// through the issuance event near the instant the `jti` carries.
#[test]
fn postgres_jti_revocation_lasts_as_long_as_its_descriptor() {
    let Some(db) = TestDb::create("postgres_jti_revocation_lasts_as_long_as_its_descriptor") else { return };
    let h = Home::new();
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    h.set_now(t);
    pg(&h, &db, ["init"]).success();
    pg(&h, &db, ["server", "add", WEATHER, "--url", WEATHER_URL]).success();
    let env = pg(&h, &db, ["issue", "--server", WEATHER, "--ttl", "2m", "-o", "json"]).success().json();
    h.set_now(t + 5);
    let rev = pg(&h, &db, ["revoke", "--jti", env["jti"].as_str().unwrap(), "-o", "json"]).success().json();
    assert_eq!(rev["revocation"]["expires_at"], t + 120 + 15, "{rev}");
    h.set_now(t + 135);
    let feed = pg(&h, &db, ["revocations", "-o", "json"]).success().json();
    assert_eq!(feed["feed"]["entries"], serde_json::json!([]), "{feed}");
}

/// A second replica: its own home, the same database. Without the KEK it cannot open the
/// keys (and init says so); given the same KEK it opens the same keys and issues.
#[test]
fn postgres_replicas_share_keys_and_one_audit_chain() {
    let Some(db) = TestDb::create("postgres_replicas_share_keys_and_one_audit_chain") else { return };
    let one = Home::new();
    pg(&one, &db, ["init"]).success();
    pg(&one, &db, ["server", "add", WEATHER, "--url", WEATHER_URL]).success();
    let keys_one = pg(&one, &db, ["key", "list", "-o", "json"]).success().json();

    let two = Home::new();
    pg(&two, &db, ["init"]).fails(2).stderr_has(&["key-encryption key", "missing"]);
    assert!(!two.file("kek").exists(), "no new KEK that cannot open the stored keys");
    let kek = std::fs::read_to_string(one.file("kek")).unwrap();
    let run2 = |args: &[&str]| two.command(args).env("MCPCA_DATABASE_URL", &db.url).env("MCPCA_KEK", kek.trim()).run();
    run2(&["init"]).success();
    assert_eq!(run2(&["key", "list", "-o", "json"]).success().json(), keys_one, "the same keys");
    run2(&["issue", "--server", WEATHER]).success();
    // Rotation through one replica is seen by the other.
    pg(&one, &db, ["key", "rotate"]).success();
    assert_eq!(run2(&["key", "list", "-o", "json"]).success().json(), pg(&one, &db, ["key", "list", "-o", "json"]).success().json());
    // A wrong KEK is refused, and changes nothing.
    two.command(["issue", "--server", WEATHER])
        .env("MCPCA_DATABASE_URL", &db.url)
        .env("MCPCA_KEK", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
        .run()
        .fails(2);

    // Two processes writing at once (one per replica): one chain, every change in it.
    let before = run2(&["audit", "verify", "-o", "json"]).success().json()["events"].as_i64().unwrap();
    let spawn = |h: &Home, prefix: &str, kek: Option<&str>| {
        (0..6)
            .map(|i| {
                let mut r = h.command(["client", "add", &format!("{prefix}{i}"), "--allow", "*"]).env("MCPCA_DATABASE_URL", &db.url);
                if let Some(k) = kek {
                    r = r.env("MCPCA_KEK", k);
                }
                r
            })
            .collect::<Vec<_>>()
    };
    let (a, b) = (spawn(&one, "a", None), spawn(&two, "b", Some(kek.trim())));
    std::thread::scope(|s| {
        let ta = s.spawn(move || a.into_iter().map(|r| r.run().code()).collect::<Vec<_>>());
        let tb = s.spawn(move || b.into_iter().map(|r| r.run().code()).collect::<Vec<_>>());
        assert!(ta.join().unwrap().iter().chain(tb.join().unwrap().iter()).all(|c| *c == 0));
    });
    assert_eq!(pg(&one, &db, ["client", "list", "-o", "json"]).success().json().as_array().map(Vec::len), Some(12));
    let report = run2(&["audit", "verify", "-o", "json"]).success().json();
    assert_eq!(report["intact"], true, "{report}");
    assert_eq!(report["events"], before + 12, "{report}");
}

#[test]
fn postgres_refuses_a_newer_schema() {
    let Some(db) = TestDb::create("postgres_refuses_a_newer_schema") else { return };
    let h = Home::new();
    pg(&h, &db, ["init"]).success();
    db.exec("UPDATE mcpca_schema SET version = 999");
    pg(&h, &db, ["server", "list"]).fails(2).stderr_has(&["schema is version 999", "newer than this mcpca", "upgrade mcpca"]);
    // A database URL that is not PostgreSQL is refused before anything runs.
    h.command(["server", "list"]).env("MCPCA_DATABASE_URL", "mysql://x@y/z").run().fails(2).stderr_has(&["postgres://"]);
}

/// `mcpca migrate --to`: a SQLite authority with some history, copied; the copy answers every
/// read exactly as the file does, its audit chain ends on the same hash, and it keeps working.
#[test]
fn postgres_migrate_copies_a_sqlite_authority() {
    let Some(db) = TestDb::create("postgres_migrate_copies_a_sqlite_authority") else { return };
    let h = Home::init();
    h.add_server(WEATHER, WEATHER_URL, &[]);
    h.add_server(WEATHER, WEATHER_URL, &["--version", "1.10.0"]);
    h.add_server("io.github.acme/maps", "https://maps.acme.dev/mcp", &["--max-ttl", "5m"]);
    h.add_client("bot", &["--rate", "30/min"]);
    h.cmd(["token", "create", "--role", "reader", "--name", "ops"]).success();
    let env = h.issue_json(WEATHER, &["--client", "bot"]);
    h.cmd(["revoke", "--jti", env["jti"].as_str().unwrap()]).success();
    h.cmd(["revoke", "io.github.acme/maps"]).success();
    h.cmd(["key", "rotate"]).success();

    let out = h.cmd(["migrate", "--to", &db.url, "-o", "json"]).success();
    let report = out.json();
    assert_eq!(report["rows"]["keys"], 3, "{report}");
    assert_eq!(report["rows"]["server_versions"], 3, "{report}");
    assert_eq!(report["rows"]["revocations"], 2, "{report}");
    assert!(out.stderr.contains("MCPCA_DATABASE_URL="), "{}", out.stderr);
    let sqlite_verify = h.cmd(["audit", "verify", "-o", "json"]).success().json();
    assert_eq!(report["audit_verified"], sqlite_verify["events"]);
    assert_eq!(report["audit_head"], sqlite_verify["head"]);

    for read in [
        vec!["server", "list", "--include-deleted", "-o", "json"],
        vec!["server", "show", WEATHER, "-o", "json"],
        vec!["client", "list", "-o", "json"],
        vec!["token", "list", "-o", "json"],
        vec!["key", "list", "-o", "json"],
        vec!["audit", "-o", "json"],
        vec!["audit", "verify", "-o", "json"],
        vec!["revocations", "-o", "json"],
    ] {
        let file = h.cmd(&read).success().json();
        let copy = pg(&h, &db, &read).success().json();
        if read[0] == "revocations" {
            // The feed is signed at the moment of the call; its entries are the copy's rows.
            assert_eq!(copy["feed"]["entries"], file["feed"]["entries"], "{read:?}");
        } else {
            assert_eq!(copy, file, "{read:?}");
        }
    }
    // The copy keeps working: the keys open with the home's KEK, the chain grows.
    pg(&h, &db, ["issue", "--server", WEATHER, "--client", "bot"]).success();
    pg(&h, &db, ["audit", "verify"]).success();

    // A second copy into a database that holds something is refused, and changes nothing…
    let before = pg(&h, &db, ["audit", "-o", "json"]).success().json();
    h.cmd(["migrate", "--to", &db.url]).fails(2).stderr_has(&["not empty", "--force"]);
    assert_eq!(pg(&h, &db, ["audit", "-o", "json"]).success().json(), before);
    // … unless forced: then the copy is the file again.
    h.cmd(["migrate", "--to", &db.url, "--force"]).success().stderr_has(&["replaced"]);
    assert_eq!(pg(&h, &db, ["audit", "-o", "json"]).success().json(), h.cmd(["audit", "-o", "json"]).success().json());
    // A PostgreSQL source is not a thing to migrate.
    pg(&h, &db, ["migrate", "--to", &db.url]).fails(2).stderr_has(&["SQLite"]);
}

/// `mcpca serve` on PostgreSQL: two replicas on one database both issue (every issuance in the
/// one chain); a server revoked through another process (the CLI) is refused by both within a
/// second (the database announces the change; each replica reloads its snapshot).
#[test]
fn postgres_two_served_replicas_issue_and_see_a_revocation() {
    use std::io::BufRead as _;
    let Some(db) = TestDb::create("postgres_two_served_replicas_issue_and_see_a_revocation") else { return };
    let one = Home::new();
    pg(&one, &db, ["init"]).success();
    pg(&one, &db, ["server", "add", WEATHER, "--url", WEATHER_URL]).success();
    let secret =
        pg(&one, &db, ["client", "add", "bot", "--allow", "*", "-o", "json"]).success().json()["secret"].as_str().unwrap().to_owned();
    let kek = std::fs::read_to_string(one.file("kek")).unwrap().trim().to_owned();
    let two = Home::new();
    two.command(["init"]).env("MCPCA_DATABASE_URL", &db.url).env("MCPCA_KEK", &kek).run().success();

    let serve = |h: &Home| {
        let (mut child, _, _) =
            h.command(["serve", "--listen", "127.0.0.1:0"]).env("MCPCA_DATABASE_URL", &db.url).env("MCPCA_KEK", &kek).spawn();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        assert!(line.starts_with("http://127.0.0.1:"), "{line:?}");
        (child, line.trim().to_owned())
    };
    let (mut s1, url1) = serve(&one);
    let (mut s2, url2) = serve(&two);
    let connect = |url: &str| one.command(["connect", WEATHER, "--registry", url, "-o", "json"]).env("MCPCA_CLIENT_SECRET", &secret).run();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        for url in [&url1, &url2, &url1, &url2] {
            let env = connect(url).success().json();
            assert_eq!(env["server"]["id"], WEATHER, "{env}");
        }
        let revoked = std::time::Instant::now();
        pg(&one, &db, ["revoke", WEATHER]).success();
        for url in [&url1, &url2] {
            // Each `mcpca connect` is a process of its own: a few tries fit in the second.
            let refused = loop {
                let out = connect(url);
                if out.code() == 1 {
                    break out;
                }
                assert!(revoked.elapsed() < std::time::Duration::from_secs(1), "{url} still issues a second after the revocation");
            };
            refused.stderr_has(&["server_revoked"]);
        }
        let events = pg(&two, &db, ["audit", "--client", "bot", "-o", "json"]).success().json();
        let decisions: Vec<&str> = events.as_array().unwrap().iter().filter_map(|e| e["decision"].as_str()).collect();
        let allowed = decisions.iter().take_while(|d| **d == "allow").count();
        assert!(allowed >= 4 && decisions[allowed..] == ["deny", "deny"], "{events}");
        pg(&two, &db, ["audit", "verify"]).success();
    }));
    for c in [&mut s1, &mut s2] {
        let _ = c.kill();
        let _ = c.wait();
    }
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

/// `--database-url` > `MCPCA_DATABASE_URL` > `database_url` in config.yaml; an unreachable
/// database is named (without its password) with a hint.
#[test]
fn postgres_database_url_precedence() {
    let Some(db) = TestDb::create("postgres_database_url_precedence") else { return };
    let h = Home::new();
    pg(&h, &db, ["init"]).success();
    pg(&h, &db, ["server", "add", WEATHER, "--url", WEATHER_URL]).success();
    let dead = "postgres://nobody:s3cret@127.0.0.1:1/none?connect_timeout=5";
    // The config file names a dead database: the environment wins over it…
    let config = std::fs::read_to_string(h.file("config.yaml")).unwrap();
    std::fs::write(h.file("config.yaml"), format!("{config}database_url: {dead}\n")).unwrap();
    assert_eq!(pg(&h, &db, ["server", "list", "-o", "json"]).success().json().as_array().map(Vec::len), Some(1));
    // … and alone it is used, and fails clearly.
    let out = h.cmd(["server", "list"]).fails(2).stderr_has(&["cannot connect to PostgreSQL at nobody@127.0.0.1:1/none", "reachable"]);
    assert!(!out.stderr.contains("s3cret"), "{}", out.stderr);
    // The flag wins over the environment.
    h.command(["server", "list", "-o", "json", "--database-url", &db.url]).env("MCPCA_DATABASE_URL", dead).run().success();
    h.command(["server", "list", "--database-url", dead]).env("MCPCA_DATABASE_URL", &db.url).run().fails(2).stderr_has(&["127.0.0.1:1"]);
}

/// TLS parameters in the URL: `sslmode=require` works end to end; a CA that did not sign the
/// server's certificate, or a CA file that does not exist, fails with the target (never the
/// password) and a hint. Skipped when the test server does not offer TLS.
#[test]
fn postgres_tls_settings_from_the_url() {
    let Some(db) = TestDb::create("postgres_tls_settings_from_the_url") else { return };
    if db.column("SHOW ssl") != [Some("on".to_owned())] {
        eprintln!("SKIPPED postgres_tls_settings_from_the_url: the test database does not offer TLS (ssl = off)");
        return;
    }
    let h = Home::new();
    let with = |params: &str| format!("{}&{params}", db.url);
    let run = |url: &str, args: &[&str]| h.command(args).env("MCPCA_DATABASE_URL", url).run();
    run(&with("sslmode=require"), &["init"]).success();
    run(&with("sslmode=require"), &["server", "add", WEATHER, "--url", WEATHER_URL]).success();

    let other_ca = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pg-tls/other-ca.pem");
    let secret = with(&format!("sslmode=verify-ca&sslrootcert={other_ca}")).replacen("postgres@", "postgres:s3cret@", 1);
    let out = run(&secret, &["server", "list"]).fails(2).stderr_has(&[
        "cannot connect to PostgreSQL at postgres@",
        "not signed by a trusted CA",
        "hint: give the CA",
    ]);
    assert!(!out.stderr.contains("s3cret"), "{}", out.stderr);
    run(&with("sslmode=verify-full&sslrootcert=/nonexistent/ca.pem"), &["server", "list"])
        .fails(2)
        .stderr_has(&["cannot read the CA file /nonexistent/ca.pem (sslrootcert)", "hint: give sslrootcert=PATH"]);
}
