//! Bitcoin Core's own validation (libbitcoinkernel, through py-bitcoinkernel and
//! `tools/pbk_validate.py`) accepts every block of a [`chainhound_sim::signed`]
//! chain: real ECDSA and Schnorr signatures over P2PKH, P2SH-P2WPKH, P2WPKH and
//! P2TR coins, witness commitments, BIP34 heights and fees. The datadir Core
//! writes then ingests with chainhound to the same counts.
//!
//! Size: `PBK_BLOCKS` (default 500) blocks, up to `PBK_TXS` (default 13) spends
//! per block. Needs python3 and, on first run, PyPI access (like
//! `crates/index/tests/core_undo.rs`).

use chainhound_chain::Network;
use chainhound_index::ingest::{ingest, IngestOptions, NoProgress};
use chainhound_index::source::Source;
use chainhound_sim::signed::signed_chain_with_stats;
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
fn core_accepts_signed_chain_and_chainhound_ingests_it() {
    let n_blocks = env_u32("PBK_BLOCKS", 500);
    let per_block = env_u32("PBK_TXS", 13);

    let t0 = Instant::now();
    let (blocks, stats) = signed_chain_with_stats(0x5eed, n_blocks, per_block);
    let build = t0.elapsed().as_secs_f64();
    eprintln!(
        "built {} blocks, {} txs ({} signed spends, {} inputs by kind {:?}, outputs by kind {:?}, \
         {} mixed-kind spends, {} witness blocks, {} sat fees) in {:.2}s: {:.0} spends/s, {:.0} inputs/s",
        stats.blocks,
        stats.txs,
        stats.spends,
        stats.inputs_by_kind.iter().sum::<u64>(),
        stats.inputs_by_kind,
        stats.outputs_by_kind,
        stats.mixed_spends,
        stats.witness_blocks,
        stats.fees,
        build,
        stats.spends as f64 / build,
        stats.inputs_by_kind.iter().sum::<u64>() as f64 / build,
    );
    assert_eq!(stats.blocks, n_blocks as u64);
    if n_blocks > 110 {
        assert!(
            stats.inputs_by_kind.iter().all(|&n| n > 0),
            "every kind spent"
        );
        assert!(stats.mixed_spends > 0);
    }

    let t = tempfile::tempdir().unwrap();
    let sim = t.path().join("sim");
    // Obfuscated like a modern Core datadir, in several files.
    write_blocks(
        &sim,
        Network::Regtest,
        &blocks,
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
}

/// The kernel does check the scripts: a single bad signature of any kind
/// gets its block rejected, and the tool names that block.
#[test]
fn core_rejects_a_bad_signature_of_each_kind() {
    use chainhound_sim::signed::{Kind, SignedChain};
    let py = python();
    for kind in Kind::ALL {
        let mut chain = SignedChain::new(0xbad, 4);
        chain.corrupt_signature(kind, 105);
        let blocks: Vec<Vec<u8>> = (0..115).map(|_| chain.next_block()).collect();
        let bad = chain
            .stats
            .corrupted_at
            .expect("a spend of every kind by 115");
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
