"""The Python baseline of scripts/bench: the issuance service a user might write instead of
`mcpca serve` — PyJWT signing EdDSA tokens in a small ASGI app (Starlette on uvicorn).

POST /v1/connect   bearer client secret (SHA-256 compared in constant time), JSON body
                   {"server_ref": NAME}, a server looked up in a dict; answers a signed JWT with
                   the claims of a Connect Descriptor (fresh iat/nbf/exp/jti), like mcpca's.
POST /v1/verify    bearer JWT; PyJWT verifies it (EdDSA, issuer, audience, exp/nbf) and answers
                   its subject.

No store, no audit, no rate limit, no revocation: it is a floor a user could reach in Python,
not an equivalent of mcpca. Settings come from the environment: BENCH_SEED (64 hex digits:
the Ed25519 seed, the same in every worker), BENCH_SECRET (the client secret).
"""

import hashlib
import hmac
import os
import time
import uuid

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

ISSUER = "http://127.0.0.1:8421"
KEY = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(os.environ["BENCH_SEED"]))
PUBLIC = KEY.public_key()
KID = "bench"
SECRET_HASH = hashlib.sha256(os.environ["BENCH_SECRET"].encode()).digest()
SERVERS = {
    "io.github.bench/server": {
        "endpoint": "https://bench.example.com/mcp",
        "version": "1.0.0",
        "verified": True,
    }
}


def bearer(request):
    auth = request.headers.get("authorization", "")
    return auth[7:] if auth[:7].lower() == "bearer " else None


async def connect(request):
    secret = bearer(request)
    if secret is None or not hmac.compare_digest(hashlib.sha256(secret.encode()).digest(), SECRET_HASH):
        return JSONResponse({"error": "unauthorized"}, status_code=401)
    body = await request.json()
    name = body.get("server_ref") if isinstance(body, dict) else None
    server = SERVERS.get(name)
    if server is None:
        return JSONResponse({"error": "server_not_found"}, status_code=404)
    now = int(time.time())
    jti = str(uuid.uuid4())
    claims = {
        "iss": ISSUER,
        "sub": "bench",
        "client_id": "bench",
        "aud": server["endpoint"],
        "iat": now,
        "nbf": now,
        "exp": now + 120,
        "jti": jti,
        "mcp": {
            "transport": "streamable_http",
            "endpoint": server["endpoint"],
            "server": {"id": name, "version": server["version"], "verified": server["verified"]},
        },
        "client": {"id": "bench"},
    }
    token = jwt.encode(claims, KEY, algorithm="EdDSA", headers={"kid": KID, "typ": "at+jwt"})
    return JSONResponse({"descriptor": token, "jti": jti, "expires_at": now + 120})


async def verify(request):
    token = bearer(request)
    if token is None:
        return JSONResponse({"error": "unauthorized"}, status_code=401)
    try:
        claims = jwt.decode(
            token,
            PUBLIC,
            algorithms=["EdDSA"],
            audience="https://bench.example.com/mcp",
            issuer=ISSUER,
            options={"require": ["exp", "iat", "nbf", "jti"]},
        )
    except jwt.InvalidTokenError as e:
        return JSONResponse({"error": "invalid_token", "error_description": str(e)}, status_code=401)
    return JSONResponse({"active": True, "sub": claims["sub"], "jti": claims["jti"]})


app = Starlette(routes=[Route("/v1/connect", connect, methods=["POST"]), Route("/v1/verify", verify, methods=["POST"])])
