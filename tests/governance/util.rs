//! Running the real `mcpca` binary as a user does: a fresh temporary `MCPCA_HOME` per test, the
//! environment cleared of every `MCPCA_*` variable (and of proxies), HOME/XDG pointed into the
//! temporary directory, stdin closed, and the clock pinned with `MCPCA_NOW` instead of sleeping.
//! Also: direct access to the database (to tamper with it), and a tiny in-process HTTP
//! registry that serves paged `/v0/servers` list responses.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tempfile::TempDir;

#[path = "../common/output.rs"]
mod output;
pub use output::Output;

/// The instant every test starts at: 2027-01-15T08:00:00Z.
pub const T0: i64 = 1_800_000_000;
/// How long a revocation entry stays in the feed by default: max TTL (24h) + leeway (15s).
pub const MAX_VALIDITY: i64 = 24 * 3600 + 15;
/// The newest official server.json schema.
pub const CURRENT_SCHEMA: &str = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json";
/// The issuer of an authority created without `--issuer`.
pub const DEFAULT_ISSUER: &str = "http://127.0.0.1:8421";

/// The official seed documents (3 servers, 4 versions, packages only).
pub fn seed_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seed.json")
}

/// The seed documents, parsed.
pub fn seed_docs() -> Vec<Value> {
    serde_json::from_str::<Value>(&std::fs::read_to_string(seed_path()).unwrap()).unwrap().as_array().unwrap().clone()
}

/// A valid server.json with a streamable-http remote at `https://<slug>.example.dev/mcp`.
pub fn doc(name: &str, version: &str) -> Value {
    let slug: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    json!({
        "$schema": CURRENT_SCHEMA,
        "name": name,
        "description": format!("Server {name}"),
        "version": version,
        "remotes": [{"type": "streamable-http", "url": format!("https://{slug}.example.dev/mcp")}],
    })
}

/// A temporary authority home.
pub struct Home {
    tmp: TempDir,
    now: Cell<i64>,
}

impl Home {
    /// An empty home (not initialised).
    pub fn new() -> Self {
        let tmp = tempfile::Builder::new().prefix("mcpca-gov-").tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("user")).unwrap();
        Home { tmp, now: Cell::new(T0) }
    }

    /// A home where `mcpca init` ran at `T0`.
    pub fn init() -> Self {
        let h = Home::new();
        h.cmd(["init"]).success();
        h
    }

    /// `MCPCA_HOME`.
    pub fn dir(&self) -> PathBuf {
        self.tmp.path().join("home")
    }

    /// The database file.
    pub fn db_path(&self) -> PathBuf {
        self.dir().join("registry.db")
    }

    /// The temporary root (outside the home), for scratch files.
    pub fn root(&self) -> &Path {
        self.tmp.path()
    }

    /// Write a scratch file outside the home and return its path.
    pub fn scratch(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.root().join(name);
        std::fs::write(&p, contents).unwrap();
        p
    }

    /// A scratch file holding `value` as JSON.
    pub fn scratch_json(&self, name: &str, value: &Value) -> PathBuf {
        self.scratch(name, serde_json::to_vec_pretty(value).unwrap())
    }

    /// The clock of this home's commands.
    pub fn now(&self) -> i64 {
        self.now.get()
    }

    /// Move this home's clock.
    pub fn set_now(&self, t: i64) {
        self.now.set(t);
    }

    /// A command, not yet run.
    pub fn command<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mcpca"));
        for (k, _) in std::env::vars_os() {
            let k_text = k.to_string_lossy().to_ascii_uppercase();
            if k_text.starts_with("MCPCA_") || k_text.ends_with("_PROXY") {
                cmd.env_remove(&k);
            }
        }
        let user = self.root().join("user");
        cmd.env_remove("RUST_LOG")
            .env("HOME", &user)
            .env("XDG_CONFIG_HOME", user.join(".config"))
            .env("XDG_DATA_HOME", user.join(".local/share"))
            .env("XDG_CACHE_HOME", user.join(".cache"))
            .env("NO_PROXY", "*")
            .env("MCPCA_HOME", self.dir())
            .env("MCPCA_NOW", self.now().to_string())
            .current_dir(self.root());
        let args: Vec<_> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        let display = args.iter().map(|a| a.to_string_lossy().into_owned()).collect::<Vec<_>>().join(" ");
        cmd.args(&args);
        Run { cmd, display: format!("mcpca {display}") }
    }

    /// Run a command at this home's clock.
    pub fn cmd<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.command(args).run()
    }

    /// `server add NAME --url https://<slug>.example.dev/mcp [extra…]` (version 1.0.0 unless given).
    pub fn add_server(&self, name: &str, extra: &[&str]) -> Value {
        let d = doc(name, "1.0.0");
        let url = d["remotes"][0]["url"].as_str().unwrap().to_owned();
        let mut args = vec!["server", "add", name, "--url", &url, "-o", "json"];
        args.extend_from_slice(extra);
        self.cmd(args).success().json()
    }

    /// `server add --file` of a document.
    pub fn add_doc(&self, d: &Value) -> Output {
        let path = self.scratch_json(&format!("doc-{}.json", unique()), d);
        self.cmd([OsStr::new("server"), OsStr::new("add"), OsStr::new("--file"), path.as_os_str()])
    }

    /// `server show REF -o json`.
    pub fn show(&self, server: &str) -> Value {
        self.cmd(["server", "show", server, "-o", "json"]).success().json()
    }

    /// `server list -o json [extra…]`, as `name@version` strings.
    pub fn server_refs(&self, extra: &[&str]) -> Vec<String> {
        let mut args = vec!["server", "list", "-o", "json"];
        args.extend_from_slice(extra);
        self.cmd(args).success().json().as_array().unwrap().iter().map(server_ref).collect()
    }

    /// `client add ID [extra…] -o json`: (secret, client).
    pub fn add_client(&self, id: &str, extra: &[&str]) -> (String, Value) {
        let mut args = vec!["client", "add", id, "-o", "json"];
        args.extend_from_slice(extra);
        let v = self.cmd(args).success().json();
        (v["secret"].as_str().unwrap().to_owned(), v["client"].clone())
    }

    /// `client show ID -o json`.
    pub fn client(&self, id: &str) -> Value {
        self.cmd(["client", "show", id, "-o", "json"]).success().json()
    }

    /// `issue --server REF [extra…]`, run (not checked).
    pub fn try_issue(&self, server: &str, extra: &[&str]) -> Output {
        let mut args = vec!["issue", "--server", server];
        args.extend_from_slice(extra);
        self.cmd(args)
    }

    /// `issue --server REF -o json [extra…]`: the envelope.
    pub fn issue_json(&self, server: &str, extra: &[&str]) -> Value {
        let mut args = vec!["issue", "--server", server, "-o", "json"];
        args.extend_from_slice(extra);
        self.cmd(args).success().json()
    }

    /// `issue --server REF [extra…]`: the JWT.
    pub fn issue(&self, server: &str, extra: &[&str]) -> String {
        self.try_issue(server, extra).success().stdout.trim().to_owned()
    }

    /// `audit -o json [filters…]`.
    pub fn audit(&self, filters: &[&str]) -> Vec<Value> {
        let mut args = vec!["audit", "-o", "json"];
        args.extend_from_slice(filters);
        self.cmd(args).success().json().as_array().unwrap().clone()
    }

    /// The newest audit event.
    pub fn last_event(&self) -> Value {
        self.audit(&["--limit", "1"]).pop().unwrap()
    }

    /// How many audit events exist.
    pub fn audit_count(&self) -> usize {
        self.audit(&[]).len()
    }

    /// The signed feed (`mcpca revocations [extra…]`), written to a scratch file; returns
    /// (path, decoded payload).
    pub fn feed_file(&self, name: &str, extra: &[&str]) -> (PathBuf, Value) {
        let mut args = vec!["revocations"];
        args.extend_from_slice(extra);
        let jws = self.cmd(args).success().stdout;
        let payload = jws_payload(jws.trim());
        (self.scratch(name, jws), payload)
    }

    /// `key list -o json`: the kid of the key in `state`.
    pub fn kid(&self, state: &str) -> String {
        let keys = self.cmd(["key", "list", "-o", "json"]).success().json();
        keys.as_array().unwrap().iter().find(|k| k["state"] == state).unwrap()["kid"].as_str().unwrap().to_owned()
    }

    /// The public keys (JWKS) written to a scratch file.
    pub fn jwks_file(&self, name: &str) -> PathBuf {
        let text = self.cmd(["key", "export", "--public"]).success().stdout;
        self.scratch(name, text)
    }

    /// A direct connection to the database (for tampering and inspection).
    pub fn db(&self) -> rusqlite::Connection {
        let c = rusqlite::Connection::open(self.db_path()).unwrap();
        c.busy_timeout(Duration::from_secs(10)).unwrap();
        c
    }

    /// Every byte of every file of the home (the database with its WAL, config, KEK), joined.
    pub fn home_bytes(&self) -> Vec<u8> {
        let mut all = Vec::new();
        for e in std::fs::read_dir(self.dir()).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() {
                all.extend(std::fs::read(&p).unwrap());
                all.push(0);
            }
        }
        all
    }

    /// The bytes of `registry.db` with its WAL (if any), joined.
    pub fn db_bytes(&self) -> Vec<u8> {
        let mut all = std::fs::read(self.db_path()).unwrap();
        if let Ok(wal) = std::fs::read(self.dir().join("registry.db-wal")) {
            all.extend(wal);
        }
        all
    }
}

/// `name@version` of a `server list` entry.
pub fn server_ref(e: &Value) -> String {
    format!("{}@{}", e["server"]["name"].as_str().unwrap(), e["server"]["version"].as_str().unwrap())
}

/// A number unique within this test process.
pub fn unique() -> usize {
    static N: AtomicUsize = AtomicUsize::new(0);
    N.fetch_add(1, Ordering::SeqCst)
}

/// One command, not yet run.
pub struct Run {
    cmd: Command,
    display: String,
}

impl Run {
    /// Set an environment variable.
    pub fn env(mut self, k: &str, v: impl AsRef<OsStr>) -> Self {
        self.cmd.env(k, v);
        self
    }

    /// Start it in the background (stdin closed, output captured).
    pub fn spawn(mut self) -> std::process::Child {
        self.cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        self.cmd.spawn().unwrap()
    }

    /// Run to completion (stdin closed).
    pub fn run(mut self) -> Output {
        self.cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        Output::of(self.display, self.cmd.output().unwrap())
    }
}

/// Decode base64url without padding.
pub fn unb64url(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(s).unwrap()
}

/// Header and payload of a compact JWS, decoded without any check.
pub fn decode_jws(token: &str) -> (Value, Value) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "not a compact JWS: {token}");
    (serde_json::from_slice(&unb64url(parts[0])).unwrap(), serde_json::from_slice(&unb64url(parts[1])).unwrap())
}

/// The payload of a compact JWS.
pub fn jws_payload(token: &str) -> Value {
    decode_jws(token).1
}

/// SHA-256.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Does `haystack` contain `needle`?
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// RFC 3339 of Unix seconds (UTC), computed independently of mcpca.
pub fn rfc3339(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t).unwrap().format(&time::format_description::well_known::Rfc3339).unwrap()
}

/// Clears the immutable attribute of a file when dropped (even when a test fails), so the
/// temporary directory can be removed.
pub struct Immutable(PathBuf);

impl Immutable {
    /// `chattr +i PATH`; `None` when the file system or the tool refuses.
    pub fn set(path: &Path) -> Option<Self> {
        let ok = Command::new("chattr").arg("+i").arg(path).stderr(Stdio::null()).status().is_ok_and(|s| s.success());
        // Only trust it if the file really cannot be opened for writing now.
        if ok && std::fs::OpenOptions::new().append(true).open(path).is_err() {
            Some(Immutable(path.to_owned()))
        } else {
            if ok {
                let _ = Command::new("chattr").arg("-i").arg(path).status();
            }
            None
        }
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(&self.0).status();
    }
}

/// How an in-process registry answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Healthy,
    /// Answer HTTP 500 for this page number (1-based, counted by position in the list).
    FailPage(usize),
}

/// A tiny registry serving `GET /v0/servers?limit=N&cursor=NAME:VERSION` from a fixed list of
/// documents, as official list responses with `metadata.nextCursor`. It serves at most
/// `MAX_REQUESTS` requests and stops when dropped.
pub struct Registry {
    pub base: String,
    stop: Arc<AtomicBool>,
    requests: Arc<Mutex<Vec<String>>>,
    thread: Option<JoinHandle<()>>,
    addr: std::net::SocketAddr,
}

const MAX_REQUESTS: usize = 200;

impl Registry {
    /// Start serving `docs`.
    pub fn start(docs: Vec<Value>, mode: Mode) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (stop2, requests2) = (Arc::clone(&stop), Arc::clone(&requests));
        let thread = std::thread::spawn(move || {
            for _ in 0..MAX_REQUESTS {
                let Ok((stream, _)) = listener.accept() else { return };
                if stop2.load(Ordering::SeqCst) {
                    return;
                }
                serve_one(stream, &docs, mode, &requests2);
            }
        });
        Registry { base: format!("http://{addr}"), stop, requests, thread: Some(thread), addr }
    }

    /// The request targets (path and query) received so far.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept() up; the thread sees the flag and ends.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(2));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

fn serve_one(mut stream: TcpStream, docs: &[Value], mode: Mode, requests: &Mutex<Vec<String>>) {
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !contains(&buf, b"\r\n\r\n") && buf.len() < 64 * 1024 {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let text = String::from_utf8_lossy(&buf);
    let target = text.lines().next().and_then(|l| l.split_whitespace().nth(1)).unwrap_or("").to_owned();
    requests.lock().unwrap().push(target.clone());
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let params: BTreeMap<String, String> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect();
    let (status, body) = if path != "/v0/servers" {
        ("404 Not Found", json!({"error": "not found"}))
    } else {
        let limit: usize = params.get("limit").and_then(|l| l.parse().ok()).unwrap_or(30).max(1);
        let start = match params.get("cursor") {
            None => 0,
            Some(c) => docs
                .iter()
                .position(|d| format!("{}:{}", d["name"].as_str().unwrap(), d["version"].as_str().unwrap()) == *c)
                .map_or(docs.len(), |i| i + 1),
        };
        let page = start / limit + 1;
        if mode == Mode::FailPage(page) {
            ("500 Internal Server Error", json!({"error": "boom"}))
        } else {
            let items: Vec<&Value> = docs.iter().skip(start).take(limit).collect();
            let mut metadata = json!({"count": items.len()});
            if start + items.len() < docs.len() {
                let last = items.last().unwrap();
                metadata["nextCursor"] = json!(format!("{}:{}", last["name"].as_str().unwrap(), last["version"].as_str().unwrap()));
            }
            let servers: Vec<Value> = items
                .iter()
                .map(|d| json!({"server": d, "_meta": {"io.modelcontextprotocol.registry/official": {"status": "active", "isLatest": true}}}))
                .collect();
            ("200 OK", json!({"servers": servers, "metadata": metadata}))
        }
    };
    let body = body.to_string();
    let response =
        format!("HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
    let _ = stream.write_all(response.as_bytes());
    let _ = stream.flush();
}
