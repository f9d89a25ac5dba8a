#!/usr/bin/env bash
# chainhound beside SpamAssassin on the shared mail corpus: the same
# messages (label leaks neutralised, as `chainhound eval mail` does), the
# same development/test halves, one table. Outside CI: tools/test.sh does
# not call it (it installs a Debian package and takes minutes).
#
#   tools/spamassassin_compare.sh [--mail DIR] [--jobs N] [--cli] [--keep DIR]
#
#   --mail DIR   the corpus: DIR/phish and DIR/ham (default: ../shared/data/mail
#                beside the repository, or $CHAINHOUND_SHARED/data/mail)
#   --jobs N     messages scored at once (default: the number of cores)
#   --cli        score with `spamassassin -L -t` per message (a Perl start-up
#                of ~2 s each) instead of a local spamd and `spamc -c`; the
#                scores are the same, the daemon is ~20 times faster
#   --keep DIR   keep the exported messages, scores and SpamAssassin's output
#                in DIR (default: a temporary folder, removed at the end)
#
# What it does:
# 1. installs spamassassin with apt-get if it is missing (as root, or through
#    `sudo -n`; it never asks a question);
# 2. builds chainhound (release) and runs `chainhound eval mail --export`,
#    which writes each neutralised message to EXPORT/{phish,ham}/{dev,test}/
#    and chainhound's score and verdict of each to EXPORT/chainhound.tsv;
# 3. scores every exported message with SpamAssassin offline: `-L` (local
#    tests only: no DNS, no network), `-x` (no user preferences), and a copy
#    of the site configuration with Bayes and auto-learning off (auto-learning
#    would make a score depend on the messages scored before it; untrained,
#    Bayes adds nothing);
# 4. prints, for both engines, on the test half and on all messages: recall at
#    a false-positive rate of at most 1% and 2% (the lowest threshold that
#    keeps the rate, as `eval mail` picks it) and at the engine's own default
#    thresholds (SpamAssassin: 5.0; chainhound: its `phishing` and `suspicious`
#    verdicts).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
mail="${CHAINHOUND_SHARED:-$here/../shared}/data/mail"
jobs="$(nproc 2>/dev/null || echo 2)"
cli=0
keep=""
while [ $# -gt 0 ]; do
    case "$1" in
        --mail) mail="$2"; shift 2 ;;
        --jobs) jobs="$2"; shift 2 ;;
        --cli) cli=1; shift ;;
        --keep) keep="$2"; shift 2 ;;
        -h|--help) sed -n '2,33p' "$0"; exit 0 ;;
        *) echo "spamassassin_compare.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
for d in "$mail/phish" "$mail/ham"; do
    [ -d "$d" ] || { echo "spamassassin_compare.sh: $d is missing" >&2; exit 1; }
done
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || { echo "spamassassin_compare.sh: --jobs wants a whole number" >&2; exit 2; }

# 1. SpamAssassin.
if ! command -v spamassassin >/dev/null || { [ "$cli" = 0 ] && ! command -v spamd >/dev/null; }; then
    echo "== installing spamassassin (apt-get)"
    if [ "$(id -u)" = 0 ]; then
        as_root=()
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        as_root=(sudo -n)
    else
        echo "spamassassin_compare.sh: spamassassin is missing and this is not root (nor passwordless sudo): install it with apt-get install spamassassin" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${as_root[@]}" apt-get update -q >/dev/null
    "${as_root[@]}" apt-get install -y -q spamassassin >/dev/null
fi
sa_version="$(spamassassin --version | head -1)"

if [ -n "$keep" ]; then
    work="$keep"
    mkdir -p "$work"
else
    work="$(mktemp -d "${TMPDIR:-/tmp}/chainhound-sa.XXXXXX")"
    # spamd's children drop to `nobody` when run as root: they must be
    # able to read the site configuration in here (mktemp makes it 0700,
    # and they would then answer 0/0 for every message).
    chmod 755 "$work"
fi
spamd_pid=""
cleanup() {
    if [ -n "$spamd_pid" ]; then
        kill "$spamd_pid" 2>/dev/null || true
        wait "$spamd_pid" 2>/dev/null || true
    fi
    if [ -z "$keep" ]; then
        rm -rf "$work"
    fi
}
trap cleanup EXIT

# 2. chainhound, and the exported set.
echo "== chainhound eval mail --export (release build)"
cargo build --release --quiet -p chainhound
export_dir="$work/export"
rm -rf "$export_dir"
target/release/chainhound eval mail --phish "$mail/phish" --ham "$mail/ham" --export "$export_dir" \
    | tee "$work/chainhound_eval.txt"
total="$(find "$export_dir/phish" "$export_dir/ham" -type f | wc -l)"

# 3. SpamAssassin's score of each exported message.
site="$work/sa-site"
rm -rf "$site"
mkdir -p "$site"
cp -r /etc/spamassassin/. "$site/"
printf '\n# spamassassin_compare.sh: no learning, so that order does not matter\nuse_bayes 0\nbayes_auto_learn 0\n' >>"$site/local.cf"
scores="$work/spamassassin.tsv"
: >"$scores"
export site
if [ "$cli" = 1 ]; then
    echo "== spamassassin -L -t on $total messages, $jobs at a time"
    score_one() {
        local out
        out="$(spamassassin -L -x --siteconfigpath "$site" -t <"$1" 2>/dev/null |
            sed -n 's/^Content analysis details: *(\(-\{0,1\}[0-9.]*\) points, \([0-9.]*\) required).*/\1\/\2/p' | head -1)"
        printf '%s\t%s\n' "$1" "${out:-error}"
    }
else
    echo "== spamd -L (local socket) and spamc -c on $total messages, $jobs at a time"
    sock="$work/spamd.sock"
    rm -f "$sock"
    spamd -L -x --siteconfigpath "$site" --socketpath "$sock" -m "$jobs" --min-children "$jobs" \
        -s stderr 2>"$work/spamd.log" &
    spamd_pid=$!
    for _ in $(seq 1 240); do
        [ -S "$sock" ] && break
        kill -0 "$spamd_pid" 2>/dev/null || { echo "spamd stopped, see $work/spamd.log:" >&2; tail -5 "$work/spamd.log" >&2; exit 1; }
        sleep 0.5
    done
    [ -S "$sock" ] || { echo "spamd did not start in 2 minutes ($work/spamd.log)" >&2; exit 1; }
    export sock
    score_one() {
        local out
        # -x: an error is an error, not "0/0"; -s: no size cut (default 500 kB).
        out="$(spamc -U "$sock" -x -s 64000000 -c <"$1" 2>/dev/null)" || true
        printf '%s\t%s\n' "$1" "${out:-error}"
    }
fi
export -f score_one
find "$export_dir/phish" "$export_dir/ham" -type f -print0 | sort -z |
    xargs -0 -n 8 -P "$jobs" bash -c 'for f; do score_one "$f"; done' _ >>"$scores"

# 4. The table.
python3 - "$export_dir" "$scores" "$sa_version" <<'EOF'
import os, re, sys

export_dir, sa_file, sa_version = sys.argv[1], sys.argv[2], sys.argv[3]
ch = {}
with open(os.path.join(export_dir, "chainhound.tsv")) as f:
    next(f)
    for line in f:
        label, half, name, score, verdict = line.rstrip("\n").split("\t")
        ch[(label, half, name)] = (float(score), verdict)
sa, bad = {}, []
with open(sa_file) as f:
    for line in f:
        path, out = line.rstrip("\n").split("\t")
        rel = os.path.relpath(path, export_dir).split(os.sep)
        m = re.fullmatch(r"(-?[0-9.]+)/([0-9.]+)", out.strip())
        if len(rel) != 3 or not m:
            bad.append((path, out))
            continue
        sa[tuple(rel)] = (float(m.group(1)), float(m.group(2)))
if sa and all(req == 0 for _, req in sa.values()):
    print("SpamAssassin answered 0/0 for every message (spamd could not read its "
          "configuration?): no table", file=sys.stderr)
    sys.exit(1)
if bad or set(sa) != set(ch):
    missing = sorted(set(ch) - set(sa))
    print(f"SpamAssassin gave no score for {len(bad) + len(missing)} messages, e.g. "
          f"{(bad + [('/'.join(k), 'missing') for k in missing])[:3]}", file=sys.stderr)
    sys.exit(1)

def rate(v, t):
    return sum(s >= t for s in v) / len(v) if v else 0.0

EPS = 1e-6

def at_fp(phish, ham, limit):
    """The lowest threshold whose false-positive rate is at most `limit`,
    among every score and just above each (as `eval mail` picks it)."""
    cands = sorted({x for s in phish + ham for x in (s, s + EPS)} | {float("inf")})
    t = next(t for t in cands if rate(ham, t) <= limit)
    return rate(phish, t), rate(ham, t), t

def fmt(r, f, t):
    if t == float("inf"):
        th = "never"
    elif any(abs(t - EPS - s) < EPS / 10 for s in all_scores):
        th = f">{t - EPS:g}"
    else:
        th = f"≥{t:g}"
    return f"{r:.3f} ({th}, FP {f:.3f})"

rows = []
for half in ("test", "all"):
    keys = [k for k in ch if half == "all" or k[1] == half]
    for engine, scores, defaults in (
        ("chainhound", {k: ch[k][0] for k in keys}, [("phishing", 10), ("suspicious+", 5)]),
        (sa_version.replace("SpamAssassin version", "SpamAssassin") + " -L", {k: sa[k][0] for k in keys},
         [("spam", 5.0)]),
    ):
        phish = [s for k, s in scores.items() if k[0] == "phish"]
        ham = [s for k, s in scores.items() if k[0] == "ham"]
        all_scores = set(phish + ham)
        r1 = at_fp(phish, ham, 0.01)
        r2 = at_fp(phish, ham, 0.02)
        d = "; ".join(f"{n} ≥{t:g}: {rate(phish, t):.3f} (FP {rate(ham, t):.3f})" for n, t in defaults)
        rows.append((engine, half, f"{len(phish)}/{len(ham)}", fmt(r1[0], r1[1], r1[2]),
                     fmt(r2[0], r2[1], r2[2]), d))
# Checks of the join: SpamAssassin's required score is its default, 5.0.
req = {v[1] for v in sa.values()}
print()
print(f"| engine | half | phish/ham | recall at ≤1% FP (threshold, FP) | recall at ≤2% FP (threshold, FP) | at the default thresholds: recall (FP) |")
print("|---|---|---|---|---|---|")
for r in rows:
    print("| " + " | ".join(r) + " |")
print(f"\nSpamAssassin required score: {', '.join(f'{x:g}' for x in sorted(req))}; "
      f"{len(sa)} messages scored by both engines.")
EOF
if [ -n "$keep" ]; then
    echo "kept in $work: export/ (messages, chainhound.tsv), spamassassin.tsv"
fi
