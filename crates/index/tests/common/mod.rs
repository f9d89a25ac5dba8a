//! Helpers shared by the index tests: paths to `../shared/data`, ingesting
//! into temporary directories, comparing index directories, building blk
//! files record by record.
#![allow(dead_code)]

use chainhound_index::ingest::{ingest, IngestOptions, IngestReport, NoProgress};
use chainhound_index::source::Source;
use chainhound_index::store::SEED_ENV;
use std::path::Path;

#[allow(unused_imports)]
pub use chainhound_testdata::shared;

/// Fixes the table seed so two indexes of one chain are byte-identical.
pub fn fixed_seed() {
    // Tests in one binary share the process; all use the same value.
    std::env::set_var(SEED_ENV, "42");
}

pub fn ingest_path(path: &Path, index: &Path) -> IngestReport {
    ingest_path_with(path, index, &IngestOptions::default())
}

pub fn ingest_path_with(path: &Path, index: &Path, opts: &IngestOptions) -> IngestReport {
    fixed_seed();
    let src = Source::path(path).unwrap();
    ingest(&src, index, opts, &mut NoProgress).unwrap()
}

pub fn ingest_datadir(dir: &Path, index: &Path) -> IngestReport {
    fixed_seed();
    let src = Source::datadir(dir).unwrap();
    ingest(&src, index, &IngestOptions::default(), &mut NoProgress).unwrap()
}

/// Asserts that two index directories hold the same files with the same bytes
/// (the lock file and the header cache, which describes the block files
/// read, not the index, aside).
pub fn assert_same_index(a: &Path, b: &Path) {
    let list = |d: &Path| {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .filter(|n| n != "lock" && n != chainhound_index::headercache::FILE_NAME)
            .collect();
        v.sort();
        v
    };
    let (la, lb) = (list(a), list(b));
    assert_eq!(la, lb, "file lists differ");
    for f in la {
        let (x, y) = (
            std::fs::read(a.join(&f)).unwrap(),
            std::fs::read(b.join(&f)).unwrap(),
        );
        assert!(x == y, "{f} differs ({} vs {} bytes)", x.len(), y.len());
    }
}

/// The records (magic, block bytes) of a plain blk file.
pub fn records(path: &Path) -> Vec<([u8; 4], Vec<u8>)> {
    let data = std::fs::read(path).unwrap();
    let mut out = Vec::new();
    let mut p = 0;
    while p + 8 <= data.len() {
        let magic: [u8; 4] = data[p..p + 4].try_into().unwrap();
        let size = u32::from_le_bytes(data[p + 4..p + 8].try_into().unwrap()) as usize;
        out.push((magic, data[p + 8..p + 8 + size].to_vec()));
        p += 8 + size;
    }
    out
}

pub fn frame(out: &mut Vec<u8>, magic: [u8; 4], block: &[u8]) {
    out.extend_from_slice(&magic);
    out.extend_from_slice(&(block.len() as u32).to_le_bytes());
    out.extend_from_slice(block);
}

/// Unpacks a .tar.gz with the system tar into `dest`.
pub fn untar(archive: &Path, dest: &Path) {
    std::fs::create_dir_all(dest).unwrap();
    let st = std::process::Command::new("tar")
        .arg("-xzf")
        .arg(archive)
        .arg("-C")
        .arg(dest)
        .status()
        .unwrap();
    assert!(st.success(), "tar failed on {}", archive.display());
}

/// The hash of a serialized block.
pub fn hash_of(block: &[u8]) -> [u8; 32] {
    chainhound_chain::hash::sha256d(&block[..80])
}

/// Writes `blocks` as a regtest node's `blocks/` folder under `dir` (no
/// XOR key, files of 64 KiB).
pub fn write_regtest(dir: &Path, blocks: &[Vec<u8>]) {
    chainhound_sim::write::write_blocks(
        dir,
        chainhound_chain::Network::Regtest,
        blocks,
        [0; 8],
        64 << 10,
    )
    .unwrap();
}

/// A tx spending `prevs` (txid, output index), paying `outs`; (bytes, txid).
pub fn spend(prevs: &[([u8; 32], u32)], outs: Vec<(u64, Vec<u8>)>) -> (Vec<u8>, [u8; 32]) {
    use chainhound_sim::write::{In, TxSpec};
    let ins = prevs
        .iter()
        .map(|&(txid, vout)| In {
            txid,
            vout,
            script_sig: vec![0x51],
            witness: vec![],
        })
        .collect();
    TxSpec { ins, outs }.serialize()
}

/// A coinbase tx at `height` tagged `tag` paying `outs`; (bytes, txid).
pub fn coinbase_tx(height: u32, tag: &[u8], outs: Vec<(u64, Vec<u8>)>) -> (Vec<u8>, [u8; 32]) {
    use chainhound_sim::write::{In, TxSpec};
    let mut sig = vec![0x02, height as u8, (height >> 8) as u8];
    sig.extend_from_slice(tag);
    let ins = vec![In {
        txid: [0; 32],
        vout: u32::MAX,
        script_sig: sig,
        witness: vec![],
    }];
    TxSpec { ins, outs }.serialize()
}
