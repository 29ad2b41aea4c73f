//! Registering and moderating servers in the local registry.

use super::LocalAuthority;
use crate::authority::{RevokeReport, ServerInput, ServerRefArg};
use crate::clock::rfc3339;
use crate::descriptor::canonical_url;
use crate::model::{AuthorityFields, ImportEntry, ImportStatus, RevocationKind, ServerDetail, ServerEntry, Status, VersionSummary};
use crate::registry::{check_document, validate};
use crate::store::{ImportOutcome, NewRevocation, NewServerVersion, ServerFilter, ServerRow, ServerUpdate, ServerVersionRow, StatusChange};
use crate::{Error, Result};

/// The wire form of a stored version.
pub(crate) fn entry(row: &ServerRow) -> Result<ServerEntry> {
    let server = serde_json::value::RawValue::from_string(row.version.document.clone())
        .map_err(|e| Error::Store(format!("stored document of {}@{} is not JSON: {e}", row.version.name, row.version.version)))?;
    let (n, v) = (&row.name, &row.version);
    // The reason and time shown are those of the status in force; when name and version have
    // the same status, those of the latest change.
    let version_rules = v.status > n.status || (v.status == n.status && v.status_changed_at >= n.status_changed_at);
    let (reason, changed) = if version_rules { (&v.status_reason, v.status_changed_at) } else { (&n.status_reason, n.status_changed_at) };
    Ok(ServerEntry::new(
        row.version.name.clone(),
        row.version.version.clone(),
        server,
        AuthorityFields {
            status: Status::effective(n.status, v.status),
            status_reason: reason.clone(),
            status_changed_at: rfc3339(changed),
            name_status: n.status,
            version_status: v.status,
            name_status_reason: n.status_reason.clone(),
            version_status_reason: v.status_reason.clone(),
            verified: n.verified,
            max_ttl: n.max_ttl,
            endpoint: v.endpoint.clone(),
            is_latest: v.is_latest,
            published_at: rfc3339(v.published_at),
            updated_at: rfc3339(v.updated_at.max(n.updated_at)),
        },
    ))
}

fn field(doc: &serde_json::Value, k: &str) -> String {
    doc.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_owned()
}

/// A validated document as a version to store.
fn new_version(
    doc: &serde_json::Value,
    verified: Option<bool>,
    max_ttl: Option<crate::duration::Dur>,
    now: i64,
) -> Result<NewServerVersion> {
    let (name, version) = (field(doc, "name"), field(doc, "version"));
    let remote_urls = validate::remote_urls(doc).iter().filter_map(|u| canonical_url(u).ok()).collect();
    let row = ServerVersionRow {
        name: name.clone(),
        version: version.clone(),
        document: serde_json::to_string(doc).map_err(|e| Error::Store(e.to_string()))?,
        endpoint: validate::streamable_http_endpoint(doc),
        status: Status::Active,
        status_reason: None,
        status_changed_at: now,
        published_at: now,
        updated_at: now,
        is_latest: false,
    };
    Ok(NewServerVersion { version: row, remote_urls, verified, max_ttl })
}

pub(super) async fn add(a: &LocalAuthority, input: ServerInput) -> Result<ServerEntry> {
    check_document(&input.document)?;
    let doc = &input.document;
    let (name, version) = (field(doc, "name"), field(doc, "version"));
    let new = new_version(doc, input.verified, input.max_ttl, a.now())?;
    let event = a.event("server.add", format!("{name}@{version}"));
    a.store.add_server_version(new, event).await?;
    let stored = a.store.get_server(&name, Some(&version)).await?.ok_or_else(|| Error::Store("added server vanished".into()))?;
    entry(&stored)
}

pub(super) async fn list(a: &LocalAuthority, filter: &ServerFilter) -> Result<Vec<ServerEntry>> {
    a.store.list_servers(filter).await?.iter().map(entry).collect()
}

fn not_found(s: &ServerRefArg) -> Error {
    Error::NotFound { what: "server", id: s.to_string() }
}

/// The version an issuance is for: the one named, else the latest; for a name whose versions
/// are all deleted, the newest version (so the decision says `server_revoked`, not "not found").
pub(super) async fn find_for_issue(a: &LocalAuthority, s: &ServerRefArg) -> Result<Option<ServerRow>> {
    if let Some(row) = a.store.get_server(&s.name, s.version.as_deref()).await? {
        return Ok(Some(row));
    }
    if s.version.is_some() {
        return Ok(None);
    }
    Ok(a.store.list_versions(&s.name).await?.pop())
}

pub(super) async fn show(a: &LocalAuthority, s: &ServerRefArg) -> Result<ServerDetail> {
    let row = find_for_issue(a, s).await?.ok_or_else(|| not_found(s))?;
    let versions = a
        .store
        .list_versions(&s.name)
        .await?
        .iter()
        .map(|r| VersionSummary {
            version: r.version.version.clone(),
            status: Status::effective(r.name.status, r.version.status),
            is_latest: r.version.is_latest,
            published_at: rfc3339(r.version.published_at),
        })
        .collect();
    Ok(ServerDetail { entry: entry(&row)?, versions })
}

pub(super) async fn update(a: &LocalAuthority, name: &str, update: ServerUpdate) -> Result<ServerDetail> {
    if update.verified.is_none() && update.max_ttl.is_none() {
        return Err(Error::invalid(
            "nothing to update",
            "give --verified, --unverified, --max-ttl DUR or --no-max-ttl (published versions are immutable; add a new version to change the document)",
        ));
    }
    let event = a.event("server.update", name).details(serde_json::json!({
        "verified": update.verified,
        "max_ttl": update.max_ttl.map(|t| t.map(|d| d.to_string())),
    }));
    a.store.update_server(name, update, a.now(), event).await?;
    show(a, &ServerRefArg { name: name.to_owned(), version: None }).await
}

/// A revocation entry for a server name or version: it must outlive every descriptor issued so far.
fn server_revocation(a: &LocalAuthority, s: &ServerRefArg, now: i64, reason: Option<String>) -> NewRevocation {
    NewRevocation { kind: RevocationKind::Server, id: s.to_string(), revoked_at: now, expires_at: now + a.max_validity(), reason }
}

pub(super) async fn set_status(a: &LocalAuthority, s: &ServerRefArg, status: Status, reason: Option<String>) -> Result<ServerDetail> {
    let now = a.now();
    let revocation = (status == Status::Revoked).then(|| server_revocation(a, s, now, reason.clone()));
    let event = a.event(&format!("server.{status}"), s.to_string()).details(serde_json::json!({ "reason": reason }));
    let change = StatusChange { name: s.name.clone(), version: s.version.clone(), status, reason, at: now };
    a.store.set_status(change, revocation, event).await.map_err(|e| match e {
        Error::NotFound { .. } => not_found(s),
        e => e,
    })?;
    show(a, s).await
}

pub(super) async fn revoke(a: &LocalAuthority, s: &ServerRefArg, reason: Option<String>) -> Result<RevokeReport> {
    let now = a.now();
    let entry = server_revocation(a, s, now, reason.clone());
    let event = a.event("server.revoked", s.to_string()).details(serde_json::json!({ "reason": reason }));
    let change = StatusChange { name: s.name.clone(), version: s.version.clone(), status: Status::Revoked, reason, at: now };
    a.store.set_status(change, Some(entry.clone()), event).await.map_err(|e| match e {
        Error::NotFound { .. } => not_found(s),
        e => e,
    })?;
    let revocation = super::issue::find_revocation(a, &entry).await?;
    Ok(RevokeReport { revocation, activated: None })
}

pub(super) async fn import(a: &LocalAuthority, documents: Vec<(String, serde_json::Value)>, dry_run: bool) -> Result<Vec<ImportEntry>> {
    let now = a.now();
    let mut entries: Vec<Option<ImportEntry>> = Vec::with_capacity(documents.len());
    let mut batch = Vec::new();
    let mut slots = Vec::new();
    for (source, doc) in documents {
        let (name, version) = (field(&doc, "name"), field(&doc, "version"));
        match validate::validate_document(&doc) {
            Err(violations) => {
                let reason = violations.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
                entries.push(Some(ImportEntry { source, name, version, status: ImportStatus::Invalid, reason: Some(reason) }));
            }
            Ok(()) => {
                let event = a.event("server.import", format!("{name}@{version}"));
                batch.push((new_version(&doc, None, None, now)?, event));
                slots.push(entries.len());
                entries.push(Some(ImportEntry { source, name, version, status: ImportStatus::Imported, reason: None }));
            }
        }
    }
    let outcomes = a.store.import_versions(batch, dry_run).await?;
    for (slot, outcome) in slots.into_iter().zip(outcomes) {
        if let Some(e) = entries[slot].as_mut() {
            (e.status, e.reason) = match outcome {
                ImportOutcome::Imported => (ImportStatus::Imported, None),
                ImportOutcome::Unchanged => (ImportStatus::Unchanged, None),
                ImportOutcome::DuplicateVersion => {
                    (ImportStatus::DuplicateVersion, Some("this version exists with a different document (versions are immutable)".into()))
                }
                ImportOutcome::UrlConflict(why) => (ImportStatus::Invalid, Some(format!("remote URL {why}"))),
            };
        }
    }
    Ok(entries.into_iter().flatten().collect())
}
