#!/usr/bin/env python3
"""Interop of mcpca with real MCP software: the official MCP Python SDK's streamable HTTP client
gets a Connect Descriptor from `mcpca serve` (POST /v1/connect) and talks to an MCP server
directly; the server verifies the descriptor locally against the authority's JWKS.

Run by scripts/interop/run.sh. The same checks (`scenario`) run against every server command given:

  - mcp_echo_server.py: an MCP server on the same SDK whose TokenVerifier uses PyJWT's PyJWKClient
    (with a 1 s JWKS cache, so that the outage is served by its last-good key set);
  - ts/echo_server.mjs: an MCP server on the official TypeScript SDK, requireBearerAuth over jose
    (--ts-server FILE, installed beside its node_modules by run.sh);
  - the Rust example `guarded_mcp_server` (--guarded-server BIN).
A server that is not given, or not there, is reported on a "skipped: … not built" line.

For each server, on a fresh home and a fresh `mcpca serve --listen 127.0.0.1:0 --issuer ISSUER`:

  - POST /v1/connect (client secret as bearer) returns the envelope; the SDK client lists tools and
    calls `echo` with the descriptor as `Authorization: Bearer`, and again as `MCP-Connect`;
  - refused with 401: no descriptor, an expired one (`MCPCA_NOW=<past> mcpca issue`), one for another
    registered server (wrong audience), a tampered signature; the SDK client fails (not hangs);
  - availability: with `mcpca serve` stopped, a client holding a descriptor still completes calls
    (the server's cached JWKS), a new connect fails at once with a clear error, and after a restart
    on the same port and home connects resume;
  - `mcpca revoke NAME`: new connects are refused with 403 `server_revoked`.

Prints one line per check and "N passed, M failed"; exits 1 if anything failed.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import httpx2
import jwt
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

RESULTS = {"passed": 0, "failed": 0}

ISSUER = "https://ca.interop.example"  # not the address served: the issuer is configuration
NAME = "io.github.interop/echo"
OTHER = "io.github.interop/other"  # registered elsewhere: its descriptors have another audience
OTHER_URL = "http://127.0.0.1:9/other/mcp"
CLIENT = "interop-sdk"
CALL_TIMEOUT = 20.0  # seconds for one MCP session (connect, list, call); a hang is a failure


def check(name: str, fn: Callable[[], Any]) -> Any:
    """Run one check: it passes unless it raises. Returns its value (True for None), or None when it failed."""
    try:
        value = fn()
    except Exception as e:  # noqa: BLE001 - every failure is reported, not raised
        RESULTS["failed"] += 1
        print(f"FAIL  {name}: {type(e).__name__}: {e}", flush=True)
        return None
    RESULTS["passed"] += 1
    print(f"ok    {name}", flush=True)
    return True if value is None else value


def first_line(proc: subprocess.Popen[str], what: str, log: Path, timeout: float = 60) -> str:
    """The first stdout line of `proc` (its URL); the rest of stdout is drained to `log`."""
    got: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        got.append(proc.stdout.readline())
        ready.set()
        with open(log, "a") as rest:
            for line in proc.stdout:
                rest.write(line)

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(timeout) or not got or not got[0].strip():
        proc.kill()
        raise RuntimeError(f"{what} printed no URL within {timeout:.0f}s; see {log}")
    return got[0].strip()


def stop(proc: subprocess.Popen[str]) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(timeout=10)


class Authority:
    """`mcpca serve` on a home of its own, restartable on the same port, and the CLI on that home."""

    def __init__(self, binary: str, home: Path, logs: Path) -> None:
        self.binary, self.home, self.logs = binary, home, logs
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("MCPCA_")}
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self.starts = 0
        self.start("127.0.0.1:0")

    def start(self, listen: str) -> None:
        self.starts += 1
        err = open(self.logs / f"serve-{self.starts}.stderr", "w")  # noqa: SIM115 - the child keeps it
        self.proc = subprocess.Popen(
            [self.binary, "--home", str(self.home), "serve", "--listen", listen, "--issuer", ISSUER],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=self.env,
        )
        err.close()
        self.url = first_line(self.proc, "mcpca serve", self.logs / f"serve-{self.starts}.stdout").rstrip("/")

    def restart(self) -> None:
        port = self.url.rsplit(":", 1)[1]
        self.start(f"127.0.0.1:{port}")

    def stop(self) -> int:
        assert self.proc is not None
        return stop(self.proc)

    def cli(self, *args: str, env: dict[str, str] | None = None) -> str:
        r = subprocess.run(
            [self.binary, "--home", str(self.home), "--no-input", *args],
            capture_output=True,
            text=True,
            env={**self.env, **(env or {})},
            timeout=60,
            check=False,
        )
        if r.returncode != 0:
            raise RuntimeError(f"mcpca {' '.join(args)}: exit {r.returncode}: {r.stderr.strip()}")
        return r.stdout

    def connect(self, secret: str, server_ref: str, ttl: str = "5m") -> httpx2.Response:
        return httpx2.post(
            f"{self.url}/v1/connect",
            headers={"Authorization": f"Bearer {secret}"},
            json={"server_ref": server_ref, "ttl": ttl},
            timeout=10,
        )


def connect_ok(ca: Authority, secret: str, server_ref: str) -> dict[str, Any]:
    r = ca.connect(secret, server_ref)
    assert r.status_code == 200, f"POST /v1/connect: {r.status_code} {r.text}"
    return r.json()


def until(what: str, fn: Callable[[], Any], seconds: float = 15) -> Any:
    """Poll `fn` until it returns without raising: `serve` sees CLI changes within its poll interval."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return fn()
        except Exception as e:  # noqa: BLE001 - retried until the deadline
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: still failing after {seconds:.0f}s: {e}") from e
            time.sleep(0.2)


async def _session(
    endpoint: str, headers: dict[str, str], work: Callable[[Client], Any], statuses: list[int] | None
) -> Any:
    async def record(response: httpx2.Response) -> None:
        if statuses is not None:
            statuses.append(response.status_code)

    with anyio.fail_after(CALL_TIMEOUT):
        async with httpx2.AsyncClient(
            headers=headers, timeout=httpx2.Timeout(10.0), event_hooks={"response": [record]}
        ) as http:
            async with Client(streamable_http_client(endpoint, http_client=http)) as client:
                return await work(client)


def mcp_session(
    endpoint: str, headers: dict[str, str], work: Callable[[Client], Any], statuses: list[int] | None = None
) -> Any:
    """One SDK client session against `endpoint` with `headers` on every request; runs `work(client)`.
    The HTTP status of every response is appended to `statuses`."""
    return anyio.run(_session, endpoint, headers, work, statuses)


async def list_and_echo(client: Client, text: str = "hello through mcpca") -> None:
    tools = await client.list_tools()
    names = [t.name for t in tools.tools]
    assert "echo" in names, f"tools {names}"
    result = await client.call_tool("echo", {"text": text})
    assert not result.is_error, result
    texts = [c.text for c in result.content if getattr(c, "type", "") == "text"]
    assert texts == [text], f"content {result.content}"


class Target:
    """The MCP server under test: its endpoint and its log (stderr), read for refusal reasons."""

    def __init__(self, label: str, endpoint: str, log: Path, last_good_log: str | None) -> None:
        self.label, self.endpoint, self.log = label, endpoint, log
        self.last_good_log = last_good_log  # what its log says when it serves a cached JWKS, if known
        self._mark = 0

    def mark(self) -> None:
        self._mark = self.log.stat().st_size

    def since_mark(self) -> str:
        with open(self.log, "rb") as f:
            f.seek(self._mark)
            return f.read().decode(errors="replace")


def raw_status(endpoint: str, headers: dict[str, str]) -> tuple[int, str]:
    """Status and `error` of a plain JSON-RPC POST (what any client's first request looks like)."""
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    h = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream", **headers}
    r = httpx2.post(endpoint, headers=h, json=body, timeout=10)
    try:
        code = str(r.json().get("error", ""))
    except (ValueError, AttributeError):
        code = ""
    return r.status_code, code


def expect_401(t: Target, headers: dict[str, str], codes: set[str]) -> None:
    """A plain request is refused with 401, for one of `codes` (DESIGN §3's failure codes): named
    in the body's `error`, or, where the body only says RFC 6750 `invalid_token` (the SDK's bearer
    middleware, whatever the reason), in the line the server logged for this request."""
    t.mark()
    status, code = raw_status(t.endpoint, headers)
    assert status == 401, f"status {status}"
    if code in codes:
        print(f"      401, error {code!r}")
        return
    assert code == "invalid_token", f"error {code!r}, expected one of {sorted(codes)}"
    if headers:
        logged = sorted(c for c in codes if c in t.since_mark())
        assert logged, f"401 invalid_token, but the server logged none of {sorted(codes)}: {t.since_mark()[-300:]!r}"
        print(f"      401, error 'invalid_token'; the server logged {logged[0]!r}")
    else:
        # No descriptor at all: the SDK's middleware refuses before the verifier is asked.
        print("      401, error 'invalid_token' (no credentials)")


def leaves(e: BaseException) -> list[BaseException]:
    if isinstance(e, BaseExceptionGroup):
        return [leaf for sub in e.exceptions for leaf in leaves(sub)]
    return [e]


def sdk_refused(t: Target, headers: dict[str, str]) -> None:
    """The SDK client's session fails with an error (not a hang) after the server's 401. The SDK
    reports an HTTP error status as a generic MCPError, so the status is read off the wire."""
    started, statuses = time.monotonic(), []
    try:
        mcp_session(t.endpoint, headers, list_and_echo, statuses)
    except Exception as e:  # noqa: BLE001 - an error is the expected outcome; a timeout is not
        errors = leaves(e)
        assert not any(isinstance(x, TimeoutError) for x in errors), "the SDK client hung instead of failing"
        assert 401 in statuses, f"HTTP statuses {statuses}"
        assert 200 not in statuses, f"HTTP statuses {statuses}"
        text = "; ".join(f"{type(x).__name__}: {x}" for x in errors)
        print(f"      HTTP {statuses} -> {text.splitlines()[0][:120]} ({time.monotonic() - started:.2f}s)")
        return
    raise AssertionError("the call succeeded")


def bearer(descriptor: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {descriptor}"}


def run_target(label: str, server_cmd: list[str], binary: str, work: Path, last_good_log: str | None) -> None:
    """Every check against one MCP server command (given --issuer, --jwks-url, --server-id)."""
    slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
    logs = work / slug
    logs.mkdir(parents=True, exist_ok=True)
    print(f"-- {label}")
    ca = Authority(binary, logs / "home", logs)
    print(f"      mcpca serve at {ca.url}, issuer {ISSUER}; logs in {logs}")
    server: subprocess.Popen[str] | None = None
    try:
        log = logs / "mcp-server.stderr"
        srv_err = open(log, "w")  # noqa: SIM115 - the child keeps it
        server = subprocess.Popen(
            [*server_cmd, "--issuer", ISSUER, "--jwks-url", f"{ca.url}/.well-known/jwks.json", "--server-id", NAME],
            stdout=subprocess.PIPE,
            stderr=srv_err,
            text=True,
        )
        srv_err.close()
        endpoint = first_line(server, label, logs / "mcp-server.stdout")
        print(f"      MCP server at {endpoint}")
        scenario(ca, Target(label, endpoint, log, last_good_log))
    finally:
        if server is not None:
            stop(server)
        if ca.proc is not None and ca.proc.poll() is None:
            ca.stop()


def scenario(ca: Authority, t: Target) -> None:
    endpoint = t.endpoint
    secret: dict[str, str] = {}

    def register() -> None:
        ca.cli("--quiet", "server", "add", NAME, "--url", endpoint, "--verified")
        ca.cli("--quiet", "server", "add", OTHER, "--url", OTHER_URL, "--verified")
        out = ca.cli("--quiet", "client", "add", CLIENT, "--allow", "io.github.interop/*")
        secret["s"] = out.strip().splitlines()[-1].strip()
        assert secret["s"].startswith("mcpca_cs_"), "no client secret on stdout"

    if not check("register the MCP server (at the URL it printed), another server and a client with the CLI", register):
        return
    s = secret["s"]

    env: dict[str, Any] = {}

    def connect() -> None:
        env.update(until("POST /v1/connect", lambda: connect_ok(ca, s, NAME)))
        assert env["endpoint"] == endpoint, f"endpoint {env['endpoint']!r}"
        assert env["header"] == "MCP-Connect", f"header {env['header']!r}"
        claims = jwt.decode(env["descriptor"], options={"verify_signature": False})
        assert claims["aud"] == endpoint and claims["mcp"]["server"]["id"] == NAME, claims

    if not check("POST /v1/connect (client secret as bearer) returns the envelope for the server", connect):
        return
    descriptor = env["descriptor"]

    check(
        "SDK client, descriptor as Authorization: Bearer: lists tools and calls echo",
        lambda: mcp_session(endpoint, bearer(descriptor), list_and_echo),
    )
    check(
        f"SDK client, descriptor as {env['header']} (the envelope's header): lists tools and calls echo",
        lambda: mcp_session(endpoint, {env["header"]: descriptor}, list_and_echo),
    )

    # Refusals: the first request of a session is answered 401; the SDK client fails, not hangs.
    check("no descriptor: 401", lambda: expect_401(t, {}, {"descriptor_missing"}))
    check("no descriptor: the SDK client fails with the 401", lambda: sdk_refused(t, {}))

    expired: dict[str, str] = {}

    def make_expired() -> None:
        past = str(int(time.time()) - 3600)
        out = ca.cli("--quiet", "issue", "--server", NAME, "--client", CLIENT, "--ttl", "5m", env={"MCPCA_NOW": past})
        expired["d"] = out.strip()
        claims = jwt.decode(expired["d"], options={"verify_signature": False})
        assert claims["exp"] < time.time() - 60, claims["exp"]

    if check("MCPCA_NOW=<an hour ago> mcpca issue (same home) makes an expired descriptor", make_expired):
        check("expired descriptor: 401", lambda: expect_401(t, bearer(expired["d"]), {"descriptor_expired"}))
        check("expired descriptor: the SDK client fails with the 401", lambda: sdk_refused(t, bearer(expired["d"])))

    def wrong_audience() -> None:
        other = connect_ok(ca, s, OTHER)
        assert other["endpoint"] == OTHER_URL, other["endpoint"]
        expect_401(t, bearer(other["descriptor"]), {"descriptor_wrong_audience"})

    check("descriptor for another registered server (wrong audience): 401", wrong_audience)

    def tampered() -> None:
        h, p, sig = descriptor.split(".")
        forged = ".".join([h, p, ("A" if sig[0] != "A" else "B") + sig[1:]])
        expect_401(t, bearer(forged), {"descriptor_invalid"})

    check("tampered signature: 401", tampered)

    # Availability: the authority is not in the data path. One session stays open across the
    # outage; new sessions with the held descriptor start during it.
    def outage() -> None:
        held = connect_ok(ca, s, NAME)["descriptor"]

        async def across(client: Client) -> None:
            await list_and_echo(client, "before the outage")
            code = await anyio.to_thread.run_sync(ca.stop)
            assert code == 0, f"mcpca serve exit status {code}"
            print("      mcpca serve stopped (SIGTERM, status 0)")
            # Past the Python server's JWKS cache lifetime (1 s here), so its verifier must
            # fall back to the last good key set rather than its fresh cache.
            await anyio.sleep(1.5)
            t.mark()
            await list_and_echo(client, "during the outage")

        mcp_session(endpoint, bearer(held), across)
        mcp_session(endpoint, bearer(held), list_and_echo)
        if t.last_good_log is not None:
            assert t.last_good_log in t.since_mark(), f"the server did not log {t.last_good_log!r}"
            print(f"      the server logged {t.last_good_log!r}")

    if not check(
        "authority stopped: a client holding a descriptor still calls echo (open session and new session)", outage
    ):
        return

    def connect_fails_fast() -> None:
        started = time.monotonic()
        try:
            r = ca.connect(s, NAME)
        except httpx2.TransportError as e:
            took = time.monotonic() - started
            assert took < 5, f"took {took:.1f}s"
            print(f"      {type(e).__name__}: {e} ({took:.2f}s)")
            return
        raise AssertionError(f"answered {r.status_code}")

    check("authority stopped: a new connect fails at once with a connection error", connect_fails_fast)

    def restarted() -> None:
        ca.restart()
        fresh = until("POST /v1/connect after the restart", lambda: connect_ok(ca, s, NAME))
        mcp_session(endpoint, bearer(fresh["descriptor"]), list_and_echo)

    if not check("mcpca serve restarted on the same port and home: connects resume, the new descriptor works", restarted):
        return

    def revoked() -> None:
        ca.cli("--quiet", "--yes", "revoke", NAME, "--reason", "interop check")

        def refused() -> None:
            r = ca.connect(s, NAME)
            assert r.status_code == 403, f"status {r.status_code} {r.text}"
            assert r.json().get("error") == "server_revoked", r.text
            assert r.headers.get("content-type", "").startswith("application/problem+json"), r.headers

        until("connect refused after revoke", refused)

    check("mcpca revoke NAME: POST /v1/connect answers 403 server_revoked (problem+json)", revoked)

    def sigterm() -> None:
        code = ca.stop()
        assert code == 0, f"exit status {code}"

    check("SIGTERM stops the restarted mcpca serve (status 0)", sigterm)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mcpca", required=True, help="the mcpca binary")
    ap.add_argument("--workdir", required=True, help="scratch directory (homes and logs are created in it)")
    ap.add_argument("--guarded-server", default="", help="the Rust example guarded_mcp_server (optional)")
    ap.add_argument("--ts-server", default="", help="echo_server.mjs beside its node_modules (optional)")
    ap.add_argument("--node", default="node", help="the Node.js binary for --ts-server")
    a = ap.parse_args()
    work = Path(a.workdir) / "mcp-sdk"
    work.mkdir(parents=True, exist_ok=True)
    print(f"MCP Python SDK {mcp_version()}, PyJWT {jwt.__version__}")

    here = Path(__file__).resolve().parent
    python_server = [sys.executable, str(here / "mcp_echo_server.py"), "--jwks-cache-seconds", "1"]
    targets: list[tuple[str, list[str], str | None]] = [
        ("MCP Python SDK server", python_server, "using the last good key set"),
    ]
    if a.ts_server and os.path.isfile(a.ts_server):
        targets.append(("MCP TypeScript SDK server", [a.node, a.ts_server], None))
    else:
        print(f"skipped: MCP TypeScript SDK server: not built ({a.ts_server or 'no --ts-server'})")
    guarded = a.guarded_server
    if guarded and os.access(guarded, os.X_OK):
        targets.append(("Rust guarded_mcp_server", [guarded, "--listen", "127.0.0.1:0", "--header", "either"], None))
    else:
        why = "GUARDED_SERVER_BIN unset" if not guarded else f"{guarded} missing or not executable"
        print(f"skipped: Rust guarded_mcp_server: not built ({why})")

    for label, cmd, last_good_log in targets:
        try:
            run_target(label, cmd, a.mcpca, work, last_good_log)
        except Exception as e:  # noqa: BLE001 - a broken setup is a failure, not a traceback
            RESULTS["failed"] += 1
            print(f"FAIL  {label}: setup: {type(e).__name__}: {e}")
    print(f"{RESULTS['passed']} passed, {RESULTS['failed']} failed")
    return 1 if RESULTS["failed"] else 0


def mcp_version() -> str:
    from importlib.metadata import version

    return version("mcp")


if __name__ == "__main__":
    sys.exit(main())
