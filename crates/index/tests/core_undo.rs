//! Every input's resolved previous output (value, script, height, coinbase
//! or not) against Bitcoin Core's own undo data for that block, read through
//! libbitcoinkernel (`tools/core_prevouts.sh` installs py-bitcoinkernel in
//! its own virtualenv on first use).

mod common;

use chainhound_chain::{address, classify, hash::from_hex, Network};
use chainhound_index::query::Query;
use chainhound_index::store::Store;
use common::*;
use std::path::Path;
use std::process::Command;

/// Runs the reference tool on a datadir archive; returns its data rows.
fn core_rows(archive: &Path, chain: &str) -> Vec<Vec<String>> {
    let tool = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/core_prevouts.sh");
    let out = Command::new("bash")
        .arg(&tool)
        .arg(archive)
        .arg("--chain")
        .arg(chain)
        .output()
        .expect("run core_prevouts.sh");
    assert!(
        out.status.success(),
        "core_prevouts.sh failed (py-bitcoinkernel is needed for this test):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').map(String::from).collect())
        .collect()
}

fn compare(archive: &str, chain: &str, network: Network, expected_rows: usize) {
    let archive = shared(archive);
    let core = core_rows(&archive, chain);
    assert_eq!(core.len(), expected_rows);
    let tmp = tempfile::tempdir().unwrap();
    untar(&archive, &tmp.path().join("node"));
    ingest_datadir(&tmp.path().join("node"), &tmp.path().join("ix"));
    let store = Store::open(&tmp.path().join("ix")).unwrap();
    let ours = Query::new(&store).prevouts();
    assert_eq!(ours.len(), core.len());
    for (c, o) in core.iter().zip(&ours) {
        let num = |i: usize| c[i].parse::<u64>().unwrap();
        assert_eq!(
            (o.height as u64, o.tx_index as u64, o.input as u64),
            (num(0), num(1), num(2)),
            "row position"
        );
        assert_eq!(o.value, Some(num(3)), "value at {c:?}");
        let (ty, key) = classify(&from_hex(&c[4]).unwrap());
        assert_eq!(o.script_type, Some(ty), "script type at {c:?}");
        assert_eq!(
            o.address,
            key.map(|k| address::encode(&k, network)),
            "address at {c:?}"
        );
        assert_eq!(
            o.prev_height.map(u64::from),
            Some(num(5)),
            "prevout height at {c:?}"
        );
        assert_eq!(o.prev_coinbase, Some(c[6] == "1"), "coinbase flag at {c:?}");
    }
}

#[test]
fn mainnet_prevouts_equal_bitcoin_core_undo_data() {
    compare(
        "blocks/core_datadir_mainnet_h0-4312_from_jeffchan.tar.gz",
        "mainnet",
        Network::Mainnet,
        247,
    );
}

#[test]
fn regtest_prevouts_equal_bitcoin_core_undo_data() {
    compare(
        "blocks/core_datadir_regtest_h0-150_pbk_demo.tar.gz",
        "regtest",
        Network::Regtest,
        49,
    );
}
