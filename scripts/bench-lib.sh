# Shared by scripts/bench and scripts/bench-ab (sourced, not run).

# The share of the host's CPU time the hypervisor gave to other guests (steal) between two
# `cpu` lines of /proc/stat: the machine's slow phases, which cost mcpca more than the bare
# signer (at 8 % steal mcpca lost 40 % of its throughput, the bare signer 12 %: BENCHMARKS.md,
# sixth pass), so every wrk run is recorded with it.
steal_pct() {
    awk -v a="$1" -v b="$2" 'BEGIN { n = split(a, x); split(b, y); t = 0
        for (i = 2; i <= 9 && i <= n; i++) t += y[i] - x[i]
        printf "%.1f", (t > 0 ? 100 * (y[9] - x[9]) / t : 0) }'
}
