//! Bulk import: the official seed file, reruns and dry runs, invalid entries among valid ones,
//! duplicate versions, official list responses, and a registry URL followed page by page
//! (including a page that fails midway).

use serde_json::{json, Value};

use crate::util::*;

fn import(h: &Home, source: &str, extra: &[&str]) -> Output {
    let mut args = vec!["server", "import", source, "-o", "json"];
    args.extend_from_slice(extra);
    h.cmd(args)
}

/// (name@version, status) of every entry of a report.
fn outcomes(report: &Value) -> Vec<(String, String)> {
    report["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (format!("{}@{}", e["name"].as_str().unwrap(), e["version"].as_str().unwrap()), e["status"].as_str().unwrap().to_owned()))
        .collect()
}

#[track_caller]
fn counts(report: &Value, imported: u64, unchanged: u64, invalid: u64, duplicate: u64) {
    let got = (report["imported"].as_u64(), report["unchanged"].as_u64(), report["invalid"].as_u64(), report["duplicate_version"].as_u64());
    assert_eq!(got, (Some(imported), Some(unchanged), Some(invalid), Some(duplicate)), "{report}");
}

fn seed_refs() -> Vec<String> {
    seed_docs().iter().map(|d| format!("{}@{}", d["name"].as_str().unwrap(), d["version"].as_str().unwrap())).collect()
}

#[test]
fn the_official_seed_imports_once_and_a_second_run_changes_nothing() {
    let h = Home::init();
    let seed = seed_path();
    let seed = seed.to_str().unwrap();
    let events = h.audit_count();
    let out = import(&h, seed, &[]).success().stderr_has(&["4 imported, 0 unchanged, 0 invalid, 0 duplicate version"]);
    let report = out.json();
    counts(&report, 4, 0, 0, 0);
    assert_eq!(report["dry_run"], false);
    let refs = seed_refs();
    assert_eq!(outcomes(&report), refs.iter().map(|r| (r.clone(), "imported".to_owned())).collect::<Vec<_>>());
    let sources: Vec<&str> = report["entries"].as_array().unwrap().iter().map(|e| e["source"].as_str().unwrap()).collect();
    assert_eq!(sources, ["#1", "#2", "#3", "#4"]);

    // 3 servers, 4 versions, stored as given.
    let mut listed = h.server_refs(&[]);
    listed.sort();
    let mut expected = refs.clone();
    expected.sort();
    assert_eq!(listed, expected);
    let names: std::collections::BTreeSet<String> = listed.iter().map(|r| r.split('@').next().unwrap().to_owned()).collect();
    assert_eq!(names.len(), 3);
    let airtable = h.show("io.github.domdomegg/airtable-mcp-server");
    assert_eq!(airtable["server"]["version"], "1.7.3");
    assert_eq!(airtable["server"], seed_docs()[1]);
    assert!(airtable["authority"].get("endpoint").is_none());
    let events_after = h.audit(&[]);
    assert_eq!(events_after.len(), events + 4);
    assert!(events_after[events..].iter().all(|e| e["action"] == "server.import"));

    // Again: all unchanged, nothing written.
    let listing = h.cmd(["server", "list", "-o", "json", "--include-deleted"]).success().stdout;
    h.set_now(T0 + 100);
    let report = import(&h, seed, &[]).success().stderr_has(&["0 imported, 4 unchanged"]).json();
    counts(&report, 0, 4, 0, 0);
    assert!(outcomes(&report).iter().all(|(_, s)| s == "unchanged"));
    assert_eq!(h.audit_count(), events + 4);
    assert_eq!(h.cmd(["server", "list", "-o", "json", "--include-deleted"]).success().stdout, listing);
    // A dry run of the same: unchanged, and nothing written either.
    counts(&import(&h, seed, &["--dry-run"]).success().json(), 0, 4, 0, 0);
    assert_eq!(h.audit_count(), events + 4);

    // The table form: one row per entry and the summary.
    let table = h.cmd(["server", "import", seed]).success().stdout;
    assert!(table.contains("RESULT") && table.matches("unchanged").count() >= 4, "{table}");
    assert!(table.contains("0 imported, 4 unchanged, 0 invalid, 0 duplicate version"), "{table}");
}

#[test]
fn a_dry_run_reports_what_would_happen_and_changes_nothing() {
    let h = Home::init();
    let events = h.audit_count();
    let out = import(&h, seed_path().to_str().unwrap(), &["--dry-run"]).success().stderr_has(&["dry run"]);
    let report = out.json();
    assert_eq!(report["dry_run"], true);
    counts(&report, 4, 0, 0, 0);
    assert!(h.server_refs(&["--include-deleted"]).is_empty());
    assert_eq!(h.audit_count(), events);
    h.cmd(["audit", "verify"]).success();
    // The real run afterwards imports everything.
    counts(&import(&h, seed_path().to_str().unwrap(), &[]).success().json(), 4, 0, 0, 0);
}

#[test]
fn invalid_entries_are_reported_and_valid_ones_imported() {
    let h = Home::init();
    let mut long = doc("io.github.acme/long", "1.0.0");
    long["description"] = json!("x".repeat(101));
    let mut bad_name = doc("io.github.acme/placeholder", "1.0.0");
    bad_name["name"] = json!("not a name");
    let mut latest = doc("io.github.acme/latest", "1.0.0");
    latest["version"] = json!("latest");
    let mut range = doc("io.github.acme/range", "1.0.0");
    range["version"] = json!("^1.2");
    // A remote URL belongs to one server name.
    let mut stolen = doc("io.github.evil/thief", "1.0.0");
    stolen["remotes"][0]["url"] = doc("io.github.acme/a", "1.0.0")["remotes"][0]["url"].clone();
    let mut http = doc("io.github.acme/http", "1.0.0");
    http["remotes"][0]["url"] = json!("http://http.acme.dev/mcp");
    let entries = json!([
        doc("io.github.acme/a", "1.0.0"),
        bad_name,
        long,
        latest,
        doc("io.github.acme/b", "2.0.0"),
        range,
        http,
        42,
        seed_docs()[0],
        stolen,
    ]);
    let file = h.scratch_json("mixed.json", &entries);
    let events = h.audit_count();
    let report = import(&h, file.to_str().unwrap(), &[]).success().json();
    counts(&report, 3, 0, 7, 0);
    let e = report["entries"].as_array().unwrap();
    assert_eq!(e.len(), 10);
    let status: Vec<&str> = e.iter().map(|x| x["status"].as_str().unwrap()).collect();
    assert_eq!(status, ["imported", "invalid", "invalid", "invalid", "imported", "invalid", "invalid", "invalid", "imported", "invalid"]);
    let reason = |i: usize| e[i]["reason"].as_str().unwrap_or_else(|| panic!("no reason: {}", e[i])).to_owned();
    assert!(reason(1).contains("/name") && reason(1).contains("name-pattern"), "{}", reason(1));
    assert!(reason(2).contains("/description") && reason(2).contains("100"), "{}", reason(2));
    assert!(reason(3).contains("/version") && reason(3).contains("latest"), "{}", reason(3));
    assert!(reason(5).contains("/version"), "{}", reason(5));
    assert!(reason(6).contains("/remotes/0/url"), "{}", reason(6));
    assert!(!reason(7).is_empty());
    assert!(reason(9).contains("belongs to io.github.acme/a"), "{}", reason(9));
    assert!(e.iter().filter(|x| x["status"] == "imported").all(|x| x.get("reason").is_none()));
    assert_eq!(e[8]["source"], "#9");

    let mut listed = h.server_refs(&[]);
    listed.sort();
    let mut expected = vec!["io.github.acme/a@1.0.0".to_owned(), "io.github.acme/b@2.0.0".to_owned(), seed_refs()[0].clone()];
    expected.sort();
    assert_eq!(listed, expected);
    assert_eq!(h.audit_count(), events + 3);

    // --summary keeps only the entries that need attention.
    let report = import(&h, file.to_str().unwrap(), &["--summary"]).success().json();
    counts(&report, 0, 3, 7, 0);
    assert_eq!(report["entries"].as_array().unwrap().len(), 7);
    assert!(report["entries"].as_array().unwrap().iter().all(|x| x["status"] == "invalid"));
}

#[test]
fn a_changed_document_for_an_existing_version_is_a_duplicate_version() {
    let h = Home::init();
    let original = doc("io.github.acme/a", "1.0.0");
    h.add_doc(&original).success();
    let mut changed = original.clone();
    changed["description"] = json!("Something else entirely");
    let next = doc("io.github.acme/a", "1.1.0");
    let mut next_changed = next.clone();
    next_changed["description"] = json!("Changed in the same file");
    let file = h.scratch_json("dup.json", &json!([changed, original, next, next.clone(), next_changed]));
    let events = h.audit_count();
    let report = import(&h, file.to_str().unwrap(), &[]).success().json();
    let status: Vec<String> = outcomes(&report).into_iter().map(|(_, s)| s).collect();
    assert_eq!(status, ["duplicate_version", "unchanged", "imported", "unchanged", "duplicate_version"]);
    counts(&report, 1, 2, 0, 2);
    assert!(report["entries"][0]["reason"].as_str().unwrap().contains("immutable"));
    assert_eq!(h.show("io.github.acme/a@1.0.0")["server"]["description"], original["description"]);
    assert_eq!(h.show("io.github.acme/a@1.1.0")["server"]["description"], next["description"]);
    assert_eq!(h.audit_count(), events + 1);
}

#[test]
fn an_official_list_response_file_is_imported() {
    let h = Home::init();
    let docs: Vec<Value> = (1..=3).map(|i| doc(&format!("io.github.acme/s{i}"), "1.0.0")).chain(seed_docs()).collect();
    let page = json!({
        "servers": docs.iter().map(|d| json!({
            "server": d,
            "_meta": {"io.modelcontextprotocol.registry/official": {"status": "active", "publishedAt": "2025-09-01T00:00:00Z", "isLatest": true}}
        })).collect::<Vec<_>>(),
        "metadata": {"count": docs.len(), "nextCursor": "ignored-for-a-file"}
    });
    let file = h.scratch_json("page.json", &page);
    let report = import(&h, file.to_str().unwrap(), &[]).success().json();
    counts(&report, 7, 0, 0, 0);
    assert_eq!(h.server_refs(&[]).len(), 7);
    // The registry's `_meta` is not part of the stored document.
    assert_eq!(h.show("io.github.acme/s1")["server"], docs[0]);
    assert_eq!(h.show("io.github.acme/s2")["authority"]["endpoint"], docs[1]["remotes"][0]["url"]);
}

#[test]
fn unreadable_sources_are_refused() {
    let h = Home::init();
    let cases = [
        ("not-json.json", "this is not json".to_owned()),
        ("servers-not-array.json", r#"{"servers": 5}"#.to_owned()),
        ("string.json", r#""hello""#.to_owned()),
    ];
    for (name, text) in cases {
        let path = h.scratch(name, text);
        let out = h.cmd(["server", "import", path.to_str().unwrap()]).fails(2).stderr_has(&["error:"]);
        // At most an empty report (the report is printed even when an import stops midway).
        assert!(out.stdout.is_empty() || out.stdout.trim() == "0 imported, 0 unchanged, 0 invalid, 0 duplicate version", "{}", out.stdout);
    }
    h.cmd(["server", "import", h.root().join("missing.json").to_str().unwrap()]).fails(2).stderr_has(&["missing.json"]);
    assert!(h.server_refs(&["--include-deleted"]).is_empty());
}

/// Eight documents for a registry, sorted as a registry lists them.
fn registry_docs(n: usize) -> Vec<Value> {
    (1..=n).map(|i| doc(&format!("io.github.acme/s{i:02}"), "1.0.0")).collect()
}

#[test]
fn a_registry_url_is_followed_page_by_page() {
    let h = Home::init();
    let docs = registry_docs(8);
    let registry = Registry::start(docs.clone(), Mode::Healthy);
    let report = import(&h, &registry.base, &["--page-size", "3"]).success().json();
    counts(&report, 8, 0, 0, 0);
    let sources: Vec<&str> = report["entries"].as_array().unwrap().iter().map(|e| e["source"].as_str().unwrap()).collect();
    assert_eq!(sources, ["page 1 #1", "page 1 #2", "page 1 #3", "page 2 #1", "page 2 #2", "page 2 #3", "page 3 #1", "page 3 #2"]);
    assert_eq!(
        registry.requests(),
        [
            "/v0/servers?limit=3",
            "/v0/servers?limit=3&cursor=io.github.acme%2Fs03%3A1.0.0",
            "/v0/servers?limit=3&cursor=io.github.acme%2Fs06%3A1.0.0",
        ]
    );
    let mut listed = h.server_refs(&[]);
    listed.sort();
    assert_eq!(listed, docs.iter().map(|d| format!("{}@1.0.0", d["name"].as_str().unwrap())).collect::<Vec<_>>());
    assert_eq!(h.show("io.github.acme/s05")["server"], docs[4]);

    // The list URL itself, or the base with a trailing slash, work the same; a rerun changes nothing.
    let events = h.audit_count();
    counts(&import(&h, &format!("{}/v0/servers", registry.base), &["--page-size", "5"]).success().json(), 0, 8, 0, 0);
    counts(&import(&h, &format!("{}/", registry.base), &[]).success().json(), 0, 8, 0, 0);
    assert_eq!(h.audit_count(), events);
    // A dry run from a URL stores nothing.
    let fresh = Home::init();
    counts(&import(&fresh, &registry.base, &["--dry-run", "--page-size", "4"]).success().json(), 8, 0, 0, 0);
    assert!(fresh.server_refs(&["--include-deleted"]).is_empty());
    h.cmd(["server", "import", &registry.base, "--page-size", "0"]).fails(2).no_stdout();
    h.cmd(["server", "import", &registry.base, "--page-size", "101"]).fails(2).no_stdout();
}

#[test]
fn a_page_that_fails_midway_keeps_earlier_pages_and_a_rerun_completes() {
    let h = Home::init();
    let docs = registry_docs(8);
    let failing = Registry::start(docs.clone(), Mode::FailPage(3));
    let out = import(&h, &failing.base, &["--page-size", "3"]).fails(2).stderr_has(&["page 3", "500"]);
    assert!(out.stderr.contains(&failing.base), "the error names the registry: {}", out.stderr);
    // The report of what was done is still printed.
    let report = out.json();
    counts(&report, 6, 0, 0, 0);
    assert_eq!(failing.requests().len(), 3);
    drop(failing);
    let mut listed = h.server_refs(&[]);
    listed.sort();
    assert_eq!(listed, docs[..6].iter().map(|d| format!("{}@1.0.0", d["name"].as_str().unwrap())).collect::<Vec<_>>());
    h.cmd(["audit", "verify"]).success();

    // Against a healthy registry, the rerun skips what is there and completes.
    let healthy = Registry::start(docs.clone(), Mode::Healthy);
    let report = import(&h, &healthy.base, &["--page-size", "3"]).success().json();
    counts(&report, 2, 6, 0, 0);
    let status: Vec<String> = outcomes(&report).into_iter().map(|(_, s)| s).collect();
    assert_eq!(status, ["unchanged", "unchanged", "unchanged", "unchanged", "unchanged", "unchanged", "imported", "imported"]);
    assert_eq!(h.server_refs(&[]).len(), 8);

    // The first page failing: nothing imported, the error names page 1.
    let h2 = Home::init();
    let first = Registry::start(docs, Mode::FailPage(1));
    import(&h2, &first.base, &["--page-size", "3"]).fails(2).stderr_has(&["page 1"]);
    assert!(h2.server_refs(&[]).is_empty());
}

#[test]
fn an_unreachable_registry_is_an_operational_error() {
    let h = Home::init();
    // A port nobody listens on: bind, note it, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    import(&h, &format!("http://127.0.0.1:{port}"), &[]).fails(2).stderr_has(&["page 1"]);
    // A server that is not a registry.
    let registry = Registry::start(vec![], Mode::Healthy);
    import(&h, &format!("{}/elsewhere/servers", registry.base), &[]).fails(2).stderr_has(&["page 1", "404"]);
    // An empty registry: nothing to do.
    counts(&import(&h, &registry.base, &[]).success().json(), 0, 0, 0, 0);
}
