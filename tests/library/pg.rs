//! The PostgreSQL backend: the same story as SQLite, its migrations, and several writers at
//! once. Each test has a schema of its own (`tests/common/pgdb.rs`); without
//! `MCPCA_TEST_DATABASE_URL` they say so and pass.

#[path = "../common/pgdb.rs"]
pub mod pgdb;

use mcpca::audit::{verify_chain, Decision, NewAuditEvent, GENESIS};
use mcpca::store::{PgStore, RateCheck, Store};
use mcpca::Error;
use pgdb::TestDb;

// Multi-threaded: the schema is dropped synchronously at the end while the connections' tasks
// still need to run to close.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_story() {
    let Some(db) = TestDb::create("postgres_story") else { return };
    let s = PgStore::connect(&db.url).await.unwrap();
    crate::story::story(&s).await;
    // Revocation seqs survive pruning, as SQLite's AUTOINCREMENT does.
    let seq = s.revocation_seq().await.unwrap();
    assert!(seq >= 3, "{seq}");
    assert!(s.prune_revocations(i64::MAX).await.unwrap() > 0);
    assert!(s.list_revocations(0).await.unwrap().is_empty());
    assert_eq!(s.revocation_seq().await.unwrap(), seq);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_migrates_once_and_refuses_a_newer_schema() {
    let Some(db) = TestDb::create("postgres_migrates_once_and_refuses_a_newer_schema") else { return };
    // Two processes starting together: both open, the schema is created once.
    let (a, b) = tokio::join!(PgStore::connect(&db.url), PgStore::connect(&db.url));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a.put_meta_if_absent("k", b"v").await.unwrap());
    assert_eq!(b.get_meta("k").await.unwrap().as_deref(), Some(&b"v"[..]));
    // Opening again leaves the data alone.
    let c = PgStore::connect(&db.url).await.unwrap();
    assert_eq!(c.get_meta("k").await.unwrap().as_deref(), Some(&b"v"[..]));

    db.exec("UPDATE mcpca_schema SET version = 999");
    let err = PgStore::connect(&db.url).await.unwrap_err();
    assert!(matches!(err, Error::SchemaTooNew { found: 999, .. }), "{err}");
    assert!(err.to_string().contains("newer than this mcpca understands"), "{err}");
    // A lazily connecting store reports it at its first use.
    let lazy = PgStore::new(&db.url).unwrap();
    assert!(matches!(lazy.get_meta("k").await.unwrap_err(), Error::SchemaTooNew { .. }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_bad_urls_are_refused_clearly() {
    let err = PgStore::new("mysql://x@y/z").unwrap_err();
    assert!(err.to_string().contains("postgres://"), "{err}");
    // TLS is supported (tests/library/pg_tls.rs); an unknown mode is refused, without the password.
    PgStore::new("postgres://u:s3cret@127.0.0.1:5432/db?sslmode=require").unwrap();
    let err = PgStore::new("postgres://u:s3cret@127.0.0.1:5432/db?sslmode=always").unwrap_err();
    assert!(err.to_string().contains("sslmode=always") && !err.to_string().contains("s3cret"), "{err}");
    // Nothing listens on port 1: the message names the target, never the password.
    let err = PgStore::connect("postgres://u:s3cret@127.0.0.1:1/db?connect_timeout=5").await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("cannot connect to PostgreSQL at u@127.0.0.1:1/db"), "{text}");
    assert!(!text.contains("s3cret"), "{text}");
    let debug = format!("{:?}", PgStore::new("postgres://u:s3cret@127.0.0.1:1/db").unwrap());
    assert!(!debug.contains("s3cret"), "{debug}");
}

/// Two processes (two pools) appending at once: one chain, every event in it, in one order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_writers_keep_one_chain() {
    let Some(db) = TestDb::create("postgres_two_writers_keep_one_chain") else { return };
    let a = PgStore::connect(&db.url).await.unwrap();
    let b = PgStore::connect(&db.url).await.unwrap();
    let write = |s: PgStore, who: &'static str| async move {
        for i in 0..40 {
            let e = NewAuditEvent::new(i, who, "test.write", format!("{who}-{i}"));
            if i % 2 == 0 {
                s.append_audit(vec![e.clone(), e]).await.unwrap();
            } else {
                s.record_issue(e.decision(Decision::Allow, None), None).await.unwrap().unwrap();
            }
        }
    };
    let (x, y) = tokio::join!(tokio::spawn(write(a.clone(), "a")), tokio::spawn(write(b.clone(), "b")));
    x.unwrap();
    y.unwrap();
    let all = a.audit_page(0, 10_000).await.unwrap();
    assert_eq!(all.len(), 120);
    assert_eq!(verify_chain(&all, GENESIS).unwrap(), 120);
    assert!(all.iter().zip(1..).all(|(e, n)| e.seq == n), "seqs are 1..=120 without a gap");
}

/// Concurrent issuers cannot overshoot a client's rate: the check runs under the chain's lock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_rate_check_is_exact_across_processes() {
    let Some(db) = TestDb::create("postgres_rate_check_is_exact_across_processes") else { return };
    let stores = [PgStore::connect(&db.url).await.unwrap(), PgStore::connect(&db.url).await.unwrap()];
    let mut tasks = Vec::new();
    for i in 0..12 {
        let s = stores[i % 2].clone();
        tasks.push(tokio::spawn(async move {
            let e = NewAuditEvent::new(100, "bot", "issue", "io.github.acme/weather@1.0.0").decision(Decision::Allow, None);
            s.record_issue(e, Some(RateCheck { client: "bot".into(), since: 41, limit: 5 })).await.unwrap()
        }));
    }
    let mut allowed = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => allowed += 1,
            Err((n, oldest)) => assert_eq!((n, oldest), (5, Some(100))),
        }
    }
    assert_eq!(allowed, 5);
    assert_eq!(stores[0].issued_since("bot", 0).await.unwrap(), (5, Some(100)));
}

/// Migration 2's triggers announce every committed change of what issuance reads, to the
/// listeners of the same schema only: mcpca's own changes with the audit head before them,
/// an operator's own SQL as unaudited; a lost listening connection ends the stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_changes_are_announced_to_listeners_of_the_schema() {
    use std::time::Duration;
    let Some(db) = TestDb::create("postgres_changes_are_announced_to_listeners_of_the_schema") else { return };
    let Some(other) = TestDb::create("postgres_changes_are_announced (other schema)") else { return };
    let s = PgStore::connect(&db.url).await.unwrap();
    let o = PgStore::connect(&other.url).await.unwrap();
    let mut listener = s.listen().await.unwrap();
    use mcpca::store::postgres::Change;
    async fn soon(l: &mut mcpca::store::postgres::Listener) -> Result<Option<Change>, tokio::time::error::Elapsed> {
        tokio::time::timeout(std::time::Duration::from_millis(500), l.changed()).await
    }

    // Another schema's change and a change of something issuance does not read: nothing.
    crate::story::add_client(&o, "elsewhere").await;
    s.append_audit(vec![NewAuditEvent::new(1, "op", "test.note", "x")]).await.unwrap();
    assert!(soon(&mut listener).await.is_err(), "no announcement for another schema or the audit log");

    // A client added here: announced once committed, with the head before its event (1: the
    // note above).
    crate::story::add_client(&s, "bot").await;
    assert_eq!(soon(&mut listener).await, Ok(Some(Change::Audited { head_before: 1 })));
    // Plain SQL (an operator's own UPDATE): no event says what changed.
    db.exec("UPDATE clients SET status = 'suspended' WHERE id = 'bot'");
    assert_eq!(soon(&mut listener).await, Ok(Some(Change::Unaudited)));
    // A burst is read as one: the unaudited change wins; else the later head.
    crate::story::add_client(&s, "two").await;
    db.exec("UPDATE clients SET status = 'active' WHERE id = 'bot'");
    crate::story::add_client(&s, "three").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(soon(&mut listener).await, Ok(Some(Change::Unaudited)));
    crate::story::add_client(&s, "four").await;
    crate::story::add_client(&s, "five").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(soon(&mut listener).await, Ok(Some(Change::Audited { head_before: 5 })), "events 5 and 6 of four and five");

    // The listening connection terminated: the stream ends (the follower then re-listens and
    // reads everything again).
    let app = format!("mcpca-listen:{}", db.schema);
    db.exec(&format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{app}'"));
    let end = tokio::time::timeout(Duration::from_secs(5), async { while listener.changed().await.is_some() {} }).await;
    assert!(end.is_ok(), "the listener reports the lost connection");
}

/// The group commit on PostgreSQL: one transaction per batch, each client's rate counted
/// with the events accepted earlier in the batch, appended in order to the one chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_group_commit_counts_rates_within_a_batch() {
    let Some(db) = TestDb::create("postgres_group_commit_counts_rates_within_a_batch") else { return };
    let s = PgStore::connect(&db.url).await.unwrap();
    let allow = |who: &str, at: i64| NewAuditEvent::new(at, who, "issue", "s@1").decision(Decision::Allow, None);
    let rate = |who: &str| Some(RateCheck { client: who.into(), since: 100, limit: 2 });
    s.record_issue(allow("a", 100), rate("a")).await.unwrap().unwrap();
    let out = s
        .record_batch(vec![
            (allow("a", 101), rate("a")),
            (allow("b", 101), rate("b")),
            (allow("a", 102), rate("a")),
            (allow("b", 102), rate("b")),
        ])
        .await
        .unwrap();
    assert_eq!(out, vec![Ok(2), Ok(3), Err((2, Some(100))), Ok(4)]);
    let events = s.audit_page(0, 100).await.unwrap();
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3, 4]);
    verify_chain(&events, GENESIS).unwrap();
}
