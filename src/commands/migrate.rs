//! `mcpca migrate`.

use super::Ctx;
use crate::authority::local::{migrate, MigrateReport};
use crate::cli::MigrateArgs;
use crate::output::{pairs, Tabular};
use crate::Result;

impl Tabular for MigrateReport {
    fn table(&self) -> String {
        let r = &self.rows;
        pairs(&[
            ("from", self.source.clone()),
            ("to", self.target.clone()),
            ("keys", r.keys.to_string()),
            ("servers", format!("{} ({} versions, {} remote URLs)", r.servers, r.server_versions, r.remote_urls)),
            ("clients", r.clients.to_string()),
            ("admin tokens", r.admin_tokens.to_string()),
            ("revocations", r.revocations.to_string()),
            ("audit events", format!("{} (chain verified)", self.audit_verified)),
            ("audit head", self.audit_head.clone()),
        ])
    }
}

pub(super) async fn run(ctx: &Ctx, args: MigrateArgs) -> Result<()> {
    ctx.local_only("`mcpca migrate` copies this machine's SQLite authority")?;
    let report = migrate(&ctx.paths, &args.to, args.force).await?;
    if report.replaced {
        ctx.note(format!("replaced the earlier contents of {}", report.target));
    }
    ctx.print(&report)?;
    ctx.note(format!(
        "copied; run every replica with MCPCA_DATABASE_URL={} and this authority's key-encryption key (the `kek` file or MCPCA_KEK)",
        report.target
    ));
    Ok(())
}
