//! Row-for-row copy into PostgreSQL (`mcpca migrate`): loading a [`Dump`] of another store in
//! one transaction, and counting rows to check the copy.

use super::PgStore;
use super::{insert_client, Writer, GENESIS};
use crate::store::{Dump, TableCounts};
use crate::{Error, Result};

/// The tables of an authority, children first (the order to empty them in).
const TABLES: &[&str] = &["remote_urls", "server_versions", "servers", "revocations", "clients", "admin_tokens", "audit", "keys", "meta"];

impl PgStore {
    /// Rows per table.
    pub async fn counts(&self) -> Result<TableCounts> {
        let c = self.conn().await?;
        counts(&*c).await
    }

    /// Copy every row of `dump` in, verbatim, in one transaction (`mcpca migrate`): the
    /// audit chain keeps its hashes, revocations their `seq`s. A database holding any row is
    /// refused unless `replace`, which empties it first (in the same transaction).
    pub async fn load(&self, dump: &Dump, replace: bool) -> Result<()> {
        let mut c = self.conn().await?;
        let w = Writer::begin(&mut c).await?;
        let tx = &w.tx;
        let before = counts(tx).await?;
        if before != TableCounts::default() {
            if !replace {
                let total =
                    before.meta + before.keys + before.servers + before.clients + before.admin_tokens + before.revocations + before.audit;
                return Err(Error::refused(
                    format!(
                        "the target database is not empty ({total} rows: {} keys, {} servers, {} audit events)",
                        before.keys, before.servers, before.audit
                    ),
                    "copy into an empty database (or schema), or pass --force to replace everything in it",
                ));
            }
            for t in TABLES {
                tx.batch_execute(&format!("DELETE FROM {t}")).await?;
            }
        }
        for (k, v) in &dump.meta {
            tx.execute("INSERT INTO meta (key, value) VALUES ($1, $2)", &[k, v]).await?;
        }
        for k in &dump.keys {
            let public = k.public_key.as_slice();
            tx.execute(
                "INSERT INTO keys (kid, state, public_key, sealed_private, created_at, activated_at, retire_at, retired_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[&k.kid, &k.state.as_str(), &public, &k.sealed_private, &k.created_at, &k.activated_at, &k.retire_at, &k.retired_at],
            )
            .await?;
        }
        for s in &dump.servers {
            tx.execute(
                "INSERT INTO servers (name, status, status_reason, status_changed_at, verified, max_ttl, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[
                    &s.name,
                    &s.status.as_str(),
                    &s.status_reason,
                    &s.status_changed_at,
                    &s.verified,
                    &s.max_ttl.map(|d| d.as_i64()),
                    &s.created_at,
                    &s.updated_at,
                ],
            )
            .await?;
        }
        let stmt = tx
            .prepare(
                "INSERT INTO server_versions (name, version, document, endpoint, status, status_reason, status_changed_at, published_at, updated_at, is_latest) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .await?;
        for v in &dump.versions {
            tx.execute(
                &stmt,
                &[
                    &v.name,
                    &v.version,
                    &v.document,
                    &v.endpoint,
                    &v.status.as_str(),
                    &v.status_reason,
                    &v.status_changed_at,
                    &v.published_at,
                    &v.updated_at,
                    &v.is_latest,
                ],
            )
            .await?;
        }
        for (url, name, version) in &dump.remote_urls {
            tx.execute("INSERT INTO remote_urls (url, name, version) VALUES ($1, $2, $3)", &[url, name, version]).await?;
        }
        for r in &dump.revocations {
            tx.execute(
                "INSERT INTO revocations (seq, kind, id, revoked_at, expires_at, reason) VALUES ($1, $2, $3, $4, $5, $6)",
                &[&r.seq, &r.kind.as_str(), &r.id, &r.revoked_at, &r.expires_at, &r.reason],
            )
            .await?;
        }
        let revocation_seq = dump.revocations.iter().map(|r| r.seq).fold(dump.revocation_seq, i64::max);
        tx.execute("UPDATE heads SET seq = $1 WHERE name = 'revocations'", &[&revocation_seq]).await?;
        for row in &dump.clients {
            insert_client(tx, row, "").await?;
        }
        for t in &dump.tokens {
            tx.execute(
                "INSERT INTO admin_tokens (id, name, role, token_hash, created_at, expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[&t.id, &t.name, &t.role.as_str(), &t.token_hash.as_slice(), &t.created_at, &t.expires_at, &t.revoked_at],
            )
            .await?;
        }
        let stmt = tx
            .prepare(
                "INSERT INTO audit (seq, at, actor, action, target, decision, code, details, prev_hash, hash) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .await?;
        for e in &dump.audit {
            tx.execute(&stmt, &[&e.seq, &e.at, &e.actor, &e.action, &e.target, &e.decision, &e.code, &e.details, &e.prev_hash, &e.hash])
                .await?;
        }
        let (seq, hash) = dump.audit.last().map_or((0, GENESIS.to_owned()), |e| (e.seq, e.hash.clone()));
        tx.execute("UPDATE heads SET seq = $1, hash = $2 WHERE name = 'audit'", &[&seq, &hash]).await?;
        w.tx.commit().await?;
        Ok(())
    }
}

async fn counts(c: &impl tokio_postgres::GenericClient) -> Result<TableCounts> {
    let r = c
        .query_one(
            "SELECT (SELECT count(*) FROM meta), (SELECT count(*) FROM keys), (SELECT count(*) FROM servers), \
             (SELECT count(*) FROM server_versions), (SELECT count(*) FROM remote_urls), (SELECT count(*) FROM revocations), \
             (SELECT count(*) FROM clients), (SELECT count(*) FROM admin_tokens), (SELECT count(*) FROM audit)",
            &[],
        )
        .await?;
    let n = |i: usize| -> Result<u64> { Ok(r.try_get::<_, i64>(i)?.unsigned_abs()) };
    Ok(TableCounts {
        meta: n(0)?,
        keys: n(1)?,
        servers: n(2)?,
        server_versions: n(3)?,
        remote_urls: n(4)?,
        revocations: n(5)?,
        clients: n(6)?,
        admin_tokens: n(7)?,
        audit: n(8)?,
    })
}
