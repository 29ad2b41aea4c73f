-- mcpca schema 5: no index of the audit log by client.
-- It served one question: how many issuances has this client had in the last minute (the
-- rate limit). Every issuance paid for it (a few per cent of `mcpca serve`'s throughput,
-- BENCHMARKS.md, seventh pass); `mcpca serve`'s group commit now counts windows in memory
-- (store::hot::RateWindows, kept up to date by `seq` with what other processes append), and
-- a one-off issuance from the command line counts the last minute through `audit_at`.
DROP INDEX audit_actor_action_at;
