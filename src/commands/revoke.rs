//! `mcpca revoke` and `mcpca revocations`.

use super::Ctx;
use crate::authority::RevokeTarget;
use crate::cli::{RevocationsArgs, RevokeArgs};
use crate::model::{Revocation, SignedFeed};
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
    let target = match (args.server, args.jti, args.key, args.client) {
        (Some(s), None, None, None) => RevokeTarget::Server(s),
        (None, Some(j), None, None) => RevokeTarget::Jti(j),
        (None, None, Some(k), None) => {
            ctx.confirm(&format!("revoke key {k} (descriptors it signed stop verifying; this cannot be undone)"))?;
            RevokeTarget::Key(k)
        }
        (None, None, None, Some(c)) => RevokeTarget::Client(c),
        _ => return Err(Error::invalid("give exactly one of NAME, --jti ID, --client ID or --key KID", "see `mcpca revoke --help`")),
    };
    let a = ctx.authority()?;
    let r = a.revoke(&target, args.reason).await?;
    match &target {
        RevokeTarget::Server(s) => ctx.note(format!("revoked server {s}: no new descriptors (server_revoked)")),
        RevokeTarget::Jti(j) => ctx.note(format!("revoked descriptor {j}")),
        RevokeTarget::Key(k) => ctx.note(format!("revoked key {k}")),
        RevokeTarget::Client(c) => ctx.note(format!("revoked client {c}: suspended, and descriptors it holds are in the revocation feed")),
    }
    if let Some(k) = &r.activated {
        ctx.note(format!("the revoked key was active; key {k} signs from now on"));
    }
    ctx.print(&r)
}

impl Tabular for SignedFeed {
    fn table(&self) -> String {
        let f = &self.feed;
        let mut t = table(&["KIND", "ID", "REVOKED-AT", "EXPIRES-AT"]);
        for e in &f.entries {
            t.add_row([e.kind.as_str().into(), e.id.clone(), crate::clock::rfc3339(e.revoked_at), crate::clock::rfc3339(e.expires_at)]);
        }
        format!("issuer {}  seq {}  issued {}\n{}", f.issuer, f.seq, crate::clock::rfc3339(f.issued_at), crate::output::finish(&t))
    }
}

pub(super) async fn list(ctx: &Ctx, args: RevocationsArgs) -> Result<()> {
    let a = ctx.authority()?;
    let feed = a.revocation_feed(args.since).await?;
    match ctx.global.output {
        // By default the signed document itself, ready for `verify --revocations FILE`.
        None => ctx.print_raw(&format!("{}\n", feed.jws)),
        Some(_) => ctx.print(&feed),
    }
}
