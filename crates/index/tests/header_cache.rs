//! The header cache (`INDEX/headers.cache`): a second run walks only what
//! was appended to the block files since the first, gives the same index,
//! warnings included, and a cache that no longer fits the files is not
//! trusted.

mod common;

use chainhound_chain::Network;
use chainhound_index::headercache;
use chainhound_index::ingest::IngestReport;
use chainhound_sim::toy::generate;
use common::*;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;

const KEY: [u8; 8] = *b"k3y!xor.";

/// Framed regtest records of `blocks`, XORed with [`KEY`] as if they
/// started at byte `at` of their file.
fn frames(blocks: &[Vec<u8>], at: usize) -> Vec<u8> {
    frames_on(Network::Regtest, blocks, at)
}

/// Framed records of `blocks` of `network`, XORed with [`KEY`] as if they
/// started at byte `at` of their file.
fn frames_on(network: Network, blocks: &[Vec<u8>], at: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for b in blocks {
        frame(&mut out, network.magic(), b);
    }
    for (i, x) in out.iter_mut().enumerate() {
        *x ^= KEY[(at + i) % 8];
    }
    out
}

/// Writes `bytes` over the start of `path`, keeping the file (its inode)
/// and whatever lies past them, as Bitcoin Core appends into the zeros it
/// pre-allocated.
fn write_in_place(path: &Path, bytes: &[u8]) {
    let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.seek(SeekFrom::Start(0)).unwrap();
    f.write_all(bytes).unwrap();
}

struct Node {
    blocks: Vec<Vec<u8>>,
    /// blk00000.dat as finally written: blocks 0..60, 13 bytes of garbage
    /// after block 10.
    file0: Vec<u8>,
    /// blk00001.dat: blocks 60..180, then zeros (pre-allocated).
    file1: Vec<u8>,
    /// Length of file1's blocks 60..121.
    file1_early: usize,
    /// blk00002.dat: blocks 180..251.
    file2: Vec<u8>,
}

fn node() -> Node {
    let blocks = generate(5, 250, 20);
    let mut file0 = frames(&blocks[..11], 0);
    file0.extend_from_slice(b"garbage here!");
    let rest = frames(&blocks[11..60], file0.len());
    file0.extend(rest);
    let mut file1 = frames(&blocks[60..121], 0);
    let file1_early = file1.len();
    let rest = frames(&blocks[121..180], file1_early);
    file1.extend(rest);
    file1.extend(std::iter::repeat_n(0u8, 5000));
    let file2 = frames(&blocks[180..], 0);
    Node {
        blocks,
        file0,
        file1,
        file1_early,
        file2,
    }
}

/// A datadir's `blocks/` with [`KEY`] as its XOR key and these files.
fn write_node(dir: &Path, files: &[(&str, &[u8])]) {
    let b = dir.join("blocks");
    std::fs::create_dir_all(&b).unwrap();
    std::fs::write(b.join("xor.dat"), KEY).unwrap();
    for (name, bytes) in files {
        std::fs::write(b.join(name), bytes).unwrap();
    }
}

fn write_full(dir: &Path, n: &Node) {
    write_node(
        dir,
        &[
            ("blk00000.dat", &n.file0),
            ("blk00001.dat", &n.file1),
            ("blk00002.dat", &n.file2),
        ],
    );
}

fn summary(r: &IngestReport) -> (u64, u64, u64, Vec<(String, u64, String)>) {
    let w = r
        .warnings
        .iter()
        .map(|w| {
            let name = w.file.file_name().unwrap().to_string_lossy().to_string();
            (name, w.offset, w.message.clone())
        })
        .collect();
    (
        r.blocks_added,
        r.blocks_rolled_back,
        r.stale_blocks as u64,
        w,
    )
}

#[test]
fn a_second_run_walks_only_what_was_appended_and_gives_the_same_index() {
    let t = tempfile::tempdir().unwrap();
    let n = node();
    // The node as it was at height 120: blk00001.dat pre-allocated, its
    // later blocks still zeros; no blk00002.dat yet.
    let node_dir = t.path().join("node");
    let b = node_dir.join("blocks");
    let mut early1 = n.file1[..n.file1_early].to_vec();
    early1.resize(n.file1.len(), 0);
    write_node(
        &node_dir,
        &[("blk00000.dat", &n.file0), ("blk00001.dat", &early1)],
    );

    let ix = t.path().join("ix");
    let first = ingest_datadir(&node_dir, &ix);
    assert_eq!(first.blocks_added, 121);
    assert_eq!((first.headers_cached, first.bytes_not_rescanned), (0, 0));
    assert_eq!(first.warnings.len(), 1, "{:?}", first.warnings);
    assert!(first.warnings[0].message.contains("garbage"));
    assert!(ix.join(headercache::FILE_NAME).exists());

    // Core goes on: blk00001.dat filled in place, blk00002.dat started.
    write_in_place(&b.join("blk00001.dat"), &n.file1);
    std::fs::write(b.join("blk00002.dat"), &n.file2).unwrap();
    let second = ingest_datadir(&node_dir, &ix);
    // Every record of the first run but the last of each file came from
    // the cache (the last is read again: Core may have been writing it).
    assert_eq!(second.headers_cached, (60 - 1) + (61 - 1));
    assert!(second.bytes_not_rescanned > (n.file0.len() + n.file1_early) as u64 - 2000);

    // A fresh index of the same files, walked from scratch.
    let fresh_node = t.path().join("fresh-node");
    write_full(&fresh_node, &n);
    let fresh = ingest_datadir(&fresh_node, &t.path().join("fresh"));
    assert_eq!(fresh.blocks_added, n.blocks.len() as u64);
    assert_eq!(second.blocks_added, 130);
    assert_eq!(summary(&second).3, summary(&fresh).3, "the same warnings");
    assert_same_index(&ix, &t.path().join("fresh"));

    // Nothing new: every header but the last of each file from the cache,
    // the garbage still reported, nothing added; and the cache file is left
    // as it was (not written again: the same file, not a renamed copy).
    let cache_file = ix.join(headercache::FILE_NAME);
    let before = (std::fs::read(&cache_file).unwrap(), file_id(&cache_file));
    let third = ingest_datadir(&node_dir, &ix);
    assert_eq!(third.headers_cached, 251 - 3);
    assert_eq!(summary(&third), (0, 0, 0, summary(&fresh).3));
    assert_same_index(&ix, &t.path().join("fresh"));
    assert_eq!(
        (std::fs::read(&cache_file).unwrap(), file_id(&cache_file)),
        before
    );
    let again = ingest_datadir(&node_dir, &ix);
    assert_eq!(
        again.headers_cached,
        251 - 3,
        "the kept cache is still used"
    );

    // A file gone from the node: the cache is written again without it.
    std::fs::remove_file(b.join("blk00002.dat")).unwrap();
    let _ = ingest_datadir(&node_dir, &ix);
    assert_ne!(file_id(&cache_file), before.1);
    assert!(std::fs::read(&cache_file).unwrap().len() < before.0.len());
}

/// The inode and modification time of a file (a rename over it changes both).
fn file_id(p: &Path) -> (u64, std::time::SystemTime) {
    let m = std::fs::metadata(p).unwrap();
    #[cfg(unix)]
    let ino = std::os::unix::fs::MetadataExt::ino(&m);
    #[cfg(not(unix))]
    let ino = 0;
    (ino, m.modified().unwrap())
}

#[test]
fn a_cache_that_no_longer_fits_the_files_is_not_trusted() {
    let t = tempfile::tempdir().unwrap();
    let n = node();
    let node_dir = t.path().join("node");
    write_full(&node_dir, &n);
    let fresh = t.path().join("fresh");
    ingest_datadir(&node_dir, &fresh);
    let ix = t.path().join("ix");
    assert_eq!(ingest_datadir(&node_dir, &ix).headers_cached, 0);
    let cache = ix.join(headercache::FILE_NAME);
    let good = std::fs::read(&cache).unwrap();
    let redo = |ix: &Path| {
        // Forget the blocks (the index is rebuilt), keep the cache file.
        let keep = std::fs::read(ix.join(headercache::FILE_NAME)).unwrap();
        std::fs::remove_dir_all(ix).unwrap();
        std::fs::create_dir_all(ix).unwrap();
        std::fs::write(ix.join(headercache::FILE_NAME), keep).unwrap();
        ingest_datadir(&node_dir, ix)
    };

    // The cache of good files is used, and gives the same index.
    assert_eq!(redo(&ix).headers_cached, 251 - 3);
    assert_same_index(&ix, &fresh);

    // Damaged cache files: ignored, the files walked again, same index.
    for damaged in [
        good[..good.len() / 2].to_vec(),
        b"not a cache".to_vec(),
        {
            // One bit of a record in the middle changed.
            let mut g = good.clone();
            let at = g.len() / 2;
            g[at] ^= 4;
            g
        },
        Vec::new(),
        {
            let mut g = good.clone();
            g.push(0);
            g
        },
    ] {
        std::fs::write(&cache, &damaged).unwrap();
        let r = redo(&ix);
        assert_eq!((r.headers_cached, r.blocks_added), (0, 251));
        assert_same_index(&ix, &fresh);
        // Said, naming the cache file, before the block files' warnings.
        let w = &r.warnings[0];
        assert_eq!((w.file.as_path(), w.offset), (cache.as_path(), 0));
        assert!(
            w.message.starts_with("header cache not used ("),
            "{}",
            w.message
        );
        assert!(r.warnings[1].message.contains("garbage"));
    }

    // A file replaced by another (a new inode: written beside it, then
    // renamed over it) and one shifted in place (the same inode, its
    // records moved): their entries are not used, blk00001.dat's is.
    std::fs::write(&cache, &good).unwrap();
    let b = node_dir.join("blocks");
    std::fs::write(b.join("new.tmp"), &n.file2).unwrap();
    std::fs::rename(b.join("new.tmp"), b.join("blk00002.dat")).unwrap();
    let mut shifted = vec![0u8; 800];
    shifted.extend_from_slice(&n.file0);
    write_in_place(&b.join("blk00000.dat"), &shifted);
    let r = redo(&ix);
    assert_eq!((r.headers_cached, r.blocks_added), (120 - 1, 251));
    assert_same_index(&ix, &fresh);
    // blk00000.dat walked again: its garbage is reported 800 bytes later.
    let offsets = |r: &IngestReport| r.warnings.iter().map(|w| w.offset).collect::<Vec<_>>();
    assert_eq!(
        offsets(&r),
        vec![800 + 11 * 8 + n.blocks[..11].iter().map(|b| b.len() as u64).sum::<u64>()]
    );
}

/// Real mainnet blocks 0 to 4312 (`../shared/data/blocks/mainnet_h0-4312.dat`)
/// in a file Core has pre-allocated and filled up to block 2000, then to
/// the end: the second run takes blocks 0 to 1999 from the cache and ends
/// with the same index as the plain file ingested in one go.
#[test]
fn real_mainnet_blocks_filled_in_place_as_core_does() {
    let t = tempfile::tempdir().unwrap();
    let real = shared("blocks/mainnet_h0-4312.dat");
    let recs = records(&real);
    assert_eq!(recs.len(), 4313);
    let blocks: Vec<Vec<u8>> = recs.iter().map(|(_, b)| b.clone()).collect();
    let full = frames_on(Network::Mainnet, &blocks, 0);
    let early_len = frames_on(Network::Mainnet, &blocks[..2001], 0).len();
    let mut early = full[..early_len].to_vec();
    early.resize(full.len() + 4096, 0);
    let node_dir = t.path().join("node");
    write_node(&node_dir, &[("blk00000.dat", &early)]);
    let ix = t.path().join("ix");
    let first = ingest_datadir(&node_dir, &ix);
    assert_eq!((first.blocks_added, first.headers_cached), (2001, 0));
    assert!(first.warnings.is_empty(), "{:?}", first.warnings);

    write_in_place(&node_dir.join("blocks/blk00000.dat"), &full);
    let second = ingest_datadir(&node_dir, &ix);
    assert_eq!((second.blocks_added, second.headers_cached), (2312, 2000));
    assert!(second.warnings.is_empty(), "{:?}", second.warnings);
    let plain = t.path().join("plain");
    ingest_path(&real, &plain);
    assert_same_index(&ix, &plain);
    let third = ingest_datadir(&node_dir, &ix);
    assert_eq!((third.blocks_added, third.headers_cached), (0, 4312));
}

/// Two real mainnet blocks of the same size swapped in place behind the
/// cache's back, the file's first and last records unchanged (so the
/// cache is used): the run that finds a block elsewhere than its header
/// said stops before it and removes the cache, saying so; the next run
/// reads every header again and ends with the index of the swapped file
/// ingested fresh. (Without the removal every later run stopped there.)
#[test]
fn blocks_moved_behind_the_cache_are_found_again() {
    let t = tempfile::tempdir().unwrap();
    let recs = records(&shared("blocks/mainnet_h0-4312.dat"));
    let mut blocks: Vec<Vec<u8>> = recs.iter().map(|(_, b)| b.clone()).collect();
    let node_dir = t.path().join("node");
    let path = node_dir.join("blocks/blk00000.dat");
    write_node(
        &node_dir,
        &[("blk00000.dat", &frames_on(Network::Mainnet, &blocks, 0))],
    );
    let ix = t.path().join("ix");
    let first = ingest_datadir(&node_dir, &ix);
    assert_eq!(first.blocks_added, 4313);
    let i = (2000..3000)
        .find(|&i| blocks[i].len() == blocks[i + 1].len())
        .expect("two neighbours of one size");
    blocks.swap(i, i + 1);
    write_in_place(&path, &frames_on(Network::Mainnet, &blocks, 0));
    // Back to below the swap, so that the next run loads those blocks.
    {
        let mut store = chainhound_index::store::Store::open_writer(&ix, Network::Mainnet).unwrap();
        store.rollback_to(i as u32 - 10).unwrap();
        store.close().unwrap();
    }
    let second = ingest_datadir(&node_dir, &ix);
    assert!(second.headers_cached > 4000, "the cache was used");
    assert_eq!(second.blocks_added, 10, "stopped before the moved block");
    let said = |what: &str| second.warnings.iter().any(|w| w.message.contains(what));
    assert!(said("expected block"), "{:?}", second.warnings);
    assert!(said("the cache is removed"), "{:?}", second.warnings);
    assert!(!ix.join(headercache::FILE_NAME).exists());
    assert!(second
        .chain_warnings
        .iter()
        .any(|w| w.contains("no intact copy")));

    let third = ingest_datadir(&node_dir, &ix);
    assert_eq!(third.headers_cached, 0);
    assert_eq!(third.blocks_added, 4313 - i as u64);
    assert!(
        third.chain_warnings.is_empty(),
        "{:?}",
        third.chain_warnings
    );
    let fresh = t.path().join("fresh");
    ingest_datadir(&node_dir, &fresh);
    assert_same_index(&ix, &fresh);
}
