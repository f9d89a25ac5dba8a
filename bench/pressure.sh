#!/usr/bin/env bash
# Ingest under memory pressure: how chainhound's ingest slows down once its
# index outgrows the RAM the page cache can give it, as a mainnet index
# (~225 GB) outgrows a 24 GB machine.
#
# It ingests one simulated chain in equal chunks of blocks (`--max-height`),
# first with the machine's RAM free, then with all but AVAIL MB of it locked
# away (anonymous memory pinned with mlock, so the kernel's own reclaim and
# dirty-page throttling act as on a smaller machine), and prints each chunk's
# time, throughput and the bytes the process read from and wrote to disk.
# Last, a run that adds nothing, from a cold page cache, with and without the
# header cache (`INDEX/headers.cache`) the runs before it left.
#
# Linux and root only (it drops the page cache and locks memory). Outside CI.
#
#   bench/pressure.sh [--txs N] [--avail "MB MB ..."] [--chunks K] [--workdir DIR]
#                     [--ingest-args "ARGS"]
#
# Defaults: a 10M-tx toy chain (the bench's `--chain toy`: coins are spent
# picked uniformly at random, with no preference for recent ones, so reads
# of old outputs are more spread than on mainnet), chunks of a quarter of the
# blocks, RAM left: 1400 and 720 MB.
set -euo pipefail

txs=10_000_000
avail="1400 720"
chunks=4
work=/tmp/chainhound-pressure
ingest_args=""
while [ $# -gt 0 ]; do
    case "$1" in
        --txs) txs=$2; shift 2 ;;
        --avail) avail=$2; shift 2 ;;
        --chunks) chunks=$2; shift 2 ;;
        --workdir) work=$2; shift 2 ;;
        --ingest-args) ingest_args=$2; shift 2 ;;
        *) echo "usage: $0 [--txs N] [--avail \"MB ...\"] [--chunks K] [--workdir DIR] [--ingest-args \"ARGS\"]" >&2; exit 2 ;;
    esac
done
if [ "$(id -u)" != 0 ] || [ ! -w /proc/sys/vm/drop_caches ]; then
    echo "$0: needs root on Linux (drops the page cache, locks memory)" >&2
    exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
# CHAINHOUND_BIN: measure that chainhound binary instead of building this
# tree's (to compare two builds in one sitting).
if [ -n "${CHAINHOUND_BIN:-}" ]; then
    ch=$CHAINHOUND_BIN
else
    cargo build -q --release --manifest-path "$root/Cargo.toml" -p chainhound
    ch="$root/target/release/chainhound"
fi
bench="$root/bench/target/release/ingest_bench"
mkdir -p "$work"
blocks="$work/sim-plain"
if [ ! -d "$blocks/blocks" ]; then
    cargo build -q --release --manifest-path "$root/bench/Cargo.toml" --bin ingest_bench
    "$bench" --chain toy --txs "$txs" --workdir "$work" --generate-only
    rm -rf "$work/sim-xor" # only the plain copy is ingested here
fi
tip=$("$ch" scan "$blocks/blocks" --json 2>/dev/null |
    python3 -c 'import json,sys; print(len(json.load(sys.stdin)) - 1)')
echo "chain: $blocks, tip height $tip, $chunks chunks"

locker=""
cleanup() {
    if [ -n "$locker" ]; then kill "$locker" 2>/dev/null || true; fi
    rm -rf "$work/ix"
}
trap cleanup EXIT

mem_available_mb() { awk '/^MemAvailable:/ { print int($2 / 1024) }' /proc/meminfo; }

# Pins MB megabytes of anonymous memory until killed.
lock_mb() {
    python3 - "$1" <<'EOF' &
import ctypes, mmap, signal, sys
n = int(sys.argv[1]) << 20
m = mmap.mmap(-1, n, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
buf = (ctypes.c_char * n).from_buffer(m)
libc = ctypes.CDLL(None, use_errno=True)
if libc.mlock(ctypes.c_void_p(ctypes.addressof(buf)), ctypes.c_size_t(n)) != 0:
    sys.exit("mlock failed: errno %d" % ctypes.get_errno())
print("locked", n >> 20, "MB", flush=True)
signal.pause()
EOF
    locker=$!
}

# Ingests up to height $1 into $work/ix; prints "txs wall_s read_MB written_MB"
# (read: from disk; written: pages dirtied; both from the child's rusage).
measure() {
    python3 - "$ch" "$blocks" "$work/ix" "$1" "$ingest_args" <<'EOF'
import json, resource, subprocess, sys, time
ch, blocks, ix, h, extra = sys.argv[1:]
t = time.monotonic()
p = subprocess.run([ch, "ingest", "--datadir", blocks, "--index", ix, "--max-height", h, "-q", "--json"]
                   + extra.split(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
wall = time.monotonic() - t
if p.returncode != 0:
    sys.exit(f"ingest failed ({p.returncode})")
u = resource.getrusage(resource.RUSAGE_CHILDREN)
r = json.loads(p.stdout)
spends = r["spends_from_cache"] + r["spends_from_index"]
hit = 100.0 * r["spends_from_cache"] / spends if spends else 0.0
given = (r.get("column_bytes_given_back", 0) + r.get("block_bytes_given_back", 0)) >> 20
print(r["txs_added"], f"{wall:.2f}", u.ru_inblock >> 11, u.ru_oublock >> 11, f"{hit:.1f}", given)
EOF
}

run() {
    local label=$1
    rm -rf "$work/ix"
    sync
    echo 3 >/proc/sys/vm/drop_caches
    printf '%-12s %7s %9s %8s %9s %9s %9s %9s %9s %9s\n' "$label" height txs wall_s "tx/s" index_MB read_MB written_MB cached_% given_MB
    local total=0 h prev=0 k
    for k in $(seq 1 "$chunks"); do
        h=$((tip * k / chunks))
        local out
        out=$(measure "$h")
        read -r n wall rd wr hit given <<<"$out"
        local mb
        mb=$(du -sm "$work/ix" | cut -f1)
        printf '%-12s %7d %9d %8.2f %9.0f %9d %9d %9d %9s %9s\n' "" "$h" "$n" "$wall" "$(echo "$n / $wall" | bc -l)" "$mb" "$rd" "$wr" "$hit" "$given"
        total=$(echo "$total + $wall" | bc -l)
    done
    printf '%-12s total %.1f s\n' "" "$total"
}

run "free RAM"
for a in $avail; do
    have=$(mem_available_mb)
    if [ "$have" -le "$a" ]; then
        echo "only $have MB available: cannot leave $a MB" >&2
        continue
    fi
    lock_mb $((have - a))
    # mlock returns once every page is in: wait for the line saying so.
    for _ in $(seq 60); do [ "$(mem_available_mb)" -gt $((a + 200)) ] || break; sleep 1; done
    sleep 2
    run "${a} MB left"
    kill "$locker"
    wait "$locker" 2>/dev/null || true
    locker=""
done

# A run that adds nothing (the index is at the tip), from a cold page cache:
# with the header cache the last run left, then without it (every block
# file walked for its headers again).
echo "rerun adding nothing, cold page cache:"
for mode in "header cache" "no header cache"; do
    if [ "$mode" = "no header cache" ]; then rm -f "$work/ix/headers.cache"; fi
    sync
    echo 3 >/proc/sys/vm/drop_caches
    read -r n wall rd wr hit <<<"$(measure "$tip")"
    printf '  %-16s %6.2f s, %6d MB read\n' "$mode" "$wall" "$rd"
done
