//! Shared by the entities tests: a simulated economy written to a temporary
//! datadir, ingested, with its truth.
#![allow(dead_code)]

use chainhound_index::ingest::{ingest, IngestOptions, NoProgress};
use chainhound_index::source::Source;
use chainhound_index::store::Store;
use chainhound_sim::datadir::{write_economy, Quiet};
use chainhound_sim::economy::Params;
use chainhound_sim::truth::Truth;
use std::path::PathBuf;

/// A simulated chain, its index (up to `max_height` if given) and truth.
pub struct Simulated {
    /// Keeps the files.
    pub dir: tempfile::TempDir,
    /// The datadir.
    pub node: PathBuf,
    /// The index.
    pub index: PathBuf,
    /// The ground truth.
    pub truth: Truth,
}

impl Simulated {
    /// Opens the index.
    pub fn store(&self) -> Store {
        Store::open(&self.index).unwrap()
    }

    /// Ingests (more of) the chain, up to `max_height` (all if None).
    pub fn ingest(&self, index: &std::path::Path, max_height: Option<u32>) {
        let opts = IngestOptions {
            max_height,
            ..Default::default()
        };
        ingest(
            &Source::datadir(&self.node).unwrap(),
            index,
            &opts,
            &mut NoProgress,
        )
        .unwrap();
    }
}

/// Simulates an economy (seed, blocks, users, txs) and ingests it up to
/// `max_height` (all if None).
pub fn simulated(
    seed: u64,
    blocks: u32,
    users: u32,
    txs: u64,
    max_height: Option<u32>,
) -> Simulated {
    let dir = tempfile::tempdir().unwrap();
    let node = dir.path().join("node");
    let params = Params::sized(seed, Some(blocks), Some(users), Some(txs)).unwrap();
    write_economy(params, &node, [0; 8], &mut Quiet).unwrap();
    let truth = Truth::load(&node.join("truth")).unwrap();
    let index = dir.path().join("index");
    let s = Simulated {
        dir,
        node,
        index,
        truth,
    };
    s.ingest(&s.index, max_height);
    s
}
