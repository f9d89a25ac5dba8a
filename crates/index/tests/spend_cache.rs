//! The memory aids of ingest must change no byte of the index. The spend
//! cache (`store::spends`) answers spends from memory: the same index with
//! it, without it, with one so small that it evicts all the time, across
//! runs that warm it from the index and across a rollback; on a simulated
//! chain and on real mainnet blocks. Written pages given back to the
//! kernel (drop-behind) read back the same.

mod common;

use chainhound_chain::{Block, Network};
use chainhound_index::ingest::{ingest, prepare, IngestOptions, IngestReport, NoProgress};
use chainhound_index::source::Source;
use chainhound_index::store::Store;
use chainhound_sim::toy::{generate_sized, script_of};
use chainhound_sim::write::block;
use common::*;
use std::path::Path;

/// Ingests `src` into `ix` with a spend cache of `bytes`, in runs ending at
/// each of `stops` (then the rest); the reports of every run.
fn ingest_in_runs(src: &Source, ix: &Path, bytes: u64, stops: &[u32]) -> Vec<IngestReport> {
    let opts = IngestOptions {
        spend_cache_bytes: bytes,
        ..Default::default()
    };
    ingest_in_runs_with(src, ix, &opts, stops)
}

/// As [`ingest_in_runs`], with options `opts` (their `max_height` aside).
fn ingest_in_runs_with(
    src: &Source,
    ix: &Path,
    opts: &IngestOptions,
    stops: &[u32],
) -> Vec<IngestReport> {
    fixed_seed();
    let mut runs: Vec<Option<u32>> = stops.iter().map(|&h| Some(h)).collect();
    runs.push(None);
    runs.into_iter()
        .map(|max_height| {
            let opts = IngestOptions {
                max_height,
                ..opts.clone()
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

/// `blocks` written as a regtest node under `dir`, as a source.
fn node(dir: &Path, blocks: &[Vec<u8>]) -> Source {
    write_regtest(&dir.join("node"), blocks);
    Source::datadir(&dir.join("node")).unwrap()
}

/// A budget of this many bytes holds 55 entries (a table of 128 slots).
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
    let src = node(t.path(), &generate_sized(41, 400, 60, 25));

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

    // A cache of 55 entries, evicting all the time.
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
    let src = node(t.path(), &blocks);

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
    // In runs of about 1000 blocks, with a cache of 55 entries.
    let tiny = same_as_without(&src, t.path(), "tiny", TINY, &[1000, 2000, 3000]);
    assert_eq!(from_cache(&tiny) + from_index(&tiny), spends);
    assert!(from_cache(&tiny) > 0);
}

/// Pages of the columns ingest never reads back are given back to the
/// kernel once written (every 32 MB appended by default; here every page):
/// the index must hold the same bytes, within a run and across runs.
#[test]
fn written_pages_given_back_read_back_the_same() {
    let t = tempfile::tempdir().unwrap();
    let src = node(t.path(), &generate_sized(47, 400, 60, 25));
    let plain = ingest_in_runs(&src, &t.path().join("plain"), 0, &[250]);
    assert!(plain.iter().all(|r| r.column_bytes_given_back == 0));
    let opts = IngestOptions {
        spend_cache_bytes: 0,
        writeback_every: 1,
        drop_behind: Some(true),
        ..Default::default()
    };
    let dropped = ingest_in_runs_with(&src, &t.path().join("dropped"), &opts, &[250]);
    if cfg!(target_os = "linux") {
        for r in &dropped {
            assert!(r.column_bytes_given_back >= 32 << 10, "{r:?}");
        }
    }
    assert_eq!(chain_warnings(&dropped), chain_warnings(&plain));
    assert_same_index(&t.path().join("plain"), &t.path().join("dropped"));
}

/// New table entries can be held in memory and swept into the tables'
/// files at each commit or once too many are held. Writing each in place,
/// sweeping after every block (1 or 37 held: both tables pass that every
/// block), and holding everything until a commit every 10 blocks (spends
/// of earlier blocks' txs found among the held entries) must give the same
/// files.
#[test]
fn table_entries_swept_in_any_batches_give_the_same_index() {
    let t = tempfile::tempdir().unwrap();
    let src = node(t.path(), &generate_sized(53, 400, 60, 25));
    let in_place = IngestOptions {
        spend_cache_bytes: 0,
        max_held: Some(0),
        ..Default::default()
    };
    let plain = ingest_in_runs_with(&src, &t.path().join("plain"), &in_place, &[250]);
    // Every spend found (in the tables' files or among the held entries).
    assert_eq!(chain_warnings(&plain), Vec::<String>::new());
    for (held, every) in [(1, 0), (37, 0), (usize::MAX, 10)] {
        let opts = IngestOptions {
            spend_cache_bytes: 0,
            max_held: Some(held),
            commit_every_blocks: every,
            ..Default::default()
        };
        let dir = t.path().join(format!("held-{held}"));
        let swept = ingest_in_runs_with(&src, &dir, &opts, &[250]);
        // usize::MAX is capped by the memory (at 65,536 at least, more
        // than this chain's entries between two commits).
        let capped = |b: u64| (65_536..=u32::MAX as u64 / 2).contains(&b);
        let want = |b: u64| b == held as u64 || (held == usize::MAX && capped(b));
        assert!(swept.iter().all(|r| want(r.table_batch)));
        assert_eq!(chain_warnings(&swept), chain_warnings(&plain));
        assert_same_index(&t.path().join("plain"), &dir);
    }
}

/// A rollback must empty the cache: the ids of the outputs it removes are
/// given to the next blocks' outputs, so a cached outpoint of a removed tx
/// would name another tx's output. Here tx X (block 3a) is cached, the
/// store rolls back to height 3, block 3b's tx Y takes X's output ids, and
/// block 4b spends X:0, which no longer exists, and Y:1. The index must be
/// the one made by appending 3b and 4b without ever seeing 3a, with no cache.
#[test]
fn a_rollback_forgets_the_cached_outputs_it_removes() {
    fixed_seed();
    let t = tempfile::tempdir().unwrap();
    let pay = |n: u64, k: usize| vec![(n, script_of(k, 3)), (n, script_of(k + 1, 3))];
    let mut base = Vec::new();
    let mut coinbases = Vec::new();
    let mut prev = [0u8; 32];
    for h in 0..3u32 {
        let cb = coinbase_tx(h, b"base", pay(50, 10 * h as usize));
        let (b, hash) = block(prev, 1_800_000_000 + h, std::slice::from_ref(&cb));
        base.push(b);
        coinbases.push(cb.1);
        prev = hash;
    }
    let x = spend(&[(coinbases[1], 0)], pay(20, 100));
    let (b3a, _) = block(
        prev,
        1_800_000_003,
        &[coinbase_tx(3, b"a", pay(50, 200)), x.clone()],
    );
    let y = spend(&[(coinbases[2], 0)], pay(20, 300));
    let (b3b, h3b) = block(
        prev,
        1_800_000_013,
        &[coinbase_tx(3, b"b", pay(50, 400)), y.clone()],
    );
    let z = spend(&[(x.1, 0), (y.1, 1)], pay(5, 500));
    let (b4b, _) = block(h3b, 1_800_000_014, &[coinbase_tx(4, b"b", pay(50, 600)), z]);

    let append = |store: &mut Store, bytes: &[u8]| {
        let b = prepare(&Block::parse(bytes).unwrap(), &store.hasher());
        store.append(&b).unwrap();
    };
    let run = |dir: &Path, cache: u64, blocks: &[&[u8]], fork: Option<(u32, &[&[u8]])>| {
        let mut store = Store::open_writer(dir, Network::Regtest).unwrap();
        store.reserve(20).unwrap();
        store.set_spend_cache_budget(cache);
        for b in blocks {
            append(&mut store, b);
        }
        if let Some((height, more)) = fork {
            store.commit().unwrap();
            store.rollback_to(height).unwrap();
            for b in more {
                append(&mut store, b);
            }
        }
        let warnings = store.take_warnings();
        let hits = store.spend_cache().unwrap().hits;
        store.commit().unwrap();
        store.close().unwrap();
        (warnings, hits)
    };
    let base: Vec<&[u8]> = base.iter().map(|b| b.as_slice()).collect();
    let mut with_a = base.clone();
    with_a.push(&b3a);
    let (w_cached, hits) = run(
        &t.path().join("cached"),
        1 << 20,
        &with_a,
        Some((3, &[&b3b, &b4b])),
    );
    let mut fresh = base.clone();
    fresh.extend([b3b.as_slice(), b4b.as_slice()]);
    let (w_fresh, _) = run(&t.path().join("fresh"), 0, &fresh, None);
    assert!(hits >= 2, "X's and Y's spends of cached outputs: {hits}");
    assert!(
        w_fresh.len() == 1 && w_fresh[0].contains("block 4"),
        "X:0 is unknown after the rollback: {w_fresh:#?}"
    );
    assert_eq!(w_cached, w_fresh);
    assert_same_index(&t.path().join("fresh"), &t.path().join("cached"));
}

/// `OP_RETURN` outputs are never spent: neither appending nor warming from
/// the index gives them a place in the cache.
#[test]
fn op_return_outputs_take_no_room_in_the_cache() {
    fixed_seed();
    let t = tempfile::tempdir().unwrap();
    let op_return = [&[0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed][..], &[7u8; 32]].concat();
    let pay = |n: u64, k: usize| vec![(n, script_of(k, 3)), (0, op_return.clone())];
    let (mut blocks, mut coinbases, mut prev) = (Vec::new(), Vec::new(), [0u8; 32]);
    for h in 0..6u32 {
        let cb = coinbase_tx(h, b"cb", pay(50, h as usize));
        let (b, hash) = block(prev, 1_800_000_000 + h, std::slice::from_ref(&cb));
        blocks.push(b);
        coinbases.push(cb.1);
        prev = hash;
    }
    let x = spend(&[(coinbases[1], 0)], pay(20, 100));
    let (b6, _) = block(prev, 1_800_000_006, &[coinbase_tx(6, b"cb", pay(50, 6)), x]);
    blocks.push(b6);

    let dir = t.path().join("ix");
    let mut store = Store::open_writer(&dir, Network::Regtest).unwrap();
    store.reserve(20).unwrap();
    store.set_spend_cache_budget(1 << 20);
    for b in &blocks {
        let p = prepare(&Block::parse(b).unwrap(), &store.hasher());
        store.append(&p).unwrap();
    }
    let cache = store.spend_cache().unwrap();
    assert_eq!(cache.hits, 1, "the coinbase payment spent by x");
    // 7 coinbase payments and x's, one of them spent; 8 OP_RETURNs left out.
    assert_eq!(cache.len(), 7);
    store.close().unwrap();

    let mut store = Store::open_writer(&dir, Network::Regtest).unwrap();
    store.set_spend_cache_budget(1 << 20);
    assert_eq!(store.warm_spend_cache(100), 7);
    store.close().unwrap();
}
