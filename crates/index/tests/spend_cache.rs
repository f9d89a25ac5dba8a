//! The spend cache (`store::spends`) answers spends from memory and must
//! change no byte of the index: the same index with it, without it, with
//! one so small that it evicts all the time, and across runs that warm it
//! from the index; on a simulated chain and on real mainnet blocks.

mod common;

use chainhound_index::ingest::{ingest, IngestOptions, IngestReport, NoProgress};
use chainhound_index::source::Source;
use chainhound_sim::toy::{generate_sized, script_of};
use chainhound_sim::write::block;
use common::*;
use std::path::Path;

/// Ingests `src` into `ix` with a spend cache of `bytes`, in runs ending at
/// each of `stops` (then the rest); the reports of every run.
fn ingest_in_runs(src: &Source, ix: &Path, bytes: u64, stops: &[u32]) -> Vec<IngestReport> {
    fixed_seed();
    let mut runs: Vec<Option<u32>> = stops.iter().map(|&h| Some(h)).collect();
    runs.push(None);
    runs.into_iter()
        .map(|max_height| {
            let opts = IngestOptions {
                spend_cache_bytes: bytes,
                max_height,
                ..Default::default()
            };
            ingest(src, ix, &opts, &mut NoProgress).unwrap()
        })
        .collect()
}

fn from_cache(r: &[IngestReport]) -> u64 {
    r.iter().map(|r| r.spends_from_cache).sum()
}
fn from_index(r: &[IngestReport]) -> u64 {
    r.iter().map(|r| r.spends_from_index).sum()
}
fn chain_warnings(r: &[IngestReport]) -> Vec<String> {
    r.iter().flat_map(|r| r.chain_warnings.clone()).collect()
}

/// A budget of this many bytes holds 56 entries (a table of 128 slots).
const TINY: u64 = 4096;

/// Ingests `src` with stops `stops` with the cache off and with `bytes`,
/// asserts the two indexes are the same, and returns the cached run's reports.
fn same_as_without(
    src: &Source,
    tmp: &Path,
    name: &str,
    bytes: u64,
    stops: &[u32],
) -> Vec<IngestReport> {
    let off = ingest_in_runs(src, &tmp.join(format!("{name}-off")), 0, stops);
    assert_eq!(from_cache(&off), 0);
    let on = ingest_in_runs(src, &tmp.join(name), bytes, stops);
    assert_eq!(from_cache(&on) + from_index(&on), from_index(&off));
    assert_eq!(chain_warnings(&on), chain_warnings(&off));
    assert_same_index(&tmp.join(format!("{name}-off")), &tmp.join(name));
    on
}

#[test]
fn the_cache_changes_no_byte_of_a_simulated_index() {
    let t = tempfile::tempdir().unwrap();
    let chain = generate_sized(41, 400, 60, 25);
    write_regtest(&t.path().join("node"), &chain);
    let src = Source::datadir(&t.path().join("node")).unwrap();

    // One run, a large budget: every spend is of an output this run made,
    // so every one is answered from memory.
    let one = same_as_without(&src, t.path(), "one", 2 << 30, &[]);
    let spends = from_cache(&one);
    assert!(spends > 5_000, "{spends} spends");
    assert_eq!(from_index(&one), 0);

    // Three runs: the later ones warm the cache with the outputs of the
    // txs before them.
    let runs = same_as_without(&src, t.path(), "runs", 2 << 30, &[150, 300]);
    assert!(runs[1].spend_cache_warmed > 0 && runs[2].spend_cache_warmed > 0);
    assert!(from_cache(&runs) > from_index(&runs));

    // A cache of 56 entries, evicting all the time.
    let tiny = same_as_without(&src, t.path(), "tiny", TINY, &[200]);
    let (hit, miss) = (from_cache(&tiny), from_index(&tiny));
    assert!(
        hit > 0 && miss > 0,
        "{hit} from memory, {miss} from the index"
    );
}

/// A txid met twice (as mainnet's coinbases at 91812 and 91842): the newer
/// tx's output is spent, then spent again. A run that starts between the
/// two spends warms the cache from the index, newest first: it must not
/// take the older tx's unspent output for the outpoint, since the index's
/// own lookup names the newer one (and warns of the double spend).
#[test]
fn warming_keeps_to_the_newest_of_a_repeated_txid() {
    let t = tempfile::tempdir().unwrap();
    let main = generate_sized(43, 110, 5, 3);
    let pay = |n: u64| vec![(n, script_of(1, 3)), (n, script_of(2, 3))];
    let dup = coinbase_tx(111, b"twice", pay(25));
    let (b111, h111) = block(
        hash_of(&main[110]),
        1_800_000_111,
        std::slice::from_ref(&dup),
    );
    let first = spend(&[(dup.1, 1)], pay(10));
    let (b112, h112) = block(h111, 1_800_000_112, &[dup.clone(), first.clone()]);
    let cb113 = coinbase_tx(113, b"later", pay(25));
    let again = spend(&[(dup.1, 1)], pay(3));
    let (b113, mut prev) = block(h112, 1_800_000_113, &[cb113, again]);
    let mut blocks = main;
    blocks.extend([b111, b112, b113]);
    // Blocks after, so that the second run warms its cache with more txs
    // than the three of blocks 111 and 112.
    for h in 114..124u32 {
        let (b, hash) = block(prev, 1_800_000_000 + h, &[coinbase_tx(h, b"pad", pay(1))]);
        blocks.push(b);
        prev = hash;
    }
    write_regtest(&t.path().join("node"), &blocks);
    let src = Source::datadir(&t.path().join("node")).unwrap();

    let off = ingest_in_runs(&src, &t.path().join("x"), 0, &[]);
    let w = chain_warnings(&off);
    assert!(
        w.len() == 1 && w[0].starts_with("block 113: ") && w[0].contains("spent again"),
        "{w:#?}"
    );
    // Stopped after block 112, then on from a cache warmed by the index.
    let on = same_as_without(&src, t.path(), "on", 2 << 30, &[112]);
    assert!(on[1].spend_cache_warmed > 0);
    assert_eq!(chain_warnings(&on), w);
}

#[test]
fn real_mainnet_blocks_give_the_same_index_with_and_without_the_cache() {
    let t = tempfile::tempdir().unwrap();
    let src = Source::path(&shared("blocks/mainnet_h0-4312.dat")).unwrap();
    let one = same_as_without(&src, t.path(), "one", 2 << 30, &[]);
    let spends = from_cache(&one);
    assert_eq!(spends, 4_560 - 4_313, "inputs that are not coinbases");
    assert_eq!(from_index(&one), 0);
    // In runs of about 1000 blocks, with a cache of 56 entries.
    let tiny = same_as_without(&src, t.path(), "tiny", TINY, &[1000, 2000, 3000]);
    assert_eq!(from_cache(&tiny) + from_index(&tiny), spends);
    assert!(from_cache(&tiny) > 0);
}
