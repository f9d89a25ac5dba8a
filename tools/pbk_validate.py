#!/usr/bin/env python3
"""Validate block files with Bitcoin Core's own consensus engine (libbitcoinkernel via
py-bitcoinkernel, import name pbk) and leave a genuine Bitcoin Core datadir behind.

    pbk_validate.py DIR_OR_FILE [--chain regtest] --out DATADIR [--force]

DIR_OR_FILE is a blk*.dat file, a folder of them, or a datadir holding blocks/ (as written
by chainhound's `write_blocks`); the XOR key in the files' xor.dat is honoured. Every
record (magic + size + block) is fed in file order to `ChainstateManager.process_block`.
The active chain must grow by one block per record; on the first block that does not
extend it, the tool prints the record number, the expected height, the block hash, the
kernel's validation state and its recent log lines, and exits 1. Otherwise it prints
`accepted N blocks` and DATADIR holds blocks/blk*.dat, rev*.dat, xor.dat, the block index
and the chainstate, as Bitcoin Core would write them.

A leading genesis block (all-zero previous hash), as Core's own blk00000.dat starts with,
is skipped: the kernel knows its network's genesis already.

Run it with the python of the virtualenv made by `tools/core_prevouts.sh --setup`.
"""
import argparse
import collections
import gc
import hashlib
import pathlib
import shutil
import struct
import sys

import pbk

CHAINS = {
    "mainnet": (pbk.ChainType.MAINNET, bytes.fromhex("f9beb4d9")),
    "testnet": (pbk.ChainType.TESTNET, bytes.fromhex("0b110907")),
    "testnet4": (pbk.ChainType.TESTNET_4, bytes.fromhex("1c163f28")),
    "signet": (pbk.ChainType.SIGNET, bytes.fromhex("0a03cf40")),
    "regtest": (pbk.ChainType.REGTEST, bytes.fromhex("fabfb5da")),
}


def dsha(b):
    return hashlib.sha256(hashlib.sha256(b).digest()).digest()


def blk_files(path):
    """(list of blk files in name order, directory holding xor.dat or None)."""
    p = pathlib.Path(path)
    if p.is_file():
        return [p], p.parent
    if (p / "blocks").is_dir():
        p = p / "blocks"
    files = sorted(f for f in p.iterdir() if f.name.startswith("blk") and f.name.endswith(".dat"))
    return files, p


def read_xor(d):
    x = d / "xor.dat" if d else None
    if x and x.is_file():
        key = x.read_bytes()
        if len(key) != 8:
            sys.exit(f"pbk_validate: {x} is {len(key)} bytes, expected 8")
        return key
    return bytes(8)


def records(files, key, magic):
    """Yields (file, offset, block bytes) for every record, skipping zero padding."""
    for f in files:
        data = bytearray(f.read_bytes())
        if any(key):
            k = key * (len(data) // 8 + 1)
            data = bytearray(a ^ b for a, b in zip(data, k))
        off = 0
        while off + 8 <= len(data):
            if data[off:off + 4] == b"\0\0\0\0":
                off += 4  # preallocated zeros after the last record
                continue
            if data[off:off + 4] != magic:
                sys.exit(f"pbk_validate: {f} offset {off}: bad magic {data[off:off + 4].hex()}")
            (size,) = struct.unpack_from("<I", data, off + 4)
            if off + 8 + size > len(data):
                sys.exit(f"pbk_validate: {f} offset {off}: record of {size} bytes runs past the end")
            yield f, off, bytes(data[off + 8:off + 8 + size])
            off += 8 + size


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input", help="blk*.dat file, folder of them, or datadir with blocks/")
    ap.add_argument("--chain", default="regtest", choices=sorted(CHAINS))
    ap.add_argument("--out", required=True, help="Bitcoin Core datadir to create")
    ap.add_argument("--force", action="store_true", help="wipe --out first if it exists")
    args = ap.parse_args()

    chain_type, magic = CHAINS[args.chain]
    out = pathlib.Path(args.out)
    if out.exists() and any(out.iterdir()):
        if not args.force:
            sys.exit(f"pbk_validate: {out} exists and is not empty (use --force to wipe it)")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)

    files, xdir = blk_files(args.input)
    if not files:
        sys.exit(f"pbk_validate: no blk*.dat files in {args.input}")
    key = read_xor(xdir)

    log = collections.deque(maxlen=40)
    conn = pbk.LoggingConnection(lambda msg: log.append(msg.rstrip()))
    checked = {}

    def on_checked(_user_data, block, state):
        try:
            checked["last"] = (state.validation_mode, state.block_validation_result)
        except Exception as e:  # noqa: BLE001 (diagnostics only)
            checked["last"] = (repr(e), None)

    callbacks = pbk.ValidationInterfaceCallbacks(block_checked=on_checked)
    cm = pbk.load_chainman(out, chain_type, validation_callbacks=callbacks)
    start_height = cm.get_active_chain().height
    n = 0
    skipped = 0
    for f, off, raw in records(files, key, magic):
        h = dsha(raw[:80])[::-1].hex()
        if n == 0 and not skipped and raw[4:36] == bytes(32):
            # The network's own genesis block, first in a datadir as Core
            # writes it: the kernel has it already.
            skipped = 1
            continue
        checked.pop("last", None)
        err = None
        try:
            cm.process_block(pbk.Block(raw))
        except Exception as e:  # noqa: BLE001 (reported below)
            err = e
        height = cm.get_active_chain().height
        if err is not None or height != start_height + n + 1:
            print(f"pbk_validate: REJECTED record {n} ({f.name} offset {off}) "
                  f"at expected height {start_height + n + 1}: block {h}", file=sys.stderr)
            print(f"  active chain height is {height}", file=sys.stderr)
            if err is not None:
                print(f"  process_block raised: {err!r}", file=sys.stderr)
            if "last" in checked:
                mode, result = checked["last"]
                print(f"  validation state: mode={mode!r} result={result!r}", file=sys.stderr)
            lines = [ln for ln in log if "UpdateTip:" not in ln]
            reasons = [ln for ln in lines if "validation error" in ln or "failed" in ln
                       or "ERROR" in ln or "[error]" in ln]
            if reasons:
                print(f"  reason: {reasons[0]}", file=sys.stderr)
            print("  kernel log (most recent last, UpdateTip lines left out):", file=sys.stderr)
            for line in lines[-12:]:
                print("    " + line, file=sys.stderr)
            del cm
            gc.collect()
            sys.exit(1)
        n += 1
    del cm  # flushes the block index and chainstate to disk
    gc.collect()
    del conn
    print(f"accepted {n} blocks" + (" (after the genesis block, already known)" if skipped else ""))


if __name__ == "__main__":
    main()
