//! The official registry read API under `/v0` and `/v0.1`: envelopes, cursor paging, filters,
//! the versions routes, percent-encoded names, errors and CORS — every answer validated against
//! the official OpenAPI document's response schemas.

use std::collections::BTreeSet;

use mcpca::authority::{Authority, RevokeTarget, ServerInput};
use mcpca::clock::rfc3339;
use mcpca::model::Status;
use mcpca::registry::{document_from_flags, ServerFlags};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::util::{TestServer, T0};

const OPENAPI: &str = include_str!("../fixtures/official-registry/openapi.yaml");
const SEED: &str = include_str!("../fixtures/seed.json");

pub(crate) const AIRTABLE: &str = "io.github.domdomegg/airtable-mcp-server";
pub(crate) const WEATHER: &str = "io.github.acme/weather";

/// The response schema of one operation of the official OpenAPI document, with its `$ref`s into
/// `components/schemas` made local (`#/$defs/…`), compiled as JSON Schema 2020-12 with formats
/// (`date-time`, `uri`) checked.
fn response_validator(path: &str, status: &str) -> jsonschema::Validator {
    let api: Value = serde_norway::from_str(OPENAPI).unwrap();
    let op = &api["paths"][path]["get"];
    assert!(op.is_object(), "the official API has no GET {path}");
    let schema = op["responses"][status]["content"]["application/json"]["schema"].clone();
    assert!(schema.is_object(), "GET {path} has no {status} JSON schema");
    fn local_refs(v: &mut Value) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get_mut("$ref") {
                    *r = r.replace("#/components/schemas/", "#/$defs/");
                }
                map.values_mut().for_each(local_refs);
            }
            Value::Array(items) => items.iter_mut().for_each(local_refs),
            _ => {}
        }
    }
    let mut defs = api["components"]["schemas"].clone();
    assert!(defs.get("ServerList").is_some() && defs.get("ServerResponse").is_some());
    local_refs(&mut defs);
    let mut root = json!({ "$schema": "https://json-schema.org/draft/2020-12/schema", "$defs": defs });
    let mut schema = schema;
    local_refs(&mut schema);
    for (k, v) in schema.as_object().unwrap() {
        root[k] = v.clone();
    }
    jsonschema::draft202012::options().should_validate_formats(true).build(&root).unwrap()
}

struct Schemas {
    list: jsonschema::Validator,
    versions: jsonschema::Validator,
    one: jsonschema::Validator,
    not_found: jsonschema::Validator,
}

impl Schemas {
    fn load() -> Self {
        Schemas {
            list: response_validator("/v0.1/servers", "200"),
            versions: response_validator("/v0.1/servers/{serverName}/versions", "200"),
            one: response_validator("/v0.1/servers/{serverName}/versions/{version}", "200"),
            not_found: response_validator("/v0.1/servers/{serverName}/versions/{version}", "404"),
        }
    }
}

fn assert_valid(v: &jsonschema::Validator, body: &Value, what: &str) {
    let errors: Vec<String> = v.iter_errors(body).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{what} does not match the official schema:\n{}\n{body:#}", errors.join("\n"));
}

async fn get(s: &TestServer, path: &str) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let r = s.http.get(s.at(path)).send().await.unwrap();
    let (status, headers) = (r.status(), r.headers().clone());
    let body = r.json::<Value>().await.unwrap_or(Value::Null);
    (status, headers, body)
}

/// A 200 list answer, validated against the official `ServerList`.
async fn list(s: &TestServer, schemas: &Schemas, path: &str) -> Value {
    let (status, headers, body) = get(s, path).await;
    assert_eq!(status, 200, "{path}: {body}");
    assert_eq!(headers["content-type"], "application/json");
    assert_valid(&schemas.list, &body, path);
    assert_eq!(body["metadata"]["count"].as_u64().unwrap() as usize, body["servers"].as_array().unwrap().len(), "{path}");
    body
}

/// `name@version` of every entry.
fn ids(body: &Value) -> Vec<String> {
    body["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{}@{}", e["server"]["name"].as_str().unwrap(), e["server"]["version"].as_str().unwrap()))
        .collect()
}

fn official(entry: &Value) -> &Value {
    &entry["_meta"]["io.modelcontextprotocol.registry/official"]
}

fn authority(entry: &Value) -> &Value {
    &entry["_meta"]["dev.mcpca/authority"]
}

fn find<'a>(body: &'a Value, id: &str) -> &'a Value {
    body["servers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| format!("{}@{}", e["server"]["name"], e["server"]["version"]).replace('"', "") == id)
        .unwrap_or_else(|| panic!("{id} not in {body}"))
}

async fn problem(s: &TestServer, path: &str, status: u16) -> Value {
    let (got, headers, body) = get(s, path).await;
    assert_eq!(got.as_u16(), status, "{path}: {body}");
    assert_eq!(headers["content-type"], "application/problem+json", "{path}");
    assert_eq!(body["status"], status);
    assert!(body["error"].is_string(), "{body}");
    body
}

/// The official seed (3 servers, 4 versions, no remotes), a server with two versions and a
/// streamable-http remote (verified), one with an SSE remote only, and `extra` generated servers
/// with remotes.
pub(crate) async fn seeded(extra: usize) -> TestServer {
    let s = TestServer::start().await;
    let docs: Vec<Value> = serde_json::from_str(SEED).unwrap();
    let mut batch: Vec<(String, Value)> = docs.into_iter().enumerate().map(|(i, d)| (format!("seed #{i}"), d)).collect();
    for i in 0..extra {
        let flags =
            ServerFlags { name: format!("io.github.page/s{i:02}"), url: format!("https://s{i}.page.example/mcp"), ..Default::default() };
        batch.push((format!("page #{i}"), document_from_flags(&flags)));
    }
    let report = s.authority().server_import(batch, false).await.unwrap();
    assert!(report.iter().all(|e| e.status == mcpca::model::ImportStatus::Imported), "{report:?}");
    for version in ["1.0.0", "1.1.0", "2.0.0+build.5"] {
        let flags = ServerFlags {
            name: WEATHER.into(),
            url: "https://weather.acme.dev/mcp".into(),
            version: Some(version.into()),
            title: Some("Weather".into()),
            ..Default::default()
        };
        s.authority().server_add(ServerInput { document: document_from_flags(&flags), verified: Some(true), max_ttl: None }).await.unwrap();
    }
    let sse = json!({
        "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
        "name": "com.example/sse-only",
        "description": "A server reachable over SSE only",
        "version": "0.3.0",
        "remotes": [{"type": "sse", "url": "https://sse.example.com/sse"}],
    });
    s.authority().server_add(ServerInput { document: sse, verified: None, max_ttl: None }).await.unwrap();
    s
}

#[tokio::test]
async fn list_answers_the_official_envelope_with_the_authority_meta() {
    let s = seeded(0).await;
    let schemas = Schemas::load();
    let body = list(&s, &schemas, "/v0.1/servers").await;
    assert_eq!(
        ids(&body),
        [
            "com.example/sse-only@0.3.0",
            "io.github.acme/weather@1.0.0",
            "io.github.acme/weather@1.1.0",
            "io.github.acme/weather@2.0.0+build.5",
            "io.github.domdomegg/airtable-mcp-server@1.7.2",
            "io.github.domdomegg/airtable-mcp-server@1.7.3",
            "io.github.domdomegg/time-mcp-nuget@1.0.8",
            "io.github.domdomegg/time-mcp-pypi@1.0.6",
        ]
    );
    assert_eq!(body["metadata"], json!({"count": 8}), "a single page has no nextCursor");
    // The document is answered exactly as registered.
    let seed: Vec<Value> = serde_json::from_str(SEED).unwrap();
    assert_eq!(find(&body, "io.github.domdomegg/airtable-mcp-server@1.7.2")["server"], seed[0]);
    // The official metadata, and nothing else in it (its schema forbids other members).
    let w = find(&body, "io.github.acme/weather@2.0.0+build.5");
    assert_eq!(
        official(w),
        &json!({"status": "active", "statusChangedAt": rfc3339(T0), "publishedAt": rfc3339(T0), "updatedAt": rfc3339(T0), "isLatest": true})
    );
    assert_eq!(official(find(&body, "io.github.acme/weather@1.1.0"))["isLatest"], false);
    // The authority's fields: status, verified, and how to connect.
    assert_eq!(
        authority(w),
        &json!({"status": "active", "verified": true, "connect": {
            "endpoint": "https://weather.acme.dev/mcp", "url": "https://ca.example.com/v1/connect", "header": "MCP-Connect"}})
    );
    assert_eq!(
        authority(find(&body, "io.github.domdomegg/time-mcp-pypi@1.0.6")),
        &json!({"status": "active", "verified": false, "connect": null})
    );
    assert_eq!(authority(find(&body, "com.example/sse-only@0.3.0"))["connect"], Value::Null, "SSE is not a connect transport");
    // The schema check bites: a status the official API does not know, a member its metadata
    // forbids, a malformed time or a document without its required members are refused.
    let mut bad = body.clone();
    bad["servers"][0]["_meta"]["io.modelcontextprotocol.registry/official"]["status"] = json!("suspended");
    assert!(!schemas.list.is_valid(&bad));
    let mut bad = body.clone();
    bad["servers"][0]["_meta"]["io.modelcontextprotocol.registry/official"]["verified"] = json!(true);
    assert!(!schemas.list.is_valid(&bad));
    let mut bad = body.clone();
    bad["servers"][0]["_meta"]["io.modelcontextprotocol.registry/official"]["publishedAt"] = json!("yesterday");
    assert!(!schemas.list.is_valid(&bad));
    let mut bad = body.clone();
    bad["servers"][0]["server"].as_object_mut().unwrap().remove("description");
    assert!(!schemas.list.is_valid(&bad));
    // `/v0` answers the same.
    assert_eq!(list(&s, &schemas, "/v0/servers").await, body);
    s.stop().await;
}

#[tokio::test]
async fn cursor_pages_cover_every_entry_once_in_name_version_order() {
    let s = seeded(33).await;
    let schemas = Schemas::load();
    let all = list(&s, &schemas, "/v0.1/servers?limit=100").await;
    let everything = ids(&all);
    assert_eq!(everything.len(), 41);
    let key = |id: &String| {
        let (n, v) = id.rsplit_once('@').unwrap();
        (n.to_owned(), v.to_owned())
    };
    assert!(everything.windows(2).all(|w| key(&w[0]) < key(&w[1])), "(name, version) order: {everything:?}");
    assert!(all["metadata"].get("nextCursor").is_none());
    for prefix in ["/v0", "/v0.1"] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut url = format!("{prefix}/servers?limit=7");
            if let Some(c) = &cursor {
                url.push_str(&format!("&cursor={}", url::form_urlencoded::byte_serialize(c.as_bytes()).collect::<String>()));
            }
            let page = list(&s, &schemas, &url).await;
            pages += 1;
            let page_ids = ids(&page);
            assert!(page_ids.len() <= 7);
            seen.extend(page_ids.clone());
            match page["metadata"]["nextCursor"].as_str() {
                Some(next) => {
                    assert_eq!(page_ids.len(), 7, "only the last page is short");
                    let last = page["servers"].as_array().unwrap().last().unwrap();
                    assert_eq!(
                        next,
                        format!("{}:{}", last["server"]["name"].as_str().unwrap(), last["server"]["version"].as_str().unwrap())
                    );
                    cursor = Some(next.to_owned());
                }
                None => break,
            }
            assert!(pages < 20, "paging does not end");
        }
        assert_eq!(pages, 6);
        assert_eq!(seen, everything, "{prefix}: no duplicate, no gap, same order");
    }
    // A cursor between two entries starts strictly after it; the same page twice is the same.
    let after = list(&s, &schemas, "/v0.1/servers?limit=3&cursor=io.github.page%2Fs05%3A1.0.0").await;
    assert_eq!(ids(&after), ["io.github.page/s06@1.0.0", "io.github.page/s07@1.0.0", "io.github.page/s08@1.0.0"]);
    let between = list(&s, &schemas, "/v0.1/servers?limit=2&cursor=io.github.page%2Fs05%3A0").await;
    assert_eq!(ids(&between), ["io.github.page/s05@1.0.0", "io.github.page/s06@1.0.0"]);
    assert_eq!(list(&s, &schemas, "/v0.1/servers?limit=3&cursor=io.github.page%2Fs05%3A1.0.0").await, after);
    // A cursor whose version holds a ':' splits at the name's end.
    let (status, _, _) = get(&s, "/v0.1/servers?cursor=io.github.acme%2Fweather%3A1.0.0%3Ax").await;
    assert_eq!(status, 200);
    // The last entry's cursor gives an empty page.
    let last = everything.last().unwrap().replacen('@', ":", 1);
    let empty =
        list(&s, &schemas, &format!("/v0.1/servers?cursor={}", url::form_urlencoded::byte_serialize(last.as_bytes()).collect::<String>()))
            .await;
    assert_eq!(empty["servers"], json!([]));
    assert_eq!(empty["metadata"], json!({"count": 0}));
    s.stop().await;
}

#[tokio::test]
async fn limit_defaults_to_30_and_bad_parameters_are_problem_json_400s() {
    let s = seeded(33).await;
    let schemas = Schemas::load();
    let first = list(&s, &schemas, "/v0.1/servers").await;
    assert_eq!(first["metadata"]["count"], 30);
    assert!(first["metadata"]["nextCursor"].is_string());
    let one = list(&s, &schemas, "/v0.1/servers?limit=1").await;
    assert_eq!(one["metadata"]["count"], 1);
    assert_eq!(one["metadata"]["nextCursor"], "com.example/sse-only:0.3.0");
    assert_eq!(list(&s, &schemas, "/v0.1/servers?limit=100").await["metadata"]["count"], 41);
    for bad in [
        "limit=0",
        "limit=101",
        "limit=-1",
        "limit=ten",
        "limit=1.5",
        "cursor=no-colon",
        "updated_since=yesterday",
        "updated_since=2026-13-01T00:00:00Z",
        "include_deleted=maybe",
    ] {
        let body = problem(&s, &format!("/v0.1/servers?{bad}"), 400).await;
        assert_eq!(body["error"], "invalid_request", "{bad}: {body}");
        assert!(body["detail"].as_str().unwrap().contains(bad.split('=').next().unwrap()), "{bad}: the detail names the parameter: {body}");
    }
    s.stop().await;
}

#[tokio::test]
async fn search_is_a_case_insensitive_substring_of_the_name() {
    let s = seeded(3).await;
    let schemas = Schemas::load();
    let airtable = list(&s, &schemas, "/v0.1/servers?search=AirTable").await;
    assert_eq!(ids(&airtable), [format!("{AIRTABLE}@1.7.2"), format!("{AIRTABLE}@1.7.3")]);
    assert_eq!(ids(&list(&s, &schemas, "/v0.1/servers?search=time-mcp").await).len(), 2);
    assert_eq!(ids(&list(&s, &schemas, "/v0.1/servers?search=ACME%2FWEATHER&version=latest").await), [format!("{WEATHER}@2.0.0+build.5")]);
    // Only the name: a word of a description finds nothing.
    let none = list(&s, &schemas, "/v0.1/servers?search=Airtable%20database").await;
    assert_eq!(none["metadata"], json!({"count": 0}));
    // `_` and `%` are not wildcards.
    assert_eq!(list(&s, &schemas, "/v0.1/servers?search=%25").await["metadata"]["count"], 0);
    assert_eq!(list(&s, &schemas, "/v0.1/servers?search=page%2Fs_").await["metadata"]["count"], 0);
    // Search pages with the cursor like the whole list.
    let p1 = list(&s, &schemas, "/v0.1/servers?search=page&limit=2").await;
    assert_eq!(ids(&p1), ["io.github.page/s00@1.0.0", "io.github.page/s01@1.0.0"]);
    let next = p1["metadata"]["nextCursor"].as_str().unwrap().replace('/', "%2F").replace(':', "%3A");
    let p2 = list(&s, &schemas, &format!("/v0.1/servers?search=page&limit=2&cursor={next}")).await;
    assert_eq!(ids(&p2), ["io.github.page/s02@1.0.0"]);
    assert!(p2["metadata"].get("nextCursor").is_none());
    s.stop().await;
}

#[tokio::test]
async fn version_latest_keeps_the_latest_version_of_each_name() {
    let s = seeded(0).await;
    let schemas = Schemas::load();
    let latest = list(&s, &schemas, "/v0.1/servers?version=latest").await;
    assert_eq!(
        ids(&latest),
        [
            "com.example/sse-only@0.3.0",
            "io.github.acme/weather@2.0.0+build.5",
            "io.github.domdomegg/airtable-mcp-server@1.7.3",
            "io.github.domdomegg/time-mcp-nuget@1.0.8",
            "io.github.domdomegg/time-mcp-pypi@1.0.6",
        ]
    );
    assert!(latest["servers"].as_array().unwrap().iter().all(|e| official(e)["isLatest"] == true));
    // Paged like the rest.
    let p = list(&s, &schemas, "/v0.1/servers?version=latest&limit=2&cursor=io.github.acme%2Fweather%3A2.0.0%2Bbuild.5").await;
    assert_eq!(ids(&p), [format!("{AIRTABLE}@1.7.3"), "io.github.domdomegg/time-mcp-nuget@1.0.8".into()]);
    // An exact version, as the official parameter also allows.
    assert_eq!(ids(&list(&s, &schemas, "/v0.1/servers?version=1.7.2").await), [format!("{AIRTABLE}@1.7.2")]);
    // Deprecating the latest version keeps it latest; deleting it moves `latest` down.
    s.authority().server_set_status(&format!("{WEATHER}@2.0.0+build.5").parse().unwrap(), Status::Deleted, None).await.unwrap();
    let latest = list(&s, &schemas, "/v0.1/servers?version=latest&search=weather").await;
    assert_eq!(ids(&latest), [format!("{WEATHER}@1.1.0")]);
    s.stop().await;
}

#[tokio::test]
async fn moderation_shows_in_the_meta_and_updated_since_includes_deleted_entries() {
    let s = seeded(0).await;
    let schemas = Schemas::load();
    s.clock.advance(1000);
    let a = s.authority();
    a.server_set_status(&format!("{AIRTABLE}@1.7.2").parse().unwrap(), Status::Deleted, Some("yanked".into())).await.unwrap();
    a.server_set_status(&"io.github.domdomegg/time-mcp-pypi".parse().unwrap(), Status::Deprecated, Some("use the nuget one".into()))
        .await
        .unwrap();
    a.server_set_status(&"io.github.domdomegg/time-mcp-nuget".parse().unwrap(), Status::Suspended, Some("abuse report 17".into()))
        .await
        .unwrap();
    a.revoke(&RevokeTarget::Server(format!("{WEATHER}@1.0.0").parse().unwrap()), Some("key leaked".into())).await.unwrap();
    let changed = rfc3339(T0 + 1000);

    // Deleted entries are hidden unless asked for.
    let body = list(&s, &schemas, "/v0.1/servers").await;
    assert!(!ids(&body).contains(&format!("{AIRTABLE}@1.7.2")));
    assert_eq!(body["metadata"]["count"], 7);
    let with_deleted = list(&s, &schemas, "/v0.1/servers?include_deleted=true").await;
    assert_eq!(with_deleted["metadata"]["count"], 8);
    let deleted = find(&with_deleted, &format!("{AIRTABLE}@1.7.2"));
    assert_eq!(official(deleted)["status"], "deleted");
    assert_eq!(official(deleted)["statusMessage"], "yanked");
    assert_eq!(official(deleted)["statusChangedAt"], changed);
    assert_eq!(official(deleted)["updatedAt"], changed);
    assert_eq!(official(deleted)["publishedAt"], rfc3339(T0));
    assert_eq!(official(deleted)["isLatest"], false);
    assert_eq!(authority(deleted)["status"], "deleted");

    // The official status has three values: suspended and revoked read as deprecated there, the
    // authority's own status says which; a moderation note is not published.
    let pypi = find(&body, "io.github.domdomegg/time-mcp-pypi@1.0.6");
    assert_eq!((official(pypi)["status"].as_str(), authority(pypi)["status"].as_str()), (Some("deprecated"), Some("deprecated")));
    assert_eq!(official(pypi)["statusMessage"], "use the nuget one");
    let nuget = find(&body, "io.github.domdomegg/time-mcp-nuget@1.0.8");
    assert_eq!((official(nuget)["status"].as_str(), authority(nuget)["status"].as_str()), (Some("deprecated"), Some("suspended")));
    assert!(!official(nuget)["statusMessage"].as_str().unwrap().contains("abuse"));
    let revoked = find(&body, &format!("{WEATHER}@1.0.0"));
    assert_eq!((official(revoked)["status"].as_str(), authority(revoked)["status"].as_str()), (Some("deprecated"), Some("revoked")));
    assert!(!official(revoked)["statusMessage"].as_str().unwrap().contains("leaked"));
    assert_eq!(official(revoked)["statusChangedAt"], changed);
    assert_eq!(official(find(&body, &format!("{WEATHER}@1.1.0")))["status"], "active");

    // `updated_since`: exactly what changed at or after the instant, deleted entries included
    // without asking; the bound is inclusive (the store keeps whole seconds).
    let since = list(&s, &schemas, &format!("/v0.1/servers?updated_since={changed}")).await;
    assert_eq!(
        ids(&since),
        [
            "io.github.acme/weather@1.0.0",
            "io.github.domdomegg/airtable-mcp-server@1.7.2",
            "io.github.domdomegg/time-mcp-nuget@1.0.8",
            "io.github.domdomegg/time-mcp-pypi@1.0.6",
        ]
    );
    let since_frac = list(&s, &schemas, &format!("/v0.1/servers?updated_since={}", rfc3339(T0 + 1000).replace('Z', ".250%2B00:00"))).await;
    assert_eq!(ids(&since_frac), ids(&since));
    assert_eq!(list(&s, &schemas, &format!("/v0.1/servers?updated_since={}", rfc3339(T0 + 1001))).await["metadata"]["count"], 0);
    assert_eq!(list(&s, &schemas, &format!("/v0.1/servers?updated_since={}", rfc3339(T0 - 1))).await["metadata"]["count"], 8);
    // A name-level change counts for every version of the name.
    s.clock.advance(500);
    a.server_set_status(&AIRTABLE.parse().unwrap(), Status::Deprecated, None).await.unwrap();
    let later = list(&s, &schemas, &format!("/v0.1/servers?updated_since={}&limit=1", rfc3339(T0 + 1500))).await;
    assert_eq!(ids(&later), [format!("{AIRTABLE}@1.7.2")]);
    assert_eq!(later["metadata"]["nextCursor"], format!("{AIRTABLE}:1.7.2"));
    s.stop().await;
}

#[tokio::test]
async fn versions_routes_take_percent_encoded_names_and_answer_404_problems() {
    let s = seeded(0).await;
    let schemas = Schemas::load();
    for prefix in ["/v0", "/v0.1"] {
        // All versions of a name, newest publication first.
        let path = format!("{prefix}/servers/io.github.acme%2Fweather/versions");
        let (status, headers, body) = get(&s, &path).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(headers["content-type"], "application/json");
        assert_valid(&schemas.versions, &body, &path);
        assert_eq!(ids(&body), [format!("{WEATHER}@2.0.0+build.5"), format!("{WEATHER}@1.1.0"), format!("{WEATHER}@1.0.0")]);
        assert_eq!(body["metadata"], json!({"count": 3}));
        // The `/` left unencoded works too.
        assert_eq!(get(&s, &format!("{prefix}/servers/io.github.acme/weather/versions")).await.2, body);

        // One version, by name, with build metadata percent-encoded or not, and `latest`.
        for (v, want) in
            [("1.1.0", "1.1.0"), ("2.0.0%2Bbuild.5", "2.0.0+build.5"), ("2.0.0+build.5", "2.0.0+build.5"), ("latest", "2.0.0+build.5")]
        {
            for name in ["io.github.acme%2Fweather", "io.github.acme%2fweather", "io.github.acme/weather"] {
                let path = format!("{prefix}/servers/{name}/versions/{v}");
                let (status, _, one) = get(&s, &path).await;
                assert_eq!(status, 200, "{path}: {one}");
                assert_valid(&schemas.one, &one, &path);
                assert_eq!(one["server"]["name"], WEATHER);
                assert_eq!(one["server"]["version"], want, "{path}");
                assert_eq!(official(&one)["isLatest"], want == "2.0.0+build.5");
                assert_eq!(authority(&one)["connect"]["endpoint"], "https://weather.acme.dev/mcp");
                assert_eq!(one.as_object().unwrap().len(), 2, "only server and _meta: {one}");
            }
        }
    }
    // Unknown names and versions.
    for path in [
        "/v0.1/servers/io.github.acme%2Fnope/versions",
        "/v0.1/servers/io.github.acme%2Fnope/versions/latest",
        "/v0.1/servers/io.github.acme%2Fweather/versions/9.9.9",
        "/v0/servers/io.github.acme%2Fweather/versions/9.9.9",
        "/v0.1/servers/nope/versions",
    ] {
        let body = problem(&s, path, 404).await;
        assert_eq!(body["error"], "server_not_found", "{path}");
        assert_valid(&schemas.not_found, &body, path);
    }
    problem(&s, "/v0.1/servers/io.github.acme%2Fweather", 404).await;

    // Deleted: hidden unless asked for; a deleted name has no `latest` unless asked for.
    let a = s.authority();
    a.server_set_status(&format!("{WEATHER}@1.0.0").parse().unwrap(), Status::Deleted, None).await.unwrap();
    problem(&s, "/v0.1/servers/io.github.acme%2Fweather/versions/1.0.0", 404).await;
    let (_, _, one) = get(&s, "/v0.1/servers/io.github.acme%2Fweather/versions/1.0.0?include_deleted=true").await;
    assert_valid(&schemas.one, &one, "deleted version");
    assert_eq!(official(&one)["status"], "deleted");
    assert_eq!(ids(&get(&s, "/v0.1/servers/io.github.acme%2Fweather/versions").await.2).len(), 2);
    assert_eq!(ids(&get(&s, "/v0.1/servers/io.github.acme%2Fweather/versions?include_deleted=true").await.2).len(), 3);
    a.server_set_status(&AIRTABLE.parse().unwrap(), Status::Deleted, None).await.unwrap();
    let encoded = AIRTABLE.replace('/', "%2F");
    problem(&s, &format!("/v0.1/servers/{encoded}/versions"), 404).await;
    problem(&s, &format!("/v0.1/servers/{encoded}/versions/latest"), 404).await;
    problem(&s, &format!("/v0.1/servers/{encoded}/versions/1.7.3"), 404).await;
    let (status, _, one) = get(&s, &format!("/v0.1/servers/{encoded}/versions/latest?include_deleted=true")).await;
    assert_eq!(status, 200);
    assert_eq!(one["server"]["version"], "1.7.3");
    assert_eq!(official(&one)["status"], "deleted");
    let (_, _, all) = get(&s, &format!("/v0.1/servers/{encoded}/versions?include_deleted=1")).await;
    assert_valid(&schemas.versions, &all, "deleted versions");
    assert_eq!(all["metadata"]["count"], 2);
    problem(&s, &format!("/v0.1/servers/{encoded}/versions?include_deleted=perhaps"), 400).await;
    s.stop().await;
}

#[tokio::test]
async fn cors_is_open_on_the_registry_routes_only() {
    let s = seeded(0).await;
    let origin = "https://app.example.org";
    for path in [
        "/v0.1/servers",
        "/v0/servers?limit=1",
        "/v0.1/servers/io.github.acme%2Fweather/versions",
        "/v0.1/servers/io.github.acme%2Fweather/versions/latest",
    ] {
        let r = s.http.get(s.at(path)).header("origin", origin).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()["access-control-allow-origin"], "*", "{path}");
        let pre = s
            .http
            .request(reqwest::Method::OPTIONS, s.at(path))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .send()
            .await
            .unwrap();
        assert!(pre.status().is_success(), "preflight {path}: {}", pre.status());
        assert_eq!(pre.headers()["access-control-allow-origin"], "*");
        let methods = pre.headers()["access-control-allow-methods"].to_str().unwrap().to_owned();
        assert!(methods.contains("GET") && !methods.contains("POST"), "{methods}");
    }
    // Errors of these routes carry it too, so a browser can read them.
    for path in ["/v0.1/servers?limit=0", "/v0.1/servers/io.github.acme%2Fnope/versions"] {
        let r = s.http.get(s.at(path)).header("origin", origin).send().await.unwrap();
        assert!(r.status().is_client_error());
        assert_eq!(r.headers()["access-control-allow-origin"], "*", "{path}");
    }
    // Not on connect, OAuth, admin or key routes.
    let r = s.http.post(s.at("/v1/connect")).header("origin", origin).json(&json!({"server_ref": WEATHER})).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().get("access-control-allow-origin").is_none());
    for (method, path) in [("POST", "/v1/connect"), ("GET", "/v1/admin/servers"), ("POST", "/oauth/token")] {
        let pre = s
            .http
            .request(reqwest::Method::OPTIONS, s.at(path))
            .header("origin", origin)
            .header("access-control-request-method", method)
            .send()
            .await
            .unwrap();
        assert!(pre.headers().get("access-control-allow-origin").is_none(), "{path}");
    }
    for path in ["/v1/admin/servers", "/.well-known/jwks.json", "/healthz"] {
        let r = s.http.get(s.at(path)).header("origin", origin).send().await.unwrap();
        assert!(r.headers().get("access-control-allow-origin").is_none(), "{path}");
    }
    s.stop().await;
}

#[tokio::test]
async fn entries_are_unique_across_api_versions_and_filters() {
    // The same page through both prefixes and through `search` of the full name is the same set.
    let s = seeded(5).await;
    let schemas = Schemas::load();
    let v0: BTreeSet<String> = ids(&list(&s, &schemas, "/v0/servers?limit=100").await).into_iter().collect();
    let v01: BTreeSet<String> = ids(&list(&s, &schemas, "/v0.1/servers?limit=100").await).into_iter().collect();
    assert_eq!(v0, v01);
    assert_eq!(v0.len(), 13);
    s.stop().await;
}
