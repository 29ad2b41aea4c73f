//! `mcpca connect`: a client asks a remote authority for a descriptor with its credentials and
//! prints it (alone, as its envelope, or as a ready `.mcp.json` entry).

use serde_json::json;

use super::Ctx;
use crate::authority::connect::ConnectClient;
use crate::authority::remote::{is_loopback, Secret};
use crate::check::Presentation;
use crate::cli::{ConnectArgs, ConnectFormat, OutputFormat};
use crate::model::Envelope;
use crate::output::render;
use crate::{Error, Result};

/// A `.mcp.json`-style entry: the server under its short name, with the descriptor header.
pub fn mcp_json(e: &Envelope, header: Presentation) -> serde_json::Value {
    let short = e.server.id.rsplit('/').next().unwrap_or(&e.server.id);
    let (name, value) = header.header(&e.descriptor);
    json!({ "mcpServers": { short: { "type": "http", "url": e.endpoint, "headers": { name: value } } } })
}

/// The client secret: `--client-secret-file` > `MCPCA_CLIENT_SECRET`.
fn secret(args: &ConnectArgs) -> Result<Secret> {
    let hint = "set MCPCA_CLIENT_SECRET or give --client-secret-file FILE (the secret `mcpca client add` printed)";
    let secret = match &args.client_secret_file {
        Some(path) => {
            let text = zeroize::Zeroizing::new(
                std::fs::read_to_string(path)
                    .map_err(|e| Error::invalid(format!("cannot read the client secret file {}: {e}", path.display()), hint))?,
            );
            let s = Secret::new(&text);
            if s.is_empty() {
                return Err(Error::invalid(format!("the client secret file {} is empty", path.display()), hint));
            }
            s
        }
        None => match std::env::var("MCPCA_CLIENT_SECRET").map(|v| Secret::new(&v)) {
            Ok(s) if !s.is_empty() => s,
            _ => return Err(Error::invalid("no client credentials: `mcpca connect` needs the client's secret", hint)),
        },
    };
    Ok(secret)
}

pub(super) async fn run(ctx: &Ctx, args: ConnectArgs) -> Result<()> {
    let target = ctx.remote_target()?.ok_or_else(|| {
        Error::invalid(
            "no authority to connect through",
            "give --registry URL or MCPCA_REGISTRY, or make a context current with `mcpca context use NAME`",
        )
    })?;
    let client = ConnectClient::new(&target.url, &secret(&args)?)?;
    if client.base().scheme() == "http" && !is_loopback(client.base()) {
        ctx.note(format!(
            "warning: the client secret travels unencrypted to {} (plain http); use https beyond this machine",
            client.base()
        ));
    }
    let env = client.connect(&args.server, args.ttl, args.client_id.as_deref()).await?;
    if let Some(c) = &env.clamped {
        ctx.note(format!("note: requested ttl {} lowered to {} ({})", c.requested, c.granted, c.limit));
    }
    let header = if args.bearer { Presentation::Authorization } else { Presentation::McpConnect };
    match (args.format, ctx.global.output) {
        (Some(ConnectFormat::McpJson), Some(OutputFormat::Yaml)) => {
            ctx.print_raw(&render(&Raw(mcp_json(&env, header)), OutputFormat::Yaml)?)
        }
        (Some(ConnectFormat::McpJson), _) => ctx.print_raw(&crate::output::json(&mcp_json(&env, header))?),
        // The JWT alone, so `$(mcpca connect …)` is the descriptor.
        (_, None | Some(OutputFormat::Table)) => ctx.print_raw(&format!("{}\n", env.descriptor)),
        _ => ctx.print(&env),
    }
}

/// A JSON value to render as YAML.
#[derive(serde::Serialize)]
#[serde(transparent)]
struct Raw(serde_json::Value);

impl crate::output::Tabular for Raw {
    fn table(&self) -> String {
        self.0.to_string()
    }
}
