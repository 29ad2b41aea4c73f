//! The admin API `/v1/admin/…` (docs/admin-api.md): every route walked with every kind of
//! credential, and the behaviour of each family through HTTP.
//!
//! `mcpca::server::admin::ROUTES` is the single source: the router is built from it, the
//! document must list exactly its rows, and `walk()` has to give every row a concrete call (a
//! row without one fails the walk), so a route cannot be added without being walked.

use std::collections::BTreeSet;

use mcpca::authority::{Authority, ServerInput};
use mcpca::duration::Dur;
use mcpca::server::admin::ROUTES;
use mcpca::store::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::util::{seed, TestServer};

const WEATHER: &str = "io.github.acme%2Fweather";

fn document(name: &str, version: &str, url: &str) -> Value {
    mcpca::registry::document_from_flags(&mcpca::registry::ServerFlags {
        name: name.into(),
        url: url.into(),
        version: Some(version.into()),
        ..Default::default()
    })
}

/// The credential a request carries.
#[derive(Debug, Clone, Copy)]
enum Auth<'a> {
    None,
    /// A raw `Authorization` header value.
    Header(&'a str),
    Bearer(&'a str),
}

async fn call(s: &TestServer, method: &str, path: &str, auth: Auth<'_>, body: Option<&Value>) -> reqwest::Response {
    let mut req = s.http.request(Method::from_bytes(method.as_bytes()).unwrap(), s.at(path));
    match auth {
        Auth::None => {}
        Auth::Header(h) => req = req.header("authorization", h),
        Auth::Bearer(t) => req = req.bearer_auth(t),
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    req.send().await.unwrap()
}

/// An admin-token call that must succeed; its JSON answer.
async fn ok(s: &TestServer, method: &str, path: &str, body: Option<Value>) -> Value {
    let r = call(s, method, path, Auth::Bearer(&s.admin), body.as_ref()).await;
    let status = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(status, 200, "{method} {path}: {text}");
    serde_json::from_str(&text).unwrap()
}

/// An admin-token call that must fail with `status`; its problem document.
async fn fails(s: &TestServer, method: &str, path: &str, body: Option<Value>, status: u16) -> Value {
    let r = call(s, method, path, Auth::Bearer(&s.admin), body.as_ref()).await;
    assert_eq!(r.status(), status, "{method} {path}");
    assert_eq!(r.headers()["content-type"], "application/problem+json", "{method} {path}");
    r.json().await.unwrap()
}

async fn token_id(s: &TestServer, name: &str) -> String {
    s.authority().token_list().await.unwrap().into_iter().find(|t| t.name.as_deref() == Some(name)).unwrap().id
}

// ---------------------------------------------------------------------------------------------
// The route table.

/// One concrete call of a route.
struct Call {
    method: &'static str,
    /// The route pattern (`ROUTES[i].path`).
    route: &'static str,
    path: String,
    body: Option<Value>,
    /// Retire a freshly generated `next` key (a key rotation earlier in the walk may promote
    /// any `next` key).
    fresh_key: bool,
}

/// What the walk's calls refer to, created before the walk.
struct Fixture {
    victim_token: String,
}

async fn fixture(s: &TestServer) -> Fixture {
    seed(s).await;
    let a = s.authority();
    let moderated = document("io.github.acme/moderated", "1.0.0", "https://moderated.acme.dev/mcp");
    a.server_add(ServerInput { document: moderated, verified: Some(true), max_ttl: None }).await.unwrap();
    let policy = mcpca::model::ClientPolicy { tenant: None, allow: vec!["io.github.acme/*".into()], max_ttl: None, rate_per_min: None };
    a.client_add("walk", policy.clone()).await.unwrap();
    a.client_add("gone", policy).await.unwrap();
    let victim = a.token_create(Role::Reader, Some("victim".into()), None).await.unwrap();
    Fixture { victim_token: victim.token.id }
}

/// A concrete call for every row of `ROUTES`, in its order; panics on a row it does not know.
fn walk(fx: &Fixture) -> Vec<Call> {
    let seed_page: Vec<Value> = serde_json::from_str(include_str!("../fixtures/seed.json")).unwrap();
    ROUTES
        .iter()
        .map(|route| {
            let (path, body): (String, Option<Value>) = match (route.method, route.path) {
                ("GET", "/v1/admin/keys") => (route.path.into(), None),
                ("POST", "/v1/admin/keys") => (route.path.into(), None),
                ("POST", "/v1/admin/keys/rotate") => (route.path.into(), Some(json!({"grace": "25h"}))),
                ("POST", "/v1/admin/keys/{kid}/retire") => ("/v1/admin/keys/KID/retire".into(), None),
                ("GET", "/v1/admin/servers") => ("/v1/admin/servers?search=acme&latest=true".into(), None),
                ("POST", "/v1/admin/servers") => (
                    route.path.into(),
                    Some(json!({"document": document("io.github.acme/walked", "1.0.0", "https://walked.acme.dev/mcp"), "verified": true, "max_ttl": "10m"})),
                ),
                ("POST", "/v1/admin/servers/import") => {
                    let docs: Vec<Value> = seed_page.iter().enumerate().map(|(i, d)| json!([format!("#{}", i + 1), d])).collect();
                    (route.path.into(), Some(json!({"documents": docs, "dry_run": false})))
                }
                ("GET", "/v1/admin/servers/{ref}") => (format!("/v1/admin/servers/{WEATHER}@1.0.0"), None),
                ("PATCH", "/v1/admin/servers/{ref}") => (format!("/v1/admin/servers/{WEATHER}"), Some(json!({"max_ttl": "10m"}))),
                ("POST", "/v1/admin/servers/{ref}/status") => (
                    "/v1/admin/servers/io.github.acme%2Fmoderated/status".into(),
                    Some(json!({"status": "suspended", "reason": "walk"})),
                ),
                ("POST", "/v1/admin/issue") => (route.path.into(), Some(json!({"server": "io.github.acme/weather", "ttl": "5m"}))),
                ("POST", "/v1/admin/probes") => {
                    (route.path.into(), Some(json!({"server": "io.github.acme/weather", "ttl": "1m", "revoked": true})))
                }
                ("POST", "/v1/admin/revocations") => {
                    (route.path.into(), Some(json!({"kind": "jti", "id": uuid::Uuid::now_v7().to_string(), "reason": "walk"})))
                }
                ("GET", "/v1/admin/revocations") => ("/v1/admin/revocations?since=0".into(), None),
                ("GET", "/v1/admin/revocations/feed") => ("/v1/admin/revocations/feed?since=0".into(), None),
                ("GET", "/v1/admin/clients") => (route.path.into(), None),
                ("POST", "/v1/admin/clients") => (route.path.into(), Some(json!({"id": "walk-new", "allow": ["*"], "max_ttl": "5m"}))),
                ("GET", "/v1/admin/clients/{id}") => ("/v1/admin/clients/walk".into(), None),
                ("PUT", "/v1/admin/clients/{id}") => ("/v1/admin/clients/walk".into(), Some(json!({"allow": ["*"], "rate_per_min": 100}))),
                ("DELETE", "/v1/admin/clients/{id}") => ("/v1/admin/clients/gone".into(), None),
                ("POST", "/v1/admin/clients/{id}/status") => {
                    ("/v1/admin/clients/walk/status".into(), Some(json!({"status": "suspended", "reason": "walk"})))
                }
                ("POST", "/v1/admin/clients/{id}/rotate-secret") => ("/v1/admin/clients/walk/rotate-secret".into(), None),
                ("GET", "/v1/admin/tokens") => (route.path.into(), None),
                ("POST", "/v1/admin/tokens") => (route.path.into(), Some(json!({"role": "reader", "name": "walked", "expires": "30d"}))),
                ("POST", "/v1/admin/tokens/{id}/revoke") => (format!("/v1/admin/tokens/{}/revoke", fx.victim_token), None),
                ("GET", "/v1/admin/audit") => ("/v1/admin/audit?limit=5".into(), None),
                ("GET", "/v1/admin/audit/verify") => (route.path.into(), None),
                ("GET", "/v1/admin/jwks") => (route.path.into(), None),
                (m, p) => panic!("{m} {p} is in ROUTES but has no call in the walk table of tests/http/admin.rs"),
            };
            Call { method: route.method, route: route.path, path, body, fresh_key: route.path.ends_with("/retire") }
        })
        .collect()
}

/// `(method, path, role)` of each row of the table in docs/admin-api.md.
fn documented_routes() -> Vec<(String, String, String)> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/admin-api.md")).unwrap();
    doc.lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| method") && !l.starts_with("|---"))
        .map(|l| {
            let cols: Vec<&str> = l.trim_matches('|').split(" | ").map(str::trim).collect();
            (cols[0].to_owned(), cols[1].trim_matches('`').to_owned(), cols[cols.len() - 1].to_owned())
        })
        .collect()
}

#[test]
fn the_route_table_is_the_documented_contract() {
    let table: Vec<(String, String, String)> =
        ROUTES.iter().map(|r| (r.method.to_owned(), r.path.to_owned(), r.role.as_str().to_owned())).collect();
    assert_eq!(table, documented_routes(), "ROUTES (src/server/admin.rs) and docs/admin-api.md disagree");
    let unique: BTreeSet<_> = ROUTES.iter().map(|r| (r.method, r.path)).collect();
    assert_eq!(unique.len(), ROUTES.len(), "a route is listed twice");
    assert!(ROUTES.iter().all(|r| !r.path.contains("private") && !r.path.contains("export")), "private keys never leave over HTTP");
    for r in ROUTES {
        assert_eq!(
            r.role == Role::Reader,
            r.method == "GET",
            "{} {}: reading routes are GET, changing routes need admin",
            r.method,
            r.path
        );
    }
}

#[tokio::test]
async fn every_admin_route_refuses_bad_credentials_and_weak_roles() {
    let s = TestServer::start().await;
    let fx = fixture(&s).await;
    let a = s.authority();
    let expired = a.token_create(Role::Admin, Some("expired".into()), Some(Dur(60))).await.unwrap().secret;
    let revoked = a.token_create(Role::Admin, Some("revoked".into()), None).await.unwrap();
    a.token_revoke(&revoked.token.id).await.unwrap();
    let client_secret = a.client_rotate_secret("bot").await.unwrap().secret;
    s.clock.advance(61);
    let unknown = format!("mcpca_at_{}", "A".repeat(43));
    let basic = format!("Basic {}", s.admin);
    let refused: [(&str, Auth); 10] = [
        ("no token", Auth::None),
        ("another scheme", Auth::Header(&basic)),
        ("no scheme", Auth::Header(&s.admin)),
        ("an empty bearer", Auth::Header("Bearer ")),
        ("a bare prefix", Auth::Bearer("mcpca_at_")),
        ("a truncated token", Auth::Bearer(&s.admin[..s.admin.len() - 1])),
        ("an unknown token", Auth::Bearer(&unknown)),
        ("an expired token", Auth::Bearer(&expired)),
        ("a revoked token", Auth::Bearer(&revoked.secret)),
        ("a client secret", Auth::Bearer(&client_secret)),
    ];
    let calls = walk(&fx);
    assert_eq!(calls.len(), ROUTES.len());
    for c in &calls {
        for (what, auth) in refused {
            let r = call(&s, c.method, &c.path, auth, c.body.as_ref()).await;
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{} {} with {what}", c.method, c.path);
            assert_eq!(r.headers()["content-type"], "application/problem+json");
            assert_eq!(r.headers()["www-authenticate"], "Bearer");
            assert_eq!(r.json::<Value>().await.unwrap()["error"], "unauthorized");
        }
        let r = call(&s, c.method, &c.path, Auth::Bearer(&s.reader), c.body.as_ref()).await;
        let reading = mcpca::server::admin::route_for(c.method, c.route).unwrap().role == Role::Reader;
        if reading {
            assert_eq!(r.status(), StatusCode::OK, "{} {} with a reader token", c.method, c.path);
        } else {
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "{} {} with a reader token", c.method, c.path);
            assert_eq!(r.json::<Value>().await.unwrap()["error"], "forbidden");
        }
    }
    // Nothing changed so far.
    assert_eq!(a.client_show("walk").await.unwrap().status, mcpca::store::ClientStatus::Active);
    assert!(a.client_show("gone").await.is_ok());
    // The admin token may do everything.
    for c in &calls {
        let path = if c.fresh_key { format!("/v1/admin/keys/{}/retire", a.key_generate().await.unwrap().kid) } else { c.path.clone() };
        let r = call(&s, c.method, &path, Auth::Bearer(&s.admin), c.body.as_ref()).await;
        let status = r.status();
        let text = r.text().await.unwrap();
        let want = if c.method == "DELETE" { StatusCode::NO_CONTENT } else { StatusCode::OK };
        assert_eq!(status, want, "{} {path} with the admin token: {text}", c.method);
        if status == StatusCode::OK {
            serde_json::from_str::<Value>(&text).unwrap_or_else(|e| panic!("{} {path}: not JSON ({e}): {text}", c.method));
        }
    }
    assert!(a.client_show("gone").await.is_err());
    s.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Behaviour.

#[tokio::test]
async fn servers_add_list_show_update_and_moderate() {
    let s = TestServer::start().await;
    let url = "https://weather.acme.dev/mcp";
    let added = ok(
        &s,
        "POST",
        "/v1/admin/servers",
        Some(json!({"document": document("io.github.acme/weather", "1.0.0", url), "verified": true, "max_ttl": "10m"})),
    )
    .await;
    assert_eq!(added["server"]["name"], "io.github.acme/weather");
    assert_eq!(added["authority"]["verified"], true);
    assert_eq!(added["authority"]["max_ttl"], "10m");
    ok(&s, "POST", "/v1/admin/servers", Some(json!({"document": document("io.github.acme/weather", "2.0.0", url)}))).await;
    ok(
        &s,
        "POST",
        "/v1/admin/servers",
        Some(json!({"document": document("io.github.other/tides", "0.1.0", "https://tides.other.dev/mcp")})),
    )
    .await;
    // The same version again is a conflict.
    let p = fails(
        &s,
        "POST",
        "/v1/admin/servers",
        Some(json!({"document": document("io.github.other/tides", "0.1.0", "https://x.dev/mcp")})),
        409,
    )
    .await;
    assert_eq!(p["error"], "conflict");

    // List with filters.
    let names = |v: &Value| -> Vec<String> {
        let mut v: Vec<String> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|e| format!("{}@{}", e["server"]["name"].as_str().unwrap(), e["server"]["version"].as_str().unwrap()))
            .collect();
        v.sort();
        v
    };
    let all = ok(&s, "GET", "/v1/admin/servers", None).await;
    assert_eq!(all.as_array().unwrap().len(), 3);
    let latest = ok(&s, "GET", "/v1/admin/servers?latest=true", None).await;
    assert_eq!(latest.as_array().unwrap().len(), 2);
    assert!(names(&latest).contains(&"io.github.acme/weather@2.0.0".to_owned()));
    let acme = ok(&s, "GET", "/v1/admin/servers?search=ACME&status=&include_deleted=", None).await;
    assert_eq!(names(&acme), ["io.github.acme/weather@1.0.0", "io.github.acme/weather@2.0.0"]);
    let p = fails(&s, "GET", "/v1/admin/servers?status=sleepy", None, 400).await;
    assert_eq!(p["error"], "invalid_request");
    fails(&s, "GET", "/v1/admin/servers?latest=maybe", None, 400).await;
    fails(&s, "GET", "/v1/admin/servers?colour=blue", None, 400).await;

    // Show: the name percent-encoded as one segment, with and without a version.
    let shown = ok(&s, "GET", &format!("/v1/admin/servers/{WEATHER}"), None).await;
    assert_eq!(shown["server"]["version"], "2.0.0");
    assert_eq!(shown["versions"].as_array().unwrap().len(), 2);
    let v1 = ok(&s, "GET", &format!("/v1/admin/servers/{WEATHER}@1.0.0"), None).await;
    assert_eq!(v1["server"]["version"], "1.0.0");
    assert_eq!(v1["authority"]["is_latest"], false);
    let encoded_at = ok(&s, "GET", &format!("/v1/admin/servers/{WEATHER}%401.0.0"), None).await;
    assert_eq!(encoded_at["server"]["version"], "1.0.0");
    // Lower-case escapes decode alike.
    ok(&s, "GET", "/v1/admin/servers/io.github.acme%2fweather", None).await;
    // A bare `/` is two segments: no such route.
    let r = call(&s, "GET", "/v1/admin/servers/io.github.acme/weather", Auth::Bearer(&s.admin), None).await;
    assert_eq!(r.status(), 404);
    fails(&s, "GET", "/v1/admin/servers/io.github.acme%2Fnone", None, 404).await;

    // Update: absent = unchanged, null = cleared.
    let u = ok(&s, "PATCH", &format!("/v1/admin/servers/{WEATHER}"), Some(json!({"verified": false}))).await;
    assert_eq!(u["authority"]["verified"], false);
    assert_eq!(u["authority"]["max_ttl"], "10m");
    let u = ok(&s, "PATCH", &format!("/v1/admin/servers/{WEATHER}"), Some(json!({"verified": true, "max_ttl": "2m"}))).await;
    assert_eq!(u["authority"]["verified"], true);
    assert_eq!(u["authority"]["max_ttl"], "2m");
    let u = ok(&s, "PATCH", &format!("/v1/admin/servers/{WEATHER}"), Some(json!({"max_ttl": null}))).await;
    assert!(u["authority"].get("max_ttl").is_none(), "{u}");
    assert_eq!(u["authority"]["verified"], true);
    let detail = s.authority().server_show(&"io.github.acme/weather".parse().unwrap()).await.unwrap();
    assert_eq!(detail.entry.authority.max_ttl, None);
    fails(&s, "PATCH", &format!("/v1/admin/servers/{WEATHER}@1.0.0"), Some(json!({"verified": true})), 400).await;
    fails(&s, "PATCH", &format!("/v1/admin/servers/{WEATHER}"), Some(json!({"max_ttl": "soon"})), 400).await;
    fails(&s, "PATCH", &format!("/v1/admin/servers/{WEATHER}"), Some(json!({"max_ttl": 600})), 400).await;
    fails(&s, "PATCH", "/v1/admin/servers/io.github.acme%2Fnone", Some(json!({"verified": true})), 404).await;

    // Status of one version, then of the name.
    let d =
        ok(&s, "POST", &format!("/v1/admin/servers/{WEATHER}@1.0.0/status"), Some(json!({"status": "deprecated", "reason": "old"}))).await;
    assert_eq!(d["server"]["version"], "1.0.0");
    assert_eq!(d["authority"]["status"], "deprecated");
    assert_eq!(d["authority"]["status_reason"], "old");
    let d = ok(&s, "POST", &format!("/v1/admin/servers/{WEATHER}/status"), Some(json!({"status": "suspended"}))).await;
    assert_eq!(d["authority"]["name_status"], "suspended");
    let suspended = ok(&s, "GET", "/v1/admin/servers?status=suspended", None).await;
    assert_eq!(names(&suspended), ["io.github.acme/weather@1.0.0", "io.github.acme/weather@2.0.0"]);
    fails(&s, "POST", &format!("/v1/admin/servers/{WEATHER}/status"), Some(json!({"status": "sleepy"})), 400).await;
    s.stop().await;
}

#[tokio::test]
async fn import_a_page_dry_run_then_for_real() {
    let s = TestServer::start().await;
    let page: Vec<Value> = serde_json::from_str(include_str!("../fixtures/seed.json")).unwrap();
    let docs: Vec<Value> = page.iter().enumerate().map(|(i, d)| json!([format!("#{}", i + 1), d])).collect();
    let dry = ok(&s, "POST", "/v1/admin/servers/import", Some(json!({"documents": docs, "dry_run": true}))).await;
    assert_eq!(dry.as_array().unwrap().len(), page.len());
    assert_eq!(dry[0]["source"], "#1");
    assert_eq!(dry[0]["name"], page[0]["name"]);
    assert!(ok(&s, "GET", "/v1/admin/servers", None).await.as_array().unwrap().is_empty(), "a dry run changes nothing");
    let real = ok(&s, "POST", "/v1/admin/servers/import", Some(json!({"documents": docs}))).await;
    let imported = real.as_array().unwrap().iter().filter(|e| e["status"] == "imported").count();
    assert!(imported > 0, "{real}");
    assert_eq!(ok(&s, "GET", "/v1/admin/servers", None).await.as_array().unwrap().len(), imported);
    let again = ok(&s, "POST", "/v1/admin/servers/import", Some(json!({"documents": docs, "dry_run": false}))).await;
    assert!(again.as_array().unwrap().iter().all(|e| e["status"] != "imported"), "{again}");
    fails(&s, "POST", "/v1/admin/servers/import", Some(json!({"documents": [{"name": "x"}]})), 400).await;
    s.stop().await;
}

#[tokio::test]
async fn issue_as_operator_and_as_a_client_then_revoke_every_kind() {
    let s = TestServer::start().await;
    seed(&s).await;
    let env = ok(&s, "POST", "/v1/admin/issue", Some(json!({"server": "io.github.acme/weather", "ttl": "5m"}))).await;
    assert_eq!(env["header"], "MCP-Connect");
    assert_eq!(env["expires_in"], 300);
    let jwks: mcpca::keys::Jwks = serde_json::from_value(ok(&s, "GET", "/v1/admin/jwks", None).await).unwrap();
    let keys = mcpca::descriptor::KeySet::from_jwks(&jwks).unwrap();
    let exp = mcpca::descriptor::Expectations::new("https://ca.example.com", "https://weather.acme.dev/mcp").unwrap();
    let now = crate::util::T0;
    let v = mcpca::descriptor::verify(env["descriptor"].as_str().unwrap(), &exp, now, &keys).unwrap();
    assert_eq!(v.claims.sub, "operator");
    let env = ok(
        &s,
        "POST",
        "/v1/admin/issue",
        Some(json!({"server": "io.github.acme/weather@1.0.0", "client": "bot", "tenant": "acme", "scope": "tools:read"})),
    )
    .await;
    let v = mcpca::descriptor::verify(env["descriptor"].as_str().unwrap(), &exp, now, &keys).unwrap();
    assert_eq!(v.claims.sub, "bot");
    assert_eq!(v.claims.client.as_ref().unwrap().tenant.as_deref(), Some("acme"));
    let jti = env["jti"].as_str().unwrap().to_owned();
    // Denials keep their codes.
    let p = fails(&s, "POST", "/v1/admin/issue", Some(json!({"server": "io.github.acme/none"})), 404).await;
    assert_eq!(p["error"], "server_not_found");
    let policy = mcpca::model::ClientPolicy { tenant: None, allow: vec!["io.github.other/*".into()], max_ttl: None, rate_per_min: Some(1) };
    s.authority().client_add("narrow", policy).await.unwrap();
    let p = fails(&s, "POST", "/v1/admin/issue", Some(json!({"server": "io.github.acme/weather", "client": "narrow"})), 403).await;
    assert!(p["error"].as_str().unwrap() != "forbidden", "a deny code, not the auth error: {p}");
    let policy = mcpca::model::ClientPolicy { tenant: None, allow: vec!["*".into()], max_ttl: None, rate_per_min: Some(1) };
    s.authority().client_add("slow", policy).await.unwrap();
    ok(&s, "POST", "/v1/admin/issue", Some(json!({"server": "io.github.acme/weather", "client": "slow"}))).await;
    let r =
        call(&s, "POST", "/v1/admin/issue", Auth::Bearer(&s.admin), Some(&json!({"server": "io.github.acme/weather", "client": "slow"})))
            .await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "rate_limited");
    fails(&s, "POST", "/v1/admin/issue", Some(json!({"server": "io.github.acme/weather", "ttl": "forever"})), 400).await;
    fails(&s, "POST", "/v1/admin/issue", Some(json!({"server": "io.github.acme/weather@"})), 400).await;

    // The four kinds of revocation.
    let r1 = ok(&s, "POST", "/v1/admin/revocations", Some(json!({"kind": "jti", "id": jti, "reason": "leaked"}))).await;
    assert_eq!(r1["revocation"]["kind"], "jti");
    assert_eq!(r1["revocation"]["reason"], "leaked");
    let r2 = ok(&s, "POST", "/v1/admin/revocations", Some(json!({"kind": "client", "id": "bot"}))).await;
    assert_eq!(r2["revocation"]["id"], "bot");
    assert_eq!(s.authority().client_show("bot").await.unwrap().status, mcpca::store::ClientStatus::Suspended);
    let r3 = ok(&s, "POST", "/v1/admin/revocations", Some(json!({"kind": "server", "id": "io.github.acme/weather@1.0.0"}))).await;
    assert_eq!(r3["revocation"]["kind"], "server");
    let active = s.authority().key_list().await.unwrap().into_iter().find(|k| k.state == mcpca::keys::KeyState::Active).unwrap().kid;
    let r4 = ok(&s, "POST", "/v1/admin/revocations", Some(json!({"kind": "key", "id": active}))).await;
    assert_eq!(r4["revocation"]["kind"], "key");
    assert!(r4["activated"].is_string(), "a revoked active key is replaced: {r4}");
    fails(&s, "POST", "/v1/admin/revocations", Some(json!({"kind": "planet", "id": "x"})), 400).await;
    fails(&s, "POST", "/v1/admin/revocations", Some(json!({"kind": "jti", "id": "not-a-uuid"})), 400).await;
    fails(&s, "POST", "/v1/admin/revocations", Some(json!({"kind": "client", "id": "nobody"})), 404).await;

    let all = ok(&s, "GET", "/v1/admin/revocations", None).await;
    assert_eq!(all.as_array().unwrap().len(), 4);
    let first = all[0]["seq"].as_i64().unwrap();
    let later = ok(&s, "GET", &format!("/v1/admin/revocations?since={first}"), None).await;
    assert_eq!(later.as_array().unwrap().len(), 3);
    fails(&s, "GET", "/v1/admin/revocations?since=yesterday", None, 400).await;
    let feed = ok(&s, "GET", "/v1/admin/revocations/feed?since=0", None).await;
    let jwks: mcpca::keys::Jwks = serde_json::from_value(ok(&s, "GET", "/v1/admin/jwks", None).await).unwrap();
    let keys = mcpca::descriptor::KeySet::from_jwks(&jwks).unwrap();
    let signed = mcpca::feed::Feed::from_jws(feed["jws"].as_str().unwrap(), &keys, Some("https://ca.example.com")).unwrap();
    assert_eq!(signed.entries.len(), 4);
    assert_eq!(serde_json::to_value(&signed).unwrap(), feed["feed"]);
    let tail = ok(&s, "GET", &format!("/v1/admin/revocations/feed?since={}", signed.seq), None).await;
    assert!(tail["feed"]["entries"].as_array().unwrap().is_empty());
    s.stop().await;
}

#[tokio::test]
async fn clients_crud_and_secret_rotation() {
    let s = TestServer::start().await;
    seed(&s).await;
    let created = ok(
        &s,
        "POST",
        "/v1/admin/clients",
        Some(json!({"id": "agent", "tenant": "acme", "allow": ["io.github.acme/*"], "max_ttl": "5m", "rate_per_min": 60})),
    )
    .await;
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("mcpca_cs_"));
    assert_eq!(created["client"]["max_ttl"], "5m");
    let p = fails(&s, "POST", "/v1/admin/clients", Some(json!({"id": "agent", "allow": ["*"]})), 409).await;
    assert_eq!(p["error"], "conflict", "{p}");
    fails(&s, "POST", "/v1/admin/clients", Some(json!({"id": "x", "max_ttl": "5 fortnights"})), 400).await;
    fails(&s, "POST", "/v1/admin/clients", Some(json!({"id": "x", "secret": "mine"})), 400).await;

    let shown = ok(&s, "GET", "/v1/admin/clients/agent", None).await;
    assert_eq!(shown["tenant"], "acme");
    assert!(shown.get("secret").is_none() && !shown.to_string().contains(&secret), "GET never shows the secret");
    let list = ok(&s, "GET", "/v1/admin/clients", None).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert!(!list.to_string().contains("mcpca_cs_"));
    fails(&s, "GET", "/v1/admin/clients/nobody", None, 404).await;

    let updated = ok(&s, "PUT", "/v1/admin/clients/agent", Some(json!({"allow": ["*"]}))).await;
    assert_eq!(updated["allow"], json!(["*"]));
    assert!(updated.get("tenant").is_none() && updated.get("max_ttl").is_none(), "PUT replaces the policy: {updated}");
    fails(&s, "PUT", "/v1/admin/clients/agent", Some(json!({"allow": ["*"], "id": "agent"})), 400).await;

    let connect = |secret: String| {
        let s = &s;
        async move {
            s.http
                .post(s.at("/v1/connect"))
                .bearer_auth(secret)
                .json(&json!({"server_ref": "io.github.acme/weather"}))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(connect(secret.clone()).await, 200);
    let suspended = ok(&s, "POST", "/v1/admin/clients/agent/status", Some(json!({"status": "suspended", "reason": "audit"}))).await;
    assert_eq!(suspended["status"], "suspended");
    assert_eq!(suspended["status_reason"], "audit");
    assert_eq!(connect(secret.clone()).await, 403);
    let resumed = ok(&s, "POST", "/v1/admin/clients/agent/status", Some(json!({"status": "active"}))).await;
    assert_eq!(resumed["status"], "active");
    fails(&s, "POST", "/v1/admin/clients/agent/status", Some(json!({"status": "revoked"})), 400).await;

    let rotated = ok(&s, "POST", "/v1/admin/clients/agent/rotate-secret", None).await;
    let fresh = rotated["secret"].as_str().unwrap().to_owned();
    assert!(fresh.starts_with("mcpca_cs_") && fresh != secret);
    assert_eq!(connect(secret).await, 401, "the old secret stops working at once");
    assert_eq!(connect(fresh.clone()).await, 200);
    // An empty JSON object is as good as no body.
    ok(&s, "POST", "/v1/admin/clients/agent/rotate-secret", Some(json!({}))).await;
    fails(&s, "POST", "/v1/admin/clients/agent/rotate-secret", Some(json!({"secret": "mine"})), 400).await;

    let r = call(&s, "DELETE", "/v1/admin/clients/agent", Auth::Bearer(&s.admin), None).await;
    assert_eq!(r.status(), 204);
    assert!(r.bytes().await.unwrap().is_empty());
    fails(&s, "GET", "/v1/admin/clients/agent", None, 404).await;
    fails(&s, "DELETE", "/v1/admin/clients/agent", None, 404).await;
    s.stop().await;
}

#[tokio::test]
async fn tokens_create_list_revoke() {
    let s = TestServer::start().await;
    let created = ok(&s, "POST", "/v1/admin/tokens", Some(json!({"role": "reader", "name": "dashboard", "expires": "30d"}))).await;
    let secret = created["secret"].as_str().unwrap().to_owned();
    let id = created["token"]["id"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("mcpca_at_"));
    assert_eq!(created["token"]["role"], "reader");
    assert!(created["token"]["expires_at"].is_string());
    let list = ok(&s, "GET", "/v1/admin/tokens", None).await;
    assert!(!list.to_string().contains("mcpca_at_"), "a list never shows a token");
    let row = list.as_array().unwrap().iter().find(|t| t["id"] == id.as_str()).unwrap().clone();
    assert_eq!(row["state"], "active");
    assert_eq!(row["name"], "dashboard");
    let r = call(&s, "GET", "/v1/admin/tokens", Auth::Bearer(&secret), None).await;
    assert_eq!(r.status(), 200);
    let r = call(&s, "POST", "/v1/admin/tokens", Auth::Bearer(&secret), Some(&json!({"role": "admin"}))).await;
    assert_eq!(r.status(), 403, "a reader cannot mint tokens");
    let revoked = ok(&s, "POST", &format!("/v1/admin/tokens/{id}/revoke"), None).await;
    assert_eq!(revoked["state"], "revoked");
    let r = call(&s, "GET", "/v1/admin/tokens", Auth::Bearer(&secret), None).await;
    assert_eq!(r.status(), 401);
    fails(&s, "POST", "/v1/admin/tokens/at_nope/revoke", None, 404).await;
    fails(&s, "POST", "/v1/admin/tokens", Some(json!({"role": "root"})), 400).await;
    fails(&s, "POST", "/v1/admin/tokens", Some(json!({"role": "reader", "expires": "0s"})), 400).await;
    s.stop().await;
}

#[tokio::test]
async fn keys_generate_rotate_retire() {
    let s = TestServer::start().await;
    let before = ok(&s, "GET", "/v1/admin/keys", None).await;
    assert!(!before.to_string().contains("PRIVATE"), "never a private key");
    let next = ok(&s, "POST", "/v1/admin/keys", None).await;
    assert_eq!(next["state"], "next");
    let p = fails(&s, "POST", "/v1/admin/keys/rotate", Some(json!({"grace": "1s"})), 409).await;
    assert_eq!(p["error"], "refused");
    let rotated = ok(&s, "POST", "/v1/admin/keys/rotate", None).await;
    assert!(rotated["retiring"].is_string());
    let retiring = rotated["retiring"].as_str().unwrap().to_owned();
    fails(&s, "POST", &format!("/v1/admin/keys/{retiring}/retire"), None, 409).await;
    let spare = s.authority().key_list().await.unwrap().into_iter().find(|k| k.state == mcpca::keys::KeyState::Next).unwrap().kid;
    let retired = ok(&s, "POST", &format!("/v1/admin/keys/{spare}/retire"), None).await;
    assert_eq!(retired["state"], "retired");
    fails(&s, "POST", "/v1/admin/keys/nokey/retire", None, 404).await;
    // No route hands out a private key.
    for path in
        [format!("/v1/admin/keys/{retiring}"), format!("/v1/admin/keys/{retiring}/private"), format!("/v1/admin/keys/{retiring}/export")]
    {
        let r = call(&s, "GET", &path, Auth::Bearer(&s.admin), None).await;
        assert!(r.status() == 404 || r.status() == 405, "{path}: {}", r.status());
    }
    s.stop().await;
}

#[tokio::test]
async fn audit_names_the_token_and_filters() {
    let s = TestServer::start().await;
    seed(&s).await;
    let admin_id = token_id(&s, "test-admin").await;
    ok(
        &s,
        "POST",
        "/v1/admin/servers",
        Some(json!({"document": document("io.github.acme/audited", "1.0.0", "https://audited.acme.dev/mcp")})),
    )
    .await;
    ok(&s, "POST", "/v1/admin/clients", Some(json!({"id": "audited", "allow": ["io.github.other/*"]}))).await;
    ok(&s, "POST", "/v1/admin/keys", None).await;
    fails(&s, "POST", "/v1/admin/issue", Some(json!({"server": "io.github.acme/weather", "client": "audited"})), 403).await;
    s.clock.advance(100);
    ok(&s, "POST", "/v1/admin/issue", Some(json!({"server": "io.github.acme/weather", "client": "bot"}))).await;

    let all = ok(&s, "GET", "/v1/admin/audit", None).await;
    let events = all.as_array().unwrap();
    let by = |action: &str, target: &str| {
        events
            .iter()
            .rev()
            .find(|e| e["action"] == action && e["target"].as_str().unwrap().starts_with(target))
            .unwrap_or_else(|| panic!("no {action} {target} in {all}"))
    };
    let actor = format!("token:{admin_id}");
    assert_eq!(by("server.add", "io.github.acme/audited")["actor"], actor.as_str());
    assert_eq!(by("client.add", "audited")["actor"], actor.as_str());
    assert_eq!(by("key.generate", "")["actor"], actor.as_str());
    // What the test set up through the library is the operator's.
    assert!(events.iter().any(|e| e["actor"] == "operator"));

    let denied = ok(&s, "GET", "/v1/admin/audit?decision=deny", None).await;
    assert_eq!(denied.as_array().unwrap().len(), 1, "{denied}");
    assert_eq!(denied[0]["actor"], "audited");
    let bot = ok(&s, "GET", "/v1/admin/audit?client=bot&decision=allow", None).await;
    assert!(bot.as_array().unwrap().iter().all(|e| e["decision"] == "allow"));
    assert!(!bot.as_array().unwrap().is_empty());
    let server = ok(&s, "GET", "/v1/admin/audit?server=io.github.acme/audited", None).await;
    assert!(server.as_array().unwrap().iter().all(|e| e["target"].as_str().unwrap().starts_with("io.github.acme/audited")), "{server}");
    assert!(!server.as_array().unwrap().is_empty());
    let since = ok(&s, "GET", &format!("/v1/admin/audit?since={}", crate::util::T0 + 50), None).await;
    assert_eq!(since.as_array().unwrap().len(), 1, "{since}");
    let last2 = ok(&s, "GET", "/v1/admin/audit?limit=2", None).await;
    assert_eq!(last2.as_array().unwrap().len(), 2);
    assert_eq!(last2[1]["seq"], events.last().unwrap()["seq"], "the newest, oldest first");
    fails(&s, "GET", "/v1/admin/audit?decision=maybe", None, 400).await;
    fails(&s, "GET", "/v1/admin/audit?limit=-1", None, 400).await;
    fails(&s, "GET", "/v1/admin/audit?actor=me", None, 400).await;

    let report = ok(&s, "GET", "/v1/admin/audit/verify", None).await;
    assert_eq!(report["intact"], true);
    assert_eq!(report["events"].as_u64().unwrap(), events.len() as u64);
    assert_eq!(report["head"], events.last().unwrap()["hash"]);
    let jwks = ok(&s, "GET", "/v1/admin/jwks", None).await;
    assert!(jwks["keys"].as_array().unwrap().len() >= 2);
    s.stop().await;
}

#[tokio::test]
async fn bodies_are_capped_and_strict() {
    let s = TestServer::start().await;
    let big = json!({"document": {"name": "io.github.acme/big", "description": "x".repeat(70 * 1024)}});
    let p = fails(&s, "POST", "/v1/admin/servers", Some(big), 413).await;
    assert_eq!(p["error"], "payload_too_large");
    let p = fails(&s, "POST", "/v1/admin/tokens", Some(json!({"role": "reader", "colour": "blue"})), 400).await;
    assert_eq!(p["error"], "invalid_request");
    assert!(p["detail"].as_str().unwrap().contains("colour"), "{p}");
    let r = s.http.post(s.at("/v1/admin/tokens")).bearer_auth(&s.admin).body("{not json").send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let r = s.http.post(s.at("/v1/admin/tokens")).bearer_auth(&s.admin).send().await.unwrap();
    assert_eq!(r.status(), 400, "a required body left out");
    fails(&s, "POST", "/v1/admin/keys/rotate", Some(json!({"grace": "25h", "now": true})), 400).await;
    // The size cap comes after authentication: an anonymous oversized body is a 401.
    let r = s.http.post(s.at("/v1/admin/servers")).body(vec![b' '; 70 * 1024]).send().await.unwrap();
    assert_eq!(r.status(), 401);
    s.stop().await;
}
