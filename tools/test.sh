#!/usr/bin/env bash
# chainhound's whole test suite, runnable on a fresh machine: it installs what
# it needs (py-bitcoinkernel, in its own virtualenv, for the Bitcoin Core
# cross-checks; graphsense-lib, in another, to validate exported TagPacks), checks formatting and lints, then runs every test.
# Needs: a Rust toolchain (cargo), python3 with venv, and ../shared beside the
# repository (real blocks, sanctions lists... see ../shared/data/README.md).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ ! -f ../shared/data/blocks/mainnet_h0-4312.dat ]; then
    echo "tools/test.sh: ../shared/data is missing: the tests read real data from the shared folder beside this repository" >&2
    exit 1
fi
command -v cargo >/dev/null || { echo "tools/test.sh: cargo not found (install a Rust toolchain with rustup)" >&2; exit 1; }

echo "== setup: py-bitcoinkernel (Bitcoin Core's validation library) for the cross-checks"
bash tools/core_prevouts.sh --setup
echo "== setup: graphsense-lib (GraphSense's TagPack validator) for the TagPack export check"
bash tools/tagpack_validate.sh --setup

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== cargo test"
cargo test --workspace --locked
