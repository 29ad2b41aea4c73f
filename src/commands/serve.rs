//! `mcpca serve`: initialise an empty home, open the authority, bind, print the address, and
//! serve until SIGTERM or Ctrl-C.

use std::io::Write as _;
use std::sync::Arc;

use super::Ctx;
use crate::authority::local::init;
use crate::authority::{Authority, LocalAuthority};
use crate::cli::{LogFormat, ServeArgs};
use crate::config::Overrides;
use crate::server::accesslog::AccessLog;
use crate::server::logbuf::LogBuffer;
use crate::server::logfmt;
use crate::server::AppState;
use crate::store::Role;
use crate::{fsutil, Error, Result};

/// File in the home that receives the admin token made when `serve` initialises a home.
pub const ADMIN_TOKEN_FILE: &str = "admin-token";

/// Install the service's log subscriber; its lines go through `buffer` (see
/// [`crate::server::logbuf`]); on a terminal they are written at once. Whether it was installed
/// (a process that has one already, as tests that run several servers, keeps it).
fn logging(format: LogFormat, buffer: &LogBuffer) -> bool {
    let filter = tracing_subscriber::EnvFilter::try_from_env("MCPCA_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal as _;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(buffer.clone())
        .with_target(false)
        .with_timer(logfmt::Timestamp)
        .with_ansi(std::io::stderr().is_terminal());
    // A second initialisation (tests running several servers) is harmless.
    match format {
        LogFormat::Text => builder.fmt_fields(logfmt::Fields).try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    }
    .is_ok()
}

pub(super) async fn run(ctx: &Ctx, args: ServeArgs) -> Result<()> {
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let logs = if terminal { LogBuffer::direct() } else { LogBuffer::start() };
    let installed = logging(args.log_format, &logs);
    // Request lines are written by the access log, in the subscriber's format, unless they are
    // coloured for a terminal (or another subscriber has them).
    let access = (installed && !terminal).then(|| AccessLog::new(args.log_format == LogFormat::Json, logs.clone()));
    let result = serve(ctx, args, access).await;
    logs.flush();
    result
}

async fn serve(ctx: &Ctx, args: ServeArgs, access: Option<AccessLog>) -> Result<()> {
    let overrides = Overrides { issuer: args.issuer.clone() };
    // A bootstrap admin token only for a new authority: a replica joining one on a shared
    // database (its home fresh, its keys found there) uses the tokens that exist.
    let mut bootstrap = false;
    if !ctx.paths.config_file.exists() {
        let report = init(&ctx.paths, args.issuer.as_deref(), Arc::clone(&ctx.clock)).await?;
        for c in &report.created {
            ctx.note(format!("created {c}"));
        }
        bootstrap = report.new_authority;
        if !report.new_authority {
            ctx.note(format!(
                "joined the authority in {} (its keys exist): use an admin token made there (`mcpca token create`)",
                report.database
            ));
        }
    }
    let mut authority = LocalAuthority::open(&ctx.paths, &overrides, Arc::clone(&ctx.clock))?;
    if bootstrap {
        let token = authority.token_create(Role::Admin, Some("bootstrap".into()), None).await?;
        let dir = ctx.paths.config_file.parent().map(std::path::Path::to_path_buf).unwrap_or_default();
        let path = dir.join(ADMIN_TOKEN_FILE);
        fsutil::create_secret(&path, format!("{}\n", token.secret).as_bytes())?;
        ctx.note(format!(
            "wrote a one-time admin token ({}) to {} (mode 0600): keep it, then delete the file",
            token.token.id,
            path.display()
        ));
    }
    let issuer = authority.settings().issuer.clone();
    // Issue from memory; audit through the group commit (flushed at shutdown).
    authority.enable_hot_path().await?;
    let state = AppState::serving(authority, crate::server::iplimit::IpLimit::from_env()?, access);
    let listener =
        tokio::net::TcpListener::bind(args.listen).await.map_err(|e| Error::io("cannot listen on", args.listen.to_string(), e))?;
    let addr = listener.local_addr().map_err(|e| Error::io("cannot read the address of", args.listen.to_string(), e))?;
    let scheme = if args.tls_cert.is_some() { "https" } else { "http" };
    // The bound address is data (scripts read it, port 0 included): stdout, then flush.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{scheme}://{addr}");
    let _ = out.flush();
    drop(out);
    tracing::info!(%addr, %issuer, "mcpca serving");
    match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            let served = serve_tls(listener, Arc::clone(&state), cert, key).await;
            state.authority.close_hot_path().await;
            served
        }
        _ => crate::server::serve(listener, state, crate::server::shutdown_signal())
            .await
            .map_err(|e| Error::io("server failed on", addr.to_string(), e)),
    }
}

async fn serve_tls(listener: tokio::net::TcpListener, state: Arc<AppState>, cert: &std::path::Path, key: &std::path::Path) -> Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key).await.map_err(|e| {
        Error::invalid(
            format!("cannot load TLS certificate {} / key {}: {e}", cert.display(), key.display()),
            "give PEM files: a certificate chain and its private key",
        )
    })?;
    let handle = axum_server::Handle::new();
    let h = handle.clone();
    tokio::spawn(async move {
        crate::server::shutdown_signal().await;
        h.graceful_shutdown(Some(crate::server::SHUTDOWN_GRACE));
    });
    let std_listener = listener.into_std().map_err(|e| Error::io("cannot use the listener", "tls", e))?;
    let app = crate::server::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum_server::from_tcp_rustls(std_listener, config)
        .handle(handle)
        .serve(app)
        .await
        .map_err(|e| Error::io("server failed on", "tls listener", e))
}
