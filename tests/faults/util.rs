//! The real `mcpca` binary in a temporary home that may live on a file system of the test's
//! choosing (a tiny tmpfs to fill up or remount read-only), the clock pinned with `MCPCA_NOW`,
//! the environment cleared of every `MCPCA_*` variable; plus `mcpca serve` on loopback port 0
//! and a minimal HTTP/1.1 client.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;
use tempfile::TempDir;

#[path = "../common/output.rs"]
mod output;
pub use output::Output;

/// The instant the tests start at: 2027-01-15T08:00:00Z.
pub const T0: i64 = 1_800_000_000;
/// A server every test registers.
pub const WEATHER: &str = "io.github.acme/weather";

/// A temporary authority home.
pub struct Home {
    root: PathBuf,
    _tmp: Option<TempDir>,
}

impl Home {
    /// A home in a fresh temporary directory, `mcpca init` run at `T0`, one server added.
    pub fn init() -> Self {
        let tmp = tempfile::Builder::new().prefix("mcpca-faults-").tempdir().unwrap();
        let h = Home { root: tmp.path().to_owned(), _tmp: Some(tmp) };
        h.setup();
        h
    }

    /// A home under `root` (which the caller owns), initialised like [`Home::init`].
    pub fn init_in(root: &Path) -> Self {
        let h = Home { root: root.to_owned(), _tmp: None };
        h.setup();
        h
    }

    fn setup(&self) {
        std::fs::create_dir_all(self.root.join("user")).unwrap();
        self.cmd(["init"]).success();
        self.cmd(["server", "add", WEATHER, "--url", "https://weather.acme.dev/mcp"]).success();
    }

    /// `MCPCA_HOME`.
    pub fn dir(&self) -> PathBuf {
        self.root.join("home")
    }

    /// The database file.
    pub fn db_path(&self) -> PathBuf {
        self.dir().join("registry.db")
    }

    /// A command at `T0`, not yet run.
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mcpca"));
        for (k, _) in std::env::vars_os() {
            let upper = k.to_string_lossy().to_ascii_uppercase();
            if upper.starts_with("MCPCA_") || upper.ends_with("_PROXY") {
                cmd.env_remove(&k);
            }
        }
        let user = self.root.join("user");
        cmd.env_remove("RUST_LOG")
            .env("HOME", &user)
            .env("XDG_CONFIG_HOME", user.join(".config"))
            .env("XDG_DATA_HOME", user.join(".local/share"))
            .env("XDG_CACHE_HOME", user.join(".cache"))
            .env("NO_PROXY", "*")
            .env("MCPCA_HOME", self.dir())
            .env("MCPCA_NOW", T0.to_string())
            .current_dir(&self.root)
            .args(args)
            .stdin(Stdio::null());
        cmd
    }

    /// Run a command at `T0`.
    pub fn cmd<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        run(self.command(args))
    }

    /// `issue --server WEATHER [extra…]`, not checked.
    pub fn try_issue(&self, extra: &[&str]) -> Output {
        let mut args = vec!["issue", "--server", WEATHER];
        args.extend_from_slice(extra);
        self.cmd(args)
    }

    /// The audit log, oldest first.
    pub fn audit(&self) -> Vec<Value> {
        let mut events = self.cmd(["audit", "-o", "json", "--limit", "100000"]).success().json().as_array().unwrap().clone();
        events.sort_by_key(|e| e["seq"].as_i64().unwrap());
        events
    }

    /// The jtis of every `issue` event in the audit log.
    pub fn audited_jtis(&self) -> Vec<String> {
        self.audit().iter().filter(|e| e["action"] == "issue").filter_map(|e| e["details"]["jti"].as_str().map(str::to_owned)).collect()
    }

    /// Every row of every table of the database, as text: equal snapshots mean nothing changed.
    pub fn snapshot(&self) -> Vec<String> {
        let c = rusqlite::Connection::open(self.db_path()).unwrap();
        let tables: Vec<String> = c
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let mut rows = Vec::new();
        for t in tables {
            let mut stmt = c.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
            let n = stmt.column_count();
            let mut q = stmt.query([]).unwrap();
            while let Some(r) = q.next().unwrap() {
                let cells: Vec<String> = (0..n).map(|i| format!("{:?}", r.get_ref(i).unwrap())).collect();
                rows.push(format!("{t}: {}", cells.join(" | ")));
            }
        }
        rows
    }

    /// `client add bot --allow '*'`: its secret.
    pub fn add_client(&self, id: &str) -> String {
        let v = self.cmd(["client", "add", id, "--allow", "*", "-o", "json"]).success().json();
        v["secret"].as_str().unwrap().to_owned()
    }

    /// `mcpca serve --listen 127.0.0.1:0` on this home.
    pub fn serve(&self) -> Served {
        let mut child = self.command(["serve", "--listen", "127.0.0.1:0"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url = line.trim().to_owned();
        assert!(url.starts_with("http://127.0.0.1:"), "serve printed {line:?}");
        Served { child, addr: url.trim_start_matches("http://").to_owned() }
    }
}

/// A running `mcpca serve`.
pub struct Served {
    child: Child,
    pub addr: String,
}

impl Served {
    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `POST /v1/connect` for WEATHER with a client secret: (status, body).
    pub fn connect(&self, secret: &str) -> (u16, Value) {
        let body = format!(r#"{{"server_ref":"{WEATHER}"}}"#);
        http(&self.addr, "POST", "/v1/connect", Some(secret), Some(&body))
    }

    /// Stop with SIGTERM (in-flight work is finished and flushed) and wait.
    pub fn stop(mut self) -> String {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        let _ = self.child.wait();
        err
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request with `Connection: close`: (status, JSON body or Null).
pub fn http(addr: &str, method: &str, path: &str, bearer: Option<&str>, body: Option<&str>) -> (u16, Value) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(b) = bearer {
        req.push_str(&format!("Authorization: Bearer {b}\r\n"));
    }
    let body = body.unwrap_or("");
    req.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len()));
    s.write_all(req.as_bytes()).unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let status: u16 = resp.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = resp.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// Run to completion.
pub fn run(mut cmd: Command) -> Output {
    let display = format!("{cmd:?}");
    Output::of(display, cmd.output().unwrap())
}

/// The claims of a compact JWS, decoded without any check.
pub fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// A tmpfs of `size` mounted on a fresh directory, unmounted when dropped; `None` where this
/// process may not mount (not root, no CAP_SYS_ADMIN): the caller skips with a note.
pub struct Tmpfs {
    dir: TempDir,
}

impl Tmpfs {
    pub fn mount(size: &str) -> Option<Self> {
        let dir = tempfile::Builder::new().prefix("mcpca-tmpfs-").tempdir().ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700"), "tmpfs"])
            .arg(dir.path())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Tmpfs { dir })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fill every free byte with a file; returns its path.
    pub fn fill(&self) -> PathBuf {
        let p = self.path().join("filler");
        let mut f = std::fs::File::create(&p).unwrap();
        let chunk = vec![0u8; 4096];
        while f.write_all(&chunk).is_ok() {}
        // The last partial block too.
        while f.write_all(&chunk[..1]).is_ok() {}
        let _ = f.sync_all();
        p
    }

    /// `mount -o remount,ro|rw`.
    pub fn remount(&self, mode: &str) {
        let ok = Command::new("mount").args(["-o", &format!("remount,{mode}")]).arg(self.path()).status().unwrap().success();
        assert!(ok, "remount {mode} failed");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}
