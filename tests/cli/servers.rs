//! `mcpca server add|list|show|update|remove|suspend|resume|deprecate` (DESIGN §5).

use serde_json::{json, Value};

use crate::util::*;

const WEATHER: &str = "io.github.acme/weather";
const WEATHER_URL: &str = "https://weather.acme.dev/mcp";

fn doc(name: &str, version: &str, url: &str) -> Value {
    json!({
        "$schema": CURRENT_SCHEMA,
        "name": name,
        "description": "Weather forecasts over MCP",
        "version": version,
        "remotes": [{"type": "streamable-http", "url": url}],
    })
}

/// The registry, as `server list --include-deleted -o json` prints it.
fn registry(h: &Home) -> String {
    h.cmd(["server", "list", "--include-deleted", "-o", "json"]).success().stdout
}

#[test]
fn server_add_from_flags_builds_a_server_json() {
    let h = Home::init();
    let out = h
        .cmd([
            "server",
            "add",
            WEATHER,
            "--url",
            WEATHER_URL,
            "--version",
            "1.2.0",
            "--description",
            "Forecasts",
            "--title",
            "Acme Weather",
            "--max-ttl",
            "5m",
            "--verified",
            "-o",
            "json",
        ])
        .success();
    assert!(out.stderr.contains("added io.github.acme/weather@1.2.0"), "{}", out.stderr);
    let e = out.json();
    assert_eq!(
        e["server"],
        json!({
            "$schema": CURRENT_SCHEMA,
            "name": WEATHER,
            "description": "Forecasts",
            "title": "Acme Weather",
            "version": "1.2.0",
            "remotes": [{"type": "streamable-http", "url": WEATHER_URL}],
        })
    );
    let a = &e["authority"];
    assert_eq!(a["status"], "active");
    assert_eq!(a["verified"], true);
    assert_eq!(a["max_ttl"], "5m");
    assert_eq!(a["endpoint"], WEATHER_URL);
    assert_eq!(a["is_latest"], true);
    assert_eq!(a["published_at"], T0_RFC3339);
    // Stored: list and show give the same entry.
    assert_eq!(h.servers(&[]), vec![e.clone()]);
    assert_eq!(h.show(WEATHER)["server"], e["server"]);

    // Defaults: version 1.0.0, a description, not verified, no max TTL.
    let e = h.add_server("io.github.acme/tides", "https://tides.acme.dev/mcp", &[]);
    assert_eq!(e["server"]["version"], "1.0.0");
    assert!(!e["server"]["description"].as_str().unwrap().is_empty());
    assert!(e["server"].get("title").is_none());
    assert_eq!(e["authority"]["verified"], false);
    assert!(e["authority"].get("max_ttl").is_none());
}

#[test]
fn server_add_from_flags_requires_a_url() {
    let h = Home::init();
    h.cmd(["server", "add", WEATHER]).fails(2).no_stdout();
    h.cmd(["server", "add"]).fails(2).no_stdout();
    assert_eq!(h.servers(&[]), Vec::<Value>::new());
}

#[test]
fn server_add_file_takes_the_official_seed_documents() {
    let h = Home::init();
    let seeds = seed_docs();
    assert_eq!(seeds.len(), 4);
    for d in &seeds {
        let out = h.add_doc(d).success();
        assert!(out.stderr.contains("transport_not_supported"), "packages-only servers get a note: {}", out.stderr);
    }
    let all = h.servers(&[]);
    assert_eq!(
        names(&all),
        [
            "io.github.domdomegg/airtable-mcp-server@1.7.2",
            "io.github.domdomegg/airtable-mcp-server@1.7.3",
            "io.github.domdomegg/time-mcp-nuget@1.0.8",
            "io.github.domdomegg/time-mcp-pypi@1.0.6",
        ]
    );
    // Documents are stored as given.
    for d in &seeds {
        let v = format!("{}@{}", d["name"].as_str().unwrap(), d["version"].as_str().unwrap());
        assert_eq!(&h.show(&v)["server"], d, "{v}");
    }
    // Latest by semver.
    assert_eq!(
        names(&h.servers(&["--latest"])),
        [
            "io.github.domdomegg/airtable-mcp-server@1.7.3",
            "io.github.domdomegg/time-mcp-nuget@1.0.8",
            "io.github.domdomegg/time-mcp-pypi@1.0.6",
        ]
    );
    let show = h.show("io.github.domdomegg/airtable-mcp-server");
    assert_eq!(show["server"]["version"], "1.7.3");
    assert_eq!(show["authority"]["is_latest"], true);
    let versions: Vec<&str> = show["versions"].as_array().unwrap().iter().map(|v| v["version"].as_str().unwrap()).collect();
    assert_eq!(versions, ["1.7.2", "1.7.3"]);
    let old = h.show("io.github.domdomegg/airtable-mcp-server@1.7.2");
    assert_eq!(old["server"]["version"], "1.7.2");
    assert_eq!(old["authority"]["is_latest"], false);
    assert!(old["authority"].get("endpoint").is_none());
}

#[test]
fn server_add_file_from_stdin() {
    let h = Home::init();
    let d = doc(WEATHER, "1.0.0", WEATHER_URL);
    h.command(["server", "add", "--file", "-", "-o", "json"]).stdin(d.to_string()).run().success();
    assert_eq!(h.show(WEATHER)["server"], d);
    // Not JSON.
    h.command(["server", "add", "--file", "-"]).stdin("{not json").run().fails(2).stderr_has(&["not JSON"]);
    let p = h.scratch("missing-dir-nothing.json", "");
    std::fs::remove_file(&p).unwrap();
    h.cmd([std::ffi::OsStr::new("server"), "add".as_ref(), "--file".as_ref(), p.as_os_str()]).fails(2).stderr_has(&["cannot read"]);
}

#[test]
fn server_add_file_with_an_older_schema() {
    let h = Home::init();
    let legacy = json!({
        "$schema": SCHEMA_2025_09_29,
        "name": "io.github.example/legacy",
        "description": "An older server.json",
        "version": "0.3.1",
        "packages": [{
            "registryType": "npm",
            "identifier": "@example/legacy",
            "version": "0.3.1",
            "transport": {"type": "stdio"}
        }],
        "remotes": [{"type": "streamable-http", "url": "https://legacy.example.com/mcp"}]
    });
    h.add_doc(&legacy).success();
    assert_eq!(h.show("io.github.example/legacy")["server"], legacy);
    h.issue("io.github.example/legacy", &[]);

    // That schema requires a package version (the newest one does not): the schema named is the one used.
    let mut no_pkg_version = legacy.clone();
    no_pkg_version["version"] = json!("0.3.2");
    no_pkg_version["packages"][0].as_object_mut().unwrap().remove("version");
    let before = registry(&h);
    h.add_doc(&no_pkg_version).fails(2).stderr_has(&["/packages/0", "schema:required"]);
    assert_eq!(registry(&h), before);
    no_pkg_version["$schema"] = json!(CURRENT_SCHEMA);
    h.add_doc(&no_pkg_version).success();
}

#[test]
fn validation_errors_name_the_path_and_rule_and_change_nothing() {
    let h = Home::init();
    h.add_server(WEATHER, WEATHER_URL, &[]);
    let before = registry(&h);
    let long = "x".repeat(101);
    let flag_cases: Vec<(Vec<&str>, &str, &str)> = vec![
        (vec!["bad name", "--url", "https://bad.example.com/mcp"], "/name", "name-pattern"),
        (vec!["io.github.acme/a/b", "--url", "https://bad.example.com/mcp"], "/name", "name-pattern"),
        (vec!["io.github.acme/x", "--url", "https://bad.example.com/mcp", "--description", &long], "/description", "description-length"),
        (vec!["io.github.acme/x", "--url", "https://bad.example.com/mcp", "--version", "latest"], "/version", "version-latest"),
        (vec!["io.github.acme/x", "--url", "https://bad.example.com/mcp", "--version", "^1.2"], "/version", "version-not-range"),
        (vec!["io.github.acme/x", "--url", "http://bad.example.com/mcp"], "/remotes/0/url", "endpoint-https"),
        (vec!["io.github.acme/x", "--url", "http://10.0.0.1/mcp"], "/remotes/0/url", "endpoint-https"),
        (vec!["io.github.acme/x", "--url", "ftp://bad.example.com/mcp"], "/remotes/0/url", "endpoint-scheme"),
        (vec!["io.github.acme/x", "--url", "https://user:pw@bad.example.com/mcp"], "/remotes/0/url", "endpoint-userinfo"),
    ];
    for (extra, path, rule) in flag_cases {
        let mut args = vec!["server", "add"];
        args.extend(extra);
        h.cmd(&args).fails(2).stderr_has(&[&format!("{path}:"), &format!("rule {rule}")]).no_stdout();
    }

    let mut unknown_schema = doc("io.github.acme/x", "1.0.0", "https://x.example.com/mcp");
    unknown_schema["$schema"] = json!("https://example.com/server.schema.json");
    let mut no_schema = doc("io.github.acme/x", "1.0.0", "https://x.example.com/mcp");
    no_schema.as_object_mut().unwrap().remove("$schema");
    let mut no_url = doc("io.github.acme/x", "1.0.0", "https://x.example.com/mcp");
    no_url["remotes"] = json!([{"type": "streamable-http"}]);
    let file_cases = [
        (unknown_schema, "/$schema", "unknown-schema"),
        (no_schema, "/$schema", "schema-missing"),
        (no_url, "/remotes/0", "schema:required"),
        (json!([1, 2]), "/", "document-type"),
    ];
    for (d, path, rule) in file_cases {
        h.add_doc(&d).fails(2).stderr_has(&[&format!("{path}:"), &format!("rule {rule}")]).no_stdout();
    }

    // Every problem is reported at once.
    let mut many = doc("no slash", "latest", "http://bad.example.com/mcp");
    many["description"] = json!(long);
    let out = h.add_doc(&many).fails(2);
    for rule in ["name-pattern", "description-length", "version-latest", "endpoint-https"] {
        assert!(out.stderr.contains(&format!("rule {rule}")), "{rule}: {}", out.stderr);
    }
    assert_eq!(registry(&h), before, "a refused document changes nothing");
}

#[test]
fn loopback_http_endpoints_are_accepted() {
    let h = Home::init();
    let e = h.add_server("io.github.acme/dev", "http://127.0.0.1:9000/mcp", &[]);
    assert_eq!(e["authority"]["endpoint"], "http://127.0.0.1:9000/mcp");
    h.add_server("io.github.acme/dev2", "http://localhost:8080/mcp", &[]);
    h.add_server("io.github.acme/dev6", "http://[::1]:3000/mcp", &[]);
    let jwt = h.issue("io.github.acme/dev", &[]);
    assert_eq!(decode_jwt(&jwt).1["aud"], "http://127.0.0.1:9000/mcp");
}

#[test]
fn a_remote_url_belongs_to_one_server() {
    let h = Home::init();
    h.add_server(WEATHER, WEATHER_URL, &[]);
    let before = registry(&h);
    for url in [WEATHER_URL, "https://WEATHER.acme.dev/mcp/", "https://weather.acme.dev:443/mcp"] {
        h.cmd(["server", "add", "io.github.other/weather", "--url", url])
            .fails(2)
            .stderr_has(&["remote URL", "belongs to io.github.acme/weather"])
            .no_stdout();
    }
    assert_eq!(registry(&h), before);
    // Another version of the same server may keep its URL.
    h.add_server(WEATHER, WEATHER_URL, &["--version", "2.0.0"]);
    assert_eq!(names(&h.servers(&[])), ["io.github.acme/weather@1.0.0", "io.github.acme/weather@2.0.0"]);
}

#[test]
fn published_versions_are_immutable() {
    let h = Home::init();
    h.add_server(WEATHER, WEATHER_URL, &["--description", "First"]);
    let before = registry(&h);
    h.cmd(["server", "add", WEATHER, "--url", WEATHER_URL, "--description", "Second"])
        .fails(2)
        .stderr_has(&["already exists", "io.github.acme/weather@1.0.0", "immutable"])
        .no_stdout();
    let mut d = doc(WEATHER, "1.0.0", WEATHER_URL);
    d["description"] = json!("Third");
    h.add_doc(&d).fails(2).stderr_has(&["already exists"]);
    assert_eq!(registry(&h), before);
    assert_eq!(h.show(WEATHER)["server"]["description"], "First");
}

#[test]
fn server_list_filters() {
    let h = Home::init();
    h.add_server("io.github.acme/weather", "https://weather.acme.dev/mcp", &[]);
    h.add_server("io.github.acme/weather", "https://weather.acme.dev/mcp", &["--version", "1.1.0"]);
    h.add_server("io.github.acme/tides", "https://tides.acme.dev/mcp", &[]);
    h.add_server("io.github.other/Forecast", "https://forecast.other.dev/mcp", &[]);
    h.add_server("io.github.other/gone", "https://gone.other.dev/mcp", &[]);
    h.cmd(["server", "suspend", "io.github.acme/tides"]).success();
    h.cmd(["server", "deprecate", "io.github.other/Forecast"]).success();
    h.cmd(["server", "remove", "io.github.other/gone"]).success();

    assert_eq!(
        names(&h.servers(&[])),
        ["io.github.acme/tides@1.0.0", "io.github.acme/weather@1.0.0", "io.github.acme/weather@1.1.0", "io.github.other/Forecast@1.0.0",]
    );
    assert_eq!(names(&h.servers(&["--status", "suspended"])), ["io.github.acme/tides@1.0.0"]);
    assert_eq!(names(&h.servers(&["--status", "deprecated"])), ["io.github.other/Forecast@1.0.0"]);
    assert_eq!(names(&h.servers(&["--status", "active"])), ["io.github.acme/weather@1.0.0", "io.github.acme/weather@1.1.0"]);
    assert_eq!(names(&h.servers(&["--status", "deleted"])), Vec::<String>::new());
    assert_eq!(names(&h.servers(&["--status", "deleted", "--include-deleted"])), ["io.github.other/gone@1.0.0"]);
    assert_eq!(names(&h.servers(&["--search", "FORE"])), ["io.github.other/Forecast@1.0.0"]);
    assert_eq!(names(&h.servers(&["--search", "acme/"])).len(), 3);
    assert_eq!(names(&h.servers(&["--search", "acme", "--latest"])), ["io.github.acme/tides@1.0.0", "io.github.acme/weather@1.1.0"]);
    let all = h.servers(&["--include-deleted"]);
    assert_eq!(all.len(), 5);
    let gone = all.iter().find(|e| e["server"]["name"] == "io.github.other/gone").unwrap();
    assert_eq!(gone["authority"]["status"], "deleted");
    // An unknown status is refused.
    h.cmd(["server", "list", "--status", "sleeping"]).fails(2).no_stdout();
    // The table has one row per version and the columns of the design.
    let table = h.cmd(["server", "list"]).success().stdout;
    assert!(table.lines().next().unwrap().contains("NAME"), "{table}");
    assert!(table.lines().next().unwrap().contains("STATUS"), "{table}");
    assert_eq!(table.lines().count(), 5, "{table}");
    assert!(table.lines().any(|l| l.contains("io.github.acme/tides") && l.contains("suspended")), "{table}");
}

#[test]
fn server_show_name_and_version() {
    let h = Home::init();
    h.add_server(WEATHER, WEATHER_URL, &["--version", "1.0.0", "--description", "one"]);
    h.add_server(WEATHER, WEATHER_URL, &["--version", "1.10.0", "--description", "ten"]);
    h.add_server(WEATHER, WEATHER_URL, &["--version", "1.9.0", "--description", "nine"]);
    let latest = h.show(WEATHER);
    assert_eq!(latest["server"]["version"], "1.10.0", "semver order, not text order");
    assert_eq!(latest["versions"].as_array().unwrap().len(), 3);
    assert_eq!(h.show("io.github.acme/weather@1.9.0")["server"]["description"], "nine");
    let table = h.cmd(["server", "show", WEATHER]).success().stdout;
    assert!(table.contains("1.10.0"), "{table}");
    assert!(table.contains("versions:"), "{table}");
    h.cmd(["server", "show", "io.github.acme/weather@2.0.0"]).fails(2).stderr_has(&["not found"]).no_stdout();
    h.cmd(["server", "show", "io.github.acme/nothing"]).fails(2).stderr_has(&["not found", "mcpca server list"]);
}

#[test]
fn server_update_changes_authority_fields_only() {
    let h = Home::init();
    h.add_server(WEATHER, WEATHER_URL, &[]);
    let doc_before = h.show(WEATHER)["server"].clone();

    h.set_now(T0 + 10);
    let d = h.cmd(["server", "update", WEATHER, "--verified", "-o", "json"]).success().json();
    assert_eq!(d["authority"]["verified"], true);
    assert_eq!(d["authority"]["updated_at"], rfc3339(T0 + 10));
    assert_eq!(decode_jwt(&h.issue(WEATHER, &[])).1["mcp"]["server"]["verified"], true);

    h.cmd(["server", "update", WEATHER, "--max-ttl", "10m"]).success();
    assert_eq!(h.show(WEATHER)["authority"]["max_ttl"], "10m");
    let e = h.issue_json(WEATHER, &["--ttl", "1h"]);
    assert_eq!(e["expires_in"], 600);

    h.cmd(["server", "update", WEATHER, "--no-max-ttl"]).success();
    assert!(h.show(WEATHER)["authority"].get("max_ttl").is_none());
    let e = h.issue_json(WEATHER, &["--ttl", "1h"]);
    assert_eq!(e["expires_in"], 3600);
    assert!(e.get("clamped").is_none());

    h.cmd(["server", "update", WEATHER, "--unverified"]).success();
    assert_eq!(h.show(WEATHER)["authority"]["verified"], false);

    assert_eq!(h.show(WEATHER)["server"], doc_before, "the document never changes");
    // Nothing to update; unknown server; conflicting flags.
    h.cmd(["server", "update", WEATHER]).fails(2).stderr_has(&["nothing to update"]);
    h.cmd(["server", "update", "io.github.acme/nothing", "--verified"]).fails(2).stderr_has(&["not found"]);
    h.cmd(["server", "update", WEATHER, "--verified", "--unverified"]).fails(2);
    h.cmd(["server", "update", WEATHER, "--max-ttl", "5m", "--no-max-ttl"]).fails(2);
    h.cmd(["server", "update", WEATHER, "--max-ttl", "five"]).fails(2).stderr_has(&["invalid duration"]);
}

#[test]
fn server_remove_hides_it() {
    let h = Home::init();
    h.add_server(WEATHER, WEATHER_URL, &[]);
    h.add_server("io.github.acme/tides", "https://tides.acme.dev/mcp", &[]);
    h.set_now(T0 + 5);
    let out = h.cmd(["server", "remove", WEATHER, "--reason", "gone for good", "-o", "json"]).success();
    assert_eq!(out.json()["authority"]["status"], "deleted");
    assert_eq!(names(&h.servers(&[])), ["io.github.acme/tides@1.0.0"]);
    let all = h.servers(&["--include-deleted"]);
    let gone = all.iter().find(|e| e["server"]["name"] == WEATHER).unwrap();
    assert_eq!(gone["authority"]["status"], "deleted");
    assert_eq!(gone["authority"]["status_reason"], "gone for good");
    assert_eq!(gone["authority"]["status_changed_at"], rfc3339(T0 + 5));
    // Still shown when asked for by name; no descriptors.
    assert_eq!(h.show(WEATHER)["authority"]["status"], "deleted");
    h.cmd(["issue", "--server", WEATHER]).fails(1).stderr_has(&["server_revoked"]).no_stdout();
    h.cmd(["server", "remove", "io.github.acme/nothing"]).fails(2).stderr_has(&["not found"]);
}

#[test]
fn suspend_resume_deprecate_and_issuance() {
    let h = Home::init();
    h.add_server(WEATHER, WEATHER_URL, &[]);

    let d = h.cmd(["server", "suspend", WEATHER, "--reason", "abuse report #12", "-o", "json"]).success().json();
    assert_eq!(d["authority"]["status"], "suspended");
    assert_eq!(d["authority"]["status_reason"], "abuse report #12");
    h.cmd(["issue", "--server", WEATHER]).fails(1).stderr_has(&["policy_blocked", "abuse report #12"]).no_stdout();
    let table = h.cmd(["server", "show", WEATHER]).success().stdout;
    assert!(table.contains("suspended (abuse report #12)"), "{table}");

    let d = h.cmd(["server", "resume", WEATHER, "-o", "json"]).success().json();
    assert_eq!(d["authority"]["status"], "active");
    h.issue(WEATHER, &[]);

    let d = h.cmd(["server", "deprecate", WEATHER, "--reason", "use v2", "-o", "json"]).success().json();
    assert_eq!(d["authority"]["status"], "deprecated");
    // Deprecated servers are still issued for.
    h.issue(WEATHER, &[]);
    h.cmd(["server", "resume", WEATHER]).success();
    assert_eq!(h.show(WEATHER)["authority"]["status"], "active");

    // Per version: only that version is suspended.
    h.add_server(WEATHER, WEATHER_URL, &["--version", "2.0.0"]);
    h.cmd(["server", "suspend", "io.github.acme/weather@1.0.0"]).success();
    h.cmd(["issue", "--server", "io.github.acme/weather@1.0.0"]).fails(1).stderr_has(&["policy_blocked"]);
    h.issue("io.github.acme/weather@2.0.0", &[]);
    h.issue(WEATHER, &[]);
    assert_eq!(h.show("io.github.acme/weather@1.0.0")["authority"]["status"], "suspended");
    assert_eq!(h.show("io.github.acme/weather@2.0.0")["authority"]["status"], "active");
    // A name-level suspension covers every version.
    h.cmd(["server", "suspend", WEATHER]).success();
    h.cmd(["issue", "--server", "io.github.acme/weather@2.0.0"]).fails(1).stderr_has(&["policy_blocked"]);
    h.cmd(["server", "suspend", "io.github.acme/nothing"]).fails(2).stderr_has(&["not found"]);
}

/// Several processes writing at once lose nothing.
#[test]
fn concurrent_server_adds_all_land() {
    let h = Home::init();
    let runs: Vec<_> = (0..8)
        .map(|i| {
            let name = format!("io.github.concurrent/s{i}");
            let url = format!("https://s{i}.concurrent.dev/mcp");
            h.command(["server", "add", name.as_str(), "--url", url.as_str()]).spawn()
        })
        .collect();
    let outs: Vec<Output> = runs.into_iter().map(|(child, display, stdin)| finish(child, display, stdin)).collect();
    assert!(outs.iter().all(|o| o.code() == 0), "{outs:#?}");
    let listed = names(&h.servers(&[]));
    let want: Vec<String> = (0..8).map(|i| format!("io.github.concurrent/s{i}@1.0.0")).collect();
    assert_eq!(listed, want);
    // And the database is still fine for writers.
    h.add_server("io.github.concurrent/after", "https://after.concurrent.dev/mcp", &[]);
    h.issue("io.github.concurrent/s7", &[]);
}
