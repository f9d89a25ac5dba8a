//! Block-file record framing (`BlkFile::records`) and the per-block scan
//! (`scan::scan`) on arbitrary file contents, with and without an XOR key.
//!
//! Input layout: byte 0 is a mode; if its low bit is set the next 8 bytes are
//! the XOR key (written to `xor.dat` beside the block file, as Bitcoin Core
//! 28+ does) and the rest is the file as stored on disk (obfuscated). Without
//! the bit the rest is the file, with no `xor.dat`.
//!
//! Properties checked (beyond "never panics, never loops"):
//! - records lie inside the file, in increasing order, each after a real
//!   network magic, within the size limit; trusted ones have a plausible size;
//! - warnings and scanned blocks name offsets inside the file;
//! - obfuscation is transparent: an obfuscated file frames and scans exactly
//!   like its de-obfuscated twin written in the clear, whenever the twin is
//!   exact. It is not when the file holds a zero byte on disk where the key
//!   byte is not zero: the reader takes raw zeros for Core's pre-allocated
//!   padding (written unobfuscated), while the twin would hold the key byte
//!   there. Such inputs skip this comparison (the seeds avoid them).
#![no_main]

use chainhound_chain::Network;
use chainhound_index::scan::{scan, BlockFigures};
use chainhound_index::source::{BlkFile, Record, Source, Warning, MAX_BLOCK_SIZE};
use libfuzzer_sys::fuzz_target;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Two scratch folders per process: `obf/` (as given, maybe with xor.dat)
/// and `plain/` (de-obfuscated twin, never an xor.dat).
fn dirs() -> &'static (PathBuf, PathBuf) {
    static DIRS: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    DIRS.get_or_init(|| {
        let base =
            std::env::temp_dir().join(format!("chainhound-fuzz-blkfile-{}", std::process::id()));
        let (obf, plain) = (base.join("obf"), base.join("plain"));
        std::fs::create_dir_all(&obf).unwrap();
        std::fs::create_dir_all(&plain).unwrap();
        (obf, plain)
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (xor, file) = if mode & 1 == 1 && rest.len() >= 8 {
        let mut k = [0u8; 8];
        k.copy_from_slice(&rest[..8]);
        (k, &rest[8..])
    } else {
        ([0u8; 8], rest)
    };

    let (obf_dir, plain_dir) = dirs();
    let obf_path = obf_dir.join("blk00000.dat");
    let plain_path = plain_dir.join("blk00000.dat");
    let xor_path = obf_dir.join("xor.dat");
    std::fs::write(&obf_path, file).unwrap();
    if mode & 1 == 1 {
        // An all-zero key file is legal too: it means no obfuscation.
        std::fs::write(&xor_path, xor).unwrap();
    } else {
        let _ = std::fs::remove_file(&xor_path);
    }
    let clear: Vec<u8> = file
        .iter()
        .enumerate()
        .map(|(i, b)| b ^ xor[i % 8])
        .collect();
    std::fs::write(&plain_path, &clear).unwrap();

    // Framing, straight on BlkFile.
    let blk = BlkFile::open(&obf_path, xor).expect("file just written");
    assert_eq!(blk.len(), file.len() as u64);
    let (recs, warns) = records(&blk);
    check_records(&blk, &clear, &recs, &warns);

    // Raw zeros under a non-zero key byte are padding to the reader but not
    // in the twin: there the twin is not the same file.
    let twin_exact = file
        .iter()
        .enumerate()
        .all(|(i, &b)| b != 0 || xor[i % 8] == 0);

    let plain = BlkFile::open(&plain_path, [0; 8]).expect("file just written");
    let (recs2, warns2) = records(&plain);
    check_records(&plain, &clear, &recs2, &warns2);
    if twin_exact {
        assert_eq!(recs, recs2, "XOR changes the framing");
        assert_eq!(strip(&warns), strip(&warns2), "XOR changes the warnings");
    }

    // The whole scan, through Source (which reads xor.dat itself).
    let src = Source::path(obf_dir).expect("folder with a blk file");
    assert_eq!(src.xor, xor, "xor.dat read back");
    let (figs, swarns) = scan_all(&src, file.len());
    let src2 = Source::path(&plain_path).expect("one blk file");
    assert_eq!(src2.xor, [0; 8]);
    let (figs2, swarns2) = scan_all(&src2, file.len());
    if twin_exact {
        assert_eq!(figs, figs2, "XOR changes the scan");
        assert_eq!(
            strip(&swarns),
            strip(&swarns2),
            "XOR changes the scan warnings"
        );
    }
    // Every block the scan reports was framed by a record.
    for f in &figs {
        assert!(
            recs.iter().any(|r| r.offset - 8 == f.0),
            "scanned block at {} with no record",
            f.0
        );
    }
});

fn records(f: &BlkFile) -> (Vec<Record>, Vec<Warning>) {
    let mut recs = Vec::new();
    let warns = f.records(|r| recs.push(r));
    (recs, warns)
}

fn check_records(f: &BlkFile, clear: &[u8], recs: &[Record], warns: &[Warning]) {
    let len = clear.len() as u64;
    let mut last_end_of_header = 0u64;
    for r in recs {
        assert!(
            r.offset >= 8,
            "record at {} has no room for magic and size",
            r.offset
        );
        assert!(
            r.offset >= last_end_of_header + 8,
            "records out of order or overlapping headers: {recs:?}"
        );
        last_end_of_header = r.offset;
        assert!(
            r.offset + r.size as u64 <= len,
            "record {r:?} runs past the end ({len})"
        );
        assert!(r.size <= MAX_BLOCK_SIZE, "record {r:?} over the size limit");
        let at = (r.offset - 8) as usize;
        let magic: [u8; 4] = clear[at..at + 4].try_into().unwrap();
        assert_eq!(
            Network::from_magic(magic),
            Some(r.network),
            "record {r:?} not after its network's magic"
        );
        if r.size_trusted {
            let size = u32::from_le_bytes(clear[at + 4..at + 8].try_into().unwrap());
            assert_eq!(size, r.size, "trusted size is the size field");
            assert!(r.size >= 81, "trusted record {r:?} too small for a block");
        }
        // The de-obfuscated bytes are the clear bytes.
        let mut buf = Vec::new();
        let got = f
            .bytes(r.offset, r.size as usize, &mut buf)
            .expect("record inside the file");
        assert_eq!(
            got,
            &clear[r.offset as usize..(r.offset + r.size as u64) as usize]
        );
    }
    for w in warns {
        assert!(w.offset <= len, "warning past the end: {w}");
    }
}

type Fig = (
    u64,
    Network,
    [u8; 32],
    Option<u32>,
    usize,
    usize,
    usize,
    usize,
);

fn scan_all(src: &Source, len: usize) -> (Vec<Fig>, Vec<Warning>) {
    let mut figs = Vec::new();
    let warns = scan(src, |b: BlockFigures| {
        assert!(
            b.offset as usize + 8 + b.size <= len,
            "block {} at {} of {} bytes runs past the end ({len})",
            b.hash,
            b.offset,
            b.size
        );
        figs.push((
            b.offset, b.network, b.hash.0, b.height, b.size, b.txs, b.inputs, b.outputs,
        ));
    });
    for w in &warns {
        assert!(w.offset <= len as u64, "scan warning past the end: {w}");
    }
    (figs, warns)
}

/// Warnings without their file names (the two twins differ only there).
fn strip(w: &[Warning]) -> Vec<(u64, String)> {
    w.iter()
        .map(|w| {
            let p: &Path = &w.file;
            let name = p.display().to_string();
            (w.offset, w.message.replace(&name, "<file>"))
        })
        .collect()
}
