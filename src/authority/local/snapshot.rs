//! The in-memory snapshot `mcpca serve` issues from (DESIGN §9): servers, clients and the
//! active signer, swapped whole so a request never sees half a change. Changes made through
//! this process refresh it at once; changes by other processes (the CLI on the same file) are
//! noticed by a poller: `PRAGMA data_version` says another connection committed, and a short
//! read of the audit events since the last look says whether anything but issuance changed
//! (every change of a server, client or key appends such an event in its own transaction).
//! The registry read API's [`Catalog`] is rebuilt with every snapshot, from the same read
//! transaction, and swapped the same way.
//!
//! On PostgreSQL (several replicas, DESIGN §9) every committed change of servers, clients or
//! keys is announced by the database (`LISTEN/NOTIFY`, migration 2's triggers): each replica
//! keeps one connection listening, reloads on an announcement (a burst is read once), reloads
//! everything after that connection is re-established (announcements sent while it was down
//! are lost) and, as a safety net, every [`FULL_REFRESH`].

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use arc_swap::ArcSwap;
use rusqlite::Connection;

use super::batcher::{AuditBatcher, BatchStats};
use crate::audit::NewAuditEvent;
use crate::authority::ServerRefArg;
use crate::descriptor::DescriptorSigner;
use crate::keys::{Kek, KeyState};
use crate::registry::catalog::{Builder, Catalog};
use crate::store::hot::{HotRows, Recorded, Scope, Walk};
use crate::store::postgres::Change;
use crate::store::sqlite::hot;
use crate::store::{ClientRow, PgStore, RateCheck, ServerRow};
use crate::{Error, Result};

/// How often changes by other processes are looked for (SQLite).
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// PostgreSQL: how often the snapshot is read again without an announcement (a safety net).
pub const FULL_REFRESH: Duration = Duration::from_secs(30);

/// PostgreSQL: the longest wait before trying again to listen for changes.
const RELISTEN_MAX: Duration = Duration::from_secs(5);

/// What issuance reads, as of one committed state of the store.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Versions by name, oldest first; shared with the previous snapshot for every name a
    /// partial reload did not touch.
    servers: Arc<HashMap<Arc<str>, Arc<Vec<ServerRow>>>>,
    by_secret: HashMap<[u8; 32], Arc<ClientRow>>,
    /// The active key, opened; `None` when there is none usable (issuance then takes the
    /// store's path, which explains why).
    signer: Option<Arc<DescriptorSigner>>,
    /// The JWKS document, serialized once per snapshot (`None` if a stored key is damaged:
    /// the route then reads the store, which reports it).
    jwks: Option<Arc<JwksBody>>,
}

/// The published keys as served: the JSON body and its `ETag`.
#[derive(Debug)]
pub struct JwksBody {
    /// Shared with every response (a reference count, no copy).
    pub body: axum::body::Bytes,
    pub etag: String,
}

impl JwksBody {
    fn of(keys: &[crate::store::KeyRow]) -> Option<Self> {
        let jwks = super::keys::published(keys).ok()?;
        let body = serde_json::to_vec(&jwks).ok()?;
        let etag = crate::server::keys::etag_of(&body);
        Some(JwksBody { body: body.into(), etag })
    }
}

impl Snapshot {
    /// The next snapshot from `rows`: the servers of their scope replace those of `previous`
    /// (all of them for [`Scope::All`]); clients and keys are always read whole.
    fn build(rows: HotRows, kek: &Kek, previous: &Snapshot) -> Self {
        if rows.scope.is_nothing() {
            // No server read again: the map is the previous one, shared.
            return Self::with_servers(Arc::clone(&previous.servers), rows, kek, previous);
        }
        let mut servers = match &rows.scope {
            Scope::All => HashMap::with_capacity(previous.servers.len()),
            Scope::Names(names) => {
                let mut kept = (*previous.servers).clone();
                for n in names {
                    kept.remove(n.as_str());
                }
                kept
            }
        };
        // Rows come grouped by name: one exactly sized vector per name (a vector grown by
        // `push` holds room for four rows, 30 MB of nothing with 30,000 one-version names).
        let mut rows_by_name = rows.servers.into_iter().peekable();
        while let Some(first) = rows_by_name.next() {
            let name: Arc<str> = Arc::from(first.version.name.as_str());
            let mut group = vec![first];
            while let Some(row) = rows_by_name.next_if(|r| *r.version.name == *name) {
                group.push(row);
            }
            group.shrink_to_fit();
            match servers.entry(name) {
                Entry::Vacant(slot) => {
                    slot.insert(Arc::new(group));
                }
                Entry::Occupied(mut slot) => Arc::make_mut(slot.get_mut()).append(&mut group),
            }
        }
        Self::with_servers(Arc::new(servers), HotRows { servers: Vec::new(), ..rows }, kek, previous)
    }

    /// The snapshot of `servers` and of the clients and keys of `rows`.
    fn with_servers(servers: Arc<HashMap<Arc<str>, Arc<Vec<ServerRow>>>>, rows: HotRows, kek: &Kek, previous: &Snapshot) -> Self {
        let by_secret = rows.clients.into_iter().map(|c| (c.secret_hash, Arc::new(c))).collect();
        let signer = rows.keys.iter().find(|k| k.state == KeyState::Active).and_then(|k| {
            // The same active key: its signer is reused (no decryption per change).
            if let Some(s) = previous.signer.as_ref().filter(|s| s.kid() == k.kid) {
                return Some(Arc::clone(s));
            }
            let sealed = k.sealed_private.as_deref()?;
            match kek.open_key(&k.kid, sealed) {
                Ok(key) => Some(Arc::new(DescriptorSigner::new(key))),
                Err(e) => {
                    tracing::error!(kid = %k.kid, error = %e, "cannot open the active key");
                    None
                }
            }
        });
        let jwks = JwksBody::of(&rows.keys).map(Arc::new);
        Snapshot { servers, by_secret, signer, jwks }
    }

    /// The JWKS as served, when every published key could be read.
    pub fn jwks(&self) -> Option<Arc<JwksBody>> {
        self.jwks.clone()
    }

    /// As `servers::find_for_issue`: the version named, else the latest, else (all versions
    /// deleted) the newest.
    pub fn find_for_issue(&self, s: &ServerRefArg) -> Option<&ServerRow> {
        let versions = self.servers.get(s.name.as_str())?;
        match &s.version {
            Some(v) => versions.iter().find(|r| &r.version.version == v),
            None => versions.iter().find(|r| r.version.is_latest).or_else(|| versions.last()),
        }
    }

    /// The client whose secret hashes to `hash`.
    pub fn client_by_secret_hash(&self, hash: &[u8; 32]) -> Option<&ClientRow> {
        self.by_secret.get(hash).map(|c| c.as_ref())
    }

    /// The signer of the active key.
    pub fn signer(&self) -> Option<Arc<DescriptorSigner>> {
        self.signer.clone()
    }
}

/// Reader connection and what it has seen.
struct Reader {
    conn: Connection,
    /// `PRAGMA data_version` at the last look.
    version: i64,
    /// Audit head covered by the snapshot (or checked since).
    seen: i64,
}

/// Where the snapshot is read from.
enum Source {
    /// A reader connection of its own, polled for other processes' commits.
    Sqlite(Mutex<Reader>),
    /// The store (a pool of its own); reloads take turns, so an older read never replaces a
    /// newer one. The lock holds the audit head the snapshot covers (`None` before the first
    /// read).
    Postgres { store: PgStore, turn: tokio::sync::Mutex<Option<i64>> },
}

/// The snapshot, its refresher and the audit writer.
pub struct HotPath {
    snapshot: ArcSwap<Snapshot>,
    /// The registry read API's entries, as of the same state as `snapshot` (or newer).
    catalog: ArcSwap<Catalog>,
    /// Where catalog entries say to connect.
    connect_url: String,
    source: Source,
    kek: Arc<Kek>,
    batcher: AuditBatcher,
    closed: AtomicBool,
    poller: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl std::fmt::Debug for HotPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HotPath").field("closed", &self.closed).finish_non_exhaustive()
    }
}

fn lock_err() -> Error {
    Error::Store("snapshot reader poisoned".into())
}

impl HotPath {
    /// Load the first snapshot and catalog of `database` (catalog entries point to
    /// `connect_url`), start the audit writer and the poller.
    pub async fn start(database: &Path, kek: Arc<Kek>, connect_url: String) -> Result<Arc<Self>> {
        let path = database.to_owned();
        let k = Arc::clone(&kek);
        let url = connect_url.clone();
        let (reader, first, catalog) = tokio::task::spawn_blocking(move || -> Result<(Reader, Snapshot, Catalog)> {
            let mut reader = Reader { conn: hot::open_connection(&path)?, version: 0, seen: 0 };
            let (snap, catalog) = load(&mut reader, false, &k, &Snapshot::default(), &Catalog::default(), &url)?;
            Ok((reader, snap, catalog.unwrap_or_default()))
        })
        .await
        .map_err(|e| Error::Store(format!("snapshot task failed: {e}")))??;
        let batcher = AuditBatcher::start(database)?;
        let this = Arc::new(HotPath {
            snapshot: ArcSwap::from_pointee(first),
            catalog: ArcSwap::from_pointee(catalog),
            connect_url,
            source: Source::Sqlite(Mutex::new(reader)),
            kek,
            batcher,
            closed: AtomicBool::new(false),
            poller: Mutex::new(None),
        });
        let weak = Arc::downgrade(&this);
        let task = tokio::spawn(poll(weak));
        if let Ok(mut p) = this.poller.lock() {
            *p = Some(task);
        }
        Ok(this)
    }

    /// PostgreSQL: load the first snapshot and catalog from `store`, start the audit writer
    /// and the task following the announced changes.
    pub async fn start_postgres(store: PgStore, kek: Arc<Kek>, connect_url: String) -> Result<Arc<Self>> {
        let this = Arc::new(HotPath {
            snapshot: ArcSwap::from_pointee(Snapshot::default()),
            catalog: ArcSwap::from_pointee(Catalog::default()),
            connect_url,
            source: Source::Postgres { store: store.clone(), turn: tokio::sync::Mutex::new(None) },
            kek,
            batcher: AuditBatcher::start_postgres(store.clone()),
            closed: AtomicBool::new(false),
            poller: Mutex::new(None),
        });
        // Listening before the first read: a change committed in between is announced.
        let listener = store.listen().await?;
        this.refresh_all().await?;
        let task = tokio::spawn(follow(Arc::downgrade(&this), store, Some(listener)));
        if let Ok(mut p) = this.poller.lock() {
            *p = Some(task);
        }
        Ok(this)
    }

    /// The current snapshot.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }

    /// The current catalog of the registry read API.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog.load_full()
    }

    /// Read the rows again and swap in the new snapshot and catalog.
    fn reload(&self, reader: &mut Reader) -> Result<()> {
        let (previous, previous_catalog) = (self.snapshot.load_full(), self.catalog.load_full());
        let (snap, catalog) = load(reader, true, &self.kek, &previous, &previous_catalog, &self.connect_url)?;
        drop((previous, previous_catalog));
        self.snapshot.store(Arc::new(snap));
        if let Some(catalog) = catalog {
            self.catalog.store(Arc::new(catalog));
        }
        Ok(())
    }

    /// Whether [`HotPath::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Reload now (after a change made through this process, or announced): the servers
    /// changed since the last read (everything when that cannot be told), clients and keys.
    pub async fn refresh(self: &Arc<Self>) -> Result<()> {
        self.refresh_scoped(true, None).await
    }

    /// Reload everything now (the safety net, and after the listening connection was lost).
    pub async fn refresh_all(self: &Arc<Self>) -> Result<()> {
        self.refresh_scoped(false, None).await
    }

    /// After an announced change: nothing when the snapshot has read past it already (the
    /// change came through this process, or with an earlier announcement), else as
    /// [`HotPath::refresh`] — or everything for a change made outside mcpca.
    async fn refresh_announced(self: &Arc<Self>, change: Change) -> Result<()> {
        match change {
            Change::Audited { head_before } => self.refresh_scoped(true, Some(head_before)).await,
            Change::Unaudited => self.refresh_all().await,
        }
    }

    /// Reload (partially when `partial`), unless the snapshot covers audit events past
    /// `unless_past` already (PostgreSQL).
    async fn refresh_scoped(self: &Arc<Self>, partial: bool, unless_past: Option<i64>) -> Result<()> {
        match &self.source {
            Source::Sqlite(_) => {
                let this = Arc::clone(self);
                tokio::task::spawn_blocking(move || {
                    let Source::Sqlite(reader) = &this.source else { return Ok(()) };
                    let mut reader = reader.lock().map_err(|_| lock_err())?;
                    if !partial {
                        reader.seen = -1;
                    }
                    this.reload(&mut reader)
                })
                .await
                .map_err(|e| Error::Store(format!("snapshot task failed: {e}")))?
            }
            Source::Postgres { store, turn } => {
                let mut seen = turn.lock().await;
                if let (Some(read), Some(before)) = (*seen, unless_past) {
                    if read > before {
                        return Ok(());
                    }
                }
                let since = if partial { *seen } else { None };
                let (previous, previous_catalog) = (self.snapshot.load_full(), self.catalog.load_full());
                let mut next = NextCatalog::new(&previous_catalog, &self.connect_url);
                let rows = store.hot_rows(since, Some(&mut |w| next.visit(w))).await?;
                let catalog = next.finish(&rows.scope)?;
                let head = rows.audit_head;
                let snapshot = Snapshot::build(rows, &self.kek, &previous);
                drop((previous, previous_catalog));
                self.snapshot.store(Arc::new(snapshot));
                if let Some(catalog) = catalog {
                    self.catalog.store(Arc::new(catalog));
                }
                *seen = Some(head);
                Ok(())
            }
        }
    }

    /// Reload if another connection committed anything but issuance since the last look.
    fn check(&self) -> Result<()> {
        let Source::Sqlite(reader) = &self.source else { return Ok(()) };
        let mut reader = reader.lock().map_err(|_| lock_err())?;
        let version = hot::data_version(&reader.conn)?;
        if version == reader.version {
            return Ok(());
        }
        let (changed, head) = {
            let seen = reader.seen;
            hot::changed_since(&mut reader.conn, seen)?
        };
        if changed {
            // Records the version it read; on failure the next look tries again.
            self.reload(&mut reader)?;
        } else {
            reader.version = version;
            reader.seen = head;
        }
        Ok(())
    }

    /// Record an issuance event through the group commit.
    pub async fn record(&self, event: NewAuditEvent, rate: Option<RateCheck>) -> Result<Recorded> {
        self.batcher.record(event, rate).await
    }

    /// Sizes of the audit batches committed so far.
    pub fn batch_stats(&self) -> &BatchStats {
        self.batcher.stats()
    }

    /// Stop polling, commit every queued audit event and stop the writer.
    pub async fn close(&self) {
        self.closed.store(true, Ordering::Release);
        if let Ok(mut p) = self.poller.lock() {
            if let Some(task) = p.take() {
                task.abort();
            }
        }
        self.batcher.stop().await;
        tracing::info!("audit log flushed: every queued issuance event is committed");
    }
}

/// Read the rows — the servers changed since the reader's last read when `partial` (and it
/// has one), else all — and build the next snapshot and catalog from `previous` and
/// `previous_catalog` (`None`: the catalog is unchanged); the reader then covers what it read.
fn load(
    reader: &mut Reader,
    partial: bool,
    kek: &Kek,
    previous: &Snapshot,
    previous_catalog: &Catalog,
    connect_url: &str,
) -> Result<(Snapshot, Option<Catalog>)> {
    // data_version first: a commit after this read is seen by the next look. Recorded only
    // once the read succeeded, so a failed read is retried by the poller.
    let version = hot::data_version(&reader.conn)?;
    let since = (partial && reader.seen >= 0).then_some(reader.seen);
    let mut next = NextCatalog::new(previous_catalog, connect_url);
    let rows = hot::load(&mut reader.conn, since, Some(&mut |w| next.visit(w)))?;
    let catalog = next.finish(&rows.scope)?;
    reader.version = version;
    reader.seen = rows.audit_head;
    Ok((Snapshot::build(rows, kek, previous), catalog))
}

/// The next catalog, built as a read walks its rows: from scratch (sharing unchanged bytes)
/// for a full read, as a patch of the previous one for a partial read.
enum NextCatalog<'p> {
    Unstarted(&'p Catalog, &'p str),
    Full(Builder<'p>),
    Patch(&'p Catalog, &'p str, Vec<(ServerRow, i64)>),
}

impl<'p> NextCatalog<'p> {
    fn new(previous: &'p Catalog, connect_url: &'p str) -> Self {
        NextCatalog::Unstarted(previous, connect_url)
    }

    fn visit(&mut self, w: Walk<'_>) {
        match (w, &mut *self) {
            (Walk::Scope(scope), NextCatalog::Unstarted(previous, url)) => {
                let (previous, url) = (*previous, *url);
                *self = match scope {
                    Scope::All => NextCatalog::Full(Builder::new(previous, url)),
                    Scope::Names(_) => NextCatalog::Patch(previous, url, Vec::new()),
                };
            }
            (Walk::Row(row, order), NextCatalog::Full(b)) => b.push(row, order),
            (Walk::Row(row, order), NextCatalog::Patch(_, _, rows)) => rows.push((row.clone(), order)),
            _ => {}
        }
    }

    /// The next catalog; `None` when it is the previous one (no server read again).
    fn finish(self, scope: &Scope) -> Result<Option<Catalog>> {
        match (self, scope) {
            (NextCatalog::Full(b), Scope::All) => Ok(Some(b.finish())),
            (NextCatalog::Patch(..), s) if s.is_nothing() => Ok(None),
            (NextCatalog::Patch(previous, url, rows), Scope::Names(names)) => Ok(Some(previous.patched(names, &rows, url))),
            _ => Err(Error::Store("the snapshot read did not walk its scope".into())),
        }
    }
}

async fn poll(hot: Weak<HotPath>) {
    let mut tick = tokio::time::interval(POLL_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        let Some(this) = hot.upgrade() else { return };
        if this.is_closed() {
            return;
        }
        match tokio::task::spawn_blocking(move || this.check()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "cannot refresh the issuance snapshot; will retry"),
            Err(e) => tracing::warn!(error = %e, "snapshot refresh task failed"),
        }
    }
}

/// PostgreSQL: reload on every announced change (a burst once), re-listen when the listening
/// connection is lost (reloading everything then), and reload every [`FULL_REFRESH`] anyway —
/// or after [`RETRY`] while the last reload failed.
async fn follow(hot: Weak<HotPath>, store: PgStore, mut listener: Option<crate::store::postgres::Listener>) {
    let mut wait = Duration::from_millis(100);
    let mut stale = false;
    loop {
        let mut l = match listener.take() {
            Some(l) => l,
            None => match store.listen().await {
                Ok(l) => {
                    wait = Duration::from_millis(100);
                    tracing::info!("listening for changes again; reading the snapshot anew");
                    match reload(&hot, None).await {
                        Some(ok) => stale = !ok,
                        None => return,
                    }
                    l
                }
                Err(e) => {
                    tracing::warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "cannot listen for changes on PostgreSQL; will retry");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(RELISTEN_MAX);
                    if hot.upgrade().is_none_or(|h| h.is_closed()) {
                        return;
                    }
                    continue;
                }
            },
        };
        loop {
            let next = if stale { RETRY } else { FULL_REFRESH };
            // `Some(change)`: reload (what an announced change needs; everything at the timer or
            // while the last reload failed); `None`: the listening connection is lost.
            let wake = tokio::select! {
                c = l.changed() => c.map(|c| if stale { Change::Unaudited } else { c }),
                () = tokio::time::sleep(next) => Some(Change::Unaudited),
            };
            let Some(change) = wake else {
                tracing::warn!("lost the PostgreSQL connection listening for changes; reconnecting");
                break;
            };
            match reload(&hot, Some(change)).await {
                Some(ok) => stale = !ok,
                None => return,
            }
        }
    }
}

/// PostgreSQL: how soon a failed reload is tried again.
const RETRY: Duration = Duration::from_secs(1);

/// Reload the snapshot of `hot` (as an announced `change` needs; everything for `None`): whether it succeeded, or `None` once `hot` is gone or closed
/// (stop following).
async fn reload(hot: &Weak<HotPath>, change: Option<Change>) -> Option<bool> {
    let this = hot.upgrade()?;
    if this.is_closed() {
        return None;
    }
    let done = match change {
        Some(c) => this.refresh_announced(c).await,
        None => this.refresh_all().await,
    };
    match done {
        Ok(()) => Some(true),
        Err(e) => {
            tracing::warn!(error = %e, "cannot refresh the issuance snapshot; will retry");
            Some(false)
        }
    }
}
