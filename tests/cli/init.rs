//! `mcpca init`, the key-encryption key, and what other commands say on an empty home.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::util::*;

const KEK_A: [u8; 32] = [0x11; 32];
const KEK_B: [u8; 32] = [0x22; 32];

#[test]
fn init_creates_config_kek_database_and_two_keys() {
    let h = Home::new();
    let out = h.cmd(["init"]).success();
    assert!(out.stderr.contains("created config"), "{}", out.stderr);
    assert!(out.stderr.contains("back up the key-encryption key"), "{}", out.stderr);
    assert!(h.file("config.yaml").is_file());
    assert!(h.file("kek").is_file());
    assert!(h.file("registry.db").is_file());
    #[cfg(unix)]
    {
        assert_eq!(mode(&h.file("kek")), 0o600, "kek mode");
        assert_eq!(mode(&h.file("registry.db")), 0o600, "registry.db mode");
    }
    // The KEK file holds 32 bytes of base64.
    let kek = std::fs::read_to_string(h.file("kek")).unwrap();
    assert_eq!(STANDARD.decode(kek.trim()).unwrap().len(), 32);
    // The config names the default issuer.
    let config = std::fs::read_to_string(h.file("config.yaml")).unwrap();
    assert!(config.contains(&format!("issuer: {DEFAULT_ISSUER}")), "{config}");

    let keys = h.keys();
    assert_eq!(keys.len(), 2, "{keys:?}");
    let states: Vec<&str> = keys.iter().map(|k| k["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["active", "next"]);
    for k in &keys {
        assert_eq!(k["created_at"], T0_RFC3339);
        assert_eq!(k["published"], true);
    }
    assert_eq!(keys[0]["activated_at"], T0_RFC3339);
    // The report printed on stdout names both keys.
    assert!(out.stdout.contains(keys[0]["kid"].as_str().unwrap()), "{}", out.stdout);
    assert!(out.stdout.contains(keys[1]["kid"].as_str().unwrap()), "{}", out.stdout);
}

#[test]
fn init_twice_changes_nothing_and_says_so() {
    let h = Home::init();
    let keys_before = h.cmd(["key", "list", "-o", "json"]).success().stdout;
    let config_before = std::fs::read(h.file("config.yaml")).unwrap();
    let kek_before = std::fs::read(h.file("kek")).unwrap();

    h.set_now(T0 + 3600);
    let out = h.cmd(["init"]).success();
    assert!(out.stderr.contains("already initialized: nothing changed"), "{}", out.stderr);
    assert!(!out.stderr.contains("created"), "{}", out.stderr);

    assert_eq!(h.cmd(["key", "list", "-o", "json"]).success().stdout, keys_before);
    assert_eq!(std::fs::read(h.file("config.yaml")).unwrap(), config_before);
    assert_eq!(std::fs::read(h.file("kek")).unwrap(), kek_before);

    let report = h.cmd(["init", "-o", "json"]).success().json();
    assert_eq!(report["changed"], false);
    assert_eq!(report["created"], serde_json::json!([]));
}

#[test]
fn init_issuer_lands_in_config_and_descriptors() {
    let h = Home::new();
    h.cmd(["init", "--issuer", "https://ca.example.com"]).success();
    let config = std::fs::read_to_string(h.file("config.yaml")).unwrap();
    assert!(config.contains("issuer: https://ca.example.com"), "{config}");
    h.add_server("io.github.acme/weather", "https://weather.acme.dev/mcp", &[]);
    let jwt = h.issue("io.github.acme/weather", &[]);
    let (_, claims) = decode_jwt(&jwt);
    assert_eq!(claims["iss"], "https://ca.example.com");
    // verify against the local authority expects the configured issuer.
    h.command(["verify", "--audience", "https://weather.acme.dev/mcp"]).stdin(jwt).run().success();
}

#[test]
fn init_refuses_an_invalid_issuer_and_creates_nothing() {
    for bad in ["not a url", "ftp://ca.example.com", "https://ca.example.com/?q=1", "https://ca.example.com/#x"] {
        let h = Home::new();
        h.cmd(["init", "--issuer", bad]).fails(2).stderr_has(&["issuer"]).no_stdout();
        assert!(!h.file("config.yaml").exists(), "config created for {bad}");
        assert!(!h.file("kek").exists(), "kek created for {bad}");
        assert!(!h.file("registry.db").exists(), "database created for {bad}");
    }
}

#[test]
fn other_commands_on_an_empty_home_say_run_init() {
    let h = Home::new();
    let cases: &[&[&str]] = &[
        &["server", "list"],
        &["key", "list"],
        &["key", "export", "--public"],
        &["key", "rotate"],
        &["issue", "--server", "io.github.acme/weather"],
        &["server", "add", "io.github.acme/weather", "--url", "https://weather.acme.dev/mcp"],
        &["revoke", "io.github.acme/weather"],
        &["revocations"],
    ];
    for args in cases {
        h.cmd(*args).fails(2).stderr_has(&["mcpca init"]).no_stdout();
    }
    // An existing but empty folder is just as empty.
    std::fs::create_dir_all(h.dir()).unwrap();
    h.cmd(["server", "list"]).fails(2).stderr_has(&["no authority found", "mcpca init"]);
    // ...and nothing was created by asking.
    assert_eq!(std::fs::read_dir(h.dir()).unwrap().count(), 0);
}

#[test]
fn mcpca_kek_from_the_environment() {
    let h = Home::new();
    let kek_a = STANDARD.encode(KEK_A);
    let kek_b = STANDARD.encode(KEK_B);
    let out = h.command(["init"]).env("MCPCA_KEK", &kek_a).run().success();
    assert!(!h.file("kek").exists(), "no kek file with MCPCA_KEK");
    assert!(!out.stderr.contains("back up the key-encryption key file"), "{}", out.stderr);
    h.add_server("io.github.acme/weather", "https://weather.acme.dev/mcp", &[]);

    // Without MCPCA_KEK there is no key to open the signing keys with.
    h.cmd(["issue", "--server", "io.github.acme/weather"]).fails(2).stderr_has(&["key-encryption key"]).no_stdout();
    // Another KEK is refused.
    h.command(["issue", "--server", "io.github.acme/weather"])
        .env("MCPCA_KEK", &kek_b)
        .run()
        .fails(2)
        .stderr_has(&["key-encryption key"])
        .no_stdout();
    // Not base64 / not 32 bytes.
    h.command(["issue", "--server", "io.github.acme/weather"]).env("MCPCA_KEK", "!!!").run().fails(2).stderr_has(&["base64"]);
    h.command(["issue", "--server", "io.github.acme/weather"])
        .env("MCPCA_KEK", STANDARD.encode([1u8; 16]))
        .run()
        .fails(2)
        .stderr_has(&["32 bytes"]);
    // The same KEK works.
    let jwt = h.command(["issue", "--server", "io.github.acme/weather"]).env("MCPCA_KEK", &kek_a).run().success().stdout;
    assert_eq!(jwt.trim().split('.').count(), 3);
    // Running init again with the same KEK changes nothing.
    h.command(["init"]).env("MCPCA_KEK", &kek_a).run().success().stderr_has(&["already initialized: nothing changed"]);
    assert!(!h.file("kek").exists());
    // init without it refuses to create a kek that cannot open the stored keys.
    h.cmd(["init"]).fails(2).stderr_has(&["key-encryption key"]);
    assert!(!h.file("kek").exists());
}

/// A wrong KEK gives a clear error and changes nothing, byte for byte.
#[test]
fn wrong_kek_file_refuses_and_changes_nothing() {
    let h = Home::init();
    h.add_server("io.github.acme/weather", "https://weather.acme.dev/mcp", &[]);
    let good = std::fs::read(h.file("kek")).unwrap();
    let keys_before = h.cmd(["key", "list", "-o", "json"]).success().stdout;
    let db_before = sha256_file(&h.file("registry.db"));
    let files_before = home_files(&h);

    std::fs::write(h.file("kek"), format!("{}\n", STANDARD.encode(KEK_B))).unwrap();
    let active = h.kid("active");
    let cases: &[&[&str]] = &[
        &["issue", "--server", "io.github.acme/weather"],
        &["key", "rotate"],
        &["key", "generate"],
        &["key", "export", "--private", &active, "--yes"],
        &["init"],
    ];
    for args in cases {
        h.cmd(*args).fails(2).stderr_has(&["key-encryption key does not match", "nothing was changed"]).no_stdout();
    }
    assert_eq!(h.cmd(["key", "list", "-o", "json"]).success().stdout, keys_before);
    assert_eq!(sha256_file(&h.file("registry.db")), db_before, "registry.db changed");
    assert_eq!(home_files(&h), files_before);

    // Back with the right KEK, everything works again.
    std::fs::write(h.file("kek"), good).unwrap();
    h.issue("io.github.acme/weather", &[]);
    h.cmd(["key", "rotate"]).success();
}

/// A missing kek file with an existing database.
#[test]
fn missing_kek_file_is_reported() {
    let h = Home::init();
    h.add_server("io.github.acme/weather", "https://weather.acme.dev/mcp", &[]);
    std::fs::remove_file(h.file("kek")).unwrap();
    h.cmd(["issue", "--server", "io.github.acme/weather"]).fails(2).stderr_has(&["key-encryption key file", "missing"]);
    // init does not paper over it with a new KEK.
    h.cmd(["init"]).fails(2).stderr_has(&["kek"]);
    assert!(!h.file("kek").exists());
}

fn home_files(h: &Home) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(h.dir()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}
