#!/bin/bash
# Alternates `ingest_bench --phase ingest` runs of several builds (and of
# blocks_iterator, named `bi`) on one simulated chain, warming the input
# before each run, and prints each run's wall time and thread times, then
# the medians. Builds compared in one loop see the same machine state.
#
#   bench/ab.sh ROUNDS WORKDIR INPUT BIN|bi...
#   bench/ab.sh 6 /tmp/bw sim-plain /tmp/ib_old bench/target/release/ingest_bench bi
#
# WORKDIR holds INPUT (sim-plain or sim-xor) as written by
# `ingest_bench --workdir WORKDIR --generate-only`; the index goes to
# WORKDIR/ix, removed before each run. `bi` runs blocks_iterator from the
# first binary given.
set -euo pipefail
[ $# -ge 4 ] || { sed -n 2,13p "$0"; exit 2; }
n=$1 work=$2 input=$3
shift 3
first=$1
[ "$first" != bi ] || { echo "give a binary before bi" >&2; exit 2; }
out=$(mktemp)
for _ in $(seq "$n"); do
    for b in "$@"; do
        bin=$b phase=ingest
        if [ "$b" = bi ]; then bin=$first phase=blocks_iterator; fi
        cat "$work/$input"/blocks/blk*.dat > /dev/null
        rm -rf "$work/ix"
        r=$("$bin" --phase $phase --input "$work/$input" --index "$work/ix" --network regtest 2>&1 | grep RESULT)
        wall=$(grep -o 'wall=[0-9.]*' <<< "$r" | cut -d= -f2)
        echo "$b $wall $(grep -o 'threads=[^ ]*' <<< "$r")"
        echo "$b $wall" >> "$out"
    done
done
echo "medians:"
for b in "$@"; do
    awk -v b="$b" '$1 == b { print $2 }' "$out" | sort -n |
        awk -v b="$b" '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "  %s %.3f s (%d runs)\n", b, m, NR }'
done
rm -f "$out"
