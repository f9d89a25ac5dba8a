//! # chainhound-testdata: where the shared test data lives
//!
//! Tests read real data (mainnet blocks, a Core datadir, pool lists, OFAC
//! files...) from `../shared/data` beside the repository, never from a
//! copy. [`shared`] gives a path there and fails the test with a clear
//! message when the folder is missing.
//!
//! Must not: hold data, or depend on any chainhound crate (every crate's
//! tests use it).
#![deny(missing_docs)]

use std::path::PathBuf;

/// `../shared/data/<rel>` beside the repository; panics (failing the test)
/// with the path when it is missing.
pub fn shared(rel: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(rel);
    assert!(
        p.exists(),
        "{} missing: ../shared must sit beside the repository",
        p.display()
    );
    p
}

/// Ways to damage a file of `len` bytes at its own length, named: all
/// ones, all zeros, and noise (xorshift from `seed`, so a failure
/// replays). For tests that an index damaged on disk gives answers or
/// clear errors, never a panic.
pub fn damaged(len: usize, seed: u64) -> [(&'static str, Vec<u8>); 3] {
    let mut state = seed | 1;
    let noise = (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    [
        ("all ones", vec![0xff; len]),
        ("zeros", vec![0; len]),
        ("noise", noise),
    ]
}
