//! `mcpca migrate --to postgres://…`: copy this machine's SQLite authority into PostgreSQL,
//! row for row, then check the copy.

use serde::Serialize;

use super::effective_paths;
use crate::audit::{verify_chain, GENESIS};
use crate::config::{DatabaseUrl, FileConfig, Paths};
use crate::store::{PgStore, SqliteStore, Store, TableCounts};
use crate::{Error, Result};

/// What `migrate` copied and checked.
#[derive(Debug, Clone, Serialize)]
pub struct MigrateReport {
    /// The SQLite file read.
    pub source: String,
    /// The target, without its password.
    pub target: String,
    /// Rows per table, the same in source and target.
    pub rows: TableCounts,
    /// Audit events whose chain was verified in the target.
    pub audit_verified: u64,
    /// Hash of the last audit event (the same in both).
    pub audit_head: String,
    /// Whether the target's earlier contents were replaced (`--force`).
    pub replaced: bool,
}

/// Copy the SQLite authority of `paths` into the database at `to`. Refuses a non-empty target
/// unless `force`; verifies row counts and the audit chain in the target after.
pub async fn migrate(paths: &Paths, to: &DatabaseUrl, force: bool) -> Result<MigrateReport> {
    let hint = "migrate reads this home's SQLite file; the target is --to";
    if paths.database_url.is_some() {
        return Err(Error::invalid(
            "--database-url / MCPCA_DATABASE_URL name the source, and a PostgreSQL source cannot be migrated",
            hint,
        ));
    }
    let file = FileConfig::load(&paths.config_file)?;
    if file.as_ref().is_some_and(|f| f.database_url.is_some()) {
        return Err(Error::invalid(
            format!("{} sets database_url: this authority is on PostgreSQL already", paths.config_file.display()),
            hint,
        ));
    }
    let paths = effective_paths(paths, &file.clone().unwrap_or_default())?;
    if file.is_none() || !paths.database.exists() {
        let home = paths.config_file.parent().map(std::path::PathBuf::from).unwrap_or_default();
        return Err(Error::NotInitialized(home));
    }
    let source = SqliteStore::open(&paths.database, false)?;
    let dump = source.dump().await?;
    // A chain that is broken already would be copied broken: say so before anything is written.
    let (source_events, source_head) = walk_chain(&source).await.map_err(|e| match e {
        Error::AuditBroken { seq, problem } => Error::refused(
            format!("the audit chain of {} is broken at event {seq}: {problem}", paths.database.display()),
            "see `mcpca audit verify`; nothing was copied",
        ),
        e => e,
    })?;

    let target = PgStore::connect(to.expose()).await?;
    let replaced = target.counts().await? != TableCounts::default();
    target.load(&dump, force).await?;

    let rows = target.counts().await?;
    if rows != dump.counts() {
        return Err(Error::Store(format!(
            "the copy in {} does not hold every row: source {:?}, target {rows:?}",
            to.redacted(),
            dump.counts()
        )));
    }
    let (verified, head) = walk_chain(&target).await?;
    if head != source_head || verified != source_events || verified != rows.audit {
        return Err(Error::Store(format!("the audit chain in {} does not end where the source's does", to.redacted())));
    }
    Ok(MigrateReport {
        source: paths.database.display().to_string(),
        target: to.redacted(),
        rows,
        audit_verified: verified,
        audit_head: head,
        replaced: replaced && force,
    })
}

/// Verify a store's whole chain, page by page: how many events, and the head's hash.
async fn walk_chain(store: &dyn Store) -> Result<(u64, String)> {
    let mut after = 0;
    let mut prev = GENESIS.to_owned();
    let mut verified = 0;
    loop {
        let page = store.audit_page(after, 5_000).await?;
        let Some(last) = page.last() else { return Ok((verified, prev)) };
        if after == 0 && page[0].seq != 1 {
            return Err(Error::AuditBroken { seq: page[0].seq, problem: "the log does not start at event 1".into() });
        }
        after = last.seq;
        verified += verify_chain(&page, &prev).map_err(|b| Error::AuditBroken { seq: b.seq, problem: b.problem })?;
        prev.clone_from(&last.hash);
    }
}
