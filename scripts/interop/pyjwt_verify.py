#!/usr/bin/env python3
"""Interop check of mcpca's Connect Descriptors against PyJWT, a JWT library mcpca does not use.

Run by scripts/interop/run.sh, which prepares an authority (MCPCA_HOME), its JWKS and one
descriptor. This script then checks, with PyJWT only:

  forward  mcpca signs, PyJWT verifies: signature under the JWKS key whose kid is in the header,
           typ, the claims of DESIGN §3, the RFC 7638 thumbprint of every kid; a tampered
           payload, a wrong audience or issuer fail; after `mcpca key revoke` the re-exported
           JWKS no longer has the kid, so the old descriptor cannot be verified.
  reverse  PyJWT signs with its own Ed25519 key, `mcpca verify --jwks` accepts it (exit 0) and
           refuses it once expired (exit 1, via MCPCA_NOW, mcpca's injected clock).

Prints one line per check and "N passed, M failed"; exits 1 if anything failed.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Callable

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

RESULTS = {"passed": 0, "failed": 0}


def check(name: str, fn: Callable[[], Any]) -> Any:
    """Run one check: it passes unless it raises (AssertionError or anything else).

    Returns the check's value (True when it returns nothing), or None when it failed."""
    try:
        value = fn()
    except Exception as e:  # noqa: BLE001 - every failure is reported, not raised
        RESULTS["failed"] += 1
        print(f"FAIL  {name}: {type(e).__name__}: {e}")
        return None
    RESULTS["passed"] += 1
    print(f"ok    {name}")
    return True if value is None else value


def expect_raises(exc: type[BaseException], fn: Callable[[], Any]) -> str:
    try:
        fn()
    except exc as e:
        return f"{type(e).__name__}: {e}"
    raise AssertionError(f"expected {exc.__name__}, but it succeeded")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def rfc7638_thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 §3 for an OKP key: the required members, sorted, no whitespace, SHA-256."""
    required = {"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"]}
    canonical = json.dumps(required, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return b64url(hashlib.sha256(canonical.encode("utf-8")).digest())


def thumbprints(raw: dict[str, Any]) -> None:
    for k in raw["keys"]:
        assert k["kty"] == "OKP" and k["crv"] == "Ed25519", f"not an Ed25519 OKP key: {k}"
        assert "d" not in k, "a private member is published"
        got = rfc7638_thumbprint(k)
        assert got == k["kid"], f"kid {k['kid']} is not the RFC 7638 thumbprint {got}"


def run_mcpca(binary: str, *args: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "MCPCA_NOW"}
    env.update(env_extra or {})
    return subprocess.run([binary, *args], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)


def load_jwks(path: Path) -> tuple[dict[str, Any], jwt.PyJWKSet]:
    raw = json.loads(path.read_text())
    return raw, jwt.PyJWKSet.from_dict(raw)


def decode(token: str, key: jwt.PyJWK, *, audience: str, issuer: str) -> dict[str, Any]:
    return jwt.decode(
        token,
        key,
        algorithms=["EdDSA"],
        audience=audience,
        issuer=issuer,
        leeway=15,
        options={"require": ["exp", "iat", "nbf", "jti", "iss", "aud"]},
    )


def forward(a: argparse.Namespace) -> None:
    token = Path(a.token).read_text().strip()
    raw, jwks = load_jwks(Path(a.jwks))

    def every_key_usable() -> None:
        assert len(raw["keys"]) >= 1, "the JWKS has no keys"
        assert len(jwks.keys) == len(raw["keys"]), f"PyJWT skipped keys: {len(jwks.keys)} of {len(raw['keys'])} usable"

    check("PyJWKSet loads every key of `key export --public`", every_key_usable)

    def rfc8037_vector() -> None:
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
        assert rfc7638_thumbprint(jwk) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k", "RFC 8037 A.3 thumbprint"

    check("the Python thumbprint matches RFC 8037 Appendix A.3", rfc8037_vector)
    check("every kid is the RFC 7638 thumbprint of its key", lambda: thumbprints(raw))

    header = jwt.get_unverified_header(token)

    def header_ok() -> None:
        assert header.get("alg") == "EdDSA", f"alg {header.get('alg')!r}"
        assert header.get("typ") == "at+jwt", f"typ {header.get('typ')!r}"
        assert isinstance(header.get("kid"), str), "no kid"
        assert set(header) == {"alg", "typ", "kid"}, f"unexpected header members {sorted(header)}"

    check('header is {"alg":"EdDSA","typ":"at+jwt","kid":…}', header_ok)
    kid = header.get("kid", "")
    key = check("the header's kid is in the JWKS", lambda: jwks[kid])
    if key is None:
        return
    claims = check(
        "jwt.decode verifies signature, aud, iss, exp/nbf/iat and required claims",
        lambda: decode(token, key, audience=a.audience, issuer=a.issuer),
    )
    if claims is not None:

        def claims_ok() -> None:
            mcp = claims["mcp"]
            assert mcp["server"]["id"] == a.server_id, f"mcp.server.id {mcp['server']['id']!r}"
            assert mcp["transport"] == "streamable_http", f"mcp.transport {mcp['transport']!r}"
            assert mcp["endpoint"] == a.audience, f"mcp.endpoint {mcp['endpoint']!r}"
            assert isinstance(mcp["server"]["version"], str) and mcp["server"]["version"], "mcp.server.version"
            assert mcp["server"]["verified"] is True, "mcp.server.verified should be true (--verified)"
            assert claims["client"]["tenant"] == a.tenant, f"client.tenant {claims['client'].get('tenant')!r}"
            assert claims["client"]["id"] == a.client, f"client.id {claims['client']['id']!r}"
            assert claims["sub"] == claims["client_id"] == a.client, f"sub {claims['sub']!r} client_id {claims.get('client_id')!r}"
            assert claims["exp"] - claims["iat"] == a.ttl, f"exp - iat = {claims['exp'] - claims['iat']}, want {a.ttl}"
            assert claims["nbf"] == claims["iat"], "nbf != iat"
            assert uuid.UUID(claims["jti"]).version == 7, "jti is not a UUIDv7"

        check("claims: mcp.server.id, mcp.transport, client.tenant, sub == client_id, exp - iat", claims_ok)

    # Negative cases.
    h, p, s = token.split(".")

    def tampered() -> str:
        payload = json.loads(b64url_decode(p))
        payload["client"]["tenant"] = "evil"
        forged = f"{h}.{b64url(json.dumps(payload, separators=(',', ':')).encode())}.{s}"
        return expect_raises(jwt.InvalidSignatureError, lambda: decode(forged, key, audience=a.audience, issuer=a.issuer))

    check("a token with an altered payload fails (InvalidSignatureError)", tampered)

    def flipped_signature() -> str:
        sig = bytearray(b64url_decode(s))
        sig[0] ^= 1
        forged = f"{h}.{p}.{b64url(bytes(sig))}"
        return expect_raises(jwt.InvalidSignatureError, lambda: decode(forged, key, audience=a.audience, issuer=a.issuer))

    check("a token with an altered signature fails (InvalidSignatureError)", flipped_signature)
    check(
        "a wrong audience fails (InvalidAudienceError)",
        lambda: expect_raises(jwt.InvalidAudienceError, lambda: decode(token, key, audience="https://other.acme.dev/mcp", issuer=a.issuer)),
    )
    check(
        "a wrong issuer fails (InvalidIssuerError)",
        lambda: expect_raises(jwt.InvalidIssuerError, lambda: decode(token, key, audience=a.audience, issuer="https://evil.example")),
    )
    other = [k for k in jwks.keys if k.key_id != kid]
    if other:
        check(
            "another published key does not verify it (InvalidSignatureError)",
            lambda: expect_raises(jwt.InvalidSignatureError, lambda: decode(token, other[0], audience=a.audience, issuer=a.issuer)),
        )

    # Revoke the key that signed the descriptor, re-export, and PyJWT must not find it.
    revoked_jwks = Path(a.workdir) / "jwks-after-revoke.json"

    def revoke_and_reexport() -> None:
        r = run_mcpca(a.mcpca, "key", "revoke", kid, "--yes", "--reason", "interop test")
        assert r.returncode == 0, f"key revoke exited {r.returncode}: {r.stderr.strip()}"
        r = run_mcpca(a.mcpca, "key", "export", "--public")
        assert r.returncode == 0, f"key export exited {r.returncode}: {r.stderr.strip()}"
        revoked_jwks.write_text(r.stdout)

    if check(f"mcpca key revoke {kid[:8]}… --yes, then key export --public", revoke_and_reexport) is not None:
        raw2, jwks2 = load_jwks(revoked_jwks)

        def kid_gone() -> str:
            assert all(k["kid"] != kid for k in raw2["keys"]), "the revoked kid is still published"
            assert len(jwks2.keys) == len(raw2["keys"]), "PyJWT skipped keys of the new JWKS"
            return expect_raises(KeyError, lambda: jwks2[kid])

        check("the revoked key's kid is not found in the re-exported JWKS (PyJWKSet KeyError)", kid_gone)
        check(
            "the descriptor of the revoked key verifies under no key of the re-exported JWKS",
            lambda: [expect_raises(jwt.InvalidSignatureError, lambda k=k: decode(token, k, audience=a.audience, issuer=a.issuer)) for k in jwks2.keys],
        )
        check("the re-exported kids are still RFC 7638 thumbprints", lambda: thumbprints(raw2))


def reverse(a: argparse.Namespace) -> None:
    """PyJWT signs, mcpca verifies."""
    work = Path(a.workdir)
    empty_home = work / "empty-home"  # mcpca verify --jwks --issuer must not need an authority
    empty_home.mkdir(exist_ok=True)
    env = {"MCPCA_HOME": str(empty_home)}

    private_key = Ed25519PrivateKey.generate()
    jwk = OKPAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    jwk.update({"kid": rfc7638_thumbprint(jwk), "alg": "EdDSA", "use": "sig"})
    jwks_path = work / "pyjwt-jwks.json"
    jwks_path.write_text(json.dumps({"keys": [jwk]}, indent=2))

    issuer, audience, ttl = "https://ca.python.example", a.audience, 300
    now = int(time.time())
    claims = {
        "iss": issuer,
        "sub": "py-client",
        "client_id": "py-client",
        "aud": audience,
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
        "jti": str(uuid.uuid4()),
        "mcp": {
            "transport": "streamable_http",
            "endpoint": audience,
            "server": {"id": a.server_id, "version": "1.0.0", "verified": True},
        },
        "client": {"id": "py-client", "tenant": a.tenant},
    }
    token = jwt.encode(claims, private_key, algorithm="EdDSA", headers={"kid": jwk["kid"], "typ": "at+jwt"})
    # PyJWT can read back what it wrote (so a failure below is mcpca's, not the fixture's).
    check("PyJWT verifies its own token", lambda: decode(token, jwt.PyJWK(jwk), audience=audience, issuer=issuer))

    def verify(tok: str, at: int, aud: str = audience, jwks: Path = jwks_path) -> subprocess.CompletedProcess[str]:
        return run_mcpca(
            a.mcpca,
            "verify",
            tok,
            "--audience",
            aud,
            "--issuer",
            issuer,
            "--server-id",
            a.server_id,
            "--jwks",
            str(jwks),
            env_extra={**env, "MCPCA_NOW": str(at)},
        )

    def exits(tok: str, at: int, code: int, needle: str | None = None, **kw: Any) -> None:
        r = verify(tok, at, **kw)
        assert r.returncode == code, f"exit {r.returncode}, want {code}; stderr: {r.stderr.strip()}"
        if needle is not None:
            assert needle in r.stderr, f"{needle!r} not in stderr: {r.stderr.strip()}"

    check("mcpca verify accepts the PyJWT token (exit 0)", lambda: exits(token, now + 60, 0))
    check("mcpca verify accepts it within the 15 s leeway after exp (exit 0)", lambda: exits(token, now + ttl + 14, 0))
    check(
        "mcpca verify refuses it once expired (MCPCA_NOW past exp + leeway: exit 1, descriptor_expired)",
        lambda: exits(token, now + ttl + 15, 1, "descriptor_expired"),
    )
    check(
        "mcpca verify refuses a wrong audience (exit 1, descriptor_wrong_audience)",
        lambda: exits(token, now + 60, 1, "descriptor_wrong_audience", aud="https://other.acme.dev/mcp"),
    )
    h, p, s = token.split(".")
    forged_claims = dict(claims, sub="admin", client_id="admin")
    forged = f"{h}.{b64url(json.dumps(forged_claims).encode())}.{s}"
    check("mcpca verify refuses an altered payload (exit 1, descriptor_invalid)", lambda: exits(forged, now + 60, 1, "descriptor_invalid"))

    # A JWT header PyJWT writes with the default typ "JWT" is not a descriptor.
    plain = jwt.encode(claims, private_key, algorithm="EdDSA", headers={"kid": jwk["kid"]})
    check('mcpca verify refuses typ "JWT" (exit 1, descriptor_invalid)', lambda: exits(plain, now + 60, 1, "descriptor_invalid"))
    check(
        "mcpca verify cannot check with a missing JWKS file (exit 2)",
        lambda: exits(token, now + 60, 2, jwks=work / "no-such-jwks.json"),
    )

    def inspect_valid() -> None:
        r = run_mcpca(a.mcpca, "inspect", token, "--jwks", str(jwks_path), "-o", "json", env_extra=env)
        assert r.returncode == 0, f"inspect exited {r.returncode}: {r.stderr.strip()}"
        status = json.loads(r.stdout)["signature"]["status"]
        assert status == "valid", f"signature status {status!r}"

    check("mcpca inspect --jwks reports the PyJWT signature valid", inspect_valid)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mcpca", required=True, help="the mcpca binary")
    ap.add_argument("--jwks", required=True, help="`mcpca key export --public` output")
    ap.add_argument("--token", required=True, help="file holding the descriptor from `mcpca issue`")
    ap.add_argument("--workdir", required=True, help="scratch directory")
    ap.add_argument("--issuer", required=True)
    ap.add_argument("--audience", required=True)
    ap.add_argument("--server-id", required=True)
    ap.add_argument("--client", required=True)
    ap.add_argument("--tenant", required=True)
    ap.add_argument("--ttl", type=int, required=True, help="granted TTL in seconds")
    a = ap.parse_args()

    print(f"PyJWT {jwt.__version__}")
    print("-- mcpca signs, PyJWT verifies")
    forward(a)
    print("-- PyJWT signs, mcpca verifies")
    reverse(a)
    print(f"{RESULTS['passed']} passed, {RESULTS['failed']} failed")
    return 1 if RESULTS["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
