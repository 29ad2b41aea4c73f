//! The command line, as clap derive structs only: no logic lives here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::authority::ServerRefArg;
use crate::duration::Dur;
use crate::model::Status;

/// mcpca — a Connect Authority for MCP servers.
///
/// Keep a registry of MCP servers, decide who may connect to which, and issue short-lived
/// signed Connect Descriptors that servers verify locally against the published keys.
///
/// Start with `mcpca init`, register a server with `mcpca server add`, then
/// `mcpca issue --server NAME`.
#[derive(Debug, Parser)]
#[command(name = "mcpca", version, max_term_width = 100)]
#[command(after_help = "Examples:
  mcpca init --issuer https://ca.example.com
  mcpca server add io.github.acme/weather --url https://weather.acme.dev/mcp --max-ttl 10m
  mcpca issue --server io.github.acme/weather --ttl 5m
  mcpca verify \"$TOKEN\" --audience https://weather.acme.dev/mcp
  mcpca revoke io.github.acme/weather

Exit codes: 0 ok, 1 a check said no (invalid descriptor, issuance denied), 2 usage or operational error.")]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Keep everything (config, KEK, database) under one folder.
    #[arg(long, global = true, env = "MCPCA_HOME", value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// Path of config.yaml (default: in --home, or the platform's config dir).
    #[arg(long, global = true, env = "MCPCA_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    // `[:PASSWORD]` and `[:PORT]` below are --help text, not links.
    #[allow(rustdoc::broken_intra_doc_links)]
    /// Keep the authority in this PostgreSQL database instead of the home's SQLite file.
    ///
    /// A postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE URL. TLS follows libpq's parameters:
    /// sslmode=disable, prefer (the default: TLS when offered), require, verify-ca or
    /// verify-full, and sslrootcert=FILE, the PEM CA the server's certificate must chain to
    /// (prefer and require without it do not check the certificate), e.g.
    /// ?sslmode=verify-full&sslrootcert=/etc/mcpca/db-ca.pem. Precedence:
    /// --database-url > MCPCA_DATABASE_URL > `database_url` in config.yaml > the SQLite file.
    /// The config file and the key-encryption key stay on each machine.
    #[arg(long, global = true, env = "MCPCA_DATABASE_URL", value_name = "URL", hide_env_values = true)]
    pub database_url: Option<crate::config::DatabaseUrl>,
    /// Output format of commands that print data.
    #[arg(short, long, global = true, env = "MCPCA_OUTPUT", value_name = "FORMAT")]
    pub output: Option<OutputFormat>,
    /// Answer yes to confirmations (required without a terminal).
    #[arg(short = 'y', long, global = true)]
    pub yes: bool,
    /// Never prompt; fail where a prompt would be needed.
    #[arg(long, global = true)]
    pub no_input: bool,
    /// Print only data and errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Manage the authority at this URL over its admin API (remote mode) instead of the local one.
    ///
    /// Precedence: --registry > MCPCA_REGISTRY > the current context (`mcpca context use`) > local.
    #[arg(long, global = true, env = "MCPCA_REGISTRY", value_name = "URL")]
    pub registry: Option<String>,
    /// Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags).
    #[arg(long = "token", id = "admin_token", global = true, value_name = "TOKEN", conflicts_with = "token_file")]
    pub token: Option<crate::authority::remote::Secret>,
    /// File holding the admin token for remote mode (and the token file of `context add`).
    #[arg(long, global = true, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Aligned tables for people.
    Table,
    /// JSON, the admin API's shapes.
    Json,
    /// YAML, the same shapes as JSON.
    Yaml,
}

/// Commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the authority: config.yaml, key-encryption key, database, an active and a next key.
    ///
    /// Running it again changes nothing and says so.
    Init(InitArgs),
    /// Manage signing keys (next → active → retiring → retired; revoked).
    #[command(subcommand)]
    Key(KeyCommand),
    /// Register and moderate MCP servers in the registry.
    #[command(subcommand)]
    Server(ServerCommand),
    /// Manage clients: the principals that ask for descriptors, and their policy.
    #[command(subcommand)]
    Client(ClientCommand),
    /// Manage admin API tokens (roles admin and reader).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Issue a Connect Descriptor for a server (prints the JWT).
    Issue(IssueArgs),
    /// Ask a remote authority for a descriptor with client credentials (what an MCP client does).
    Connect(ConnectArgs),
    /// Probe a live MCP server with valid and broken descriptors: does it verify as DESIGN §3 says?
    ///
    /// Exit 0 when every case answers as the contract says, 1 when any differs, 2 when the
    /// server or the authority cannot be reached.
    Check(CheckArgs),
    /// Show a descriptor's header, claims, times and signature status (never fails on expiry).
    Inspect(InspectArgs),
    /// Verify a descriptor exactly as an MCP server does: exit 0 valid, 1 invalid, 2 cannot check.
    Verify(VerifyArgs),
    /// Revoke a server (all versions or NAME@VERSION), a descriptor (--jti), a client (--client) or a key (--key).
    Revoke(RevokeArgs),
    /// Print the signed revocation feed (JWS) servers follow; `-o json|yaml|table` shows its entries.
    Revocations(RevocationsArgs),
    /// Read and check the tamper-evident audit log.
    Audit(AuditArgs),
    /// Make the authority match a declarative file (servers, statuses, limits, clients): plan, then apply.
    ///
    /// Prints the plan (create / update / unchanged / unmanaged / error) and applies it unless
    /// --dry-run. Idempotent: applying the same file again changes nothing.
    Apply(ApplyArgs),
    /// Write the authority's servers and clients as a file for `mcpca apply` (never secrets).
    Export(ExportStateArgs),
    /// Run the authority as an HTTP service (connect, JWKS, OAuth, registry API, admin API).
    ///
    /// On an empty home it initialises itself and writes a one-time admin token to a 0600 file.
    Serve(ServeArgs),
    /// Copy this machine's SQLite authority into a PostgreSQL database (for several replicas).
    ///
    /// Keys (still sealed under the KEK), servers, clients, admin tokens, revocations and the
    /// audit chain are copied row for row in one transaction, hashes unchanged; then the row
    /// counts and the audit chain of the copy are verified. The SQLite file is left as it is.
    Migrate(MigrateArgs),
    /// Name remote authorities and choose the one commands talk to (remote mode).
    #[command(subcommand)]
    Context(ContextCommand),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
}

/// `mcpca migrate`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  mcpca migrate --to postgres://mcpca@db.internal:5432/mcpca
  MCPCA_DATABASE_URL=postgres://mcpca@db.internal:5432/mcpca mcpca audit verify   # then run every replica with it

Stop `mcpca serve` on this machine first: changes made during the copy are not in it.")]
pub struct MigrateArgs {
    // `[:PASSWORD]` and `[:PORT]` are --help text, not links.
    #[allow(rustdoc::broken_intra_doc_links)]
    /// The target: a postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE URL (TLS parameters as
    /// for --database-url).
    #[arg(long, value_name = "URL")]
    pub to: crate::config::DatabaseUrl,
    /// Replace whatever the target database holds (refused otherwise).
    #[arg(long)]
    pub force: bool,
}

/// `mcpca context …`.
#[derive(Debug, Subcommand)]
#[command(after_help = "Examples:
  mcpca context add prod --url https://ca.example.com --token-file ~/.config/mcpca/prod.token
  mcpca context use prod          # every command now manages https://ca.example.com
  mcpca context list
  mcpca context use --local       # back to the authority of this machine

Contexts live in config.yaml with the path of their token file, never the token itself.
Precedence: --registry > MCPCA_REGISTRY > the current context > the local authority.")]
pub enum ContextCommand {
    /// Name a remote authority: --url and --token-file (the file holding its admin token, mode 0600).
    Add(ContextAddArgs),
    /// Make a context current (or go back to the local authority with --local).
    Use(ContextUseArgs),
    /// List contexts; the current one is marked.
    List,
    /// Forget a context (its token file is left alone).
    Remove(ContextNameArg),
}

/// `mcpca context add`.
#[derive(Debug, Args)]
pub struct ContextAddArgs {
    /// Name of the context (letters, digits, `._-`).
    pub name: String,
    /// Base URL of the authority (what `mcpca serve` prints).
    #[arg(long, value_name = "URL")]
    pub url: String,
    // The token file is the global --token-file (required here): its path is stored, not the token.
}

/// `mcpca context use`.
#[derive(Debug, Args)]
pub struct ContextUseArgs {
    /// The context to make current.
    #[arg(required_unless_present = "local", conflicts_with = "local")]
    pub name: Option<String>,
    /// No current context: commands manage the local authority again.
    #[arg(long)]
    pub local: bool,
}

/// A context name.
#[derive(Debug, Args)]
pub struct ContextNameArg {
    /// Name of the context.
    pub name: String,
}

/// `mcpca init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The authority's public URL, the `iss` of every descriptor [default: http://127.0.0.1:8421].
    #[arg(long, value_name = "URL")]
    pub issuer: Option<String>,
}

/// `mcpca key …`.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// List keys: kid, state, created, activated, retire-at.
    List,
    /// Create a `next` key: published in the JWKS, not yet signing.
    Generate,
    /// Promote `next` to `active`; the old active key retires once its descriptors have expired.
    Rotate(RotateArgs),
    /// Unpublish a key whose descriptors can no longer be valid (destroys its private half).
    Retire(KidArg),
    /// Revoke a key at once: unpublished, listed in the revocation feed, private half destroyed.
    Revoke(KeyRevokeArgs),
    /// Export the public keys (JWKS) or one private key (PKCS#8 PEM).
    Export(ExportArgs),
}

/// `mcpca key rotate`.
#[derive(Debug, Args)]
#[command(after_help = "Rotation promotes the published `next` key to `active`, moves the old active key to
`retiring` (still published until its last descriptor can have expired: max TTL + leeway)
and creates a new `next` key, so verifiers always see a key before it signs.")]
pub struct RotateArgs {
    /// How long the old active key stays published [default: max_ttl + leeway]; shorter is refused.
    #[arg(long, value_name = "DUR")]
    pub grace: Option<Dur>,
}

/// A key id argument.
#[derive(Debug, Args)]
pub struct KidArg {
    /// The key's kid (see `mcpca key list`).
    #[arg(allow_hyphen_values = true)]
    pub kid: String,
}

/// `mcpca key revoke`.
#[derive(Debug, Args)]
pub struct KeyRevokeArgs {
    /// The key's kid (see `mcpca key list`).
    #[arg(allow_hyphen_values = true)]
    pub kid: String,
    /// Why (kept with the revocation).
    #[arg(long)]
    pub reason: Option<String>,
}

/// `mcpca key export`.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("what").required(true).args(["public", "private"]))]
pub struct ExportArgs {
    /// The published keys as a JWKS document.
    #[arg(long)]
    pub public: bool,
    /// The private key KID as PKCS#8 PEM (asks for confirmation; --yes without a terminal).
    #[arg(long, value_name = "KID", allow_hyphen_values = true)]
    pub private: Option<String>,
    /// Write to FILE (mode 0600 for a private key; never overwrites) instead of stdout.
    #[arg(long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// `mcpca server …`.
#[derive(Debug, Subcommand)]
pub enum ServerCommand {
    /// Register a server version from flags or from an official server.json (--file).
    Add(ServerAddArgs),
    /// List server versions.
    List(ServerListArgs),
    /// Show one server version (latest unless NAME@VERSION) and its versions.
    Show(ServerRefOnly),
    /// Change authority fields (verified, max TTL); published versions are immutable.
    Update(ServerUpdateArgs),
    /// Mark a server or version deleted (hidden from lists; no descriptors).
    Remove(ModerateArgs),
    /// Suspend: no descriptors (`policy_blocked`) until resumed.
    Suspend(ModerateArgs),
    /// Make a server active again (from suspended, deprecated, removed or revoked).
    Resume(ModerateArgs),
    /// Deprecate: still issued for, flagged as deprecated.
    Deprecate(ModerateArgs),
    /// Import many server.json documents: a JSON array, an official list response, or a registry URL.
    Import(ImportArgs),
}

/// `mcpca server import`.
#[derive(Debug, Args)]
#[command(after_help = "Sources:
  mcpca server import seed.json                    # a JSON array of server.json documents
  mcpca server import page.json                    # an official list response {servers:[{server,_meta}],...}
  mcpca server import https://registry.example.com # a registry: GET /v0/servers page by page (nextCursor)

Every entry is validated and reported: imported, unchanged, invalid (with the reason) or
duplicate_version. Running the same import twice changes nothing.")]
pub struct ImportArgs {
    /// A file (`-` for stdin) or an http(s) registry base URL.
    #[arg(value_name = "FILE|URL")]
    pub source: String,
    /// Validate and report, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Page size when reading from a registry URL (1–100).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub page_size: u32,
    /// Print only the summary, not every entry.
    #[arg(long)]
    pub summary: bool,
}

/// `mcpca client …`.
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a client; prints its secret once (only a hash is kept).
    Add(ClientAddArgs),
    /// List clients.
    List,
    /// Show one client.
    Show(ClientIdArg),
    /// Change a client's policy (the given fields replace the old ones).
    Update(ClientUpdateArgs),
    /// Suspend a client: its requests are refused (`policy_blocked`).
    Suspend(ClientReasonArgs),
    /// Resume a suspended client.
    Resume(ClientIdArg),
    /// Delete a client; descriptors it holds are revoked.
    Remove(ClientIdArg),
    /// Give a client a new secret (printed once); the old one stops working at once.
    RotateSecret(ClientIdArg),
}

/// `mcpca client add`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  mcpca client add ci-bot --tenant acme --allow 'io.github.acme/*' --max-ttl 5m --rate 60/min
  mcpca client add dashboard --allow io.github.acme/weather --allow io.github.acme/maps

Patterns: `*` (every server), a prefix ending in `*` such as `io.github.acme/*`, or an exact name.")]
pub struct ClientAddArgs {
    /// Client id (1–128 of letters, digits, `._-:@`).
    pub id: String,
    #[command(flatten)]
    pub policy: ClientPolicyArgs,
}

/// Policy flags of a client.
#[derive(Debug, Args)]
pub struct ClientPolicyArgs {
    /// Tenant the client belongs to (put in `client.tenant`).
    #[arg(long, value_name = "T")]
    pub tenant: Option<String>,
    /// Servers it may connect to (repeat): `*`, `prefix/*` or an exact name.
    #[arg(long = "allow", value_name = "PATTERN")]
    pub allow: Vec<String>,
    /// Longest descriptor lifetime for this client.
    #[arg(long, value_name = "DUR")]
    pub max_ttl: Option<Dur>,
    /// Issuance rate limit, e.g. `60/min`.
    #[arg(long, value_name = "N/min")]
    pub rate: Option<Rate>,
}

/// `mcpca client update`.
#[derive(Debug, Args)]
pub struct ClientUpdateArgs {
    /// Client id.
    pub id: String,
    #[command(flatten)]
    pub policy: ClientPolicyArgs,
    /// Remove the tenant.
    #[arg(long, conflicts_with = "tenant")]
    pub no_tenant: bool,
    /// Remove the client's TTL limit.
    #[arg(long, conflicts_with = "max_ttl")]
    pub no_max_ttl: bool,
    /// Remove the rate limit.
    #[arg(long, conflicts_with = "rate")]
    pub no_rate: bool,
}

/// A client id.
#[derive(Debug, Args)]
pub struct ClientIdArg {
    /// Client id.
    pub id: String,
}

/// A client id with a reason.
#[derive(Debug, Args)]
pub struct ClientReasonArgs {
    /// Client id.
    pub id: String,
    /// Why (kept with the status).
    #[arg(long)]
    pub reason: Option<String>,
}

/// An issuance rate: `N/min` (also `N/m`, or a bare `N`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate(pub u32);

impl std::str::FromStr for Rate {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let n = t.strip_suffix("/min").or_else(|| t.strip_suffix("/m")).unwrap_or(t);
        match n.trim().parse::<u32>() {
            Ok(v) if v > 0 => Ok(Rate(v)),
            _ => Err(format!("{s:?} is not a rate; use N/min with N ≥ 1, e.g. 60/min")),
        }
    }
}

/// `mcpca token …`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an admin API token; prints it once (only a hash is kept).
    Create(TokenCreateArgs),
    /// List admin tokens (never the tokens themselves).
    List,
    /// Revoke an admin token by its id.
    Revoke(TokenIdArg),
}

/// `mcpca token create`.
#[derive(Debug, Args)]
pub struct TokenCreateArgs {
    /// `admin` may do everything; `reader` may only read.
    #[arg(long, value_enum)]
    pub role: crate::store::Role,
    /// A name to recognise it by.
    #[arg(long)]
    pub name: Option<String>,
    /// Lifetime, e.g. 30d [default: does not expire].
    #[arg(long, value_name = "DUR")]
    pub expires: Option<Dur>,
}

/// A token id.
#[derive(Debug, Args)]
pub struct TokenIdArg {
    /// Token id (see `mcpca token list`).
    pub id: String,
}

/// `mcpca audit`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: Option<AuditCommand>,
    #[command(flatten)]
    pub filter: AuditFilterArgs,
}

/// `mcpca audit verify|export`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain; exit 1 and name the first broken event if it was tampered with.
    Verify,
    /// Write every event as JSON lines.
    Export,
}

/// Filters of `mcpca audit`.
#[derive(Debug, Args)]
pub struct AuditFilterArgs {
    /// Events since a duration ago (`1h`) or a time (RFC 3339).
    #[arg(long, value_name = "DUR|TIME")]
    pub since: Option<String>,
    /// Events about this server (NAME or NAME@VERSION).
    #[arg(long, value_name = "NAME")]
    pub server: Option<String>,
    /// Events by or about this client.
    #[arg(long, value_name = "ID")]
    pub client: Option<String>,
    /// Only issuance decisions that allowed or denied.
    #[arg(long, value_enum)]
    pub decision: Option<crate::audit::Decision>,
    /// The newest N events.
    #[arg(long, value_name = "N")]
    pub limit: Option<u32>,
}

/// `mcpca server add`.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("source").required(true).args(["name", "file"]))]
#[command(after_help = "Examples:
  mcpca server add io.github.acme/weather --url https://weather.acme.dev/mcp --version 1.2.0
  mcpca server add --file server.json --verified

Documents are validated against the official MCP registry schema named by their $schema.")]
pub struct ServerAddArgs {
    /// Registry name, e.g. io.github.acme/weather.
    #[arg(requires = "url")]
    pub name: Option<String>,
    /// The MCP endpoint (streamable HTTP); https, or http on a loopback host.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Version [default: 1.0.0].
    #[arg(long, value_name = "V")]
    pub version: Option<String>,
    /// Description, 1–100 characters.
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    /// Display title.
    #[arg(long, value_name = "TEXT")]
    pub title: Option<String>,
    /// An official server.json document instead of NAME and flags (`-` for stdin).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["url", "version", "description", "title"])]
    pub file: Option<PathBuf>,
    /// Longest descriptor lifetime for this server.
    #[arg(long, value_name = "DUR")]
    pub max_ttl: Option<Dur>,
    /// Mark ownership as verified by the operator.
    #[arg(long)]
    pub verified: bool,
}

/// `mcpca server list`.
#[derive(Debug, Args)]
pub struct ServerListArgs {
    /// Only servers with this status.
    #[arg(long)]
    pub status: Option<Status>,
    /// Case-insensitive substring of the name.
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,
    /// Include deleted servers.
    #[arg(long)]
    pub include_deleted: bool,
    /// Only the latest version of each server.
    #[arg(long)]
    pub latest: bool,
}

/// A server reference argument.
#[derive(Debug, Args)]
pub struct ServerRefOnly {
    /// NAME or NAME@VERSION.
    #[arg(value_name = "NAME[@VERSION]")]
    pub server: ServerRefArg,
}

/// `mcpca server update`.
#[derive(Debug, Args)]
pub struct ServerUpdateArgs {
    /// The server name.
    pub name: String,
    /// Mark ownership verified.
    #[arg(long, conflicts_with = "unverified")]
    pub verified: bool,
    /// Clear the verified mark.
    #[arg(long)]
    pub unverified: bool,
    /// Longest descriptor lifetime for this server.
    #[arg(long, value_name = "DUR", conflicts_with = "no_max_ttl")]
    pub max_ttl: Option<Dur>,
    /// Remove the server's own TTL limit.
    #[arg(long)]
    pub no_max_ttl: bool,
}

/// Moderation commands.
#[derive(Debug, Args)]
pub struct ModerateArgs {
    /// NAME (all versions) or NAME@VERSION.
    #[arg(value_name = "NAME[@VERSION]")]
    pub server: ServerRefArg,
    /// Why (shown with the status).
    #[arg(long)]
    pub reason: Option<String>,
}

/// `mcpca issue`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  mcpca issue --server io.github.acme/weather                 # the JWT alone, 2 minutes
  mcpca issue --server io.github.acme/weather@1.2.0 --ttl 5m -o json
  mcpca issue --server io.github.acme/weather --mcp-config > .mcp.json

A denied issuance exits 1 and names the code: server_not_found, server_revoked,
policy_blocked, transport_not_supported, server_unverified.")]
pub struct IssueArgs {
    /// The server: NAME (latest version) or NAME@VERSION.
    #[arg(long, value_name = "NAME[@VERSION]")]
    pub server: ServerRefArg,
    /// Lifetime (30s, 5m, 1h); clamped to the server's max TTL and 24h [default: 2m].
    #[arg(long, value_name = "DUR")]
    pub ttl: Option<Dur>,
    /// Client the descriptor is issued to [default: operator].
    #[arg(long, value_name = "ID")]
    pub client: Option<String>,
    /// Tenant of the client.
    #[arg(long, value_name = "T")]
    pub tenant: Option<String>,
    /// Space-separated scopes.
    #[arg(long, value_name = "S")]
    pub scope: Option<String>,
    /// Print a ready `.mcp.json`-style entry (url + MCP-Connect header).
    #[arg(long, conflicts_with = "output")]
    pub mcp_config: bool,
}

/// `mcpca connect`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  export MCPCA_REGISTRY=https://ca.example.com MCPCA_CLIENT_ID=ci-bot
  mcpca connect io.github.acme/weather --client-secret-file ~/.config/mcpca/ci-bot.secret
  MCPCA_CLIENT_SECRET=\"$SECRET\" mcpca connect io.github.acme/weather@1.2.0 --ttl 5m -o json
  mcpca connect io.github.acme/weather --client-secret-file bot.secret --format mcp-json > .mcp.json

The authority: --registry > MCPCA_REGISTRY > the current context. The secret: --client-secret-file
> MCPCA_CLIENT_SECRET (never a flag: other users can see command lines). A denial exits 1 and
names the code (unauthorized, server_not_found, server_revoked, policy_blocked,
transport_not_supported, server_unverified, rate_limited); an unreachable authority exits 2.")]
pub struct ConnectArgs {
    /// The server: NAME (latest version) or NAME@VERSION.
    #[arg(value_name = "NAME[@VERSION]")]
    pub server: ServerRefArg,
    /// Lifetime (30s, 5m, 1h); the authority lowers it to its limits [default: the authority's, 2m].
    #[arg(long, value_name = "DUR")]
    pub ttl: Option<Dur>,
    /// Your client id, checked by the authority against the secret's client.
    #[arg(long, env = "MCPCA_CLIENT_ID", value_name = "ID")]
    pub client_id: Option<String>,
    /// File holding the client secret (`mcpca_cs_…`) [default: env MCPCA_CLIENT_SECRET].
    #[arg(long, value_name = "FILE")]
    pub client_secret_file: Option<PathBuf>,
    /// Print the descriptor alone (`jwt`; `-o json|yaml` prints its envelope) or a `.mcp.json` entry.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<ConnectFormat>,
    /// In the `.mcp.json` entry, send the descriptor as `Authorization: Bearer` instead of `MCP-Connect`.
    #[arg(long)]
    pub bearer: bool,
}

/// What `mcpca connect` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ConnectFormat {
    /// The descriptor alone (or its envelope with `-o json|yaml`).
    Jwt,
    /// `{"mcpServers":{NAME:{"type":"http","url":…,"headers":{…}}}}`.
    McpJson,
}

/// `mcpca check`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  mcpca check https://weather.acme.dev/mcp --server io.github.acme/weather
  mcpca check http://127.0.0.1:8080/mcp --server io.github.acme/weather --expect-revocation -o json
  mcpca check https://weather.acme.dev/mcp --server io.github.acme/weather --bearer --registry https://ca.example.com --token-file admin.token

Cases: missing, valid, expired, not_yet_valid, wrong_audience, wrong_server_id, bad_signature,
unknown_kid, alg_none, revoked. Each is a JSON-RPC `initialize` POST; a valid descriptor must
get a 2xx, each broken one a 401 whose JSON body has the DESIGN §3 code in `error`. The probe
descriptors are issued to `mcpca-check` for the server as registered, with a short lifetime,
and audited (`issue.probe`).")]
pub struct CheckArgs {
    /// The MCP endpoint to probe.
    #[arg(value_name = "URL")]
    pub url: String,
    /// The server as registered: NAME (latest version) or NAME@VERSION.
    #[arg(long, value_name = "NAME[@VERSION]")]
    pub server: ServerRefArg,
    /// Send descriptors as `Authorization: Bearer` instead of `MCP-Connect`.
    #[arg(long)]
    pub bearer: bool,
    /// The server follows the revocation feed: also send a descriptor whose jti is revoked
    /// (without it, that case is skipped).
    #[arg(long)]
    pub expect_revocation: bool,
    /// How long to keep re-sending the revoked case while the server's feed catches up.
    #[arg(long, value_name = "DUR", default_value = "30s", requires = "expect_revocation")]
    pub revocation_wait: Dur,
    /// Lifetime of the probe descriptors [default: 2m].
    #[arg(long, value_name = "DUR")]
    pub ttl: Option<Dur>,
    /// Leave a case out (repeatable), e.g. wrong_server_id for a server that checks no server id.
    #[arg(long, value_enum, value_name = "CASE")]
    pub skip: Vec<crate::check::Case>,
}

/// `mcpca inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The descriptor, or `-` (the default) to read it from stdin.
    #[arg(value_name = "JWT|-", default_value = "-")]
    pub token: String,
    /// Check the signature against this JWKS (file or http(s) URL) instead of the local keys.
    #[arg(long, value_name = "FILE|URL")]
    pub jwks: Option<String>,
}

/// `mcpca verify`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  mcpca verify \"$TOKEN\" --audience https://weather.acme.dev/mcp
  echo \"$TOKEN\" | mcpca verify - --audience https://weather.acme.dev/mcp --jwks jwks.json --issuer https://ca.example.com

Failure codes: descriptor_missing, descriptor_invalid, descriptor_expired,
descriptor_wrong_audience, descriptor_revoked.")]
pub struct VerifyArgs {
    /// The descriptor, or `-` (the default) to read it from stdin.
    #[arg(value_name = "JWT|-", default_value = "-")]
    pub token: String,
    /// The verifying server's own URL (compared in canonical form with `aud`).
    #[arg(long, value_name = "URL")]
    pub audience: String,
    /// Also require `mcp.server.id` to be this name.
    #[arg(long, value_name = "ID")]
    pub server_id: Option<String>,
    /// Expected issuer [default: the local authority's].
    #[arg(long, value_name = "URL")]
    pub issuer: Option<String>,
    /// Public keys as a JWKS file (or http(s) URL) [default: the local authority's].
    #[arg(long, value_name = "FILE|URL")]
    pub jwks: Option<String>,
    /// Clock leeway [default: 15s].
    #[arg(long, value_name = "DUR")]
    pub leeway: Option<Dur>,
    /// Also apply a signed revocation feed (the output of `mcpca revocations`).
    #[arg(long, value_name = "FILE")]
    pub revocations: Option<std::path::PathBuf>,
}

/// `mcpca revoke`.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("target").required(true).args(["server", "jti", "key", "client"]))]
pub struct RevokeArgs {
    /// Server NAME or NAME@VERSION: status `revoked`, no new descriptors.
    #[arg(value_name = "NAME[@VERSION]")]
    pub server: Option<ServerRefArg>,
    /// One descriptor, by its jti. The feed carries it until that descriptor expires (its `exp`
    /// plus the leeway, from the issuance's audit event), or for the longest validity when this
    /// authority has no record of issuing it.
    #[arg(long, value_name = "ID")]
    pub jti: Option<String>,
    /// A signing key, by its kid (as `mcpca key revoke`).
    #[arg(long, value_name = "KID", allow_hyphen_values = true)]
    pub key: Option<String>,
    /// A client: suspended, and every descriptor it holds revoked.
    #[arg(long, value_name = "ID")]
    pub client: Option<String>,
    /// Why (kept with the revocation).
    #[arg(long)]
    pub reason: Option<String>,
}

/// `mcpca revocations`.
#[derive(Debug, Args)]
pub struct RevocationsArgs {
    /// Only entries after this sequence number.
    #[arg(long, value_name = "SEQ", default_value_t = 0)]
    pub since: i64,
}

/// `mcpca apply`.
#[derive(Debug, Args)]
#[command(after_help = "Example authority.yaml:
  apiVersion: mcpca/v1
  servers:
    - name: io.github.acme/weather
      status: active            # active|deprecated|suspended|revoked|deleted, for the name
      verified: true
      max_ttl: 10m
      versions:
        - version: 1.2.0
          document: {...}       # an official server.json, or the short form:
        - version: 1.3.0
          url: https://weather.acme.dev/mcp
          description: Weather forecasts
  clients:
    - id: ci-bot
      tenant: acme
      allow: ['io.github.acme/*']
      max_ttl: 5m
      rate: 60/min
      status: active            # active|suspended

  mcpca apply -f authority.yaml --dry-run   # the plan; nothing changes
  mcpca apply -f authority.yaml             # new clients' secrets are printed once
  mcpca export --out authority.yaml

Fields left out take their defaults. Servers, versions and clients the file does not name
are left alone (`unmanaged`), never deleted. Published versions are immutable: a version
whose document differs is an error. The whole file is checked before the first change; any
error step means nothing is applied (exit 2).")]
pub struct ApplyArgs {
    /// The state file, YAML or JSON (`-` for stdin).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: PathBuf,
    /// Print and check the plan; change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `mcpca export`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  mcpca export > authority.yaml
  mcpca export --out authority.json -o json

Every server (deleted ones too) with every version as its full server.json, and every client
with its policy; no secrets, no timestamps. `mcpca apply` of the result on another authority
reproduces this one; on this one it changes nothing.")]
pub struct ExportStateArgs {
    /// Write to FILE (never overwrites) instead of stdout; YAML unless `-o json`.
    #[arg(long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// `mcpca serve`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  mcpca serve                                   # http://127.0.0.1:8421, initialising the home if empty
  mcpca serve --listen 0.0.0.0:8443 --issuer https://ca.example.com --tls-cert cert.pem --tls-key key.pem
  mcpca serve --listen 127.0.0.1:0 --log-format json   # any free port; the address is printed on stdout

SIGTERM or Ctrl-C: in-flight requests finish, then the process exits.")]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "MCPCA_LISTEN", default_value = "127.0.0.1:8421", value_name = "ADDR")]
    pub listen: std::net::SocketAddr,
    /// The authority's public URL (`iss`), overriding config.yaml and MCPCA_ISSUER.
    #[arg(long, value_name = "URL")]
    pub issuer: Option<String>,
    /// TLS certificate chain (PEM); serves HTTPS with --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<std::path::PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,
    /// Log format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// Log format of `serve`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// `mcpca completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    pub shell: clap_complete::Shell,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use clap::Parser as _;

    use super::*;

    /// `mcpca serve` with no flags listens on 127.0.0.1:8421 (loopback only) with text logs,
    /// no TLS and the configured issuer (DESIGN §7, issue 5).
    #[test]
    fn serve_defaults_to_loopback_8421_and_text_logs() {
        let cli = Cli::try_parse_from(["mcpca", "serve"]).unwrap();
        let Command::Serve(args) = cli.command else { panic!("not serve") };
        if std::env::var_os("MCPCA_LISTEN").is_none() {
            assert_eq!(args.listen, "127.0.0.1:8421".parse().unwrap());
        }
        assert_eq!(args.log_format, LogFormat::Text);
        assert!(args.tls_cert.is_none() && args.tls_key.is_none() && args.issuer.is_none());
    }
}
