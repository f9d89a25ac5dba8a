//! The hash tables' sizing and growth, through the `Store` API: a chain
//! that brings many more addresses per transaction than `Store::reserve`
//! guesses (1.25) gets its address table sized for the whole chain once,
//! early; without a plan the table grows by rebuilds at 80% load. Either
//! way every txid and address is found, and the columns do not depend on
//! the tables' history.

mod common;

use chainhound_chain::{classify, Block, Network, Txid};
use chainhound_index::ingest::prepare;
use chainhound_index::store::{AddrId, Store, TxNum};
use chainhound_sim::toy::script_of;
use chainhound_sim::write::block;
use common::*;
use std::path::Path;

/// Addresses each coinbase pays, all new.
const PER_TX: usize = 16;
/// Blocks (of one coinbase each).
const BLOCKS: u32 = 1024;

/// A test chain: blocks' bytes, txids, output scripts.
type Chain = (Vec<Vec<u8>>, Vec<[u8; 32]>, Vec<Vec<u8>>);

/// `BLOCKS` blocks whose coinbases pay `PER_TX` new addresses each; their
/// bytes, and the txids and output scripts.
fn chain() -> Chain {
    let (mut blocks, mut txids, mut scripts) = (Vec::new(), Vec::new(), Vec::new());
    let mut prev = [0u8; 32];
    for h in 0..BLOCKS {
        let outs: Vec<(u64, Vec<u8>)> = (0..PER_TX)
            .map(|i| (1000 + i as u64, script_of(h as usize * PER_TX + i, 9)))
            .collect();
        scripts.extend(outs.iter().map(|o| o.1.clone()));
        let cb = coinbase_tx(h, b"tables", outs);
        txids.push(cb.1);
        let (b, hash) = block(prev, 1_800_000_000 + h, std::slice::from_ref(&cb));
        blocks.push(b);
        prev = hash;
    }
    (blocks, txids, scripts)
}

/// Appends `blocks[range]` to the index at `dir` in one writer session,
/// with a plan of the whole chain's transactions if `plan`.
fn append(dir: &Path, blocks: &[Vec<u8>], range: std::ops::Range<usize>, plan: bool) {
    let mut store = Store::open_writer(dir, Network::Regtest).unwrap();
    if plan {
        store.reserve(blocks.len() as u64).unwrap();
    }
    for b in &blocks[range] {
        let p = prepare(&Block::parse(b).unwrap(), &store.hasher());
        store.append(&p).unwrap();
    }
    store.commit().unwrap();
    store.close().unwrap();
}

/// The generations of the txid and address tables in the manifest.
fn generations(dir: &Path) -> (u64, u64) {
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    (
        m["txid_table"].as_u64().unwrap(),
        m["addr_table"].as_u64().unwrap(),
    )
}

/// Every txid and address of the chain is found, at its id.
fn assert_all_found(dir: &Path, txids: &[[u8; 32]], scripts: &[Vec<u8>]) {
    let store = Store::open(dir).unwrap();
    for (t, txid) in txids.iter().enumerate() {
        assert_eq!(store.find_tx(&Txid(*txid)), Some(TxNum(t as u32)), "tx {t}");
    }
    for (a, s) in scripts.iter().enumerate() {
        let key = classify(s).1.unwrap();
        assert_eq!(store.find_addr(&key), Some(AddrId(a as u32)), "address {a}");
    }
}

#[test]
fn the_address_table_is_sized_for_the_whole_chain_once_a_sixteenth_is_seen() {
    fixed_seed();
    let (blocks, txids, scripts) = chain();
    let t = tempfile::tempdir().unwrap();
    let all = 0..blocks.len();

    // Planned: reserve guesses 1.25 addresses a tx (the first table's 4 Ki
    // slots hold that); at tx 64 the 16 a tx seen so far size the table
    // for 16 Ki addresses at once: one rebuild, and none at 80% load after.
    let planned = t.path().join("planned");
    append(&planned, &blocks, all.clone(), true);
    assert_eq!(
        generations(&planned),
        (0, 1),
        "txid table never rebuilt, address table once"
    );
    let slots = std::fs::metadata(planned.join("addr.1.tbl")).unwrap().len() / 5 - 4096;
    let addrs = (BLOCKS as usize * PER_TX) as u64;
    assert!(
        slots * 8 >= addrs * 10 && slots * 6 < addrs * 10,
        "{slots} slots for {addrs} addresses: sized near 0.7 load"
    );
    assert_all_found(&planned, &txids, &scripts);

    // Unplanned: the table starts small and is rebuilt each time it passes
    // 80% load (4 Ki, then 8 Ki, 16 Ki and 28 Ki slots).
    let grown = t.path().join("grown");
    append(&grown, &blocks, all.clone(), false);
    let (_, gens) = generations(&grown);
    assert!(gens >= 3, "rebuilt at 80% load: generation {gens}");
    assert_all_found(&grown, &txids, &scripts);

    // The columns do not depend on the tables' history.
    for f in std::fs::read_dir(&planned).unwrap() {
        let name = f.unwrap().file_name().to_string_lossy().to_string();
        if name.ends_with(".col") || name.ends_with(".blob") {
            assert!(
                std::fs::read(planned.join(&name)).unwrap()
                    == std::fs::read(grown.join(&name)).unwrap(),
                "{name} differs"
            );
        }
    }

    // The choice is made at a place in the chain, not in the run: runs
    // stopped before, at or after the sixteenth and resumed end with the
    // same bytes as one run.
    for stop in [40, 63, 64, 100, 300] {
        let resumed = t.path().join(format!("resumed-{stop}"));
        append(&resumed, &blocks, 0..stop, true);
        // Rebuilt at the 64th tx, long before 80% load (~205 txs).
        let early = if stop < 64 { 0 } else { 1 };
        assert_eq!(generations(&resumed), (0, early), "after {stop} blocks");
        append(&resumed, &blocks, stop..blocks.len(), true);
        assert_same_index(&planned, &resumed);
    }
}
