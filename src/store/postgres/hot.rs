//! What the issuance hot path of `mcpca serve` needs from PostgreSQL (as `sqlite::hot` for the
//! file): the rows issuance decides on, read in one `REPEATABLE READ` transaction; the group
//! commit of issuance events, each client's rate re-checked under the writers' lock; and a
//! connection listening for the changes every replica announces (migration 2's triggers on
//! `mcpca_changes`).

use std::collections::HashMap;

use tokio::sync::mpsc;
use tokio_postgres::{AsyncMessage, Client, IsolationLevel};

use super::{describe, issued_window, PgStore, Writer};
use crate::store::hot::{plan_batch, windows_needed, HotRows, Jobs, Listed, Recorded, Scope, Walk};
use crate::store::postgres::rows::{client_from_row, key_from_row, server_from_row, SERVER_COLUMNS};
use crate::Result;

/// The channel changes are announced on; the payload is `<schema>.<table>`.
pub const CHANNEL: &str = "mcpca_changes";

/// Rows of the catalog walk fetched per round trip.
const CHUNK: i32 = 1000;

/// What one announcement says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A change made by mcpca: its audit events come after `head_before`.
    Audited { head_before: i64 },
    /// A change made outside mcpca (no audit event says what changed).
    Unaudited,
}

impl Change {
    /// Parse the `<head>` part of a payload (`*` for a change made outside mcpca).
    fn parse(head: &str) -> Change {
        head.parse().map_or(Change::Unaudited, |head_before| Change::Audited { head_before })
    }

    /// Two announcements read as one: an unaudited change wins (read everything), else the
    /// later head (whatever a reader has not read past must be read).
    pub fn merge(self, other: Change) -> Change {
        match (self, other) {
            (Change::Audited { head_before: a }, Change::Audited { head_before: b }) => Change::Audited { head_before: a.max(b) },
            _ => Change::Unaudited,
        }
    }
}

/// A connection of its own listening on [`CHANNEL`] for changes to this store's schema.
pub struct Listener {
    changes: mpsc::UnboundedReceiver<Change>,
    /// Kept open while listening; dropping the listener closes the connection.
    _client: Client,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener").finish_non_exhaustive()
    }
}

impl Listener {
    /// Wait for the next change, merged with every one already announced after it (a burst is
    /// read once); `None` once the connection is lost (changes made since may not be
    /// announced: reconnect and read everything again).
    pub async fn changed(&mut self) -> Option<Change> {
        let mut change = self.changes.recv().await?;
        while let Ok(next) = self.changes.try_recv() {
            change = change.merge(next);
        }
        Some(change)
    }
}

impl PgStore {
    /// Everything issuance decides on, as of one instant (one `REPEATABLE READ` transaction):
    /// every server when `since` is `None`, else only the servers changed after audit event
    /// `since` (see [`Scope::of_changes`]). When `listed` is given, it gets the scope, then
    /// every version of it with its document, in the same transaction, a chunk of rows at a
    /// time (the registry read API's catalog).
    pub async fn hot_rows(&self, since: Option<i64>, listed: Option<Listed<'_>>) -> Result<HotRows> {
        let mut c = self.conn().await?;
        let tx = c.build_transaction().isolation_level(IsolationLevel::RepeatableRead).read_only(true).start().await?;
        let audit_head: i64 = tx.query_one("SELECT seq FROM heads WHERE name = 'audit'", &[]).await?.try_get(0)?;
        let scope = match since {
            Some(seen) if seen <= audit_head => {
                let rows =
                    tx.query("SELECT target FROM audit WHERE seq > $1 AND seq <= $2 AND action <> 'issue'", &[&seen, &audit_head]).await?;
                let targets = rows.iter().map(|r| r.try_get::<_, String>(0)).collect::<std::result::Result<Vec<_>, _>>()?;
                Scope::of_changes(targets.iter().map(String::as_str))
            }
            _ => Scope::All,
        };
        let names: Vec<&str> = match &scope {
            Scope::All => Vec::new(),
            Scope::Names(n) => n.iter().map(String::as_str).collect(),
        };
        let (filter, params): (&str, Vec<&(dyn tokio_postgres::types::ToSql + Sync)>) = match scope {
            Scope::All => ("", vec![]),
            // Both sides filtered: the planner then looks both up by key instead of hashing the
            // whole `servers` table (its estimates right after a bulk import are poor).
            Scope::Names(_) => (" WHERE v.name = ANY($1) AND s.name = ANY($1)", vec![&names]),
        };
        if let Some(f) = listed {
            f(Walk::Scope(&scope));
            let stmt = tx
                .prepare(&format!(
                    "SELECT {SERVER_COLUMNS}, v.ord FROM server_versions v JOIN servers s ON s.name = v.name{filter} ORDER BY v.name, v.version"
                ))
                .await?;
            let portal = tx.bind(&stmt, &params).await?;
            loop {
                let rows = tx.query_portal(&portal, CHUNK).await?;
                for r in &rows {
                    let row = server_from_row(r)?;
                    f(Walk::Row(&row, r.try_get(17)?));
                }
                if rows.len() < CHUNK as usize {
                    break;
                }
                // Rendering a chunk of entries is CPU work: let other tasks run between chunks.
                tokio::task::yield_now().await;
            }
        }
        let columns = SERVER_COLUMNS.replace("v.document", "'' AS document");
        let servers = tx
            .query(
                &format!(
                    "SELECT {columns} FROM server_versions v JOIN servers s ON s.name = v.name{filter} ORDER BY v.name, v.published_at, v.ord"
                ),
                &params,
            )
            .await?
            .iter()
            .map(server_from_row)
            .collect::<Result<Vec<_>>>()?;
        let clients = tx.query("SELECT * FROM clients", &[]).await?.iter().map(client_from_row).collect::<Result<Vec<_>>>()?;
        let keys =
            tx.query("SELECT * FROM keys ORDER BY created_at, ord", &[]).await?.iter().map(key_from_row).collect::<Result<Vec<_>>>()?;
        tx.commit().await?;
        Ok(HotRows { scope, servers, clients, keys, audit_head })
    }

    /// Append a batch of issuance events in one transaction, after the chain's head (under its
    /// lock, so every replica's commits are in one order and every rate window is exact). An
    /// event with a rate check is left out (its slot gets the client's window) when the
    /// client's allowed issuances — committed plus accepted earlier in the batch — reach the
    /// limit. All or nothing: any failure fails the whole batch.
    pub async fn record_batch(&self, jobs: Jobs) -> Result<Vec<Recorded>> {
        let mut c = self.conn().await?;
        let mut w = Writer::begin(&mut c).await?;
        let mut windows = HashMap::new();
        for (client, since) in windows_needed(&jobs) {
            let window = issued_window(&w.tx, &client, since).await?;
            windows.insert((client, since), window);
        }
        let mut plan = plan_batch(jobs, &windows);
        let seqs = w.append(std::mem::take(&mut plan.accepted)).await?;
        w.tx.commit().await?;
        Ok(plan.outcomes(seqs))
    }

    /// Open a connection of its own and `LISTEN` on [`CHANNEL`] for changes to this store's
    /// schema (other schemas of the database announce on the same channel and are ignored).
    pub async fn listen(&self) -> Result<Listener> {
        // Migrated first: the triggers exist before anything is awaited from them.
        let schema: String = self.conn().await?.query_one("SELECT current_schema()::text", &[]).await?.try_get(0)?;
        // Named for `pg_stat_activity` (and operators): which authority's schema it follows.
        let mut config = self.pool.config.clone();
        config.application_name(format!("mcpca-listen:{schema}"));
        // The pool's TLS settings: the same mode, CA and checks.
        let (client, mut connection) = config.connect(self.pool.tls.connector.clone()).await.map_err(|e| self.pool.connect_error(&e))?;
        let (tx, changes) = mpsc::unbounded_channel();
        let prefix = format!("{schema}.");
        tokio::spawn(async move {
            // Driving the connection delivers both the answers to the client's queries and
            // the notifications; it ends when the client is dropped or the connection fails.
            loop {
                match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                    Some(Ok(AsyncMessage::Notification(n))) => {
                        let ours = n.payload().strip_prefix(&prefix).filter(|_| n.channel() == CHANNEL);
                        if let Some(change) = ours.map(|rest| Change::parse(rest.split_once(' ').map_or("*", |(_, head)| head))) {
                            if tx.send(change).is_err() {
                                return;
                            }
                        }
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => {
                        tracing::warn!(error = %describe(&e), "the PostgreSQL connection listening for changes failed");
                        return;
                    }
                    None => return,
                }
            }
        });
        client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
        Ok(Listener { changes, _client: client })
    }
}
