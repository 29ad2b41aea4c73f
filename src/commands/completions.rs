//! `mcpca completions SHELL`.

use clap::CommandFactory;

use super::Ctx;
use crate::cli::{Cli, CompletionsArgs};
use crate::Result;

pub(super) fn run(ctx: &Ctx, args: CompletionsArgs) -> Result<()> {
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "mcpca", &mut buf);
    ctx.print_raw(&String::from_utf8_lossy(&buf))
}
