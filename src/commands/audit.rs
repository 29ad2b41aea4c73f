//! `mcpca audit [verify|export]`.

use super::{Backend, Ctx};
use crate::audit::AuditEvent;
use crate::authority::Authority;
use crate::cli::{AuditArgs, AuditCommand};
use crate::clock::{parse_instant, rfc3339};
use crate::duration::Dur;
use crate::model::AuditReport;
use crate::output::{finish, pairs, table, Tabular};
use crate::store::AuditFilter;
use crate::{Error, Result};

impl Tabular for Vec<AuditEvent> {
    fn table(&self) -> String {
        let mut t = table(&["SEQ", "AT", "ACTOR", "ACTION", "TARGET", "DECISION", "DETAILS"]);
        for e in self {
            let decision = match (&e.decision, &e.code) {
                (Some(d), Some(c)) => format!("{} {c}", d.as_str()),
                (Some(d), None) => d.as_str().into(),
                _ => String::new(),
            };
            let details = if e.details.is_null() { String::new() } else { e.details.to_string() };
            t.add_row([e.seq.to_string(), rfc3339(e.at), e.actor.clone(), e.action.clone(), e.target.clone(), decision, details]);
        }
        finish(&t)
    }
}

impl Tabular for AuditReport {
    fn table(&self) -> String {
        let mut rows = vec![("events", self.events.to_string()), ("intact", if self.intact { "yes" } else { "NO" }.into())];
        if let (Some(at), Some(p)) = (self.broken_at, &self.problem) {
            rows.push(("broken at", format!("event {at}: {p}")));
        }
        if let Some(h) = &self.head {
            rows.push(("head", h.clone()));
        }
        pairs(&rows)
    }
}

/// `--since 1h` (a duration ago) or `--since 2026-11-22T10:00:00Z`.
fn since(text: &str, now: i64) -> Result<i64> {
    match text.parse::<Dur>() {
        Ok(d) => Ok(now - d.as_i64()),
        Err(_) => parse_instant(text),
    }
}

pub(super) async fn run(ctx: &Ctx, args: AuditArgs) -> Result<()> {
    let a = ctx.authority()?;
    match args.command {
        Some(AuditCommand::Verify) => {
            let report = a.audit_verify().await?;
            ctx.print(&report)?;
            match (report.broken_at, &report.problem) {
                (Some(at), Some(p)) => Err(Error::AuditBroken { seq: at, problem: p.clone() }),
                _ => Ok(()),
            }
        }
        Some(AuditCommand::Export) => {
            let mut out = String::new();
            let mut write = |page: &[AuditEvent]| {
                for e in page {
                    out.push_str(&serde_json::to_string(e).map_err(|e| Error::Store(e.to_string()))?);
                    out.push('\n');
                }
                Ok(())
            };
            match &a {
                Backend::Local(l) => crate::authority::local::export_audit(l, write).await?,
                // The admin API answers the whole log, in order, to an unfiltered list.
                Backend::Remote(r) => write(&r.audit_list(&AuditFilter::default()).await?)?,
            }
            ctx.print_raw(&out)
        }
        None => {
            let f = &args.filter;
            let filter = AuditFilter {
                since: f.since.as_deref().map(|s| since(s, ctx.clock.now())).transpose()?,
                server: f.server.clone(),
                client: f.client.clone(),
                decision: f.decision,
                limit: f.limit,
            };
            ctx.print(&a.audit_list(&filter).await?)
        }
    }
}
