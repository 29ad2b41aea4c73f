//! Group commit of the audit log for `mcpca serve` (DESIGN §6): one writer owns a connection
//! of its own; issuances hand it their event (with their rate check) and wait for its answer;
//! it appends everything queued (up to [`MAX_BATCH`]) in one transaction, then answers each. A
//! failed commit fails every issuance of its batch: no record, no descriptor. On SQLite the
//! writer is a thread (the file's calls block); on PostgreSQL a task, whose batches gather
//! while the previous one travels to the database and back.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use crate::audit::NewAuditEvent;
use crate::store::hot::{Jobs, RateWindows, Recorded};
use crate::store::sqlite::hot;
use crate::store::{PgStore, RateCheck};
use crate::{Error, Result};

/// Most events appended in one transaction.
pub const MAX_BATCH: usize = 512;

/// Upper bounds of the batch-size histogram.
pub const BATCH_BUCKETS: [u64; 10] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

/// Sizes of the committed batches.
#[derive(Debug, Default)]
pub struct BatchStats {
    buckets: [AtomicU64; BATCH_BUCKETS.len() + 1],
    sum: AtomicU64,
    count: AtomicU64,
}

impl BatchStats {
    fn observe(&self, size: usize) {
        let size = size as u64;
        let i = BATCH_BUCKETS.iter().position(|b| size <= *b).unwrap_or(BATCH_BUCKETS.len());
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.sum.fetch_add(size, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// Cumulative counts per bucket of [`BATCH_BUCKETS`] (then `+Inf`), the sum of sizes and
    /// the number of batches: a Prometheus histogram.
    pub fn histogram(&self) -> (Vec<(u64, u64)>, u64, u64, u64) {
        let mut cumulative = 0;
        let buckets = BATCH_BUCKETS
            .iter()
            .enumerate()
            .map(|(i, b)| {
                cumulative += self.buckets[i].load(Ordering::Relaxed);
                (*b, cumulative)
            })
            .collect();
        cumulative += self.buckets[BATCH_BUCKETS.len()].load(Ordering::Relaxed);
        (buckets, cumulative, self.sum.load(Ordering::Relaxed), self.count.load(Ordering::Relaxed))
    }
}

struct Job {
    event: NewAuditEvent,
    rate: Option<RateCheck>,
    ack: oneshot::Sender<Result<Recorded>>,
}

enum Msg {
    Job(Job),
    /// Commit everything queued, answer, and stop.
    Stop(oneshot::Sender<()>),
}

/// The sending side of the writer thread.
#[derive(Debug)]
pub struct AuditBatcher {
    tx: mpsc::UnboundedSender<Msg>,
    stats: Arc<BatchStats>,
}

impl std::fmt::Debug for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Msg::Job(_) => "Job",
            Msg::Stop(_) => "Stop",
        })
    }
}

impl AuditBatcher {
    /// Start the writer thread on a connection of its own to the SQLite file `database`, and
    /// the thread that checkpoints its WAL (see [`CHECKPOINT_EVERY`]).
    pub fn start(database: &Path) -> Result<Self> {
        let conn = writer_connection(database)?;
        let checkpointer = small_cache_connection(database)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let (due, wake) = std::sync::mpsc::sync_channel(1);
        let stats = Arc::new(BatchStats::default());
        let s = Arc::clone(&stats);
        let delivery = Delivery::start();
        std::thread::Builder::new()
            .name("mcpca-checkpoint".into())
            .spawn(move || checkpoints(&checkpointer, &wake))
            .map_err(|e| Error::Store(format!("cannot start the WAL checkpointer: {e}")))?;
        std::thread::Builder::new()
            .name("mcpca-audit".into())
            .spawn(move || writer(conn, rx, &s, &due, &delivery))
            .map_err(|e| Error::Store(format!("cannot start the audit writer: {e}")))?;
        Ok(AuditBatcher { tx, stats })
    }

    /// Start the writer task on PostgreSQL (needs a tokio runtime).
    pub fn start_postgres(store: PgStore) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let stats = Arc::new(BatchStats::default());
        tokio::spawn(pg_writer(store, rx, Arc::clone(&stats)));
        AuditBatcher { tx, stats }
    }

    /// Append `event` (after checking `rate`, when given) in the next group commit; returns
    /// once it is committed.
    pub async fn record(&self, event: NewAuditEvent, rate: Option<RateCheck>) -> Result<Recorded> {
        let (ack, answer) = oneshot::channel();
        self.tx.send(Msg::Job(Job { event, rate, ack })).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Commit everything queued and stop the writer; later records fail.
    pub async fn stop(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Msg::Stop(done)).is_ok() {
            let _ = wait.await;
        }
    }

    /// Sizes of the batches committed so far.
    pub fn stats(&self) -> &BatchStats {
        &self.stats
    }
}

fn stopped() -> Error {
    Error::Store("the audit writer has stopped (shutting down)".into())
}

/// Under concurrent load (the previous commit ended less than [`BUSY`] ago and it or this
/// batch held more than one event), a batch smaller than [`LINGER_BELOW`] waits this long for
/// more events before it commits. Every commit writes
/// the touched pages of the audit table and its two indexes to the WAL whatever the number of
/// events in it, so at thousands of issuances a second fewer, larger commits cost far less
/// (BENCHMARKS.md, `mcpca serve`); an idle authority commits at once.
pub const LINGER: Duration = Duration::from_micros(200);
/// See [`LINGER`].
pub const BUSY: Duration = Duration::from_millis(2);
/// See [`LINGER`].
pub const LINGER_BELOW: usize = 64;

/// Whether a batch of `size` events waits [`LINGER`] for more: only under load (a commit ended
/// less than [`BUSY`] ago) and only while issuances overlap (this batch or the previous one
/// held more than one event) — a lone client sending back to back would otherwise wait on
/// every request for nothing — and not once the batch is large enough to be worth committing.
fn should_linger(last_size: usize, size: usize, since_last_commit: Option<Duration>) -> bool {
    let overlapping = last_size > 1 || size > 1;
    overlapping && size < LINGER_BELOW && since_last_commit.is_some_and(|d| d < BUSY)
}

/// Move queued messages into `jobs` (up to [`MAX_BATCH`]); a stop request ends the gathering.
fn drain(rx: &mut mpsc::UnboundedReceiver<Msg>, jobs: &mut Vec<Job>, stop: &mut Option<oneshot::Sender<()>>) {
    while stop.is_none() && jobs.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(Msg::Job(j)) => jobs.push(j),
            Ok(Msg::Stop(s)) => *stop = Some(s),
            Err(_) => break,
        }
    }
}

/// The writer's connection to `database`. It appends: the last pages of the audit table and
/// its indexes, and their parents, are all it reads back. SQLite's default cache (2 MiB a
/// connection) would fill with pages it wrote once and never reads again: memory that grows
/// with the log for nothing (the soak of issue 8 saw it).
///
/// Checkpoints: SQLite's own (every 1,000 WAL frames, in the committing connection) would copy
/// the WAL into the database and fsync both in the writer, a few milliseconds several times a
/// second under load during which every issuance waits — most of the connect route's p99. So
/// the writer hands them to the checkpointer thread, which copies and syncs while the writer
/// goes on; and only at [`WAL_GUARD_FRAMES`] does the writer checkpoint itself, to let the WAL
/// start over (see [`wal_guard`]), copying no more than what came since the last one.
fn writer_connection(database: &Path) -> Result<Connection> {
    let conn = small_cache_connection(database)?;
    // (This pragma installs SQLite's own WAL hook: it must come before ours.)
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    conn.wal_hook(Some(wal_guard));
    Ok(conn)
}

/// Page cache of the writer's and the checkpointer's connections (`PRAGMA cache_size`, in KiB
/// when negative).
const WRITER_CACHE_KIB: i64 = -256;

/// A hot-path connection to `database` with a [`WRITER_CACHE_KIB`] page cache.
fn small_cache_connection(database: &Path) -> Result<Connection> {
    let conn = hot::open_connection(database)?;
    conn.pragma_update(None, "cache_size", WRITER_CACHE_KIB)?;
    Ok(conn)
}

/// The writer asks the checkpointer for a checkpoint after this many commits (each appends a
/// few pages to the WAL: the audit table's and its indexes' last pages). Often enough that the
/// checkpointer catches up with the writer now and then — its passes run back to back under
/// load, each copying what came during the last — so the WAL starts over on its own (one
/// header sync in the writer, a fraction of a millisecond) instead of growing to
/// [`WAL_GUARD_FRAMES`], where the writer stops for two fsyncs of its own. At 64 that guard
/// was reached about once a second under full load and its fsyncs (1–16 ms) were the connect
/// route's p99: 16 took it from 6.2–7.5 to 4.3–5.2 ms (BENCHMARKS.md, sixth pass).
pub const CHECKPOINT_EVERY: u32 = 16;

/// See [`wal_guard`]: 64 MiB of 4 KiB pages, a few seconds of full load. Each of the writer's
/// own checkpoints holds issuances for two fsyncs; at 4,096 frames they came about twice a
/// second under full load and cost ~0.5 ms of p99 (BENCHMARKS.md, third pass).
pub const WAL_GUARD_FRAMES: i32 = 16384;

/// After each of the writer's commits, with the number of frames in the WAL. The WAL starts
/// over from its beginning only when a write begins with every frame copied into the database;
/// under unbroken load the checkpointer's `PASSIVE` checkpoints always trail the writer by a
/// commit or two, and the WAL would grow without end. So at [`WAL_GUARD_FRAMES`] the writer
/// checkpoints itself, as the only writer: complete (the frames since the checkpointer's last
/// pass), and its next commit starts the WAL over. Errors (`SQLITE_BUSY` while the
/// checkpointer runs) are not the commit's, which has happened: the next commit tries again.
fn wal_guard(wal: &rusqlite::hooks::Wal, frames: std::ffi::c_int) -> rusqlite::Result<()> {
    if frames >= WAL_GUARD_FRAMES {
        let _ = wal.checkpoint_v2(rusqlite::hooks::CheckpointMode::PASSIVE);
    }
    Ok(())
}

/// The checkpointer: a `PASSIVE` checkpoint (it never blocks the writer, and copies every
/// frame committed before it began) each time the writer asks; asks made while one runs fold
/// into one. It ends when the writer does.
fn checkpoints(conn: &Connection, wake: &std::sync::mpsc::Receiver<()>) {
    while wake.recv().is_ok() {
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "WAL checkpoint failed; the next one will retry");
        }
    }
}

fn writer(
    mut conn: Connection,
    mut rx: mpsc::UnboundedReceiver<Msg>,
    stats: &BatchStats,
    due: &std::sync::mpsc::SyncSender<()>,
    delivery: &Delivery,
) {
    let mut stop = None;
    let mut last_commit: Option<Instant> = None;
    let mut last_size = 0;
    let mut commits = 0u32;
    // The clients' rate windows, counted here as the writer appends (see `RateWindows`).
    let mut windows = RateWindows::default();
    while stop.is_none() {
        let Some(first) = rx.blocking_recv() else { break };
        let mut jobs = Vec::new();
        match first {
            Msg::Job(j) => jobs.push(j),
            Msg::Stop(s) => stop = Some(s),
        }
        drain(&mut rx, &mut jobs, &mut stop);
        if stop.is_none() && should_linger(last_size, jobs.len(), last_commit.map(|t| t.elapsed())) {
            std::thread::sleep(LINGER);
            drain(&mut rx, &mut jobs, &mut stop);
        }
        last_size = jobs.len();
        commit(&mut conn, &mut windows, jobs, stats, delivery);
        last_commit = Some(Instant::now());
        commits += 1;
        if commits >= CHECKPOINT_EVERY {
            commits = 0;
            // Never waits: when a checkpoint is running or already asked for, this one folds in.
            let _ = due.try_send(());
        }
    }
    // Shutting down: refuse new events, commit what is queued, then say so.
    rx.close();
    while let Some(jobs) = remaining(&mut rx) {
        commit(&mut conn, &mut windows, jobs, stats, delivery);
    }
    if let Some(s) = stop {
        delivery.stopped(s);
    }
}

/// The writer on PostgreSQL: no lingering — while a batch is on its way to the database and
/// back, the next one gathers.
async fn pg_writer(store: PgStore, mut rx: mpsc::UnboundedReceiver<Msg>, stats: Arc<BatchStats>) {
    let mut stop = None;
    while stop.is_none() {
        let Some(first) = rx.recv().await else { break };
        let mut jobs = Vec::new();
        match first {
            Msg::Job(j) => jobs.push(j),
            Msg::Stop(s) => stop = Some(s),
        }
        drain(&mut rx, &mut jobs, &mut stop);
        let (acks, work) = split(jobs);
        let size = work.len();
        if size > 0 {
            deliver(Delivered::Answers(answers(acks, store.record_batch(work).await, size, &stats)));
        }
    }
    rx.close();
    while let Some(jobs) = remaining(&mut rx) {
        let (acks, work) = split(jobs);
        let size = work.len();
        deliver(Delivered::Answers(answers(acks, store.record_batch(work).await, size, &stats)));
    }
    if let Some(s) = stop {
        let _ = s.send(());
    }
}

/// After the channel is closed: the next batch of what is still queued (answering further
/// stop requests at once), or `None` when nothing is.
fn remaining(rx: &mut mpsc::UnboundedReceiver<Msg>) -> Option<Vec<Job>> {
    let mut jobs = Vec::new();
    while jobs.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(Msg::Job(j)) => jobs.push(j),
            Ok(Msg::Stop(s)) => {
                let _ = s.send(());
            }
            Err(_) => break,
        }
    }
    (!jobs.is_empty()).then_some(jobs)
}

/// The answer channels and the work of a batch.
fn split(jobs: Vec<Job>) -> (Vec<oneshot::Sender<Result<Recorded>>>, Jobs) {
    let mut acks = Vec::with_capacity(jobs.len());
    let mut work = Vec::with_capacity(jobs.len());
    for j in jobs {
        acks.push(j.ack);
        work.push((j.event, j.rate));
    }
    (acks, work)
}

/// The answers owed to the issuances of a committed (or failed) batch of `size` events.
fn answers(acks: Vec<oneshot::Sender<Result<Recorded>>>, result: Result<Vec<Recorded>>, size: usize, stats: &BatchStats) -> Answers {
    match result {
        Ok(outcomes) => {
            stats.observe(size);
            acks.into_iter().zip(outcomes.into_iter().map(Ok)).collect()
        }
        Err(e) => {
            tracing::error!(error = %e, events = size, "audit group commit failed; the batch's issuances are refused");
            let msg = format!("the audit log cannot be written: {e}");
            acks.into_iter().map(|ack| (ack, Err(Error::Store(msg.clone())))).collect()
        }
    }
}

fn commit(conn: &mut Connection, windows: &mut RateWindows, jobs: Vec<Job>, stats: &BatchStats, delivery: &Delivery) {
    if jobs.is_empty() {
        return;
    }
    let (acks, work) = split(jobs);
    let size = work.len();
    delivery.deliver(answers(acks, hot::record_batch(conn, work, windows), size, stats));
}

/// What a committed batch owes its issuances: each answer channel with its outcome.
type Answers = Vec<(oneshot::Sender<Result<Recorded>>, Result<Recorded>)>;

/// What the writer thread hands to the runtime.
enum Delivered {
    Answers(Answers),
    /// The writer has stopped, every answer before this delivered.
    Stopped(oneshot::Sender<()>),
}

/// How the SQLite writer answers. An answer sent from the writer's own thread, outside the
/// runtime, wakes its issuance from outside too: through the runtime's shared queue, one such
/// wake-up per issuance. So the writer hands each batch's answers, in one message, to a task
/// of the runtime that started it, which sends them from inside: one wake-up from outside per
/// batch, and the issuances wake on that worker's own queue. (BENCHMARKS.md, fifth pass: p99
/// at 64 connections 0.3–0.4 ms lower in alternated runs, throughput unchanged.) Without a
/// runtime (tests that start the writer outside one) or once its task is gone, the writer
/// answers itself. The PostgreSQL writer, a task of the runtime, answers directly.
struct Delivery(Option<mpsc::UnboundedSender<Delivered>>);

impl Delivery {
    /// The delivering task, on the current runtime when there is one.
    fn start() -> Self {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return Delivery(None) };
        let (tx, mut rx) = mpsc::unbounded_channel();
        runtime.spawn(async move {
            while let Some(message) = rx.recv().await {
                deliver(message);
            }
        });
        Delivery(Some(tx))
    }

    /// Answer a committed batch's issuances.
    fn deliver(&self, answers: Answers) {
        self.send(Delivered::Answers(answers));
    }

    /// Say the writer has stopped, after every answer before.
    fn stopped(&self, done: oneshot::Sender<()>) {
        self.send(Delivered::Stopped(done));
    }

    fn send(&self, message: Delivered) {
        match &self.0 {
            Some(tx) => {
                if let Err(unsent) = tx.send(message) {
                    deliver(unsent.0);
                }
            }
            None => deliver(message),
        }
    }
}

fn deliver(message: Delivered) {
    match message {
        Delivered::Answers(answers) => {
            for (ack, outcome) in answers {
                // An issuance that stopped waiting (its client went away) needs no answer.
                let _ = ack.send(outcome);
            }
        }
        Delivered::Stopped(done) => {
            let _ = done.send(());
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn only_overlapping_issuances_under_load_wait_for_company() {
        let recent = Some(Duration::from_micros(100));
        assert!(!should_linger(1, 1, recent), "a lone client back to back never waits");
        assert!(should_linger(1, 2, recent), "two at once under load wait for more");
        assert!(should_linger(5, 1, recent), "a busy stream waits even when this batch is one");
        assert!(!should_linger(5, 2, Some(BUSY)), "an idle authority commits at once");
        assert!(!should_linger(5, 2, None), "the first batch commits at once");
        assert!(!should_linger(5, LINGER_BELOW, recent), "a large batch commits at once");
    }

    use crate::store::sqlite::migrated_database;

    /// With nobody else checkpointing, the writer's WAL stops at the guard's size.
    #[test]
    fn the_writer_checkpoints_its_wal_at_the_guard() {
        let (dir, db) = migrated_database();
        let conn = writer_connection(&db).unwrap();
        conn.execute_batch("CREATE TABLE scratch (x INTEGER)").unwrap();
        let mut insert = conn.prepare("INSERT INTO scratch VALUES (?1)").unwrap();
        for i in 0..2 * WAL_GUARD_FRAMES {
            insert.execute([i]).unwrap(); // one commit, at least one frame
        }
        let wal = std::fs::metadata(dir.path().join("registry.db-wal")).unwrap().len();
        let frame = 4096 + 24;
        assert!(wal <= (u64::try_from(WAL_GUARD_FRAMES).unwrap() + 8) * frame + 32, "WAL of {wal} bytes");
        assert_eq!(conn.query_row("SELECT count(*) FROM scratch", [], |r| r.get::<_, i64>(0)).unwrap(), i64::from(2 * WAL_GUARD_FRAMES));
    }

    /// Under the batcher, issuances committed one after another: the WAL stays within the
    /// guard (the checkpointer copies as it goes, the writer lets the WAL start over), and the
    /// database holds every event once the writer has stopped.
    #[test]
    fn the_wal_stays_bounded_under_the_batcher() {
        let (dir, db) = migrated_database();
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let batcher = AuditBatcher::start(&db).unwrap();
        // Unbounded, 20,000 commits of ~3 frames leave a WAL of ~65,000 frames (270 MB).
        let commits = 20_000;
        rt.block_on(async {
            for at in 0..commits {
                let e = NewAuditEvent::new(at, "bot", "issue", "s@1").decision(crate::audit::Decision::Allow, None);
                let _ = batcher.record(e, None).await.unwrap();
            }
            batcher.stop().await;
        });
        let wal = std::fs::metadata(dir.path().join("registry.db-wal")).unwrap().len();
        // The guard, plus what the writer commits while its own checkpoint is refused because
        // the checkpointer's pass is running: on a slow disk (CI) that pass can take as long as
        // a thousand commits or more, so the bound is twice the guard — still half of what the
        // WAL would reach unbounded.
        assert!(wal <= 2 * u64::try_from(WAL_GUARD_FRAMES).unwrap() * (4096 + 24) + 32, "WAL of {wal} bytes");
        let c = Connection::open(&db).unwrap();
        assert_eq!(c.query_row("SELECT count(*) FROM audit", [], |r| r.get::<_, i64>(0)).unwrap(), commits);
        assert_eq!(c.query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0)).unwrap(), "ok");
    }

    fn event(at: i64) -> NewAuditEvent {
        NewAuditEvent::new(at, "bot", "issue", "s@1").decision(crate::audit::Decision::Allow, None)
    }

    /// Started inside a runtime, the writer answers through a task of it: every issuance gets
    /// its own sequence number; what is queued when the writer is stopped is committed and
    /// answered before `stop` returns.
    #[test]
    fn answers_come_through_the_runtime_and_before_the_stop() {
        let (_dir, db) = migrated_database();
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
        rt.block_on(async {
            let batcher = Arc::new(AuditBatcher::start(&db).unwrap());
            let tasks: Vec<_> = (0..200)
                .map(|at| {
                    let b = Arc::clone(&batcher);
                    tokio::spawn(async move { b.record(event(at), None).await })
                })
                .collect();
            let mut seqs = Vec::new();
            for t in tasks {
                seqs.push(t.await.unwrap().unwrap().unwrap());
            }
            seqs.sort_unstable();
            seqs.dedup();
            assert_eq!(seqs.len(), 200, "one sequence number each");
            // Queued, then the stop: every answer is out by the time `stop` returns.
            let mut answers = Vec::new();
            for at in 0..50 {
                let (ack, answer) = oneshot::channel();
                batcher.tx.send(Msg::Job(Job { event: event(1_000 + at), rate: None, ack })).unwrap();
                answers.push(answer);
            }
            batcher.stop().await;
            for mut a in answers {
                assert!(a.try_recv().unwrap().unwrap().is_ok(), "answered before the stop returned");
            }
            assert!(batcher.record(event(2_000), None).await.is_err(), "a stopped writer refuses");
        });
        let c = Connection::open(&db).unwrap();
        assert_eq!(c.query_row("SELECT count(*) FROM audit", [], |r| r.get::<_, i64>(0)).unwrap(), 250);
    }

    /// Started outside any runtime, the writer answers from its own thread.
    #[test]
    fn without_a_runtime_the_writer_answers_itself() {
        let (_dir, db) = migrated_database();
        let batcher = AuditBatcher::start(&db).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            assert!(batcher.record(event(1), None).await.unwrap().is_ok());
            batcher.stop().await;
        });
    }

    /// The writer's page cache is small; the store's other connections keep SQLite's default.
    #[test]
    fn the_writer_keeps_a_small_page_cache() {
        let (_dir, db) = migrated_database();
        let conn = writer_connection(&db).unwrap();
        assert_eq!(conn.query_row("PRAGMA cache_size", [], |r| r.get::<_, i64>(0)).unwrap(), WRITER_CACHE_KIB);
        assert_eq!(hot::open_connection(&db).unwrap().query_row("PRAGMA cache_size", [], |r| r.get::<_, i64>(0)).unwrap(), -2000);
    }
}
