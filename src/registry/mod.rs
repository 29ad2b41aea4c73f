//! The registry side of the authority: official `server.json` documents and their rules.

pub mod catalog;
pub mod validate;

use serde_json::{json, Value};

use crate::{Error, Result};

/// Fields of `server add NAME --url URL …`.
#[derive(Debug, Clone, Default)]
pub struct ServerFlags {
    pub name: String,
    pub url: String,
    pub version: Option<String>,
    pub description: Option<String>,
    pub title: Option<String>,
}

/// Version used when `server add` names none.
pub const DEFAULT_VERSION: &str = "1.0.0";

/// Build a server.json (current schema) with one `streamable-http` remote.
pub fn document_from_flags(f: &ServerFlags) -> Value {
    let short = f.name.rsplit('/').next().unwrap_or(&f.name);
    let description = f.description.clone().unwrap_or_else(|| {
        let d = format!("MCP server {short}");
        d.chars().take(validate::DESCRIPTION_MAX_CHARS).collect()
    });
    let mut doc = json!({
        "$schema": validate::CURRENT_SCHEMA,
        "name": f.name,
        "description": description,
        "version": f.version.clone().unwrap_or_else(|| DEFAULT_VERSION.into()),
        "remotes": [{"type": "streamable-http", "url": f.url}],
    });
    if let (Some(t), Some(obj)) = (&f.title, doc.as_object_mut()) {
        obj.insert("title".into(), Value::String(t.clone()));
    }
    doc
}

/// Validate a document, turning every violation into one error that lists them all.
pub fn check_document(doc: &Value) -> Result<()> {
    validate::validate_document(doc).map_err(|violations| {
        let lines: Vec<String> = violations.iter().map(|v| format!("  {v}")).collect();
        Error::Invalid {
            message: format!(
                "the server.json is not valid ({} problem{}):\n{}",
                lines.len(),
                if lines.len() == 1 { "" } else { "s" },
                lines.join("\n")
            ),
            hint: Some(format!(
                "fix the fields named above; documents are checked against the official schema their $schema names (newest: {})",
                validate::CURRENT_SCHEMA
            )),
        }
    })
}
