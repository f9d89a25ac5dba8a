#!/usr/bin/env bash
# Validate TagPacks with GraphSense's own validator (graphsense-lib's
# `graphsense-cli tagpack-tool tagpack validate`), in its own virtualenv.
#
#   tools/tagpack_validate.sh [--setup] FILE...
#
# The venv lives at ${CHAINHOUND_GS_VENV:-$HOME/.cache/chainhound/gsvalid}. With --setup (or
# CHAINHOUND_GS_SETUP=1) it is created when missing, with the pinned graphsense-lib[tagpacks]
# from PyPI (about 2 minutes and 440 MB). Without either, a missing venv is not an error: the
# script says "skipped: graphsense-cli not installed" on stderr and exits 0.
#
# Each FILE is validated on its own; the exit status is 1 if any is invalid (2 on a usage or
# setup error), 0 when all pass. Validation is offline: actor references are not checked
# (--no-strict-actor-references, so the tool never downloads GraphSense's actor pack), the
# concept and confidence taxonomies are the ones bundled with graphsense-lib, and address
# checksums are checked (bad ones are only warnings). The tool runs in a fresh temporary
# directory, so a config.yaml or src/tagpack/db/ in the caller's directory cannot change it.
set -euo pipefail

GS_REQ="graphsense-lib[tagpacks]==2.18.1"
VENV="${CHAINHOUND_GS_VENV:-$HOME/.cache/chainhound/gsvalid}"
CLI="$VENV/bin/graphsense-cli"

die() { echo "tagpack_validate.sh: $*" >&2; exit 2; }

setup=0
if [ "${CHAINHOUND_GS_SETUP:-0}" = 1 ]; then setup=1; fi
files=()
for arg in "$@"; do
    case "$arg" in
        --setup) setup=1 ;;
        -h|--help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) die "unknown option $arg" ;;
        *) files+=("$arg") ;;
    esac
done

if [ ! -x "$CLI" ]; then
    if [ "$setup" != 1 ]; then
        echo "tagpack_validate.sh: skipped: graphsense-cli not installed (run with --setup, or CHAINHOUND_GS_SETUP=1, to install it in $VENV)" >&2
        exit 0
    fi
    command -v python3 >/dev/null 2>&1 || die "python3 not found"
    # Never wipe a directory that is not a virtualenv.
    if [ -e "$VENV" ] && [ -n "$(ls -A "$VENV" 2>/dev/null)" ] && [ ! -f "$VENV/pyvenv.cfg" ]; then
        die "$VENV exists and is not a virtualenv: remove it or set CHAINHOUND_GS_VENV"
    fi
    echo "tagpack_validate.sh: installing $GS_REQ in $VENV" >&2
    python3 -m venv "$VENV" || die "could not create the venv $VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$GS_REQ" >&2 \
        || die "pip install $GS_REQ failed"
    [ -x "$CLI" ] || die "graphsense-cli missing after the install"
fi

[ "${#files[@]}" -gt 0 ] || { [ "$setup" = 1 ] && exit 0; die "usage: tools/tagpack_validate.sh [--setup] FILE..."; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

failed=0
for f in "${files[@]}"; do
    [ -f "$f" ] || { echo "tagpack_validate.sh: $f: no such file" >&2; failed=1; continue; }
    abs="$(cd "$(dirname "$f")" && pwd)/$(basename "$f")"
    if (cd "$work" && "$CLI" tagpack-tool tagpack validate --no-strict-actor-references "$abs") \
        >"$work/log" 2>&1; then
        echo "tagpack_validate.sh: valid: $f"
    else
        # The tool's log: its error lines say why.
        grep -v -e 'Config file not found' "$work/log" >&2 || true
        echo "tagpack_validate.sh: INVALID: $f" >&2
        failed=1
    fi
done
exit "$failed"
