//! What the issuance hot path of `mcpca serve` needs from the SQLite file, on connections of
//! its own: one read of everything issuance decides on (servers, clients, keys) in a single
//! transaction, a cheap test of whether anything but issuance changed since, and the group
//! commit of issuance audit events with each client's rate re-checked exactly.

use std::collections::HashMap;
use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::{append_audit, busy_timeout, client_from_row, issued_window, key_from_row, server_from_row};
use crate::store::hot::{plan_batch, windows_needed, Jobs};
pub use crate::store::hot::{HotRows, Listed, Recorded, Scope, Walk};
use crate::{Error, Result};

/// Open another connection to an existing, migrated database (the store's settings, but see
/// `synchronous` below).
pub fn open_connection(path: &Path) -> Result<Connection> {
    use rusqlite::OpenFlags;
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| Error::Store(format!("cannot open {}: {e}", path.display())))?;
    conn.busy_timeout(busy_timeout()?)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // Unlike the store's own connection (FULL), the service's hot-path connections commit
    // without an fsync (WAL + NORMAL): a committed issuance event survives a crash or SIGKILL of
    // the process (it is in the WAL, in the OS's cache), and reaches the disk at the next
    // checkpoint; only a power loss or kernel crash can take the last moments of events with
    // it. An fsync per group commit cost a third of the throughput (BENCHMARKS.md, mcpca serve).
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

/// `PRAGMA data_version`: changes when another connection commits.
pub fn data_version(c: &Connection) -> Result<i64> {
    Ok(c.query_row("PRAGMA data_version", [], |r| r.get(0))?)
}

fn audit_head(c: &Connection) -> Result<i64> {
    Ok(c.query_row("SELECT coalesce(max(seq), 0) FROM audit", [], |r| r.get(0))?)
}

/// Read the hot rows in one read transaction: every server when `since` is `None`, else only
/// the servers changed after audit event `since` (see [`Scope::of_changes`]). When `listed` is
/// given, it gets the scope, then every version of it with its document, one row at a time, in
/// the same transaction (the registry read API's catalog).
pub fn load(c: &mut Connection, since: Option<i64>, listed: Option<Listed<'_>>) -> Result<HotRows> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Deferred)?;
    let audit_head = audit_head(&tx)?;
    let scope = match since {
        Some(seen) if seen <= audit_head => {
            let mut stmt = tx.prepare_cached("SELECT target FROM audit WHERE seq > ?1 AND seq <= ?2 AND action <> 'issue'")?;
            let targets = stmt.query_map(params![seen, audit_head], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
            Scope::of_changes(targets.iter().map(String::as_str))
        }
        _ => Scope::All,
    };
    // `?1`: the names of a partial read, as a JSON array (all rows when `Scope::All`).
    let (filter, names) = match &scope {
        Scope::All => ("", String::new()),
        Scope::Names(n) => (" WHERE v.name IN (SELECT value FROM json_each(?1))", serde_json::to_string(n).unwrap_or_default()),
    };
    let bind = |stmt: &mut rusqlite::Statement<'_>| -> rusqlite::Result<()> {
        if !names.is_empty() {
            stmt.raw_bind_parameter(1, &names)?;
        }
        Ok(())
    };
    if let Some(f) = listed {
        f(Walk::Scope(&scope));
        let mut stmt = tx.prepare(&format!(
            "SELECT {}, v.rowid FROM server_versions v JOIN servers s ON s.name = v.name{filter} ORDER BY v.name, v.version",
            super::SERVER_COLUMNS
        ))?;
        bind(&mut stmt)?;
        let mut rows = stmt.raw_query();
        while let Some(r) = rows.next()? {
            let row = server_from_row(r)?;
            f(Walk::Row(&row, r.get(17)?));
        }
    }
    let columns = super::SERVER_COLUMNS.replace("v.document", "'' AS document");
    let mut stmt = tx.prepare(&format!(
        "SELECT {columns} FROM server_versions v JOIN servers s ON s.name = v.name{filter} ORDER BY v.name, v.published_at, v.rowid"
    ))?;
    bind(&mut stmt)?;
    let mut servers = Vec::new();
    let mut rows = stmt.raw_query();
    while let Some(r) = rows.next()? {
        servers.push(server_from_row(r)?);
    }
    drop(rows);
    drop(stmt);
    let clients = tx.prepare("SELECT * FROM clients")?.query_map([], client_from_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
    let keys =
        tx.prepare("SELECT * FROM keys ORDER BY created_at, rowid")?.query_map([], key_from_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
    tx.commit()?;
    Ok(HotRows { scope, servers, clients, keys, audit_head })
}

/// Has anything but issuance been committed after audit event `seen`? Every change of a server,
/// client or key appends a non-`issue` audit event in its own transaction, so this finds them
/// all by reading only the events since `seen`. Returns the answer and the current head.
pub fn changed_since(c: &mut Connection, seen: i64) -> Result<(bool, i64)> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Deferred)?;
    let head = audit_head(&tx)?;
    let changed = head < seen
        || tx
            .prepare_cached("SELECT 1 FROM audit WHERE seq > ?1 AND seq <= ?2 AND action <> 'issue' LIMIT 1")?
            .query_row(params![seen, head], |_| Ok(()))
            .optional()?
            .is_some();
    tx.commit()?;
    Ok((changed, head))
}

/// Append a batch of issuance events in one `BEGIN IMMEDIATE` transaction, after the chain's
/// head. An event with a rate check is left out (its slot gets the client's window) when the
/// client's allowed issuances since `since` — those in the database plus those accepted earlier
/// in this batch — reach the limit. All or nothing: any failure fails the whole batch.
pub fn record_batch(c: &mut Connection, jobs: Jobs) -> Result<Vec<Recorded>> {
    // BEGIN and COMMIT come from the statement cache: `Transaction` would parse them again for
    // every batch, a few per cent of the service's CPU at thousands of batches a second.
    c.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
    let done = batch_in_transaction(c, jobs).and_then(|out| {
        c.prepare_cached("COMMIT")?.execute([])?;
        Ok(out)
    });
    if done.is_err() {
        // Nothing of a failed batch stays: no record, no descriptor.
        let _ = c.execute_batch("ROLLBACK");
    }
    done
}

fn batch_in_transaction(tx: &Connection, jobs: Jobs) -> Result<Vec<Recorded>> {
    let mut windows = HashMap::new();
    for (client, since) in windows_needed(&jobs) {
        let w = issued_window(tx, &client, since)?;
        windows.insert((client, since), w);
    }
    let mut plan = plan_batch(jobs, &windows);
    let seqs = append_audit(tx, std::mem::take(&mut plan.accepted))?;
    Ok(plan.outcomes(seqs))
}
