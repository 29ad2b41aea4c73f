#!/usr/bin/env bash
# Interop checks with libraries mcpca does not use:
#   1. PyJWT verifies mcpca's Connect Descriptors against `mcpca key export --public`, and mcpca
#      verifies tokens PyJWT signs (pyjwt_verify.py);
#   2. Authlib, a standard OAuth 2.0 client, gets descriptors from `mcpca serve` through
#      /oauth/token (client credentials + RFC 8707 resource), verifies them with PyJWT against the
#      served JWKS, introspects and revokes them (oauth_client.py).
# Prints every check and a total "N passed, M failed"; exits 1 if anything failed.
#
#   bash scripts/interop/run.sh                      # builds target/release/mcpca
#   MCPCA_BIN=target/debug/mcpca bash scripts/interop/run.sh
#
# Environment: MCPCA_BIN (skip the build), VENV (the Python venv; default under the target dir),
# PYTHON (default python3). Creates its own temporary MCPCA_HOME and removes it afterwards.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}
case $target_dir in /*) ;; *) target_dir=$root/$target_dir ;; esac

if [[ -n ${MCPCA_BIN:-} ]]; then
    bin=$MCPCA_BIN
else
    echo "interop: cargo build --release --locked" >&2
    (cd "$root" && cargo build --release --locked --bin mcpca)
    bin=$target_dir/release/mcpca
fi
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
[[ -x $bin ]] || { echo "interop: no executable at $bin" >&2; exit 2; }

# A Python environment of our own with the pinned PyJWT (+ cryptography, needed for EdDSA),
# Authlib and the MCP Python SDK. --no-deps installs exactly the pinned list; `pip check` then
# fails if a dependency is missing from it.
VENV=${VENV:-$target_dir/interop-venv}
if [[ ! -x $VENV/bin/python ]]; then
    echo "interop: creating venv $VENV" >&2
    "${PYTHON:-python3}" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input --no-deps -r "$here/requirements.txt"
"$VENV/bin/python" -m pip check --disable-pip-version-check >&2
"$VENV/bin/python" -c 'import sys, jwt, cryptography, authlib; from importlib.metadata import version; mcp = version("mcp"); print(f"interop: Python {sys.version.split()[0]}, PyJWT {jwt.__version__}, cryptography {cryptography.__version__}, Authlib {authlib.__version__}, mcp {mcp}")'

work=$(mktemp -d "${TMPDIR:-/tmp}/mcpca-interop.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Only our own settings: a fresh home, no config or clock of the caller's.
unset MCPCA_CONFIG MCPCA_OUTPUT MCPCA_NOW MCPCA_KEK
export MCPCA_HOME=$work/home

name=io.github.acme/weather
url=https://weather.acme.dev/mcp
issuer=http://127.0.0.1:8421 # the default of `mcpca init`

echo "interop: $("$bin" --version) in $MCPCA_HOME" >&2
"$bin" --quiet init
"$bin" --quiet server add "$name" --url "$url" --verified >/dev/null
# Issuance is for registered clients only (stdout is the client's secret, not needed here).
"$bin" --quiet client add ci-bot --tenant acme --allow "$name" >/dev/null
"$bin" key export --public >"$work/jwks.json"
"$bin" issue --server "$name" --ttl 5m --client ci-bot --tenant acme >"$work/token"

status=0
"$VENV/bin/python" "$here/pyjwt_verify.py" \
    --mcpca "$bin" --jwks "$work/jwks.json" --token "$work/token" --workdir "$work" \
    --issuer "$issuer" --audience "$url" --server-id "$name" --client ci-bot --tenant acme --ttl 300 \
    | tee "$work/pyjwt.out" || status=1

# A standard OAuth client against `mcpca serve` on a home of its own (the script starts and stops it).
"$VENV/bin/python" "$here/oauth_client.py" --mcpca "$bin" --workdir "$work" | tee "$work/oauth.out" || status=1

# The TypeScript recipe as a server: the pinned npm packages (ts/package-lock.json) in a
# node_modules of our own under the target dir, installed again when the lock file changes.
ts_server=
if command -v node >/dev/null && command -v npm >/dev/null; then
    NODE_DIR=${NODE_DIR:-$target_dir/interop-node}
    mkdir -p "$NODE_DIR"
    if ! cmp -s "$here/ts/package-lock.json" "$NODE_DIR/package-lock.json" || [[ ! -d $NODE_DIR/node_modules ]]; then
        echo "interop: npm ci in $NODE_DIR" >&2
        cp "$here/ts/package.json" "$here/ts/package-lock.json" "$NODE_DIR/"
        (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error >&2)
    fi
    cp "$here/ts/echo_server.mjs" "$here/ts/tsconfig.json" "$NODE_DIR/"
    ts_server=$NODE_DIR/echo_server.mjs
    echo "interop: Node $(node --version), $(cd "$NODE_DIR" && node -p 'const v = (p) => JSON.parse(require("fs").readFileSync(`node_modules/${p}/package.json`)).version; `@modelcontextprotocol/sdk ${v("@modelcontextprotocol/sdk")}, jose ${v("jose")}`')" >&2
else
    echo "interop: no node/npm: the TypeScript server is skipped" >&2
fi

# The official MCP Python SDK against MCP servers verifying descriptors (each with its own
# `mcpca serve`): the Python SDK's server, the TypeScript SDK's, then the Rust example when
# GUARDED_SERVER_BIN is built.
guarded=${GUARDED_SERVER_BIN:-}
if [[ -n $guarded ]]; then case $guarded in /*) ;; *) guarded=$PWD/$guarded ;; esac; fi
"$VENV/bin/python" "$here/mcp_sdk.py" --mcpca "$bin" --workdir "$work" --ts-server "$ts_server" \
    --guarded-server "$guarded" | tee "$work/mcp-sdk.out" || status=1

# The recipes of the docs are the code tested above (Python) and type-check (TypeScript).
"$VENV/bin/python" "$here/docs_recipes.py" --root "$root" ${ts_server:+--ts-dir "$NODE_DIR"} \
    | tee "$work/docs.out" || status=1

# One total over the scripts (each printed its own "N passed, M failed" last).
passed=0 failed=0
for out in "$work/pyjwt.out" "$work/oauth.out" "$work/mcp-sdk.out" "$work/docs.out"; do
    read -r p f < <(sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$/\1 \2/p' "$out" | tail -n 1) || true
    if [[ -z ${p:-} ]]; then
        echo "interop: no result line from $(basename "$out" .out)" >&2
        failed=$((failed + 1))
    else
        passed=$((passed + p)) failed=$((failed + f))
    fi
    unset p f
done
echo "-- total of all scripts"
echo "$passed passed, $failed failed"
[[ $status -eq 0 && $failed -eq 0 ]] || exit 1
