//! `mcpca check`: probe a live MCP server with the authority's probe set and report, case by
//! case, whether it answers as the verifier contract says.

use std::time::Duration;

use super::Ctx;
use crate::check::{self, Options, Presentation, ProbeRequest, Prober};
use crate::cli::CheckArgs;
use crate::descriptor::canonical_url;
use crate::{Error, Result};

pub(super) async fn run(ctx: &Ctx, args: CheckArgs) -> Result<()> {
    let header = if args.bearer { Presentation::Authorization } else { Presentation::McpConnect };
    let prober = Prober::new(&args.url, header)?;
    let a = ctx.authority()?;
    // Nothing is issued for a server that does not answer: the unsigned case goes first.
    let missing = prober.send(None).await?;
    let request = ProbeRequest { server: args.server, ttl: args.ttl, revoked: args.expect_revocation };
    let set = a.probe_set(&request).await.map_err(|e| match e {
        // The authority's refusal to sign is not the server's failure: it is operational.
        Error::Denied { code, message, .. } => Error::Refused {
            message: format!("the authority will not issue probe descriptors for {}: {code}: {message}", request.server),
            hint: Error::Denied { code, message: String::new(), retry_after: None }.hint(),
        },
        e => e,
    })?;
    if canonical_url(&args.url).ok().as_deref() != Some(set.audience.as_str()) {
        ctx.note(format!(
            "note: probing {}, but {}@{} is registered at {}: the descriptors name that as their audience",
            prober.url(),
            set.server.id,
            set.server.version,
            set.audience
        ));
    }
    let options = Options {
        expect_revocation: args.expect_revocation,
        revocation_wait: Duration::from_secs(args.revocation_wait.secs()),
        skip: args.skip,
    };
    let report = check::run(&prober, missing, &set, &options).await?;
    ctx.print(&report)?;
    let failures = report.failures();
    if failures.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = failures.iter().map(|c| c.as_str()).collect();
    Err(Error::Rejected {
        message: format!(
            "{} of {} cases differ from the verifier contract: {}",
            failures.len(),
            report.rows.len() - report.skipped,
            names.join(", ")
        ),
        hint: Some(
            "the server must refuse each broken descriptor with 401 and {\"error\":\"<code>\"} (DESIGN §3); \
             `mcpca::descriptor::Verifier` implements the contract"
                .into(),
        ),
    })
}
