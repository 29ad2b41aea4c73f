//! An MCP server (official Rust SDK, `rmcp`, streamable HTTP) with one tool, `echo`, mounted at
//! `/mcp` and protected by the mcpca guard: every request must carry a Connect Descriptor
//! issued for this server.
//!
//! ```text
//! guarded_mcp_server --listen 127.0.0.1:0 --issuer URL --jwks-url URL [--revocations-url URL]
//!     [--server-id NAME] [--resource URL] [--header either|mcp-connect|authorization]
//! ```
//! The audience is `--resource`, or `http://<bound address>/mcp`. Once listening, the endpoint
//! URL is the first line of stdout; logs go to stderr; SIGTERM or Ctrl-C stops it. Time is the
//! system clock unless `MCPCA_NOW` (Unix seconds or RFC 3339) pins it, as for `mcpca`.
#![allow(clippy::print_stdout)]

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use clap::Parser;
use mcpca::guard::{GuardLayer, HeaderMode};
use mcpca::verify::{Verifier, VerifierConfig};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{ServerCapabilities, ServerConfig};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{schemars, tool, tool_handler, tool_router, ServerHandler};
use url::Url;

/// Command line (a fixed contract: scripts and tests drive it).
#[derive(Debug, Parser)]
#[command(name = "guarded_mcp_server", about = "An MCP server with an `echo` tool, guarded by mcpca")]
pub struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// The authority's issuer (`iss`).
    #[arg(long)]
    pub issuer: String,
    /// The authority's JWKS.
    #[arg(long)]
    pub jwks_url: Url,
    /// The authority's signed revocation feed (`…/v1/revocations`), polled every 30 s.
    #[arg(long)]
    pub revocations_url: Option<Url>,
    /// This server's registry name, checked against `mcp.server.id`.
    #[arg(long)]
    pub server_id: Option<String>,
    /// This server's canonical URL (the descriptor's `aud`); default `http://<bound addr>/mcp`.
    #[arg(long)]
    pub resource: Option<String>,
    /// Which header carries the descriptor.
    #[arg(long, default_value = "either")]
    pub header: HeaderMode,
}

/// Arguments of `echo`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
pub struct EchoArgs {
    /// The text to send back.
    pub text: String,
}

/// The MCP server: one tool.
#[derive(Debug, Clone)]
pub struct EchoServer {
    tool_router: ToolRouter<Self>,
}

impl Default for EchoServer {
    fn default() -> Self {
        EchoServer { tool_router: Self::tool_router() }
    }
}

#[tool_router]
impl EchoServer {
    /// Send the text back as text content.
    #[tool(description = "Return the given text unchanged")]
    fn echo(&self, Parameters(EchoArgs { text }): Parameters<EchoArgs>) -> String {
        text
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for EchoServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }
}

/// The MCP endpoint at `/mcp`, without any guard. Stateless: every request stands alone, so
/// the guard checks the descriptor on every request (DESIGN §3).
pub fn mcp_router(allowed_hosts: Vec<String>, stop: tokio_util::sync::CancellationToken) -> Router {
    let service: StreamableHttpService<EchoServer, LocalSessionManager> = StreamableHttpService::new(
        || Ok(EchoServer::default()),
        Default::default(),
        StreamableHttpServerConfig::default()
            .with_legacy_session_mode(false)
            .with_json_response(true)
            .with_sse_keep_alive(None)
            .with_allowed_hosts(allowed_hosts)
            .with_cancellation_token(stop),
    );
    Router::new().nest_service("/mcp", service)
}

/// The guarded app: the MCP endpoint behind the guard (which also serves the RFC 9728
/// metadata).
pub fn guarded_router(
    verifier: Arc<Verifier>,
    header: HeaderMode,
    allowed_hosts: Vec<String>,
    stop: tokio_util::sync::CancellationToken,
) -> Router {
    mcp_router(allowed_hosts, stop).layer(GuardLayer::new(verifier).header(header))
}

fn host_of(url: &str) -> Option<String> {
    Url::parse(url).ok().and_then(|u| u.host_str().map(|h| h.trim_matches(['[', ']']).to_owned()))
}

async fn run(args: Args) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(args.listen).await.map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    let resource = args.resource.clone().unwrap_or_else(|| format!("http://{bound}/mcp"));
    let mut config = VerifierConfig::new(args.issuer.clone(), resource).jwks_url(args.jwks_url.clone());
    config.server_id = args.server_id.clone();
    config.revocations_url = args.revocations_url.clone();
    // The system clock, unless `MCPCA_NOW` pins it (as for the `mcpca` binary; tests use it).
    let clock = mcpca::clock::from_env().map_err(|e| e.to_string())?;
    let verifier = Arc::new(Verifier::new(config, clock).map_err(|e| e.to_string())?);
    // Load the keys now, to say so at once when the authority cannot be reached; the guard
    // retries on its own, so this is not fatal.
    if let Err(e) = verifier.refresh().await {
        tracing::warn!(error = %e, "could not fetch from the authority yet; will retry on demand");
    }
    let endpoint = verifier.expectations().audience.clone();
    let mut hosts: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "::1".into(), bound.ip().to_string()];
    hosts.extend(host_of(&endpoint));
    let stop = tokio_util::sync::CancellationToken::new();
    let app = guarded_router(verifier, args.header, hosts, stop.clone());
    tracing::info!(%endpoint, header = %args.header, issuer = %args.issuer, "guarded MCP server listening");
    let mut out = std::io::stdout().lock();
    writeln!(out, "{endpoint}").and_then(|()| out.flush()).map_err(|e| format!("stdout: {e}"))?;
    drop(out);
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            mcpca::server::shutdown_signal().await;
            tracing::info!("shutting down");
            stop.cancel();
        })
        .await;
    served.map_err(|e| format!("server error: {e}"))
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    match run(args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("guarded_mcp_server: {e}");
            std::process::ExitCode::from(2)
        }
    }
}
