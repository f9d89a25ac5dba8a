#!/usr/bin/env bash
# Run tools/core_prevouts.py (Bitcoin Core undo-data prevout dump) in its own virtualenv.
#
# Creates the venv at ${CHAINHOUND_PYENV:-$HOME/.cache/chainhound/pyenv} if missing, makes
# sure the pinned py-bitcoinkernel (libbitcoinkernel bindings, import name pbk) is installed
# in it, then execs the tool with all arguments passed through:
#
#   tools/core_prevouts.sh DATADIR --chain mainnet|testnet|testnet4|signet|regtest [--out FILE]
#
# Needs only python3 (with the venv module) and network access to PyPI on first run; reruns
# skip pip entirely when the pinned version is already importable. py-bitcoinkernel ships
# prebuilt wheels only (CPython 3.10-3.13, Linux x86_64 at the pinned version), so the
# install is binary-only: no attempt to compile Bitcoin Core from source.
set -euo pipefail

PBK_REQ="py-bitcoinkernel==0.1.0a5"
PBK_VERSION="${PBK_REQ##*==}"
PYENV="${CHAINHOUND_PYENV:-$HOME/.cache/chainhound/pyenv}"
TOOL="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/core_prevouts.py"

die() { echo "core_prevouts.sh: $*" >&2; exit 1; }

command -v python3 >/dev/null 2>&1 || die "python3 not found"
PY="$PYENV/bin/python"

# The venv is ready when it imports pbk at exactly the pinned version.
ready() {
    [ -x "$PY" ] && "$PY" - "$PBK_VERSION" <<'EOF' >/dev/null 2>&1
import sys
from importlib.metadata import version
import pbk  # noqa: F401  (the native library must load, not just the metadata exist)
sys.exit(version("py-bitcoinkernel") != sys.argv[1])
EOF
}

if ! ready; then
    if ! "$PY" -m pip --version >/dev/null 2>&1; then
        # Missing, or left half-made (no pip) by an earlier failed attempt: (re)create it, but
        # never wipe a directory that is not a virtualenv.
        if [ -e "$PYENV" ] && [ -n "$(ls -A "$PYENV" 2>/dev/null)" ] && [ ! -f "$PYENV/pyvenv.cfg" ]; then
            die "$PYENV exists and is not a virtualenv; remove it or set CHAINHOUND_PYENV elsewhere"
        fi
        mkdir -p "$(dirname "$PYENV")"
        python3 -m venv --clear "$PYENV" \
            || die "could not create a virtualenv at $PYENV (on Debian/Ubuntu: apt-get install python3-venv)"
    fi
    "$PY" -m pip install --quiet --disable-pip-version-check --only-binary=:all: "$PBK_REQ" \
        || die "pip install $PBK_REQ failed into $PYENV (needs PyPI access and a prebuilt wheel for $("$PY" -c 'import sys, platform; print(f"CPython {sys.version_info[0]}.{sys.version_info[1]} {platform.machine()}")'))"
    ready || die "$PBK_REQ installed into $PYENV but 'import pbk' still fails"
fi

# `--setup`: only make sure the virtualenv is ready (used by tools/test.sh).
if [ "${1:-}" = "--setup" ]; then
    echo "core_prevouts.sh: py-bitcoinkernel ready in $PYENV"
    exit 0
fi

exec "$PY" "$TOOL" "$@"
