//! `mcpca apply` and `mcpca export` as users run them: the real binary, a temporary
//! `MCPCA_HOME` per test, the environment cleared of `MCPCA_*`, the clock pinned.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::ffi::OsStr;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;
use tempfile::TempDir;

const NOW: &str = "1800000000";
const WEATHER: &str = "io.github.acme/weather";

/// A temporary authority home.
struct Home {
    tmp: TempDir,
}

/// What a command did.
#[derive(Debug)]
struct Output {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Output {
    #[track_caller]
    fn success(self) -> Self {
        assert_eq!(self.code, Some(0), "expected success: {self:#?}");
        self
    }
    #[track_caller]
    fn fails(self, code: i32) -> Self {
        assert_eq!(self.code, Some(code), "expected exit {code}: {self:#?}");
        self
    }
    #[track_caller]
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:#?}"))
    }
}

impl Home {
    /// A home where `mcpca init` ran.
    fn init() -> Self {
        let tmp = tempfile::Builder::new().prefix("mcpca-apply-").tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("user")).unwrap();
        let h = Home { tmp };
        h.cmd(["init"]).success();
        h
    }

    /// Write a scratch file outside the home.
    fn file(&self, name: &str, contents: &str) -> PathBuf {
        let p = self.tmp.path().join(name);
        std::fs::write(&p, contents).unwrap();
        p
    }

    fn run<I, S>(&self, args: I, stdin: Option<&str>) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mcpca"));
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("MCPCA_") {
                cmd.env_remove(&k);
            }
        }
        let user = self.tmp.path().join("user");
        cmd.env_remove("RUST_LOG")
            .env("HOME", &user)
            .env("XDG_CONFIG_HOME", user.join(".config"))
            .env("XDG_DATA_HOME", user.join(".local/share"))
            .env("MCPCA_HOME", self.tmp.path().join("home"))
            .env("MCPCA_NOW", NOW)
            .current_dir(self.tmp.path())
            .args(args)
            .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        if let Some(input) = stdin {
            let mut pipe = child.stdin.take().unwrap();
            let _ = pipe.write_all(input.as_bytes());
        }
        let out = child.wait_with_output().unwrap();
        Output { code: out.status.code(), stdout: String::from_utf8(out.stdout).unwrap(), stderr: String::from_utf8(out.stderr).unwrap() }
    }

    fn cmd<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.run(args, None)
    }

    /// `apply -f FILE [extra…]` of `yaml`.
    fn apply(&self, yaml: &str, extra: &[&str]) -> Output {
        let path = self.file("authority.yaml", yaml);
        let mut args = vec![OsStr::new("apply"), OsStr::new("-f"), path.as_os_str()];
        args.extend(extra.iter().map(OsStr::new));
        self.cmd(args)
    }

    /// `apply -o json` of `yaml`, asserting success: the report.
    fn apply_json(&self, yaml: &str) -> Value {
        self.apply(yaml, &["-o", "json"]).success().json()
    }

    /// `export` (YAML on stdout).
    fn export(&self) -> String {
        self.cmd(["export"]).success().stdout
    }

    /// Number of audit events.
    fn events(&self) -> usize {
        self.cmd(["audit", "-o", "json"]).success().json().as_array().unwrap().len()
    }

    /// Everything a test compares to prove nothing changed.
    fn snapshot(&self) -> (String, usize) {
        (self.export(), self.events())
    }
}

/// (action, kind, id) of every step of a report.
fn steps(report: &Value) -> Vec<(String, String, String)> {
    report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["action"].as_str().unwrap().to_owned(), s["kind"].as_str().unwrap().to_owned(), s["id"].as_str().unwrap().to_owned()))
        .collect()
}

fn actions(report: &Value) -> Vec<String> {
    steps(report).into_iter().map(|s| s.0).collect()
}

const STATE: &str = r#"
apiVersion: mcpca/v1
servers:
  - name: io.github.acme/weather
    verified: true
    max_ttl: 10m
    versions:
      - version: 1.2.0
        url: https://weather.acme.dev/mcp
      - version: 1.3.0
        status: deprecated
        reason: use 2.x
        url: https://weather.acme.dev/mcp
        description: Weather forecasts
clients:
  - id: ci-bot
    tenant: acme
    allow: ["io.github.acme/*"]
    max_ttl: 5m
    rate: 60/min
  - id: old-bot
    allow: ["*"]
    status: suspended
    reason: leaked
"#;

#[test]
fn apply_creates_then_a_second_apply_changes_nothing() {
    let h = Home::init();
    let events = h.events();
    let out = h.apply(STATE, &[]).success();
    for id in [WEATHER, "io.github.acme/weather@1.2.0", "io.github.acme/weather@1.3.0", "ci-bot", "old-bot"] {
        let line = out.stdout.lines().find(|l| l.split_whitespace().nth(2) == Some(id)).unwrap_or_else(|| panic!("no step {id}: {out:#?}"));
        assert!(line.trim_start().starts_with("create"), "{line}");
    }
    assert!(out.stdout.contains("STEP") && out.stdout.contains("CHANGES"), "{out:#?}");
    assert!(out.stderr.contains("applied"), "{out:#?}");

    let weather = h.cmd(["server", "show", WEATHER, "-o", "json"]).success().json();
    assert_eq!(weather["authority"]["verified"], true);
    assert_eq!(weather["authority"]["max_ttl"], "10m");
    let v13 = h.cmd(["server", "show", "io.github.acme/weather@1.3.0", "-o", "json"]).success().json();
    assert_eq!(v13["authority"]["status"], "deprecated");
    assert_eq!(v13["authority"]["status_reason"], "use 2.x");
    assert_eq!(v13["server"]["description"], "Weather forecasts");
    let bot = h.cmd(["client", "show", "ci-bot", "-o", "json"]).success().json();
    assert_eq!((bot["tenant"].as_str(), bot["max_ttl"].as_str(), bot["rate_per_min"].as_u64()), (Some("acme"), Some("5m"), Some(60)));
    assert_eq!(h.cmd(["client", "show", "old-bot", "-o", "json"]).success().json()["status"], "suspended");
    assert!(h.events() > events);

    let before = h.snapshot();
    let again = h.apply_json(STATE);
    assert!(actions(&again).iter().all(|a| a == "unchanged"), "{again:#}");
    assert_eq!(again["applied"], false);
    assert!(again.get("client_secrets").is_none());
    assert_eq!(h.snapshot(), before, "a second apply changed something");
    let table = h.apply(STATE, &[]).success();
    assert!(table.stderr.contains("nothing to change"), "{table:#?}");
    assert!(!table.stdout.contains("mcpca_cs_"));
    assert_eq!(h.snapshot(), before);
}

#[test]
fn a_new_client_secret_is_printed_once_and_never_exported() {
    let h = Home::init();
    let out = h.apply(STATE, &[]).success();
    let secrets: Vec<&str> = out.stdout.split_whitespace().filter(|w| w.starts_with("mcpca_cs_")).collect();
    assert_eq!(secrets.len(), 2, "one secret per new client: {out:#?}");
    assert!(out.stdout.contains("shown once"), "the secrets are labelled: {out:#?}");
    for s in &secrets {
        assert_eq!(out.stdout.matches(s).count(), 1);
    }
    let export = h.export();
    let json = h.cmd(["export", "-o", "json"]).success().stdout;
    let path = h.tmp.path().join("state.yaml");
    h.cmd([OsStr::new("export"), OsStr::new("--out"), path.as_os_str()]).success();
    let written = std::fs::read_to_string(&path).unwrap();
    for text in [&export, &json, &written, &h.cmd(["client", "list", "-o", "json"]).success().stdout] {
        assert!(!text.contains("mcpca_cs_") && !text.contains("secret"), "a secret leaked: {text}");
        for s in &secrets {
            assert!(!text.contains(s));
        }
    }
    // JSON output carries the secret as data, labelled with its client.
    let h2 = Home::init();
    let report = h2.apply_json(STATE);
    let listed: Vec<&str> = report["client_secrets"].as_array().unwrap().iter().map(|s| s["client"].as_str().unwrap()).collect();
    assert_eq!(listed, ["ci-bot", "old-bot"]);
    assert!(report["client_secrets"][0]["secret"].as_str().unwrap().starts_with("mcpca_cs_"));
}

#[test]
fn a_changed_field_is_an_update() {
    let h = Home::init();
    h.apply(STATE, &[]).success();
    let changed = STATE.replace("verified: true\n    max_ttl: 10m", "verified: false").replace("rate: 60/min", "rate: 30/min");
    let report = h.apply_json(&changed);
    let find = |id: &str| report["steps"].as_array().unwrap().iter().find(|s| s["id"] == id).unwrap().clone();
    let server = find(WEATHER);
    assert_eq!(server["action"], "update");
    assert_eq!(
        server["changes"],
        serde_json::json!([{"field":"verified","from":"true","to":"false"},{"field":"max_ttl","from":"10m","to":"-"}])
    );
    let bot = find("ci-bot");
    assert_eq!(bot["action"], "update");
    assert_eq!(bot["changes"], serde_json::json!([{"field":"rate","from":"60/min","to":"30/min"}]));
    assert_eq!(find("old-bot")["action"], "unchanged");
    assert_eq!(report["applied"], true);
    let weather = h.cmd(["server", "show", WEATHER, "-o", "json"]).success().json();
    assert_eq!(weather["authority"]["verified"], false);
    assert!(weather["authority"].get("max_ttl").is_none());
    assert_eq!(h.cmd(["client", "show", "ci-bot", "-o", "json"]).success().json()["rate_per_min"], 30);

    // Status changes: resume a suspended client, revoke a version.
    let moderated = changed
        .replace("    status: suspended\n    reason: leaked\n", "")
        .replace("      - version: 1.2.0\n", "      - version: 1.2.0\n        status: revoked\n");
    let report = h.apply_json(&moderated);
    assert_eq!(report["summary"]["update"], 2, "{report:#}");
    assert_eq!(h.cmd(["client", "show", "old-bot", "-o", "json"]).success().json()["status"], "active");
    assert_eq!(h.cmd(["server", "show", "io.github.acme/weather@1.2.0", "-o", "json"]).success().json()["authority"]["status"], "revoked");
    assert!(actions(&h.apply_json(&moderated)).iter().all(|a| a == "unchanged"));
}

#[test]
fn dry_run_changes_nothing() {
    let h = Home::init();
    let before = h.snapshot();
    let out = h.apply(STATE, &["--dry-run"]).success();
    assert!(out.stdout.contains("create"), "{out:#?}");
    assert!(out.stderr.contains("dry run"), "{out:#?}");
    assert!(!out.stdout.contains("mcpca_cs_"));
    let report = h.apply(STATE, &["--dry-run", "-o", "json"]).success().json();
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["applied"], false);
    assert!(actions(&report).iter().all(|a| a == "create"));
    assert_eq!(h.snapshot(), before);
    // Also on an authority that holds the state already, with a change pending.
    h.apply(STATE, &[]).success();
    let before = h.snapshot();
    let report = h.apply(&STATE.replace("max_ttl: 5m", "max_ttl: 1m"), &["--dry-run", "-o", "json"]).success().json();
    assert_eq!(report["summary"]["update"], 1);
    assert_eq!(h.snapshot(), before);
}

#[test]
fn a_bad_entry_fails_with_exit_2_and_changes_nothing() {
    let h = Home::init();
    h.apply(STATE, &[]).success();
    let before = h.snapshot();
    // Each file also carries a valid new server and a valid new client: they must not be created.
    let extra = "  - name: io.github.acme/maps\n    versions:\n      - version: 1.0.0\n        url: https://maps.acme.dev/mcp\n";
    let with = |servers: &str, clients: &str| {
        format!("apiVersion: mcpca/v1\nservers:\n{extra}{servers}clients:\n  - id: new-bot\n    allow: ['*']\n{clients}")
    };
    let cases = [
        ("invalid document", with("  - name: io.github.acme/bad\n    versions:\n      - version: 1.0.0\n        document: {\"name\": \"io.github.acme/bad\", \"version\": \"1.0.0\", \"description\": \"\"}\n", ""), "not valid"),
        ("bad pattern", with("", "  - id: patterned\n    allow: ['io.*/x']\n"), "not a server pattern"),
        ("bad client id", with("", "  - id: 'has space'\n    allow: ['*']\n"), "not a usable client id"),
        ("unknown key", with("", "  - id: keyed\n    allow: ['*']\n    colour: blue\n"), "unknown field `colour`"),
        ("unknown version", "apiVersion: mcpca/v2\n".to_owned(), "unknown variant `mcpca/v2`"),
        (
            "changed immutable version",
            with("  - name: io.github.acme/weather\n    verified: true\n    max_ttl: 10m\n    versions:\n      - version: 1.2.0\n        url: https://weather.acme.dev/v2/mcp\n", ""),
            "immutable",
        ),
        ("url of another server", with("  - name: io.github.acme/copycat\n    versions:\n      - version: 1.0.0\n        url: https://weather.acme.dev/mcp\n", ""), "belongs to"),
        ("bad duration", with("", "  - id: timed\n    allow: ['*']\n    max_ttl: forever\n"), "invalid duration"),
        ("bad rate", with("", "  - id: rated\n    allow: ['*']\n    rate: 0/min\n"), "not a rate"),
    ];
    for (what, yaml, message) in &cases {
        let out = h.apply(yaml, &[]).fails(2);
        assert!(out.stderr.contains(message), "{what}: stderr lacks {message:?}: {out:#?}");
        assert!(!out.stdout.contains("mcpca_cs_"), "{what}");
        assert_eq!(h.snapshot(), before, "{what} changed the authority");
    }
    // The plan names the bad step; the good ones are still only planned.
    let out = h.apply(&cases[1].1, &["-o", "json"]).fails(2);
    let report = out.json();
    assert!(steps(&report).contains(&("error".into(), "client".into(), "patterned".into())), "{report:#}");
    assert!(steps(&report).contains(&("create".into(), "client".into(), "new-bot".into())));
    assert_eq!(report["applied"], false);
    assert_eq!(h.snapshot(), before);
}

#[test]
fn export_then_apply_elsewhere_reproduces_the_authority() {
    let h = Home::init();
    let seed = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seed.json");
    h.cmd([OsStr::new("server"), OsStr::new("import"), seed.as_os_str()]).success();
    h.cmd(["server", "add", WEATHER, "--url", "https://weather.acme.dev/mcp", "--version", "1.0.0", "--verified", "--max-ttl", "10m"])
        .success();
    h.cmd(["server", "add", WEATHER, "--url", "https://weather.acme.dev/mcp", "--version", "1.1.0", "--title", "Weather"]).success();
    h.cmd(["server", "add", WEATHER, "--url", "https://weather.acme.dev/mcp", "--version", "2024-12"]).success();
    h.cmd(["server", "deprecate", "io.github.acme/weather@1.0.0", "--reason", "old"]).success();
    h.cmd(["server", "remove", "io.github.acme/weather@2024-12"]).success();
    h.cmd(["server", "add", "io.github.acme/maps", "--url", "https://maps.acme.dev/mcp"]).success();
    h.cmd(["server", "suspend", "io.github.acme/maps", "--reason", "abuse report #12"]).success();
    h.cmd(["server", "add", "io.github.acme/gone", "--url", "https://gone.acme.dev/mcp"]).success();
    h.cmd(["revoke", "io.github.acme/gone", "--reason", "compromised"]).success();
    h.cmd([
        "client",
        "add",
        "ci-bot",
        "--tenant",
        "acme",
        "--allow",
        "io.github.acme/*",
        "--allow",
        "io.github.acme/maps",
        "--max-ttl",
        "5m",
        "--rate",
        "60/min",
    ])
    .success();
    h.cmd(["client", "add", "leaky", "--allow", "*"]).success();
    h.cmd(["revoke", "--client", "leaky", "--reason", "secret in a log"]).success();

    let yaml = h.export();
    assert!(yaml.starts_with("apiVersion: mcpca/v1\n"), "{yaml}");
    assert!(!yaml.contains("mcpca_cs_") && !yaml.contains("secret:"), "{yaml}");
    // On the same authority: all unchanged, no audit event.
    let before = h.snapshot();
    let report = h.apply_json(&yaml);
    assert!(actions(&report).iter().all(|a| a == "unchanged"), "{report:#}");
    assert_eq!(h.snapshot(), before);

    // On a fresh authority: the same document comes back.
    let fresh = Home::init();
    let report = fresh.apply_json(&yaml);
    assert!(actions(&report).iter().all(|a| a == "create"), "{report:#}");
    assert_eq!(fresh.export(), yaml);
    assert_eq!(fresh.cmd(["export", "-o", "json"]).success().stdout, h.cmd(["export", "-o", "json"]).success().stdout);
    // And the JSON export applies too (read from stdin).
    let json = h.cmd(["export", "-o", "json"]).success().stdout;
    let third = Home::init();
    third.run(["apply", "-f", "-"], Some(&json)).success();
    assert_eq!(third.export(), yaml);
    let report: Value = serde_json::from_str(&third.run(["apply", "-f", "-", "-o", "json"], Some(&json)).success().stdout).unwrap();
    assert!(actions(&report).iter().all(|a| a == "unchanged"));
}

#[test]
fn what_the_file_does_not_name_is_left_alone() {
    let h = Home::init();
    h.cmd(["server", "add", "io.github.acme/maps", "--url", "https://maps.acme.dev/mcp"]).success();
    h.cmd(["client", "add", "other", "--allow", "*"]).success();
    h.apply(STATE, &[]).success();
    let partial = STATE.replace("      - version: 1.3.0\n        status: deprecated\n        reason: use 2.x\n        url: https://weather.acme.dev/mcp\n        description: Weather forecasts\n", "");
    let report = h.apply_json(&partial);
    let unmanaged: Vec<_> = steps(&report).into_iter().filter(|s| s.0 == "unmanaged").map(|s| (s.1, s.2)).collect();
    assert_eq!(
        unmanaged,
        [
            ("server-version".to_owned(), "io.github.acme/weather@1.3.0".to_owned()),
            ("server".to_owned(), "io.github.acme/maps".to_owned()),
            ("client".to_owned(), "other".to_owned()),
        ]
    );
    assert_eq!(report["applied"], false);
    h.cmd(["server", "show", "io.github.acme/maps"]).success();
    h.cmd(["server", "show", "io.github.acme/weather@1.3.0"]).success();
    h.cmd(["client", "show", "other"]).success();
}

#[test]
fn export_never_overwrites() {
    let h = Home::init();
    h.apply(STATE, &[]).success();
    let path = h.file("taken.yaml", "mine\n");
    let out = h.cmd([OsStr::new("export"), OsStr::new("--out"), path.as_os_str()]).fails(2);
    assert!(out.stderr.contains("already exists"), "{out:#?}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "mine\n");
    let json = h.tmp.path().join("state.json");
    h.cmd([OsStr::new("export"), OsStr::new("--out"), json.as_os_str(), OsStr::new("-o"), OsStr::new("json")])
        .success()
        .stdout
        .is_empty()
        .then_some(())
        .unwrap();
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(written["apiVersion"], "mcpca/v1");
    assert_eq!(written["clients"].as_array().unwrap().len(), 2);
}
