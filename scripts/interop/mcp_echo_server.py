#!/usr/bin/env python3
"""An MCP server on the official Python SDK (PyPI `mcp`, streamable HTTP) that accepts only
mcpca Connect Descriptors, checked locally against the authority's JWKS.

One tool, `echo` ({"text": str} -> the text). The SDK's auth hook is `TokenVerifier`
(`mcp.server.auth.provider`): its `verify_token(token)` returns an `AccessToken`, or None, which the
SDK answers with 401 `invalid_token`. `DescriptorVerifier` below is the recipe of
docs/verifying.md, checked by scripts/interop/run.sh:

  - at most 8 KiB; header alg EdDSA (or Ed25519), typ at+jwt, a kid, no crit/jku/x5u/jwk;
  - the key by kid from the JWKS (PyJWT's PyJWKClient: the set is cached, an unknown kid refetches
    at most once per 30 s, and the last good set is kept while the authority is unreachable);
  - signature (Ed25519), iss, aud = this server's own endpoint URL, exp/nbf with 15 s leeway,
    exp - iat <= 24 h, jti present, mcp.server.id = --server-id.

The SDK's bearer middleware reads `Authorization: Bearer` only. `--header either` (the default)
also accepts the descriptor in the `MCP-Connect` request header (the HAPI convention of DESIGN
§3) by a small ASGI shim in front of the SDK's app that turns `MCP-Connect: <jwt>` into
`Authorization: Bearer <jwt>` when no Authorization header is present.

    mcp_echo_server.py --issuer URL --jwks-url URL [--server-id NAME] [--header either|authorization]
        [--jwks-cache-seconds S]

Listens on a free loopback port and prints its endpoint URL (http://127.0.0.1:PORT/mcp) as the first
line of stdout. SIGTERM or Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys
import time
from typing import Any

import anyio
import anyio.to_thread
import jwt
import uvicorn
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger("mcp_echo_server")

MAX_DESCRIPTOR_BYTES = 8 * 1024
LEEWAY_SECONDS = 15
MAX_LIFETIME_SECONDS = 24 * 3600
FORBIDDEN_HEADERS = ("crit", "jku", "x5u", "jwk")


class LastGoodJWKClient(jwt.PyJWKClient):
    """PyJWKClient that keeps serving the last JWKS it fetched while the authority is unreachable
    (PyJWKClient alone drops its cache after `lifespan` seconds and then fails every request)."""

    def __init__(self, uri: str, **kwargs: Any) -> None:
        super().__init__(uri, **kwargs)
        self._last_good: Any = None

    def fetch_data(self) -> Any:
        try:
            data = super().fetch_data()
        except jwt.PyJWKClientConnectionError:
            if self._last_good is None:
                raise
            log.warning("JWKS unreachable; using the last good key set")
            return self._last_good
        self._last_good = data
        return data


class DescriptorVerifier:
    """The SDK's TokenVerifier for mcpca Connect Descriptors."""

    def __init__(
        self, *, issuer: str, jwks_url: str, audience: str, server_id: str | None, jwks_cache_seconds: float = 300
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.server_id = server_id
        # lifespan: how long a fetched JWKS is used before it is fetched again (mcpca serves it
        # with a Cache-Control max-age); cooldown_duration: at most one refetch per 30 s for an
        # unknown kid (DESIGN §3 step 3).
        self.jwks = LastGoodJWKClient(jwks_url, lifespan=jwks_cache_seconds, cooldown_duration=30, timeout=5)

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            claims = await anyio.to_thread.run_sync(self._verify, token)
        except Exception as e:  # every failure is a 401; the reason is logged, never the token
            log.info("descriptor refused: %s (%s: %s)", refusal_code(e), type(e).__name__, e)
            return None
        return AccessToken(
            token=token,
            client_id=claims.get("client_id", claims["sub"]),
            subject=claims["sub"],
            scopes=claims.get("scope", "").split(),
            expires_at=claims["exp"],
            resource=claims["aud"],
            claims={"iss": claims["iss"], "jti": claims["jti"], "mcp": claims["mcp"]},
        )

    def _verify(self, token: str) -> dict[str, Any]:
        if len(token) > MAX_DESCRIPTOR_BYTES:
            raise jwt.InvalidTokenError("descriptor larger than 8 KiB")
        header = jwt.get_unverified_header(token)
        if header.get("alg") not in ("EdDSA", "Ed25519") or header.get("typ") != "at+jwt" or not header.get("kid"):
            raise jwt.InvalidTokenError(f"header {header.get('alg')!r}/{header.get('typ')!r}: not an EdDSA at+jwt with a kid")
        if any(h in header for h in FORBIDDEN_HEADERS):
            raise jwt.InvalidTokenError("crit/jku/x5u/jwk headers are refused")
        key = self.jwks.get_signing_key(header["kid"])
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=["EdDSA", "Ed25519"],
            issuer=self.issuer,
            audience=self.audience,
            leeway=LEEWAY_SECONDS,
            options={"require": ["iss", "sub", "aud", "exp", "iat", "nbf", "jti"]},
        )
        if claims["exp"] - claims["iat"] > MAX_LIFETIME_SECONDS:
            raise jwt.InvalidTokenError("lifetime above 24 h")
        mcp = claims.get("mcp")
        if not isinstance(mcp, dict) or not isinstance(mcp.get("server"), dict):
            raise jwt.InvalidTokenError("no mcp.server claim")
        if self.server_id is not None and mcp["server"].get("id") != self.server_id:
            raise jwt.InvalidAudienceError(f"mcp.server.id {mcp['server'].get('id')!r} is not this server")
        return claims


def refusal_code(e: Exception) -> str:
    """DESIGN §3's failure code for a refused descriptor."""
    if isinstance(e, jwt.ExpiredSignatureError):
        return "descriptor_expired"
    if isinstance(e, jwt.InvalidAudienceError):
        return "descriptor_wrong_audience"
    return "descriptor_invalid"


class McpConnectHeader:
    """ASGI shim: a request with `MCP-Connect: <jwt>` and no Authorization header reaches the SDK's
    bearer middleware as `Authorization: Bearer <jwt>`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = scope["headers"]
            names = {name.lower() for name, _ in headers}
            if b"authorization" not in names:
                connect = next((v for n, v in headers if n.lower() == b"mcp-connect"), None)
                if connect is not None:
                    scope = dict(scope, headers=[*headers, (b"authorization", b"Bearer " + connect.strip())])
        await self.app(scope, receive, send)


def build_app(
    *, endpoint: str, issuer: str, jwks_url: str, server_id: str | None, header: str, jwks_cache_seconds: float
) -> Any:
    verifier = DescriptorVerifier(
        issuer=issuer, jwks_url=jwks_url, audience=endpoint, server_id=server_id, jwks_cache_seconds=jwks_cache_seconds
    )
    server = MCPServer(
        name="mcpca-interop-echo",
        token_verifier=verifier,
        auth=AuthSettings(
            issuer_url=issuer,
            resource_server_url=endpoint,
            # The verifier checks `aud` itself (PyJWT's audience=); the SDK compares again.
            validate_token_resource=True,
        ),
    )

    @server.tool()
    def echo(text: str) -> str:
        """Return the text unchanged."""
        return text

    app = server.streamable_http_app(host="127.0.0.1")
    return McpConnectHeader(app) if header == "either" else app


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--issuer", required=True, help="the authority's issuer URL (the descriptors' iss)")
    ap.add_argument("--jwks-url", required=True, help="the authority's JWKS, e.g. http://127.0.0.1:8421/.well-known/jwks.json")
    ap.add_argument("--server-id", help="this server's registry name (mcp.server.id); unchecked when absent")
    ap.add_argument("--jwks-cache-seconds", type=float, default=300, help="how long a fetched JWKS is used (default 300)")
    ap.add_argument("--header", choices=("either", "authorization"), default="either", help="where descriptors are read")
    a = ap.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    # Bind first: the endpoint URL (the audience every descriptor must name) includes the port.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)  # connections queue from now on, before uvicorn accepts them
    endpoint = f"http://127.0.0.1:{sock.getsockname()[1]}/mcp"
    app = build_app(
        endpoint=endpoint, issuer=a.issuer, jwks_url=a.jwks_url, server_id=a.server_id, header=a.header,
        jwks_cache_seconds=a.jwks_cache_seconds,
    )
    print(endpoint, flush=True)

    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    started = time.monotonic()
    uvicorn.Server(config).run(sockets=[sock])
    log.info("stopped after %.1fs", time.monotonic() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
