//! The registry read API's in-memory catalog (`mcpca serve`): the same bytes as the store path
//! for every route and filter, and fresh after changes through the service (at once) and by
//! another process (within the poller's interval).

use std::sync::Arc;
use std::time::{Duration, Instant};

use mcpca::authority::{Authority, LocalAuthority, RevokeTarget, ServerInput};
use mcpca::clock::rfc3339;
use mcpca::config::{Overrides, Paths};
use mcpca::model::Status;
use mcpca::registry::{document_from_flags, ServerFlags};
use mcpca::server::AppState;
use serde_json::Value;

use crate::registry::{seeded, AIRTABLE, WEATHER};
use crate::util::{TestServer, T0};

/// The same home served without the hot path: the registry routes read the store.
struct StoreTwin {
    url: String,
    http: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl StoreTwin {
    async fn start(s: &TestServer) -> Self {
        let paths = Paths::in_home(s.home.path());
        let authority = LocalAuthority::open(&paths, &Overrides::default(), Arc::new(s.clock.clone())).unwrap();
        assert!(authority.catalog().is_none(), "without the hot path there is no catalog");
        let state = AppState::new(authority);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(mcpca::server::serve(listener, state, async move {
            let _ = rx.await;
        }));
        StoreTwin { url, http: reqwest::Client::new(), stop: Some(tx) }
    }
}

impl Drop for StoreTwin {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// Status, content type and body bytes.
async fn raw(http: &reqwest::Client, url: &str) -> (u16, String, Vec<u8>) {
    let r = http.get(url).send().await.unwrap();
    let status = r.status().as_u16();
    let ctype = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, ctype, r.bytes().await.unwrap().to_vec())
}

/// Ask both servers; the answers must be the same bytes. Returns the catalog's body.
async fn same(s: &TestServer, twin: &StoreTwin, path: &str) -> (u16, Value) {
    let from_catalog = raw(&s.http, &s.at(path)).await;
    let from_store = raw(&twin.http, &format!("{}{path}", twin.url)).await;
    assert_eq!(
        (from_catalog.0, &from_catalog.1),
        (from_store.0, &from_store.1),
        "{path}: status or content type differ; catalog: {}",
        String::from_utf8_lossy(&from_catalog.2)
    );
    assert!(
        from_catalog.2 == from_store.2,
        "{path}: bodies differ\ncatalog: {}\nstore:   {}",
        String::from_utf8_lossy(&from_catalog.2),
        String::from_utf8_lossy(&from_store.2)
    );
    (from_catalog.0, serde_json::from_slice(&from_catalog.2).unwrap_or(Value::Null))
}

fn add(name: &str, version: &str, url: &str) -> ServerInput {
    let flags = ServerFlags { name: name.into(), url: url.into(), version: Some(version.into()), ..Default::default() };
    ServerInput { document: document_from_flags(&flags), verified: None, max_ttl: None }
}

/// Walk every page of `query` with `limit`, on both servers, comparing each page.
async fn walk(s: &TestServer, twin: &StoreTwin, query: &str, limit: u32) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/v0.1/servers?limit={limit}{query}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={}", urlencoding(c)));
        }
        let (status, body) = same(s, twin, &path).await;
        assert_eq!(status, 200, "{path}");
        for e in body["servers"].as_array().unwrap() {
            seen.push(format!("{}@{}", e["server"]["name"].as_str().unwrap(), e["server"]["version"].as_str().unwrap()));
        }
        match body["metadata"]["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return seen,
        }
        assert!(seen.len() < 1000, "paging does not end");
    }
}

fn urlencoding(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalog_answers_every_route_byte_for_byte_as_the_store() {
    let s = seeded(5).await;
    let a = s.authority();
    // Non-semantic versions published in the same second: ties broken by insertion order.
    for v in ["2025-01", "2024-12", "2024-11"] {
        a.server_add(add("io.github.acme/dated", v, "https://dated.acme.dev/mcp")).await.unwrap();
    }
    s.clock.advance(1000);
    a.server_set_status(&format!("{AIRTABLE}@1.7.2").parse().unwrap(), Status::Deleted, Some("yanked".into())).await.unwrap();
    a.server_set_status(&"io.github.domdomegg/time-mcp-pypi".parse().unwrap(), Status::Deprecated, Some("use the nuget one".into()))
        .await
        .unwrap();
    a.server_set_status(&"io.github.domdomegg/time-mcp-nuget".parse().unwrap(), Status::Suspended, Some("abuse".into())).await.unwrap();
    a.revoke(&RevokeTarget::Server(format!("{WEATHER}@1.0.0").parse().unwrap()), Some("key leaked".into())).await.unwrap();
    s.clock.advance(500);
    a.server_set_status(&"io.github.acme/dated".parse().unwrap(), Status::Deleted, Some("gone".into())).await.unwrap();
    a.server_set_status(&"io.github.page/s03".parse().unwrap(), Status::Deprecated, Some("\"quoted\" \\ reason ✓".into())).await.unwrap();
    a.server_add(add(WEATHER, "3.0.0-rc.1", "https://weather.acme.dev/mcp")).await.unwrap();

    let catalog = a.catalog().expect("the test server runs the hot path");
    assert!(catalog.len() >= 15, "{}", catalog.len());
    let twin = StoreTwin::start(&s).await;

    // Lists: every filter, alone and combined, under both API versions.
    let (since_changed, since_late, since_before) = (rfc3339(T0 + 1000), rfc3339(T0 + 1500), rfc3339(T0 - 1));
    let queries = [
        String::new(),
        "?limit=1".into(),
        "?limit=100".into(),
        "?include_deleted=true".into(),
        "?include_deleted=1&limit=3".into(),
        "?search=WEATH".into(),
        "?search=acme&include_deleted=true".into(),
        "?search=nothing-like-this".into(),
        "?version=latest".into(),
        "?version=latest&include_deleted=true".into(),
        "?version=1.0.0".into(),
        "?version=2024-12&include_deleted=true".into(),
        format!("?updated_since={since_changed}"),
        format!("?updated_since={since_late}&limit=2"),
        format!("?updated_since={since_before}&version=latest"),
        "?cursor=io.github.acme%2Fweather%3A1.0.5".into(),
        "?cursor=io.github.acme%2Fweather%3A1.1.0&limit=2".into(),
        "?cursor=io.github.acme%2Fdated%3A2025-01&include_deleted=true".into(),
        "?cursor=a%3A1".into(),
        "?cursor=zzz%3A1".into(),
        "?cursor=io.github.page%2Fs01%3A&search=page".into(),
        "?limit=0".into(),
        "?cursor=nocolon".into(),
    ];
    for prefix in ["/v0.1/servers", "/v0/servers"] {
        for q in &queries {
            same(&s, &twin, &format!("{prefix}{q}")).await;
        }
    }
    // Every page of a few walks.
    let all = walk(&s, &twin, "&include_deleted=true", 3).await;
    assert_eq!(all.len(), catalog.len());
    assert_eq!(walk(&s, &twin, "", 2).await.len(), catalog.len() - 4, "one deleted version, three of a deleted name");
    walk(&s, &twin, "&search=Acme&include_deleted=true", 1).await;
    walk(&s, &twin, &format!("&updated_since={since_changed}"), 2).await;
    walk(&s, &twin, "&version=latest", 4).await;

    // The versions routes of every name (and one unknown), every version, with and without
    // deleted entries.
    let mut names: Vec<&str> = all.iter().map(|id| id.split_once('@').unwrap().0).collect();
    names.dedup();
    names.push("io.github.acme/nope");
    for name in names {
        let encoded = name.replace('/', "%2F");
        for flag in ["", "?include_deleted=true"] {
            same(&s, &twin, &format!("/v0.1/servers/{encoded}/versions{flag}")).await;
            same(&s, &twin, &format!("/v0/servers/{name}/versions{flag}")).await;
            same(&s, &twin, &format!("/v0.1/servers/{encoded}/versions/latest{flag}")).await;
            same(&s, &twin, &format!("/v0.1/servers/{encoded}/versions/9.9.9{flag}")).await;
            for id in all.iter().filter(|id| id.split_once('@').unwrap().0 == name) {
                let version = id.split_once('@').unwrap().1;
                same(&s, &twin, &format!("/v0.1/servers/{encoded}/versions/{}{flag}", urlencoding(version))).await;
            }
        }
    }
    // A deleted name with non-semantic versions: `latest` with deleted entries is the one
    // published last (ties by insertion order), as the store picks it.
    let (status, latest) = same(&s, &twin, "/v0.1/servers/io.github.acme%2Fdated/versions/latest?include_deleted=true").await;
    assert_eq!((status, latest["server"]["version"].as_str()), (200, Some("2024-11")));
    s.stop().await;
}

/// GET the list and find `name@version`'s entry (with deleted entries).
async fn entry(s: &TestServer, name: &str, version: &str) -> Option<Value> {
    let r = s.http.get(s.at("/v0.1/servers?limit=100&include_deleted=true")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    body["servers"].as_array().unwrap().iter().find(|e| e["server"]["name"] == name && e["server"]["version"] == version).cloned()
}

fn status_of(e: &Value) -> &str {
    e["_meta"]["dev.mcpca/authority"]["status"].as_str().unwrap()
}

/// Run the CLI on the server's home (another process).
async fn cli(s: &TestServer, args: &[&str]) {
    let home = s.home_path();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let out = tokio::task::spawn_blocking(move || {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_mcpca"));
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("MCPCA_") {
                cmd.env_remove(k);
            }
        }
        cmd.env("MCPCA_HOME", home).env("MCPCA_NOW", (T0 + 60).to_string()).args(args).output().unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Poll the listing until `check` holds for `name@version`'s entry (or panic at the deadline).
async fn until(s: &TestServer, name: &str, version: &str, what: &str, check: impl Fn(Option<&Value>) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check(entry(s, name, version).await.as_ref()) {
        assert!(Instant::now() < deadline, "the listing never showed {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalog_follows_changes_by_another_process_and_through_the_admin_api() {
    let s = TestServer::start().await;
    crate::util::seed(&s).await;
    assert_eq!(entry(&s, WEATHER, "1.0.0").await.map(|e| status_of(&e).to_owned()).as_deref(), Some("active"));

    // Another process: a new server, then a suspension.
    cli(&s, &["server", "add", "io.github.acme/other", "--url", "https://other.acme.dev/mcp"]).await;
    until(&s, "io.github.acme/other", "1.0.0", "the server added by the CLI", |e| e.is_some()).await;
    cli(&s, &["server", "suspend", WEATHER, "--reason", "cli"]).await;
    until(&s, WEATHER, "1.0.0", "the suspension made by the CLI", |e| e.is_some_and(|e| status_of(e) == "suspended")).await;
    let one = s.http.get(s.at("/v0.1/servers/io.github.acme%2Fweather/versions/latest")).send().await.unwrap();
    assert_eq!(status_of(&one.json::<Value>().await.unwrap()), "suspended");

    // Through the admin API: shown as soon as the call returns, no waiting.
    let r = s
        .http
        .post(s.at("/v1/admin/servers/io.github.acme%2Fother/status"))
        .bearer_auth(&s.admin)
        .json(&serde_json::json!({"status": "deprecated", "reason": "use weather"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let other = entry(&s, "io.github.acme/other", "1.0.0").await.unwrap();
    assert_eq!(status_of(&other), "deprecated");
    assert_eq!(other["_meta"]["io.modelcontextprotocol.registry/official"]["statusMessage"], "use weather");
    let r = s
        .http
        .post(s.at("/v1/admin/servers/io.github.acme%2Fother/status"))
        .bearer_auth(&s.admin)
        .json(&serde_json::json!({"status": "deleted"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let hidden = s.http.get(s.at("/v0.1/servers?search=other")).send().await.unwrap().json::<Value>().await.unwrap();
    assert_eq!(hidden["metadata"]["count"], 0, "{hidden}");
    s.stop().await;
}
