//! What the issuance hot path of `mcpca serve` needs from the SQLite file, on connections of
//! its own: one read of everything issuance decides on (servers, clients, keys) in a single
//! transaction, a cheap test of whether anything but issuance changed since, and the group
//! commit of issuance audit events with each client's rate re-checked exactly.

use std::collections::HashMap;
use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::{append_audit, busy_timeout, client_from_row, issued_window, key_from_row, server_from_row};
use crate::audit::{Decision, NewAuditEvent};
use crate::store::hot::{plan_batch, windows_needed, Jobs, Plan, RateWindows, RATE_MEMORY_SECS};
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
/// in this batch — reach the limit. The windows come from `windows`, which the caller (the one
/// writer of `mcpca serve`) keeps from batch to batch: brought up to date here with what other
/// processes appended, and with this batch once it is committed. All or nothing: any failure
/// fails the whole batch.
pub fn record_batch(c: &mut Connection, jobs: Jobs, windows: &mut RateWindows) -> Result<Vec<Recorded>> {
    // BEGIN and COMMIT come from the statement cache: `Transaction` would parse them again for
    // every batch, a few per cent of the service's CPU at thousands of batches a second.
    c.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
    let done = batch_in_transaction(c, jobs, windows).and_then(|out| {
        c.prepare_cached("COMMIT")?.execute([])?;
        Ok(out)
    });
    match done {
        Ok((plan, seqs)) => {
            // Committed: this batch's allowed issuances count from now on.
            for e in plan.accepted.iter().filter(|e| counts_for_rate(e)) {
                windows.add(&e.actor, e.at);
            }
            windows.seen = seqs.last().copied().unwrap_or(windows.seen);
            Ok(plan.outcomes(seqs))
        }
        Err(e) => {
            // Nothing of a failed batch stays: no record, no descriptor.
            let _ = c.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// An allowed issuance: what a client's rate counts.
fn counts_for_rate(e: &NewAuditEvent) -> bool {
    e.action == "issue" && e.decision == Some(Decision::Allow)
}

fn batch_in_transaction(tx: &Connection, jobs: Jobs, windows: &mut RateWindows) -> Result<(Plan, Vec<i64>)> {
    let needed = windows_needed(&jobs);
    if !needed.is_empty() || windows.started() {
        catch_up(tx, windows, &jobs)?;
    }
    let mut counted = HashMap::new();
    for (client, since) in needed {
        let w = match windows.window(&client, since) {
            Some(w) => w,
            // Older than what is remembered (an issuer's clock far behind): the log's count.
            None => issued_window(tx, &client, since)?,
        };
        counted.insert((client, since), w);
    }
    let plan = plan_batch(jobs, &counted);
    let seqs = append_audit(tx, &plan.accepted)?;
    Ok((plan, seqs))
}

/// Bring `windows` up to the log's head (under the write lock, so nothing is appended meanwhile):
/// the first time, every allowed issuance of the last [`RATE_MEMORY_SECS`] before the batch's
/// earliest instant; then the allowed issuances other processes appended since the last batch
/// (read by `seq`: none while `mcpca serve` is the only writer).
fn catch_up(tx: &Connection, windows: &mut RateWindows, jobs: &Jobs) -> Result<()> {
    let head = audit_head(tx)?;
    if !windows.started() {
        let earliest = jobs.iter().map(|(e, _)| e.at).min().unwrap_or_default();
        let horizon = earliest - RATE_MEMORY_SECS;
        windows.start(horizon, head);
        let mut stmt =
            tx.prepare("SELECT actor, at FROM audit WHERE at >= ?1 AND seq <= ?2 AND action = 'issue' AND decision = 'allow'")?;
        count_rows(&mut stmt, params![horizon, head], windows)?;
    } else if head > windows.seen {
        let mut stmt =
            tx.prepare_cached("SELECT actor, at FROM audit WHERE seq > ?1 AND seq <= ?2 AND action = 'issue' AND decision = 'allow'")?;
        let seen = windows.seen;
        count_rows(&mut stmt, params![seen, head], windows)?;
    }
    windows.seen = head;
    Ok(())
}

/// Count the `(actor, at)` rows of `stmt` in `windows`.
fn count_rows(stmt: &mut rusqlite::Statement<'_>, params: &[&dyn rusqlite::ToSql], windows: &mut RateWindows) -> Result<()> {
    let mut rows = stmt.query(params)?;
    while let Some(r) = rows.next()? {
        let actor = r.get_ref(0)?.as_str().map_err(|e| Error::Store(format!("audit.actor: {e}")))?;
        windows.add(actor, r.get(1)?);
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::store::{RateCheck, Store as _};

    fn allow(client: &str, at: i64) -> NewAuditEvent {
        NewAuditEvent::new(at, client, "issue", "s@1").decision(Decision::Allow, None)
    }

    /// Schema 5 has no index of the log by client; the one-off rate count (the command line's)
    /// reads the last minute through `audit_at`, not the whole log.
    #[test]
    fn the_log_has_no_index_by_client_and_the_rate_query_uses_the_time_index() {
        let (_dir, db) = crate::store::sqlite::migrated_database();
        let c = open_connection(&db).unwrap();
        let indexes: Vec<String> = c
            .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(indexes, ["audit_at", "audit_changes"]);
        let plan: Vec<String> = c
            .prepare(
                "EXPLAIN QUERY PLAN SELECT count(*), min(at) FROM audit \
                 WHERE actor = ?1 AND action = 'issue' AND decision = 'allow' AND at >= ?2",
            )
            .unwrap()
            .query_map(params!["bot", 0], |r| r.get(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert!(plan.iter().any(|p| p.contains("USING INDEX audit_at")), "{plan:?}");
    }

    /// The writer's windows: started by the first batch with a rate check (from the log's
    /// last minutes), kept up to date with what another connection appends, and exact.
    #[test]
    fn batches_count_windows_with_what_others_append() {
        let (_dir, db) = crate::store::sqlite::migrated_database();
        let mut writer = open_connection(&db).unwrap();
        let other = crate::store::SqliteStore::open(&db, false).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let mut windows = RateWindows::default();
        let check = |since| Some(RateCheck { client: "bot".into(), since, limit: 4 });
        // Two issuances in the log before the writer starts: one inside the window, one not.
        rt.block_on(other.append_audit(vec![allow("bot", 900), allow("bot", 1_000)])).unwrap();
        // No rate check: nothing is counted (the windows are not started).
        record_batch(&mut writer, vec![(allow("bot", 1_000), None)], &mut windows).unwrap();
        assert!(!windows.started());
        let out = record_batch(&mut writer, vec![(allow("bot", 1_001), check(942))], &mut windows).unwrap();
        assert!(windows.started());
        assert_eq!(out, [Ok(4)], "1,000 twice and this one: 3 of 4");
        // Another connection appends one; the next batch sees it and refuses the second job.
        rt.block_on(other.append_audit(vec![allow("bot", 1_001)])).unwrap();
        let out =
            record_batch(&mut writer, vec![(allow("bot", 1_002), check(943)), (allow("bot", 1_002), check(943))], &mut windows).unwrap();
        assert_eq!(out, [Err((4, Some(1_000))), Err((4, Some(1_000)))], "{windows:?}");
        // Denials and other actions never count.
        let deny = NewAuditEvent::new(1_002, "bot", "issue", "s@1").decision(Decision::Deny, Some("rate_limited"));
        record_batch(&mut writer, vec![(deny, None), (NewAuditEvent::new(1_002, "bot", "client.add", "bot"), None)], &mut windows).unwrap();
        assert_eq!(windows.window("bot", 943), Some((4, Some(1_000))));
        // A minute on, the window is clear.
        let out = record_batch(&mut writer, vec![(allow("bot", 1_061), check(1_002))], &mut windows).unwrap();
        assert!(out[0].is_ok(), "{out:?}");
        assert_eq!(windows.seen, audit_head(&writer).unwrap());
        // A failed batch counts nothing.
        writer.execute_batch("CREATE TRIGGER no BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'no'); END;").unwrap();
        assert!(record_batch(&mut writer, vec![(allow("bot", 1_061), check(1_002))], &mut windows).is_err());
        assert_eq!(windows.window("bot", 1_002), Some((1, Some(1_061))));
    }
}
