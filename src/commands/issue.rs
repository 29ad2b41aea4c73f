//! `mcpca issue`: ask the authority for a descriptor and print it.

use serde_json::json;

use super::Ctx;
use crate::authority::IssueRequest;
use crate::cli::{IssueArgs, OutputFormat};
use crate::model::Envelope;
use crate::output::{json, Tabular};
use crate::Result;

impl Tabular for Envelope {
    fn table(&self) -> String {
        format!("{}\n", self.descriptor)
    }
}

/// A `.mcp.json`-style entry: the server under its short name, with the descriptor header.
pub fn mcp_config(e: &Envelope) -> serde_json::Value {
    let short = e.server.id.rsplit('/').next().unwrap_or(&e.server.id);
    json!({
        "mcpServers": {
            short: {
                "type": "http",
                "url": e.endpoint,
                "headers": { e.header.clone(): e.descriptor },
            }
        }
    })
}

pub(super) async fn run(ctx: &Ctx, args: IssueArgs) -> Result<()> {
    let a = ctx.authority()?;
    let req = IssueRequest { server: args.server, ttl: args.ttl, client: args.client, tenant: args.tenant, scope: args.scope };
    let env = a.issue(&req).await?;
    if let Some(c) = &env.clamped {
        ctx.note(format!("note: requested ttl {} lowered to {} ({})", c.requested, c.granted, c.limit));
    }
    if args.mcp_config {
        return ctx.print_raw(&json(&mcp_config(&env))?);
    }
    match ctx.format_or(OutputFormat::Table) {
        // The JWT alone, so `$(mcpca issue …)` is the descriptor.
        OutputFormat::Table => ctx.print_raw(&format!("{}\n", env.descriptor)),
        _ => ctx.print(&env),
    }
}
