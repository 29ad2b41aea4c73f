//! One story every `Store` backend must tell the same way (atuin's `db_story`). The SQLite
//! run is here; the PostgreSQL backend runs the same function.

use mcpca::audit::NewAuditEvent;
use mcpca::duration::Dur;
use mcpca::model::{RevocationKind, Status};
use mcpca::store::{NewRevocation, NewServerVersion, ServerFilter, ServerUpdate, ServerVersionRow, SqliteStore, StatusChange, Store};
use mcpca::Error;

fn ev(action: &str, target: &str) -> NewAuditEvent {
    NewAuditEvent::new(1, "operator", action, target)
}

fn version(name: &str, v: &str, at: i64, url: &str) -> NewServerVersion {
    NewServerVersion {
        version: ServerVersionRow {
            name: name.into(),
            version: v.into(),
            document: format!(r#"{{"name":"{name}","version":"{v}"}}"#),
            endpoint: Some(url.into()),
            status: Status::Active,
            status_reason: None,
            status_changed_at: at,
            published_at: at,
            updated_at: at,
            is_latest: false,
        },
        remote_urls: vec![url.into()],
        verified: None,
        max_ttl: None,
    }
}

async fn latest(s: &dyn Store, name: &str) -> Option<String> {
    s.get_server(name, None).await.unwrap().map(|r| r.version.version)
}

/// The story: versions, latest by semver, immutability, URL ownership, statuses, filters,
/// authority fields, revocations.
pub async fn story(s: &dyn Store) {
    let w = "io.github.acme/weather";
    s.add_server_version(version(w, "1.9.0", 1, "https://w.acme.dev/mcp"), ev("server.add", "x")).await.unwrap();
    s.add_server_version(version(w, "1.10.0", 2, "https://w.acme.dev/mcp"), ev("server.add", "x")).await.unwrap();
    s.add_server_version(version(w, "1.2.0", 3, "https://w.acme.dev/mcp"), ev("server.add", "x")).await.unwrap();
    assert_eq!(latest(s, w).await.as_deref(), Some("1.10.0"), "semver order, not insertion order");

    // Published versions are immutable.
    let dup = s.add_server_version(version(w, "1.9.0", 4, "https://w.acme.dev/mcp"), ev("server.add", "x")).await.unwrap_err();
    assert!(matches!(dup, Error::Conflict { .. }), "{dup}");
    // A remote URL belongs to one server.
    let taken =
        s.add_server_version(version("io.github.other/x", "1.0.0", 5, "https://w.acme.dev/mcp"), ev("server.add", "x")).await.unwrap_err();
    assert!(matches!(taken, Error::Conflict { .. }), "{taken}");
    assert!(s.get_server("io.github.other/x", None).await.unwrap().is_none(), "a refused add leaves nothing behind");

    s.add_server_version(version("io.github.acme/maps", "0.1.0", 6, "https://maps.acme.dev/mcp"), ev("server.add", "x")).await.unwrap();
    let all = s.list_servers(&ServerFilter::default()).await.unwrap();
    assert_eq!(all.len(), 4);
    let search = ServerFilter { search: Some("MAPS".into()), ..Default::default() };
    assert_eq!(s.list_servers(&search).await.unwrap().len(), 1);
    let latest_only = ServerFilter { latest_only: true, ..Default::default() };
    assert_eq!(s.list_servers(&latest_only).await.unwrap().len(), 2);

    // Deleting the latest version moves "latest" to the next highest; deleted is hidden.
    let del = StatusChange { name: w.into(), version: Some("1.10.0".into()), status: Status::Deleted, reason: None, at: 7 };
    s.set_status(del, None, ev("server.deleted", "x")).await.unwrap();
    assert_eq!(latest(s, w).await.as_deref(), Some("1.9.0"));
    assert_eq!(s.list_servers(&ServerFilter::default()).await.unwrap().len(), 3);
    let with_deleted = ServerFilter { include_deleted: true, ..Default::default() };
    assert_eq!(s.list_servers(&with_deleted).await.unwrap().len(), 4);

    // Name-level status applies to every version, and is what a status filter sees.
    let sus = StatusChange { name: w.into(), version: None, status: Status::Suspended, reason: Some("abuse".into()), at: 8 };
    s.set_status(sus, None, ev("server.suspended", "x")).await.unwrap();
    let suspended = ServerFilter { status: Some(Status::Suspended), ..Default::default() };
    assert_eq!(s.list_servers(&suspended).await.unwrap().len(), 2);
    let row = s.get_server(w, Some("1.2.0")).await.unwrap().unwrap();
    assert_eq!(Status::effective(row.name.status, row.version.status), Status::Suspended);
    assert_eq!(row.name.status_reason.as_deref(), Some("abuse"));

    // Unknown names are reported, not silently ignored.
    let ghost = StatusChange { name: "nobody/none".into(), version: None, status: Status::Revoked, reason: None, at: 9 };
    assert!(matches!(s.set_status(ghost, None, ev("server.revoked", "x")).await.unwrap_err(), Error::NotFound { .. }));

    // Authority fields.
    s.update_server(w, ServerUpdate { verified: Some(true), max_ttl: Some(Some(Dur(300))) }, 10, ev("server.update", "x")).await.unwrap();
    let row = s.get_server(w, None).await.unwrap().unwrap();
    assert!(row.name.verified);
    assert_eq!(row.name.max_ttl, Some(Dur(300)));
    s.update_server(w, ServerUpdate { verified: None, max_ttl: Some(None) }, 11, ev("server.update", "x")).await.unwrap();
    assert_eq!(s.get_server(w, None).await.unwrap().unwrap().name.max_ttl, None);

    // Revocations get increasing sequence numbers; `since` filters.
    let rev = |id: &str| NewRevocation { kind: RevocationKind::Jti, id: id.into(), revoked_at: 12, expires_at: 100, reason: None };
    let a = s.add_revocation(rev("a"), ev("revoke.jti", "a")).await.unwrap();
    let b = s.add_revocation(rev("b"), ev("revoke.jti", "b")).await.unwrap();
    assert!(b > a);
    let after_a = s.list_revocations(a).await.unwrap();
    assert_eq!(after_a.len(), 1);
    assert_eq!(after_a[0].id, "b");

    // A status change and its revocation are one transaction.
    let revoke = StatusChange { name: "io.github.acme/maps".into(), version: None, status: Status::Revoked, reason: None, at: 13 };
    let entry =
        NewRevocation { kind: RevocationKind::Server, id: "io.github.acme/maps".into(), revoked_at: 13, expires_at: 200, reason: None };
    s.set_status(revoke, Some(entry), ev("server.revoked", "x")).await.unwrap();
    assert_eq!(s.list_revocations(b).await.unwrap()[0].kind, RevocationKind::Server);

    // Metadata is set once.
    assert!(s.put_meta_if_absent("k", b"v1").await.unwrap());
    assert!(!s.put_meta_if_absent("k", b"v2").await.unwrap());
    assert_eq!(s.get_meta("k").await.unwrap().as_deref(), Some(&b"v1"[..]));

    governance(s).await;
}

/// Clients, tokens, the audit chain and the issuance window.
async fn governance(s: &dyn Store) {
    use mcpca::audit::{verify_chain, Decision, GENESIS};
    use mcpca::store::{AuditFilter, ClientRow, ClientStatus, ImportOutcome, Role, TokenRow};

    let client = ClientRow {
        id: "ci-bot".into(),
        tenant: Some("acme".into()),
        allow: vec!["io.github.acme/*".into()],
        max_ttl: Some(Dur(300)),
        rate_per_min: Some(10),
        status: ClientStatus::Active,
        status_reason: None,
        secret_hash: [7; 32],
        created_at: 20,
        updated_at: 20,
    };
    s.add_client(client.clone(), ev("client.add", "ci-bot")).await.unwrap();
    assert!(matches!(s.add_client(client.clone(), ev("client.add", "ci-bot")).await.unwrap_err(), Error::Conflict { .. }));
    assert_eq!(s.get_client("ci-bot").await.unwrap().as_ref(), Some(&client));
    assert_eq!(s.find_client_by_secret(&[7; 32]).await.unwrap().map(|c| c.id).as_deref(), Some("ci-bot"));
    assert!(s.find_client_by_secret(&[8; 32]).await.unwrap().is_none());
    let mut suspended = client.clone();
    suspended.status = ClientStatus::Suspended;
    let entry = NewRevocation { kind: RevocationKind::Client, id: "ci-bot".into(), revoked_at: 21, expires_at: 500, reason: None };
    s.update_client(suspended, Some(entry), ev("client.revoke", "ci-bot")).await.unwrap();
    assert_eq!(s.get_client("ci-bot").await.unwrap().unwrap().status, ClientStatus::Suspended);
    assert_eq!(s.list_clients().await.unwrap().len(), 1);
    s.remove_client("ci-bot", None, ev("client.remove", "ci-bot")).await.unwrap();
    assert!(matches!(s.remove_client("ci-bot", None, ev("client.remove", "ci-bot")).await.unwrap_err(), Error::NotFound { .. }));

    let token = TokenRow {
        id: "at_1".into(),
        name: Some("ops".into()),
        role: Role::Reader,
        token_hash: [9; 32],
        created_at: 30,
        expires_at: None,
        revoked_at: None,
    };
    s.add_token(token.clone(), ev("token.create", "at_1")).await.unwrap();
    assert_eq!(s.find_token_by_hash(&[9; 32]).await.unwrap().as_ref(), Some(&token));
    s.revoke_token("at_1", 31, ev("token.revoke", "at_1")).await.unwrap();
    assert_eq!(s.list_tokens().await.unwrap()[0].revoked_at, Some(31));
    assert!(s.revoke_token("at_1", 32, ev("token.revoke", "at_1")).await.is_err());

    // Issuance decisions are appended; the window counts allowed ones of one client.
    let allow = |at| NewAuditEvent::new(at, "bot", "issue", "io.github.acme/weather@1.9.0").decision(Decision::Allow, None);
    let deny = NewAuditEvent::new(41, "bot", "issue", "io.github.acme/weather").decision(Decision::Deny, Some("rate_limited"));
    s.append_audit(vec![allow(40), deny, allow(42), allow(100)]).await.unwrap();
    assert_eq!(s.issued_since("bot", 40).await.unwrap(), (3, Some(40)));
    assert_eq!(s.issued_since("bot", 41).await.unwrap(), (2, Some(42)));
    assert_eq!(s.issued_since("nobody", 0).await.unwrap(), (0, None));
    let denied = AuditFilter { decision: Some(Decision::Deny), ..Default::default() };
    assert_eq!(s.list_audit(&denied).await.unwrap().len(), 1);
    let by_server = AuditFilter { server: Some("io.github.acme/weather".into()), ..Default::default() };
    assert_eq!(s.list_audit(&by_server).await.unwrap().len(), 4);
    let last_two = AuditFilter { limit: Some(2), ..Default::default() };
    let l = s.list_audit(&last_two).await.unwrap();
    assert_eq!(l.len(), 2);
    assert!(l[0].seq < l[1].seq, "printed oldest first");

    // Every mutation of this story is in one intact chain.
    let all = s.audit_page(0, 10_000).await.unwrap();
    assert!(all.len() > 15, "{}", all.len());
    assert_eq!(verify_chain(&all, GENESIS).unwrap(), all.len() as u64);
    assert_eq!(s.audit_page(all[4].seq, 3).await.unwrap().len(), 3);

    // Import: new, unchanged, duplicate version, URL conflict — in one transaction.
    let batch = vec![
        (version("io.github.imp/a", "1.0.0", 50, "https://a.imp.dev/mcp"), ev("server.import", "a")),
        (version("io.github.acme/weather", "1.9.0", 50, "https://w.acme.dev/mcp"), ev("server.import", "w")),
        (version("io.github.imp/b", "1.0.0", 50, "https://maps.acme.dev/mcp"), ev("server.import", "b")),
    ];
    let mut changed = version("io.github.acme/weather", "1.2.0", 50, "https://w.acme.dev/mcp");
    changed.version.document = "{}".into();
    let mut batch = batch;
    batch.push((changed, ev("server.import", "w2")));
    let before = s.audit_page(0, 10_000).await.unwrap().len();
    let dry = s.import_versions(batch.clone(), true).await.unwrap();
    assert_eq!(dry[0], ImportOutcome::Imported);
    assert!(s.get_server("io.github.imp/a", None).await.unwrap().is_none(), "a dry run changes nothing");
    assert_eq!(s.audit_page(0, 10_000).await.unwrap().len(), before);
    let out = s.import_versions(batch, false).await.unwrap();
    assert_eq!(out[0], ImportOutcome::Imported);
    assert_eq!(out[1], ImportOutcome::Unchanged);
    assert!(matches!(out[2], ImportOutcome::UrlConflict(_)));
    assert_eq!(out[3], ImportOutcome::DuplicateVersion);
    assert_eq!(s.audit_page(0, 10_000).await.unwrap().len(), before + 1, "one event per imported entry");
}

#[tokio::test]
async fn sqlite_story() {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(&dir.path().join("registry.db"), true).unwrap();
    story(&s).await;
}

#[tokio::test]
async fn sqlite_refuses_a_newer_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.db");
    drop(SqliteStore::open(&path, true).unwrap());
    let c = rusqlite_user_version(&path, 999);
    assert!(c);
    let err = SqliteStore::open(&path, false).unwrap_err();
    assert!(matches!(err, Error::SchemaTooNew { found: 999, .. }), "{err}");
}

fn rusqlite_user_version(path: &std::path::Path, v: i64) -> bool {
    let c = rusqlite::Connection::open(path).unwrap();
    c.pragma_update(None, "user_version", v).unwrap();
    true
}

/// Add an active client `id` (secret hash from its name) with its audit event.
pub async fn add_client(s: &dyn Store, id: &str) {
    use mcpca::store::{ClientRow, ClientStatus};
    let mut hash = [0u8; 32];
    for (h, b) in hash.iter_mut().zip(id.bytes()) {
        *h = b;
    }
    let row = ClientRow {
        id: id.into(),
        tenant: None,
        allow: vec!["*".into()],
        max_ttl: None,
        rate_per_min: None,
        status: ClientStatus::Active,
        status_reason: None,
        secret_hash: hash,
        created_at: 1,
        updated_at: 1,
    };
    s.add_client(row, ev("client.add", id)).await.unwrap();
}
