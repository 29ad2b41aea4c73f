#!/usr/bin/env python3
"""Figures of scripts/bench: merge, print, compare (standard library only).

    bench-report.py build PARTS_DIR META_JSON OUT_JSON   merge the parts of a run into OUT_JSON
                                                          and print the summary table
    bench-report.py table SUMMARY_JSON [--markdown]      print the table of a saved summary
    bench-report.py compare OLD_JSON NEW_JSON            the change of every figure; exit 3 when
                                                          one regressed by more than 10 %

PARTS_DIR holds `*.json` files written by the benches (a JSON array of figures, see
benches/support/report.rs) and `wrk.jsonl` / `raw.jsonl`, raw measurements of the script
(one JSON object a line, `key` naming it), from which the HTTP figures are formed here.
"""

import json
import statistics
import sys
from pathlib import Path

REGRESSION = 0.10  # a change worse than this is flagged
# p99 is printed but never flagged: on a shared 2-core machine it moved by up to 3x between two
# identical runs (BENCHMARKS.md); throughput, p50 and the same-run ratios are what is guarded.

# Issue 5's targets, at 64 connections over 30,000 servers.
CONNECT_TARGET = (25_000.0, 5.0, 0.7)
REGISTRY_TARGET = (5_000.0, 10.0)


def load_raw(parts):
    raw = {}
    for name in ("wrk.jsonl", "raw.jsonl"):
        path = parts / name
        if path.exists():
            for line in path.read_text().splitlines():
                if line.strip():
                    rec = json.loads(line)
                    raw[rec["key"]] = rec
    return raw


def http_figure(fid, section, label, m, base=None, base_label=None, ratio_label=None, ratio=None):
    fig = {
        "id": fid,
        "section": section,
        "label": label,
        "value": m["rps"],
        "unit": "req/s",
        "better": "higher",
        "p50_ms": m["p50_ms"],
        "p99_ms": m["p99_ms"],
    }
    bad = m.get("non2xx", 0) or 0
    if bad or m.get("errors"):
        fig["errors"] = f"{bad} non-2xx {m.get('errors') or ''}".strip()
    if base is not None:
        fig["baseline_label"] = base_label
        fig["baseline_value"] = base["rps"]
        fig["baseline_p50_ms"] = base["p50_ms"]
        fig["baseline_p99_ms"] = base["p99_ms"]
        fig["ratio"] = ratio if ratio is not None else m["rps"] / base["rps"]
        fig["ratio_label"] = ratio_label
    return fig


def judge(fig, m):
    rps, p99, ratio = CONNECT_TARGET
    fig["target"] = f">= {rps:,.0f} req/s, p99 <= {p99:g} ms, >= {ratio}× bare"
    fig["met"] = m["rps"] >= rps and m["p99_ms"] <= p99 and fig["ratio"] >= ratio


def paired_runs(raw):
    """The alternating rounds at 64 connections: [(bare, connect), ...]."""
    pairs, r = [], 1
    while f"paired.bare.r{r}" in raw and f"paired.connect.r{r}" in raw:
        pairs.append((raw[f"paired.bare.r{r}"], raw[f"paired.connect.r{r}"]))
        r += 1
    return pairs


def paired_figure(raw, sec):
    """Issue 5's connect figure: the median over the alternating pairs of each measure (req/s,
    p50, p99, and the ratio of each pair, taken seconds apart)."""
    pairs = paired_runs(raw)
    med = lambda side, k: statistics.median([p[side][k] for p in pairs])  # noqa: E731
    connect = {k: med(1, k) for k in ("rps", "p50_ms", "p99_ms")}
    connect["non2xx"] = sum(p[1].get("non2xx", 0) or 0 for p in pairs)
    bare = {k: med(0, k) for k in ("rps", "p50_ms", "p99_ms")}
    ratio = statistics.median([p[1]["rps"] / p[0]["rps"] for p in pairs])
    n = len(pairs)
    steals = [x for b, m in pairs for x in (b.get("steal_pct"), m.get("steal_pct")) if x is not None]
    steal = f" (host steal {min(steals):.1f}–{max(steals):.1f} %)" if steals else ""
    fig = http_figure(
        "serve.connect.paired.c64",
        sec,
        f"POST /v1/connect, 64 conn, median of {n} alternating pair{'s' if n > 1 else ''}{steal}",
        connect,
        bare,
        "bare axum sign, same pairs",
        "× bare",
        ratio,
    )
    fig["pairs"] = [
        {
            "bare_rps": b["rps"],
            "bare_p99_ms": b["p99_ms"],
            "rps": m["rps"],
            "p99_ms": m["p99_ms"],
            "ratio": m["rps"] / b["rps"],
            # The host's steal time during each run (absent in summaries before 2026-12-07).
            "bare_steal_pct": b.get("steal_pct"),
            "steal_pct": m.get("steal_pct"),
        }
        for b, m in pairs
    ]
    judge(fig, connect)
    return fig


def http_figures(raw, meta):
    out = []
    conns = meta["connections"]
    sec = "mcpca serve over loopback (wrk)"
    for c in conns:
        get = lambda k: raw.get(f"{k}.c{c}")  # noqa: E731
        bare, connect, python = get("bare.sign"), get("serve.connect"), get("python.connect")
        if connect:
            fig = http_figure(f"serve.connect.c{c}", sec, f"POST /v1/connect, {c} conn", connect, bare, "bare axum sign", "× bare")
            if c == 64 and bare and not paired_runs(raw):
                # A run without the paired rounds (an older summary): judged on this pair.
                judge(fig, connect)
            out.append(fig)
            if python:
                out.append(
                    http_figure(
                        f"serve.connect_vs_python.c{c}", sec, f"POST /v1/connect, {c} conn", connect, python, "PyJWT + Starlette/uvicorn", "× Python"
                    )
                )
        token = get("serve.oauth_token")
        if token:
            out.append(http_figure(f"serve.oauth_token.c{c}", sec, f"POST /oauth/token, {c} conn", token, bare, "bare axum sign", "× bare"))
        jwks, bare_jwks = get("serve.jwks"), get("bare.jwks")
        if jwks:
            out.append(
                http_figure(f"serve.jwks.c{c}", sec, f"GET /.well-known/jwks.json, {c} conn", jwks, bare_jwks, "bare axum static JWKS", "× bare")
            )
        pyverify = get("python.verify")
        if pyverify:
            out.append(http_figure(f"python.verify.c{c}", sec, f"Python baseline: PyJWT verify, {c} conn (info)", pyverify))
    if paired_runs(raw):
        out.append(paired_figure(raw, sec))
    rss = raw.get("serve.rss")
    if rss:
        out.append(
            {
                "id": f"serve.rss.n{rss['servers']}",
                "section": sec,
                "label": f"mcpca serve peak RSS, after the load ({rss['servers']:,} servers; {rss.get('now', 0):.0f} MB at the end)",
                "value": rss["value"],
                "unit": "MB",
                "better": "lower",
                "target": "<= 100 MB",
                "met": rss["value"] <= 100,
            }
        )

    sec = f"registry read API, GET /v0.1/servers?limit=100 (wrk, {meta['registry_connections']} conn)"
    sizes = meta["sizes"]
    for q, what in (("first", "first page"), ("deep", "deep cursor (80 % in)"), ("search", "search=server-4242 (a full scan)")):
        first_size = None
        for n in sizes:
            m = raw.get(f"registry.{q}.n{n}")
            if not m:
                continue
            if first_size is None:
                first_size = n
                fig = http_figure(f"registry_api.{q}.n{n}", sec, f"{what}, {n:,} servers", m)
            else:
                base = raw[f"registry.{q}.n{first_size}"]
                fig = http_figure(f"registry_api.{q}.n{n}", sec, f"{what}, {n:,} servers", m, base, f"same at {first_size:,}", f"× at {first_size:,}")
            if n == 30_000 and q == "first":
                rps, p99 = REGISTRY_TARGET
                fig["target"] = f">= {rps:,.0f} req/s, p99 <= {p99:g} ms"
                fig["met"] = m["rps"] >= rps and m["p99_ms"] <= p99
            if n == 30_000 and q == "deep" and raw.get(f"registry.first.n{n}"):
                first = raw[f"registry.first.n{n}"]
                # The ratio column compares with the same query at the smallest size; this
                # target compares with the first page at this size, so it says its own ratio.
                fig["target"] = f"as fast as the first page (>= 0.9×; {m['rps'] / first['rps']:.3f}× it)"
                fig["met"] = m["rps"] >= 0.9 * first["rps"]
            out.append(fig)
    return out


def build(parts, meta_path, out_path):
    parts = Path(parts)
    meta = json.loads(Path(meta_path).read_text())
    figures = []
    order = ["descriptor", "guard", "cli", "registry"]
    for name in order:
        path = parts / f"{name}.json"
        if path.exists():
            figures.extend(json.loads(path.read_text()))
    figures.extend(http_figures(load_raw(parts), meta))
    summary = {"meta": meta, "figures": figures}
    Path(out_path).write_text(json.dumps(summary, indent=2) + "\n")
    print_table(summary)


def num(v):
    if v >= 100_000:
        return f"{v:,.0f}"
    if v >= 100:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def fmt_value(v, unit, p50=None, p99=None):
    if unit == "ops/s":
        s = f"{v / 1e6:.2f}M/s" if v >= 1e6 else f"{v / 1e3:.1f}k/s"
        return f"{s} ({1e9 / v:,.0f} ns)" if v < 1e6 else f"{s} ({1e9 / v:.0f} ns)"
    if unit == "req/s":
        s = f"{v:,.0f} req/s"
        if p50 is not None:
            s += f", p50 {num(p50)} ms, p99 {num(p99)} ms"
        return s
    if unit == "us":
        return f"{num(v)} µs"
    return f"{num(v)} {unit}"


def rows(summary):
    for f in summary["figures"]:
        result = fmt_value(f["value"], f["unit"], f.get("p50_ms"), f.get("p99_ms"))
        base = ""
        if f.get("baseline_label"):
            bv = f.get("baseline_value")
            base = f["baseline_label"]
            if bv is not None:
                base += ": " + fmt_value(bv, f["unit"], f.get("baseline_p50_ms"), f.get("baseline_p99_ms"))
        ratio = ""
        if f.get("ratio") is not None:
            r, what = f["ratio"], f.get("ratio_label") or ""
            ratio = f"{r:,.0f}" if r >= 100 else f"{r:.1f}" if r >= 10 else f"{r:.3f}"
            ratio += what if what.startswith("×") else f" ({what})" if what else ""
        target = ""
        if f.get("target"):
            target = f"{f['target']}: {'met' if f.get('met') else 'NOT met'}"
        if f.get("errors"):
            target = (target + "; " if target else "") + f"ERRORS {f['errors']}"
        yield f["section"], f["label"], result, base, ratio, target


def print_table(summary, markdown=False):
    meta = summary.get("meta", {})
    if markdown:
        print("| figure | result | baseline (same run) | ratio | target |")
        print("|---|---|---|---|---|")
        section = None
        for sec, label, result, base, ratio, target in rows(summary):
            if sec != section:
                print(f"| **{sec}** | | | | |")
                section = sec
            print(f"| {label} | {result} | {base or '—'} | {ratio or '—'} | {target or '—'} |")
        return
    all_rows = list(rows(summary))
    w = [max([len(r[i]) for r in all_rows] + [10]) for i in range(1, 6)]
    w = [min(x, 60) for x in w]
    print()
    print(f"mcpca benchmark summary — {meta.get('date', '?')}, {meta.get('machine', '?')}, {meta.get('mode', '?')} run")
    section = None
    for sec, label, result, base, ratio, target in all_rows:
        if sec != section:
            print(f"\n{sec}")
            section = sec
        print(f"  {label:<{w[0]}}  {result:<{w[1]}}  {base:<{w[2]}}  {ratio:<{w[3]}}  {target}".rstrip())
    print()


def compare(old_path, new_path):
    old = json.loads(Path(old_path).read_text())
    new = json.loads(Path(new_path).read_text())
    old_by = {f["id"]: f for f in old["figures"]}
    print(
        f"change against {old_path} ({old.get('meta', {}).get('date', '?')}); "
        f"worse by more than {REGRESSION:.0%} is flagged (throughput, p50, ratio; p99 is shown only)"
    )
    flagged = 0
    seen = set()
    for f in new["figures"]:
        o = old_by.get(f["id"])
        seen.add(f["id"])
        if o is None:
            print(f"  {f['id']:<44} new figure")
            continue
        parts = []
        worst = False
        metrics = [("value", f["better"] == "higher"), ("p50_ms", False), ("p99_ms", False), ("ratio", f["better"] == "higher")]
        for key, higher in metrics:
            a, b = o.get(key), f.get(key)
            if a is None or b is None or a == 0:
                continue
            change = (b - a) / a
            worse = -change if higher else change
            flag = worse > REGRESSION and key != "p99_ms"
            worst |= flag
            name = {"value": f["unit"], "p50_ms": "p50", "p99_ms": "p99", "ratio": "ratio"}[key]
            parts.append(f"{name} {change:+.1%}{' REGRESSION' if flag else ''}")
        flagged += worst
        print(f"  {'!' if worst else ' '} {f['id']:<42} {'; '.join(parts)}")
    for fid in old_by:
        if fid not in seen:
            print(f"    {fid:<42} not in the new run")
    print(f"{flagged} figure(s) regressed by more than {REGRESSION:.0%}")
    return 3 if flagged else 0


def main(argv):
    if len(argv) >= 4 and argv[0] == "build":
        build(argv[1], argv[2], argv[3])
        return 0
    if len(argv) >= 2 and argv[0] == "table":
        print_table(json.loads(Path(argv[1]).read_text()), markdown="--markdown" in argv)
        return 0
    if len(argv) == 3 and argv[0] == "compare":
        return compare(argv[1], argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
