//! The local authority: the store and the keys of this machine.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use zeroize::Zeroizing;

use super::*;
use crate::clock::Clock;
use crate::config::{relative_to, FileConfig, Overrides, Paths, Settings};
use crate::keys::Kek;
use crate::store::{PgStore, SqliteStore, Store};
use crate::{Error, Result};

mod audit;
mod batcher;
mod clients;
mod init;
mod issue;
mod keys;
mod migrate;
mod probe;
mod servers;
mod snapshot;

pub use batcher::{BatchStats, BATCH_BUCKETS, MAX_BATCH};
pub use snapshot::{FULL_REFRESH, POLL_INTERVAL};

/// The authority's client rules, for checks made before any change (`mcpca apply`).
pub(crate) use clients::{validate_id as validate_client_id, validate_policy as validate_client_policy};
pub use init::{init, InitReport};
pub use migrate::{migrate, MigrateReport};

/// Walk the whole audit log, page by page, in order (`audit export`).
pub async fn export_audit(a: &LocalAuthority, f: impl FnMut(&[crate::audit::AuditEvent]) -> Result<()>) -> Result<()> {
    audit::for_each_page(a, f).await
}

/// Metadata key of the KEK check value.
const META_KEK_CHECK: &str = "kek_check";

/// Where the KEK comes from.
#[derive(Debug, Clone)]
pub enum KekSource {
    /// `MCPCA_KEK` (base64).
    Env,
    /// The `kek` file written at `init`.
    File(PathBuf),
    /// Given directly (tests, embedding).
    Given(Arc<Kek>),
}

impl KekSource {
    /// `MCPCA_KEK` when set, else the file.
    pub fn detect(kek_file: &std::path::Path) -> Self {
        if std::env::var_os("MCPCA_KEK").is_some() {
            KekSource::Env
        } else {
            KekSource::File(kek_file.to_owned())
        }
    }

    fn load(&self) -> Result<Arc<Kek>> {
        match self {
            KekSource::Env => Ok(Arc::new(Kek::from_base64(&std::env::var("MCPCA_KEK").unwrap_or_default())?)),
            KekSource::Given(k) => Ok(Arc::clone(k)),
            KekSource::File(path) => {
                let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
                    if e.kind() == std::io::ErrorKind::NotFound {
                        Error::invalid(
                            format!("the key-encryption key file {} is missing", path.display()),
                            "restore the `kek` file from your backup, or set MCPCA_KEK; nothing was changed",
                        )
                    } else {
                        Error::io("cannot read", path, e)
                    }
                })?);
                Kek::from_base64(&text).map(Arc::new).map_err(|e| match e {
                    Error::Invalid { message, .. } => Error::invalid(
                        format!("{message} (in {})", path.display()),
                        "the `kek` file was damaged: restore it from your backup, or set MCPCA_KEK; nothing was changed",
                    ),
                    other => other,
                })
            }
        }
    }
}

/// An authority backed by this machine's store and keys.
#[derive(Debug)]
pub struct LocalAuthority {
    store: Arc<dyn Store>,
    settings: Settings,
    clock: Arc<dyn Clock>,
    kek_source: KekSource,
    /// Shared with every [`LocalAuthority::as_actor`] view: loaded and checked once.
    kek: Arc<OnceLock<Arc<Kek>>>,
    paths: Paths,
    /// Who the audit log names for changes made through this value.
    actor: String,
    /// The in-memory snapshot and the audit group commit of `mcpca serve`, when enabled.
    hot: Option<Arc<snapshot::HotPath>>,
}

/// Resolved locations of an authority's files after the config file is applied (a database
/// URL given by flag or environment wins over the file's).
fn effective_paths(paths: &Paths, file: &FileConfig) -> Result<Paths> {
    let mut p = paths.clone();
    if let Some(db) = &file.database {
        p.database = relative_to(&paths.config_file, db);
    }
    if let Some(k) = &file.kek_file {
        p.kek_file = relative_to(&paths.config_file, k);
    }
    if p.database_url.is_none() {
        if let Some(url) = file.database_url.as_deref().filter(|u| !u.trim().is_empty()) {
            p.database_url = Some(
                crate::config::DatabaseUrl::parse(url)
                    .map_err(|e| Error::Config(format!("{}: database_url: {e}", paths.config_file.display())))?,
            );
        }
    }
    Ok(p)
}

/// The store `paths` name: PostgreSQL when a database URL is set, else the SQLite file.
fn open_store(paths: &Paths, create: bool) -> Result<Arc<dyn Store>> {
    Ok(match &paths.database_url {
        Some(url) => Arc::new(PgStore::new(url.expose())?),
        None => Arc::new(SqliteStore::open(&paths.database, create)?),
    })
}

impl LocalAuthority {
    /// Open an initialised authority. An empty home gives [`Error::NotInitialized`].
    pub fn open(paths: &Paths, overrides: &Overrides, clock: Arc<dyn Clock>) -> Result<Self> {
        let file = FileConfig::load(&paths.config_file)?;
        let file_cfg = file.clone().unwrap_or_default();
        let paths = effective_paths(paths, &file_cfg)?;
        if file.is_none() || (paths.database_url.is_none() && !paths.database.exists()) {
            let home = paths.config_file.parent().map(PathBuf::from).unwrap_or_default();
            return Err(Error::NotInitialized(home));
        }
        let settings = Settings::resolve(&file_cfg, overrides).map_err(|e| match e {
            Error::Config(m) => Error::Config(format!("{m} (settings from {} and MCPCA_* variables)", paths.config_file.display())),
            e => e,
        })?;
        let store = open_store(&paths, false)?;
        let kek_source = KekSource::detect(&paths.kek_file);
        Ok(Self::with_store(store, settings, clock, paths, kek_source))
    }

    /// An authority over any store (tests, other backends).
    pub fn with_store(store: Arc<dyn Store>, settings: Settings, clock: Arc<dyn Clock>, paths: Paths, kek_source: KekSource) -> Self {
        LocalAuthority { store, settings, clock, kek_source, kek: Arc::new(OnceLock::new()), paths, actor: "operator".into(), hot: None }
    }

    /// The same authority acting for another principal (e.g. `token:<id>` behind the admin API).
    pub fn with_actor(mut self, actor: impl Into<String>) -> Self {
        self.actor = actor.into();
        self
    }

    /// A view of this authority acting for another principal, for one request (the admin API
    /// acts as `token:<id>`): same store, settings, clock and key-encryption key.
    pub fn as_actor(&self, actor: impl Into<String>) -> Self {
        LocalAuthority {
            store: Arc::clone(&self.store),
            settings: self.settings.clone(),
            clock: Arc::clone(&self.clock),
            kek_source: self.kek_source.clone(),
            kek: Arc::clone(&self.kek),
            paths: self.paths.clone(),
            actor: actor.into(),
            hot: self.hot.clone(),
        }
    }

    /// Serve mode: issue from an in-memory snapshot of servers, clients and the active key
    /// (refreshed on every change, including changes by other processes: within
    /// [`POLL_INTERVAL`] on SQLite, as announced by PostgreSQL on PostgreSQL), answer the registry read API from an in-memory catalog refreshed with
    /// it, and record issuances through a batched audit group commit. The
    /// command line keeps the direct path. Needs a tokio runtime; call [`Self::close_hot_path`]
    /// before exit to commit what is queued.
    pub async fn enable_hot_path(&mut self) -> Result<()> {
        if self.hot.is_some() {
            return Ok(());
        }
        self.kek().await?;
        let kek = self.kek.get().cloned().ok_or_else(|| Error::Store("key-encryption key not loaded".into()))?;
        let connect_url = crate::registry::catalog::connect_url(&self.settings.issuer);
        self.hot = Some(match &self.paths.database_url {
            // A pool of its own: the hot path's reads and commits never queue behind the
            // store's connections (admin writes, feed reads).
            Some(url) => snapshot::HotPath::start_postgres(PgStore::new(url.expose())?, kek, connect_url).await?,
            None => snapshot::HotPath::start(&self.paths.database, kek, connect_url).await?,
        });
        Ok(())
    }

    /// Commit every queued audit event and stop the hot path; later calls take the direct path.
    pub async fn close_hot_path(&self) {
        if let Some(h) = &self.hot {
            h.close().await;
        }
    }

    /// Sizes of the audit batches committed by the hot path, when enabled.
    pub fn audit_batch_stats(&self) -> Option<&BatchStats> {
        self.hot.as_deref().map(snapshot::HotPath::batch_stats)
    }

    /// Serve mode: the registry read API's catalog, as fresh as the issuance snapshot (`None`
    /// without the hot path, or once it is closed: the routes then read the store).
    pub fn catalog(&self) -> Option<Arc<crate::registry::catalog::Catalog>> {
        self.hot().map(|h| h.catalog())
    }

    /// Serve mode: the JWKS as of the issuance snapshot, serialized (`None` without the hot
    /// path: the route then reads the store).
    pub fn published_jwks(&self) -> Option<Arc<snapshot::JwksBody>> {
        self.hot().and_then(|h| h.snapshot().jwks())
    }

    /// The hot path, while enabled and open.
    fn hot(&self) -> Option<&Arc<snapshot::HotPath>> {
        self.hot.as_ref().filter(|h| !h.is_closed())
    }

    /// After a change made through this value: the snapshot reflects it before the change's
    /// caller hears back.
    async fn changed<T>(&self, result: Result<T>) -> Result<T> {
        if let (Ok(_), Some(h)) = (&result, self.hot()) {
            if let Err(e) = h.refresh().await {
                tracing::warn!(error = %e, "cannot refresh the issuance snapshot; the poller will retry");
            }
        }
        result
    }

    /// An audit event by this authority's actor, now.
    fn event(&self, action: &str, target: impl Into<String>) -> crate::audit::NewAuditEvent {
        crate::audit::NewAuditEvent::new(self.now(), &self.actor, action, target)
    }

    /// Settings in force.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The files of this authority.
    pub fn paths(&self) -> &Paths {
        &self.paths
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The authority's clock, in Unix seconds.
    pub fn now_secs(&self) -> i64 {
        self.clock.now()
    }

    /// The KEK, loaded on first use and checked against the value written at `init`.
    async fn kek(&self) -> Result<&Kek> {
        if let Some(k) = self.kek.get() {
            return Ok(k);
        }
        let kek = self.kek_source.load()?;
        self.check_kek(&kek).await?;
        Ok(self.kek.get_or_init(|| kek))
    }

    async fn check_kek(&self, kek: &Kek) -> Result<()> {
        match self.store.get_meta(META_KEK_CHECK).await? {
            Some(check) if kek.matches(&check) => Ok(()),
            Some(_) => Err(Error::WrongKek),
            None => {
                Err(Error::Store("the database has no key-encryption key check value; was `mcpca init` interrupted? run it again".into()))
            }
        }
    }

    /// The client a bearer secret (`mcpca_cs_…`) belongs to, compared in constant time.
    pub async fn authenticate_client(&self, secret: &str) -> Result<Option<crate::store::ClientRow>> {
        clients::authenticate(self, secret).await
    }

    /// The active admin token a bearer secret (`mcpca_at_…`) is.
    pub async fn authenticate_token(&self, secret: &str) -> Result<Option<crate::store::TokenRow>> {
        clients::authenticate_token(self, secret).await
    }

    /// Issue for an authenticated principal (the HTTP paths), through the same decision.
    pub async fn issue_for(&self, principal: &Principal, request: &IssueRequest) -> Result<Envelope> {
        issue::issue_as(self, principal, request).await
    }

    /// Longest time a descriptor signed now can stay valid at a verifier.
    fn max_validity(&self) -> i64 {
        self.settings.max_ttl.as_i64() + self.settings.leeway.as_i64()
    }
}

#[async_trait]
impl Authority for LocalAuthority {
    async fn key_list(&self) -> Result<Vec<KeyInfo>> {
        keys::list(self).await
    }
    async fn key_generate(&self) -> Result<KeyInfo> {
        self.changed(keys::generate(self).await).await
    }
    async fn key_rotate(&self, grace: Option<Dur>) -> Result<RotateReport> {
        self.changed(keys::rotate(self, grace).await).await
    }
    async fn key_retire(&self, kid: &str) -> Result<KeyInfo> {
        self.changed(keys::retire(self, kid).await).await
    }
    async fn jwks(&self) -> Result<Jwks> {
        keys::jwks(self).await
    }
    async fn key_export_private(&self, kid: &str) -> Result<Zeroizing<String>> {
        keys::export_private(self, kid).await
    }
    async fn server_add(&self, input: ServerInput) -> Result<ServerEntry> {
        self.changed(servers::add(self, input).await).await
    }
    async fn server_list(&self, filter: &ServerFilter) -> Result<Vec<ServerEntry>> {
        servers::list(self, filter).await
    }
    async fn server_show(&self, server: &ServerRefArg) -> Result<ServerDetail> {
        servers::show(self, server).await
    }
    async fn server_update(&self, name: &str, update: ServerUpdate) -> Result<ServerDetail> {
        self.changed(servers::update(self, name, update).await).await
    }
    async fn server_set_status(&self, server: &ServerRefArg, status: Status, reason: Option<String>) -> Result<ServerDetail> {
        self.changed(servers::set_status(self, server, status, reason).await).await
    }
    async fn issue(&self, request: &IssueRequest) -> Result<Envelope> {
        issue::issue(self, request).await
    }
    async fn probe_set(&self, request: &crate::check::ProbeRequest) -> Result<crate::check::ProbeSet> {
        probe::probe_set(self, request).await
    }
    async fn revoke(&self, target: &RevokeTarget, reason: Option<String>) -> Result<RevokeReport> {
        // Entries no descriptor can match any more leave the store (the feed's seq survives).
        self.store.prune_revocations(self.now()).await?;
        let result = match target {
            RevokeTarget::Server(s) => servers::revoke(self, s, reason).await,
            RevokeTarget::Jti(jti) => issue::revoke_jti(self, jti, reason).await,
            RevokeTarget::Key(kid) => keys::revoke(self, kid, reason).await,
            RevokeTarget::Client(id) => clients::revoke(self, id, reason).await,
        };
        self.changed(result).await
    }
    async fn revocations(&self, since: i64) -> Result<Vec<Revocation>> {
        self.store.list_revocations(since).await
    }
    async fn revocation_feed(&self, since: i64) -> Result<SignedFeed> {
        audit::feed(self, since).await
    }
    async fn server_import(&self, documents: Vec<(String, serde_json::Value)>, dry_run: bool) -> Result<Vec<ImportEntry>> {
        self.changed(servers::import(self, documents, dry_run).await).await
    }
    async fn client_add(&self, id: &str, policy: ClientPolicy) -> Result<ClientCreated> {
        self.changed(clients::add(self, id, policy).await).await
    }
    async fn client_list(&self) -> Result<Vec<ClientInfo>> {
        clients::list(self).await
    }
    async fn client_show(&self, id: &str) -> Result<ClientInfo> {
        clients::show(self, id).await
    }
    async fn client_update(&self, id: &str, policy: ClientPolicy) -> Result<ClientInfo> {
        self.changed(clients::update(self, id, policy).await).await
    }
    async fn client_set_status(&self, id: &str, status: ClientStatus, reason: Option<String>) -> Result<ClientInfo> {
        self.changed(clients::set_status(self, id, status, reason).await).await
    }
    async fn client_remove(&self, id: &str) -> Result<()> {
        self.changed(clients::remove(self, id).await).await
    }
    async fn client_rotate_secret(&self, id: &str) -> Result<ClientCreated> {
        self.changed(clients::rotate_secret(self, id).await).await
    }
    async fn token_create(&self, role: Role, name: Option<String>, expires: Option<Dur>) -> Result<TokenCreated> {
        clients::token_create(self, role, name, expires).await
    }
    async fn token_list(&self) -> Result<Vec<TokenInfo>> {
        clients::token_list(self).await
    }
    async fn token_revoke(&self, id: &str) -> Result<TokenInfo> {
        clients::token_revoke(self, id).await
    }
    async fn audit_list(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>> {
        audit::list(self, filter).await
    }
    async fn audit_verify(&self) -> Result<AuditReport> {
        audit::verify(self).await
    }
}
