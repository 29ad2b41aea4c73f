//! An authority served in-process on `127.0.0.1:0`, with a temporary home, an injected clock
//! and an admin token, for the HTTP API tests. Stopped (gracefully) when dropped.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use mcpca::authority::local::init;
use mcpca::authority::{Authority, LocalAuthority};
use mcpca::clock::ManualClock;
use mcpca::config::{Overrides, Paths};
use mcpca::server::AppState;
use mcpca::store::Role;

/// The instant every test server's clock starts at.
pub const T0: i64 = 1_800_000_000;

pub struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    pub home: tempfile::TempDir,
    pub clock: ManualClock,
    /// An admin token (`mcpca_at_…`).
    pub admin: String,
    /// A reader token.
    pub reader: String,
    /// The authority the server runs on (same store: changes show at once).
    pub state: Arc<AppState>,
    pub http: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    /// Start a fresh authority with issuer `https://ca.example.com`.
    pub async fn start() -> Self {
        Self::start_with_ip_limit(None).await
    }

    /// The same, with a per-address limit on the unauthenticated routes.
    pub async fn start_with_ip_limit(ip_limit: Option<mcpca::server::iplimit::IpLimit>) -> Self {
        let home = tempfile::tempdir().unwrap();
        let paths = Paths::in_home(home.path());
        let clock = ManualClock::new(T0);
        init(&paths, Some("https://ca.example.com"), Arc::new(clock.clone())).await.unwrap();
        let mut authority = LocalAuthority::open(&paths, &Overrides::default(), Arc::new(clock.clone())).unwrap();
        // As `mcpca serve`: issue from the in-memory snapshot, audit through the group commit.
        authority.enable_hot_path().await.unwrap();
        let admin = authority.token_create(Role::Admin, Some("test-admin".into()), None).await.unwrap().secret;
        let reader = authority.token_create(Role::Reader, Some("test-reader".into()), None).await.unwrap().secret;
        let state = AppState::with_ip_limit(authority, ip_limit);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(mcpca::server::serve(listener, Arc::clone(&state), async move {
            let _ = rx.await;
        }));
        TestServer { url, home, clock, admin, reader, state, http: reqwest::Client::new(), stop: Some(tx), task: Some(task) }
    }

    /// The authority behind the server.
    pub fn authority(&self) -> &LocalAuthority {
        &self.state.authority
    }

    /// The home folder (for running the CLI against the same authority).
    pub fn home_path(&self) -> PathBuf {
        self.home.path().to_path_buf()
    }

    /// `url` + `path`.
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// Stop gracefully and wait for the server to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// A registered server with a loopback endpoint, and a client allowed everything; returns the
/// client's secret.
pub async fn seed(s: &TestServer) -> String {
    use mcpca::authority::ServerInput;
    let doc = mcpca::registry::document_from_flags(&mcpca::registry::ServerFlags {
        name: "io.github.acme/weather".into(),
        url: "https://weather.acme.dev/mcp".into(),
        ..Default::default()
    });
    s.authority().server_add(ServerInput { document: doc, verified: Some(true), max_ttl: None }).await.unwrap();
    let policy = mcpca::model::ClientPolicy { tenant: Some("acme".into()), allow: vec!["*".into()], max_ttl: None, rate_per_min: None };
    s.authority().client_add("bot", policy).await.unwrap().secret
}
