//! Damaged input: the real mainnet blocks shuffled, with garbage between
//! records, a truncated record, an unknown magic, a lying size field, an
//! absurd varint, zero padding and junk at the end. Every valid block is
//! kept, the index is the clean one, and each problem is a warning naming
//! the file and offset.

mod common;

use chainhound_index::ingest::{IngestOptions, IngestReport};
use chainhound_index::scan::scan;
use chainhound_index::source::Source;
use chainhound_index::store::Store;
use common::*;

const MAINNET: [u8; 4] = [0xf9, 0xbe, 0xb4, 0xd9];

/// A deterministic shuffle (the same on every machine).
fn shuffle<T>(v: &mut [T]) {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for i in (1..v.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.swap(i, (x % (i as u64 + 1)) as usize);
    }
}

/// The real blocks 0-4312 shuffled, with a damaged place before every
/// 100th record, written as `blk00000.dat` in `dir`; and the offsets of
/// the damaged places.
fn damaged_file(dir: &std::path::Path) -> (std::path::PathBuf, Vec<u64>) {
    let mut recs = records(&shared("blocks/mainnet_h0-4312.dat"));
    shuffle(&mut recs);
    let mut out = Vec::new();
    let mut expect_offsets = Vec::new();
    for (i, (magic, b)) in recs.iter().enumerate() {
        match i {
            100 => {
                // Garbage between records.
                expect_offsets.push(out.len() as u64);
                out.extend_from_slice(b"this is not a block record, just garbage in the file");
            }
            200 => {
                // A truncated copy of this block: its size says more than follows.
                expect_offsets.push(out.len() as u64);
                out.extend_from_slice(magic);
                out.extend_from_slice(&(b.len() as u32).to_le_bytes());
                out.extend_from_slice(&b[..b.len() / 2]);
            }
            300 => {
                // A record with an unknown magic.
                expect_offsets.push(out.len() as u64);
                frame(&mut out, [0xde, 0xad, 0xbe, 0xef], b);
            }
            400 => {
                // A copy whose size field lies (claims 300 bytes too many).
                expect_offsets.push(out.len() as u64);
                out.extend_from_slice(magic);
                out.extend_from_slice(&(b.len() as u32 + 300).to_le_bytes());
                out.extend_from_slice(b);
            }
            500 => {
                // A copy with an absurd transaction count.
                expect_offsets.push(out.len() as u64);
                let mut bad = b[..80].to_vec();
                bad.push(0xff);
                bad.extend_from_slice(&u64::MAX.to_le_bytes());
                bad.extend_from_slice(&b[81..]);
                frame(&mut out, *magic, &bad);
            }
            600 => out.extend_from_slice(&[0u8; 4096]), // zero padding: no warning
            _ => {}
        }
        frame(&mut out, *magic, b);
    }
    out.extend_from_slice(&[0u8; 10_000]);
    expect_offsets.push(out.len() as u64);
    out.extend_from_slice(&[0x42, 0x42, 0x42]); // junk at the very end
    let damaged = dir.join("blk00000.dat");
    std::fs::write(&damaged, &out).unwrap();
    (damaged, expect_offsets)
}

#[test]
fn damaged_shuffled_file_gives_the_clean_index_with_warnings() {
    let t = tempfile::tempdir().unwrap();
    let clean = shared("blocks/mainnet_h0-4312.dat");
    let (damaged, expect_offsets) = damaged_file(t.path());

    let r = ingest_path(&damaged, &t.path().join("a"));
    ingest_path(&clean, &t.path().join("b"));
    assert_same_index(&t.path().join("a"), &t.path().join("b"));
    assert_eq!(
        Store::open(&t.path().join("a")).unwrap().counts().blocks,
        4313
    );
    for w in &r.warnings {
        assert_eq!(w.file, damaged, "{w}");
    }
    let offsets: Vec<u64> = r.warnings.iter().map(|w| w.offset).collect();
    for o in &expect_offsets {
        // Each damaged place is named by its own offset, or by an offset
        // inside the record it damaged.
        assert!(
            offsets.iter().any(|w| *w >= *o && *w < *o + 200),
            "no warning at offset {o}: {:#?}",
            r.warnings
        );
    }

    // scan keeps every intact block (the lying-size copy is intact: +1).
    let mut n = 0;
    let w = scan(&Source::path(&damaged).unwrap(), |_| n += 1);
    assert_eq!(n, 4314);
    assert!(w.len() >= 5, "{w:#?}");
}

/// Ingests `file` with `parsers` parser threads into `index`.
/// (block files' pages given back whatever the memory available).
fn ingest_with(file: &std::path::Path, index: &std::path::Path, parsers: usize) -> IngestReport {
    let opts = IngestOptions {
        parse_threads: parsers,
        drop_behind: Some(true),
        ..Default::default()
    };
    ingest_path_with(file, index, &opts)
}

#[test]
fn any_number_of_parsers_gives_the_same_index_and_warnings() {
    let t = tempfile::tempdir().unwrap();
    let (damaged, _) = damaged_file(t.path());
    let one = ingest_with(&damaged, &t.path().join("1"), 1);
    assert!(one.warnings.len() >= 5, "{:#?}", one.warnings);
    for n in [2, 3, 5] {
        let ix = t.path().join(n.to_string());
        let r = ingest_with(&damaged, &ix, n);
        assert_same_index(&t.path().join("1"), &ix);
        assert_eq!(r.warnings, one.warnings, "{n} parsers");
        assert_eq!(r.chain_warnings, one.chain_warnings, "{n} parsers");
        // The same pages given back: spans made in chain order.
        assert_eq!(r.block_bytes_given_back, one.block_bytes_given_back);
        assert_eq!(r.txs_added, 4371);
    }
    // Blocks in file order: one parser gives back spans of many blocks
    // (blocks here are smaller than a page); so must several.
    let clean = shared("blocks/mainnet_h0-4312.dat");
    let one = ingest_with(&clean, &t.path().join("c1"), 1);
    assert!(one.block_bytes_given_back > 900_000, "{one:?}");
    for n in [2, 3] {
        let r = ingest_with(&clean, &t.path().join(format!("c{n}")), n);
        assert_eq!(r.block_bytes_given_back, one.block_bytes_given_back);
    }
}

#[test]
fn a_best_chain_block_with_no_intact_copy_stops_the_ingest_before_it() {
    let t = tempfile::tempdir().unwrap();
    let recs = records(&shared("blocks/mainnet_h0-4312.dat"));
    let mut out = Vec::new();
    for (h, (magic, b)) in recs.iter().enumerate() {
        let mut b = b.clone();
        if h == 4000 || h == 4003 {
            let n = b.len();
            b[n - 5] ^= 0xff; // breaks the merkle root, keeps the header
        }
        frame(&mut out, *magic, &b);
    }
    let f = t.path().join("blk.dat");
    std::fs::write(&f, out).unwrap();
    let r = ingest_path(&f, &t.path().join("ix"));
    assert_eq!(r.tip_height, Some(3999));
    // Parsers read ahead of the block that stops the run; what they found
    // past it (the damaged 4003) is not reported, whatever their number.
    for n in [1, 2, 3] {
        let r = ingest_with(&f, &t.path().join(format!("p{n}")), n);
        assert_eq!(r.tip_height, Some(3999));
        let damaged: Vec<_> = r
            .warnings
            .iter()
            .filter(|w| w.message.contains("merkle"))
            .collect();
        assert_eq!(damaged.len(), 1, "{n} parsers: {damaged:#?}");
    }
    assert!(
        r.chain_warnings
            .iter()
            .any(|w| w.contains("height 4000") && w.contains("no intact copy")),
        "{:?}",
        r.chain_warnings
    );
    assert!(
        r.warnings
            .iter()
            .any(|w| w.message.contains("merkle root mismatch")),
        "{:?}",
        r.warnings
    );
    let _ = MAINNET;
}
