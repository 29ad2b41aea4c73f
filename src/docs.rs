//! Shell completions and man pages, rendered from the clap definition so they cannot drift from
//! the real command line (the committed `completions/` and `man/` are checked by
//! `tests/generated.rs`).

use std::path::PathBuf;

use clap::CommandFactory;
use clap_complete::{Generator, Shell};

use crate::cli::Cli;
use crate::{Error, Result};

/// The binary's name, as completions and man pages spell it.
const BIN: &str = "mcpca";

/// The shells we ship completion scripts for.
pub const SHELLS: [Shell; 5] = [Shell::Bash, Shell::Zsh, Shell::Fish, Shell::PowerShell, Shell::Elvish];

/// Every generated file, as (path relative to the repository root, contents), in a stable order:
/// `completions/<file>` for each shell of [`SHELLS`], then `man/<page>.1` for the root command and
/// every subcommand, recursively (clap's own `help` subcommand excluded).
///
/// The output depends only on the clap definition and the crate version: no dates, no paths.
pub fn generated_files() -> Result<Vec<(PathBuf, Vec<u8>)>> {
    let mut files = completions();
    files.extend(man_pages()?);
    Ok(files)
}

/// One completion script per shell: `completions/mcpca.bash`, `completions/_mcpca`, …
pub fn completions() -> Vec<(PathBuf, Vec<u8>)> {
    SHELLS
        .iter()
        .map(|shell| {
            let mut buf = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), BIN, &mut buf);
            (PathBuf::from("completions").join(shell.file_name(BIN)), buf)
        })
        .collect()
}

/// One man page per command: `man/mcpca.1`, `man/mcpca-key.1`, `man/mcpca-key-rotate.1`, …
pub fn man_pages() -> Result<Vec<(PathBuf, Vec<u8>)>> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    // Building gives every subcommand its display name (`mcpca-key-rotate`).
    cmd.build();
    let mut pages = Vec::new();
    collect_pages(&cmd, &mut pages)?;
    Ok(pages)
}

fn collect_pages(cmd: &clap::Command, pages: &mut Vec<(PathBuf, Vec<u8>)>) -> Result<()> {
    let man = clap_mangen::Man::new(cmd.clone()).source(format!("{BIN} {}", env!("CARGO_PKG_VERSION"))).manual("mcpca manual");
    let path = PathBuf::from("man").join(man.get_filename());
    let mut buf = Vec::new();
    man.render(&mut buf).map_err(|e| Error::io("cannot render the man page", &path, e))?;
    pages.push((path, buf));
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set() && s.get_name() != "help") {
        collect_pages(sub, pages)?;
    }
    Ok(())
}
