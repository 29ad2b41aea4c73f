//! Secrets stay secret: a full scenario with the real binary (init, keys generate and rotate,
//! clients added and their secrets rotated, admin tokens, issue, verify, and `mcpca serve` at
//! `MCPCA_LOG=trace` answering a connect, an OAuth token request and admin calls, right and
//! wrong credentials alike), then every captured stdout/stderr, the database (+ WAL), and every
//! file written under the temporary root are searched for the KEK, the private keys' seeds, the
//! client secrets and the admin tokens — in their own text and as raw bytes, base64, base64url
//! and hex. The one place a secret may appear is the stdout of the command that created it (and
//! the file made for it: `kek`, `admin-token`). Files holding secrets must be mode 0600.
//! The private keys are read with `key export --private` only at the very end, after every
//! output has been captured.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use ed25519_dalek::pkcs8::DecodePrivateKey as _;

const T0: i64 = 1_800_000_000;
const SERVER: &str = "io.github.acme/weather";
const ENDPOINT: &str = "https://weather.acme.dev/mcp";

/// Everything the binary printed, by step.
#[derive(Default)]
struct Captured {
    outputs: Vec<(String, &'static str, Vec<u8>)>,
}

impl Captured {
    fn add(&mut self, step: &str, stdout: Vec<u8>, stderr: Vec<u8>) {
        self.outputs.push((step.to_owned(), "stdout", stdout));
        self.outputs.push((step.to_owned(), "stderr", stderr));
    }
}

struct Scenario {
    root: tempfile::TempDir,
    captured: Captured,
}

impl Scenario {
    fn new() -> Self {
        let root = tempfile::Builder::new().prefix("mcpca-secrets-").tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("user")).unwrap();
        std::fs::create_dir_all(root.path().join("test-owned")).unwrap();
        Scenario { root, captured: Captured::default() }
    }

    fn root(&self) -> &Path {
        self.root.path()
    }

    fn home(&self, name: &str) -> PathBuf {
        self.root().join(name)
    }

    /// A file the test itself writes (a secret handed to a command): not searched.
    fn test_file(&self, name: &str, contents: &str) -> PathBuf {
        let p = self.root().join("test-owned").join(name);
        std::fs::write(&p, contents).unwrap();
        p
    }

    fn command(&self, home: &str) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mcpca"));
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
            .env("MCPCA_HOME", self.home(home))
            .env("MCPCA_NOW", T0.to_string())
            .current_dir(self.root())
            .stdin(Stdio::null());
        cmd
    }

    /// Run a step in `home`, capture its output, assert its exit code, return stdout.
    #[track_caller]
    fn run(&mut self, home: &str, args: &[&str], code: i32) -> String {
        let out = self.command(home).args(args).output().unwrap();
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned());
        assert_eq!(out.status.code(), Some(code), "mcpca {}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}", args.join(" "));
        self.captured.add(&format!("mcpca {}", args.join(" ")), out.stdout, out.stderr);
        stdout
    }

    /// `mcpca serve --listen 127.0.0.1:0` at trace level; stderr goes to a file in the root.
    fn serve(&self, home: &str, log: &str) -> Served {
        let err = std::fs::File::create(self.root().join(log)).unwrap();
        let mut child = self
            .command(home)
            .env("MCPCA_LOG", "trace")
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::from(err))
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        let url = line.trim().to_owned();
        assert!(url.starts_with("http://127.0.0.1:"), "serve printed {url:?}");
        Served { child: Some(child), url, stdout: out, first_line: line }
    }
}

struct Served {
    child: Option<Child>,
    url: String,
    stdout: BufReader<std::process::ChildStdout>,
    first_line: String,
}

impl Served {
    /// SIGTERM, wait, and hand back the rest of stdout.
    fn stop(mut self) -> Vec<u8> {
        use std::io::Read as _;
        let mut child = self.child.take().unwrap();
        assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
        let status = child.wait().unwrap();
        assert!(status.success(), "serve exited with {status:?}");
        let mut rest = self.first_line.clone().into_bytes();
        self.stdout.read_to_end(&mut rest).unwrap();
        rest
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The one `mcpca_<kind>_…` secret a creating command printed on stdout.
#[track_caller]
fn secret_in(stdout: &str, prefix: &str) -> String {
    let found: Vec<&str> = stdout.split_whitespace().filter(|w| w.starts_with(prefix)).collect();
    assert_eq!(found.len(), 1, "expected one {prefix}… in {stdout:?}");
    found[0].trim_matches('"').to_owned()
}

/// A secret and the ways it could leak.
struct Needle {
    what: String,
    forms: Vec<Vec<u8>>,
    /// (step or file) where it may appear: its creating command's stdout, its own file.
    allowed: Vec<String>,
}

fn encodings(raw: &[u8]) -> Vec<Vec<u8>> {
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    let mut forms = vec![raw.to_vec(), hex.into_bytes(), hex_upper(raw).into_bytes()];
    for e in [STANDARD.encode(raw), STANDARD_NO_PAD.encode(raw), URL_SAFE.encode(raw), URL_SAFE_NO_PAD.encode(raw)] {
        forms.push(e.into_bytes());
    }
    forms.sort();
    forms.dedup();
    forms
}

fn hex_upper(raw: &[u8]) -> String {
    raw.iter().map(|b| format!("{b:02X}")).collect()
}

/// `mcpca_cs_…` / `mcpca_at_…`: the whole text, its random part, and that part's bytes.
fn text_secret(what: &str, secret: &str, allowed: &[&str]) -> Needle {
    let random = secret.splitn(3, '_').nth(2).unwrap();
    assert!(random.len() >= 40, "{what}: {secret}");
    let mut forms = vec![secret.as_bytes().to_vec(), random.as_bytes().to_vec()];
    if let Ok(raw) = URL_SAFE_NO_PAD.decode(random) {
        forms.extend(encodings(&raw));
    }
    Needle { what: what.to_owned(), forms, allowed: allowed.iter().map(|s| (*s).to_owned()).collect() }
}

fn find(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let t = e.file_type().unwrap();
        if t.is_dir() {
            files_under(&e.path(), out);
        } else if t.is_file() {
            out.push(e.path());
        }
    }
}

#[cfg(unix)]
#[track_caller]
fn assert_mode_0600(p: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{} has mode {mode:o}", p.display());
}

#[cfg(not(unix))]
fn assert_mode_0600(_: &Path) {}

/// Every regular file holding a secret in a home: kek, admin-token, registry.db and its WAL/SHM.
fn secret_files(home: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for name in ["kek", "admin-token", "registry.db", "registry.db-wal", "registry.db-shm", "registry.db-journal"] {
        let p = home.join(name);
        if p.exists() {
            v.push(p);
        }
    }
    v
}

/// Run `f` on a runtime of its own, dropped before returning: the HTTP connections it opened
/// are closed then, so none is left open (and idle, its runtime no longer driven) to hold up
/// `serve`'s graceful shutdown.
fn on_a_runtime<T>(f: impl std::future::Future<Output = T>) -> T {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let out = rt.block_on(f);
    drop(rt);
    out
}

async fn record_response(step: &str, r: reqwest::Response) -> (String, u16, Vec<u8>) {
    let status = r.status().as_u16();
    (step.to_owned(), status, r.bytes().await.unwrap().to_vec())
}

#[test]
fn no_secret_leaks_anywhere_and_secret_files_are_0600() {
    let mut s = Scenario::new();

    // --- the authority, by the CLI --------------------------------------------------------
    s.run("home", &["init"], 0);
    s.run("home", &["key", "generate"], 0);
    s.run("home", &["key", "rotate", "--yes"], 0);
    s.run("home", &["server", "add", SERVER, "--url", ENDPOINT], 0);
    let out = s.run("home", &["client", "add", "bot", "--allow", "*"], 0);
    let bot_first = secret_in(&out, "mcpca_cs_");
    let out = s.run("home", &["client", "add", "other", "--allow", "io.github.acme/*", "-o", "json"], 0);
    let other = serde_json::from_str::<serde_json::Value>(&out).unwrap()["secret"].as_str().unwrap().to_owned();
    assert!(other.starts_with("mcpca_cs_"));
    let out = s.run("home", &["client", "rotate-secret", "bot"], 0);
    let bot = secret_in(&out, "mcpca_cs_");
    let out = s.run("home", &["token", "create", "--role", "admin"], 0);
    let admin = secret_in(&out, "mcpca_at_");
    let out = s.run("home", &["token", "create", "--role", "reader"], 0);
    let reader = secret_in(&out, "mcpca_at_");
    let jwt = s.run("home", &["issue", "--server", SERVER, "--client", "bot"], 0).trim().to_owned();
    s.run("home", &["issue", "--server", SERVER, "--client", "other", "-o", "json"], 0);
    s.run("home", &["verify", &jwt, "--audience", ENDPOINT], 0);
    s.run("home", &["inspect", &jwt], 0);
    for list in [
        &["key", "list", "-o", "json"][..],
        &["client", "list", "-o", "json"],
        &["client", "show", "bot", "-o", "yaml"],
        &["token", "list"],
    ] {
        s.run("home", list, 0);
    }
    s.run("home", &["key", "export", "--public"], 0);
    s.run("home", &["export"], 0);
    s.run("home", &["audit", "verify"], 0);
    s.run("home", &["audit", "-o", "json"], 0);
    // Wrong credentials handed to the CLI: refused, and not echoed.
    let bogus_client = format!("mcpca_cs_{}", URL_SAFE_NO_PAD.encode([0x5a; 32]));
    let bogus_admin = format!("mcpca_at_{}", URL_SAFE_NO_PAD.encode([0xa5; 32]));

    // --- mcpca serve at trace level ---------------------------------------------------------
    let srv = s.serve("home", "serve.log");
    let bot_file = s.test_file("bot-secret", &format!("{bot}\n"));
    let old_bot_file = s.test_file("bot-old-secret", &format!("{bot_first}\n"));
    let bogus_file = s.test_file("bogus-secret", &format!("{bogus_client}\n"));
    let admin_file = s.test_file("admin-token", &format!("{admin}\n"));
    let bogus_admin_file = s.test_file("bogus-admin", &format!("{bogus_admin}\n"));
    let url = srv.url.clone();
    let p = |f: &PathBuf| f.display().to_string();
    s.run("home", &["connect", SERVER, "--registry", &url, "--client-id", "bot", "--client-secret-file", &p(&bot_file)], 0);
    s.run("home", &["connect", SERVER, "--registry", &url, "--client-id", "bot", "--client-secret-file", &p(&old_bot_file)], 1);
    s.run("home", &["connect", SERVER, "--registry", &url, "--client-id", "bot", "--client-secret-file", &p(&bogus_file)], 1);
    s.run("home", &["--registry", &url, "--token-file", &p(&admin_file), "client", "list"], 0);
    let out = s.run("home", &["--registry", &url, "--token-file", &p(&admin_file), "client", "add", "remote", "--allow", "*"], 0);
    let remote_client = secret_in(&out, "mcpca_cs_");
    let out = s.run("home", &["--registry", &url, "--token-file", &p(&admin_file), "token", "create", "--role", "reader"], 0);
    let remote_token = secret_in(&out, "mcpca_at_");
    s.run("home", &["--registry", &url, "--token-file", &p(&bogus_admin_file), "client", "list"], 2);

    let http_outputs = on_a_runtime(async {
        let http = reqwest::Client::new();
        let mut outs: Vec<(String, u16, Vec<u8>)> = Vec::new();
        let form = [("grant_type", "client_credentials"), ("resource", ENDPOINT)];
        let o = record_response(
            "oauth basic",
            http.post(format!("{url}/oauth/token")).basic_auth("bot", Some(&bot)).form(&form).send().await.unwrap(),
        )
        .await;
        outs.push(o);
        let post =
            [("grant_type", "client_credentials"), ("resource", ENDPOINT), ("client_id", "other"), ("client_secret", other.as_str())];
        let o = record_response("oauth post", http.post(format!("{url}/oauth/token")).form(&post).send().await.unwrap()).await;
        outs.push(o);
        let o = record_response(
            "oauth wrong",
            http.post(format!("{url}/oauth/token")).basic_auth("bot", Some(&bot_first)).form(&form).send().await.unwrap(),
        )
        .await;
        outs.push(o);
        let body = serde_json::json!({"server_ref": SERVER});
        let o =
            record_response("connect", http.post(format!("{url}/v1/connect")).bearer_auth(&bot).json(&body).send().await.unwrap()).await;
        outs.push(o);
        let o = record_response(
            "connect wrong",
            http.post(format!("{url}/v1/connect")).bearer_auth(&bogus_client).json(&body).send().await.unwrap(),
        )
        .await;
        outs.push(o);
        let o = record_response("admin", http.get(format!("{url}/v1/admin/clients")).bearer_auth(&admin).send().await.unwrap()).await;
        outs.push(o);
        let o =
            record_response("admin tokens", http.get(format!("{url}/v1/admin/tokens")).bearer_auth(&reader).send().await.unwrap()).await;
        outs.push(o);
        let o = record_response("admin keys", http.get(format!("{url}/v1/admin/keys")).bearer_auth(&admin).send().await.unwrap()).await;
        outs.push(o);
        let o = record_response(
            "admin reader write",
            http.post(format!("{url}/v1/admin/tokens"))
                .bearer_auth(&reader)
                .json(&serde_json::json!({"role":"admin"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        outs.push(o);
        let o = record_response("admin wrong", http.get(format!("{url}/v1/admin/clients")).bearer_auth(&bogus_admin).send().await.unwrap())
            .await;
        outs.push(o);
        let o = record_response("jwks", http.get(format!("{url}/.well-known/jwks.json")).send().await.unwrap()).await;
        outs.push(o);
        let o = record_response("metrics", http.get(format!("{url}/metrics")).send().await.unwrap()).await;
        outs.push(o);
        outs
    });
    let status = |step: &str| http_outputs.iter().find(|(s, _, _)| s == step).unwrap().1;
    assert_eq!(status("oauth basic"), 200);
    assert_eq!(status("oauth post"), 200);
    assert_eq!(status("oauth wrong"), 401);
    assert_eq!(status("connect"), 200);
    assert_eq!(status("connect wrong"), 401);
    assert_eq!(status("admin"), 200);
    assert_eq!(status("admin reader write"), 403);
    assert_eq!(status("admin wrong"), 401);
    for (step, code, body) in http_outputs {
        s.captured.outputs.push((format!("HTTP {step} ({code})"), "body", body));
    }
    let serve_stdout = srv.stop();
    s.captured.outputs.push(("mcpca serve".into(), "stdout", serve_stdout));
    let log = std::fs::read_to_string(s.root().join("serve.log")).unwrap();
    assert!(log.contains("/oauth/token") && log.contains("/v1/admin/clients"), "the trace log saw the requests:\n{log}");

    // --- a home that `serve` initialises: the bootstrap admin token goes to a 0600 file ------
    let srv2 = s.serve("home2", "serve2.log");
    let bootstrap = std::fs::read_to_string(s.home("home2").join("admin-token")).unwrap().trim().to_owned();
    assert!(bootstrap.starts_with("mcpca_at_"));
    let code = on_a_runtime(async {
        reqwest::Client::new().get(format!("{}/v1/admin/clients", srv2.url)).bearer_auth(&bootstrap).send().await.unwrap().status().as_u16()
    });
    assert_eq!(code, 200);
    let out2 = srv2.stop();
    s.captured.outputs.push(("mcpca serve (fresh home)".into(), "stdout", out2));

    // --- file modes -------------------------------------------------------------------------
    for home in ["home", "home2"] {
        let files = secret_files(&s.home(home));
        assert!(files.iter().any(|f| f.ends_with("kek")) && files.iter().any(|f| f.ends_with("registry.db")), "{files:?}");
        for f in files {
            assert_mode_0600(&f);
        }
    }

    // --- the secrets, read only now ---------------------------------------------------------
    let mut needles = vec![
        text_secret("client secret bot (first)", &bot_first, &["mcpca client add bot --allow * stdout"]),
        text_secret("client secret bot (rotated)", &bot, &["mcpca client rotate-secret bot stdout"]),
        text_secret("client secret other", &other, &["mcpca client add other --allow io.github.acme/* -o json stdout"]),
        text_secret(
            "client secret remote",
            &remote_client,
            &[&format!("mcpca --registry {url} --token-file {} client add remote --allow * stdout", p(&admin_file))],
        ),
        text_secret("admin token", &admin, &["mcpca token create --role admin stdout"]),
        text_secret("reader token", &reader, &["mcpca token create --role reader stdout"]),
        text_secret(
            "remote reader token",
            &remote_token,
            &[&format!("mcpca --registry {url} --token-file {} token create --role reader stdout", p(&admin_file))],
        ),
        text_secret("bootstrap admin token", &bootstrap, &["home2/admin-token"]),
        text_secret("presented wrong client secret", &bogus_client, &[]),
        text_secret("presented wrong admin token", &bogus_admin, &[]),
    ];
    for home in ["home", "home2"] {
        let kek_text = std::fs::read_to_string(s.home(home).join("kek")).unwrap().trim().to_owned();
        let kek = STANDARD.decode(&kek_text).unwrap();
        assert_eq!(kek.len(), 32);
        let mut forms = encodings(&kek);
        forms.push(kek_text.into_bytes());
        needles.push(Needle { what: format!("KEK of {home}"), forms, allowed: vec![format!("{home}/kek")] });
    }
    let mut seeds = 0;
    for home in ["home", "home2"] {
        let keys: serde_json::Value =
            serde_json::from_slice(&s.command(home).args(["key", "list", "-o", "json"]).output().unwrap().stdout).unwrap();
        for k in keys.as_array().unwrap() {
            if !matches!(k["state"].as_str(), Some("next" | "active" | "retiring")) {
                continue;
            }
            let kid = k["kid"].as_str().unwrap();
            let pem = s.command(home).args(["key", "export", "--private", kid, "--yes"]).output().unwrap();
            assert!(pem.status.success(), "{}", String::from_utf8_lossy(&pem.stderr));
            let pem = String::from_utf8(pem.stdout).unwrap();
            let key = ed25519_dalek::SigningKey::from_pkcs8_pem(&pem).unwrap();
            assert_eq!(mcpca::keys::thumbprint(key.verifying_key().as_bytes()), kid, "the exported key is the listed one");
            let mut forms = encodings(&key.to_bytes());
            // The PKCS#8 body without its armour, too.
            let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
            forms.push(body.into_bytes());
            needles.push(Needle { what: format!("private key {kid} of {home}"), forms, allowed: vec![] });
            seeds += 1;
        }
    }
    assert!(seeds >= 5, "home has active, retiring and two next keys; home2 active and next: {seeds}");

    // --- the search -------------------------------------------------------------------------
    let mut places: Vec<(String, Vec<u8>)> =
        s.captured.outputs.iter().map(|(step, stream, bytes)| (format!("{step} {stream}"), bytes.clone())).collect();
    let mut files = Vec::new();
    files_under(s.root(), &mut files);
    let owned = s.root().join("test-owned");
    let mut searched_files = 0;
    for f in files {
        if f.starts_with(&owned) {
            continue;
        }
        let rel = f.strip_prefix(s.root()).unwrap().display().to_string();
        places.push((rel, std::fs::read(&f).unwrap()));
        searched_files += 1;
    }
    for must in ["home/registry.db", "home/config.yaml", "serve.log", "serve2.log"] {
        assert!(places.iter().any(|(p, _)| p == must), "{must} was searched");
    }
    assert!(searched_files >= 6, "{searched_files}");
    let mut leaks = Vec::new();
    for n in &needles {
        let mut allowed_seen = 0;
        for (place, bytes) in &places {
            let hit = n.forms.iter().any(|f| find(bytes, f));
            if !hit {
                continue;
            }
            if n.allowed.iter().any(|a| a == place) {
                allowed_seen += 1;
            } else {
                leaks.push(format!("{} found in {place}", n.what));
            }
        }
        assert_eq!(allowed_seen, n.allowed.len(), "{}: shown once where it was created ({:?})", n.what, n.allowed);
    }
    assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
}
