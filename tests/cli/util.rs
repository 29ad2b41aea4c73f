//! Running the real `mcpca` binary as a user does: a fresh temporary `MCPCA_HOME` per test, the
//! environment cleared of every `MCPCA_*` variable and HOME/XDG pointed into the temporary
//! directory (so the developer's own authority never leaks in), stdin closed unless a test
//! pipes something, and the clock pinned with `MCPCA_NOW` instead of sleeping.

use std::cell::Cell;
use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tempfile::TempDir;

#[path = "../common/output.rs"]
mod output;
pub use output::Output;

/// The instant every test starts at: 2027-01-15T08:00:00Z.
pub const T0: i64 = 1_800_000_000;
/// `T0` as RFC 3339.
pub const T0_RFC3339: &str = "2027-01-15T08:00:00Z";
/// The issuer of an authority created without `--issuer`.
pub const DEFAULT_ISSUER: &str = "http://127.0.0.1:8421";
/// Default rotation grace: max TTL (24h) + leeway (15s).
pub const DEFAULT_GRACE: i64 = 24 * 3600 + 15;
/// The newest official server.json schema.
pub const CURRENT_SCHEMA: &str = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json";
/// An older official schema (requires `version` in packages).
pub const SCHEMA_2025_09_29: &str = "https://static.modelcontextprotocol.io/schemas/2025-09-29/server.schema.json";

/// The official seed documents (an array of server.json).
pub fn seed_docs() -> Vec<Value> {
    serde_json::from_str::<Value>(include_str!("../fixtures/seed.json")).unwrap().as_array().unwrap().clone()
}

/// Path of the binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_mcpca")
}

/// A temporary authority home (not initialised until `init` runs).
pub struct Home {
    tmp: TempDir,
    now: Cell<i64>,
}

impl Home {
    /// An empty home: nothing exists yet (the `home` folder itself is created by `init`).
    pub fn new() -> Self {
        let tmp = tempfile::Builder::new().prefix("mcpca-cli-").tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("user")).unwrap();
        Home { tmp, now: Cell::new(T0) }
    }

    /// A home where `mcpca init` ran successfully at `T0`.
    pub fn init() -> Self {
        let h = Home::new();
        h.cmd(["init"]).success();
        h
    }

    /// `MCPCA_HOME`.
    pub fn dir(&self) -> PathBuf {
        self.tmp.path().join("home")
    }

    /// A file in `MCPCA_HOME`.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir().join(name)
    }

    /// The temporary root (outside `MCPCA_HOME`), for scratch files.
    pub fn root(&self) -> &Path {
        self.tmp.path()
    }

    /// Write a scratch file outside the home and return its path.
    pub fn scratch(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.root().join(name);
        std::fs::write(&p, contents).unwrap();
        p
    }

    /// The clock every command of this home sees (`MCPCA_NOW`) unless a command overrides it.
    pub fn now(&self) -> i64 {
        self.now.get()
    }

    /// Move this home's clock.
    pub fn set_now(&self, t: i64) {
        self.now.set(t);
    }

    /// A command ready to be adjusted (env, stdin, clock) and run.
    pub fn command<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new(bin());
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("MCPCA_") {
                cmd.env_remove(&k);
            }
        }
        let user = self.root().join("user");
        cmd.env_remove("RUST_LOG")
            .env("HOME", &user)
            .env("XDG_CONFIG_HOME", user.join(".config"))
            .env("XDG_DATA_HOME", user.join(".local/share"))
            .env("XDG_CACHE_HOME", user.join(".cache"))
            .env("MCPCA_HOME", self.dir())
            .env("MCPCA_NOW", self.now().to_string())
            .current_dir(self.root());
        let args: Vec<_> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        let display = args.iter().map(|a| a.to_string_lossy().into_owned()).collect::<Vec<_>>().join(" ");
        cmd.args(&args);
        Run { cmd, stdin: None, display: format!("mcpca {display}") }
    }

    /// Run a command with this home's defaults.
    pub fn cmd<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.command(args).run()
    }

    /// `key list -o json`.
    pub fn keys(&self) -> Vec<Value> {
        self.cmd(["key", "list", "-o", "json"]).success().json().as_array().unwrap().clone()
    }

    /// The kid of the (first) key in `state`.
    pub fn kid(&self, state: &str) -> String {
        self.keys().iter().find(|k| k["state"] == state).unwrap_or_else(|| panic!("no {state} key in {:?}", self.keys()))["kid"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The key entry with this kid.
    pub fn key(&self, kid: &str) -> Value {
        self.keys().into_iter().find(|k| k["kid"] == kid).unwrap_or_else(|| panic!("no key {kid}"))
    }

    /// `key export --public` as JSON.
    pub fn jwks(&self) -> Value {
        self.cmd(["key", "export", "--public"]).success().json()
    }

    /// The kids published in the JWKS.
    pub fn published_kids(&self) -> Vec<String> {
        self.jwks()["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
    }

    /// Write the JWKS to a scratch file.
    pub fn jwks_file(&self, name: &str) -> PathBuf {
        let text = self.cmd(["key", "export", "--public"]).success().stdout;
        self.scratch(name, text)
    }

    /// `server add NAME --url URL [extra…]`, asserting success.
    pub fn add_server(&self, name: &str, url: &str, extra: &[&str]) -> Value {
        let mut args = vec!["server", "add", name, "--url", url, "-o", "json"];
        args.extend_from_slice(extra);
        self.cmd(args).success().json()
    }

    /// `server add --file` of a document, via a scratch file.
    pub fn add_doc(&self, doc: &Value) -> Output {
        let name = format!("doc-{}.json", rand_suffix());
        let path = self.scratch(&name, serde_json::to_vec_pretty(doc).unwrap());
        self.cmd([OsStr::new("server"), OsStr::new("add"), OsStr::new("--file"), path.as_os_str()])
    }

    /// `server list -o json [extra…]`.
    pub fn servers(&self, extra: &[&str]) -> Vec<Value> {
        let mut args = vec!["server", "list", "-o", "json"];
        args.extend_from_slice(extra);
        self.cmd(args).success().json().as_array().unwrap().clone()
    }

    /// `server show REF -o json`.
    pub fn show(&self, server: &str) -> Value {
        self.cmd(["server", "show", server, "-o", "json"]).success().json()
    }

    /// `issue --server REF [extra…]`: the JWT.
    pub fn issue(&self, server: &str, extra: &[&str]) -> String {
        let mut args = vec!["issue", "--server", server];
        args.extend_from_slice(extra);
        let out = self.cmd(args).success();
        out.stdout.trim().to_owned()
    }

    /// `issue --server REF -o json [extra…]`: the envelope.
    pub fn issue_json(&self, server: &str, extra: &[&str]) -> Value {
        let mut args = vec!["issue", "--server", server, "-o", "json"];
        args.extend_from_slice(extra);
        self.cmd(args).success().json()
    }

    /// The entries of the revocation feed (`revocations -o json`).
    pub fn revocations(&self) -> Vec<Value> {
        self.revocations_since(0)
    }

    /// The entries of the revocation feed after `seq`.
    pub fn revocations_since(&self, seq: i64) -> Vec<Value> {
        let feed = self.cmd(["revocations", "--since", &seq.to_string(), "-o", "json"]).success().json();
        feed["feed"]["entries"].as_array().unwrap_or_else(|| panic!("no feed entries in {feed}")).clone()
    }

    /// Register a client allowed every server.
    pub fn add_client(&self, id: &str, extra: &[&str]) {
        let mut args = vec!["client", "add", id, "--allow", "*"];
        args.extend_from_slice(extra);
        self.cmd(args).success();
    }

    /// The active private key, exported with `--yes` and parsed.
    pub fn signing_key(&self, kid: &str) -> SigningKey {
        use ed25519_dalek::pkcs8::DecodePrivateKey;
        let pem = self.cmd(["key", "export", "--private", kid, "--yes"]).success().stdout;
        SigningKey::from_pkcs8_pem(&pem).unwrap()
    }
}

/// A unique-enough suffix for scratch file names within one test.
fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::SeqCst).to_string()
}

/// One command, not yet run.
pub struct Run {
    cmd: Command,
    stdin: Option<Vec<u8>>,
    display: String,
}

impl Run {
    /// Set an environment variable.
    pub fn env(mut self, k: &str, v: impl AsRef<OsStr>) -> Self {
        self.cmd.env(k, v);
        self
    }

    /// Remove an environment variable.
    pub fn env_remove(mut self, k: &str) -> Self {
        self.cmd.env_remove(k);
        self
    }

    /// Run at another instant than the home's clock.
    pub fn at(self, t: i64) -> Self {
        self.env("MCPCA_NOW", t.to_string())
    }

    /// Pipe `input` to stdin.
    pub fn stdin(mut self, input: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(input.into());
        self
    }

    /// Start it (stdin closed unless given), without waiting.
    pub fn spawn(mut self) -> (Child, String, Option<Vec<u8>>) {
        self.cmd.stdin(if self.stdin.is_some() { Stdio::piped() } else { Stdio::null() });
        self.cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let child = self.cmd.spawn().unwrap();
        (child, self.display, self.stdin)
    }

    /// Run to completion.
    pub fn run(self) -> Output {
        let (child, display, stdin) = self.spawn();
        finish(child, display, stdin)
    }
}

/// Feed stdin (if any) and wait for a spawned command.
pub fn finish(mut child: Child, display: String, stdin: Option<Vec<u8>>) -> Output {
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        // The command may exit before reading everything; that is its business.
        let _ = pipe.write_all(&input);
        drop(pipe);
    }
    Output::of(display, child.wait_with_output().unwrap())
}

/// Base64url without padding.
pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decode base64url without padding.
pub fn unb64url(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(s).unwrap()
}

/// Header and claims of a compact JWS, decoded without any check.
pub fn decode_jwt(token: &str) -> (Value, Value) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "not a compact JWS: {token}");
    (serde_json::from_slice(&unb64url(parts[0])).unwrap(), serde_json::from_slice(&unb64url(parts[1])).unwrap())
}

/// RFC 7638 thumbprint of an Ed25519 public key, computed independently of mcpca.
pub fn thumbprint(x_b64url: &str) -> String {
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x_b64url}"}}"#);
    b64url(&Sha256::digest(canonical.as_bytes()))
}

/// Sign any header and claims as a compact JWS with `key`.
pub fn sign_jws(key: &SigningKey, header: &Value, claims: &Value) -> String {
    let input = format!("{}.{}", b64url(header.to_string().as_bytes()), b64url(claims.to_string().as_bytes()));
    let sig = key.sign(input.as_bytes());
    format!("{input}.{}", b64url(&sig.to_bytes()))
}

/// The descriptor header mcpca uses, for `kid`.
pub fn descriptor_header(kid: &str) -> Value {
    serde_json::json!({"alg": "EdDSA", "typ": "at+jwt", "kid": kid})
}

/// SHA-256 of a file, hex.
pub fn sha256_file(path: &Path) -> String {
    Sha256::digest(std::fs::read(path).unwrap()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Unix permission bits.
#[cfg(unix)]
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// RFC 3339 of Unix seconds (UTC), computed independently of mcpca.
pub fn rfc3339(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t).unwrap().format(&time::format_description::well_known::Rfc3339).unwrap()
}

/// A revocation as the feed lists it (without `seq` and `reason`, which `revoke` reports).
pub fn feed_entry(r: &Value) -> Value {
    serde_json::json!({"kind": r["kind"], "id": r["id"], "revoked_at": r["revoked_at"], "expires_at": r["expires_at"]})
}

/// The names in a `server list -o json` answer.
pub fn names(entries: &[Value]) -> Vec<String> {
    entries.iter().map(|e| format!("{}@{}", e["server"]["name"].as_str().unwrap(), e["server"]["version"].as_str().unwrap())).collect()
}
