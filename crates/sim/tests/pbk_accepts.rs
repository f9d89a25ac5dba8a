//! Bitcoin Core's own validation (libbitcoinkernel, through py-bitcoinkernel and
//! `tools/pbk_validate.py`) accepts every block of a simulated economy
//! ([`chainhound_sim::economy`]): real ECDSA and Schnorr signatures over
//! P2PKH, P2SH-P2WPKH, P2WPKH and P2TR coins, CoinJoins, sweeps, batches, the
//! heist and its laundering, witness commitments, BIP34 heights, pool tags and
//! fees. The datadir Core writes then ingests with chainhound to the same
//! counts as the simulator's own files.
//!
//! Size: `PBK_BLOCKS` (default 600) blocks, `PBK_TXS` (default 6,000)
//! transactions. Needs python3 and, on first run, PyPI access (like
//! `crates/index/tests/core_undo.rs`).

use chainhound_chain::Network;
use chainhound_index::ingest::{ingest, IngestOptions, NoProgress};
use chainhound_index::source::Source;
use chainhound_sim::economy::{simulate, Economy, Params};
use chainhound_sim::keys::Kind;
use chainhound_sim::toy::regtest_genesis;
use chainhound_sim::write::write_blocks;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn env_u32(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn python() -> PathBuf {
    let setup = Command::new("bash")
        .arg(root().join("tools/core_prevouts.sh"))
        .arg("--setup")
        .output()
        .expect("run core_prevouts.sh --setup");
    assert!(
        setup.status.success(),
        "core_prevouts.sh --setup failed (py-bitcoinkernel is needed for this test):\n{}",
        String::from_utf8_lossy(&setup.stderr)
    );
    let pyenv = std::env::var_os("CHAINHOUND_PYENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/chainhound/pyenv")
        });
    pyenv.join("bin/python")
}

#[test]
fn core_accepts_economy_and_chainhound_ingests_it() {
    let n_blocks = env_u32("PBK_BLOCKS", 600);
    let n_txs = env_u32("PBK_TXS", 6_000) as u64;

    let t0 = Instant::now();
    let params = Params::sized(0x5eed, Some(n_blocks), None, Some(n_txs)).unwrap();
    let (blocks, truth, stats) = simulate(params);
    let build = t0.elapsed().as_secs_f64();
    eprintln!(
        "built {} blocks, {} txs in {:.2}s ({:.0} tx/s): inputs by kind {:?}, outputs by kind {:?}, {:?}",
        stats.blocks,
        stats.txs,
        build,
        stats.txs as f64 / build,
        stats.inputs_by_kind,
        stats.outputs_by_kind,
        stats.by_kind,
    );
    assert_eq!(stats.blocks, n_blocks as u64);
    assert!(stats.txs >= n_txs * 9 / 10, "{} txs", stats.txs);
    if n_blocks >= 500 {
        assert!(stats.txs >= 5_000);
        assert!(
            stats.inputs_by_kind.iter().all(|&n| n > 100),
            "every kind spent"
        );
        for kind in [
            "payment",
            "deposit",
            "sweep",
            "withdrawal",
            "pool-payout",
            "coinjoin-generic",
            "whirlpool-tx0",
            "coinjoin-whirlpool",
            "coinjoin-wasabi",
            "mixer-deposit",
            "mixer-payout",
            "to-sanctioned",
            "heist",
            "split",
            "peel",
            "cashout",
        ] {
            assert!(stats.by_kind.get(kind).is_some_and(|&n| n > 0), "no {kind}");
        }
        assert!(!truth.stolen.is_empty());
    }

    let t = tempfile::tempdir().unwrap();
    let sim = t.path().join("sim");
    // Laid out like a modern Core datadir: the genesis block first, XOR
    // obfuscation, several files.
    let mut with_genesis = vec![regtest_genesis()];
    with_genesis.extend(blocks);
    write_blocks(
        &sim,
        Network::Regtest,
        &with_genesis,
        *b"\x13\x57\x9b\xdf\x02\x46\x8a\xce",
        1 << 20,
    )
    .unwrap();

    let core = t.path().join("core");
    let t1 = Instant::now();
    let out = Command::new(python())
        .arg(root().join("tools/pbk_validate.py"))
        .arg(&sim)
        .args(["--chain", "regtest", "--out"])
        .arg(&core)
        .output()
        .expect("run pbk_validate.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!(
        "pbk_validate.py in {:.2}s: {}{}",
        t1.elapsed().as_secs_f64(),
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "Bitcoin Core rejected a block");
    assert!(
        stdout.contains(&format!("accepted {n_blocks} blocks")),
        "{stdout}"
    );
    for f in [
        "blocks/blk00000.dat",
        "blocks/rev00000.dat",
        "blocks/xor.dat",
    ] {
        assert!(core.join(f).is_file(), "Core datadir lacks {f}");
    }
    assert!(core.join("blocks/index").is_dir());
    assert!(core.join("chainstate").is_dir());

    // chainhound reads what Core wrote: the genesis block plus ours.
    let r = ingest(
        &Source::datadir(&core).unwrap(),
        &t.path().join("index"),
        &IngestOptions::default(),
        &mut NoProgress,
    )
    .unwrap();
    assert_eq!(r.network, Some(Network::Regtest));
    assert_eq!(r.tip_height, Some(n_blocks));
    assert_eq!(r.blocks_added, n_blocks as u64 + 1);
    assert_eq!(r.txs_added, stats.txs + 1);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert!(r.chain_warnings.is_empty(), "{:?}", r.chain_warnings);

    // And the same from the simulator's own files.
    let own = ingest(
        &Source::datadir(&sim).unwrap(),
        &t.path().join("index-own"),
        &IngestOptions::default(),
        &mut NoProgress,
    )
    .unwrap();
    assert_eq!(own.tip_hash, r.tip_hash);
    assert_eq!(
        (own.blocks_added, own.txs_added, own.tip_height),
        (r.blocks_added, r.txs_added, r.tip_height)
    );
    assert!(own.warnings.is_empty(), "{:?}", own.warnings);
}

/// The kernel does check the scripts: a single bad signature of any kind
/// gets its block rejected, and the tool names that block.
#[test]
fn core_rejects_a_bad_signature_of_each_kind() {
    let py = python();
    for kind in Kind::ALL {
        let params = Params::sized(0xbad, Some(130), Some(60), Some(1_300)).unwrap();
        let mut eco = Economy::new(params);
        eco.corrupt_signature(kind, 105);
        let blocks: Vec<Vec<u8>> = std::iter::from_fn(|| eco.next_block())
            .map(|b| b.bytes)
            .collect();
        let bad = eco.corrupted_at().expect("a spend of every kind by 130");
        let t = tempfile::tempdir().unwrap();
        write_blocks(
            &t.path().join("sim"),
            Network::Regtest,
            &blocks,
            [0; 8],
            1 << 20,
        )
        .unwrap();
        let out = Command::new(&py)
            .arg(root().join("tools/pbk_validate.py"))
            .arg(t.path().join("sim/blocks/blk00000.dat"))
            .args(["--chain", "regtest", "--out"])
            .arg(t.path().join("core"))
            .output()
            .expect("run pbk_validate.py");
        let stderr = String::from_utf8_lossy(&out.stderr);
        eprintln!("{kind:?} corrupted at height {bad}:\n{stderr}");
        assert!(!out.status.success(), "{kind:?}: bad signature accepted");
        assert!(
            stderr.contains(&format!("at expected height {bad}:"))
                && stderr.contains("reason:")
                && stderr.contains("block-script-verify-flag-failed"),
            "{kind:?}: {stderr}"
        );
    }
}
