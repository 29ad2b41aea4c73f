//! `mcpca revoke` and `mcpca revocations`.

use super::Ctx;
use crate::authority::{Authority, RevokeTarget};
use crate::cli::{RevocationsArgs, RevokeArgs};
use crate::model::Revocation;
use crate::output::{table, Tabular};
use crate::{Error, Result};

impl Tabular for Vec<Revocation> {
    fn table(&self) -> String {
        let mut t = table(&["SEQ", "KIND", "ID", "REVOKED-AT", "EXPIRES-AT", "REASON"]);
        for r in self {
            t.add_row([
                r.seq.to_string(),
                r.kind.as_str().into(),
                r.id.clone(),
                crate::clock::rfc3339(r.revoked_at),
                crate::clock::rfc3339(r.expires_at),
                r.reason.clone().unwrap_or_default(),
            ]);
        }
        crate::output::finish(&t)
    }
}

pub(super) async fn run(ctx: &Ctx, args: RevokeArgs) -> Result<()> {
    let target = match (args.server, args.jti, args.key) {
        (Some(s), None, None) => RevokeTarget::Server(s),
        (None, Some(j), None) => RevokeTarget::Jti(j),
        (None, None, Some(k)) => {
            ctx.confirm(&format!("revoke key {k} (descriptors it signed stop verifying; this cannot be undone)"))?;
            RevokeTarget::Key(k)
        }
        _ => return Err(Error::invalid("give exactly one of NAME, --jti ID or --key KID", "see `mcpca revoke --help`")),
    };
    let a = ctx.authority()?;
    let r = a.revoke(&target, args.reason).await?;
    match &target {
        RevokeTarget::Server(s) => ctx.note(format!("revoked server {s}: no new descriptors (server_revoked)")),
        RevokeTarget::Jti(j) => ctx.note(format!("revoked descriptor {j}")),
        RevokeTarget::Key(k) => ctx.note(format!("revoked key {k}")),
    }
    if let Some(k) = &r.activated {
        ctx.note(format!("the revoked key was active; key {k} signs from now on"));
    }
    ctx.print(&r)
}

pub(super) async fn list(ctx: &Ctx, args: RevocationsArgs) -> Result<()> {
    let a = ctx.authority()?;
    ctx.print(&a.revocations(args.since).await?)
}
