//! One module per command group: each takes its clap args and a [`Ctx`], talks to the
//! Authority API — local or remote, the same trait ([`Backend`]) — and prints through `output`.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

use crate::authority::remote::{is_loopback, Secret};
use crate::authority::{Authority, LocalAuthority, RemoteAuthority};
use crate::cli::{Cli, Command, GlobalArgs, OutputFormat};
use crate::clock::Clock;
use crate::config::{relative_to, FileConfig, Overrides, Paths};
use crate::output::{render, Tabular};
use crate::{Error, Result};

mod apply;
mod audit;
mod check;
mod client;
mod completions;
mod connect;
mod context;
mod import;
mod init;
mod inspect;
mod issue;
mod key;
mod keysource;
mod migrate;
mod revoke;
mod serve;
mod server;

/// The authority commands talk to: this machine's store and keys, or an `mcpca serve` over its
/// admin API. Both are the one [`Authority`] trait (dereference to use it); only the few
/// local-only operations (`init`, `serve`, private keys) look at which it is.
#[derive(Debug)]
pub enum Backend {
    Local(LocalAuthority),
    Remote(RemoteAuthority),
}

impl std::ops::Deref for Backend {
    type Target = dyn Authority;
    fn deref(&self) -> &Self::Target {
        match self {
            Backend::Local(a) => a,
            Backend::Remote(a) => a,
        }
    }
}

/// Where remote mode points, and what put it there.
#[derive(Debug, Clone)]
pub struct RemoteTarget {
    /// Base URL of the authority.
    pub url: String,
    /// `--registry`, `MCPCA_REGISTRY` or `context NAME`, for messages.
    pub source: String,
    /// The token file of the context, when a context chose the URL.
    pub context_token_file: Option<PathBuf>,
}

/// Read an admin token from a file (whitespace around it ignored).
pub fn read_token_file(path: &std::path::Path) -> Result<Secret> {
    let text = zeroize::Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
        Error::invalid(
            format!("cannot read the admin token file {}: {e}", path.display()),
            "give a file holding an admin token (`mcpca token create --role admin` prints one), or see `mcpca context list`",
        )
    })?);
    let token = Secret::new(&text);
    if token.is_empty() {
        return Err(Error::invalid(format!("the admin token file {} is empty", path.display()), "write the admin token into it"));
    }
    Ok(token)
}

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

    /// Remote mode, when in force: `--registry` > `MCPCA_REGISTRY` > the current context of
    /// the config file. `None` is the local authority.
    pub fn remote_target(&self) -> Result<Option<RemoteTarget>> {
        if let Some(url) = self.global.registry.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            let from_env = std::env::var("MCPCA_REGISTRY").is_ok_and(|v| v.trim() == url);
            let source = if from_env { "MCPCA_REGISTRY" } else { "--registry" };
            return Ok(Some(RemoteTarget { url: url.to_owned(), source: source.into(), context_token_file: None }));
        }
        let file = FileConfig::load(&self.paths.config_file)?.unwrap_or_default();
        let Some(name) = file.current_context else { return Ok(None) };
        let c = file.contexts.get(&name).ok_or_else(|| {
            Error::Config(format!("{}: current_context {name:?} is not one of the contexts", self.paths.config_file.display()))
        })?;
        Ok(Some(RemoteTarget {
            url: c.url.clone(),
            source: format!("context {name}"),
            context_token_file: Some(relative_to(&self.paths.config_file, &c.token_file)),
        }))
    }

    /// The admin token given for this run: `--token` > `--token-file` > `MCPCA_TOKEN`.
    fn given_token(&self) -> Result<Option<Secret>> {
        if let Some(t) = &self.global.token {
            return Ok(Some(t.clone()));
        }
        if let Some(f) = &self.global.token_file {
            return read_token_file(f).map(Some);
        }
        Ok(std::env::var("MCPCA_TOKEN").ok().map(|t| Secret::new(&t)).filter(|t| !t.is_empty()))
    }

    /// Open the authority commands talk to: the remote one in remote mode, else this home's.
    pub fn authority(&self) -> Result<Backend> {
        let Some(target) = self.remote_target()? else {
            if self.global.token.is_some() || self.global.token_file.is_some() {
                return Err(Error::invalid(
                    "--token and --token-file are for a remote authority, and none is chosen",
                    "give --registry URL as well, or make a context current with `mcpca context use NAME`",
                ));
            }
            return LocalAuthority::open(&self.paths, &Overrides::default(), Arc::clone(&self.clock)).map(Backend::Local);
        };
        // A context's token file serves only the context's URL, never one given by --registry.
        let token = match (self.given_token()?, &target.context_token_file) {
            (Some(t), _) => t,
            (None, Some(f)) => read_token_file(f)?,
            (None, None) => return Err(Error::invalid(
                format!("remote mode ({} {}) needs an admin token", target.source, target.url),
                "give --token-file FILE, --token T or MCPCA_TOKEN (`mcpca token create --role admin` on the authority's host makes one)",
            )),
        };
        let remote = RemoteAuthority::new(&target.url, &token)?;
        self.warn_plain_http(&remote);
        Ok(Backend::Remote(remote))
    }

    /// The authority `inspect` and `verify` take keys and the issuer from: like
    /// [`Ctx::authority`], but remote mode needs no token (the JWKS and the issuer are public).
    pub fn key_authority(&self) -> Result<Backend> {
        match self.remote_target()? {
            Some(target) if self.given_token()?.is_none() && target.context_token_file.as_deref().is_none_or(|f| !f.exists()) => {
                Ok(Backend::Remote(RemoteAuthority::public(&target.url)?))
            }
            _ => self.authority(),
        }
    }

    fn warn_plain_http(&self, remote: &RemoteAuthority) {
        if remote.base().scheme() == "http" && !is_loopback(remote.base()) {
            self.note(format!(
                "warning: the admin token travels unencrypted to {} (plain http); use https beyond this machine",
                remote.base()
            ));
        }
    }

    /// Refuse, in remote mode, an operation that only makes sense on the authority's own host;
    /// `what` says what it does (`` `mcpca init` creates an authority on this machine ``).
    pub fn local_only(&self, what: &str) -> Result<()> {
        match self.remote_target()? {
            None => Ok(()),
            Some(t) => Err(Error::refused(
                format!("{what}: it does not run against a remote authority ({} {})", t.source, t.url),
                "run it on the authority's host without --registry/MCPCA_REGISTRY, or `mcpca context use --local` first",
            )),
        }
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
    let mut paths = Paths::resolve(cli.global.home.as_deref(), cli.global.config.as_deref())?;
    paths.database_url.clone_from(&cli.global.database_url);
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
        Command::Connect(a) => connect::run(&ctx, a).await,
        Command::Check(a) => check::run(&ctx, a).await,
        Command::Inspect(a) => inspect::inspect(&ctx, a).await,
        Command::Verify(a) => inspect::verify(&ctx, a).await,
        Command::Revoke(a) => revoke::run(&ctx, a).await,
        Command::Revocations(a) => revoke::list(&ctx, a).await,
        Command::Serve(a) => {
            ctx.local_only("`mcpca serve` serves this machine's authority")?;
            serve::run(&ctx, a).await
        }
        Command::Migrate(a) => migrate::run(&ctx, a).await,
        Command::Context(c) => context::run(&ctx, c),
        Command::Completions(a) => completions::run(&ctx, a),
    }
}
