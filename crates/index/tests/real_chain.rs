//! The first 4,313 mainnet blocks, ingested from a plain blk file and from
//! the genuine Bitcoin Core datadir (XOR-obfuscated), and the per-block
//! figures of every sample block against `INDEX.tsv`.

mod common;

use chainhound_chain::{BlockHash, Txid};
use chainhound_index::ingest::IngestOptions;
use chainhound_index::query::Query;
use chainhound_index::scan::scan;
use chainhound_index::source::Source;
use chainhound_index::store::Store;
use common::*;

#[test]
fn mainnet_0_to_4312_counts_hashes_and_queries() {
    let dir = tempfile::tempdir().unwrap();
    // Pages given back whatever the memory available (checked below).
    let opts = IngestOptions {
        drop_behind: Some(true),
        ..Default::default()
    };
    let r = ingest_path_with(&shared("blocks/mainnet_h0-4312.dat"), dir.path(), &opts);
    assert_eq!(r.blocks_added, 4313);
    assert!(
        r.warnings.is_empty() && r.chain_warnings.is_empty(),
        "{:?} {:?}",
        r.warnings,
        r.chain_warnings
    );
    // The file's pages are given back as its blocks are ingested, these
    // 215-byte blocks too (a call per block, rounding inward to whole
    // pages, gave back next to nothing of them).
    if cfg!(target_os = "linux") {
        let len = std::fs::metadata(shared("blocks/mainnet_h0-4312.dat"))
            .unwrap()
            .len();
        assert!(
            r.block_bytes_given_back >= len / 100 * 95,
            "{} of {len}",
            r.block_bytes_given_back
        );
    }
    let store = Store::open(dir.path()).unwrap();
    let c = store.counts();
    assert_eq!((c.blocks, c.txs, c.ins, c.outs), (4313, 4371, 4560, 4397));
    assert_eq!(
        store.block_hash(1000).to_string(),
        "00000000c937983704a73af28acdec37b049d214adbda81d7e2a3dd146f6ed09"
    );
    // Height 2016 as Bitcoin Core's own block index (py-bitcoinkernel) gives it.
    assert_eq!(
        store.block_hash(2016).to_string(),
        "00000000a141216a896c54f211301c436e557a8d55900637bbdce14c6c7bddef"
    );
    assert_eq!(
        store.block_hash(4312).to_string(),
        "00000000a9da635727dce622d78361b153ce3334e6a60d4377fad529abfc7863"
    );
    let q = Query::new(&store);
    // The genesis coinbase pays Satoshi's address; it was never spent.
    let genesis = q.block(0).unwrap();
    assert!(genesis
        .coinbase_text
        .contains("The Times 03/Jan/2009 Chancellor on brink of second bailout for banks"));
    let g = q.tx(&genesis.txids[0]).unwrap();
    assert_eq!(
        g.outputs[0].address.as_deref(),
        Some("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa")
    );
    assert!(g.outputs[0].spent_by.is_none());
    let (a, _) = q
        .find_address("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa")
        .unwrap()
        .unwrap();
    let av = q.address(a, 0, 10);
    assert_eq!(
        (
            av.balance,
            av.tx_count,
            av.first_seen.as_ref().unwrap().height
        ),
        (50_0000_0000, 1, 0)
    );
    // Block 170: the first payment, Satoshi to Hal Finney.
    let t: Txid = "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16"
        .parse()
        .unwrap();
    let tx = q.tx(&t).unwrap();
    assert_eq!((tx.height, tx.index_in_block, tx.fee), (170, 1, Some(0)));
    // Its wallet fingerprint: version 1, no locktime, final sequences.
    assert_eq!(tx.fingerprint, "v1 final");
    let inp = &tx.inputs[0];
    assert_eq!(
        (inp.value, inp.prev_height, inp.prev_coinbase),
        (Some(50_0000_0000), Some(9), Some(true))
    );
    assert_eq!(
        inp.address.as_deref(),
        Some("12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S")
    );
    assert_eq!(tx.outputs[0].value, 10_0000_0000);
    assert_eq!(
        tx.outputs[0].address.as_deref(),
        Some("1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3")
    );
    let spend = tx.outputs[1]
        .spent_by
        .as_ref()
        .expect("the change was spent");
    assert_eq!(spend.height, 181);
    // The spending tx's input points back at this output.
    let next = q.tx(&spend.txid).unwrap();
    assert_eq!(next.inputs[spend.input as usize].prevout, Some((t, 1)));
    // Satoshi's block-9 address: received the coinbase, sent 50, got 40 back.
    let (a9, _) = q
        .find_address("12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S")
        .unwrap()
        .unwrap();
    let v9 = q.address(a9, 0, 100);
    assert!(v9.tx_count >= 3 && v9.received >= 90_0000_0000, "{v9:?}");
    assert_eq!(v9.balance, v9.received - v9.sent);
    assert_eq!(v9.first_seen.as_ref().unwrap().height, 9);
    // Paging: offset 1 starts at the second newest.
    assert_eq!(q.address(a9, 1, 1).history[0].txid, v9.history[1].txid);
    // Every input's value sums up: fees are never negative here.
    let total_spent: u64 = q.prevouts().iter().map(|r| r.value.unwrap()).sum();
    assert_eq!(q.prevouts().len(), 247);
    assert!(total_spent > 0);
    let stats = q.stats();
    assert_eq!(stats.unspent_outputs, 4397 - 247);
    assert_eq!(
        q.block_by_hash(&store.block_hash(2016)).unwrap().height,
        2016
    );
    assert!(q.block_by_hash(&BlockHash([7; 32])).is_none());
}

#[test]
fn core_datadir_with_xor_gives_the_same_index_as_the_plain_file() {
    let tmp = tempfile::tempdir().unwrap();
    untar(
        &shared("blocks/core_datadir_mainnet_h0-4312_from_jeffchan.tar.gz"),
        &tmp.path().join("node"),
    );
    let key = chainhound_index::source::read_xor_key(&tmp.path().join("node/blocks")).unwrap();
    assert_ne!(key, [0; 8], "this datadir is obfuscated");
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let ra = ingest_datadir(&tmp.path().join("node"), &a);
    assert!(ra.warnings.is_empty(), "{:?}", ra.warnings); // zero tails are not warnings
    ingest_path(&shared("blocks/mainnet_h0-4312.dat"), &b);
    assert_same_index(&a, &b);
}

#[test]
fn regtest_datadir_written_by_libbitcoinkernel() {
    let tmp = tempfile::tempdir().unwrap();
    untar(
        &shared("blocks/core_datadir_regtest_h0-150_pbk_demo.tar.gz"),
        &tmp.path().join("node"),
    );
    let r = ingest_datadir(&tmp.path().join("node"), &tmp.path().join("ix"));
    assert_eq!(r.network, Some(chainhound_chain::Network::Regtest));
    let store = Store::open(&tmp.path().join("ix")).unwrap();
    let c = store.counts();
    // 151 blocks, one spend per block from height 102 (see pbk_regtest_demo.py).
    assert_eq!((c.blocks, c.txs, c.ins), (151, 200, 200));
    let rows = Query::new(&store).prevouts();
    assert_eq!(rows.len(), 49);
    assert!(rows
        .iter()
        .all(|r| r.prev_coinbase == Some(true)
            && r.address.as_deref().unwrap().starts_with("bcrt1q")));
}

#[test]
fn scan_matches_every_figure_of_index_tsv() {
    let tsv = std::fs::read_to_string(shared("blocks/INDEX.tsv")).unwrap();
    let mut expected = std::collections::HashMap::new();
    for line in tsv.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        let nums: Vec<usize> = f[5..10].iter().map(|x| x.parse().unwrap()).collect();
        expected.insert(
            f[3].to_string(),
            (f[0].to_string(), f[1].to_string(), f[2].to_string(), nums),
        );
    }
    let mut seen = 0;
    for file in [
        "mainnet_sample_blocks.dat",
        "testnet_signet_sample_blocks.dat",
    ] {
        let src = Source::path(&shared(&format!("blocks/{file}"))).unwrap();
        let warnings = scan(&src, |b| {
            let (efile, enet, eheight, nums) = expected
                .get(&b.hash.to_string())
                .unwrap_or_else(|| panic!("{} not in INDEX.tsv", b.hash));
            assert_eq!(efile, file);
            assert_eq!(enet, b.network.name());
            assert_eq!(
                nums,
                &vec![b.txs, b.inputs, b.outputs, b.segwit_txs, b.taproot_outputs],
                "{}",
                b.hash
            );
            // A BIP34 height, when the block has one, is the real height.
            if let Some(h) = b.height {
                assert_eq!(eheight, &h.to_string(), "{}", b.hash);
            }
            seen += 1;
        });
        assert!(warnings.is_empty(), "{warnings:?}");
    }
    assert_eq!(seen, expected.len());
}
