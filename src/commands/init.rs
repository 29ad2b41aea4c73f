//! `mcpca init`.

use super::Ctx;
use crate::authority::local::{init, InitReport};
use crate::cli::{InitArgs, OutputFormat};
use crate::output::{pairs, Tabular};
use crate::Result;

impl Tabular for InitReport {
    fn table(&self) -> String {
        let mut rows = vec![
            ("config", self.config_file.clone()),
            ("database", self.database.clone()),
            ("kek", self.kek.clone()),
            ("issuer", self.issuer.clone()),
        ];
        rows.push(("active key", self.active_kid.clone().unwrap_or_else(|| "-".into())));
        rows.push(("next key", self.next_kid.clone().unwrap_or_else(|| "-".into())));
        pairs(&rows)
    }
}

pub(super) async fn run(ctx: &Ctx, args: InitArgs) -> Result<()> {
    ctx.local_only("`mcpca init` creates an authority on this machine")?;
    let report = init(&ctx.paths, args.issuer.as_deref(), ctx.clock.clone()).await?;
    if report.changed {
        for c in &report.created {
            ctx.note(format!("created {c}"));
        }
    } else {
        ctx.note("already initialized: nothing changed");
    }
    for n in &report.notes {
        ctx.note(format!("note: {n}"));
    }
    if ctx.format_or(OutputFormat::Table) != OutputFormat::Table || !ctx.global.quiet {
        ctx.print(&report)?;
    }
    if report.changed && std::env::var_os("MCPCA_KEK").is_none() {
        ctx.note("back up the key-encryption key file: without it the stored signing keys cannot be opened");
    }
    Ok(())
}
