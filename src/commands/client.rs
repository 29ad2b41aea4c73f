//! `mcpca client …` and `mcpca token …`.

use super::Ctx;
use crate::cli::{ClientCommand, ClientPolicyArgs, TokenCommand};
use crate::model::{ClientCreated, ClientInfo, ClientPolicy, TokenCreated, TokenInfo};
use crate::output::{finish, pairs, table, Tabular};
use crate::store::ClientStatus;
use crate::Result;

impl Tabular for ClientInfo {
    fn table(&self) -> String {
        let mut rows = vec![("id", self.id.clone()), ("tenant", self.tenant.clone().unwrap_or_else(|| "-".into()))];
        rows.push(("allow", self.allow.join(" ")));
        rows.push(("max ttl", self.max_ttl.map_or_else(|| "-".into(), |d| d.to_string())));
        rows.push(("rate", self.rate_per_min.map_or_else(|| "unlimited".into(), |r| format!("{r}/min"))));
        let status = match &self.status_reason {
            Some(r) => format!("{} ({r})", self.status.as_str()),
            None => self.status.as_str().into(),
        };
        rows.push(("status", status));
        rows.push(("created", self.created_at.clone()));
        rows.push(("updated", self.updated_at.clone()));
        pairs(&rows)
    }
}

impl Tabular for Vec<ClientInfo> {
    fn table(&self) -> String {
        let mut t = table(&["ID", "TENANT", "STATUS", "ALLOW", "MAX-TTL", "RATE"]);
        for c in self {
            t.add_row([
                c.id.clone(),
                c.tenant.clone().unwrap_or_else(|| "-".into()),
                c.status.as_str().into(),
                c.allow.join(" "),
                c.max_ttl.map_or_else(|| "-".into(), |d| d.to_string()),
                c.rate_per_min.map_or_else(|| "-".into(), |r| format!("{r}/min")),
            ]);
        }
        finish(&t)
    }
}

impl Tabular for ClientCreated {
    fn table(&self) -> String {
        // The secret is the data; the rest went to stderr.
        format!("{}\n", self.secret)
    }
}

impl Tabular for TokenInfo {
    fn table(&self) -> String {
        std::slice::from_ref(self).to_vec().table()
    }
}

impl Tabular for Vec<TokenInfo> {
    fn table(&self) -> String {
        let mut t = table(&["ID", "NAME", "ROLE", "STATE", "CREATED", "EXPIRES"]);
        for k in self {
            t.add_row([
                k.id.clone(),
                k.name.clone().unwrap_or_else(|| "-".into()),
                k.role.as_str().into(),
                k.state.clone(),
                k.created_at.clone(),
                k.expires_at.clone().unwrap_or_else(|| "never".into()),
            ]);
        }
        finish(&t)
    }
}

impl Tabular for TokenCreated {
    fn table(&self) -> String {
        format!("{}\n", self.secret)
    }
}

fn policy(p: ClientPolicyArgs) -> ClientPolicy {
    ClientPolicy { tenant: p.tenant, allow: p.allow, max_ttl: p.max_ttl, rate_per_min: p.rate.map(|r| r.0) }
}

fn secret_note(ctx: &Ctx, what: &str, id: &str) {
    ctx.note(format!("{what} {id}: the secret below is shown once and cannot be recovered; store it now"));
}

pub(super) async fn run(ctx: &Ctx, cmd: ClientCommand) -> Result<()> {
    let a = ctx.authority()?;
    match cmd {
        ClientCommand::Add(args) => {
            let created = a.client_add(&args.id, policy(args.policy)).await?;
            secret_note(ctx, "added client", &created.client.id);
            ctx.print(&created)
        }
        ClientCommand::List => ctx.print(&a.client_list().await?),
        ClientCommand::Show(args) => ctx.print(&a.client_show(&args.id).await?),
        ClientCommand::Update(args) => {
            let old = a.client_show(&args.id).await?;
            let given = policy(args.policy);
            let merged = ClientPolicy {
                tenant: if args.no_tenant { None } else { given.tenant.or(old.tenant) },
                allow: if given.allow.is_empty() { old.allow } else { given.allow },
                max_ttl: if args.no_max_ttl { None } else { given.max_ttl.or(old.max_ttl) },
                rate_per_min: if args.no_rate { None } else { given.rate_per_min.or(old.rate_per_min) },
            };
            let c = a.client_update(&args.id, merged).await?;
            ctx.note(format!("updated client {}", c.id));
            ctx.print(&c)
        }
        ClientCommand::Suspend(args) => {
            let c = a.client_set_status(&args.id, ClientStatus::Suspended, args.reason).await?;
            ctx.note(format!(
                "suspended client {}: its requests are refused (policy_blocked); `mcpca revoke --client` also cuts off what it holds",
                c.id
            ));
            ctx.print(&c)
        }
        ClientCommand::Resume(args) => {
            let c = a.client_set_status(&args.id, ClientStatus::Active, None).await?;
            ctx.note(format!("resumed client {}", c.id));
            ctx.print(&c)
        }
        ClientCommand::Remove(args) => {
            a.client_remove(&args.id).await?;
            ctx.note(format!("removed client {}; descriptors it held are revoked", args.id));
            Ok(())
        }
        ClientCommand::RotateSecret(args) => {
            let created = a.client_rotate_secret(&args.id).await?;
            secret_note(ctx, "new secret for client", &created.client.id);
            ctx.print(&created)
        }
    }
}

pub(super) async fn token(ctx: &Ctx, cmd: TokenCommand) -> Result<()> {
    let a = ctx.authority()?;
    match cmd {
        TokenCommand::Create(args) => {
            let created = a.token_create(args.role, args.name, args.expires).await?;
            secret_note(ctx, &format!("created {} token", created.token.role.as_str()), &created.token.id);
            ctx.print(&created)
        }
        TokenCommand::List => ctx.print(&a.token_list().await?),
        TokenCommand::Revoke(args) => {
            let t = a.token_revoke(&args.id).await?;
            ctx.note(format!("revoked token {}", t.id));
            ctx.print(&t)
        }
    }
}
