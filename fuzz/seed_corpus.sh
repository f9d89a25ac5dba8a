#!/usr/bin/env bash
# Builds the seed corpora of the fuzz targets from the shared sample block
# files (never copied into the repository: fuzz/corpus/ is git-ignored).
#
#   fuzz/seed_corpus.sh [BLOCKS_DIR]
#
# BLOCKS_DIR defaults to ../shared/data/blocks beside the repository. Writes:
#   corpus/block/    every block under 50 KB from the two sample files, plus
#                    the smallest one of 100 KB or more (one raw block each);
#   corpus/blkfile/  a few small block files (mode byte + file, see
#                    fuzz_targets/blkfile.rs): clear, XOR-obfuscated,
#                    truncated, with a zero tail and with garbage;
#   corpus/script/   one output script of each type, and address strings.
# Existing files are kept; seeds are named by content hash, so reruns are
# idempotent.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
blocks="${1:-$here/../../shared/data/blocks}"
for f in mainnet_sample_blocks.dat testnet_signet_sample_blocks.dat; do
    [ -r "$blocks/$f" ] || { echo "missing $blocks/$f" >&2; exit 1; }
done
mkdir -p "$here/corpus/block" "$here/corpus/blkfile" "$here/corpus/script"

python3 - "$blocks" "$here/corpus" <<'EOF'
import hashlib, os, struct, sys

blocks_dir, out = sys.argv[1], sys.argv[2]
MAGICS = {b"\xf9\xbe\xb4\xd9", b"\x0b\x11\x09\x07", b"\x1c\x16\x3f\x28",
          b"\x0a\x03\xcf\x40", b"\xfa\xbf\xb5\xda"}

def records(path):
    """(magic, block bytes) of each record: magic(4) | size(4 LE) | block."""
    data = open(path, "rb").read()
    p = 0
    while p + 8 <= len(data):
        magic, (size,) = data[p:p + 4], struct.unpack_from("<I", data, p + 4)
        if magic not in MAGICS or p + 8 + size > len(data):
            break
        yield magic, data[p + 8:p + 8 + size]
        p += 8 + size

def save(kind, blob):
    name = hashlib.sha1(blob).hexdigest()
    with open(os.path.join(out, kind, name), "wb") as f:
        f.write(blob)

def record(magic, block):
    return magic + struct.pack("<I", len(block)) + block

small, big = [], []
for f in ("mainnet_sample_blocks.dat", "testnet_signet_sample_blocks.dat"):
    for magic, block in records(os.path.join(blocks_dir, f)):
        if len(block) < 50_000:
            small.append((magic, block))
        elif len(block) >= 100_000:
            big.append((magic, block))
small.sort(key=lambda mb: len(mb[1]))
big.sort(key=lambda mb: len(mb[1]))
chosen = small + big[:1]
for _, block in chosen:
    save("block", block)
print(f"block:   {len(chosen)} blocks, "
      f"{min(len(b) for _, b in chosen)}..{max(len(b) for _, b in chosen)} bytes")

# Block files: the smallest blocks make files of a few KB.
tiny = small[:4]
clear = b"".join(record(m, b) for m, b in tiny)
# A key under which no byte of the file turns into a zero on disk (the
# reader takes raw zeros for Core's unobfuscated padding, so the target only
# compares an obfuscated file with its clear twin when there are none).
key = bytes(next(k for k in range(0x5a, 0x5a + 256)
                 if k % 256 and k % 256 not in clear[lane::8]) % 256
            for lane in range(8))
obf = bytes(c ^ key[i % 8] for i, c in enumerate(clear))
blkfiles = [
    b"\x00" + clear,
    b"\x01" + key + obf,
    b"\x00" + clear[: len(clear) - 100],                # truncated last record
    b"\x00" + clear + bytes(512),                       # pre-allocated zero tail
    b"\x00" + b"garbage!" * 8 + clear,                  # leading garbage
    b"\x00" + record(tiny[0][0], tiny[0][1])[:8] + clear,  # header, no body
    b"\x01" + bytes(8) + clear,                         # all-zero xor.dat
    b"\x01" + key + obf + bytes(512),                   # raw zero tail, as Core
]
for blob in blkfiles:
    save("blkfile", blob)
print(f"blkfile: {len(blkfiles)} files")

# Scripts of each type, and address strings.
h20, h32, pk33 = bytes(range(20)), bytes(range(32)), b"\x02" + bytes(range(32))
pk65 = b"\x04" + bytes(range(64))
scripts = [
    b"\x76\xa9\x14" + h20 + b"\x88\xac",                # p2pkh
    b"\xa9\x14" + h20 + b"\x87",                        # p2sh
    b"\x00\x14" + h20,                                  # p2wpkh
    b"\x00\x20" + h32,                                  # p2wsh
    b"\x51\x20" + h32,                                  # p2tr
    b"\x52\x10" + h20[:16],                             # witness v2
    b"\x60\x28" + h32 + h20[:8],                        # witness v16, 40 bytes
    b"\x00\x15" + h20 + b"\x00",                        # v0 bad length
    b"\x21" + pk33 + b"\xac",                           # p2pk compressed
    b"\x41" + pk65 + b"\xac",                           # p2pk uncompressed
    b"\x51\x21" + pk33 + b"\x21" + pk33 + b"\x52\xae",  # 1-of-2 multisig
    b"\x6a\x04test",                                    # op_return
    b"\x51",                                            # nonstandard
    b"multisig-" + h32.hex().encode(),
    b"nonstandard-" + h32.hex().encode(),
    b"witness1x33-" + h32.hex().encode(),
]

# Valid address strings, so decode gets past the checksums.
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
def b58check(payload):
    b = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    n, s = int.from_bytes(b, "big"), ""
    while n:
        n, r = divmod(n, 58)
        s = B58[r] + s
    return "1" * (len(b) - len(b.lstrip(b"\0"))) + s

CH = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
def polymod(values):
    g, chk = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3], 1
    for v in values:
        top, chk = chk >> 25, (chk & 0x1ffffff) << 5 ^ v
        for i in range(5):
            chk ^= g[i] if (top >> i) & 1 else 0
    return chk
def segwit_addr(hrp, ver, prog):
    acc, bits, data = 0, 0, [ver]
    for b in prog:
        acc, bits = acc << 8 | b, bits + 8
        while bits >= 5:
            bits -= 5
            data.append(acc >> bits & 31)
    if bits:
        data.append(acc << (5 - bits) & 31)
    const = 1 if ver == 0 else 0x2bc830a3
    hx = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    pm = polymod(hx + data + [0] * 6) ^ const
    return hrp + "1" + "".join(CH[d] for d in data + [pm >> 5 * (5 - i) & 31 for i in range(6)])

for prefix in (0x00, 0x05, 0x6f, 0xc4):
    scripts.append(b58check(bytes([prefix]) + h20).encode())
for hrp in ("bc", "tb", "bcrt"):
    for ver, prog in ((0, h20), (0, h32), (1, h32), (2, h20[:16]), (16, h32 + h20[:8])):
        scripts.append(segwit_addr(hrp, ver, prog).encode())
for s in scripts:
    save("script", s)
print(f"script:  {len(scripts)} seeds")
EOF
