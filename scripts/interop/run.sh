#!/usr/bin/env bash
# Interop check with a JWT library mcpca does not use: PyJWT verifies mcpca's Connect Descriptors
# against `mcpca key export --public`, and mcpca verifies tokens PyJWT signs.
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

# A Python environment of our own with the pinned PyJWT (+ cryptography, needed for EdDSA).
VENV=${VENV:-$target_dir/interop-venv}
if [[ ! -x $VENV/bin/python ]]; then
    echo "interop: creating venv $VENV" >&2
    "${PYTHON:-python3}" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$here/requirements.txt"
"$VENV/bin/python" -c 'import sys, jwt, cryptography; print(f"interop: Python {sys.version.split()[0]}, PyJWT {jwt.__version__}, cryptography {cryptography.__version__}")'

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

"$VENV/bin/python" "$here/pyjwt_verify.py" \
    --mcpca "$bin" --jwks "$work/jwks.json" --token "$work/token" --workdir "$work" \
    --issuer "$issuer" --audience "$url" --server-id "$name" --client ci-bot --tenant acme --ttl 300
