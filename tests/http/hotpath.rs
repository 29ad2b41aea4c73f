//! The issuance hot path of `mcpca serve`: the in-memory snapshot follows changes made by
//! another process, the audit group commit answers every request only after its event is
//! committed (and refuses when it cannot be), rates stay exact under concurrency, and the
//! unauthenticated routes are limited per address.

use std::time::{Duration, Instant};

use mcpca::audit::Decision;
use mcpca::authority::Authority;
use mcpca::server::iplimit::IpLimit;
use mcpca::store::AuditFilter;
use serde_json::{json, Value};

use crate::util::{seed, TestServer, T0};

const WEATHER: &str = "io.github.acme/weather";

async fn connect(s: &TestServer, secret: &str) -> reqwest::Response {
    s.http.post(s.at("/v1/connect")).bearer_auth(secret).json(&json!({ "server_ref": WEATHER })).send().await.unwrap()
}

/// `n` connects at once; their statuses.
async fn burst(s: &TestServer, secret: &str, n: usize) -> Vec<(u16, Value)> {
    let mut tasks = Vec::new();
    for _ in 0..n {
        let (http, url, secret) = (s.http.clone(), s.at("/v1/connect"), secret.to_owned());
        tasks.push(tokio::spawn(async move {
            let r = http.post(url).bearer_auth(secret).json(&json!({ "server_ref": WEATHER })).send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

async fn allowed_issues(s: &TestServer, client: &str) -> usize {
    let filter = AuditFilter { client: Some(client.into()), decision: Some(Decision::Allow), ..Default::default() };
    s.authority().audit_list(&filter).await.unwrap().iter().filter(|e| e.action == "issue").count()
}

/// `mcpca ARGS` from another process on the same home, at T0 (no `MCPCA_*` of this one);
/// it must succeed.
async fn cli(s: &TestServer, args: &[&str]) {
    let home = s.home_path();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let out = tokio::task::spawn_blocking(move || {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_mcpca"));
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("MCPCA_") {
                cmd.env_remove(k);
            }
        }
        cmd.env("MCPCA_HOME", home).env("MCPCA_NOW", T0.to_string()).args(args).output().unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// A client `limited` allowed `per_min` issuances a minute; its secret.
async fn limited_client(s: &TestServer, per_min: u32) -> String {
    let policy = mcpca::model::ClientPolicy { tenant: None, allow: vec!["*".into()], max_ttl: None, rate_per_min: Some(per_min) };
    s.authority().client_add("limited", policy).await.unwrap().secret
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_snapshot_follows_a_change_made_by_another_process() {
    let s = TestServer::start().await;
    let secret = seed(&s).await;
    assert_eq!(connect(&s, &secret).await.status(), 200);
    cli(&s, &["server", "suspend", WEATHER]).await;
    // The poller looks every POLL_INTERVAL; allow generously for a loaded machine.
    let changed = Instant::now();
    let deadline = changed + Duration::from_secs(10);
    loop {
        let r = connect(&s, &secret).await;
        if r.status() == 403 {
            assert_eq!(r.json::<Value>().await.unwrap()["error"], "policy_blocked");
            break;
        }
        assert_eq!(r.status(), 200);
        assert!(Instant::now() < deadline, "the service never saw the suspension made by the CLI");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    eprintln!("suspension seen after {:?} (poll interval {:?})", changed.elapsed(), mcpca::authority::local::POLL_INTERVAL);
    // A change made through the service itself shows at once.
    s.authority().server_set_status(&WEATHER.parse().unwrap(), mcpca::model::Status::Active, None).await.unwrap();
    assert_eq!(connect(&s, &secret).await.status(), 200);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_connects_are_group_committed_into_one_intact_chain() {
    let s = TestServer::start().await;
    let secret = seed(&s).await;
    let n = 200;
    let answers = burst(&s, &secret, n).await;
    assert!(answers.iter().all(|(status, body)| *status == 200 && body["descriptor"].is_string()), "{answers:?}");
    assert_eq!(allowed_issues(&s, "bot").await, n);
    let report = s.authority().audit_verify().await.unwrap();
    assert!(report.intact, "{report:?}");
    let metrics = s.http.get(s.at("/metrics")).send().await.unwrap().text().await.unwrap();
    let sum = metrics.lines().find_map(|l| l.strip_prefix("mcpca_audit_batch_size_sum ")).unwrap();
    assert_eq!(sum.parse::<usize>().unwrap(), n, "{metrics}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_audit_record_no_descriptor() {
    let s = TestServer::start().await;
    let secret = seed(&s).await;
    let db = mcpca::config::Paths::in_home(&s.home_path()).database;
    let sql = |stmt: &'static str| {
        let db = db.clone();
        async move { tokio::task::spawn_blocking(move || rusqlite::Connection::open(db).unwrap().execute_batch(stmt).unwrap()).await.unwrap() }
    };
    sql("CREATE TRIGGER fail_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'test'); END;").await;
    let answers = burst(&s, &secret, 16).await;
    for (status, body) in &answers {
        assert_eq!(*status, 503, "{body}");
        assert_eq!(body["error"], "unavailable");
        assert!(body.get("descriptor").is_none());
    }
    sql("DROP TRIGGER fail_audit;").await;
    assert_eq!(connect(&s, &secret).await.status(), 200, "the writer recovers once the log can be written");
    assert_eq!(allowed_issues(&s, "bot").await, 1);
    assert!(s.authority().audit_verify().await.unwrap().intact);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_limit_is_exact_under_concurrency() {
    let s = TestServer::start().await;
    seed(&s).await;
    let secret = limited_client(&s, 10).await;
    let answers = burst(&s, &secret, 64).await;
    let ok = answers.iter().filter(|(status, _)| *status == 200).count();
    assert_eq!(ok, 10, "{answers:?}");
    for (status, body) in answers.iter().filter(|(status, _)| *status != 200) {
        assert_eq!(*status, 429);
        assert_eq!(body["error"], "rate_limited");
        assert!(body["retry_after"].as_u64().is_some_and(|r| (1..=60).contains(&r)), "{body}");
    }
    assert_eq!(allowed_issues(&s, "limited").await, 10);
    assert!(s.authority().audit_verify().await.unwrap().intact);
    s.stop().await;
}

/// The group commit counts rates in memory (no index of the log by client): what another
/// process issues to the same client counts too, read back from the log before each batch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_limit_counts_what_other_processes_issue() {
    let s = TestServer::start().await;
    seed(&s).await;
    let secret = limited_client(&s, 10).await;
    for _ in 0..4 {
        assert_eq!(connect(&s, &secret).await.status(), 200);
    }
    for _ in 0..3 {
        cli(&s, &["issue", "--server", WEATHER, "--client", "limited"]).await;
    }
    let answers = burst(&s, &secret, 16).await;
    assert_eq!(answers.iter().filter(|(status, _)| *status == 200).count(), 3, "10 - 4 - 3: {answers:?}");
    assert!(answers.iter().all(|(status, _)| *status == 200 || *status == 429), "{answers:?}");
    assert_eq!(allowed_issues(&s, "limited").await, 10);
    // A minute later the window is empty again.
    s.clock.advance(60);
    assert_eq!(burst(&s, &secret, 12).await.iter().filter(|(status, _)| *status == 200).count(), 10);
    s.stop().await;
}

/// A window that starts before what the writer remembers (the clock stepped back by minutes)
/// is counted from the log, and stays exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_limit_stays_exact_when_the_clock_steps_back() {
    let s = TestServer::start().await;
    seed(&s).await;
    let secret = limited_client(&s, 5).await;
    s.clock.advance(600);
    for _ in 0..3 {
        assert_eq!(connect(&s, &secret).await.status(), 200);
    }
    // Back by five minutes: the three issuances are "in the future", so inside any window.
    s.clock.advance(-300);
    let answers = burst(&s, &secret, 8).await;
    assert_eq!(answers.iter().filter(|(status, _)| *status == 200).count(), 2, "{answers:?}");
    assert_eq!(allowed_issues(&s, "limited").await, 5);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthenticated_routes_are_limited_per_address() {
    let s = TestServer::start_with_ip_limit(Some(IpLimit { per_sec: 0.5, burst: 5.0 })).await;
    let secret = seed(&s).await;
    for _ in 0..5 {
        assert_eq!(s.http.get(s.at("/.well-known/jwks.json")).send().await.unwrap().status(), 200);
    }
    let r = s.http.get(s.at("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let retry: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry), "{retry}");
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "rate_limited");
    // Authenticated routes are limited per client, by the policy, not per address.
    for _ in 0..3 {
        assert_eq!(connect(&s, &secret).await.status(), 200);
    }
    s.stop().await;
}
