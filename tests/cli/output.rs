//! Output formats, configuration precedence, stdout/stderr discipline and completions.

use serde_json::Value;

use crate::util::*;

const WEATHER: &str = "io.github.acme/weather";
const WEATHER_URL: &str = "https://weather.acme.dev/mcp";

fn with_server() -> Home {
    let h = Home::init();
    h.add_server(WEATHER, WEATHER_URL, &["--max-ttl", "5m"]);
    h
}

#[test]
fn list_commands_print_table_json_and_yaml() {
    let h = with_server();
    h.cmd(["revoke", "--jti", "0190f2a4-0000-7000-8000-000000000000"]).success();
    let lists: &[&[&str]] = &[&["server", "list"], &["key", "list"], &["revocations"], &["server", "show", WEATHER]];
    for args in lists {
        let table = h.cmd(args.iter().chain(&["-o", "table"])).success().stdout;
        if args[0] != "revocations" {
            assert_eq!(h.cmd(*args).success().stdout, table, "table is the default for {args:?}");
        }
        assert!(serde_json::from_str::<Value>(&table).is_err(), "a table is not JSON: {table}");
        let json = h.cmd(args.iter().chain(&["-o", "json"])).success().json();
        let long = h.cmd(args.iter().chain(&["--output", "json"])).success().json();
        assert_eq!(json, long);
        let yaml = h.cmd(args.iter().chain(&["-o", "yaml"])).success().yaml();
        assert_eq!(yaml, json, "YAML and JSON are the same model for {args:?}");
        // The format can come from the environment too.
        let env = h.command(args.iter().copied()).env("MCPCA_OUTPUT", "json").run().success().json();
        assert_eq!(env, json);
    }
    // A table row carries the data.
    let table = h.cmd(["server", "list"]).success().stdout;
    let row = table.lines().find(|l| l.contains(WEATHER)).unwrap();
    for cell in ["1.0.0", "active", "yes", "no", "5m", WEATHER_URL] {
        assert!(row.contains(cell), "{cell} missing in {row}");
    }
}

#[test]
fn an_unknown_output_format_is_refused() {
    let h = with_server();
    for args in [&["server", "list", "-o", "xml"][..], &["key", "list", "--output", "csv"], &["issue", "--server", WEATHER, "-o", "text"]] {
        h.cmd(args).fails(2).stderr_has(&["invalid value"]).no_stdout();
    }
    h.command(["server", "list"]).env("MCPCA_OUTPUT", "xml").run().fails(2).no_stdout();
    assert_eq!(h.revocations().len(), 0);
}

#[test]
fn home_flag_beats_the_environment() {
    let a = Home::init();
    a.add_server(WEATHER, WEATHER_URL, &[]);
    let b = Home::new();
    let a_dir = a.dir();
    let a_dir = a_dir.to_str().unwrap();
    // b's environment points at an empty home; --home points at a.
    b.cmd(["server", "list"]).fails(2).stderr_has(&["mcpca init"]);
    let listed = b.cmd(["--home", a_dir, "server", "list", "-o", "json"]).success().json();
    assert_eq!(names(listed.as_array().unwrap()), ["io.github.acme/weather@1.0.0"]);
    // Global flags go anywhere on the line.
    b.cmd(["server", "list", "--home", a_dir]).success();
    // Writes land in the --home authority, not in MCPCA_HOME's.
    b.cmd(["--home", a_dir, "server", "add", "io.github.acme/tides", "--url", "https://tides.acme.dev/mcp"]).success();
    assert_eq!(a.servers(&[]).len(), 2);
    assert!(!b.dir().exists());
    // Without MCPCA_HOME, --home alone is enough.
    b.command(["--home", a_dir, "key", "list"]).env_remove("MCPCA_HOME").run().success();
}

#[test]
fn issuer_from_the_environment_beats_the_config_file() {
    let h = Home::new();
    h.cmd(["init", "--issuer", "https://ca.file.example"]).success();
    h.add_server(WEATHER, WEATHER_URL, &[]);
    let iss = |out: Output| decode_jwt(out.stdout.trim()).1["iss"].as_str().unwrap().to_owned();
    assert_eq!(iss(h.cmd(["issue", "--server", WEATHER]).success()), "https://ca.file.example");
    let jwt = h.command(["issue", "--server", WEATHER]).env("MCPCA_ISSUER", "https://ca.env.example").run().success();
    let jwt_text = jwt.stdout.trim().to_owned();
    assert_eq!(iss(jwt), "https://ca.env.example");
    // verify expects the issuer in force.
    h.command(["verify", "--audience", WEATHER_URL]).stdin(jwt_text.clone()).run().fails(1).stderr_has(&["descriptor_invalid", "issuer"]);
    h.command(["verify", "--audience", WEATHER_URL]).stdin(jwt_text).env("MCPCA_ISSUER", "https://ca.env.example").run().success();
    // An invalid issuer from the environment is an error, not a fallback.
    h.command(["issue", "--server", WEATHER]).env("MCPCA_ISSUER", "not a url").run().fails(2).stderr_has(&["issuer"]).no_stdout();
    // And MCPCA_DEFAULT_TTL likewise beats the default.
    let e = h.command(["issue", "--server", WEATHER, "-o", "json"]).env("MCPCA_DEFAULT_TTL", "45s").run().success().json();
    assert_eq!(e["expires_in"], 45);
}

#[test]
fn config_file_settings_apply() {
    let h = Home::init();
    h.add_server(WEATHER, WEATHER_URL, &[]);
    let cfg = h.file("config.yaml");
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text.push_str("default_ttl: 1m\nmax_ttl: 10m\n");
    std::fs::write(&cfg, text).unwrap();
    assert_eq!(h.issue_json(WEATHER, &[])["expires_in"], 60);
    let e = h.issue_json(WEATHER, &["--ttl", "1h"]);
    assert_eq!(e["expires_in"], 600);
    assert_eq!(e["clamped"]["granted"], "10m");
    // Rotation grace follows the configured max TTL.
    let r = h.cmd(["key", "rotate", "-o", "json"]).success().json();
    assert_eq!(r["retire_at"], rfc3339(T0 + 600 + 15));
}

#[test]
fn a_corrupt_config_is_an_error_naming_the_file() {
    let h = with_server();
    let cfg = h.file("config.yaml");
    for bad in ["issuer: [unclosed\n", "issuer: https://ca.example.com\nunknown_setting: 1\n", "max_ttl: forever\n", "max_ttl: 48h\n"] {
        std::fs::write(&cfg, bad).unwrap();
        for args in [&["server", "list"][..], &["issue", "--server", WEATHER], &["key", "list"]] {
            let out = h.cmd(args).fails(2).no_stdout();
            assert!(out.stderr.contains("config.yaml") || out.stderr.contains("max_ttl"), "{bad:?}: {}", out.stderr);
        }
    }
    // A YAML error names the file.
    std::fs::write(&cfg, "issuer: [unclosed\n").unwrap();
    h.cmd(["server", "list"]).fails(2).stderr_has(&["config.yaml"]);
    // init does not overwrite it either.
    h.cmd(["init"]).fails(2).stderr_has(&["config.yaml"]);
    assert_eq!(std::fs::read_to_string(&cfg).unwrap(), "issuer: [unclosed\n");
}

#[test]
fn data_on_stdout_everything_else_on_stderr() {
    let h = Home::init();
    // server add: the entry on stdout, the note on stderr.
    let out = h.cmd(["server", "add", WEATHER, "--url", WEATHER_URL, "--max-ttl", "5m", "-o", "json"]).success();
    assert_eq!(out.json()["server"]["name"], WEATHER);
    assert!(out.stderr.contains("added io.github.acme/weather@1.0.0"), "{}", out.stderr);
    assert!(!out.stdout.contains("added"), "{}", out.stdout);
    // issue with a clamp: the JWT alone on stdout.
    let out = h.cmd(["issue", "--server", WEATHER, "--ttl", "1h"]).success();
    assert_eq!(out.stdout.trim().split('.').count(), 3);
    assert!(out.stderr.contains("lowered"));
    // key rotate: report on stdout, note on stderr.
    let out = h.cmd(["key", "rotate", "-o", "json"]).success();
    assert!(out.json()["activated"].is_string());
    assert!(out.stderr.contains("signs from now on"), "{}", out.stderr);
    // Errors: stderr only, with a hint.
    let out = h.cmd(["server", "show", "io.github.acme/nothing"]).fails(2).no_stdout();
    assert!(out.stderr.starts_with("error: "), "{}", out.stderr);
    assert!(out.stderr.contains("\nhint: "), "{}", out.stderr);
    // --quiet silences the notes, not the data.
    let out = h.cmd(["server", "add", "io.github.acme/tides", "--url", "https://tides.acme.dev/mcp", "-q", "-o", "json"]).success();
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    assert_eq!(out.json()["server"]["name"], "io.github.acme/tides");
    let out = h.cmd(["issue", "--server", WEATHER, "--ttl", "1h", "--quiet"]).success();
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    assert_eq!(out.stdout.trim().split('.').count(), 3);
}

#[test]
fn completions_for_every_shell() {
    let h = Home::new();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = h.cmd(["completions", shell]).success();
        assert!(out.stdout.len() > 200, "{shell}: {}", out.stdout);
        assert!(out.stdout.contains("mcpca"), "{shell}");
        assert!(out.stdout.contains("revocations"), "{shell} completes subcommands");
        assert!(out.stderr.is_empty(), "{shell}: {}", out.stderr);
    }
    h.cmd(["completions", "tcsh"]).fails(2).no_stdout();
    // No authority is needed (or created) for completions.
    assert!(!h.dir().exists());
}

#[test]
fn help_and_version() {
    let h = Home::new();
    let out = h.cmd(["--help"]).success();
    for cmd in ["init", "key", "server", "issue", "inspect", "verify", "revoke", "revocations", "completions"] {
        assert!(out.stdout.contains(cmd), "{cmd} missing from --help");
    }
    let out = h.cmd(["--version"]).success();
    assert!(out.stdout.starts_with("mcpca "), "{}", out.stdout);
    h.cmd(["frobnicate"]).fails(2).no_stdout();
}

#[test]
fn config_flag_beats_mcpca_config() {
    let h = Home::new();
    let a = h.root().join("a.yaml");
    let b = h.scratch("b.yaml", "issuer: https://b.example\n");
    let (a_arg, b_arg) = (a.to_str().unwrap(), b.to_str().unwrap());
    h.cmd(["init", "--config", a_arg, "--issuer", "https://a.example"]).success();
    assert!(a.is_file(), "init writes the config where --config says");
    assert!(!h.file("config.yaml").exists());
    assert!(h.file("registry.db").is_file() && h.file("kek").is_file(), "the rest stays in the home");
    h.cmd(["server", "add", WEATHER, "--url", WEATHER_URL, "--config", a_arg]).success();
    let iss = |out: Output| decode_jwt(out.stdout.trim()).1["iss"].as_str().unwrap().to_owned();
    assert_eq!(iss(h.cmd(["issue", "--server", WEATHER, "--config", a_arg]).success()), "https://a.example");
    assert_eq!(iss(h.command(["issue", "--server", WEATHER]).env("MCPCA_CONFIG", b_arg).run().success()), "https://b.example");
    let out = h.command(["issue", "--server", WEATHER, "--config", a_arg]).env("MCPCA_CONFIG", b_arg).run().success();
    assert_eq!(iss(out), "https://a.example");
    // Without it, the home has no config: not initialised.
    h.cmd(["issue", "--server", WEATHER]).fails(2).stderr_has(&["mcpca init"]);
}
