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
