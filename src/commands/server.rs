//! `mcpca server add|list|show|update|remove|suspend|resume|deprecate`.

use std::io::Read;

use super::Ctx;
use crate::authority::{Authority, ServerInput};
use crate::cli::{ServerAddArgs, ServerCommand};
use crate::model::Status;
use crate::registry::{document_from_flags, ServerFlags};
use crate::store::{ServerFilter, ServerUpdate};
use crate::{Error, Result};

pub(super) async fn run(ctx: &Ctx, cmd: ServerCommand) -> Result<()> {
    let a = ctx.authority()?;
    match cmd {
        ServerCommand::Add(args) => {
            let input = input(args)?;
            let e = a.server_add(input).await?;
            ctx.note(format!("added {}@{}", e.name(), e.version()));
            if e.authority.endpoint.is_none() {
                ctx.note("note: it has no streamable-http remote, so no descriptors can be issued for it (transport_not_supported)");
            }
            ctx.print(&e)
        }
        ServerCommand::List(args) => {
            let filter =
                ServerFilter { status: args.status, search: args.search, include_deleted: args.include_deleted, latest_only: args.latest };
            ctx.print(&a.server_list(&filter).await?)
        }
        ServerCommand::Show(args) => ctx.print(&a.server_show(&args.server).await?),
        ServerCommand::Update(args) => {
            let update = ServerUpdate {
                verified: if args.verified {
                    Some(true)
                } else if args.unverified {
                    Some(false)
                } else {
                    None
                },
                max_ttl: if args.no_max_ttl { Some(None) } else { args.max_ttl.map(Some) },
            };
            ctx.print(&a.server_update(&args.name, update).await?)
        }
        ServerCommand::Remove(m) => moderate(ctx, &*a, m, Status::Deleted, "removed").await,
        ServerCommand::Suspend(m) => moderate(ctx, &*a, m, Status::Suspended, "suspended").await,
        ServerCommand::Resume(m) => moderate(ctx, &*a, m, Status::Active, "resumed").await,
        ServerCommand::Deprecate(m) => moderate(ctx, &*a, m, Status::Deprecated, "deprecated").await,
        ServerCommand::Import(args) => super::import::run(ctx, &*a, args).await,
    }
}

async fn moderate(ctx: &Ctx, a: &dyn Authority, m: crate::cli::ModerateArgs, status: Status, verb: &str) -> Result<()> {
    let d = a.server_set_status(&m.server, status, m.reason).await?;
    ctx.note(format!("{verb} {}", m.server));
    if status == Status::Active && d.entry.authority.status != Status::Active {
        ctx.note(format!(
            "note: {} is still {} because of the status of its {}",
            m.server,
            d.entry.authority.status,
            if m.server.version.is_some() { "name" } else { "version" }
        ));
    }
    ctx.print(&d)
}

fn input(args: ServerAddArgs) -> Result<ServerInput> {
    let document = match (&args.file, &args.name) {
        (Some(path), _) => {
            let text = if path.as_os_str() == "-" {
                let mut s = String::new();
                std::io::stdin().take(4 << 20).read_to_string(&mut s).map_err(|e| Error::io("cannot read", "<stdin>", e))?;
                s
            } else {
                std::fs::read_to_string(path).map_err(|e| Error::io("cannot read", path, e))?
            };
            serde_json::from_str(&text).map_err(|e| {
                Error::invalid(
                    format!("{} is not JSON: {e}", path.display()),
                    "give an official server.json document (see the MCP registry's schema)",
                )
            })?
        }
        (None, Some(name)) => document_from_flags(&ServerFlags {
            name: name.clone(),
            url: args.url.clone().unwrap_or_default(),
            version: args.version.clone(),
            description: args.description.clone(),
            title: args.title.clone(),
        }),
        (None, None) => return Err(Error::invalid("no server given", "give NAME --url URL, or --file server.json")),
    };
    Ok(ServerInput { document, verified: args.verified.then_some(true), max_ttl: args.max_ttl })
}
