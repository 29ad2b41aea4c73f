//! `mcpca server import FILE|URL`: bulk registration from a seed file, an official list
//! response, or a live registry followed page by page.

use std::io::{IsTerminal, Read};
use std::time::Duration;

use serde_json::Value;

use super::Ctx;
use crate::authority::Authority;
use crate::cli::ImportArgs;
use crate::model::{ImportReport, ImportStatus};
use crate::output::{finish, table, Tabular};
use crate::{Error, Result};

/// Documents written per transaction when importing from a file.
const BATCH: usize = 1_000;
/// A registry is never followed for more pages than this.
const MAX_PAGES: usize = 10_000;

impl Tabular for ImportReport {
    fn table(&self) -> String {
        let mut out = String::new();
        if !self.entries.is_empty() {
            let mut t = table(&["SOURCE", "NAME", "VERSION", "RESULT", "REASON"]);
            for e in &self.entries {
                let status = serde_json::to_value(e.status).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
                t.add_row([e.source.clone(), e.name.clone(), e.version.clone(), status, e.reason.clone().unwrap_or_default()]);
            }
            out.push_str(&finish(&t));
        }
        out.push_str(&summary(self));
        out.push('\n');
        out
    }
}

fn summary(r: &ImportReport) -> String {
    format!(
        "{}{} imported, {} unchanged, {} invalid, {} duplicate version",
        if r.dry_run { "dry run: would have " } else { "" },
        r.imported,
        r.unchanged,
        r.invalid,
        r.duplicate_version
    )
}

/// The server.json documents of a parsed file: an array of documents, an official list
/// response (`{servers:[{server,_meta}]}`), or one document.
pub fn documents(v: Value) -> Result<Vec<Value>> {
    match v {
        Value::Array(items) => Ok(items),
        Value::Object(mut o) if o.contains_key("servers") => match o.remove("servers") {
            Some(Value::Array(items)) => Ok(items.into_iter().map(|mut i| i.get_mut("server").map(Value::take).unwrap_or(i)).collect()),
            _ => Err(Error::invalid("`servers` is not an array", "give an official list response: {\"servers\":[{\"server\":…}],…}")),
        },
        v @ Value::Object(_) => Ok(vec![v]),
        _ => Err(Error::invalid(
            "the import source is neither an array of server.json documents nor a registry list response",
            "give a JSON array (like the official seed.json) or a {\"servers\":[…]} page",
        )),
    }
}

fn progress(ctx: &Ctx, len: Option<u64>) -> indicatif::ProgressBar {
    if ctx.global.quiet || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = match len {
        Some(n) => indicatif::ProgressBar::new(n),
        None => indicatif::ProgressBar::new_spinner(),
    };
    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {pos}/{len} {msg} [{elapsed}]") {
        bar.set_style(style);
    }
    bar
}

pub(super) async fn run(ctx: &Ctx, a: &dyn Authority, args: ImportArgs) -> Result<()> {
    let mut report = ImportReport { dry_run: args.dry_run, ..ImportReport::default() };
    let outcome = if args.source.starts_with("http://") || args.source.starts_with("https://") {
        from_registry(ctx, a, &args, &mut report).await
    } else {
        from_file(ctx, a, &args, &mut report).await
    };
    if args.summary {
        report.entries.retain(|e| e.status == ImportStatus::Invalid || e.status == ImportStatus::DuplicateVersion);
    }
    // What was imported stays imported: report it even when a later page failed.
    if outcome.is_ok() || !report.entries.is_empty() {
        ctx.note(summary(&report));
        ctx.print(&report)?;
    }
    outcome
}

async fn from_file(ctx: &Ctx, a: &dyn Authority, args: &ImportArgs, report: &mut ImportReport) -> Result<()> {
    let text = if args.source == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map_err(|e| Error::io("cannot read", "<stdin>", e))?;
        s
    } else {
        std::fs::read_to_string(&args.source).map_err(|e| Error::io("cannot read", &args.source, e))?
    };
    let value: Value =
        serde_json::from_str(&text).map_err(|e| Error::invalid(format!("{} is not JSON: {e}", args.source), "give a JSON file"))?;
    let docs = documents(value)?;
    let bar = progress(ctx, Some(docs.len() as u64));
    let mut numbered: Vec<(String, Value)> = docs.into_iter().enumerate().map(|(i, d)| (format!("#{}", i + 1), d)).collect();
    while !numbered.is_empty() {
        let rest = numbered.split_off(numbered.len().min(BATCH));
        let n = numbered.len() as u64;
        report.extend(a.server_import(std::mem::replace(&mut numbered, rest), args.dry_run).await?);
        bar.inc(n);
    }
    bar.finish_and_clear();
    Ok(())
}

/// The list URL of a registry given by its base (or by its list URL itself).
fn list_url(base: &str) -> String {
    let b = base.trim_end_matches('/');
    if b.ends_with("/servers") {
        b.to_owned()
    } else {
        format!("{b}/v0/servers")
    }
}

async fn from_registry(ctx: &Ctx, a: &dyn Authority, args: &ImportArgs, report: &mut ImportReport) -> Result<()> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| Error::Config(format!("cannot build an HTTP client: {e}")))?;
    let url = list_url(&args.source);
    let bar = progress(ctx, None);
    let mut cursor: Option<String> = None;
    for page in 1..=MAX_PAGES {
        let mut req = client.get(&url).query(&[("limit", args.page_size.to_string())]);
        if let Some(c) = &cursor {
            req = req.query(&[("cursor", c)]);
        }
        let at = match &cursor {
            Some(c) => format!("page {page} (cursor {c})"),
            None => format!("page {page}"),
        };
        let fail = |why: String| {
            Error::invalid(
                format!("import stopped at {at} of {url}: {why}"),
                "entries of earlier pages were imported; run the same import again to resume (it skips what is there)",
            )
        };
        let resp = req.send().await.map_err(|e| fail(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(fail(format!("HTTP {}", resp.status())));
        }
        let body: Value = resp.json().await.map_err(|e| fail(format!("not a JSON list response: {e}")))?;
        let next = body.pointer("/metadata/nextCursor").and_then(Value::as_str).filter(|c| !c.is_empty()).map(str::to_owned);
        let docs = documents(body).map_err(|e| fail(e.to_string()))?;
        let n = docs.len() as u64;
        let labelled = docs.into_iter().enumerate().map(|(i, d)| (format!("page {page} #{}", i + 1), d)).collect();
        report.extend(a.server_import(labelled, args.dry_run).await?);
        bar.inc(n);
        bar.set_message(format!("page {page}"));
        match next {
            Some(c) if cursor.as_deref() != Some(c.as_str()) => cursor = Some(c),
            _ => {
                bar.finish_and_clear();
                return Ok(());
            }
        }
    }
    bar.finish_and_clear();
    Err(Error::invalid(format!("{url} has more than {MAX_PAGES} pages"), "import it in parts, or raise --page-size"))
}
