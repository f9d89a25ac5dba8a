//! Chains that change: stale forks left out, reorganisations rolled back,
//! incremental runs, and weaker forks ignored, on simulated regtest chains.

mod common;

use chainhound_chain::Network;
use chainhound_index::ingest::{ingest, IngestOptions, NoProgress};
use chainhound_index::source::Source;
use chainhound_sim::toy::{generate, script_of};
use chainhound_sim::write::block;
use common::*;
use std::path::Path;

/// `n` blocks of a coinbase only on top of `parent`, its scriptSig tagged
/// with `tag`, its outputs `outs(i, height)` for the `i`th block.
fn coinbases(
    parent: &[u8],
    first_height: u32,
    n: u32,
    tag: &[u8],
    outs: impl Fn(u32, u32) -> Vec<(u64, Vec<u8>)>,
) -> Vec<Vec<u8>> {
    let mut prev = hash_of(parent);
    let mut out = Vec::new();
    for i in 0..n {
        let h = first_height + i;
        let cb = coinbase_tx(h, tag, outs(i, h));
        let (bytes, hash) = block(prev, 1_800_000_000 + h, &[cb]);
        prev = hash;
        out.push(bytes);
    }
    out
}

/// `n` coinbase-only blocks on top of `parent`, paying existing owners.
fn fork(parent: &[u8], first_height: u32, n: u32, tag: u8) -> Vec<Vec<u8>> {
    coinbases(
        parent,
        first_height,
        n,
        &[b'f', b'o', b'r', b'k', tag],
        |i, h| vec![(50_0000_0000 >> (h / 150), script_of((i % 7) as usize, 7))],
    )
}

fn run(datadir: &Path, index: &Path) -> chainhound_index::ingest::IngestReport {
    fixed_seed();
    ingest(
        &Source::datadir(datadir).unwrap(),
        index,
        &IngestOptions::default(),
        &mut NoProgress,
    )
    .unwrap()
}

#[test]
fn stale_fork_blocks_stored_out_of_order_are_left_out() {
    let t = tempfile::tempdir().unwrap();
    let main = generate(7, 200, 20);
    let stale = fork(&main[150], 151, 5, 1);
    // Stored out of height order, the fork in the middle.
    let mut mixed: Vec<Vec<u8>> = main.iter().rev().cloned().collect();
    mixed.splice(60..60, stale);
    write_regtest(&t.path().join("mixed"), &mixed);
    write_regtest(&t.path().join("clean"), &main);
    let r = run(&t.path().join("mixed"), &t.path().join("a"));
    assert_eq!(
        (r.blocks_added, r.stale_blocks, r.orphan_blocks),
        (201, 5, 0)
    );
    run(&t.path().join("clean"), &t.path().join("b"));
    assert_same_index(&t.path().join("a"), &t.path().join("b"));
}

#[test]
fn reorganisation_rolls_back_to_the_fork_and_matches_a_fresh_index() {
    let t = tempfile::tempdir().unwrap();
    let main = generate(11, 180, 20);
    // The best chain changes: from height 171 a longer branch wins.
    let branch = fork(&main[170], 171, 20, 2);
    let node = t.path().join("node");
    write_regtest(&node, &main);
    let ix = t.path().join("ix");
    let first = run(&node, &ix);
    assert_eq!(first.blocks_added, 181);
    let mut both = main.clone();
    both.extend(branch.iter().cloned());
    std::fs::remove_dir_all(&node).unwrap();
    write_regtest(&node, &both);
    let second = run(&node, &ix);
    assert_eq!(
        (
            second.rolled_back_from,
            second.blocks_rolled_back,
            second.blocks_added
        ),
        (Some(171), 10, 20)
    );
    assert_eq!(second.stale_blocks, 10);
    // The same as indexing the winning chain from scratch.
    let mut winner: Vec<Vec<u8>> = main[..=170].to_vec();
    winner.extend(branch);
    assert_same_as_fresh(t.path(), &ix, &winner);
}

/// Asserts that `ix` is the index of `chain` ingested from scratch (files
/// and index written under `tmp`).
fn assert_same_as_fresh(tmp: &Path, ix: &Path, chain: &[Vec<u8>]) {
    write_regtest(&tmp.join("winner"), chain);
    run(&tmp.join("winner"), &tmp.join("fresh"));
    assert_same_index(ix, &tmp.join("fresh"));
}

#[test]
fn running_again_adds_only_new_blocks() {
    let t = tempfile::tempdir().unwrap();
    let main = generate(3, 250, 20);
    write_regtest(&t.path().join("early"), &main[..=120]);
    write_regtest(&t.path().join("all"), &main);
    let ix = t.path().join("ix");
    assert_eq!(run(&t.path().join("early"), &ix).blocks_added, 121);
    let r = run(&t.path().join("all"), &ix);
    assert_eq!((r.blocks_added, r.blocks_rolled_back), (130, 0));
    assert_eq!(run(&t.path().join("all"), &ix).blocks_added, 0);
    run(&t.path().join("all"), &t.path().join("fresh"));
    assert_same_index(&ix, &t.path().join("fresh"));
}

#[test]
fn an_input_with_less_work_than_the_index_changes_nothing() {
    let t = tempfile::tempdir().unwrap();
    let main = generate(5, 200, 20);
    write_regtest(&t.path().join("all"), &main);
    let ix = t.path().join("ix");
    run(&t.path().join("all"), &ix);
    run(&t.path().join("all"), &t.path().join("ref"));
    // Only the first 150 blocks and a short fork off 140.
    let mut weak: Vec<Vec<u8>> = main[..=150].to_vec();
    weak.extend(fork(&main[140], 141, 5, 3));
    write_regtest(&t.path().join("weak"), &weak);
    let r = run(&t.path().join("weak"), &ix);
    assert_eq!((r.blocks_added, r.blocks_rolled_back), (0, 0));
    assert!(
        r.chain_warnings.iter().any(|w| w.contains("no more work")),
        "{:?}",
        r.chain_warnings
    );
    assert_same_index(&ix, &t.path().join("ref"));
}

/// Coinbases paying values past 32 bits (kept in `out_big.col`) and witness
/// programs of unknown versions (address keys whose body length is in the
/// record), many per block so that address groups of `addr_off.col` are
/// crossed; rolled back by a reorganisation, the index equals a fresh one.
fn odd_blocks(parent: &[u8], first_height: u32, n: u32, tag: u8) -> Vec<Vec<u8>> {
    let values = [
        (1u64 << 32) - 2,
        (1 << 32) - 1,
        1 << 40,
        2_100_000_000_000_000, // 21 million BTC
        u64::MAX,
        7,
    ];
    coinbases(parent, first_height, n, &[b'o', b'd', b'd', tag], |i, _| {
        (0..12u32)
            .map(|k| {
                // Witness v2..v16 programs of 2 to 40 bytes, and P2WPKH between.
                let len = 2 + ((i * 12 + k) % 39) as usize;
                let version = 2 + ((i + k) % 15) as u8;
                let mut script = vec![0x50 + version, len as u8];
                script.extend(
                    (0..len).map(|j| (j as u8) ^ tag ^ (i as u8).wrapping_mul(31) ^ k as u8),
                );
                if k % 3 == 2 {
                    script = vec![0x00, 20];
                    script.extend([tag ^ k as u8; 20]);
                }
                (values[((i + k) % 6) as usize], script)
            })
            .collect()
    })
}

#[test]
fn big_values_and_long_keys_read_back_and_roll_back() {
    use chainhound_chain::{address, classify};
    use chainhound_index::store::{OutId, Store, TxNum};
    let t = tempfile::tempdir().unwrap();
    let main = generate(17, 150, 20);
    let mut first = main.clone();
    first.extend(odd_blocks(&main[150], 151, 6, 1));
    let node = t.path().join("node");
    write_regtest(&node, &first);
    let ix = t.path().join("ix");
    run(&node, &ix);

    // Every value and address reads back as the blocks wrote it.
    let st = Store::open(&ix).unwrap();
    let mut big = 0;
    for h in 151..157u32 {
        let b = chainhound_chain::Block::parse(&first[h as usize]).unwrap();
        let outs = st.tx_outputs(TxNum(st.block_txs(h).start));
        for (o, wire) in outs.zip(b.outputs.iter()) {
            assert_eq!(st.out_value(OutId(o)), wire.value, "value of output {o}");
            big += usize::from(wire.value >= u32::MAX as u64);
            let key = classify(wire.script_pubkey).1.unwrap();
            let a = st.out_addr(OutId(o)).unwrap();
            assert_eq!(st.addr_key(a), key, "key of output {o}");
            assert_eq!(st.find_addr(&key), Some(a));
            let s = address::encode(&key, Network::Regtest);
            assert_eq!(address::decode(&s, Network::Regtest).ok(), Some(key), "{s}");
        }
    }
    assert_eq!(big, 6 * 12 * 4 / 6, "outputs of 2^32 - 1 satoshis or more");
    let wide = (0..st.counts().outs)
        .filter(|&o| st.out_value(OutId(o)) >= u32::MAX as u64)
        .count();
    assert!(wide >= big);
    assert_eq!(st.counts().big_values as usize, wide, "one entry each");
    drop(st);

    // A longer branch of coinbases paying known addresses wins: the big
    // values and the new addresses go, and the index is a fresh one's.
    reorganise_past_150(t.path(), &main, &first, 9);
}

/// Rewrites the node of `tmp` with the blocks of `first` (`main`'s 151
/// blocks and a branch on them) and a longer branch of `n` coinbases on
/// `main`'s tip; its ingest into `tmp/ix` must roll back to height 151
/// and end with a fresh index of the winning chain.
fn reorganise_past_150(tmp: &Path, main: &[Vec<u8>], first: &[Vec<u8>], n: u32) {
    let (node, ix) = (tmp.join("node"), tmp.join("ix"));
    let second = fork(&main[150], 151, n, 2);
    let mut both = first.to_vec();
    both.extend(second.iter().cloned());
    std::fs::remove_dir_all(&node).unwrap();
    write_regtest(&node, &both);
    let r = run(&node, &ix);
    assert_eq!((r.rolled_back_from, r.blocks_added), (Some(151), n as u64));
    let mut winner = main.to_vec();
    winner.extend(second);
    assert_same_as_fresh(tmp, &ix, &winner);
}

/// A coinbase of 300 outputs, a tx spending 260 of them, and 70 small txs
/// around them: counts of 255 or more go in `tx_big.col`, records of 59
/// txs are crossed; every span and owner reads back, and a reorganisation
/// to a longer branch gives a fresh index's bytes.
#[test]
fn transactions_of_hundreds_of_outputs_and_inputs_read_back_and_roll_back() {
    use chainhound_index::store::{OutId, Store, TxNum};
    let t = tempfile::tempdir().unwrap();
    let main = generate(29, 150, 20);
    let payees = |n: u32| -> Vec<(u64, Vec<u8>)> {
        (0..n)
            .map(|k| (1000 + k as u64, script_of(k as usize % 40, 40)))
            .collect()
    };
    let cb = coinbase_tx(151, b"wide", payees(300));
    let cb_txid = cb.1;
    let (b1, h1) = block(hash_of(&main[150]), 1_800_000_151, &[cb]);
    let mut txs = vec![coinbase_tx(152, b"wide", payees(1))];
    for k in 0..30u32 {
        txs.push(spend(&[(cb_txid, 260 + k)], payees(3)));
    }
    let prevs: Vec<([u8; 32], u32)> = (0..260).map(|v| (cb_txid, v)).collect();
    txs.push(spend(&prevs, payees(2)));
    for k in 0..40u32 {
        let (_, prev) = txs[1 + (k % 30) as usize].clone();
        txs.push(spend(&[(prev, 0)], payees(1 + k % 4)));
    }
    let (b2, _) = block(h1, 1_800_000_152, &txs);
    let mut first = main.clone();
    first.extend([b1.clone(), b2.clone()]);
    let node = t.path().join("node");
    write_regtest(&node, &first);
    let ix = t.path().join("ix");
    run(&node, &ix);

    let st = Store::open(&ix).unwrap();
    assert_eq!(
        st.counts().big_txs,
        2,
        "the wide coinbase and the wide spender"
    );
    let mut blocks_txs = Vec::new();
    for (h, bytes) in [(151u32, &b1), (152, &b2)] {
        let b = chainhound_chain::Block::parse(bytes).unwrap();
        let ids = st.block_txs(h);
        assert_eq!(ids.len(), b.txs.len());
        for (k, tx) in b.txs.iter().enumerate() {
            let tn = TxNum(ids.start + k as u32);
            let (outs, ins) = (st.tx_outputs(tn), st.tx_inputs(tn));
            assert_eq!(
                outs.end - outs.start,
                tx.outputs.len() as u64,
                "outputs of {tn:?}"
            );
            assert_eq!(
                ins.end - ins.start,
                tx.inputs.len() as u64,
                "inputs of {tn:?}"
            );
            for o in outs.clone() {
                assert_eq!(st.out_tx(OutId(o)), tn, "owner of output {o}");
                assert_eq!(st.out_vout(tn, OutId(o)), (o - outs.start) as u32);
            }
            blocks_txs.push((tn, tx.inputs.len()));
        }
    }
    // The wide spender's inputs are the coinbase's first 260 outputs.
    let cb_outs = st.tx_outputs(TxNum(st.block_txs(151).start));
    assert_eq!(cb_outs.end - cb_outs.start, 300);
    let (wide, n) = blocks_txs[1 + 1 + 30];
    assert_eq!(n, 260);
    for (v, i) in st.tx_inputs(wide).enumerate() {
        assert_eq!(st.in_prevout(i), Ok(Some(OutId(cb_outs.start + v as u64))));
    }
    drop(st);

    reorganise_past_150(t.path(), &main, &first, 4);
}

#[test]
fn an_index_of_the_old_format_asks_for_a_new_ingest() {
    use chainhound_index::store::{Store, StoreError};
    let t = tempfile::tempdir().unwrap();
    write_regtest(&t.path().join("node"), &generate(23, 120, 5));
    let ix = t.path().join("ix");
    run(&t.path().join("node"), &ix);
    // A format 2 manifest: no counts of big values and key bytes.
    let m = ix.join("manifest.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&m).unwrap()).unwrap();
    v["format"] = 2.into();
    let counts = v["counts"].as_object_mut().unwrap();
    counts.remove("big_values");
    counts.remove("key_bytes");
    std::fs::write(&m, v.to_string()).unwrap();
    match Store::open(&ix) {
        Err(e @ StoreError::Format { found: 2, .. }) => {
            assert!(e.to_string().contains("re-ingest"), "{e}")
        }
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("an old index opened"),
    }
}

#[test]
fn spends_resolve_within_a_block_to_the_latest_txid_and_problems_are_named() {
    use chainhound_index::store::{OutId, Store, TxNum};
    let t = tempfile::tempdir().unwrap();
    let main = generate(29, 120, 5);
    let pay = |n: u64| vec![(n, script_of(1, 3)), (n, script_of(2, 3))];
    // Block 121: a coinbase, a tx spending it, one spending that (both in
    // the block), one spending a txid nowhere indexed, one an output index
    // past the end.
    let cb = coinbase_tx(121, b"spends", pay(25));
    let t1 = spend(&[(cb.1, 1)], pay(10));
    let t2 = spend(&[(t1.1, 0), (cb.1, 0)], pay(5));
    let t3 = spend(&[([7; 32], 0)], pay(1));
    let t4 = spend(&[(t1.1, 5)], pay(1));
    let (b121, h121) = block(
        hash_of(&main[120]),
        1_800_000_121,
        &[cb.clone(), t1.clone(), t2.clone(), t3.clone(), t4.clone()],
    );
    // Blocks 122 to 127: the same coinbase six times (one txid, as mainnet's
    // blocks 91812 and 91842 share one; more than the candidates a spend
    // defers), then a spend of it and a second spend of t1:0.
    let dup = coinbase_tx(122, b"repeated", pay(25));
    let mut dups = Vec::new();
    let mut prev = h121;
    for h in 122..128u32 {
        let (b, hash) = block(prev, 1_800_000_000 + h, std::slice::from_ref(&dup));
        dups.push(b);
        prev = hash;
    }
    let cb128 = coinbase_tx(128, b"later", pay(25));
    let t5 = spend(&[(dup.1, 1), (t1.1, 0)], pay(3));
    let (b128, _) = block(prev, 1_800_000_128, &[cb128, t5.clone()]);
    let mut blocks = main.clone();
    blocks.push(b121);
    blocks.extend(dups);
    blocks.push(b128);
    let node = t.path().join("node");
    write_regtest(&node, &blocks);
    let ix = t.path().join("ix");
    let report = run(&node, &ix);

    let st = Store::open(&ix).unwrap();
    let tx = |id: [u8; 32]| st.find_tx(&chainhound_chain::Txid(id)).unwrap();
    let out = |id: [u8; 32], v: u64| OutId(st.tx_outputs(tx(id)).start + v);
    let prevout = |id: [u8; 32], i: u64| st.in_prevout(st.tx_inputs(tx(id)).start + i);
    // Spends of earlier txs of the same block, and their spenders.
    assert_eq!(prevout(t1.1, 0), Ok(Some(out(cb.1, 1))));
    assert_eq!(prevout(t2.1, 0), Ok(Some(out(t1.1, 0))));
    assert_eq!(prevout(t2.1, 1), Ok(Some(out(cb.1, 0))));
    assert_eq!(st.out_spender(out(cb.1, 1)).map(|s| s.0), Some(tx(t1.1)));
    assert_eq!(st.out_spender(out(cb.1, 0)).map(|s| s.0), Some(tx(t2.1)));
    // A repeated txid resolves to its latest tx (block 127's).
    let dup_tx = tx(dup.1);
    assert_eq!(st.tx_height(dup_tx), 127);
    assert_eq!(prevout(t5.1, 0), Ok(Some(out(dup.1, 1))));
    let first_dup = TxNum(st.block_txs(122).start);
    assert_eq!(st.txid(first_dup).0, dup.1);
    assert_eq!(
        st.out_spender(OutId(st.tx_outputs(first_dup).start + 1)),
        None
    );
    // The problems: unresolved inputs, each named once, in chain order.
    let w = &report.chain_warnings;
    assert_eq!(w.len(), 3, "{w:#?}");
    assert!(
        w[0].starts_with("block 121: ") && w[0].contains("spends unknown tx"),
        "{}",
        w[0]
    );
    assert!(
        w[1].starts_with("block 121: ") && w[1].contains("spends missing output"),
        "{}",
        w[1]
    );
    assert!(
        w[2].starts_with("block 128: ") && w[2].contains("spent again"),
        "{}",
        w[2]
    );
    assert_eq!(prevout(t3.1, 0), Err(()));
    assert_eq!(prevout(t4.1, 0), Err(()));
    // The double spend keeps the input's own prevout; the mark names the latest spender.
    assert_eq!(prevout(t5.1, 1), Ok(Some(out(t1.1, 0))));
    assert_eq!(st.out_spender(out(t1.1, 0)).map(|s| s.0), Some(tx(t5.1)));
}
