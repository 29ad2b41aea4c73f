//! The contract of the two implementations of the Authority API: one CLI scenario runs against
//! the local authority (`MCPCA_HOME`) and against `mcpca serve` (a child process on a fresh
//! home, reached through a context: `--registry` + the admin token file), and every step must
//! give the same exit code, the same stdout and the same stderr (hints aside) once what
//! legitimately differs is normalised: timestamps, jtis, kids, secrets, descriptors, token ids,
//! hashes, temporary paths, and the audit actor (`operator` locally, `token:<id>` behind the
//! admin API). Then the remote-only rules: local-only commands refused, bad tokens and an
//! unreachable URL explained, reader tokens refused changes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;
use tempfile::TempDir;

/// The instant both sides start at (the CLI's and the service's clock: `MCPCA_NOW`).
const T0: i64 = 1_800_000_000;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_mcpca")
}

/// A command with a clean environment: no `MCPCA_*` from the developer, HOME/XDG in `root`.
fn command(root: &Path, home: &Path) -> Command {
    let mut cmd = Command::new(bin());
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("MCPCA_") {
            cmd.env_remove(&k);
        }
    }
    let user = root.join("user");
    cmd.env_remove("RUST_LOG")
        .env("HOME", &user)
        .env("XDG_CONFIG_HOME", user.join(".config"))
        .env("XDG_DATA_HOME", user.join(".local/share"))
        .env("MCPCA_HOME", home)
        .env("MCPCA_NOW", T0.to_string())
        .current_dir(root)
        .stdin(Stdio::null());
    cmd
}

/// What one step printed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
}

/// `mcpca serve` as a child process; SIGTERM and a wait at the end (killed if a test fails first).
struct Served {
    child: Option<Child>,
    url: String,
    token_file: PathBuf,
}

impl Served {
    fn start(root: &Path) -> Self {
        Self::start_with(root, &[])
    }

    /// With more arguments to `serve` (TLS, log format).
    fn start_with(root: &Path, more: &[&std::ffi::OsStr]) -> Self {
        let home = root.join("srv");
        let log = std::fs::File::create(root.join("serve.log")).unwrap();
        let mut child = command(root, &home)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(more)
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url = line.trim().to_owned();
        assert!(url.starts_with("http://127.0.0.1:") || url.starts_with("https://127.0.0.1:"), "serve printed {url:?}");
        Served { child: Some(child), url, token_file: home.join("admin-token") }
    }

    /// SIGTERM: the service finishes and exits 0.
    fn stop(mut self) {
        let mut child = self.child.take().unwrap();
        let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
        assert!(status.success());
        let exit = child.wait().unwrap();
        assert!(exit.success(), "serve exited with {exit:?}");
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

/// One side of the comparison: a home the commands run in, and values carried between steps.
struct Side {
    root: TempDir,
    home: PathBuf,
    /// Extra global arguments (none: the remote side uses a current context).
    global: Vec<String>,
    /// Strings replaced before comparing (the side's temporary root, the service URL).
    replace: Vec<(String, String)>,
    vars: std::collections::BTreeMap<&'static str, String>,
    steps: Vec<(String, Out)>,
}

impl Side {
    fn new() -> Self {
        let root = tempfile::Builder::new().prefix("mcpca-contract-").tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("user")).unwrap();
        let home = root.path().join("home");
        let replace = vec![(root.path().display().to_string(), "<TMP>".into())];
        Side { root, home, global: Vec::new(), replace, vars: Default::default(), steps: Vec::new() }
    }

    fn root(&self) -> &Path {
        self.root.path()
    }

    /// Run `mcpca ARGS` (`{var}` replaced by the side's values) without recording it.
    fn raw(&self, args: &[&str]) -> Out {
        let args: Vec<OsString> = args
            .iter()
            .map(|a| {
                let mut s = (*a).to_owned();
                for (k, v) in &self.vars {
                    s = s.replace(&format!("{{{k}}}"), v);
                }
                OsString::from(s)
            })
            .collect();
        let out = command(self.root(), &self.home).args(&self.global).args(&args).output().unwrap();
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Run a step of the scenario and record it for the comparison.
    fn step(&mut self, args: &[&str]) -> Out {
        let out = self.raw(args);
        self.steps.push((args.join(" "), out.clone()));
        out
    }
}

/// Is `t` an RFC 3339 UTC second (`2027-01-15T08:00:00Z`)?
fn is_time(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

fn is_uuid(t: &str) -> bool {
    t.len() == 36 && t.char_indices().all(|(i, c)| if matches!(i, 8 | 13 | 18 | 23) { c == '-' } else { c.is_ascii_hexdigit() })
}

/// Replace one word (a run of `[A-Za-z0-9_:.-]`) by its class when it is a value that differs
/// between two runs of the same scenario.
fn word(w: &str) -> String {
    // Sentence punctuation after a value (`token at_1234abcd: …`) is not part of it.
    let core = w.trim_end_matches([':', '.']);
    if core.len() < w.len() {
        return format!("{}{}", word(core), &w[core.len()..]);
    }
    let b64 = |s: &str| s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let hex = |s: &str| s.chars().all(|c| c.is_ascii_hexdigit());
    if is_time(w) {
        "<TIME>".into()
    } else if w.starts_with("eyJ") && w.matches('.').count() == 2 {
        "<JWT>".into()
    } else if w.starts_with("mcpca_cs_") || w.starts_with("mcpca_at_") {
        "<SECRET>".into()
    } else if is_uuid(w) {
        "<UUID>".into()
    } else if w.len() == 64 && hex(w) {
        "<HASH>".into()
    } else if w.len() == 43 && b64(w) {
        "<KID>".into()
    } else if w.len() == 11 && w.starts_with("at_") && hex(&w[3..]) {
        "<TOKEN-ID>".into()
    } else if w.len() == 17 && w.starts_with("token:at_") && hex(&w[9..]) {
        // The admin API acts as its token; the local CLI as `operator`.
        "operator".into()
    } else if w.len() == 10 && w.chars().all(|c| c.is_ascii_digit()) {
        "<UNIX>".into()
    } else {
        w.to_owned()
    }
}

fn normalise(text: &str, replace: &[(String, String)]) -> String {
    let mut s = text.to_owned();
    for (from, to) in replace {
        s = s.replace(from, to);
    }
    let mut out = String::with_capacity(s.len());
    let mut cur = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '.' | '-') {
            cur.push(c);
        } else {
            out.push_str(&word(&cur));
            cur.clear();
            out.push(c);
        }
    }
    out.push_str(&word(&cur));
    // Columns are as wide as their widest (normalised) cell: compare words, not padding.
    out.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("\n")
}

/// Stderr without hint lines: a hint the service does not send back (the specific hints of
/// invalid input and refusals) is the one difference allowed; hints given must match.
fn stderr_of(text: &str, replace: &[(String, String)]) -> String {
    let kept: Vec<&str> = text.lines().filter(|l| !l.starts_with("hint:")).collect();
    normalise(&kept.join("\n"), replace)
}

/// The scenario: the same commands, in the same order, on either side.
fn scenario(s: &mut Side, seed: &str) {
    let ok = |o: &Out, what: &str| assert_eq!(o.code, 0, "{what}: {o:?}");

    // Servers.
    ok(
        &s.step(&[
            "server",
            "add",
            "io.github.acme/weather",
            "--url",
            "https://weather.acme.dev/mcp",
            "--version",
            "1.2.0",
            "--max-ttl",
            "10m",
        ]),
        "server add",
    );
    ok(&s.step(&["server", "add", "io.github.acme/maps", "--url", "https://maps.acme.dev/mcp", "-o", "json"]), "server add");
    s.step(&["server", "add", "io.github.acme/weather", "--url", "https://weather.acme.dev/mcp", "--version", "1.2.0"]);
    s.step(&["server", "add", "io.github.acme/bad", "--url", "ftp://bad.acme.dev/mcp"]);
    s.step(&["server", "list"]);
    s.step(&["server", "list", "-o", "json"]);
    s.step(&["server", "list", "--search", "MAPS", "-o", "yaml"]);
    s.step(&["server", "show", "io.github.acme/weather", "-o", "json"]);
    s.step(&["server", "show", "io.github.acme/weather@1.2.0"]);
    s.step(&["server", "show", "io.github.acme/nope"]);
    s.step(&["server", "update", "io.github.acme/weather", "--verified", "-o", "json"]);
    s.step(&["server", "update", "io.github.acme/maps", "--max-ttl", "5m"]);
    s.step(&["server", "update", "io.github.acme/maps", "--no-max-ttl", "-o", "json"]);
    s.step(&["server", "deprecate", "io.github.acme/maps@1.0.0", "--reason", "use 2.x"]);
    s.step(&["server", "resume", "io.github.acme/maps@1.0.0"]);
    ok(&s.step(&["server", "import", seed, "-o", "json"]), "server import");
    s.step(&["server", "import", seed, "--dry-run"]);

    // Clients and tokens.
    ok(&s.step(&["client", "add", "bot", "--tenant", "acme", "--allow", "io.github.acme/*", "--max-ttl", "5m", "-o", "json"]), "client");
    s.step(&["client", "add", "bot", "--allow", "*"]);
    s.step(&["client", "add", "limited", "--allow", "*", "--rate", "1/min"]);
    s.step(&["client", "add", "bad id!", "--allow", "*"]);
    s.step(&["client", "list"]);
    s.step(&["client", "list", "-o", "json"]);
    s.step(&["client", "show", "bot"]);
    s.step(&["client", "update", "bot", "--rate", "30/min", "-o", "json"]);
    s.step(&["client", "show", "nobody"]);
    ok(&s.step(&["token", "create", "--role", "reader", "--name", "ci", "-o", "json"]), "token create");
    s.step(&["token", "list"]);
    s.step(&["token", "list", "-o", "json"]);

    // Issuance, allowed and denied.
    let env = s.step(&["issue", "--server", "io.github.acme/weather", "-o", "json"]);
    ok(&env, "issue");
    let env = env.json();
    s.vars.insert("jti", env["jti"].as_str().unwrap().to_owned());
    s.vars.insert("jwt", env["descriptor"].as_str().unwrap().to_owned());
    s.step(&["issue", "--server", "io.github.acme/weather@1.2.0", "--client", "bot", "--ttl", "1h", "-o", "json"]);
    s.step(&["issue", "--server", "io.github.acme/maps", "--client", "bot", "--mcp-config"]);
    s.step(&["inspect", "{jwt}", "-o", "json"]);
    s.step(&["verify", "{jwt}", "--audience", "https://weather.acme.dev/mcp", "-o", "json"]);
    s.step(&["verify", "{jwt}", "--audience", "https://maps.acme.dev/mcp"]);
    s.step(&["issue", "--server", "io.github.acme/nope"]);
    s.step(&["issue", "--server", "io.github.acme/weather@9.9.9", "-o", "json"]);
    s.step(&["issue", "--server", "io.github.domdomegg/time-mcp-pypi"]);
    s.step(&["issue", "--server", "io.github.acme/weather", "--client", "nobody"]);
    s.step(&["issue", "--server", "io.github.acme/weather", "--client", "limited"]);
    s.step(&["issue", "--server", "io.github.acme/weather", "--client", "limited"]);
    s.step(&["server", "suspend", "io.github.acme/maps", "--reason", "maintenance"]);
    s.step(&["issue", "--server", "io.github.acme/maps"]);
    s.step(&["server", "resume", "io.github.acme/maps", "-o", "json"]);
    s.step(&["client", "suspend", "bot", "--reason", "compromised"]);
    s.step(&["issue", "--server", "io.github.acme/weather", "--client", "bot"]);
    s.step(&["client", "resume", "bot"]);
    s.step(&["client", "rotate-secret", "bot", "-o", "json"]);

    // Revocation.
    s.step(&["revoke", "io.github.acme/maps", "--reason", "abandoned"]);
    s.step(&["issue", "--server", "io.github.acme/maps"]);
    s.step(&["revoke", "--jti", "{jti}", "-o", "json"]);
    s.step(&["revoke", "--client", "limited"]);
    s.step(&["revoke"]);
    s.step(&["revocations", "-o", "json"]);
    s.step(&["revocations", "--since", "2", "-o", "yaml"]);
    s.step(&["revocations", "-o", "table"]);
    s.step(&["client", "remove", "limited"]);
    s.step(&["client", "remove", "limited"]);

    // Keys.
    s.step(&["key", "list", "-o", "json"]);
    s.step(&["key", "rotate", "-o", "json"]);
    s.step(&["key", "rotate", "--grace", "1s"]);
    s.step(&["key", "generate"]);
    s.step(&["key", "list"]);
    s.step(&["key", "export", "--public"]);
    s.step(&["key", "retire", "no-such-kid"]);

    // Declarative state.
    s.step(&["export", "-o", "json", "--out", "state.json"]);
    s.step(&["apply", "-f", "state.json", "--dry-run", "-o", "json"]);
    let extra = "apiVersion: mcpca/v1\nclients:\n  - id: dashboard\n    allow: ['io.github.acme/weather']\n    rate: 10/min\n";
    std::fs::write(s.root().join("extra.yaml"), extra).unwrap();
    s.step(&["apply", "-f", "extra.yaml"]);
    s.step(&["apply", "-f", "extra.yaml"]);

    // Audit.
    s.step(&["audit", "-o", "json"]);
    s.step(&["audit", "--decision", "deny", "--limit", "3"]);
    s.step(&["audit", "--client", "bot", "-o", "json"]);
    s.step(&["audit", "--server", "io.github.acme/maps"]);
    s.step(&["audit", "verify", "-o", "json"]);
    s.step(&["audit", "export"]);
    s.step(&["token", "list", "-o", "json"]);
}

#[test]
fn local_and_remote_authorities_answer_alike() {
    let seed = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/seed.json");

    // Local: init, and the admin token `serve` makes on its fresh home, so both logs match.
    let mut local = Side::new();
    assert_eq!(local.raw(&["init"]).code, 0);
    assert_eq!(local.raw(&["token", "create", "--role", "admin", "--name", "bootstrap"]).code, 0);

    // Remote: `mcpca serve` on its own fresh home; this side's home has no authority at all,
    // only a context naming the service and its token file.
    let mut remote = Side::new();
    let served = Served::start(remote.root());
    let token_file = served.token_file.display().to_string();
    let add = remote.raw(&["context", "add", "ci", "--url", &served.url, "--token-file", &token_file]);
    assert_eq!(add.code, 0, "{add:?}");
    assert!(!add.stderr.contains("warning"), "serve writes its token file 0600: {add:?}");
    assert_eq!(remote.raw(&["context", "use", "ci"]).code, 0);
    let config = std::fs::read_to_string(remote.home.join("config.yaml")).unwrap();
    let token = std::fs::read_to_string(&served.token_file).unwrap();
    assert!(config.contains(&token_file) && !config.contains(token.trim()), "the path, never the token: {config}");
    assert!(!remote.home.join("registry.db").exists(), "a client-only machine needs no authority");
    let base = served.url.trim_end_matches('/').to_owned();
    remote.replace.push((format!("{base}/.well-known/jwks.json keys"), "local keys".into()));
    remote.replace.push((format!("{base}/.well-known/jwks.json"), "local".into()));

    scenario(&mut local, seed);
    scenario(&mut remote, seed);

    assert_eq!(local.steps.len(), remote.steps.len());
    let mut diffs = Vec::new();
    for ((label, l), (_, r)) in local.steps.iter().zip(&remote.steps) {
        let (lo, ro) = (normalise(&l.stdout, &local.replace), normalise(&r.stdout, &remote.replace));
        let (le, re) = (stderr_of(&l.stderr, &local.replace), stderr_of(&r.stderr, &remote.replace));
        // A hint the service sends back (or the remote side rebuilds) must be the local one.
        let hints = |t: &str| t.lines().filter(|l| l.starts_with("hint:")).map(str::to_owned).collect::<Vec<_>>();
        let (lh, rh) = (hints(&l.stderr), hints(&r.stderr));
        let hints_ok = rh.is_empty() || normalise(&lh.join("\n"), &local.replace) == normalise(&rh.join("\n"), &remote.replace);
        if l.code != r.code || lo != ro || le != re || !hints_ok {
            diffs.push(format!(
                "mcpca {label}\n  exit: local {} remote {}\n  stdout local:\n{lo}\n  stdout remote:\n{ro}\n  stderr local:\n{le}\n  stderr remote:\n{re}\n",
                l.code, r.code
            ));
        }
    }
    assert!(diffs.is_empty(), "{} of {} steps differ:\n{}", diffs.len(), local.steps.len(), diffs.join("\n"));

    // The scenario did meet every denial, with exit 1 and its code, on both sides.
    let stderr: String = remote.steps.iter().filter(|(_, o)| o.code == 1).map(|(_, o)| o.stderr.as_str()).collect();
    for code in ["server_not_found", "policy_blocked", "transport_not_supported", "rate_limited", "server_revoked"] {
        assert!(stderr.contains(code), "no {code} denial in the scenario: {stderr}");
    }

    remote_only_rules(&remote, &served);
    served.stop();
}

/// What only the remote mode has: local-only commands refused, credentials explained.
fn remote_only_rules(remote: &Side, served: &Served) {
    let err = |o: &Out, code: i32, has: &[&str]| {
        assert_eq!(o.code, code, "{o:?}");
        for h in has {
            assert!(o.stderr.contains(h), "stderr lacks {h:?}: {o:?}");
        }
        assert!(!o.stderr.contains("mcpca_at_"), "a token in an error message: {o:?}");
    };
    let kid = remote.raw(&["key", "list", "-o", "json"]).json()[0]["kid"].as_str().unwrap().to_owned();
    err(&remote.raw(&["key", "export", "--private", &kid]), 2, &["private keys never leave the authority"]);
    err(&remote.raw(&["init"]), 2, &["mcpca init", "remote"]);
    err(&remote.raw(&["serve", "--listen", "127.0.0.1:0"]), 2, &["mcpca serve", "remote"]);

    // --registry beats the context; a context token never goes to another URL.
    let token_file = served.token_file.display().to_string();
    let by_flag = remote.raw(&["--registry", &served.url, "--token-file", &token_file, "server", "list", "-o", "json"]);
    assert_eq!(by_flag.code, 0, "{by_flag:?}");
    assert_eq!(by_flag.stdout, remote.raw(&["server", "list", "-o", "json"]).stdout);
    err(&remote.raw(&["--registry", &served.url, "server", "list"]), 2, &["needs an admin token", "--token-file"]);
    err(&remote.raw(&["--token", "mcpca_at_wrong", "server", "list"]), 2, &["did not accept the admin token", "hint:"]);
    err(&remote.raw(&["--registry", "http://127.0.0.1:9", "--token", "x", "server", "list"]), 2, &["cannot reach", "http://127.0.0.1:9"]);

    // A reader token reads, and is refused changes with a hint.
    let reader = remote.raw(&["token", "create", "--role", "reader", "-o", "json"]).json()["secret"].as_str().unwrap().to_owned();
    assert_eq!(remote.raw(&["--token", &reader, "server", "list"]).code, 0);
    err(&remote.raw(&["--token", &reader, "key", "rotate"]), 2, &["admin token", "hint:"]);

    // inspect and verify need no token: the JWKS and the issuer are public.
    let jwt = remote.raw(&["issue", "--server", "io.github.acme/weather"]).stdout.trim().to_owned();
    let no_ctx = |args: &[&str]| {
        let mut cmd = command(remote.root(), &remote.root().join("elsewhere"));
        cmd.arg("--registry").arg(&served.url).args(args).output().unwrap()
    };
    let v = no_ctx(&["verify", &jwt, "--audience", "https://weather.acme.dev/mcp"]);
    assert!(v.status.success(), "{v:?}");
    let i = no_ctx(&["inspect", &jwt, "-o", "json"]);
    let report: Value = serde_json::from_slice(&i.stdout).unwrap();
    assert_eq!(report["signature"]["status"], "valid", "{report}");

    // Contexts: listed with the current one marked; removing it goes back to local.
    let list = remote.raw(&["context", "list", "-o", "json"]).json();
    assert_eq!(list[0]["name"], "ci");
    assert_eq!(list[0]["current"], true);
}

/// `mcpca serve`'s request log: one line per request, naming the `jti`, client and server of a
/// descriptor it issued — never the descriptor, nor the client's secret (issue 5, Operations).
#[test]
fn the_request_log_names_the_jti_never_the_descriptor_or_the_secret() {
    let root = TempDir::new().unwrap();
    let served = Served::start(root.path());
    let home = root.path().join("srv");
    let local = |args: &[&str]| command(root.path(), &home).args(args).output().unwrap();
    assert!(local(&["server", "add", "io.github.acme/weather", "--url", "https://weather.acme.dev/mcp"]).status.success());
    let added = local(&["client", "add", "bot", "--allow", "*", "-o", "json"]);
    let secret = serde_json::from_slice::<Value>(&added.stdout).unwrap()["secret"].as_str().unwrap().to_owned();
    // A change by another process reaches the service's snapshot within its poll interval.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let envelope = loop {
        let o = command(root.path(), &root.path().join("client"))
            .env("MCPCA_CLIENT_SECRET", &secret)
            .args(["--registry", &served.url, "connect", "io.github.acme/weather", "-o", "json"])
            .output()
            .unwrap();
        if o.status.success() {
            break serde_json::from_slice::<Value>(&o.stdout).unwrap();
        }
        assert!(std::time::Instant::now() < deadline, "connect never succeeded: {o:?}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    served.stop();
    let log = std::fs::read_to_string(root.path().join("serve.log")).unwrap();
    let jti = envelope["jti"].as_str().unwrap();
    let line = log.lines().find(|l| l.contains("route=\"/v1/connect\"") && l.contains("status=200")).unwrap_or_else(|| panic!("{log}"));
    assert!(
        line.contains(&format!("jti={jti}")) && line.contains("client=bot") && line.contains("server=io.github.acme/weather@"),
        "{line}"
    );
    let descriptor = envelope["descriptor"].as_str().unwrap();
    let signature = descriptor.rsplit('.').next().unwrap();
    assert!(!log.contains(signature) && !log.contains(&secret), "a secret or a descriptor in the log:\n{log}");
}

/// The test-only certificate for 127.0.0.1 and its key (tests/fixtures/serve-tls/README.md).
fn tls_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/serve-tls").join(name)
}

/// `serve --tls-cert --tls-key --log-format json` (issue 5, point 1): it says `https://`, answers
/// over TLS with that certificate, not in clear text, and logs one JSON object per line.
#[test]
fn serve_over_tls_with_json_logs() {
    let root = TempDir::new().unwrap();
    let (cert, key) = (tls_fixture("cert.pem"), tls_fixture("key.pem"));
    let served = Served::start_with(
        root.path(),
        &["--tls-cert".as_ref(), cert.as_os_str(), "--tls-key".as_ref(), key.as_os_str(), "--log-format".as_ref(), "json".as_ref()],
    );
    assert!(served.url.starts_with("https://127.0.0.1:"), "{}", served.url);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let ca = reqwest::Certificate::from_pem(&std::fs::read(&cert).unwrap()).unwrap();
    let http = reqwest::Client::builder().add_root_certificate(ca).build().unwrap();
    let url = served.url.clone();
    let (status, jwks) = rt.block_on(async {
        let r = http.get(format!("{url}/.well-known/jwks.json")).send().await.unwrap();
        (r.status().as_u16(), r.json::<Value>().await.unwrap())
    });
    assert_eq!(status, 200);
    assert!(!jwks["keys"].as_array().unwrap().is_empty(), "{jwks}");
    // The same port in clear text gets no HTTP answer.
    let clear = rt.block_on(reqwest::get(format!("{}/healthz", url.replacen("https://", "http://", 1))));
    assert!(clear.map(|r| !r.status().is_success()).unwrap_or(true), "plain HTTP was answered on the TLS port");
    served.stop();

    let log = std::fs::read_to_string(root.path().join("serve.log")).unwrap();
    let events: Vec<Value> = log
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON log line ({e}): {l}")))
        .collect();
    assert!(
        events.iter().any(|e| e["route"] == "/.well-known/jwks.json" && e["status"] == 200 && e["message"] == "request"),
        "no JSON request line for the JWKS:\n{log}"
    );
    assert!(!log.contains("route=\""), "text log lines under --log-format json:\n{log}");
}

/// A TLS key or certificate that cannot be loaded: exit 2, the files named, a hint.
#[test]
fn serve_refuses_tls_files_it_cannot_load() {
    let root = TempDir::new().unwrap();
    let key = tls_fixture("key.pem");
    let out = command(root.path(), &root.path().join("srv"))
        .args(["serve", "--listen", "127.0.0.1:0", "--tls-cert"])
        .arg(&key)
        .arg("--tls-key")
        .arg(&key)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot load TLS certificate") && err.contains("key.pem") && err.contains("PEM"), "{err}");
}
