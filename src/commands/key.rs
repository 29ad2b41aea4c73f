//! `mcpca key list|generate|rotate|retire|revoke|export`.

use super::{Backend, Ctx};
use crate::authority::{RevokeReport, RevokeTarget};
use crate::cli::{ExportArgs, KeyCommand, OutputFormat};
use crate::fsutil;
use crate::keys::Jwks;
use crate::model::RotateReport;
use crate::output::{json, pairs, Tabular};
use crate::{Error, Result};

impl Tabular for RotateReport {
    fn table(&self) -> String {
        let mut rows = vec![("active", self.activated.clone())];
        if let (Some(k), Some(t)) = (&self.retiring, &self.retire_at) {
            rows.push(("retiring", format!("{k} (retire after {t})")));
        }
        rows.push(("next", self.next.clone()));
        for r in &self.retired {
            rows.push(("retired", r.clone()));
        }
        pairs(&rows)
    }
}

impl Tabular for RevokeReport {
    fn table(&self) -> String {
        let r = &self.revocation;
        let mut rows = vec![
            ("revoked", format!("{} {}", r.kind.as_str(), r.id)),
            ("seq", r.seq.to_string()),
            ("at", crate::clock::rfc3339(r.revoked_at)),
            ("in feed until", crate::clock::rfc3339(r.expires_at)),
        ];
        if let Some(reason) = &r.reason {
            rows.push(("reason", reason.clone()));
        }
        if let Some(k) = &self.activated {
            rows.push(("now active", k.clone()));
        }
        pairs(&rows)
    }
}

impl Tabular for Jwks {
    fn table(&self) -> String {
        // A JWKS is for programs: its table form is its JSON.
        json(self).unwrap_or_default()
    }
}

pub(super) async fn run(ctx: &Ctx, cmd: KeyCommand) -> Result<()> {
    let a = ctx.authority()?;
    match cmd {
        KeyCommand::List => ctx.print(&a.key_list().await?),
        KeyCommand::Generate => {
            let k = a.key_generate().await?;
            ctx.note(format!("generated next key {}; it is published now and signs after `mcpca key rotate`", k.kid));
            ctx.print(&k)
        }
        KeyCommand::Rotate(args) => {
            let r = a.key_rotate(args.grace).await?;
            ctx.note(format!("key {} signs from now on", r.activated));
            ctx.print(&r)
        }
        KeyCommand::Retire(args) => {
            let k = a.key_retire(&args.kid).await?;
            ctx.note(format!("key {} retired: unpublished, private half destroyed", k.kid));
            ctx.print(&k)
        }
        KeyCommand::Revoke(args) => {
            ctx.confirm(&format!("revoke key {} (descriptors it signed stop verifying; this cannot be undone)", args.kid))?;
            let r = a.revoke(&RevokeTarget::Key(args.kid), args.reason).await?;
            if let Some(k) = &r.activated {
                ctx.note(format!("the revoked key was active; key {k} signs from now on"));
            }
            ctx.print(&r)
        }
        KeyCommand::Export(args) => export(ctx, &a, args).await,
    }
}

async fn export(ctx: &Ctx, a: &Backend, args: ExportArgs) -> Result<()> {
    if args.public {
        let text = match ctx.format_or(OutputFormat::Json) {
            OutputFormat::Yaml => crate::output::render(&a.jwks().await?, OutputFormat::Yaml)?,
            _ => json(&a.jwks().await?)?,
        };
        return match &args.out {
            Some(path) => fsutil::create_new(path, text.as_bytes(), 0o644),
            None => ctx.print_raw(&text),
        };
    }
    let Some(kid) = args.private else {
        return Err(Error::invalid("nothing to export", "give --public or --private KID"));
    };
    if let Backend::Remote(_) = a {
        // Refused before any confirmation is asked: there is nothing to confirm.
        return Err(crate::authority::remote::private_key_refusal());
    }
    ctx.confirm(&format!("export the PRIVATE key {kid} in clear text"))?;
    let pem = a.key_export_private(&kid).await?;
    match &args.out {
        Some(path) => {
            fsutil::create_secret(path, pem.as_bytes())?;
            ctx.note(format!("wrote private key {kid} to {} (mode 0600)", path.display()));
            Ok(())
        }
        None => ctx.print_raw(&pem),
    }
}
