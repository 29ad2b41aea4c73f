//! `mcpca context add|use|list|remove`: named remote authorities in config.yaml. Only the
//! config file is read and written, so these work on a machine with no authority of its own.

use serde::Serialize;

use super::Ctx;
use crate::authority::remote::parse_base;
use crate::cli::{ContextCommand, ContextUseArgs};
use crate::config::{relative_to, ContextConfig, FileConfig};
use crate::output::{finish, table, Tabular};
use crate::{Error, Result};

/// One line of `context list`.
#[derive(Debug, Serialize)]
pub struct ContextRow {
    pub name: String,
    pub url: String,
    pub token_file: String,
    pub current: bool,
}

impl Tabular for Vec<ContextRow> {
    fn table(&self) -> String {
        let mut t = table(&["CURRENT", "NAME", "URL", "TOKEN-FILE"]);
        for c in self {
            t.add_row([if c.current { "*" } else { "" }.to_owned(), c.name.clone(), c.url.clone(), c.token_file.clone()]);
        }
        finish(&t)
    }
}

fn validate_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && !name.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!("{name:?} is not a context name"), "use 1–64 letters, digits, `.`, `_` or `-`, e.g. prod"))
    }
}

fn not_found(name: &str) -> Error {
    Error::invalid(format!("no context named {name:?}"), "see `mcpca context list`")
}

pub(super) fn run(ctx: &Ctx, cmd: ContextCommand) -> Result<()> {
    let path = &ctx.paths.config_file;
    let mut file = FileConfig::load(path)?.unwrap_or_default();
    match cmd {
        ContextCommand::Add(args) => {
            validate_name(&args.name)?;
            let url = parse_base(&args.url)?;
            let Some(token_file) = &ctx.global.token_file else {
                return Err(Error::invalid(
                    "context add needs --token-file FILE: the file holding the authority's admin token",
                    "write the token (`mcpca token create --role admin` on the authority's host) to a file with mode 0600",
                ));
            };
            if file.contexts.contains_key(&args.name) {
                return Err(Error::Conflict {
                    what: "context",
                    id: args.name,
                    hint: Some("remove it first with `mcpca context remove NAME`, or pick another name".into()),
                });
            }
            let token_file = std::path::absolute(token_file).map_err(|e| Error::io("cannot resolve", token_file, e))?;
            super::read_token_file(&token_file)?;
            warn_mode(ctx, &token_file);
            file.contexts.insert(args.name.clone(), ContextConfig { url: url.to_string(), token_file });
            file.save(path)?;
            ctx.note(format!(
                "added context {} ({url}) to {}; `mcpca context use {}` makes it current",
                args.name,
                path.display(),
                args.name
            ));
            Ok(())
        }
        ContextCommand::Use(ContextUseArgs { name, local }) => {
            match name {
                Some(name) if !local => {
                    let c = file.contexts.get(&name).ok_or_else(|| not_found(&name))?;
                    ctx.note(format!("commands now manage the authority at {} (context {name})", c.url));
                    file.current_context = Some(name);
                }
                _ => {
                    file.current_context = None;
                    ctx.note("no current context: commands manage this machine's authority");
                }
            }
            file.save(path)
        }
        ContextCommand::List => {
            let rows: Vec<ContextRow> = file
                .contexts
                .iter()
                .map(|(name, c)| ContextRow {
                    name: name.clone(),
                    url: c.url.clone(),
                    token_file: relative_to(path, &c.token_file).display().to_string(),
                    current: file.current_context.as_deref() == Some(name),
                })
                .collect();
            if rows.is_empty() {
                ctx.note("no contexts; add one with `mcpca context add NAME --url URL --token-file FILE`");
            }
            ctx.print(&rows)
        }
        ContextCommand::Remove(args) => {
            if file.contexts.remove(&args.name).is_none() {
                return Err(not_found(&args.name));
            }
            if file.current_context.as_deref() == Some(args.name.as_str()) {
                file.current_context = None;
                ctx.note(format!("{} was the current context: commands manage this machine's authority again", args.name));
            }
            file.save(path)?;
            ctx.note(format!("removed context {} (its token file was left alone)", args.name));
            Ok(())
        }
    }
}

/// A token file others can read is a leaked token: say so.
fn warn_mode(ctx: &Ctx, path: &std::path::Path) {
    #[cfg(unix)]
    if let Ok(mode) = crate::fsutil::mode(path) {
        if mode & 0o077 != 0 {
            ctx.note(format!(
                "warning: the token file {} has mode {mode:04o}: other users may read the admin token; run `chmod 600 {}`",
                path.display(),
                path.display()
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = (ctx, path);
}
