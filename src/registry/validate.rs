//! Validates MCP registry `server.json` documents before the authority stores or signs anything
//! about them: first against the official JSON schema the document names in `$schema` (embedded
//! copies, no network), then against the official registry's extra rules (name, description,
//! version, remote endpoint URLs), so every problem is reported at once with a JSON pointer.

use std::cmp::Ordering;
use std::fmt;
use std::sync::OnceLock;

use jsonschema::error::ValidationErrorKind;
use jsonschema::{ValidationError, Validator};
use serde_json::Value;

/// `$id` of the newest official schema; documents built from CLI flags use it.
pub const CURRENT_SCHEMA: &str = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json";

/// Longest allowed `name`, in characters.
pub const NAME_MAX_CHARS: usize = 200;
/// Shortest allowed `name`, in characters.
pub const NAME_MIN_CHARS: usize = 3;
/// Longest allowed `description`, in characters.
pub const DESCRIPTION_MAX_CHARS: usize = 100;
/// Longest allowed `version`, in characters.
pub const VERSION_MAX_CHARS: usize = 255;

/// One broken rule: where (a JSON pointer into the document, "" for the root, e.g.
/// "/remotes/0/url"), which rule (short machine-ish name, e.g. "schema:required",
/// "name-pattern", "endpoint-https"), and a human message saying what to do.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Violation {
    pub path: String,
    pub rule: String,
    pub message: String,
}

impl Violation {
    fn new(path: impl Into<String>, rule: impl Into<String>, message: impl Into<String>) -> Self {
        Self { path: path.into(), rule: rule.into(), message: message.into() }
    }

    /// The same violation reported at another JSON pointer.
    #[must_use]
    pub fn at(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() { "/" } else { self.path.as_str() };
        write!(f, "{path}: {} (rule {})", self.message, self.rule)
    }
}

impl std::error::Error for Violation {}

/// An official schema shipped inside the binary.
struct EmbeddedSchema {
    id: &'static str,
    source: &'static str,
}

/// Every official schema, oldest first.
const EMBEDDED: [EmbeddedSchema; 6] = [
    EmbeddedSchema {
        id: "https://static.modelcontextprotocol.io/schemas/2025-07-09/server.schema.json",
        source: include_str!("../../schemas/2025-07-09.server.schema.json"),
    },
    EmbeddedSchema {
        id: "https://static.modelcontextprotocol.io/schemas/2025-09-16/server.schema.json",
        source: include_str!("../../schemas/2025-09-16.server.schema.json"),
    },
    EmbeddedSchema {
        id: "https://static.modelcontextprotocol.io/schemas/2025-09-29/server.schema.json",
        source: include_str!("../../schemas/2025-09-29.server.schema.json"),
    },
    EmbeddedSchema {
        id: "https://static.modelcontextprotocol.io/schemas/2025-10-11/server.schema.json",
        source: include_str!("../../schemas/2025-10-11.server.schema.json"),
    },
    EmbeddedSchema {
        id: "https://static.modelcontextprotocol.io/schemas/2025-10-17/server.schema.json",
        source: include_str!("../../schemas/2025-10-17.server.schema.json"),
    },
    EmbeddedSchema { id: CURRENT_SCHEMA, source: include_str!("../../schemas/2025-12-11.server.schema.json") },
];

/// Compiled validators, one per entry of [`EMBEDDED`], built on first use.
static COMPILED: [OnceLock<Result<Validator, String>>; EMBEDDED.len()] = [const { OnceLock::new() }; EMBEDDED.len()];

/// The `$id` URLs of every embedded schema, oldest first.
pub fn known_schemas() -> Vec<&'static str> {
    EMBEDDED.iter().map(|s| s.id).collect()
}

/// The embedded JSON text of the schema whose `$id` is `id`, if it is one of [`known_schemas`].
pub fn embedded_schema(id: &str) -> Option<&'static str> {
    let id = normalize_schema_id(id);
    EMBEDDED.iter().find(|s| s.id == id).map(|s| s.source)
}

/// A `$schema` value compared without one trailing `#`.
fn normalize_schema_id(id: &str) -> &str {
    id.strip_suffix('#').unwrap_or(id)
}

/// The compiled validator for `id`: `None` when the schema is unknown, `Some(Err)` when the
/// embedded schema failed to compile (a build defect, reported rather than panicking).
fn validator_for(id: &str) -> Option<&'static Result<Validator, String>> {
    let id = normalize_schema_id(id);
    EMBEDDED
        .iter()
        .zip(COMPILED.iter())
        .find(|(schema, _)| schema.id == id)
        .map(|(schema, cell)| cell.get_or_init(|| compile_schema(schema.source)))
}

fn compile_schema(source: &str) -> Result<Validator, String> {
    let schema: Value = serde_json::from_str(source).map_err(|e| e.to_string())?;
    jsonschema::draft7::options().should_validate_formats(true).offline().build(&schema).map_err(|e| e.to_string())
}

/// Full validation of a server.json document: the schema its `$schema` names (missing →
/// "schema-missing", unknown → "unknown-schema"), then the official registry rules (name,
/// description, version, remote URLs). Returns every violation found: schema ones first (sorted
/// by path, stable), then the official-rule ones in document order.
pub fn validate_document(doc: &Value) -> Result<(), Vec<Violation>> {
    let Value::Object(map) = doc else {
        return Err(vec![Violation::new(
            "",
            "document-type",
            "a server.json document must be a JSON object such as \
             {\"$schema\": \"...\", \"name\": \"...\", \"description\": \"...\", \"version\": \"...\"}",
        )]);
    };

    let mut violations = Vec::new();
    match map.get("$schema") {
        None => violations.push(Violation::new(
            "/$schema",
            "schema-missing",
            format!(
                "the document does not say which server.json schema it follows; \
                 add \"$schema\": \"{CURRENT_SCHEMA}\""
            ),
        )),
        Some(Value::String(id)) => match validator_for(id) {
            Some(Ok(validator)) => schema_violations(validator, doc, &mut violations),
            Some(Err(error)) => violations.push(Violation::new(
                "/$schema",
                "schema-internal",
                format!("the embedded schema {id} could not be compiled ({error}); this is a bug in mcpca, please report it"),
            )),
            None => violations.push(unknown_schema(&format!("\"{id}\" is not a known schema"))),
        },
        Some(other) => violations.push(unknown_schema(&format!("$schema must be a string, not {}", json_type_name(other)))),
    }

    official_rules(doc, &mut violations);

    if violations.is_empty() {
        Ok(())
    } else {
        Err(violations)
    }
}

fn unknown_schema(what: &str) -> Violation {
    Violation::new(
        "/$schema",
        "unknown-schema",
        format!("{what}; set $schema to one of the known server.json schemas (newest last): {}", known_schemas().join(", ")),
    )
}

fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Runs the schema and appends its violations, sorted by path and without duplicates.
fn schema_violations(validator: &Validator, doc: &Value, out: &mut Vec<Violation>) {
    let mut found = Vec::new();
    for error in validator.iter_errors(doc) {
        push_schema_error(&error, &mut found);
    }
    found.sort_by(|a, b| compare_pointers(&a.path, &b.path));
    for violation in found {
        if !out.contains(&violation) {
            out.push(violation);
        }
    }
}

/// Maps one jsonschema error to violations. A failed `anyOf`/`oneOf` is replaced by the errors of
/// the branch the instance was evidently aimed at (e.g. the `streamable-http` transport when
/// `type` says so), or by the errors every branch agrees on, so that "remote without url" reads
/// as `schema:required` at the remote rather than a bare `schema:anyOf`.
fn push_schema_error(error: &ValidationError<'_>, out: &mut Vec<Violation>) {
    let branches = match error.kind() {
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => Some(context),
        _ => None,
    };
    if let Some(branches) = branches {
        let at = error.instance_path().as_str();
        if let Some(best) = intended_branch(at, branches) {
            for inner in best {
                push_schema_error(inner, out);
            }
            return;
        }
        let (common, explains_all) = common_violations(branches);
        let done = explains_all && !common.is_empty();
        out.extend(common);
        if done {
            return;
        }
    }
    out.push(Violation::new(error.instance_path().as_str(), format!("schema:{}", error.kind().keyword()), error.to_string()));
}

/// The only failing branch that does not reject the instance on a discriminating value (`enum`
/// or `const` on the instance or one of its direct members, or the instance's own `type`).
fn intended_branch<'e>(at: &str, branches: &'e [Vec<ValidationError<'static>>]) -> Option<&'e [ValidationError<'static>]> {
    let mut candidates = branches.iter().filter(|branch| !branch.is_empty() && !branch.iter().any(|e| discriminates(at, e)));
    match (candidates.next(), candidates.next()) {
        (Some(only), None) => Some(only.as_slice()),
        _ => None,
    }
}

fn discriminates(at: &str, error: &ValidationError<'_>) -> bool {
    let path = error.instance_path().as_str();
    match error.kind() {
        ValidationErrorKind::Enum { .. } | ValidationErrorKind::Constant { .. } => {
            path == at || path.strip_prefix(at).and_then(|rest| rest.strip_prefix('/')).is_some_and(|member| !member.contains('/'))
        }
        ValidationErrorKind::Type { .. } => path == at,
        _ => false,
    }
}

/// Violations (flattened) that every branch reports identically, and whether they are all that
/// any branch reports.
fn common_violations(branches: &[Vec<ValidationError<'static>>]) -> (Vec<Violation>, bool) {
    let per_branch: Vec<Vec<Violation>> = branches
        .iter()
        .map(|branch| {
            let mut flat = Vec::new();
            for error in branch {
                push_schema_error(error, &mut flat);
            }
            flat
        })
        .collect();
    let Some((first, rest)) = per_branch.split_first() else {
        return (Vec::new(), false);
    };
    let mut common = first.clone();
    for other in rest {
        common.retain(|v| other.contains(v));
    }
    let explains_all = per_branch.iter().all(|branch| branch.iter().all(|v| common.contains(v)));
    (common, explains_all)
}

/// Orders JSON pointers segment by segment, array indexes numerically.
fn compare_pointers(a: &str, b: &str) -> Ordering {
    let mut left = a.split('/');
    let mut right = b.split('/');
    loop {
        match (left.next(), right.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let order = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(m), Ok(n)) => m.cmp(&n),
                    _ => x.cmp(y),
                };
                if order != Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

/// The official registry's rules beyond the schema, applied to whichever fields are strings.
fn official_rules(doc: &Value, out: &mut Vec<Violation>) {
    if let Some(Value::String(name)) = doc.get("name") {
        out.extend(validate_name(name).err().map(|v| v.at("/name")));
    }
    if let Some(Value::String(description)) = doc.get("description") {
        out.extend(validate_description(description).err().map(|v| v.at("/description")));
    }
    if let Some(Value::String(version)) = doc.get("version") {
        out.extend(validate_version(version).err().map(|v| v.at("/version")));
    }
    if let Some(Value::Array(remotes)) = doc.get("remotes") {
        for (index, remote) in remotes.iter().enumerate() {
            if let Some(Value::String(url)) = remote.get("url") {
                let checked = if url.contains('{') { validate_templated_url(url) } else { validate_endpoint_url(url) };
                out.extend(checked.err().map(|v| v.at(format!("/remotes/{index}/url"))));
            }
        }
    }
}

/// A remote URL with `{variable}` templates cannot be parsed before substitution: only its
/// scheme is checked.
fn validate_templated_url(u: &str) -> Result<(), Violation> {
    let lower = u.get(..8).unwrap_or(u).to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("http://") {
        Ok(())
    } else {
        Err(Violation::new(
            "",
            "endpoint-scheme",
            format!("remote URL template {u:?} must start with https:// (or http:// for a loopback host)"),
        ))
    }
}

/// Server name: `^[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+$`, 3 to 200 characters.
pub fn validate_name(name: &str) -> Result<(), Violation> {
    let chars = name.chars().count();
    if !(NAME_MIN_CHARS..=NAME_MAX_CHARS).contains(&chars) {
        return Err(Violation::new(
            "/name",
            "name-length",
            format!(
                "name must be {NAME_MIN_CHARS} to {NAME_MAX_CHARS} characters long (it has {chars}); \
                 use the form namespace/server, e.g. io.github.user/weather"
            ),
        ));
    }
    let well_formed = name.split_once('/').is_some_and(|(namespace, server)| {
        !namespace.is_empty()
            && !server.is_empty()
            && namespace.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
            && server.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-')
    });
    if well_formed {
        Ok(())
    } else {
        Err(Violation::new(
            "/name",
            "name-pattern",
            format!(
                "name {name:?} must look like namespace/server (e.g. io.github.user/weather): \
                 exactly one \"/\", letters, digits, \".\" and \"-\" before it, \
                 letters, digits, \".\", \"_\" and \"-\" after it"
            ),
        ))
    }
}

/// Description: 1 to 100 characters (not bytes).
pub fn validate_description(d: &str) -> Result<(), Violation> {
    let chars = d.chars().count();
    if chars == 0 {
        Err(Violation::new(
            "/description",
            "description-length",
            format!(
                "description must not be empty; write one line of at most \
                 {DESCRIPTION_MAX_CHARS} characters saying what the server does"
            ),
        ))
    } else if chars > DESCRIPTION_MAX_CHARS {
        Err(Violation::new(
            "/description",
            "description-length",
            format!("description has {chars} characters; shorten it to at most {DESCRIPTION_MAX_CHARS}"),
        ))
    } else {
        Ok(())
    }
}

/// Version: one specific version, at most 255 characters, never `latest` nor a range
/// (`^1.2`, `~1`, `>=1`, `1.x`, `1.*`, `1 - 2`, `1 || 2`), without whitespace.
pub fn validate_version(v: &str) -> Result<(), Violation> {
    let chars = v.chars().count();
    if chars == 0 {
        return Err(Violation::new("/version", "version-length", "version must not be empty; give a specific version such as 1.2.0"));
    }
    if chars > VERSION_MAX_CHARS {
        return Err(Violation::new(
            "/version",
            "version-length",
            format!("version has {chars} characters; shorten it to at most {VERSION_MAX_CHARS}"),
        ));
    }
    if v.eq_ignore_ascii_case("latest") {
        return Err(Violation::new("/version", "version-latest", "version \"latest\" is reserved; give a specific version such as 1.2.0"));
    }
    if looks_like_range(v) {
        return Err(Violation::new(
            "/version",
            "version-not-range",
            format!("version must be a specific version such as 1.2.0, not a range like ^1.2 (got {v:?})"),
        ));
    }
    if v.chars().any(char::is_whitespace) {
        return Err(Violation::new(
            "/version",
            "version-whitespace",
            format!("version {v:?} must not contain whitespace; give a specific version such as 1.2.0"),
        ));
    }
    Ok(())
}

fn looks_like_range(v: &str) -> bool {
    let trimmed = v.trim();
    trimmed.starts_with(['^', '~', '>', '<', '='])
        || trimmed.contains(" - ")
        || trimmed.contains("||")
        || trimmed.contains('*')
        || trimmed.split('.').any(|part| matches!(part.trim(), "x" | "X" | "*"))
}

/// An MCP endpoint URL acceptable to the authority: absolute http(s) URL with a host, no
/// userinfo; https required unless the host is loopback (localhost, *.localhost, 127.0.0.0/8,
/// `[::1]`). The violation's path is "" (the caller knows where the URL came from).
pub fn validate_endpoint_url(u: &str) -> Result<(), Violation> {
    let example = "give a full URL such as https://mcp.example.com/mcp";
    if u.is_empty() || u.chars().any(char::is_whitespace) {
        return Err(Violation::new(
            "",
            "endpoint-url",
            format!("endpoint URL {u:?} must be non-empty and contain no whitespace; {example}"),
        ));
    }
    let parsed = url::Url::parse(u)
        .map_err(|e| Violation::new("", "endpoint-url", format!("endpoint URL {u:?} is not a valid absolute URL ({e}); {example}")))?;
    let scheme = parsed.scheme();
    if scheme != "https" && scheme != "http" {
        return Err(Violation::new(
            "",
            "endpoint-scheme",
            format!(
                "endpoint URL {u:?} uses the {scheme}: scheme; an MCP endpoint must be https:// \
                 (or http:// for a loopback host)"
            ),
        ));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Violation::new(
            "",
            "endpoint-userinfo",
            "endpoint URL must not contain a user name or password; remove the \"user:password@\" \
             part and pass credentials in headers instead",
        ));
    }
    let Some(host) = parsed.host() else {
        return Err(Violation::new("", "endpoint-url", format!("endpoint URL {u:?} has no host; {example}")));
    };
    if scheme == "http" && !is_loopback_host(&host) {
        return Err(Violation::new(
            "",
            "endpoint-https",
            format!(
                "endpoint URL {u:?} uses plain http; use https:// (plain http is only allowed \
                 for loopback hosts: localhost, 127.0.0.1 or [::1])"
            ),
        ));
    }
    Ok(())
}

/// Whether `host` is a loopback host: `localhost`, any `*.localhost`, 127.0.0.0/8, `::1` (also
/// as the IPv4-mapped `::ffff:127.x.y.z`).
pub fn is_loopback_host(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(domain) => {
            let domain = domain.strip_suffix('.').unwrap_or(domain).to_ascii_lowercase();
            domain == "localhost" || domain.ends_with(".localhost")
        }
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
    }
}

/// URL of the first `remotes[]` entry whose `type` is "streamable-http", if any.
pub fn streamable_http_endpoint(doc: &Value) -> Option<String> {
    doc.get("remotes")?
        .as_array()?
        .iter()
        .filter(|remote| remote.get("type").and_then(Value::as_str) == Some("streamable-http"))
        .find_map(|remote| remote.get("url").and_then(Value::as_str))
        .map(str::to_owned)
}

/// Every remote URL in the document (for the "a remote URL belongs to one server" check done by
/// the store), in document order.
pub fn remote_urls(doc: &Value) -> Vec<String> {
    doc.get("remotes")
        .and_then(Value::as_array)
        .map(|remotes| remotes.iter().filter_map(|remote| remote.get("url").and_then(Value::as_str)).map(str::to_owned).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SEED: &str = include_str!("../../tests/fixtures/seed.json");
    const SCHEMA_2025_09_29: &str = "https://static.modelcontextprotocol.io/schemas/2025-09-29/server.schema.json";

    fn minimal(schema: &str) -> Value {
        json!({
            "$schema": schema,
            "name": "io.github.example/weather",
            "description": "Weather forecasts over MCP",
            "version": "1.2.0",
            "remotes": [
                {"type": "streamable-http", "url": "https://mcp.example.com/mcp"}
            ]
        })
    }

    fn violations(doc: &Value) -> Vec<Violation> {
        validate_document(doc).err().unwrap_or_default()
    }

    fn has(found: &[Violation], path: &str, rule: &str) -> bool {
        found.iter().any(|v| v.path == path && v.rule == rule)
    }

    fn rule_of(result: Result<(), Violation>) -> Option<String> {
        result.err().map(|v| v.rule)
    }

    #[test]
    fn seed_documents_are_valid() -> Result<(), String> {
        let seed: Value = serde_json::from_str(SEED).map_err(|e| e.to_string())?;
        let docs = seed.as_array().ok_or("seed.json is not an array")?;
        assert_eq!(docs.len(), 4);
        for doc in docs {
            assert_eq!(validate_document(doc), Ok(()), "{doc}");
            assert_eq!(streamable_http_endpoint(doc), None);
            assert!(remote_urls(doc).is_empty());
        }
        Ok(())
    }

    #[test]
    fn every_embedded_schema_compiles_and_names_its_id() -> Result<(), String> {
        let ids = known_schemas();
        assert_eq!(ids.len(), 6);
        assert_eq!(ids.last().copied(), Some(CURRENT_SCHEMA));
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, ids, "oldest first");
        for id in ids {
            let source = embedded_schema(id).ok_or("missing source")?;
            let schema: Value = serde_json::from_str(source).map_err(|e| e.to_string())?;
            assert_eq!(schema.get("$id").and_then(Value::as_str), Some(id));
            match validator_for(id) {
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(format!("{id}: {e}")),
                None => return Err(format!("{id}: unknown")),
            }
        }
        assert!(embedded_schema(&format!("{CURRENT_SCHEMA}#")).is_some());
        assert!(embedded_schema("https://example.com/schema.json").is_none());
        Ok(())
    }

    #[test]
    fn minimal_streamable_http_document_is_valid() {
        let doc = minimal(CURRENT_SCHEMA);
        assert_eq!(validate_document(&doc), Ok(()));
        assert_eq!(streamable_http_endpoint(&doc).as_deref(), Some("https://mcp.example.com/mcp"));
        assert_eq!(remote_urls(&doc), vec!["https://mcp.example.com/mcp"]);
    }

    #[test]
    fn sse_only_document_has_no_streamable_http_endpoint() {
        let mut doc = minimal(CURRENT_SCHEMA);
        doc["remotes"] = json!([
            {"type": "sse", "url": "https://mcp.example.com/sse"},
            {"type": "sse", "url": "https://backup.example.com/sse"}
        ]);
        assert_eq!(validate_document(&doc), Ok(()));
        assert_eq!(streamable_http_endpoint(&doc), None);
        assert_eq!(remote_urls(&doc), vec!["https://mcp.example.com/sse", "https://backup.example.com/sse"]);
    }

    #[test]
    fn first_streamable_http_remote_wins() {
        let mut doc = minimal(CURRENT_SCHEMA);
        doc["remotes"] = json!([
            {"type": "sse", "url": "https://a.example.com/sse"},
            {"type": "streamable-http", "url": "https://b.example.com/mcp"},
            {"type": "streamable-http", "url": "https://c.example.com/mcp"}
        ]);
        assert_eq!(streamable_http_endpoint(&doc).as_deref(), Some("https://b.example.com/mcp"));
    }

    #[test]
    fn names() {
        assert_eq!(validate_name("io.github.user/weather"), Ok(()));
        assert_eq!(validate_name("a/b"), Ok(()));
        assert_eq!(validate_name("com.example-co/my_server.v2"), Ok(()));
        assert_eq!(rule_of(validate_name("example-server")).as_deref(), Some("name-pattern"));
        let long = format!("io.example/{}", "a".repeat(190));
        assert_eq!(rule_of(validate_name(&long)).as_deref(), Some("name-length"));
        assert_eq!(rule_of(validate_name("abc/")).as_deref(), Some("name-pattern"));
        assert_eq!(rule_of(validate_name("ab")).as_deref(), Some("name-length"));
        for bad in ["io.example/we ather", "io_example/weather", "io.example/a/b", "/weather", "io.example/wéather"] {
            let v = validate_name(bad).err();
            assert_eq!(v.as_ref().map(|v| v.rule.as_str()), Some("name-pattern"), "{bad}");
            assert_eq!(v.map(|v| v.path), Some("/name".to_owned()));
        }
    }

    #[test]
    fn descriptions() {
        assert_eq!(rule_of(validate_description("")).as_deref(), Some("description-length"));
        assert_eq!(rule_of(validate_description(&"a".repeat(101))).as_deref(), Some("description-length"));
        assert_eq!(validate_description(&"a".repeat(100)), Ok(()));
        let multibyte = "é".repeat(100);
        assert_eq!(multibyte.len(), 200);
        assert_eq!(validate_description(&multibyte), Ok(()));
        assert_eq!(validate_description(&"日".repeat(100)), Ok(()));
        assert!(validate_description(&"日".repeat(101)).is_err());
    }

    #[test]
    fn versions() {
        for bad in ["latest", "^1.2", "~1", ">=1", "<2", "=1.0.0", "1.x", "1.*", "1.X.3", "*", "1.2.3 - 2", "1.2 || 1.3"] {
            let v = validate_version(bad).err();
            assert!(v.is_some(), "{bad} accepted");
        }
        assert_eq!(rule_of(validate_version("^1.2")).as_deref(), Some("version-not-range"));
        assert_eq!(rule_of(validate_version("1.2.3 - 2")).as_deref(), Some("version-not-range"));
        assert_eq!(rule_of(validate_version("latest")).as_deref(), Some("version-latest"));
        assert_eq!(rule_of(validate_version("")).as_deref(), Some("version-length"));
        assert_eq!(rule_of(validate_version(&"1".repeat(256))).as_deref(), Some("version-length"));
        assert_eq!(rule_of(validate_version("1.0 beta")).as_deref(), Some("version-whitespace"));
        for good in ["1.2.0", "2025-01-01", "v1", "2.1.0-alpha", "1.0.0+build.5", "0.0.1-rc.x1"] {
            assert_eq!(validate_version(good), Ok(()), "{good}");
        }
        assert_eq!(validate_version(&"1".repeat(255)), Ok(()));
        let message = validate_version("^1.2").err().map(|v| v.message).unwrap_or_default();
        assert!(message.contains("specific version such as 1.2.0"), "{message}");
    }

    #[test]
    fn endpoints() {
        for good in [
            "https://mcp.example.com/mcp",
            "http://127.0.0.1:9000/mcp",
            "http://127.8.9.10/mcp",
            "http://localhost/mcp",
            "http://LOCALHOST:8080/mcp",
            "http://api.localhost/mcp",
            "http://[::1]/mcp",
            "http://[::1]:3000/mcp",
        ] {
            assert_eq!(validate_endpoint_url(good), Ok(()), "{good}");
        }
        let cases = [
            ("http://example.com", "endpoint-https"),
            ("http://128.0.0.1/mcp", "endpoint-https"),
            ("http://localhost.example.com/mcp", "endpoint-https"),
            ("https://user:pw@x.dev", "endpoint-userinfo"),
            ("https://user@x.dev", "endpoint-userinfo"),
            ("ftp://x", "endpoint-scheme"),
            ("file:///etc/passwd", "endpoint-scheme"),
            ("mcp.example.com/mcp", "endpoint-url"),
            ("", "endpoint-url"),
            ("https://exa mple.com", "endpoint-url"),
            (" https://example.com", "endpoint-url"),
        ];
        for (bad, rule) in cases {
            assert_eq!(rule_of(validate_endpoint_url(bad)).as_deref(), Some(rule), "{bad}");
        }
    }

    #[test]
    fn loopback_hosts() {
        use std::net::{Ipv4Addr, Ipv6Addr};
        assert!(is_loopback_host(&url::Host::Domain("localhost")));
        assert!(is_loopback_host(&url::Host::Domain("localhost.")));
        assert!(is_loopback_host(&url::Host::Domain("a.b.LocalHost")));
        assert!(!is_loopback_host(&url::Host::Domain("notlocalhost")));
        assert!(!is_loopback_host(&url::Host::Domain("localhost.evil.com")));
        assert!(is_loopback_host(&url::Host::Ipv4(Ipv4Addr::new(127, 0, 0, 1))));
        assert!(is_loopback_host(&url::Host::Ipv4(Ipv4Addr::new(127, 255, 1, 2))));
        assert!(!is_loopback_host(&url::Host::Ipv4(Ipv4Addr::new(10, 0, 0, 1))));
        assert!(is_loopback_host(&url::Host::Ipv6(Ipv6Addr::LOCALHOST)));
        assert!(is_loopback_host(&url::Host::Ipv6(Ipv4Addr::new(127, 0, 0, 1).to_ipv6_mapped())));
        assert!(!is_loopback_host(&url::Host::Ipv6(Ipv6Addr::UNSPECIFIED)));
    }

    #[test]
    fn missing_schema_is_reported() {
        let mut doc = minimal(CURRENT_SCHEMA);
        if let Some(map) = doc.as_object_mut() {
            map.remove("$schema");
        }
        let found = violations(&doc);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(has(&found, "/$schema", "schema-missing"));
        assert!(found[0].message.contains(CURRENT_SCHEMA));
    }

    #[test]
    fn unknown_schema_lists_known_ones() {
        let found = violations(&minimal("https://example.com/server.schema.json"));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(has(&found, "/$schema", "unknown-schema"));
        for id in known_schemas() {
            assert!(found[0].message.contains(id), "{}", found[0].message);
        }
        let found = violations(&json!({"$schema": 7, "name": "a/b", "description": "d", "version": "1"}));
        assert!(has(&found, "/$schema", "unknown-schema"));
    }

    #[test]
    fn official_rules_still_apply_without_a_schema() {
        let found = violations(&json!({"name": "bad", "description": "d", "version": "latest"}));
        assert!(has(&found, "/$schema", "schema-missing"));
        assert!(has(&found, "/name", "name-pattern"));
        assert!(has(&found, "/version", "version-latest"));
    }

    #[test]
    fn document_valid_under_an_old_schema() {
        let doc = json!({
            "$schema": SCHEMA_2025_09_29,
            "name": "io.github.example/legacy",
            "description": "An older server.json",
            "version": "0.3.1",
            "websiteUrl": "https://example.com/legacy",
            "repository": {"url": "https://github.com/example/legacy", "source": "github"},
            "packages": [{
                "registryType": "npm",
                "identifier": "@example/legacy",
                "version": "0.3.1",
                "transport": {"type": "stdio"}
            }],
            "remotes": [{"type": "sse", "url": "https://legacy.example.com/sse"}]
        });
        assert_eq!(validate_document(&doc), Ok(()));
        // The 2025-09-29 schema requires a package version; the current one does not.
        let mut no_pkg_version = doc.clone();
        if let Some(pkg) = no_pkg_version["packages"][0].as_object_mut() {
            pkg.remove("version");
        }
        let found = violations(&no_pkg_version);
        assert!(has(&found, "/packages/0", "schema:required"), "{found:?}");
        no_pkg_version["$schema"] = json!(CURRENT_SCHEMA);
        assert_eq!(validate_document(&no_pkg_version), Ok(()));
    }

    #[test]
    fn remote_without_url_is_required_at_the_remote() {
        for schema in [CURRENT_SCHEMA, SCHEMA_2025_09_29] {
            for kind in ["streamable-http", "sse"] {
                let mut doc = minimal(schema);
                doc["remotes"] = json!([{"type": kind}]);
                let found = violations(&doc);
                assert_eq!(found.len(), 1, "{schema} {kind}: {found:?}");
                assert!(has(&found, "/remotes/0", "schema:required"), "{found:?}");
                assert!(found[0].message.contains("url"), "{found:?}");
            }
        }
    }

    #[test]
    fn remote_with_neither_type_nor_url_reports_both() {
        let mut doc = minimal(CURRENT_SCHEMA);
        doc["remotes"] = json!([{}]);
        let found = violations(&doc);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found.iter().all(|v| v.path == "/remotes/0" && v.rule == "schema:required"));
    }

    #[test]
    fn remote_of_unknown_type_reports_the_any_of() {
        let mut doc = minimal(CURRENT_SCHEMA);
        doc["remotes"] = json!([{"type": "websocket", "url": "wss://x.example.com"}]);
        let found = violations(&doc);
        assert!(has(&found, "/remotes/0", "schema:anyOf"), "{found:?}");
        assert!(has(&found, "/remotes/0/url", "schema:pattern"), "{found:?}");
        assert!(has(&found, "/remotes/0/url", "endpoint-scheme"), "{found:?}");
        assert_eq!(found.len(), 3, "{found:?}");
    }

    #[test]
    fn wrong_types_point_at_the_field() {
        let mut doc = minimal(CURRENT_SCHEMA);
        doc["description"] = json!(42);
        let found = violations(&doc);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(has(&found, "/description", "schema:type"));

        let mut doc = minimal(CURRENT_SCHEMA);
        doc["remotes"][0]["url"] = json!(5);
        let found = violations(&doc);
        assert!(has(&found, "/remotes/0/url", "schema:type"), "{found:?}");
    }

    #[test]
    fn formats_are_checked() {
        let mut doc = minimal(CURRENT_SCHEMA);
        doc["websiteUrl"] = json!("not a url");
        let found = violations(&doc);
        assert!(has(&found, "/websiteUrl", "schema:format"), "{found:?}");
    }

    #[test]
    fn http_remote_is_rejected_in_a_document() {
        let mut doc = minimal(CURRENT_SCHEMA);
        doc["remotes"] = json!([
            {"type": "sse", "url": "https://ok.example.com/sse"},
            {"type": "streamable-http", "url": "http://mcp.example.com/mcp"}
        ]);
        let found = violations(&doc);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(has(&found, "/remotes/1/url", "endpoint-https"));
        doc["remotes"][1]["url"] = json!("http://localhost:8080/mcp");
        assert_eq!(validate_document(&doc), Ok(()));
    }

    #[test]
    fn templated_remote_urls_only_need_an_http_scheme() {
        let mut doc = minimal(CURRENT_SCHEMA);
        doc["remotes"] = json!([{
            "type": "streamable-http",
            "url": "https://{tenant}.example.com/mcp",
            "variables": {"tenant": {"description": "Your tenant", "isRequired": true}}
        }]);
        assert_eq!(validate_document(&doc), Ok(()));
        doc["remotes"][0]["url"] = json!("http://{host}/mcp");
        assert_eq!(validate_document(&doc), Ok(()));
        doc["remotes"][0]["url"] = json!("ftp://{host}/mcp");
        let found = violations(&doc);
        assert!(has(&found, "/remotes/0/url", "endpoint-scheme"), "{found:?}");
    }

    #[test]
    fn multiple_violations_are_all_reported() {
        let doc = json!({
            "$schema": CURRENT_SCHEMA,
            "name": "no slash here",
            "description": "x".repeat(101),
            "version": "^1.2",
            "websiteUrl": "nope",
            "remotes": [
                {"type": "streamable-http", "url": "http://mcp.example.com/mcp"},
                {"type": "sse"}
            ]
        });
        let found = violations(&doc);
        for (path, rule) in [
            ("/name", "schema:pattern"),
            ("/description", "schema:maxLength"),
            ("/websiteUrl", "schema:format"),
            ("/remotes/1", "schema:required"),
            ("/name", "name-pattern"),
            ("/description", "description-length"),
            ("/version", "version-not-range"),
            ("/remotes/0/url", "endpoint-https"),
        ] {
            assert!(has(&found, path, rule), "{path} {rule}: {found:?}");
        }
        assert_eq!(found.len(), 8, "{found:?}");
        let first_official = found.iter().position(|v| !v.rule.starts_with("schema:")).unwrap_or(found.len());
        assert!(found[first_official..].iter().all(|v| !v.rule.starts_with("schema:")));
        let schema_paths: Vec<&str> = found[..first_official].iter().map(|v| v.path.as_str()).collect();
        assert_eq!(schema_paths, ["/description", "/name", "/remotes/1", "/websiteUrl"]);
    }

    #[test]
    fn missing_required_fields_are_schema_violations_at_the_root() {
        let found = violations(&json!({"$schema": CURRENT_SCHEMA}));
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found.iter().all(|v| v.path.is_empty() && v.rule == "schema:required"));
    }

    #[test]
    fn non_object_document() {
        let found = violations(&json!([1, 2]));
        assert_eq!(found.len(), 1);
        assert!(has(&found, "", "document-type"));
    }

    #[test]
    fn display_and_serialize() -> Result<(), String> {
        let root = Violation::new("", "schema:required", "\"name\" is a required property");
        assert_eq!(root.to_string(), "/: \"name\" is a required property (rule schema:required)");
        let v = Violation::new("/remotes/0/url", "endpoint-https", "use https");
        assert_eq!(v.to_string(), "/remotes/0/url: use https (rule endpoint-https)");
        let json = serde_json::to_value(&v).map_err(|e| e.to_string())?;
        assert_eq!(json, json!({"path": "/remotes/0/url", "rule": "endpoint-https", "message": "use https"}));
        Ok(())
    }

    #[test]
    fn pointer_order_is_numeric_for_indexes() {
        assert_eq!(compare_pointers("/remotes/2", "/remotes/10"), Ordering::Less);
        assert_eq!(compare_pointers("", "/a"), Ordering::Less);
        assert_eq!(compare_pointers("/a/b", "/a"), Ordering::Greater);
    }
}
