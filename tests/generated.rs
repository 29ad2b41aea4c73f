//! The committed `completions/` and `man/` must be exactly what the clap definition renders.
//! `MCPCA_BLESS=1 cargo test --test generated` rewrites them (and removes stale man pages).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The checkout under test. Cargo sets CARGO_MANIFEST_DIR when it runs a test; prefer that to the
/// compile-time value, which is wrong when two checkouts share one target directory.
fn root() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}

fn bless() -> bool {
    std::env::var_os("MCPCA_BLESS").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Man pages present on disk (relative paths such as `man/mcpca-key.1`).
fn committed_man_pages() -> Result<BTreeSet<PathBuf>, std::io::Error> {
    let dir = root().join("man");
    let mut pages = BTreeSet::new();
    if !dir.is_dir() {
        return Ok(pages);
    }
    for entry in fs::read_dir(&dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if Path::new(&name).extension().is_some_and(|e| e == "1") {
            pages.insert(PathBuf::from("man").join(name));
        }
    }
    Ok(pages)
}

#[test]
fn completions_and_man_pages_match_the_cli() -> TestResult {
    let files = mcpca::docs::generated_files()?;
    let expected: BTreeSet<PathBuf> = files.iter().map(|(p, _)| p.clone()).collect();
    assert_eq!(expected.len(), files.len(), "two generated files share a path");
    let stale: Vec<PathBuf> = committed_man_pages()?.into_iter().filter(|p| !expected.contains(p)).collect();

    if bless() {
        for (rel, bytes) in &files {
            let path = root().join(rel);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent)?;
            }
            if fs::read(&path).ok().as_deref() != Some(bytes.as_slice()) {
                fs::write(&path, bytes)?;
                eprintln!("wrote {}", rel.display());
            }
        }
        for rel in &stale {
            fs::remove_file(root().join(rel))?;
            eprintln!("removed stale {}", rel.display());
        }
        return Ok(());
    }

    let mut drifted = Vec::new();
    for (rel, bytes) in &files {
        match fs::read(root().join(rel)) {
            Ok(on_disk) if on_disk == *bytes => {}
            Ok(_) => drifted.push(format!("{} (differs)", rel.display())),
            Err(_) => drifted.push(format!("{} (missing)", rel.display())),
        }
    }
    drifted.extend(stale.iter().map(|rel| format!("{} (stale: no such command)", rel.display())));
    assert!(
        drifted.is_empty(),
        "generated files are out of date with src/cli.rs:\n  {}\nrun `MCPCA_BLESS=1 cargo test --test generated` and commit the result",
        drifted.join("\n  ")
    );
    Ok(())
}

#[test]
fn every_command_has_a_man_page() -> TestResult {
    let files = mcpca::docs::generated_files()?;
    let names: BTreeSet<String> = files.iter().map(|(p, _)| p.display().to_string()).collect();
    for page in [
        "man/mcpca.1",
        "man/mcpca-init.1",
        "man/mcpca-key.1",
        "man/mcpca-key-rotate.1",
        "man/mcpca-server-add.1",
        "man/mcpca-verify.1",
        "completions/mcpca.bash",
        "completions/_mcpca",
        "completions/mcpca.fish",
        "completions/_mcpca.ps1",
        "completions/mcpca.elv",
    ] {
        assert!(names.contains(page), "{page} is not generated; got {names:?}");
    }
    assert!(!names.iter().any(|n| n.contains("-help.")), "clap's help subcommand got a page: {names:?}");
    // Deterministic: a second rendering is byte for byte the same.
    assert!(files == mcpca::docs::generated_files()?, "two renderings differ");
    Ok(())
}
