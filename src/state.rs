//! Declarative state for GitOps: the document `mcpca apply` reads and `mcpca export` writes,
//! the pure diff of a desired state against the current one (the [`Plan`]), and its execution
//! through the [`Authority`] trait only, so it works the same against a local or a remote
//! authority.
//!
//! Rules of the format (`apiVersion: mcpca/v1`):
//! - unknown keys and unknown versions are refused;
//! - a server or client named in the file is managed entirely: a field left out takes its
//!   default (status `active`, not verified, no `max_ttl`, no tenant, no rate limit, no reason);
//! - what the authority holds but the file does not name is left alone and reported as
//!   `unmanaged` — apply never deletes (use `server remove` / `client remove`, or set
//!   `status: deleted`);
//! - published versions are immutable: a version whose document differs is an error step;
//! - secrets are never part of the document: a client created by `apply` gets a new secret,
//!   returned once.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::authority::local::{validate_client_id, validate_client_policy};
use crate::authority::{Authority, ServerInput, ServerRefArg};
use crate::model::{ClientCreated, ClientPolicy, ImportStatus, ServerEntry, Status};
use crate::registry::{check_document, document_from_flags, validate, ServerFlags};
use crate::store::{compare_versions, ClientStatus, ServerFilter, ServerUpdate};
use crate::{duration::Dur, Error, Result};

/// The version of the document format; anything else is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ApiVersion {
    /// `mcpca/v1`.
    #[default]
    #[serde(rename = "mcpca/v1")]
    V1,
}

/// The whole declarative document.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorityState {
    #[serde(rename = "apiVersion")]
    pub api_version: ApiVersion,
    #[serde(default)]
    pub servers: Vec<ServerState>,
    #[serde(default)]
    pub clients: Vec<ClientState>,
}

fn active() -> Status {
    Status::Active
}

fn client_active() -> ClientStatus {
    ClientStatus::Active
}

/// A server name: its authority fields and the versions it publishes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerState {
    pub name: String,
    /// Status of the name (all versions).
    #[serde(default = "active")]
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default)]
    pub verified: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ttl: Option<Dur>,
    #[serde(default)]
    pub versions: Vec<VersionState>,
}

/// One version: the full server.json (`document`), or the short form of `server add`
/// (`url`, optional `description` and `title`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionState {
    pub version: String,
    /// Status of this version alone.
    #[serde(default = "active")]
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// A client and its policy (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientState {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    #[serde(default)]
    pub allow: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ttl: Option<Dur>,
    /// Issuance rate limit: `60/min` (a bare number is per minute too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<PerMinute>,
    #[serde(default = "client_active")]
    pub status: ClientStatus,
    /// Why the client is suspended (kept only for a suspended client).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A rate in descriptors a minute, written `60/min`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PerMinute(pub u32);

impl Serialize for PerMinute {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{}/min", self.0))
    }
}

impl<'de> Deserialize<'de> for PerMinute {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u64),
            Text(String),
        }
        let text = match Raw::deserialize(d)? {
            Raw::Number(n) => n.to_string(),
            Raw::Text(t) => t,
        };
        text.parse::<crate::cli::Rate>().map(|r| PerMinute(r.0)).map_err(serde::de::Error::custom)
    }
}

impl ClientState {
    fn policy(&self) -> ClientPolicy {
        ClientPolicy { tenant: self.tenant.clone(), allow: self.allow.clone(), max_ttl: self.max_ttl, rate_per_min: self.rate.map(|r| r.0) }
    }
}

impl AuthorityState {
    /// Parse a state file: JSON when it starts with `{`, YAML otherwise.
    pub fn parse(text: &str, source: &str) -> Result<Self> {
        let parsed = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| e.to_string())
        } else {
            serde_norway::from_str(text).map_err(|e| e.to_string())
        };
        parsed.map_err(|e| {
            Error::invalid(
                format!("{source} is not a valid mcpca state file: {e}"),
                "start it with `apiVersion: mcpca/v1` and use only the keys `mcpca apply --help` shows (unknown keys are refused); nothing was changed",
            )
        })
    }

    /// YAML text.
    pub fn to_yaml(&self) -> Result<String> {
        serde_norway::to_string(self).map_err(|e| Error::Crypto(format!("cannot render YAML: {e}")))
    }

    /// Pretty JSON text with a final newline.
    pub fn to_json(&self) -> Result<String> {
        crate::output::json(self)
    }
}

/// The current state of an authority, in the document's form (what `mcpca export` writes):
/// every server name (deleted ones too) with every version in publication order, every client.
pub async fn current(a: &dyn Authority) -> Result<AuthorityState> {
    let mut entries = a.server_list(&ServerFilter { include_deleted: true, ..ServerFilter::default() }).await?;
    entries.sort_by(|x, y| {
        x.name()
            .cmp(y.name())
            .then_with(|| x.authority.published_at.cmp(&y.authority.published_at))
            .then_with(|| compare_versions((x.version(), 0), (y.version(), 0)))
    });
    let mut servers: Vec<ServerState> = Vec::new();
    for e in entries {
        let version = version_state(&e)?;
        match servers.last_mut() {
            Some(s) if s.name == e.name() => s.versions.push(version),
            _ => {
                let f = &e.authority;
                servers.push(ServerState {
                    name: e.name().to_owned(),
                    status: f.name_status,
                    reason: f.name_status_reason.clone(),
                    verified: f.verified,
                    max_ttl: f.max_ttl,
                    versions: vec![version],
                });
            }
        }
    }
    let clients = a
        .client_list()
        .await?
        .into_iter()
        .map(|c| ClientState {
            reason: if c.status == ClientStatus::Suspended { c.status_reason } else { None },
            id: c.id,
            tenant: c.tenant,
            allow: c.allow,
            max_ttl: c.max_ttl,
            rate: c.rate_per_min.map(PerMinute),
            status: c.status,
        })
        .collect();
    Ok(AuthorityState { api_version: ApiVersion::V1, servers, clients })
}

fn version_state(e: &ServerEntry) -> Result<VersionState> {
    let document = serde_json::to_value(&e.server)
        .map_err(|err| Error::Store(format!("the document of {}@{} is not JSON: {err}", e.name(), e.version())))?;
    Ok(VersionState {
        version: e.version().to_owned(),
        status: e.authority.version_status,
        reason: e.authority.version_status_reason.clone(),
        document: Some(document),
        url: None,
        description: None,
        title: None,
    })
}

/// What a step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Not in the authority: it will be added.
    Create,
    /// In the authority with other values: they will be changed.
    Update,
    /// Already as the file says.
    Unchanged,
    /// In the authority, not in the file: left alone.
    Unmanaged,
    /// The entry cannot be applied; nothing at all is applied while any step is an error.
    Error,
}

impl Action {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Unchanged => "unchanged",
            Action::Unmanaged => "unmanaged",
            Action::Error => "error",
        }
    }
}

/// What a step is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A server name and its authority fields.
    Server,
    /// One published version (`name@version`).
    ServerVersion,
    /// A client.
    Client,
}

impl Kind {
    /// The name shown in plans.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Server => "server",
            Kind::ServerVersion => "server-version",
            Kind::Client => "client",
        }
    }
}

/// One field that changes: `from` is absent for a creation, `None` values print as `-`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub field: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    pub to: String,
}

/// An operation of the Authority API a step carries out.
#[derive(Debug, Clone, PartialEq)]
enum Op {
    AddVersion { id: String, document: Value, verified: Option<bool>, max_ttl: Option<Dur> },
    UpdateServer { name: String, verified: Option<bool>, max_ttl: Option<Option<Dur>> },
    SetServerStatus { server: ServerRefArg, status: Status, reason: Option<String> },
    AddClient { id: String, policy: ClientPolicy },
    UpdateClient { id: String, policy: ClientPolicy },
    SetClientStatus { id: String, status: ClientStatus, reason: Option<String> },
}

/// One line of a plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub action: Action,
    pub kind: Kind,
    pub id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<Change>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip)]
    ops: Vec<Op>,
}

impl Step {
    fn new(action: Action, kind: Kind, id: impl Into<String>) -> Self {
        Step { action, kind, id: id.into(), changes: Vec::new(), error: None, ops: Vec::new() }
    }

    fn error(kind: Kind, id: impl Into<String>, message: impl Into<String>) -> Self {
        Step { error: Some(message.into()), ..Step::new(Action::Error, kind, id) }
    }

    fn fail(&mut self, message: impl Into<String>) {
        self.action = Action::Error;
        self.error = Some(message.into());
        self.ops.clear();
    }

    /// A created field.
    fn set(&mut self, field: &str, to: impl Into<String>) {
        self.changes.push(Change { field: field.into(), from: None, to: to.into() });
    }

    /// A changed field.
    fn diff(&mut self, field: &str, from: impl Into<String>, to: impl Into<String>) {
        self.changes.push(Change { field: field.into(), from: Some(from.into()), to: to.into() });
    }

    /// Create, update or unchanged, from the changes collected.
    fn settle(mut self) -> Self {
        if self.action == Action::Update && self.changes.is_empty() {
            self.action = Action::Unchanged;
        }
        self
    }
}

/// How many steps of each action.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub unchanged: usize,
    pub unmanaged: usize,
    pub error: usize,
}

/// The steps that make an authority match a document.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Plan {
    pub steps: Vec<Step>,
}

impl Plan {
    /// Counts per action.
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for step in &self.steps {
            match step.action {
                Action::Create => s.create += 1,
                Action::Update => s.update += 1,
                Action::Unchanged => s.unchanged += 1,
                Action::Unmanaged => s.unmanaged += 1,
                Action::Error => s.error += 1,
            }
        }
        s
    }

    /// The error steps.
    pub fn errors(&self) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(|s| s.action == Action::Error)
    }

    /// Whether applying would change anything.
    pub fn changes_anything(&self) -> bool {
        self.steps.iter().any(|s| !s.ops.is_empty())
    }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

fn list(v: &[String]) -> String {
    format!("[{}]", v.join(", "))
}

/// Compare `desired` with `current` (both documents; `current` as [`current`] builds it) and
/// list the steps, in the order they are shown: per server its name, then its versions; then
/// the clients; unmanaged entries last. Everything that can be checked without the authority is
/// checked here (documents, names, patterns, limits, immutability); [`check`] adds what only the
/// authority knows.
pub fn plan(desired: &AuthorityState, current: &AuthorityState) -> Plan {
    let mut steps = Vec::new();
    let have: HashMap<&str, &ServerState> = current.servers.iter().map(|s| (s.name.as_str(), s)).collect();
    let mut named = HashSet::new();
    for s in &desired.servers {
        if !named.insert(s.name.as_str()) {
            steps.push(Step::error(Kind::Server, &s.name, "this server is listed twice in the file"));
            continue;
        }
        server_steps(s, have.get(s.name.as_str()).copied(), &mut steps);
    }
    let have_clients: HashMap<&str, &ClientState> = current.clients.iter().map(|c| (c.id.as_str(), c)).collect();
    let mut ids = HashSet::new();
    for c in &desired.clients {
        if !ids.insert(c.id.as_str()) {
            steps.push(Step::error(Kind::Client, &c.id, "this client is listed twice in the file"));
            continue;
        }
        steps.push(client_step(c, have_clients.get(c.id.as_str()).copied()));
    }
    for s in current.servers.iter().filter(|s| !named.contains(s.name.as_str())) {
        let mut step = Step::new(Action::Unmanaged, Kind::Server, &s.name);
        step.set("versions", s.versions.len().to_string());
        steps.push(step);
    }
    for c in current.clients.iter().filter(|c| !ids.contains(c.id.as_str())) {
        steps.push(Step::new(Action::Unmanaged, Kind::Client, &c.id));
    }
    Plan { steps }
}

fn server_steps(d: &ServerState, have: Option<&ServerState>, steps: &mut Vec<Step>) {
    let name = d.name.as_str();
    let mut step = match have {
        None => {
            let mut step = Step::new(Action::Create, Kind::Server, name);
            step.set("status", d.status.as_str());
            if let Some(r) = &d.reason {
                step.set("reason", r.as_str());
            }
            step.set("verified", d.verified.to_string());
            if let Some(t) = d.max_ttl {
                step.set("max_ttl", t.to_string());
            }
            if d.status != Status::Active || d.reason.is_some() {
                step.ops.push(Op::SetServerStatus { server: name_ref(name, None), status: d.status, reason: d.reason.clone() });
            }
            if d.versions.is_empty() {
                step.fail("a new server needs at least one version under `versions`");
            }
            step
        }
        Some(h) => {
            let mut step = Step::new(Action::Update, Kind::Server, name);
            let mut update = (None, None);
            if h.verified != d.verified {
                step.diff("verified", h.verified.to_string(), d.verified.to_string());
                update.0 = Some(d.verified);
            }
            if h.max_ttl != d.max_ttl {
                step.diff("max_ttl", opt(h.max_ttl), opt(d.max_ttl));
                update.1 = Some(d.max_ttl);
            }
            if update.0.is_some() || update.1.is_some() {
                step.ops.push(Op::UpdateServer { name: name.to_owned(), verified: update.0, max_ttl: update.1 });
            }
            status_change(&mut step, (h.status, &h.reason), (d.status, &d.reason), name_ref(name, None));
            step.settle()
        }
    };
    // The name's fields ride on its first version when the name is new.
    let mut first_new = have.is_none();
    let mut version_steps = Vec::new();
    let have_versions: HashMap<&str, &VersionState> =
        have.map(|h| h.versions.iter().map(|v| (v.version.as_str(), v)).collect()).unwrap_or_default();
    let mut seen = HashSet::new();
    for v in &d.versions {
        let id = format!("{name}@{}", v.version);
        if !seen.insert(v.version.as_str()) {
            version_steps.push(Step::error(Kind::ServerVersion, id, "this version is listed twice in the file"));
            continue;
        }
        let document = match version_document(name, v) {
            Ok(doc) => doc,
            Err(e) => {
                version_steps.push(Step::error(Kind::ServerVersion, id, e));
                continue;
            }
        };
        let vref = name_ref(name, Some(&v.version));
        match have_versions.get(v.version.as_str()) {
            None => {
                if let Err(e) = check_new(&document) {
                    version_steps.push(Step::error(Kind::ServerVersion, id, e));
                    continue;
                }
                let mut vs = Step::new(Action::Create, Kind::ServerVersion, &id);
                vs.set("endpoint", opt(validate::streamable_http_endpoint(&document)));
                vs.set("status", v.status.as_str());
                if let Some(r) = &v.reason {
                    vs.set("reason", r.as_str());
                }
                let (verified, max_ttl) = if first_new { (d.verified.then_some(true), d.max_ttl) } else { (None, None) };
                first_new = false;
                vs.ops.push(Op::AddVersion { id: id.clone(), document, verified, max_ttl });
                if v.status != Status::Active || v.reason.is_some() {
                    vs.ops.push(Op::SetServerStatus { server: vref, status: v.status, reason: v.reason.clone() });
                }
                version_steps.push(vs);
            }
            Some(hv) => {
                if !same_document(v, &document, hv.document.as_ref()) {
                    version_steps.push(Step::error(
                        Kind::ServerVersion,
                        id,
                        "this version exists with a different document; published versions are immutable: publish a new version instead",
                    ));
                    continue;
                }
                let mut vs = Step::new(Action::Update, Kind::ServerVersion, &id);
                status_change(&mut vs, (hv.status, &hv.reason), (v.status, &v.reason), vref);
                version_steps.push(vs.settle());
            }
        }
    }
    if have.is_none() && first_new && step.action != Action::Error {
        step.fail("none of its versions can be created, so the server cannot be either");
    }
    steps.push(step);
    steps.extend(version_steps);
    if let Some(h) = have {
        for v in h.versions.iter().filter(|v| !seen.contains(v.version.as_str())) {
            steps.push(Step::new(Action::Unmanaged, Kind::ServerVersion, format!("{name}@{}", v.version)));
        }
    }
}

fn name_ref(name: &str, version: Option<&str>) -> ServerRefArg {
    ServerRefArg { name: name.to_owned(), version: version.map(str::to_owned) }
}

/// Record a status (and reason) change of a name or version, with its operation.
fn status_change(step: &mut Step, have: (Status, &Option<String>), want: (Status, &Option<String>), server: ServerRefArg) {
    if have.0 == want.0 && have.1 == want.1 {
        return;
    }
    if have.0 != want.0 {
        step.diff("status", have.0.as_str(), want.0.as_str());
    }
    if have.1 != want.1 {
        step.diff("reason", opt(have.1.as_deref()), opt(want.1.as_deref()));
    }
    step.ops.push(Op::SetServerStatus { server, status: want.0, reason: want.1.clone() });
}

/// The server.json a version entry stands for (checked by [`check_new`] when it is new; a
/// published one only has to be equal).
fn version_document(name: &str, v: &VersionState) -> std::result::Result<Value, String> {
    let doc = match (&v.document, &v.url) {
        (Some(_), Some(_)) => return Err("give either `document` (a server.json) or `url` (the short form), not both".into()),
        (None, None) => return Err("give `document` (a server.json) or `url` (the short form of `server add`)".into()),
        (Some(doc), None) => {
            if v.description.is_some() || v.title.is_some() {
                return Err("`description` and `title` belong to the short form; with `document`, put them in the document".into());
            }
            let field = |k: &str| doc.get(k).and_then(Value::as_str);
            if !doc.is_object() {
                return Err("`document` is not a JSON object (a server.json)".into());
            }
            if field("name") != Some(name) {
                return Err(format!("the document's name is {:?}, not the server's name {name:?}", field("name").unwrap_or("")));
            }
            if field("version") != Some(v.version.as_str()) {
                return Err(format!("the document's version is {:?}, not {:?}", field("version").unwrap_or(""), v.version));
            }
            doc.clone()
        }
        (None, Some(url)) => document_from_flags(&ServerFlags {
            name: name.to_owned(),
            url: url.clone(),
            version: Some(v.version.clone()),
            description: v.description.clone(),
            title: v.title.clone(),
        }),
    };
    Ok(doc)
}

/// Check a document to be published as `server add` does.
fn check_new(doc: &Value) -> std::result::Result<(), String> {
    check_document(doc).map_err(|e| match e.hint() {
        Some(h) => format!("{e}\n  hint: {h}"),
        None => e.to_string(),
    })
}

/// Whether a stored version is the one the file describes. The short form states fields, not
/// a schema revision, so its `$schema` is not compared (a newer mcpca builds a newer one).
fn same_document(v: &VersionState, wanted: &Value, stored: Option<&Value>) -> bool {
    let Some(stored) = stored else { return false };
    if v.document.is_some() {
        return wanted == stored;
    }
    let strip = |d: &Value| {
        let mut d = d.clone();
        if let Some(o) = d.as_object_mut() {
            o.remove("$schema");
        }
        d
    };
    strip(wanted) == strip(stored)
}

fn client_step(d: &ClientState, have: Option<&ClientState>) -> Step {
    let id = d.id.as_str();
    let policy = d.policy();
    let problem = validate_client_id(id)
        .and_then(|()| validate_client_policy(&policy))
        .err()
        .map(|e| match e.hint() {
            Some(h) => format!("{e} (hint: {h})"),
            None => e.to_string(),
        })
        .or_else(|| {
            (d.status == ClientStatus::Active && d.reason.is_some()).then(|| "`reason` is kept only for a suspended client".into())
        });
    if let Some(p) = problem {
        return Step::error(Kind::Client, id, p);
    }
    let suspend = Op::SetClientStatus { id: id.to_owned(), status: d.status, reason: d.reason.clone() };
    let Some(h) = have else {
        let mut step = Step::new(Action::Create, Kind::Client, id);
        if let Some(t) = &d.tenant {
            step.set("tenant", t.as_str());
        }
        step.set("allow", list(&d.allow));
        if let Some(t) = d.max_ttl {
            step.set("max_ttl", t.to_string());
        }
        if let Some(r) = d.rate {
            step.set("rate", format!("{}/min", r.0));
        }
        step.set("status", d.status.as_str());
        if let Some(r) = &d.reason {
            step.set("reason", r.as_str());
        }
        step.ops.push(Op::AddClient { id: id.to_owned(), policy });
        if d.status == ClientStatus::Suspended {
            step.ops.push(suspend);
        }
        return step;
    };
    let mut step = Step::new(Action::Update, Kind::Client, id);
    if h.tenant != d.tenant {
        step.diff("tenant", opt(h.tenant.as_deref()), opt(d.tenant.as_deref()));
    }
    if h.allow != d.allow {
        step.diff("allow", list(&h.allow), list(&d.allow));
    }
    if h.max_ttl != d.max_ttl {
        step.diff("max_ttl", opt(h.max_ttl), opt(d.max_ttl));
    }
    if h.rate != d.rate {
        let rate = |r: Option<PerMinute>| opt(r.map(|r| format!("{}/min", r.0)));
        step.diff("rate", rate(h.rate), rate(d.rate));
    }
    if !step.changes.is_empty() {
        step.ops.push(Op::UpdateClient { id: id.to_owned(), policy });
    }
    let reason_differs = d.status == ClientStatus::Suspended && h.reason != d.reason;
    if h.status != d.status || reason_differs {
        if h.status != d.status {
            step.diff("status", h.status.as_str(), d.status.as_str());
        }
        if h.reason != d.reason {
            step.diff("reason", opt(h.reason.as_deref()), opt(d.reason.as_deref()));
        }
        step.ops.push(suspend);
    }
    step.settle()
}

/// Ask the authority to check every version the plan would create, changing nothing (a dry-run
/// import): its own validation, remote URLs that belong to other servers. Problems turn the
/// step into an error, so a bad entry is found before the first change.
pub async fn check(plan: &mut Plan, a: &dyn Authority) -> Result<()> {
    let documents: Vec<(String, Value)> = plan
        .steps
        .iter()
        .flat_map(|s| &s.ops)
        .filter_map(|op| match op {
            Op::AddVersion { id, document, .. } => Some((id.clone(), document.clone())),
            _ => None,
        })
        .collect();
    if documents.is_empty() {
        return Ok(());
    }
    for entry in a.server_import(documents, true).await? {
        let problem = match entry.status {
            ImportStatus::Imported | ImportStatus::Unchanged => continue,
            ImportStatus::Invalid => entry.reason.unwrap_or_else(|| "refused by the authority".into()),
            ImportStatus::DuplicateVersion => "this version exists with a different document; published versions are immutable".into(),
        };
        if let Some(step) = plan.steps.iter_mut().find(|s| s.kind == Kind::ServerVersion && s.id == entry.source) {
            step.fail(problem);
        }
    }
    Ok(())
}

/// Carry out a plan through the Authority API: every new version first (a new server comes
/// with its first version), then the other changes in plan order. Refuses a plan with error
/// steps before changing anything. The secret of each client created is pushed to `secrets`
/// as soon as it exists, so the caller can show it even when a later step fails. Returns the
/// number of operations made.
pub async fn apply(plan: &Plan, a: &dyn Authority, secrets: &mut Vec<ClientCreated>) -> Result<usize> {
    let errors = plan.errors().count();
    if errors > 0 {
        return Err(Error::refused(
            format!("the plan has {errors} error step{}; nothing was changed", if errors == 1 { "" } else { "s" }),
            "fix the entries marked `error` in the file and run `mcpca apply` again",
        ));
    }
    let first = plan.steps.iter().flat_map(|s| s.ops.iter().map(move |op| (s, op))).filter(|(_, op)| matches!(op, Op::AddVersion { .. }));
    let rest = plan.steps.iter().flat_map(|s| s.ops.iter().map(move |op| (s, op))).filter(|(_, op)| !matches!(op, Op::AddVersion { .. }));
    let mut done = 0;
    for (step, op) in first.chain(rest) {
        run(op, a, secrets).await.map_err(|e| {
            let hint = e.hint().map(|h| format!("{h}; ")).unwrap_or_default();
            Error::refused(
                format!(
                    "cannot apply {} {}: {e} ({done} earlier change{} stay applied)",
                    step.kind.as_str(),
                    step.id,
                    if done == 1 { "" } else { "s" }
                ),
                format!("{hint}fix the cause and run `mcpca apply` again: it plans from the authority as it is now"),
            )
        })?;
        done += 1;
    }
    Ok(done)
}

async fn run(op: &Op, a: &dyn Authority, secrets: &mut Vec<ClientCreated>) -> Result<()> {
    match op {
        Op::AddVersion { document, verified, max_ttl, .. } => {
            a.server_add(ServerInput { document: document.clone(), verified: *verified, max_ttl: *max_ttl }).await?;
        }
        Op::UpdateServer { name, verified, max_ttl } => {
            a.server_update(name, ServerUpdate { verified: *verified, max_ttl: *max_ttl }).await?;
        }
        Op::SetServerStatus { server, status, reason } => {
            a.server_set_status(server, *status, reason.clone()).await?;
        }
        Op::AddClient { id, policy } => secrets.push(a.client_add(id, policy.clone()).await?),
        Op::UpdateClient { id, policy } => {
            a.client_update(id, policy.clone()).await?;
        }
        Op::SetClientStatus { id, status, reason } => {
            a.client_set_status(id, *status, reason.clone()).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const WEATHER: &str = "io.github.acme/weather";

    fn doc(name: &str, version: &str, url: &str) -> Value {
        document_from_flags(&ServerFlags { name: name.into(), url: url.into(), version: Some(version.into()), ..ServerFlags::default() })
    }

    fn parse(yaml: &str) -> AuthorityState {
        AuthorityState::parse(yaml, "test").unwrap()
    }

    fn desired() -> AuthorityState {
        parse(
            r#"
apiVersion: mcpca/v1
servers:
  - name: io.github.acme/weather
    verified: true
    max_ttl: 10m
    versions:
      - version: 1.2.0
        url: https://weather.acme.dev/mcp
      - version: 1.3.0
        status: deprecated
        reason: use 2.x
        url: https://weather.acme.dev/mcp
clients:
  - id: ci-bot
    tenant: acme
    allow: ["io.github.acme/*"]
    max_ttl: 5m
    rate: 60/min
"#,
        )
    }

    /// What an authority holding exactly `desired()` exports.
    fn held() -> AuthorityState {
        let mut s = desired();
        for v in &mut s.servers[0].versions {
            v.document = Some(doc(WEATHER, &v.version, "https://weather.acme.dev/mcp"));
            v.url = None;
        }
        s
    }

    fn actions(p: &Plan) -> Vec<(Action, Kind, String)> {
        p.steps.iter().map(|s| (s.action, s.kind, s.id.clone())).collect()
    }

    #[test]
    fn an_empty_authority_gets_everything_created_versions_first() {
        let p = plan(&desired(), &AuthorityState::default());
        assert_eq!(
            actions(&p),
            vec![
                (Action::Create, Kind::Server, WEATHER.into()),
                (Action::Create, Kind::ServerVersion, format!("{WEATHER}@1.2.0")),
                (Action::Create, Kind::ServerVersion, format!("{WEATHER}@1.3.0")),
                (Action::Create, Kind::Client, "ci-bot".into()),
            ]
        );
        // The name's fields ride on its first version; later versions do not repeat them.
        match &p.steps[1].ops[..] {
            [Op::AddVersion { verified: Some(true), max_ttl: Some(t), .. }] => assert_eq!(*t, Dur(600)),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            &p.steps[2].ops[..],
            [Op::AddVersion { verified: None, max_ttl: None, .. }, Op::SetServerStatus { status: Status::Deprecated, .. }]
        ));
        assert!(matches!(&p.steps[3].ops[..], [Op::AddClient { .. }]));
        assert_eq!(p.summary(), Summary { create: 4, ..Summary::default() });
        assert!(p.changes_anything());
    }

    #[test]
    fn the_same_state_is_all_unchanged() {
        for want in [desired(), held()] {
            let p = plan(&want, &held());
            assert!(p.steps.iter().all(|s| s.action == Action::Unchanged && s.ops.is_empty()), "{p:#?}");
            assert!(!p.changes_anything());
        }
    }

    #[test]
    fn changed_fields_are_updates_listing_what_changes() {
        let mut want = desired();
        want.servers[0].verified = false;
        want.servers[0].max_ttl = None;
        want.servers[0].versions[0].status = Status::Suspended;
        want.clients[0].rate = Some(PerMinute(10));
        want.clients[0].status = ClientStatus::Suspended;
        want.clients[0].reason = Some("leaked".into());
        let p = plan(&want, &held());
        let server = &p.steps[0];
        assert_eq!(server.action, Action::Update);
        assert_eq!(
            server.changes,
            vec![
                Change { field: "verified".into(), from: Some("true".into()), to: "false".into() },
                Change { field: "max_ttl".into(), from: Some("10m".into()), to: "-".into() },
            ]
        );
        assert_eq!(server.ops, vec![Op::UpdateServer { name: WEATHER.into(), verified: Some(false), max_ttl: Some(None) }]);
        assert_eq!(p.steps[1].action, Action::Update);
        assert_eq!(p.steps[1].changes[0], Change { field: "status".into(), from: Some("active".into()), to: "suspended".into() });
        assert_eq!(p.steps[2].action, Action::Unchanged);
        let client = &p.steps[3];
        assert_eq!(client.action, Action::Update);
        assert_eq!(client.changes.iter().map(|c| c.field.as_str()).collect::<Vec<_>>(), ["rate", "status", "reason"]);
        assert!(matches!(&client.ops[..], [Op::UpdateClient { .. }, Op::SetClientStatus { status: ClientStatus::Suspended, .. }]));
    }

    #[test]
    fn a_changed_published_version_is_an_error() {
        let mut want = desired();
        want.servers[0].versions[0].url = Some("https://other.acme.dev/mcp".into());
        let p = plan(&want, &held());
        let step = &p.steps[1];
        assert_eq!(step.action, Action::Error);
        assert!(step.error.as_deref().unwrap().contains("immutable"), "{step:?}");
        assert_eq!(p.summary().error, 1);
    }

    #[test]
    fn the_short_form_ignores_the_schema_revision() {
        let mut have = held();
        let stored = have.servers[0].versions[0].document.as_mut().unwrap();
        stored["$schema"] = Value::String("https://static.modelcontextprotocol.io/schemas/2025-09-29/server.schema.json".into());
        assert_eq!(plan(&desired(), &have).steps[1].action, Action::Unchanged);
        // The full form compares the whole document.
        let mut want = held();
        want.servers[0].versions[0].document = Some(doc(WEATHER, "1.2.0", "https://weather.acme.dev/mcp"));
        assert_eq!(plan(&want, &have).steps[1].action, Action::Error);
    }

    #[test]
    fn what_the_file_does_not_name_is_unmanaged() {
        let mut have = held();
        have.servers[0].versions.push(VersionState {
            version: "0.9.0".into(),
            status: Status::Deleted,
            reason: None,
            document: Some(doc(WEATHER, "0.9.0", "https://weather.acme.dev/mcp")),
            url: None,
            description: None,
            title: None,
        });
        have.servers.push(ServerState {
            name: "io.github.acme/maps".into(),
            status: Status::Active,
            reason: None,
            verified: false,
            max_ttl: None,
            versions: vec![],
        });
        have.clients.push(ClientState {
            id: "old".into(),
            tenant: None,
            allow: vec!["*".into()],
            max_ttl: None,
            rate: None,
            status: ClientStatus::Active,
            reason: None,
        });
        let p = plan(&desired(), &have);
        let unmanaged: Vec<_> = p.steps.iter().filter(|s| s.action == Action::Unmanaged).map(|s| (s.kind, s.id.as_str())).collect();
        assert_eq!(
            unmanaged,
            [(Kind::ServerVersion, "io.github.acme/weather@0.9.0"), (Kind::Server, "io.github.acme/maps"), (Kind::Client, "old")]
        );
        assert!(!p.changes_anything());
    }

    #[test]
    fn bad_entries_are_error_steps() {
        let p = plan(
            &parse(
                r#"
apiVersion: mcpca/v1
servers:
  - name: io.github.acme/weather
    versions:
      - version: 1.0.0
        url: ftp://weather.acme.dev/mcp
  - name: io.github.acme/maps
    versions:
      - version: 1.0.0
        url: https://maps.acme.dev/mcp
        document: {}
      - version: 2.0.0
        document: {"name": "io.github.acme/other", "version": "2.0.0"}
  - name: io.github.acme/empty
clients:
  - id: bad-pattern
    allow: ["a*b"]
  - id: "has space"
    allow: ["*"]
  - id: no-allow
  - id: chatty
    allow: ["*"]
    reason: why
  - id: chatty
    allow: ["*"]
"#,
            ),
            &AuthorityState::default(),
        );
        let errors: Vec<_> = p.errors().map(|s| s.id.as_str()).collect();
        assert_eq!(
            errors,
            [
                "io.github.acme/weather",
                "io.github.acme/weather@1.0.0",
                "io.github.acme/maps",
                "io.github.acme/maps@1.0.0",
                "io.github.acme/maps@2.0.0",
                "io.github.acme/empty",
                "bad-pattern",
                "has space",
                "no-allow",
                "chatty",
                "chatty",
            ]
        );
        assert!(p.steps.iter().all(|s| s.action != Action::Error || s.ops.is_empty()));
    }

    #[test]
    fn unknown_keys_and_versions_are_refused() {
        for bad in [
            "apiVersion: mcpca/v2\n",
            "servers: []\n",
            "apiVersion: mcpca/v1\nextra: 1\n",
            "apiVersion: mcpca/v1\nclients:\n  - id: a\n    allow: ['*']\n    secret: x\n",
            "apiVersion: mcpca/v1\nservers:\n  - name: a\n    versions:\n      - version: 1.0.0\n        urll: x\n",
            "apiVersion: mcpca/v1\nclients:\n  - id: a\n    rate: 0/min\n",
            "apiVersion: mcpca/v1\nservers:\n  - name: a\n    max_ttl: 5 minutes\n",
            "apiVersion: mcpca/v1\nservers:\n  - name: a\n    status: paused\n",
            r#"{"apiVersion":"mcpca/v1","unknown":true}"#,
        ] {
            assert!(AuthorityState::parse(bad, "test").is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn rates_and_formats_round_trip() {
        let s = parse(
            "apiVersion: mcpca/v1\nclients:\n  - id: a\n    allow: ['*']\n    rate: 30\n  - id: b\n    allow: ['*']\n    rate: 5/min\n",
        );
        assert_eq!(s.clients[0].rate, Some(PerMinute(30)));
        assert_eq!(s.clients[1].rate, Some(PerMinute(5)));
        let mut h = held();
        // Strings that look like other YAML scalars survive the trip.
        h.servers[0].versions[0].document.as_mut().unwrap()["title"] = Value::String("1.0".into());
        h.servers[0].reason = Some("yes".into());
        let yaml = h.to_yaml().unwrap();
        assert!(yaml.contains("rate: 60/min"), "{yaml}");
        assert_eq!(AuthorityState::parse(&yaml, "yaml").unwrap(), h);
        assert_eq!(AuthorityState::parse(&h.to_json().unwrap(), "json").unwrap(), h);
    }
}
