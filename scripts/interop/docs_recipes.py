#!/usr/bin/env python3
"""Keeps the verifier recipes of the docs the same as the servers the interop run tests.

  - Python: every top-level class and function of the "## Python (official MCP SDK)" section's
    code blocks that mcp_echo_server.py also defines must be the same text there (and the
    verifier, the JWKS client, the refusal codes and the header shim must all be in the docs);
  - TypeScript: the "## TypeScript (official MCP SDK + jose)" section's code is written to
    --ts-out for `tsc` (strict) to type-check against the pinned packages.

The sections live in docs/verifying.md. Prints one line per check and "N passed, M failed".
"""

from __future__ import annotations

import argparse
import ast
import re
import subprocess
import sys
from pathlib import Path

PY_SECTION = "## Python (official MCP SDK)"
TS_SECTION = "## TypeScript (official MCP SDK + jose)"
MUST_BE_DOCUMENTED = {"LastGoodJWKClient", "DescriptorVerifier", "refusal_code", "McpConnectHeader"}
RESULTS = {"passed": 0, "failed": 0}


def report(name: str, problem: str | None) -> None:
    if problem is None:
        RESULTS["passed"] += 1
        print(f"ok    {name}")
    else:
        RESULTS["failed"] += 1
        print(f"FAIL  {name}: {problem}")


def section(text: str, title: str) -> str:
    start = text.index(title + "\n")
    rest = text[start + len(title) :]
    end = re.search(r"^## ", rest, flags=re.MULTILINE)
    return rest[: end.start()] if end else rest


def blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def top_level(source: str) -> dict[str, str]:
    tree = ast.parse(source)
    return {
        node.name: ast.get_source_segment(source, node) or ""
        for node in tree.body
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", required=True, help="the repository")
    ap.add_argument("--ts-dir", help="a directory with node_modules and tsconfig.json: type-check the TypeScript there")
    a = ap.parse_args()
    root = Path(a.root)
    print("-- the docs' verifier recipes are the tested code")

    docs = [root / "docs" / "verifying.md"]
    doc = next((d for d in docs if d.is_file() and PY_SECTION in d.read_text()), None)
    if doc is None:
        report("find the recipes", f"no {PY_SECTION!r} in {', '.join(str(d) for d in docs)}")
    else:
        text = doc.read_text()
        tested = top_level((root / "scripts" / "interop" / "mcp_echo_server.py").read_text())
        documented: dict[str, str] = {}
        for block in blocks(section(text, PY_SECTION), "python"):
            try:
                documented.update(top_level(block))
            except SyntaxError:
                continue  # a fragment (the client example) rather than a module
        missing = MUST_BE_DOCUMENTED - documented.keys()
        differ = sorted(n for n in documented.keys() & tested.keys() if documented[n] != tested[n])
        problem = None
        if missing:
            problem = f"not in the docs: {sorted(missing)}"
        elif differ:
            problem = f"differ from scripts/interop/mcp_echo_server.py: {differ}"
        report(f"{doc.relative_to(root)}: the Python recipe is mcp_echo_server.py's code", problem)

        if a.ts_dir:
            ts = "\n".join(blocks(section(text, TS_SECTION), "typescript"))
            out = Path(a.ts_dir) / "recipe.ts"
            out.write_text(ts)
            r = subprocess.run(
                ["node", "node_modules/typescript/bin/tsc", "-p", "."], cwd=a.ts_dir, capture_output=True, text=True
            )
            problem = None if r.returncode == 0 and ts.strip() else (r.stdout + r.stderr).strip()[:2000] or "no code"
            report(f"{doc.relative_to(root)}: the TypeScript recipe type-checks (tsc --strict)", problem)

    print(f"{RESULTS['passed']} passed, {RESULTS['failed']} failed")
    return 1 if RESULTS["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
