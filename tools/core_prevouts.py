#!/usr/bin/env python3
"""Reference dump of every resolved transaction input, taken from Bitcoin Core's own undo data.

This tool owns one thing: turning a genuine Bitcoin Core data directory into a TSV
listing, for every non-coinbase transaction input on the active chain, the previous
output it spends, as recorded by Bitcoin Core in its undo files (``blocks/revNNNNN.dat``).
The data is read through libbitcoinkernel (Bitcoin Core's consensus library), using the
PyPI package ``py-bitcoinkernel`` (import name ``pbk``). chainhound's tests compare its own
prevout index against this dump; nothing in here is chainhound code.

Usage::

    python3 tools/core_prevouts.py DATADIR --chain mainnet|testnet|testnet4|signet|regtest [--out FILE]

DATADIR is the directory holding ``blocks/`` and ``chainstate/`` (for non-mainnet chains
that is the network subdirectory, e.g. ``~/.bitcoin/regtest``), or a ``.tar``/``.tar.gz``
archive that unpacks to them. It is never modified: ``blocks/`` and ``chainstate/`` are
copied (or the archive extracted) into a temporary directory first, because the kernel
takes locks and may write to the databases it opens. Run ``tools/core_prevouts.sh`` to get
a virtualenv with the pinned ``py-bitcoinkernel`` installed.

Output (to FILE, or stdout): one header line starting with ``#`` naming the columns, then
one tab-separated line per spent output, in chain order (height, then tx index, then input
index)::

    height  tx_index_in_block  input_index  value_sat  script_pubkey_hex  prevout_height  prevout_is_coinbase

``tx_index_in_block`` is the transaction's position in its block with the coinbase at 0,
so spending transactions start at 1 (Core's undo data has one entry per non-coinbase tx, in
block order: undo entry ``i`` belongs to block transaction ``i + 1``). ``script_pubkey_hex``
is the raw scriptPubKey of the spent output in lowercase hex, ``prevout_height`` the height
of the block that created it, ``prevout_is_coinbase`` 1 if that output came from a coinbase.
A summary line (blocks, txs, spent outputs) goes to stderr.

Cross-check (on unless ``--no-verify``): the undo data is checked against the blocks' own
transactions. Per block, the number of undo entries must be the number of transactions
minus one, and per transaction the number of coins its input count. Each input's outpoint
is also resolved independently from an in-memory UTXO map built while walking the chain,
and value, script, creation height and coinbase flag must match Core's undo coin exactly.
That map holds the whole UTXO set in Python objects: fine for test fixtures, too big for a
full mainnet chain (use ``--no-verify`` there).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import TextIO

try:
    import pbk
except ImportError:  # pragma: no cover - depends on the environment
    sys.exit("core_prevouts: cannot import 'pbk'; install py-bitcoinkernel "
             "(tools/core_prevouts.sh does it in a virtualenv)")

CHAINS = {
    "mainnet": pbk.ChainType.MAINNET,
    "testnet": pbk.ChainType.TESTNET,
    "testnet4": pbk.ChainType.TESTNET_4,
    "signet": pbk.ChainType.SIGNET,
    "regtest": pbk.ChainType.REGTEST,
}

COLUMNS = ("height", "tx_index_in_block", "input_index", "value_sat",
           "script_pubkey_hex", "prevout_height", "prevout_is_coinbase")

# The parts of a Core data directory the kernel needs; wallets, logs, peers.dat, ... are not copied.
DATADIR_PARTS = ("blocks", "chainstate")


class CrossCheckError(Exception):
    """Core's undo data disagrees with the blocks' own transactions."""


def stage_datadir(source: Path, workdir: Path) -> Path:
    """Copy (or extract) the data directory into ``workdir`` and return the staged copy's path.

    The source is only read. A directory must hold ``blocks/`` and ``chainstate/``; an archive
    must unpack to them, at its top level or in a single top-level folder.
    """
    staged = workdir / "datadir"
    if source.is_file() and tarfile.is_tarfile(source):
        staged.mkdir()
        with tarfile.open(source) as tar:
            if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4/3.12: refuse unsafe members
                tar.extractall(staged, filter="data")
            else:  # pragma: no cover
                tar.extractall(staged)
        if not (staged / "blocks").is_dir():
            subdirs = [p for p in staged.iterdir() if p.is_dir()]
            if len(subdirs) == 1 and (subdirs[0] / "blocks").is_dir():
                staged = subdirs[0]
    elif source.is_dir():
        staged.mkdir()
        for part in DATADIR_PARTS:
            if (source / part).is_dir():
                shutil.copytree(source / part, staged / part, symlinks=False)
    else:
        raise SystemExit(f"core_prevouts: {source}: not a directory or tar archive")
    missing = [p for p in DATADIR_PARTS if not (staged / p).is_dir()]
    if missing:
        raise SystemExit(f"core_prevouts: {source}: no {' or '.join(m + '/' for m in missing)} "
                         "(for a non-mainnet chain, pass the network subdirectory)")
    return staged


def dump(chainman: "pbk.ChainstateManager", out: TextIO, verify: bool) -> tuple[int, int, int]:
    """Write the TSV for the active chain of ``chainman``; return (blocks, txs, spent outputs).

    API used: ``chainman.get_active_chain().block_tree_entries`` (entries by height, 0..tip),
    ``chainman.block_spent_outputs[entry].transactions[i].coins[j]`` (undo coin: ``.output
    .amount``, ``.output.script_pubkey``, ``.confirmation_height``, ``.is_coinbase``) and, for
    the cross-check, ``chainman.blocks[entry].transactions`` (inputs' ``out_point``, outputs).
    """
    out.write("#" + "\t".join(COLUMNS) + "\n")
    chain = chainman.get_active_chain()
    utxos: dict[tuple[bytes, int], tuple[int, bytes, int, bool]] = {}
    n_blocks = n_txs = n_spent = 0
    for entry in chain.block_tree_entries:
        height = entry.height
        if height != n_blocks:
            raise CrossCheckError(f"active chain entry {n_blocks} reports height {height}")
        n_blocks += 1
        block = chainman.blocks[entry] if verify else None
        if height == 0:
            # Genesis has no undo data, and its coinbase output is unspendable in Core, so it
            # never enters the UTXO set either.
            n_txs += len(block.transactions) if block is not None else 1
            continue
        undo_txs = chainman.block_spent_outputs[entry].transactions
        if block is not None:
            txs = block.transactions
            if len(undo_txs) != len(txs) - 1:
                raise CrossCheckError(f"height {height}: {len(undo_txs)} undo entries "
                                      f"for {len(txs)} transactions")
            n_txs += len(txs)
            _add_outputs(utxos, txs[0], height, is_coinbase=True)
        else:
            n_txs += len(undo_txs) + 1
        for undo_pos, undo_tx in enumerate(undo_txs):
            tx_index = undo_pos + 1  # the coinbase (index 0) has no undo entry
            coins = undo_tx.coins
            tx = txs[tx_index] if block is not None else None
            if tx is not None and len(tx.inputs) != len(coins):
                raise CrossCheckError(f"height {height} tx {tx_index} ({tx.txid}): "
                                      f"{len(tx.inputs)} inputs but {len(coins)} undo coins")
            for input_index, coin in enumerate(coins):
                output = coin.output
                value = output.amount
                spk = bytes(output.script_pubkey)
                prev_height = coin.confirmation_height
                prev_cb = coin.is_coinbase
                if tx is not None:
                    outpoint = tx.inputs[input_index].out_point
                    key = (bytes(outpoint.txid), outpoint.index)
                    expected = utxos.pop(key, None)
                    if expected != (value, spk, prev_height, prev_cb):
                        raise CrossCheckError(
                            f"height {height} tx {tx_index} input {input_index} spends "
                            f"{outpoint.txid}:{outpoint.index}: undo coin "
                            f"{(value, spk.hex(), prev_height, prev_cb)} != block data "
                            f"{expected and (expected[0], expected[1].hex(), *expected[2:])}")
                out.write(f"{height}\t{tx_index}\t{input_index}\t{value}\t{spk.hex()}\t"
                          f"{prev_height}\t{int(prev_cb)}\n")
                n_spent += 1
            if tx is not None:
                _add_outputs(utxos, tx, height, is_coinbase=False)
    return n_blocks, n_txs, n_spent


def _add_outputs(utxos: dict, tx: "pbk.Transaction", height: int, is_coinbase: bool) -> None:
    """Record ``tx``'s outputs as unspent (cross-check only). A duplicate txid (BIP30's two
    early mainnet coinbases) overwrites the older, unspendable outputs, as in Core."""
    txid = bytes(tx.txid)
    for vout, output in enumerate(tx.outputs):
        utxos[(txid, vout)] = (output.amount, bytes(output.script_pubkey), height, is_coinbase)


def load_chainman(datadir: Path, chain_type: "pbk.ChainType") -> "pbk.ChainstateManager":
    """``pbk.load_chainman``, but a failure exits with the kernel's own reason.

    The kernel only reports "Failed to create ChainstateManager"; the cause (e.g. "Incorrect
    or no genesis block found. Wrong datadir for network?") is in its log, which is captured
    here while loading and shown on failure.
    """
    log: list[str] = []
    connection = pbk.LoggingConnection(log.append)
    try:
        return pbk.load_chainman(datadir, chain_type)
    except RuntimeError as e:
        errors = [m.strip() for m in log if "[error]" in m] or \
                 [m.strip() for m in log[-5:]]
        detail = "".join(f"\n  kernel: {m}" for m in errors)
        raise SystemExit(f"core_prevouts: libbitcoinkernel could not load {chain_type.name} "
                         f"chainstate from the data directory ({e}){detail}") from None
    finally:
        del connection  # stop forwarding kernel logs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Dump every spent previous output of a Bitcoin Core datadir's active chain "
                    "from Core's undo data (via libbitcoinkernel / py-bitcoinkernel).")
    parser.add_argument("datadir", type=Path,
                        help="directory holding blocks/ and chainstate/, or a tar(.gz) of them "
                             "(never modified: it is copied to a temporary directory first)")
    parser.add_argument("--chain", required=True, choices=sorted(CHAINS),
                        help="network the data directory belongs to")
    parser.add_argument("--out", type=Path, help="output TSV file (default: stdout)")
    parser.add_argument("--no-verify", dest="verify", action="store_false",
                        help="skip cross-checking undo data against the blocks' transactions")
    args = parser.parse_args(argv)

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="core_prevouts.") as tmp:
        datadir = stage_datadir(args.datadir, Path(tmp))
        chainman = load_chainman(datadir, CHAINS[args.chain])
        try:
            if args.out is None:
                counts = dump(chainman, sys.stdout, args.verify)
                sys.stdout.flush()
            else:
                # Write to a sibling temp file, then rename: no half-written dump on failure.
                partial = args.out.with_name(args.out.name + ".partial")
                try:
                    with open(partial, "w", encoding="ascii", newline="\n") as f:
                        counts = dump(chainman, f, args.verify)
                    partial.replace(args.out)
                finally:
                    partial.unlink(missing_ok=True)
        except CrossCheckError as e:
            print(f"core_prevouts: cross-check failed: {e}", file=sys.stderr)
            return 1
        finally:
            del chainman  # release the kernel's locks and files before the temp dir goes
    blocks, txs, spent = counts
    tip = blocks - 1
    print(f"core_prevouts: chain={args.chain} blocks={blocks} (heights 0..{tip}) txs={txs} "
          f"spent_outputs={spent} verified={'yes' if args.verify else 'no'} "
          f"({time.monotonic() - started:.1f}s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
