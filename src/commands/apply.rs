//! `mcpca apply -f FILE [--dry-run]` and `mcpca export [--out FILE]`: declarative state for
//! GitOps. The format and the plan semantics live in [`crate::state`]; this module reads the
//! file, prints the plan and the secrets of new clients, and writes exports.

use std::io::Read;
use std::path::Path;

use serde::Serialize;

use super::Ctx;
use crate::cli::{ApplyArgs, ExportStateArgs, OutputFormat};
use crate::model::ClientCreated;
use crate::output::{finish, table, Tabular};
use crate::state::{self, Action, AuthorityState, Plan, Step, Summary};
use crate::{Error, Result};

/// Largest state file read from stdin.
const STDIN_LIMIT: u64 = 256 << 20;

/// A new client's secret, shown once.
#[derive(Debug, Serialize)]
struct NewSecret {
    client: String,
    secret: String,
}

/// What `apply` prints: the plan, what was done, and the secrets of new clients.
#[derive(Debug, Serialize)]
struct Report<'a> {
    dry_run: bool,
    /// Whether changes were made.
    applied: bool,
    summary: Summary,
    steps: &'a [Step],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    client_secrets: Vec<NewSecret>,
}

fn changes(step: &Step) -> String {
    if let Some(e) = &step.error {
        return e.lines().next().unwrap_or_default().to_owned();
    }
    if step.action == Action::Unmanaged {
        let what = step.changes.iter().map(|c| format!("{}: {}", c.field, c.to)).collect::<Vec<_>>().join(", ");
        return if what.is_empty() { "not in the file; left alone".into() } else { format!("not in the file; left alone ({what})") };
    }
    step.changes
        .iter()
        .map(|c| match &c.from {
            Some(from) => format!("{}: {from} → {}", c.field, c.to),
            None => format!("{}: {}", c.field, c.to),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl Tabular for Report<'_> {
    fn table(&self) -> String {
        let mut t = table(&["STEP", "KIND", "ID", "CHANGES"]);
        for s in self.steps {
            t.add_row([s.action.as_str().to_owned(), s.kind.as_str().to_owned(), s.id.clone(), changes(s)]);
        }
        let mut out = finish(&t);
        if !self.client_secrets.is_empty() {
            out.push_str("\nNew client secrets (shown once; only their hashes are kept: store them now):\n");
            let mut t = table(&["CLIENT", "SECRET"]);
            for s in &self.client_secrets {
                t.add_row([s.client.clone(), s.secret.clone()]);
            }
            out.push_str(&finish(&t));
        }
        out
    }
}

fn summary_line(s: &Summary) -> String {
    format!(
        "plan: {} to create, {} to update, {} unchanged, {} unmanaged (left alone), {} error{}",
        s.create,
        s.update,
        s.unchanged,
        s.unmanaged,
        s.error,
        if s.error == 1 { "" } else { "s" }
    )
}

fn read(path: &Path) -> Result<(String, String)> {
    if path.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin().take(STDIN_LIMIT).read_to_string(&mut s).map_err(|e| Error::io("cannot read", "<stdin>", e))?;
        return Ok((s, "<stdin>".into()));
    }
    let text = std::fs::read_to_string(path).map_err(|e| Error::io("cannot read", path, e))?;
    Ok((text, path.display().to_string()))
}

/// The error of a plan with error steps, naming each in full.
fn plan_errors(plan: &Plan) -> Error {
    let errors: Vec<String> = plan
        .errors()
        .map(|s| {
            let message = s.error.as_deref().unwrap_or_default().replace('\n', "\n    ");
            format!("  {} {}: {message}", s.kind.as_str(), s.id)
        })
        .collect();
    Error::invalid(
        format!(
            "the file has {} error{}; nothing was changed:\n{}",
            errors.len(),
            if errors.len() == 1 { "" } else { "s" },
            errors.join("\n")
        ),
        "fix the entries named above and run `mcpca apply` again (`--dry-run` shows the plan without changing anything)",
    )
}

pub(super) async fn run(ctx: &Ctx, args: ApplyArgs) -> Result<()> {
    let (text, source) = read(&args.file)?;
    let desired = AuthorityState::parse(&text, &source)?;
    let a = ctx.authority()?;
    let current = state::current(&*a).await?;
    let mut plan = state::plan(&desired, &current);
    state::check(&mut plan, &*a).await?;
    let summary = plan.summary();
    ctx.note(summary_line(&summary));

    let mut created: Vec<ClientCreated> = Vec::new();
    let outcome = if summary.error > 0 {
        Err(plan_errors(&plan))
    } else if args.dry_run || !plan.changes_anything() {
        Ok(0)
    } else {
        state::apply(&plan, &*a, &mut created).await
    };
    let report = Report {
        dry_run: args.dry_run,
        applied: matches!(outcome, Ok(n) if n > 0) || !created.is_empty(),
        summary,
        steps: &plan.steps,
        client_secrets: created.into_iter().map(|c| NewSecret { client: c.client.id, secret: c.secret }).collect(),
    };
    ctx.print(&report)?;
    let done = outcome?;
    if args.dry_run {
        ctx.note("dry run: nothing was changed");
    } else if done == 0 {
        ctx.note("nothing to change: the authority already matches the file");
    } else {
        ctx.note(format!("applied {done} change{}", if done == 1 { "" } else { "s" }));
    }
    Ok(())
}

pub(super) async fn export(ctx: &Ctx, args: ExportStateArgs) -> Result<()> {
    let a = ctx.authority()?;
    let state = state::current(&*a).await?;
    let text = match ctx.format_or(OutputFormat::Yaml) {
        OutputFormat::Json => state.to_json()?,
        OutputFormat::Yaml | OutputFormat::Table => state.to_yaml()?,
    };
    let Some(path) = args.out else {
        return ctx.print_raw(&text);
    };
    if path.exists() {
        return Err(Error::Conflict {
            what: "file",
            id: path.display().to_string(),
            hint: Some("export never overwrites: choose another --out path, or remove the file first".into()),
        });
    }
    crate::fsutil::create_new(&path, text.as_bytes(), 0o644)?;
    let versions: usize = state.servers.iter().map(|s| s.versions.len()).sum();
    ctx.note(format!(
        "exported {} server{} ({versions} version{}) and {} client{} to {} (no secrets)",
        state.servers.len(),
        if state.servers.len() == 1 { "" } else { "s" },
        if versions == 1 { "" } else { "s" },
        state.clients.len(),
        if state.clients.len() == 1 { "" } else { "s" },
        path.display()
    ));
    Ok(())
}
