#!/usr/bin/env python3
"""Interop check of mcpca's OAuth 2.0 endpoints with Authlib, an OAuth client that knows nothing
of mcpca, and PyJWT.

Run by scripts/interop/run.sh. This script starts `mcpca serve --listen 127.0.0.1:0` on a fresh
home of its own (reading the URL from the first line of stdout; serve initialises the home and
writes a one-time admin token to <home>/admin-token), registers a server and two clients with the
CLI against the same home, then, with Authlib's standard client-credentials flow only:

  - reads the RFC 8414 metadata and checks the endpoints it names are the ones served;
  - fetches an access token with client_secret_basic and with client_secret_post, passing the
    RFC 8707 `resource` (the second time in a non-canonical spelling);
  - verifies each token with PyJWT against /.well-known/jwks.json (EdDSA, typ at+jwt, iss,
    aud = the canonical endpoint, claims of DESIGN §3);
  - checks the RFC 6749 error answers (wrong secret, unknown resource, wrong grant type);
  - introspects (RFC 7662), revokes (RFC 7009), introspects again (inactive), and finds the jti
    in `mcpca revocations` and in the signed feed at /v1/revocations;
  - stops the server with SIGTERM and expects exit status 0.

Prints one line per check and "N passed, M failed"; exits 1 if anything failed.
"""

from __future__ import annotations

import argparse
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

import authlib
import jwt
import requests
from authlib.integrations.requests_client import OAuth2Session

RESULTS = {"passed": 0, "failed": 0}

NAME = "io.github.acme/weather"
ENDPOINT = "https://weather.acme.dev/mcp"
CLIENT = "oauth-bot"
OTHER = "other-bot"


def check(name: str, fn: Callable[[], Any]) -> Any:
    """Run one check: it passes unless it raises. Returns its value, or None when it failed."""
    try:
        value = fn()
    except Exception as e:  # noqa: BLE001 - every failure is reported, not raised
        RESULTS["failed"] += 1
        print(f"FAIL  {name}: {type(e).__name__}: {e}")
        return None
    RESULTS["passed"] += 1
    print(f"ok    {name}")
    return True if value is None else value


def oauth_error_of(fn: Callable[[], Any]) -> str:
    """The OAuth `error` code Authlib raised for a refused token request."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - Authlib raises OAuthError with .error
        code = getattr(e, "error", None)
        if code is None:
            raise
        return str(code)
    raise AssertionError("the request succeeded")


class Authority:
    """`mcpca serve` on a temporary home, and the CLI against the same home."""

    def __init__(self, binary: str, home: Path) -> None:
        self.binary = binary
        self.home = home
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("MCPCA_")}
        self.stderr = open(home.parent / "serve.stderr", "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [binary, "--home", str(home), "serve", "--listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
            env=self.env,
        )
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(self.proc.stdout.readline() if self.proc.stdout else ""))
        reader.start()
        reader.join(timeout=60)
        if not line or not line[0].strip():
            self.proc.kill()
            raise RuntimeError(f"mcpca serve printed no URL; stderr in {home.parent / 'serve.stderr'}")
        self.url = line[0].strip()

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.binary, "--home", str(self.home), *args], capture_output=True, text=True, env=self.env, timeout=60, check=False
        )

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        finally:
            self.stderr.close()


def run(a: argparse.Namespace) -> None:
    work = Path(a.workdir)
    home = work / "oauth-home"
    ca = Authority(a.mcpca, home)
    print(f"mcpca serve at {ca.url} (home {home})")
    try:
        scenario(ca)
    finally:
        code = ca.stop()

        def exited_zero() -> None:
            assert code == 0, f"exit status {code}; stderr:\n{(work / 'serve.stderr').read_text()[-2000:]}"

        check("SIGTERM stops mcpca serve with exit status 0", exited_zero)


def scenario(ca: Authority) -> None:
    url = ca.url

    def admin_token() -> None:
        path = ca.home / "admin-token"
        assert path.read_text().strip().startswith("mcpca_at_"), "no admin token in the file"
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == 0o600, f"mode {mode:o}"

    check("serve initialised the empty home and wrote <home>/admin-token (0600)", admin_token)

    secrets: dict[str, str] = {}

    def register() -> None:
        r = ca.cli("--quiet", "server", "add", NAME, "--url", ENDPOINT, "--verified")
        assert r.returncode == 0, r.stderr
        for client in (CLIENT, OTHER):
            r = ca.cli("--quiet", "client", "add", client, "--allow", NAME)
            assert r.returncode == 0, r.stderr
            secret = r.stdout.strip().splitlines()[-1].strip()
            assert secret.startswith("mcpca_cs_"), f"stdout {r.stdout!r}"
            secrets[client] = secret

    if not check("mcpca server add / client add against the serving home", register):
        return

    meta: dict[str, Any] = {}

    def metadata() -> None:
        r = requests.get(f"{url}/.well-known/oauth-authorization-server", timeout=10)
        r.raise_for_status()
        meta.update(r.json())
        iss = meta["issuer"].rstrip("/")
        for member, path in (
            ("token_endpoint", "/oauth/token"),
            ("introspection_endpoint", "/oauth/introspect"),
            ("revocation_endpoint", "/oauth/revoke"),
            ("jwks_uri", "/.well-known/jwks.json"),
        ):
            assert meta[member] == iss + path, f"{member} = {meta[member]!r}"
        assert meta["grant_types_supported"] == ["client_credentials"], meta["grant_types_supported"]
        for member in ("token_endpoint_auth_methods_supported", "introspection_endpoint_auth_methods_supported"):
            assert set(meta[member]) == {"client_secret_basic", "client_secret_post"}, meta[member]

    if not check("RFC 8414 metadata names /oauth/token, /oauth/introspect, /oauth/revoke and the JWKS", metadata):
        return
    issuer = meta["issuer"]

    # The service listens on an ephemeral port while its issuer is the configured URL: the
    # metadata's endpoint paths are used on the address actually served.
    def here(member: str) -> str:
        return url + urlsplit(meta[member]).path

    token_url, introspect_url, revoke_url = here("token_endpoint"), here("introspection_endpoint"), here("revocation_endpoint")
    jwks_client = jwt.PyJWKClient(here("jwks_uri"))

    def session(method: str, client: str = CLIENT, secret: str | None = None) -> OAuth2Session:
        return OAuth2Session(client, secret or secrets[client], token_endpoint_auth_method=method)

    def registered() -> None:
        # `serve` issues from an in-memory snapshot; changes made by another process (the CLI
        # above) reach it within its poll interval.
        deadline = time.monotonic() + 15
        while True:
            try:
                session("client_secret_basic").fetch_token(token_url, grant_type="client_credentials", resource=ENDPOINT)
                return
            except Exception:  # noqa: BLE001 - retried until the deadline
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.25)

    if not check("the running service sees the server and clients the CLI registered", registered):
        return

    tokens: dict[str, str] = {}
    for method, resource in (("client_secret_basic", ENDPOINT), ("client_secret_post", "HTTPS://Weather.ACME.dev:443/mcp/")):

        def fetch(method: str = method, resource: str = resource) -> None:
            sess, sent = session(method), []
            sess.hooks["response"].append(lambda r, *_, **__: sent.append(r.request))
            tok = sess.fetch_token(token_url, grant_type="client_credentials", resource=resource)
            # The request really used the method under test, and only it.
            basic = sent[-1].headers.get("Authorization", "").startswith("Basic ")
            in_body = "client_secret=" in (sent[-1].body or "")
            assert (basic, in_body) == ((True, False) if method == "client_secret_basic" else (False, True)), (basic, in_body)
            assert tok["token_type"].lower() == "bearer", tok
            assert tok["expires_in"] == 120, tok
            tokens[method] = tok["access_token"]

        if not check(f"Authlib client_credentials with {method}, resource={resource}", fetch):
            continue

        def pyjwt_verifies(method: str = method) -> None:
            token = tokens[method]
            header = jwt.get_unverified_header(token)
            assert header["alg"] == "EdDSA" and header["typ"] == "at+jwt", header
            key = jwks_client.get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                key,
                algorithms=["EdDSA"],
                audience=ENDPOINT,
                issuer=issuer,
                options={"require": ["iss", "sub", "aud", "exp", "iat", "nbf", "jti"]},
            )
            assert claims["sub"] == CLIENT and claims["client_id"] == CLIENT, claims
            assert claims["exp"] - claims["iat"] == 120, claims
            assert claims["mcp"]["server"]["id"] == NAME and claims["mcp"]["endpoint"] == ENDPOINT, claims["mcp"]

        check(f"PyJWT verifies the {method} token against /.well-known/jwks.json (aud = canonical endpoint)", pyjwt_verifies)

    def wrong_secret() -> None:
        code = oauth_error_of(
            lambda: session("client_secret_basic", secret="mcpca_cs_wrong").fetch_token(
                token_url, grant_type="client_credentials", resource=ENDPOINT
            )
        )
        assert code == "invalid_client", code

    check("a wrong client secret is invalid_client", wrong_secret)

    def unknown_resource() -> None:
        code = oauth_error_of(
            lambda: session("client_secret_post").fetch_token(
                token_url, grant_type="client_credentials", resource="https://unknown.example.com/mcp"
            )
        )
        assert code == "invalid_target", code

    check("an unregistered resource is invalid_target (RFC 8707)", unknown_resource)

    def wrong_grant() -> None:
        r = requests.post(
            token_url, data={"grant_type": "password", "resource": ENDPOINT}, auth=(CLIENT, secrets[CLIENT]), timeout=10
        )
        assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type", (r.status_code, r.text)
        assert r.headers.get("Cache-Control") == "no-store", r.headers

    check("grant_type=password is unsupported_grant_type", wrong_grant)

    token = tokens.get("client_secret_basic")
    if token is None:
        return
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]

    def introspect(tok: str, method: str = "client_secret_basic", client: str = CLIENT) -> dict[str, Any]:
        r = session(method, client).introspect_token(introspect_url, token=tok, token_type_hint="access_token")
        assert r.status_code == 200, (r.status_code, r.text)
        return r.json()

    def active() -> None:
        body = introspect(token)
        assert body["active"] is True, body
        assert body["sub"] == CLIENT and body["aud"] == ENDPOINT and body["iss"] == issuer and body["jti"] == jti, body
        assert body["token_type"] == "Bearer", body

    check("introspection (RFC 7662, client_secret_basic) says active with the claims", active)

    def tampered() -> None:
        h, p, s = token.split(".")
        forged = ".".join([h, p, ("A" if s[0] != "A" else "B") + s[1:]])
        body = introspect(forged, "client_secret_post")
        assert body == {"active": False}, body

    check("introspection of a tampered token says inactive", tampered)

    def foreign_revoke() -> None:
        r = session("client_secret_basic", OTHER).revoke_token(revoke_url, token=token)
        assert r.status_code == 400 and r.json()["error"] == "unauthorized_client", (r.status_code, r.text)

    check("another client cannot revoke the token (unauthorized_client)", foreign_revoke)

    def revoke() -> None:
        r = session("client_secret_basic").revoke_token(revoke_url, token=token, token_type_hint="access_token")
        assert r.status_code == 200 and r.content == b"", (r.status_code, r.text)
        body = introspect(token)
        assert body == {"active": False}, body

    check("revocation (RFC 7009) answers 200, then introspection says inactive", revoke)

    def junk_revoke() -> None:
        r = session("client_secret_post").revoke_token(revoke_url, token="not-a-token")
        assert r.status_code == 200, (r.status_code, r.text)

    check("revoking an invalid token answers 200", junk_revoke)

    def listed() -> None:
        r = ca.cli("-o", "json", "revocations")
        assert r.returncode == 0, r.stderr
        assert jti in r.stdout, r.stdout
        feed_jws = requests.get(f"{url}/v1/revocations", timeout=10).text
        key = jwks_client.get_signing_key_from_jwt(feed_jws)
        feed = jwt.decode(feed_jws, key, algorithms=["EdDSA"], options={"verify_aud": False, "verify_exp": False})
        assert any(e["kind"] == "jti" and e["id"] == jti for e in feed["entries"]), feed

    check("the jti is in `mcpca revocations` and in the signed feed /v1/revocations", listed)

    def other_token_still_valid() -> None:
        other = tokens.get("client_secret_post")
        assert other is not None
        assert introspect(other)["active"] is True

    check("the other token stays active", other_token_still_valid)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mcpca", required=True, help="the mcpca binary")
    ap.add_argument("--workdir", required=True, help="scratch directory (the home is created in it)")
    a = ap.parse_args()
    print(f"Authlib {authlib.__version__}, requests {requests.__version__}, PyJWT {jwt.__version__}")
    print("-- a standard OAuth client against mcpca serve")
    try:
        run(a)
    except Exception as e:  # noqa: BLE001 - a broken setup is a failure, not a traceback
        RESULTS["failed"] += 1
        print(f"FAIL  setup: {type(e).__name__}: {e}")
    print(f"{RESULTS['passed']} passed, {RESULTS['failed']} failed")
    return 1 if RESULTS["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
