//! Issue 7, DESIGN §9: three `mcpca serve` replicas on one PostgreSQL database under a load of
//! connects spread over them. A server revoked through replica 1 is refused by replicas 2 and
//! 3 within a second; replica 3 is killed (SIGKILL) during the load and the others keep
//! issuing; every descriptor a client received has its audit event and the chain verifies;
//! replica 3, restarted, has caught up with what changed while it was down. Skipped, with a
//! message, without `MCPCA_TEST_DATABASE_URL`.

use std::collections::HashSet;
use std::io::BufRead as _;
use std::process::Child;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::postgres::pg;
use crate::postgres::pgdb::TestDb;
use crate::util::*;

const WEATHER: &str = "io.github.acme/weather";
const MAPS: &str = "io.github.acme/maps";
const NEWS: &str = "io.github.acme/news";
/// Load workers, and the most requests each sends (a bound, whatever happens).
const WORKERS: usize = 6;
const MAX_REQUESTS: usize = 20_000;

/// A served replica; killed when dropped.
struct Replica {
    child: Child,
    url: String,
}

impl Replica {
    fn start(h: &Home, db: &TestDb, kek: &str) -> Replica {
        let (mut child, _, _) = h
            .command(["serve", "--listen", "127.0.0.1:0"])
            .env("MCPCA_DATABASE_URL", &db.url)
            .env("MCPCA_KEK", kek)
            .env("MCPCA_IP_RATE", "0")
            .spawn();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        assert!(line.starts_with("http://127.0.0.1:"), "{line:?}");
        Replica { child, url: line.trim().to_owned() }
    }

    /// SIGKILL, and wait for the process to be gone.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}

/// What the load saw.
#[derive(Default)]
struct Seen {
    /// `(replica, jti)` of every descriptor received.
    received: Vec<(usize, String)>,
    /// Requests that got no answer (a replica killed), per replica.
    unanswered: [usize; 3],
    /// Answers other than 200, with their body.
    refused: Vec<(usize, u16, String)>,
}

impl Seen {
    fn issued_by(&self, replica: usize) -> usize {
        self.received.iter().filter(|(r, _)| *r == replica).count()
    }
}

/// One connect: the status and the body, or `None` when nothing answered.
async fn connect(http: &reqwest::Client, url: &str, secret: &str, server: &str) -> Option<(u16, serde_json::Value)> {
    let resp = http
        .post(format!("{url}/v1/connect"))
        .bearer_auth(secret)
        .json(&serde_json::json!({ "server_ref": server }))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .ok()?;
    let status = resp.status().as_u16();
    Some((status, resp.json().await.unwrap_or_default()))
}

/// Wait (bounded) until `f` holds of what the load saw.
fn wait_for(seen: &Mutex<Seen>, what: &str, f: impl Fn(&Seen) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !f(&seen.lock().unwrap()) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn postgres_three_replicas_share_the_load_see_revocations_and_survive_a_kill() {
    let Some(db) = TestDb::create("postgres_three_replicas_share_the_load_see_revocations_and_survive_a_kill") else { return };
    let homes = [Home::new(), Home::new(), Home::new()];
    let first = &homes[0];
    pg(first, &db, ["init"]).success();
    pg(first, &db, ["server", "add", WEATHER, "--url", "https://weather.acme.dev/mcp"]).success();
    pg(first, &db, ["server", "add", MAPS, "--url", "https://maps.acme.dev/mcp"]).success();
    let secret =
        pg(first, &db, ["client", "add", "bot", "--allow", "*", "-o", "json"]).success().json()["secret"].as_str().unwrap().to_owned();
    let admin = pg(first, &db, ["token", "create", "--role", "admin"]).success().stdout.trim().to_owned();
    let kek = std::fs::read_to_string(first.file("kek")).unwrap().trim().to_owned();
    // Replicas 2 and 3 start on empty homes: `serve` joins the authority in the database (same
    // KEK) without minting an admin token of its own.
    let mut replicas: Vec<Replica> = homes.iter().map(|h| Replica::start(h, &db, &kek)).collect();
    for h in &homes[1..] {
        assert!(h.file("config.yaml").exists() && !h.file("admin-token").exists());
    }
    assert_eq!(db.column("SELECT count(*) FROM admin_tokens"), [Some("1".to_owned())]);
    let urls: Vec<String> = replicas.iter().map(|r| r.url.clone()).collect();

    // The load: workers take the replicas in turn, each request to the next one.
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let (seen, stop, http, urls, secret) = (Arc::clone(&seen), Arc::clone(&stop), http.clone(), urls.clone(), secret.clone());
            rt.spawn(async move {
                for i in 0..MAX_REQUESTS {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let replica = (w + i) % 3;
                    let answer = connect(&http, &urls[replica], &secret, MAPS).await;
                    let mut s = seen.lock().unwrap();
                    match answer {
                        Some((200, env)) => s.received.push((replica, env["jti"].as_str().unwrap().to_owned())),
                        Some((status, body)) => s.refused.push((replica, status, body.to_string())),
                        None => s.unanswered[replica] += 1,
                    }
                }
            })
        })
        .collect();
    wait_for(&seen, "every replica to issue", |s| (0..3).all(|r| s.issued_by(r) >= 30));

    // A revocation through replica 1 (its admin API), refused by 2 and 3 within a second.
    let asked = Instant::now();
    first.command(["revoke", WEATHER, "--registry", &urls[0], "--token", &admin]).run().success();
    let mut delays = Vec::new();
    for url in &urls {
        let delay = rt.block_on(async {
            loop {
                match connect(&http, url, &secret, WEATHER).await {
                    Some((403, body)) => {
                        assert_eq!(body["error"], "server_revoked", "{body}");
                        return asked.elapsed();
                    }
                    Some((200, _)) => {}
                    other => panic!("{url}: unexpected answer {other:?}"),
                }
                assert!(asked.elapsed() < Duration::from_secs(1), "{url} still issues for {WEATHER} a second after its revocation");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
        delays.push(delay);
    }
    eprintln!("revocation refused by the three replicas after {delays:?} (from the command's start)");

    // Replica 3 killed mid-load; the others keep issuing.
    let before_kill = seen.lock().unwrap().received.len();
    wait_for(&seen, "more issuances", |s| s.received.len() >= before_kill + 50);
    replicas[2].kill();
    let (one, two) = {
        let s = seen.lock().unwrap();
        (s.issued_by(0), s.issued_by(1))
    };
    wait_for(&seen, "replicas 1 and 2 to keep issuing", |s| s.issued_by(0) >= one + 100 && s.issued_by(1) >= two + 100);
    // A change while replica 3 is down, through replica 2.
    first.command(["server", "add", NEWS, "--url", "https://news.acme.dev/mcp", "--registry", &urls[1], "--token", &admin]).run().success();
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        rt.block_on(w).unwrap();
    }
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    assert!(seen.refused.is_empty(), "only descriptors or no answer (the killed replica) expected: {:?}", &seen.refused[..1]);
    assert_eq!(seen.unanswered[..2], [0, 0], "replicas 1 and 2 answered every request");
    assert!(seen.unanswered[2] > 0, "the load reached replica 3 after it was killed");

    // Every descriptor received has its audit event, in a chain that verifies.
    let audited: HashSet<String> =
        db.column("SELECT details::json->>'jti' FROM audit WHERE action = 'issue' AND decision = 'allow'").into_iter().flatten().collect();
    let missing: Vec<&str> = seen.received.iter().map(|(_, j)| j.as_str()).filter(|j| !audited.contains(*j)).collect();
    assert!(missing.is_empty(), "{} of {} descriptors have no audit event: {:?}", missing.len(), seen.received.len(), &missing[..1]);
    pg(first, &db, ["audit", "verify"]).success();
    eprintln!(
        "{} descriptors received ({} audited), {} requests to the killed replica unanswered",
        seen.received.len(),
        audited.len(),
        seen.unanswered[2]
    );

    // Replica 3 restarted: caught up (the new server issues, the revoked one is refused).
    replicas[2] = Replica::start(&homes[2], &db, &kek);
    let url = replicas[2].url.clone();
    let urls = [urls[0].clone(), urls[1].clone(), url.clone()];
    rt.block_on(async {
        let (status, env) = connect(&http, &url, &secret, NEWS).await.unwrap();
        assert_eq!((status, env["server"]["id"].as_str()), (200, Some(NEWS)), "{env}");
        let (status, body) = connect(&http, &url, &secret, WEATHER).await.unwrap();
        assert_eq!((status, body["error"].as_str()), (403, Some("server_revoked")), "{body}");
    });

    // Every replica's listening connection cut (a database restart, a network blip): each
    // listens again, reads everything anew, and follows the next change within a second.
    let replicas_listening =
        || db.column(&format!("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'mcpca-listen:{}'", db.schema));
    assert_eq!(replicas_listening(), [Some("3".to_owned())]);
    db.exec(&format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'mcpca-listen:{}'", db.schema));
    let deadline = Instant::now() + Duration::from_secs(10);
    while replicas_listening() != [Some("3".to_owned())] {
        assert!(Instant::now() < deadline, "the replicas listen again");
        std::thread::sleep(Duration::from_millis(20));
    }
    let asked = Instant::now();
    pg(first, &db, ["server", "suspend", MAPS, "--reason", "maintenance"]).success();
    for url in &urls {
        rt.block_on(async {
            loop {
                match connect(&http, url, &secret, MAPS).await {
                    Some((403, body)) if body["error"] == "policy_blocked" => return,
                    Some((200, _)) => {}
                    other => panic!("{url}: unexpected answer {other:?}"),
                }
                assert!(asked.elapsed() < Duration::from_secs(1), "{url} still issues for {MAPS} a second after its suspension");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
    }

    // A change made outside mcpca (an operator's own SQL: no audit event says which server)
    // is announced too, and every replica reads everything anew.
    db.exec(&format!("UPDATE servers SET verified = TRUE WHERE name = '{NEWS}'"));
    let asked = Instant::now();
    let path = format!("/v0.1/servers/{}/versions/latest", NEWS.replace('/', "%2F"));
    for url in &urls {
        rt.block_on(async {
            loop {
                let doc: serde_json::Value = http.get(format!("{url}{path}")).send().await.unwrap().json().await.unwrap();
                if doc["_meta"]["dev.mcpca/authority"]["verified"] == true {
                    return;
                }
                assert!(asked.elapsed() < Duration::from_secs(1), "{url} does not show the change a second later: {doc}");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
    }
    pg(first, &db, ["audit", "verify"]).success();
}

/// The database down (here: the schema out of reach, as an outage looks to the replica): no
/// new connects (503, fail closed: an issuance that cannot be audited is not handed out),
/// `/readyz` says so for the load balancer, the revocation feed answers 503 (verifiers keep
/// the last one they had) — and verification is unaffected: the JWKS is still served (from the
/// replica's snapshot) and a descriptor issued before still verifies. The database back: the
/// replica listens again and issues.
#[test]
fn postgres_database_down_stops_new_connects_not_verification() {
    let Some(db) = TestDb::create("postgres_database_down_stops_new_connects_not_verification") else { return };
    let h = Home::new();
    pg(&h, &db, ["init"]).success();
    pg(&h, &db, ["server", "add", WEATHER, "--url", "https://weather.acme.dev/mcp"]).success();
    let secret =
        pg(&h, &db, ["client", "add", "bot", "--allow", "*", "-o", "json"]).success().json()["secret"].as_str().unwrap().to_owned();
    let kek = std::fs::read_to_string(h.file("kek")).unwrap().trim().to_owned();
    let replica = Replica::start(&h, &db, &kek);
    let url = replica.url.clone();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let get = |path: &str| {
        let (http, u) = (http.clone(), format!("{url}{path}"));
        rt.block_on(async move {
            let r = http.get(u).send().await.unwrap();
            let etag = r.headers().get("etag").map(|v| v.to_str().unwrap().to_owned());
            (r.status().as_u16(), r.text().await.unwrap(), etag)
        })
    };
    let (status, env) = rt.block_on(connect(&http, &url, &secret, WEATHER)).unwrap();
    assert_eq!(status, 200, "{env}");
    let descriptor = env["descriptor"].as_str().unwrap().to_owned();
    let (_, jwks, etag) = get("/.well-known/jwks.json");
    let issuer = serde_json::from_str::<serde_json::Value>(&get("/.well-known/oauth-authorization-server").1).unwrap()["issuer"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(get("/readyz").0, 200);

    // Down. Renamed back when this test ends, whatever happens, so the schema is dropped.
    struct Outage<'a>(&'a TestDb);
    impl Drop for Outage<'_> {
        fn drop(&mut self) {
            self.0.exec_base(&format!("ALTER SCHEMA {0}_down RENAME TO {0}", self.0.schema));
        }
    }
    db.exec_base(&format!("ALTER SCHEMA {0} RENAME TO {0}_down", db.schema));
    let outage = Outage(&db);
    let (status, body) = rt.block_on(connect(&http, &url, &secret, WEATHER)).unwrap();
    assert_eq!(status, 503, "no audit record, no descriptor: {body}");
    let (status, body, _) = get("/readyz");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("store unreachable"), "{body}");
    assert_eq!(get("/v1/revocations").0, 503);
    let (status, body, tag) = get("/.well-known/jwks.json");
    assert_eq!((status, &body, &tag), (200, &jwks, &etag), "the JWKS keeps being served");
    let jwks_url = format!("{url}/.well-known/jwks.json");
    Home::new()
        .command(["verify", &descriptor, "--audience", "https://weather.acme.dev/mcp", "--jwks", &jwks_url, "--issuer", &issuer])
        .run()
        .success();

    // Back: the replica listens again, and issues.
    drop(outage);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, body) = rt.block_on(connect(&http, &url, &secret, WEATHER)).unwrap();
        if status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "the replica issues again once the database is back: {status} {body}");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(get("/readyz").0, 200);
    pg(&h, &db, ["audit", "verify"]).success();
}
