//! One module per command group: each takes its clap args and a [`Ctx`], talks to the
//! Authority API, and prints through `output`.

use std::io::{IsTerminal, Read, Write};
use std::sync::Arc;

use serde::Serialize;

use crate::authority::LocalAuthority;
use crate::cli::{Cli, Command, GlobalArgs, OutputFormat};
use crate::clock::Clock;
use crate::config::{Overrides, Paths};
use crate::output::{render, Tabular};
use crate::{Error, Result};

mod apply;
mod audit;
mod client;
mod completions;
mod import;
mod init;
mod inspect;
mod issue;
mod key;
mod keysource;
mod revoke;
mod serve;
mod server;

/// What every command gets: the global options, the clock and the resolved paths.
#[derive(Debug)]
pub struct Ctx {
    pub global: GlobalArgs,
    pub clock: Arc<dyn Clock>,
    pub paths: Paths,
}

impl Ctx {
    /// The output format asked for, or `default`.
    pub fn format_or(&self, default: OutputFormat) -> OutputFormat {
        self.global.output.unwrap_or(default)
    }

    /// Print data to stdout in the chosen format (table by default).
    pub fn print<T: Serialize + Tabular + ?Sized>(&self, value: &T) -> Result<()> {
        self.print_raw(&render(value, self.format_or(OutputFormat::Table))?)
    }

    /// Print text to stdout as it is.
    pub fn print_raw(&self, text: &str) -> Result<()> {
        let mut out = std::io::stdout().lock();
        match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
            Ok(()) => Ok(()),
            // A closed pipe (`| head`) is not an error of ours.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            Err(e) => Err(Error::io("cannot write", "<stdout>", e)),
        }
    }

    /// A message for the operator on stderr (silenced by --quiet).
    pub fn note(&self, msg: impl AsRef<str>) {
        if !self.global.quiet {
            eprintln!("{}", msg.as_ref());
        }
    }

    /// Open the local authority of this home.
    pub fn authority(&self) -> Result<LocalAuthority> {
        LocalAuthority::open(&self.paths, &Overrides::default(), Arc::clone(&self.clock))
    }

    /// Ask for a yes/no confirmation: `--yes` confirms; without a terminal (or with
    /// `--no-input`) the action is refused.
    pub fn confirm(&self, question: &str) -> Result<()> {
        if self.global.yes {
            return Ok(());
        }
        if self.global.no_input || !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
            return Err(Error::Confirmation(format!("refusing to {question} without confirmation")));
        }
        let ok = dialoguer::Confirm::new()
            .with_prompt(format!("Really {question}?"))
            .default(false)
            .interact()
            .map_err(|e| Error::Confirmation(format!("no answer to the confirmation: {e}")))?;
        if ok {
            Ok(())
        } else {
            Err(Error::Confirmation("cancelled; nothing was changed".into()))
        }
    }
}

/// Read a descriptor from the argument, or from stdin when it is `-`.
pub fn read_token(arg: &str) -> Result<String> {
    if arg != "-" {
        return Ok(arg.trim().to_owned());
    }
    let mut s = String::new();
    std::io::stdin().take(64 * 1024).read_to_string(&mut s).map_err(|e| Error::io("cannot read", "<stdin>", e))?;
    Ok(s.trim().to_owned())
}

/// Run a parsed command line.
pub async fn run(cli: Cli) -> Result<()> {
    let paths = Paths::resolve(cli.global.home.as_deref(), cli.global.config.as_deref())?;
    let ctx = Ctx { global: cli.global, clock: crate::clock::from_env()?, paths };
    match cli.command {
        Command::Init(a) => init::run(&ctx, a).await,
        Command::Key(c) => key::run(&ctx, c).await,
        Command::Server(c) => server::run(&ctx, c).await,
        Command::Client(c) => client::run(&ctx, c).await,
        Command::Token(c) => client::token(&ctx, c).await,
        Command::Audit(a) => audit::run(&ctx, a).await,
        Command::Apply(a) => apply::run(&ctx, a).await,
        Command::Export(a) => apply::export(&ctx, a).await,
        Command::Issue(a) => issue::run(&ctx, a).await,
        Command::Inspect(a) => inspect::inspect(&ctx, a).await,
        Command::Verify(a) => inspect::verify(&ctx, a).await,
        Command::Revoke(a) => revoke::run(&ctx, a).await,
        Command::Revocations(a) => revoke::list(&ctx, a).await,
        Command::Serve(a) => serve::run(&ctx, a).await,
        Command::Completions(a) => completions::run(&ctx, a),
    }
}
