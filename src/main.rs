//! The `mcpca` binary: parse, run, map the error to an exit code — nothing else.

use std::process::ExitCode;

use clap::Parser;

// mimalloc: `mcpca serve` allocates per request on every worker thread; glibc's allocator spent
// ~13 % of the connect path in malloc/free and arena consolidation (BENCHMARKS.md, mcpca serve).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// No transparent huge pages for `mcpca serve`. mimalloc asks for them on its arenas
/// (`madvise(MADV_HUGEPAGE)`); a 2 MiB page is then resident as soon as one byte of it is used,
/// and stays so while any is. The service's RSS followed where short-lived buffers had landed in
/// the arena rather than what it held: 83 MiB at the end of the 10-minute soak, 34 MiB without
/// (BENCHMARKS.md, "Hardening (issue 8)"). mimalloc is built without the `madvise` (its
/// `no_thp` feature, Cargo.toml); this also turns THP off for the process where the system
/// gives them unasked (`always`), as `MIMALLOC_ALLOW_THP=0` would. A kernel without the setting
/// (before Linux 3.15) refuses it; nothing else changes then.
#[cfg(target_os = "linux")]
fn no_huge_pages() {
    let _ = rustix::thread::disable_transparent_huge_pages(true);
}

#[cfg(not(target_os = "linux"))]
fn no_huge_pages() {}

/// Threads `mcpca serve` may run blocking work on.
const MAX_BLOCKING_THREADS: usize = 8;

fn main() -> ExitCode {
    let cli = mcpca::cli::Cli::parse();
    // The service uses every core; a one-shot command needs one thread.
    let mut builder = match cli.command {
        mcpca::cli::Command::Serve(_) => {
            no_huge_pages();
            let mut b = tokio::runtime::Builder::new_multi_thread();
            // Blocking work (store calls on one connection, snapshot reloads) queues instead of
            // growing up to 512 threads, each with its own allocator heap.
            b.max_blocking_threads(MAX_BLOCKING_THREADS);
            b
        }
        _ => tokio::runtime::Builder::new_current_thread(),
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(mcpca::commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            if let Some(hint) = e.hint() {
                eprintln!("hint: {hint}");
            }
            ExitCode::from(e.exit_code())
        }
    }
}
