//! One story every `Store` backend must tell the same way (atuin's `db_story`). The SQLite
//! run is here; the PostgreSQL backend runs the same function.

use mcpca::duration::Dur;
use mcpca::model::{RevocationKind, Status};
use mcpca::store::{NewRevocation, NewServerVersion, ServerFilter, ServerUpdate, ServerVersionRow, SqliteStore, StatusChange, Store};
use mcpca::Error;

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
    s.add_server_version(version(w, "1.9.0", 1, "https://w.acme.dev/mcp")).await.unwrap();
    s.add_server_version(version(w, "1.10.0", 2, "https://w.acme.dev/mcp")).await.unwrap();
    s.add_server_version(version(w, "1.2.0", 3, "https://w.acme.dev/mcp")).await.unwrap();
    assert_eq!(latest(s, w).await.as_deref(), Some("1.10.0"), "semver order, not insertion order");

    // Published versions are immutable.
    let dup = s.add_server_version(version(w, "1.9.0", 4, "https://w.acme.dev/mcp")).await.unwrap_err();
    assert!(matches!(dup, Error::Conflict { .. }), "{dup}");
    // A remote URL belongs to one server.
    let taken = s.add_server_version(version("io.github.other/x", "1.0.0", 5, "https://w.acme.dev/mcp")).await.unwrap_err();
    assert!(matches!(taken, Error::Conflict { .. }), "{taken}");
    assert!(s.get_server("io.github.other/x", None).await.unwrap().is_none(), "a refused add leaves nothing behind");

    s.add_server_version(version("io.github.acme/maps", "0.1.0", 6, "https://maps.acme.dev/mcp")).await.unwrap();
    let all = s.list_servers(&ServerFilter::default()).await.unwrap();
    assert_eq!(all.len(), 4);
    let search = ServerFilter { search: Some("MAPS".into()), ..Default::default() };
    assert_eq!(s.list_servers(&search).await.unwrap().len(), 1);
    let latest_only = ServerFilter { latest_only: true, ..Default::default() };
    assert_eq!(s.list_servers(&latest_only).await.unwrap().len(), 2);

    // Deleting the latest version moves "latest" to the next highest; deleted is hidden.
    let del = StatusChange { name: w.into(), version: Some("1.10.0".into()), status: Status::Deleted, reason: None, at: 7 };
    s.set_status(del, None).await.unwrap();
    assert_eq!(latest(s, w).await.as_deref(), Some("1.9.0"));
    assert_eq!(s.list_servers(&ServerFilter::default()).await.unwrap().len(), 3);
    let with_deleted = ServerFilter { include_deleted: true, ..Default::default() };
    assert_eq!(s.list_servers(&with_deleted).await.unwrap().len(), 4);

    // Name-level status applies to every version, and is what a status filter sees.
    let sus = StatusChange { name: w.into(), version: None, status: Status::Suspended, reason: Some("abuse".into()), at: 8 };
    s.set_status(sus, None).await.unwrap();
    let suspended = ServerFilter { status: Some(Status::Suspended), ..Default::default() };
    assert_eq!(s.list_servers(&suspended).await.unwrap().len(), 2);
    let row = s.get_server(w, Some("1.2.0")).await.unwrap().unwrap();
    assert_eq!(Status::effective(row.name.status, row.version.status), Status::Suspended);
    assert_eq!(row.name.status_reason.as_deref(), Some("abuse"));

    // Unknown names are reported, not silently ignored.
    let ghost = StatusChange { name: "nobody/none".into(), version: None, status: Status::Revoked, reason: None, at: 9 };
    assert!(matches!(s.set_status(ghost, None).await.unwrap_err(), Error::NotFound { .. }));

    // Authority fields.
    s.update_server(w, ServerUpdate { verified: Some(true), max_ttl: Some(Some(Dur(300))) }, 10).await.unwrap();
    let row = s.get_server(w, None).await.unwrap().unwrap();
    assert!(row.name.verified);
    assert_eq!(row.name.max_ttl, Some(Dur(300)));
    s.update_server(w, ServerUpdate { verified: None, max_ttl: Some(None) }, 11).await.unwrap();
    assert_eq!(s.get_server(w, None).await.unwrap().unwrap().name.max_ttl, None);

    // Revocations get increasing sequence numbers; `since` filters.
    let rev = |id: &str| NewRevocation { kind: RevocationKind::Jti, id: id.into(), revoked_at: 12, expires_at: 100, reason: None };
    let a = s.add_revocation(rev("a")).await.unwrap();
    let b = s.add_revocation(rev("b")).await.unwrap();
    assert!(b > a);
    let after_a = s.list_revocations(a).await.unwrap();
    assert_eq!(after_a.len(), 1);
    assert_eq!(after_a[0].id, "b");

    // A status change and its revocation are one transaction.
    let revoke = StatusChange { name: "io.github.acme/maps".into(), version: None, status: Status::Revoked, reason: None, at: 13 };
    let entry =
        NewRevocation { kind: RevocationKind::Server, id: "io.github.acme/maps".into(), revoked_at: 13, expires_at: 200, reason: None };
    s.set_status(revoke, Some(entry)).await.unwrap();
    assert_eq!(s.list_revocations(b).await.unwrap()[0].kind, RevocationKind::Server);

    // Metadata is set once.
    assert!(s.put_meta_if_absent("k", b"v1").await.unwrap());
    assert!(!s.put_meta_if_absent("k", b"v2").await.unwrap());
    assert_eq!(s.get_meta("k").await.unwrap().as_deref(), Some(&b"v1"[..]));
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
