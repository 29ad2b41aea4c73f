//! Registry at scale: importing 30,000 generated server.json documents and listing them, as
//! whole `mcpca` processes, each beside a baseline measured in the same run.
//!
//! - import: `mcpca server import FILE` (validation against the official schema, one
//!   transaction per 1,000 entries, one audit event per entry) beside the same rows inserted by
//!   a bare rusqlite loop in one transaction (the storage floor: no validation, no audit);
//! - re-import of the same file (every entry `unchanged`);
//! - `mcpca server list` (table, the default) and `-o json` over the 30,000 entries, beside
//!   `mcpca server list --search <nothing>` (process start, config, database open and the same
//!   query plan, with no rows to read or print).
//!
//! Targets (issue 4): import ≤ 10 s; `server list` ≤ 300 ms as a whole process.
//! Figures are reported, not asserted. Run: `cargo bench --bench registry`
//! (`MCPCA_BENCH_SERVERS` changes the count, `MCPCA_BENCH_RUNS` the list repetitions;
//! `MCPCA_BENCH_JSON=FILE` also writes the figures as JSON, `benches/support/report.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
#[path = "support/report.rs"]
mod report;

use std::error::Error;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_mcpca");
const IMPORT_TARGET_S: f64 = 10.0;
const LIST_TARGET_MS: f64 = 300.0;

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn mcpca(home: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("MCPCA_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("MCPCA_HOME", home).args(args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    cmd
}

fn timed(home: &Path, args: &[&str]) -> Result<Duration, Box<dyn Error>> {
    let start = Instant::now();
    let status = mcpca(home, args).status()?;
    let elapsed = start.elapsed();
    if !status.success() {
        return Err(format!("mcpca {} failed ({status})", args.join(" ")).into());
    }
    Ok(elapsed)
}

/// A realistic server.json: current schema, repository, one streamable-http remote.
fn document(i: usize) -> serde_json::Value {
    json!({
        "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
        "name": format!("io.github.org{}/server-{i}", i % 500),
        "description": format!("Generated MCP server number {i} for the registry benchmark"),
        "title": format!("Server {i}"),
        "version": format!("1.{}.{}", i % 7, i % 3),
        "repository": { "url": format!("https://github.com/org{}/server-{i}", i % 500), "source": "github" },
        "remotes": [{ "type": "streamable-http", "url": format!("https://s{i}.example.com/mcp") }],
    })
}

/// The storage floor: the same rows inserted with prepared statements in one transaction.
fn raw_insert(dir: &Path, docs: &[serde_json::Value]) -> Result<Duration, Box<dyn Error>> {
    let start = Instant::now();
    let mut c = rusqlite::Connection::open(dir.join("raw.db"))?;
    c.pragma_update(None, "journal_mode", "WAL")?;
    c.pragma_update(None, "synchronous", "NORMAL")?;
    c.execute_batch("CREATE TABLE v (name TEXT, version TEXT, document TEXT, endpoint TEXT, PRIMARY KEY (name, version))")?;
    let tx = c.transaction()?;
    {
        let mut stmt = tx.prepare("INSERT INTO v VALUES (?1, ?2, ?3, ?4)")?;
        for d in docs {
            stmt.execute(rusqlite::params![d["name"].as_str(), d["version"].as_str(), d.to_string(), d["remotes"][0]["url"].as_str()])?;
        }
    }
    tx.commit()?;
    Ok(start.elapsed())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "PASS"
    } else {
        "FAIL"
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let n = env_num("MCPCA_BENCH_SERVERS", 30_000);
    let runs = env_num("MCPCA_BENCH_RUNS", 7).max(1);
    let dir = tempfile::tempdir()?;
    let home = dir.path().join("home");
    let docs: Vec<serde_json::Value> = (0..n).map(document).collect();
    let file = dir.path().join("servers.json");
    std::fs::write(&file, serde_json::to_vec(&docs)?)?;
    let file = file.to_string_lossy().into_owned();
    timed(&home, &["init"])?;

    println!("registry benchmark: {n} server.json documents, {runs} runs per list figure");
    let raw = raw_insert(dir.path(), &docs)?;
    let import = timed(&home, &["server", "import", &file, "--summary"])?;
    let reimport = timed(&home, &["server", "import", &file, "--summary"])?;
    println!(
        "import            {:>9.2} s   raw rusqlite insert {:>7.2} s   ratio {:>5.1}x   target <= {IMPORT_TARGET_S} s: {}",
        import.as_secs_f64(),
        raw.as_secs_f64(),
        import.as_secs_f64() / raw.as_secs_f64(),
        verdict(import.as_secs_f64() <= IMPORT_TARGET_S)
    );
    println!("re-import (all unchanged) {:>5.2} s", reimport.as_secs_f64());

    // Warm the page cache, then interleave the cases so they see the same machine.
    timed(&home, &["server", "list"])?;
    let (mut empty, mut table, mut json) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        empty.push(timed(&home, &["server", "list", "--search", "no-such-server-anywhere"])?);
        table.push(timed(&home, &["server", "list"])?);
        json.push(timed(&home, &["server", "list", "-o", "json"])?);
    }
    let (empty, table, json) = (median(empty), median(table), median(json));
    println!("server list, empty result (baseline) {:>7.1} ms", ms(empty));
    const SECTION: &str = "whole-process CLI";
    let mut figures = vec![report::Figure::new(
        format!("cli.server_import.n{n}"),
        SECTION,
        format!("mcpca server import ({n} servers)"),
        import.as_secs_f64(),
        "s",
        report::Better::Lower,
    )
    .baseline("bare rusqlite insert", raw.as_secs_f64(), import.as_secs_f64() / raw.as_secs_f64(), "× bare insert")
    .target("<= 10 s", import.as_secs_f64() <= IMPORT_TARGET_S)];
    for (id, label, d) in [("list", "server list", table), ("list_json", "server list -o json", json)] {
        figures.push(
            report::Figure::new(
                format!("cli.server_{id}.n{n}"),
                SECTION,
                format!("mcpca {label} ({n} servers)"),
                ms(d),
                "ms",
                report::Better::Lower,
            )
            .baseline("server list --search <nothing>", ms(empty), ms(d) / ms(empty), "× empty list")
            .target("<= 300 ms", ms(d) <= LIST_TARGET_MS),
        );
    }
    report::write(&figures)?;
    for (label, d) in [("server list (table)", table), ("server list -o json", json)] {
        println!(
            "{label:<21} {:>7.1} ms   {:>5.1}x baseline   cost of the rows {:>6.1} ms   target <= {LIST_TARGET_MS} ms: {}",
            ms(d),
            ms(d) / ms(empty),
            ms(d) - ms(empty),
            verdict(ms(d) <= LIST_TARGET_MS)
        );
    }
    Ok(())
}
