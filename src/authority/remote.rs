//! The remote authority: the same [`Authority`] API, spoken over the admin HTTP API of an
//! `mcpca serve` (`docs/admin-api.md`). Every method is one request (import: one request per
//! body-sized chunk); answers are the model types the local authority returns, and HTTP errors
//! come back as the [`Error`] the local authority would have given, so the command line prints
//! the same messages and exits with the same codes in both modes.

use std::time::Duration;

use async_trait::async_trait;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use url::Url;
use zeroize::Zeroizing;

use super::*;
use crate::error::DenyCode;
use crate::{Error, Result};

/// Largest request body the service accepts (`server::MAX_BODY`); import chunks stay below it.
const BODY_BUDGET: usize = 60 * 1024;
/// How long one request may take.
const TIMEOUT: Duration = Duration::from_secs(60);

/// A secret given on the command line or read from a file: zeroised on drop, never shown by
/// `Debug`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wrap a secret (surrounding whitespace removed).
    pub fn new(s: &str) -> Self {
        Secret(Zeroizing::new(s.trim().to_owned()))
    }
    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// Nothing but whitespace was given.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl std::str::FromStr for Secret {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Ok(Secret::new(s))
    }
}

/// The refusal of `key export --private` against a remote authority.
pub fn private_key_refusal() -> Error {
    Error::refused(
        "private keys never leave the authority; run it on the authority's host",
        "run `mcpca key export --private KID` on the machine where `mcpca serve` keeps its home (without --registry)",
    )
}

/// Check and normalise the base URL of an authority: http(s), a host, no query or fragment.
pub fn parse_base(text: &str) -> Result<Url> {
    let hint = "give the authority's base URL, e.g. https://ca.example.com (what `mcpca serve` prints)";
    let url = Url::parse(text.trim()).map_err(|e| Error::invalid(format!("{text:?} is not a URL: {e}"), hint))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() || url.query().is_some() || url.fragment().is_some() {
        return Err(Error::invalid(format!("{text:?} must be an http(s) URL without query or fragment"), hint));
    }
    Ok(url)
}

/// Is the URL's host this machine (where plain http is acceptable)?
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// An authority reached over its admin HTTP API.
pub struct RemoteAuthority {
    base: Url,
    token: Zeroizing<String>,
    http: reqwest::Client,
}

impl std::fmt::Debug for RemoteAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteAuthority").field("base", &self.base.as_str()).field("token", &"<redacted>").finish_non_exhaustive()
    }
}

/// The problem+json body of an error answer (admin API and `POST /v1/connect`).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Problem {
    #[serde(default)]
    pub(crate) error: Option<String>,
    #[serde(default)]
    pub(crate) detail: Option<String>,
    #[serde(default)]
    pub(crate) title: Option<String>,
    #[serde(default)]
    pub(crate) retry_after: Option<u64>,
    #[serde(default)]
    pub(crate) hint: Option<String>,
}

/// The record kinds errors name, as the static strings of [`Error`].
fn what(s: &str) -> Option<&'static str> {
    Some(match s {
        "server" => "server",
        "client" => "client",
        "key" => "key",
        "token" => "token",
        "server version" => "server version",
        "remote URL" => "remote URL",
        "file" => "file",
        _ => return None,
    })
}

/// The hint the local authority gives with a conflict, for a service that sends none.
fn conflict_hint(what: &str) -> Option<String> {
    Some(
        match what {
            "client" => "pick another id, or see `mcpca client show ID`",
            "remote URL" => "a remote URL belongs to one server; use another URL or add a version of that server",
            "server version" => {
                "published versions are immutable: publish a new version, or change authority fields with `mcpca server update`"
            }
            _ => return None,
        }
        .into(),
    )
}

/// Every cause of an error, joined: reqwest's own message alone rarely says what went wrong.
pub(crate) fn causes(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(s) = next {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        next = s.source();
    }
    out
}

impl RemoteAuthority {
    /// An authority at `base` (e.g. `https://ca.example.com`) spoken to with an admin token.
    pub fn new(base: &str, token: &Secret) -> Result<Self> {
        let base = parse_base(base)?;
        if token.is_empty() {
            return Err(Error::invalid(
                format!("the admin token for {base} is empty"),
                "give a token with --token-file FILE, --token T or MCPCA_TOKEN (`mcpca token create` on the authority's host makes one)",
            ));
        }
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(10))
            // A redirect could carry the token elsewhere: never follow one.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("mcpca/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Config(format!("cannot build an HTTP client: {e}")))?;
        Ok(RemoteAuthority { base, token: Zeroizing::new(token.expose().to_owned()), http })
    }

    /// The authority at `base` without a token: only its public routes (JWKS, metadata) answer.
    pub fn public(base: &str) -> Result<Self> {
        let mut r = RemoteAuthority::new(base, &Secret::new("-"))?;
        r.token = Zeroizing::new(String::new());
        Ok(r)
    }

    /// The base URL of the authority.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// `base` + path segments, each percent-encoded as one segment (server names hold `/`).
    pub fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty();
            for s in segments {
                path.push(s);
            }
        }
        url
    }

    /// An admin route: `/v1/admin/` + segments.
    fn admin(&self, segments: &[&str]) -> Url {
        let mut all = vec!["v1", "admin"];
        all.extend_from_slice(segments);
        self.url(&all)
    }

    /// The published keys, as a verifier fetches them (no token needed).
    pub fn public_jwks_url(&self) -> Url {
        self.url(&[".well-known", "jwks.json"])
    }

    /// The issuer the authority signs as (its RFC 8414 metadata; no token needed).
    pub async fn issuer(&self) -> Result<String> {
        let url = self.url(&[".well-known", "oauth-authorization-server"]);
        let resp = self.http.get(url.clone()).send().await.map_err(|e| self.unreachable(&e))?;
        let meta: Value = self.answer(&url, resp).await?;
        meta.get("issuer").and_then(Value::as_str).map(str::to_owned).ok_or_else(|| {
            Error::invalid(format!("{url} names no issuer"), "give --issuer URL, or check that --registry is an mcpca authority")
        })
    }

    fn unreachable(&self, e: &reqwest::Error) -> Error {
        Error::invalid(
            format!("cannot reach the authority at {}: {}", self.base, causes(e)),
            "check the URL (--registry, MCPCA_REGISTRY or `mcpca context list`) and that `mcpca serve` runs there",
        )
    }

    /// Send a request with the token and decode the answer.
    async fn call<T: DeserializeOwned>(&self, method: Method, url: Url, body: Option<Value>) -> Result<T> {
        let bytes = self.call_raw(method, url.clone(), body).await?;
        decode(&url, &bytes)
    }

    /// A server version with its versions: `ServerDetail` flattens a raw document, which serde
    /// cannot read back in one pass, so the entry and the list are read apart.
    async fn detail(&self, method: Method, url: Url, body: Option<Value>) -> Result<ServerDetail> {
        let bytes = self.call_raw(method, url.clone(), body).await?;
        let mut whole: serde_json::Map<String, Value> = decode(&url, &bytes)?;
        let versions = decode(&url, &serde_json::to_vec(&whole.remove("versions").unwrap_or(Value::Null)).unwrap_or_default())?;
        let entry = decode(&url, &serde_json::to_vec(&whole).unwrap_or_default())?;
        Ok(ServerDetail { entry, versions })
    }

    /// Send a request with the token; the body of a success, or the error it stands for.
    async fn call_raw(&self, method: Method, url: Url, body: Option<Value>) -> Result<Vec<u8>> {
        let mut req = self.http.request(method, url.clone());
        if !self.token.is_empty() {
            req = req.bearer_auth(self.token.as_str());
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.map_err(|e| self.unreachable(&e))?;
        self.answer_raw(&url, resp).await
    }

    async fn get<T: DeserializeOwned>(&self, url: Url) -> Result<T> {
        self.call(Method::GET, url, None).await
    }

    async fn post<T: DeserializeOwned>(&self, url: Url, body: Value) -> Result<T> {
        self.call(Method::POST, url, Some(body)).await
    }

    /// A success decoded, or the error the answer stands for.
    async fn answer<T: DeserializeOwned>(&self, url: &Url, resp: reqwest::Response) -> Result<T> {
        let bytes = self.answer_raw(url, resp).await?;
        decode(url, &bytes)
    }

    /// The body of a success, or the error the answer stands for.
    async fn answer_raw(&self, url: &Url, resp: reqwest::Response) -> Result<Vec<u8>> {
        let status = resp.status();
        let header_retry = resp.headers().get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
        let bytes = resp.bytes().await.map_err(|e| self.unreachable(&e))?;
        if status.is_success() {
            return Ok(bytes.to_vec());
        }
        let problem: Problem = serde_json::from_slice(&bytes).unwrap_or_default();
        Err(self.error(url, status, problem, header_retry, &bytes))
    }

    /// Map an error answer back to the error the local authority gives.
    fn error(&self, url: &Url, status: StatusCode, p: Problem, header_retry: Option<u64>, raw: &[u8]) -> Error {
        let code = p.error.clone().unwrap_or_default();
        let detail = p.detail.clone().or_else(|| p.title.clone()).unwrap_or_else(|| {
            let text = String::from_utf8_lossy(raw);
            let text = text.trim();
            if text.is_empty() {
                status.canonical_reason().unwrap_or("error").to_owned()
            } else {
                text.chars().take(200).collect()
            }
        });
        if let Ok(deny) = serde_json::from_value::<DenyCode>(Value::String(code.clone())) {
            return Error::Denied { code: deny, message: detail, retry_after: p.retry_after.or(header_retry) };
        }
        let hint = p.hint.clone();
        match status {
            StatusCode::UNAUTHORIZED => Error::Refused {
                message: format!("the authority at {} did not accept the admin token: {detail}", self.base),
                hint: Some(
                    "check the token (--token-file, --token, MCPCA_TOKEN or the current context's token file); \
                     `mcpca token create --role admin` on the authority's host makes a new one"
                        .into(),
                ),
            },
            StatusCode::FORBIDDEN => Error::Refused {
                message: format!("the admin token may not do this at {}: {detail}", self.base),
                hint: Some("a reader token may only read: use an admin token for changes".into()),
            },
            StatusCode::NOT_FOUND => match detail.split_once(" not found: ").and_then(|(w, id)| Some((what(w)?, id))) {
                Some((what, id)) if code == "not_found" => Error::NotFound { what, id: id.to_owned() },
                _ => Error::invalid(
                    format!("{url}: HTTP 404: {detail}"),
                    "check that --registry is the base URL of an mcpca authority of the same version as this mcpca",
                ),
            },
            StatusCode::CONFLICT => match detail.split_once(" already exists: ").and_then(|(w, id)| Some((what(w)?, id))) {
                Some((what, id)) if code == "conflict" => {
                    Error::Conflict { what, id: id.to_owned(), hint: hint.or_else(|| conflict_hint(what)) }
                }
                _ => Error::Refused { message: detail, hint },
            },
            StatusCode::PAYLOAD_TOO_LARGE => Error::invalid(
                format!("the request is larger than the authority at {} accepts: {detail}", self.base),
                "send smaller documents (the admin API takes bodies of at most 64 KiB)",
            ),
            s if s.is_client_error() => Error::Invalid { message: detail, hint },
            s => Error::Refused {
                message: format!("the authority at {} cannot answer (HTTP {}): {detail}", self.base, s.as_u16()),
                hint: Some("see the log of `mcpca serve` on the authority's host".into()),
            },
        }
    }
}

/// Decode a success body; an empty one (`204 No Content`) reads as JSON null.
fn decode<T: DeserializeOwned>(url: &Url, bytes: &[u8]) -> Result<T> {
    let body: &[u8] = if bytes.is_empty() { b"null" } else { bytes };
    serde_json::from_slice(body).map_err(|e| {
        Error::invalid(
            format!("unexpected answer from {url}: {e}"),
            "check that --registry is an mcpca authority of the same version as this mcpca",
        )
    })
}

/// Query parameters of `GET /v1/admin/servers`.
fn server_query(f: &ServerFilter) -> Vec<(&'static str, String)> {
    let mut q = Vec::new();
    if let Some(s) = f.status {
        q.push(("status", s.as_str().to_owned()));
    }
    if let Some(s) = &f.search {
        q.push(("search", s.clone()));
    }
    if f.include_deleted {
        q.push(("include_deleted", "true".into()));
    }
    if f.latest_only {
        q.push(("latest", "true".into()));
    }
    q
}

/// Query parameters of `GET /v1/admin/audit`.
fn audit_query(f: &AuditFilter) -> Vec<(&'static str, String)> {
    let mut q = Vec::new();
    if let Some(s) = f.since {
        q.push(("since", s.to_string()));
    }
    if let Some(s) = &f.server {
        q.push(("server", s.clone()));
    }
    if let Some(c) = &f.client {
        q.push(("client", c.clone()));
    }
    if let Some(d) = f.decision {
        q.push(("decision", d.as_str().to_owned()));
    }
    if let Some(l) = f.limit {
        q.push(("limit", l.to_string()));
    }
    q
}

fn with_query(mut url: Url, q: &[(&str, String)]) -> Url {
    if !q.is_empty() {
        url.query_pairs_mut().extend_pairs(q.iter().map(|(k, v)| (*k, v.as_str())));
    }
    url
}

/// Insert `key: value` into a JSON object when the value is present.
fn put<T: Serialize>(body: &mut Value, key: &str, value: Option<T>) {
    if let (Some(v), Some(o)) = (value, body.as_object_mut()) {
        o.insert(key.to_owned(), serde_json::to_value(v).unwrap_or(Value::Null));
    }
}

/// Split an import into chunks whose request bodies stay under the service's limit.
fn chunks(documents: Vec<(String, Value)>) -> Vec<Vec<(String, Value)>> {
    let mut out = Vec::new();
    let mut current = Vec::new();
    let mut size = 0;
    for (source, doc) in documents {
        let len = source.len() + serde_json::to_vec(&doc).map_or(0, |v| v.len()) + 16;
        if !current.is_empty() && size + len > BODY_BUDGET {
            out.push(std::mem::take(&mut current));
            size = 0;
        }
        size += len;
        current.push((source, doc));
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[async_trait]
impl Authority for RemoteAuthority {
    async fn key_list(&self) -> Result<Vec<KeyInfo>> {
        self.get(self.admin(&["keys"])).await
    }
    async fn key_generate(&self) -> Result<KeyInfo> {
        self.post(self.admin(&["keys"]), json!({})).await
    }
    async fn key_rotate(&self, grace: Option<Dur>) -> Result<RotateReport> {
        let mut body = json!({});
        put(&mut body, "grace", grace);
        self.post(self.admin(&["keys", "rotate"]), body).await
    }
    async fn key_retire(&self, kid: &str) -> Result<KeyInfo> {
        self.post(self.admin(&["keys", kid, "retire"]), json!({})).await
    }
    async fn jwks(&self) -> Result<Jwks> {
        self.get(self.admin(&["jwks"])).await
    }
    async fn key_export_private(&self, _kid: &str) -> Result<Zeroizing<String>> {
        Err(private_key_refusal())
    }

    async fn server_add(&self, input: ServerInput) -> Result<ServerEntry> {
        let mut body = json!({ "document": input.document });
        put(&mut body, "verified", input.verified);
        put(&mut body, "max_ttl", input.max_ttl);
        self.post(self.admin(&["servers"]), body).await
    }
    async fn server_list(&self, filter: &ServerFilter) -> Result<Vec<ServerEntry>> {
        self.get(with_query(self.admin(&["servers"]), &server_query(filter))).await
    }
    async fn server_show(&self, server: &ServerRefArg) -> Result<ServerDetail> {
        self.detail(Method::GET, self.admin(&["servers", &server.to_string()]), None).await
    }
    async fn server_update(&self, name: &str, update: ServerUpdate) -> Result<ServerDetail> {
        let mut body = json!({});
        put(&mut body, "verified", update.verified);
        // Absent: unchanged; null: clear the limit.
        if let (Some(ttl), Some(o)) = (update.max_ttl, body.as_object_mut()) {
            o.insert("max_ttl".into(), ttl.map_or(Value::Null, |d| Value::String(d.to_string())));
        }
        self.detail(Method::PATCH, self.admin(&["servers", name]), Some(body)).await
    }
    async fn server_set_status(&self, server: &ServerRefArg, status: Status, reason: Option<String>) -> Result<ServerDetail> {
        let mut body = json!({ "status": status });
        put(&mut body, "reason", reason);
        self.detail(Method::POST, self.admin(&["servers", &server.to_string(), "status"]), Some(body)).await
    }

    async fn issue(&self, request: &IssueRequest) -> Result<Envelope> {
        let mut body = json!({ "server": request.server.to_string() });
        put(&mut body, "ttl", request.ttl);
        put(&mut body, "client", request.client.as_ref());
        put(&mut body, "tenant", request.tenant.as_ref());
        put(&mut body, "scope", request.scope.as_ref());
        self.post(self.admin(&["issue"]), body).await
    }
    async fn probe_set(&self, request: &crate::check::ProbeRequest) -> Result<crate::check::ProbeSet> {
        let mut body = json!({ "server": request.server.to_string(), "revoked": request.revoked });
        put(&mut body, "ttl", request.ttl);
        self.post(self.admin(&["probes"]), body).await
    }
    async fn revoke(&self, target: &RevokeTarget, reason: Option<String>) -> Result<RevokeReport> {
        let (kind, id) = match target {
            RevokeTarget::Server(s) => ("server", s.to_string()),
            RevokeTarget::Jti(j) => ("jti", j.clone()),
            RevokeTarget::Key(k) => ("key", k.clone()),
            RevokeTarget::Client(c) => ("client", c.clone()),
        };
        let mut body = json!({ "kind": kind, "id": id });
        put(&mut body, "reason", reason);
        self.post(self.admin(&["revocations"]), body).await
    }
    async fn revocations(&self, since: i64) -> Result<Vec<Revocation>> {
        self.get(with_query(self.admin(&["revocations"]), &[("since", since.to_string())])).await
    }
    async fn revocation_feed(&self, since: i64) -> Result<SignedFeed> {
        self.get(with_query(self.admin(&["revocations", "feed"]), &[("since", since.to_string())])).await
    }

    async fn server_import(&self, documents: Vec<(String, serde_json::Value)>, dry_run: bool) -> Result<Vec<ImportEntry>> {
        let mut report = Vec::with_capacity(documents.len());
        for chunk in chunks(documents) {
            let page: Vec<ImportEntry> =
                self.post(self.admin(&["servers", "import"]), json!({ "documents": chunk, "dry_run": dry_run })).await?;
            report.extend(page);
        }
        Ok(report)
    }

    async fn client_add(&self, id: &str, policy: ClientPolicy) -> Result<ClientCreated> {
        let mut body = serde_json::to_value(&policy).unwrap_or_else(|_| json!({}));
        put(&mut body, "id", Some(id));
        self.post(self.admin(&["clients"]), body).await
    }
    async fn client_list(&self) -> Result<Vec<ClientInfo>> {
        self.get(self.admin(&["clients"])).await
    }
    async fn client_show(&self, id: &str) -> Result<ClientInfo> {
        self.get(self.admin(&["clients", id])).await
    }
    async fn client_update(&self, id: &str, policy: ClientPolicy) -> Result<ClientInfo> {
        let body = serde_json::to_value(&policy).unwrap_or_else(|_| json!({}));
        self.call(Method::PUT, self.admin(&["clients", id]), Some(body)).await
    }
    async fn client_set_status(&self, id: &str, status: ClientStatus, reason: Option<String>) -> Result<ClientInfo> {
        let mut body = json!({ "status": status });
        put(&mut body, "reason", reason);
        self.post(self.admin(&["clients", id, "status"]), body).await
    }
    async fn client_remove(&self, id: &str) -> Result<()> {
        let _: Value = self.call(Method::DELETE, self.admin(&["clients", id]), None).await?;
        Ok(())
    }
    async fn client_rotate_secret(&self, id: &str) -> Result<ClientCreated> {
        self.post(self.admin(&["clients", id, "rotate-secret"]), json!({})).await
    }

    async fn token_create(&self, role: Role, name: Option<String>, expires: Option<Dur>) -> Result<TokenCreated> {
        let mut body = json!({ "role": role });
        put(&mut body, "name", name);
        put(&mut body, "expires", expires);
        self.post(self.admin(&["tokens"]), body).await
    }
    async fn token_list(&self) -> Result<Vec<TokenInfo>> {
        self.get(self.admin(&["tokens"])).await
    }
    async fn token_revoke(&self, id: &str) -> Result<TokenInfo> {
        self.post(self.admin(&["tokens", id, "revoke"]), json!({})).await
    }

    async fn audit_list(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>> {
        self.get(with_query(self.admin(&["audit"]), &audit_query(filter))).await
    }
    async fn audit_verify(&self) -> Result<AuditReport> {
        self.get(self.admin(&["audit", "verify"])).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote(base: &str) -> RemoteAuthority {
        RemoteAuthority::new(base, &Secret::new("mcpca_at_secret")).unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn names_are_one_segment() {
        let r = remote("https://ca.example.com/prefix/");
        assert_eq!(
            r.admin(&["servers", "io.github.acme/weather@1.2.0", "status"]).as_str(),
            "https://ca.example.com/prefix/v1/admin/servers/io.github.acme%2Fweather@1.2.0/status"
        );
        assert_eq!(remote("http://127.0.0.1:8421").public_jwks_url().as_str(), "http://127.0.0.1:8421/.well-known/jwks.json");
    }

    #[test]
    fn debug_hides_the_token() {
        let text = format!("{:?} {:?}", remote("https://ca.example.com"), Secret::new("mcpca_at_secret"));
        assert!(!text.contains("mcpca_at_secret"), "{text}");
    }

    #[test]
    fn errors_map_back() {
        let r = remote("https://ca.example.com");
        let url = r.admin(&["issue"]);
        let p = |error: &str, detail: &str| Problem { error: Some(error.into()), detail: Some(detail.into()), ..Problem::default() };
        let e = r.error(&url, StatusCode::TOO_MANY_REQUESTS, p("rate_limited", "slow down"), Some(7), b"");
        assert!(matches!(e, Error::Denied { code: DenyCode::RateLimited, retry_after: Some(7), .. }), "{e:?}");
        assert_eq!(e.exit_code(), 1);
        let e = r.error(&url, StatusCode::NOT_FOUND, p("not_found", "server not found: io.github.acme/x"), None, b"");
        assert_eq!(e.to_string(), "server not found: io.github.acme/x");
        let e = r.error(&url, StatusCode::CONFLICT, p("conflict", "client already exists: bot"), None, b"");
        assert!(matches!(e, Error::Conflict { what: "client", .. }), "{e:?}");
        assert!(e.hint().is_some_and(|h| h.contains("client show")), "{e:?}");
        let e = r.error(&url, StatusCode::CONFLICT, p("refused", "no next key"), None, b"");
        assert!(matches!(e, Error::Refused { .. }) && e.to_string() == "no next key", "{e:?}");
        let e = r.error(&url, StatusCode::UNAUTHORIZED, p("unauthorized", "unknown token"), None, b"");
        assert!(e.hint().is_some_and(|h| h.contains("token")), "{e:?}");
        assert_eq!(e.exit_code(), 2);
        let e = r.error(&url, StatusCode::BAD_REQUEST, p("invalid_request", "bad ttl"), None, b"");
        assert!(matches!(e, Error::Invalid { .. }), "{e:?}");
    }

    #[test]
    fn imports_are_chunked_below_the_body_limit() {
        let doc = json!({ "name": "x".repeat(1000) });
        let docs: Vec<(String, Value)> = (0..200).map(|i| (format!("#{i}"), doc.clone())).collect();
        let parts = chunks(docs);
        assert!(parts.len() > 1);
        assert_eq!(parts.iter().map(Vec::len).sum::<usize>(), 200);
        for p in &parts {
            assert!(serde_json::to_vec(&json!({ "documents": p, "dry_run": false })).map_or(0, |v| v.len()) < 64 * 1024);
        }
    }
}
