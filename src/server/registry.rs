//! The official MCP registry's read API under `/v0` and `/v0.1` (DESIGN §7, docs/registry-api.md):
//! `GET /servers`, `GET /servers/{name}/versions` and `GET /servers/{name}/versions/{version}`,
//! with the official envelopes and cursor semantics, `_meta` extended with
//! `"dev.mcpca/authority": {status, verified, connect}`. Anyone may read (CORS is open on these
//! routes only).
//!
//! The list is the hot read path. Under `mcpca serve` every route answers from the in-memory
//! [`Catalog`] (entries rendered once, refreshed with the issuance snapshot): a page is a
//! binary search for the cursor and a copy of the rendered entries. Without it (the hot path
//! off or closed) a page comes from the store by a range on the primary key
//! (`(name, version) > cursor … LIMIT n + 1`). Both answer the same bytes; the stored
//! server.json text is copied into the answer as it is, never parsed into a tree or re-encoded.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::{Deserialize, Serialize};
use tower_http::cors::{Any, CorsLayer};

use super::{ApiError, ApiResult, AppState};
use crate::model::Status;
use crate::registry::catalog::{self, effective, is_deleted, item, Catalog, Item};
use crate::store::{compare_versions, ServerPage, ServerRow};

/// Page size when the request names none (as the official registry).
pub const DEFAULT_LIMIT: u32 = 30;
/// Largest page (as the official registry).
pub const MAX_LIMIT: u32 = 100;

/// Routes of this module, under both API versions, with open CORS.
pub fn routes() -> Router<Arc<AppState>> {
    let mut router = Router::new();
    for prefix in ["/v0", "/v0.1"] {
        router = router
            .route(&format!("{prefix}/servers"), get(list))
            // `{name}` holds a `/`, sent percent-encoded (`io.github.acme%2Fweather`); the path
            // is matched before decoding, so `%2F` stays inside the segment.
            .route(&format!("{prefix}/servers/{{name}}/versions"), get(versions))
            .route(&format!("{prefix}/servers/{{name}}/versions/{{version}}"), get(version))
            // The same with the `/` of the name left as it is (`curl …/io.github.acme/weather/versions`).
            .route(&format!("{prefix}/servers/{{name}}/{{server}}/versions"), get(versions_split))
            .route(&format!("{prefix}/servers/{{name}}/{{server}}/versions/{{version}}"), get(version_split));
    }
    // Applied to these routes only: admin, connect and OAuth routes stay same-origin.
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::HEAD, Method::OPTIONS])
        .allow_headers(Any)
        .max_age(Duration::from_secs(86_400));
    router.layer(cors)
}

/// Query parameters of the list (kept as text so every malformed value is a problem+json 400).
#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    cursor: Option<String>,
    limit: Option<String>,
    search: Option<String>,
    updated_since: Option<String>,
    version: Option<String>,
    include_deleted: Option<String>,
}

/// Query parameters of the versions routes.
#[derive(Debug, Default, Deserialize)]
struct ShowQuery {
    include_deleted: Option<String>,
}

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::bad_request("invalid_request", detail)
}

fn query<T>(q: Result<Query<T>, QueryRejection>) -> ApiResult<T> {
    q.map(|Query(t)| t).map_err(|e| invalid(e.body_text()))
}

fn path<T>(p: Result<Path<T>, PathRejection>) -> ApiResult<T> {
    p.map(|Path(t)| t).map_err(|e| invalid(e.body_text()))
}

/// A boolean as Go's `strconv.ParseBool` reads it (the official service's parser).
fn boolean(name: &str, v: Option<&str>) -> ApiResult<bool> {
    match v.map(str::trim) {
        None | Some("") => Ok(false),
        Some("1" | "t" | "T" | "true" | "TRUE" | "True") => Ok(true),
        Some("0" | "f" | "F" | "false" | "FALSE" | "False") => Ok(false),
        Some(other) => Err(invalid(format!("{name}: {other:?} is not a boolean (use true or false)"))),
    }
}

fn limit(v: Option<&str>) -> ApiResult<u32> {
    match v.map(str::trim) {
        None | Some("") => Ok(DEFAULT_LIMIT),
        Some(s) => s
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| invalid(format!("limit: {s:?} is not an integer from 1 to {MAX_LIMIT}"))),
    }
}

/// `name:version` of the last entry of the previous page. Names cannot contain `:`, so the
/// first `:` separates them (a version may contain more).
fn cursor(v: Option<&str>) -> ApiResult<Option<(String, String)>> {
    match v {
        None | Some("") => Ok(None),
        Some(c) => match c.split_once(':') {
            Some((name, version)) if !name.is_empty() => Ok(Some((name.to_owned(), version.to_owned()))),
            _ => Err(invalid(format!("cursor: {c:?} is not a cursor this registry returned (name:version)"))),
        },
    }
}

/// RFC 3339, to whole seconds (the store's resolution; the bound is inclusive, so a change made
/// within the same second as the bound is never missed).
fn updated_since(v: Option<&str>) -> ApiResult<Option<i64>> {
    match v.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
            .map(|t| Some(t.unix_timestamp()))
            .map_err(|_| invalid(format!("updated_since: {s:?} is not an RFC 3339 time such as 2026-11-22T10:00:00Z"))),
    }
}

async fn list(State(state): State<Arc<AppState>>, q: Result<Query<ListQuery>, QueryRejection>) -> ApiResult<Response> {
    let q = query(q)?;
    let limit = limit(q.limit.as_deref())?;
    let since = updated_since(q.updated_since.as_deref())?;
    let (latest_only, version) = match q.version.as_deref().map(str::trim) {
        None | Some("") => (false, None),
        Some("latest") => (true, None),
        Some(v) => (false, Some(v.to_owned())),
    };
    let page = ServerPage {
        after: cursor(q.cursor.as_deref())?,
        limit: limit + 1,
        search: q.search.filter(|s| !s.is_empty()),
        // As the official service: a sync by `updated_since` must see deletions too.
        include_deleted: since.is_some() || boolean("include_deleted", q.include_deleted.as_deref())?,
        updated_since: since,
        latest_only,
        version,
    };
    if let Some(catalog) = state.authority.catalog() {
        return catalog_page(&catalog, &page, limit);
    }
    let mut rows = state.authority.store().list_page(&page).await?;
    let next = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|r| format!("{}:{}", r.version.name, r.version.version))
    } else {
        None
    };
    list_response(&state, &rows, next.as_deref())
}

/// A page from the catalog (`page.limit` is one more than the page, as for the store).
fn catalog_page(catalog: &Catalog, page: &ServerPage, limit: u32) -> ApiResult<Response> {
    let mut entries = catalog.page(page);
    let limit = limit as usize;
    let next = if entries.len() > limit {
        entries.truncate(limit);
        entries.last().map(|e| format!("{}:{}", e.name(), e.version()))
    } else {
        None
    };
    Ok(body_response(catalog::write_list(&entries, next.as_deref())?))
}

async fn versions(
    State(state): State<Arc<AppState>>,
    p: Result<Path<String>, PathRejection>,
    q: Result<Query<ShowQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let name = path(p)?;
    all_versions(&state, &name, boolean("include_deleted", query(q)?.include_deleted.as_deref())?).await
}

async fn versions_split(
    State(state): State<Arc<AppState>>,
    p: Result<Path<(String, String)>, PathRejection>,
    q: Result<Query<ShowQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let (namespace, server) = path(p)?;
    all_versions(&state, &format!("{namespace}/{server}"), boolean("include_deleted", query(q)?.include_deleted.as_deref())?).await
}

async fn version(
    State(state): State<Arc<AppState>>,
    p: Result<Path<(String, String)>, PathRejection>,
    q: Result<Query<ShowQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let (name, version) = path(p)?;
    one_version(&state, &name, &version, boolean("include_deleted", query(q)?.include_deleted.as_deref())?).await
}

async fn version_split(
    State(state): State<Arc<AppState>>,
    p: Result<Path<(String, String, String)>, PathRejection>,
    q: Result<Query<ShowQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let (namespace, server, version) = path(p)?;
    one_version(&state, &format!("{namespace}/{server}"), &version, boolean("include_deleted", query(q)?.include_deleted.as_deref())?).await
}

fn server_not_found(name: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "server_not_found", format!("Server not found: {name}"))
}

/// Every version of a name, newest publication first (as the official service), deleted ones
/// only when asked; 404 when none is left.
async fn all_versions(state: &AppState, name: &str, include_deleted: bool) -> ApiResult<Response> {
    if let Some(catalog) = state.authority.catalog() {
        let mut entries = catalog.versions(name);
        entries.retain(|e| include_deleted || !is_deleted(e));
        if entries.is_empty() {
            return Err(server_not_found(name));
        }
        entries.reverse();
        return Ok(body_response(catalog::write_list(&entries, None)?));
    }
    let mut rows = state.authority.store().list_versions(name).await?;
    rows.retain(|r| include_deleted || effective(r) != Status::Deleted);
    if rows.is_empty() {
        return Err(server_not_found(name));
    }
    rows.reverse();
    list_response(state, &rows, None)
}

/// One version, or the latest one (`latest`).
async fn one_version(state: &AppState, name: &str, version: &str, include_deleted: bool) -> ApiResult<Response> {
    let not_found = || {
        if version == "latest" {
            server_not_found(name)
        } else {
            ApiError::new(StatusCode::NOT_FOUND, "server_not_found", format!("Server version not found: {name} {version}"))
        }
    };
    if let Some(catalog) = state.authority.catalog() {
        let entry = if version == "latest" {
            // As below: with deleted entries asked for, a deleted name answers its highest version.
            catalog.latest(name).or_else(|| if include_deleted { catalog.highest(name) } else { None })
        } else {
            catalog.get(name, version)
        };
        let entry = entry.filter(|e| include_deleted || !is_deleted(e)).ok_or_else(not_found)?;
        return Ok(body_response(entry.item()?.as_bytes().to_vec()));
    }
    let store = state.authority.store();
    let row = if version == "latest" {
        match store.get_server(name, None).await? {
            Some(row) => Some(row),
            // A deleted name has no latest version; asked to include deleted entries, answer
            // the highest version all the same.
            None if include_deleted => store.list_versions(name).await?.into_iter().max_by(|a, b| {
                compare_versions((&a.version.version, a.version.published_at), (&b.version.version, b.version.published_at))
            }),
            None => None,
        }
    } else {
        store.get_server(name, Some(version)).await?
    };
    let row = row.filter(|r| include_deleted || effective(r) != Status::Deleted).ok_or_else(not_found)?;
    let connect = connect_url(state);
    json_response(&item(&row, &connect)?)
}

fn connect_url(state: &AppState) -> String {
    catalog::connect_url(&state.authority.settings().issuer)
}

/// `{"servers": [...], "metadata": {"nextCursor"?, "count"}}`.
fn list_response(state: &AppState, rows: &[ServerRow], next: Option<&str>) -> ApiResult<Response> {
    let connect = connect_url(state);
    let servers = rows.iter().map(|r| item(r, &connect)).collect::<crate::Result<Vec<_>>>()?;
    let count = servers.len();
    let size = rows.iter().map(|r| r.version.document.len() + 512).sum::<usize>() + 128;
    json_response_sized(&ServerList { servers, metadata: ListMetadata { next_cursor: next, count } }, size)
}

fn json_response<T: Serialize>(body: &T) -> ApiResult<Response> {
    json_response_sized(body, 4096)
}

fn json_response_sized<T: Serialize>(body: &T, size: usize) -> ApiResult<Response> {
    let mut out = Vec::with_capacity(size);
    serde_json::to_writer(&mut out, body).map_err(|e| ApiError::from(crate::Error::Store(format!("cannot encode the answer: {e}"))))?;
    Ok(body_response(out))
}

/// A 200 `application/json` answer with this body.
fn body_response(body: Vec<u8>) -> Response {
    let mut resp = (StatusCode::OK, body).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

#[derive(Serialize)]
struct ServerList<'a> {
    servers: Vec<Item<'a>>,
    metadata: ListMetadata<'a>,
}

#[derive(Serialize)]
struct ListMetadata<'a> {
    #[serde(rename = "nextCursor", skip_serializing_if = "Option::is_none")]
    next_cursor: Option<&'a str>,
    count: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_splits_at_the_first_colon() {
        assert_eq!(cursor(Some("io.github.a/b:1.0:x")).ok().flatten(), Some(("io.github.a/b".into(), "1.0:x".into())));
        assert!(cursor(Some("no-colon")).is_err());
        assert!(cursor(Some(":1.0")).is_err());
    }

    #[test]
    fn limits_and_booleans() {
        assert_eq!(limit(None).ok(), Some(DEFAULT_LIMIT));
        assert_eq!(limit(Some("100")).ok(), Some(100));
        for bad in ["0", "101", "-1", "ten"] {
            assert!(limit(Some(bad)).is_err(), "{bad}");
        }
        assert_eq!(boolean("x", Some("True")).ok(), Some(true));
        assert!(boolean("x", Some("yes")).is_err());
    }
}
