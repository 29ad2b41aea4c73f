//! Whole-process benchmarks of the `mcpca` binary, each beside a baseline process measured in
//! the same run: `mcpca --version` (process start and argument parsing; no store, no crypto).
//!
//! A temporary home is initialised (`mcpca init`, `server add io.github.acme/weather`), then
//! `mcpca --version`, `mcpca issue --server io.github.acme/weather` and `mcpca verify TOKEN
//! --audience …` run in turn, `MCPCA_BENCH_RUNS` times each (default 200), after a few warm-up
//! runs. Interleaving puts the same machine conditions under all three. Reported: p50, p90 and
//! mean wall time per process, and the difference to the baseline as the cost of the work.
//! Figures are reported, not asserted: the exit status is 0 unless the setup itself fails.
//! `MCPCA_BENCH_BIN=/path/to/mcpca` measures another build of the binary (before/after);
//! `MCPCA_BENCH_JSON=FILE` also writes the figures as JSON (`benches/support/report.rs`).
//!
//! Run: `cargo bench --bench cli`
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
#[path = "support/report.rs"]
mod report;

use std::error::Error;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The binary Cargo built for this bench; `MCPCA_BENCH_BIN` points at another (before/after).
const BUILT_BIN: &str = env!("CARGO_BIN_EXE_mcpca");
const SERVER: &str = "io.github.acme/weather";
const URL: &str = "https://weather.acme.dev/mcp";
const WARMUP: usize = 10;
/// Target for one whole `mcpca issue` process (p50).
const ISSUE_TARGET_MS: f64 = 15.0;

fn bin() -> String {
    std::env::var("MCPCA_BENCH_BIN").unwrap_or_else(|_| BUILT_BIN.to_owned())
}

/// `mcpca` with a clean environment: no inherited `MCPCA_*` except the home.
fn mcpca(home: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(bin());
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("MCPCA_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("MCPCA_HOME", home).args(args).stdin(Stdio::null());
    cmd
}

fn run_ok(home: &Path, args: &[&str]) -> Result<Output, Box<dyn Error>> {
    let out = mcpca(home, args).output()?;
    if !out.status.success() {
        return Err(format!("mcpca {} failed ({}): {}", args.join(" "), out.status, String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(out)
}

/// Wall time of one whole process, stdout captured as a caller would.
fn time_once(home: &Path, args: &[&str]) -> Result<Duration, Box<dyn Error>> {
    let start = Instant::now();
    let out = mcpca(home, args).stderr(Stdio::null()).output()?;
    let elapsed = start.elapsed();
    if !out.status.success() {
        return Err(format!("mcpca {} failed ({})", args.join(" "), out.status).into());
    }
    Ok(elapsed)
}

#[derive(Debug, Clone, Copy)]
struct Stats {
    p50: f64,
    p90: f64,
    mean: f64,
    min: f64,
}

fn stats(mut ms: Vec<f64>) -> Stats {
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    Stats { p50: at(0.5), p90: at(0.9), mean: ms.iter().sum::<f64>() / ms.len() as f64, min: ms[0] }
}

fn line(label: &str, s: Stats) {
    println!("  {label:<46} p50 {:>6.2} ms  p90 {:>6.2} ms  mean {:>6.2} ms  min {:>6.2} ms", s.p50, s.p90, s.mean, s.min);
}

fn main() -> Result<(), Box<dyn Error>> {
    let runs: usize =
        std::env::var("MCPCA_BENCH_RUNS").ok().and_then(|s| s.parse().ok()).filter(|n| (1..=100_000).contains(n)).unwrap_or(200);
    let dir = tempfile::tempdir()?;
    let home = dir.path().join("home");
    run_ok(&home, &["init"])?;
    run_ok(&home, &["server", "add", SERVER, "--url", URL])?;
    let token = String::from_utf8(run_ok(&home, &["issue", "--server", SERVER])?.stdout)?.trim().to_owned();

    let version: &[&str] = &["--version"];
    let issue: &[&str] = &["issue", "--server", SERVER];
    let verify: &[&str] = &["verify", &token, "--audience", URL];
    let cases = [
        ("mcpca --version (baseline)", version),
        ("mcpca issue --server io.github.acme/weather", issue),
        ("mcpca verify TOKEN --audience URL", verify),
    ];

    println!("mcpca whole-process benchmarks — {runs} runs each (after {WARMUP} warm-up runs), interleaved");
    println!("  binary: {}\n", bin());
    for _ in 0..WARMUP {
        for (_, args) in &cases {
            time_once(&home, args)?;
        }
    }
    let mut times: Vec<Vec<f64>> = vec![Vec::with_capacity(runs); cases.len()];
    for _ in 0..runs {
        for (i, (_, args)) in cases.iter().enumerate() {
            times[i].push(time_once(&home, args)?.as_secs_f64() * 1e3);
        }
    }
    let st: Vec<Stats> = times.into_iter().map(stats).collect();
    for ((label, _), s) in cases.iter().zip(&st) {
        line(label, *s);
    }
    let (base, iss, ver) = (st[0], st[1], st[2]);
    println!();
    println!("  work in issue  (p50 minus baseline p50): {:>6.2} ms", iss.p50 - base.p50);
    println!("  work in verify (p50 minus baseline p50): {:>6.2} ms", ver.p50 - base.p50);
    println!();
    println!("summary");
    let ok = iss.p50 <= ISSUE_TARGET_MS;
    println!(
        "  {}: whole `mcpca issue` process  p50 {:.2} ms (baseline process {:.2} ms, work {:.2} ms)  target <= {ISSUE_TARGET_MS} ms  {}",
        if ok { "PASS" } else { "FAIL" },
        iss.p50,
        base.p50,
        iss.p50 - base.p50,
        if ok { "met" } else { "NOT met" }
    );
    println!(
        "  info: whole `mcpca verify` process p50 {:.2} ms (baseline process {:.2} ms, work {:.2} ms)  no target",
        ver.p50,
        base.p50,
        ver.p50 - base.p50
    );
    const SECTION: &str = "whole-process CLI";
    report::write(&[
        report::Figure::new("cli.issue", SECTION, "mcpca issue --server S (p50)", iss.p50, "ms", report::Better::Lower)
            .baseline("mcpca --version", base.p50, iss.p50 / base.p50, "× --version")
            .target("<= 15 ms", ok),
        report::Figure::new("cli.verify", SECTION, "mcpca verify TOKEN --audience URL (p50)", ver.p50, "ms", report::Better::Lower)
            .baseline("mcpca --version", base.p50, ver.p50 / base.p50, "× --version"),
    ])?;
    Ok(())
}
